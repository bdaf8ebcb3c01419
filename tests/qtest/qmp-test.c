/*
 * QMP test: the greeting (byte for byte), capabilities negotiation, each
 * command the front end implements, QEMU's error shapes, events, quit,
 * and -run-with exit-with-parent=on.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "libqtest.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qstring.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, " \
                 "\"minor\": 1, \"major\": 11}, \"package\": \"\"}, " \
                 "\"capabilities\": [\"oob\"]}}\n"

static void assert_error(QDict *rsp, const char *cls, const char *desc)
{
    QDict *err = qdict_get_qdict(rsp, "error");

    g_assert(err);
    g_assert_cmpstr(qdict_get_str(err, "class"), ==, cls);
    if (desc) {
        g_assert_cmpstr(qdict_get_str(err, "desc"), ==, desc);
    }
    g_assert_cmpuint(qdict_size(err), ==, 2);
    qobject_unref(rsp);
}

static void assert_status(QTestState *qts, const char *status, bool running)
{
    QDict *ret = qtest_qmp_assert_success_ref(qts,
                                              "{'execute': 'query-status'}");

    g_assert_cmpstr(qdict_get_str(ret, "status"), ==, status);
    g_assert(qdict_get_bool(ret, "running") == running);
    qobject_unref(ret);
}

/* Read from a raw socket until a newline (bounded). */
static char *read_line(int fd)
{
    GString *buf = g_string_new("");
    gint64 end = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;

    while (!strchr(buf->str, '\n') && g_get_monotonic_time() < end) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        char c;
        ssize_t n;

        if (poll(&pfd, 1, 100) <= 0) {
            continue;
        }
        n = recv(fd, &c, 1, 0);

        if (n <= 0) {
            break;
        }
        g_string_append_c(buf, c);
    }
    return g_string_free(buf, FALSE);
}

/* The exact bytes of the greeting, on a -qmp server socket. */
static void test_greeting_bytes(void)
{
    g_autofree char *dir = g_dir_make_tmp("qmp-test-XXXXXX", NULL);
    g_autofree char *path = g_strdup_printf("%s/qmp.sock", dir);
    g_autofree char *args = g_strdup_printf(
        "-M none -qmp unix:%s,server=on,wait=off", path);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_autofree char *line = NULL;
    const char *two = "{\"execute\":\"qmp_capabilities\"}"
                      "{\"execute\":\"query-status\",\"id\":7}";
    QTestState *qts = qtest_init(args);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    g_assert(strlen(path) < sizeof(addr.sun_path));
    strcpy(addr.sun_path, path);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)),
                    ==, 0);
    line = read_line(fd);
    g_assert_cmpstr(line, ==, GREETING);

    /* QMP needs no newlines between messages; replies end in one. */
    g_assert_cmpint(send(fd, two, strlen(two), 0), ==, strlen(two));
    g_free(line);
    line = read_line(fd);
    g_assert_cmpstr(line, ==, "{\"return\": {}}\n");
    g_free(line);
    line = read_line(fd);
    g_assert_cmpstr(line, ==, "{\"return\": {\"status\": \"running\", "
                    "\"running\": true}, \"id\": 7}\n");
    close(fd);
    qtest_quit(qts);
    g_assert_cmpint(access(path, F_OK), ==, -1);
    rmdir(dir);
}

static void test_negotiation(void)
{
    QTestState *qts = qtest_init_without_qmp_handshake("-M none");
    QDict *greeting = qtest_qmp_receive(qts);
    QDict *ver = qdict_get_qdict(qdict_get_qdict(greeting, "QMP"),
                                 "version");
    QList *caps = qdict_get_qlist(qdict_get_qdict(greeting, "QMP"),
                                  "capabilities");

    g_assert_cmpint(qdict_get_int(qdict_get_qdict(ver, "qemu"), "major"),
                    ==, 11);
    g_assert_cmpstr(qdict_get_str(ver, "package"), ==, "");
    g_assert_cmpstr(qstring_get_str(qobject_to(QString, qlist_peek(caps))),
                    ==, "oob");
    qobject_unref(greeting);

    assert_error(qtest_qmp(qts, "{'execute': 'query-status'}"),
                 "CommandNotFound",
                 "Expecting capabilities negotiation with "
                 "'qmp_capabilities'");
    assert_error(qtest_qmp(qts, "{'execute': 'qmp_capabilities', "
                           "'arguments': {'enable': ['nope']}}"),
                 "GenericError", NULL);
    qtest_qmp_assert_success(qts, "{'execute': 'qmp_capabilities'}");
    assert_error(qtest_qmp(qts, "{'execute': 'qmp_capabilities'}"),
                 "CommandNotFound",
                 "Capabilities negotiation is already complete, command "
                 "ignored");
    assert_status(qts, "running", true);
    qtest_quit(qts);
}

static void test_queries(void)
{
    QTestState *qts = qtest_init("-M q35 -name testvm");
    QDict *ret, *rsp;
    QList *list;
    const QListEntry *e;
    bool seen_q35 = false, seen_default = false;
    int found = 0;

    ret = qtest_qmp_assert_success_ref(qts, "{'execute': 'query-version'}");
    g_assert_cmpint(qdict_get_int(qdict_get_qdict(ret, "qemu"), "minor"),
                    ==, 1);
    g_assert_cmpint(qdict_get_int(qdict_get_qdict(ret, "qemu"), "micro"),
                    ==, 0);
    qobject_unref(ret);

    ret = qtest_qmp_assert_success_ref(qts, "{'execute': 'query-name'}");
    g_assert_cmpstr(qdict_get_str(ret, "name"), ==, "testvm");
    qobject_unref(ret);

    rsp = qtest_qmp(qts, "{'execute': 'query-commands'}");
    list = qdict_get_qlist(rsp, "return");
    for (e = qlist_first(list); e; e = qlist_next(e)) {
        const char *name = qdict_get_str(qobject_to(QDict,
                                                    qlist_entry_obj(e)),
                                         "name");

        found += !strcmp(name, "qmp_capabilities") +
                 !strcmp(name, "query-status") + !strcmp(name, "quit") +
                 !strcmp(name, "stop") + !strcmp(name, "cont") +
                 !strcmp(name, "system_reset") +
                 !strcmp(name, "query-machines");
    }
    g_assert_cmpint(found, ==, 7);
    qobject_unref(rsp);

    rsp = qtest_qmp(qts, "{'execute': 'query-machines'}");
    list = qdict_get_qlist(rsp, "return");
    for (e = qlist_first(list); e; e = qlist_next(e)) {
        QDict *m = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(m, "name"), "pc-q35-11.1")) {
            g_assert_cmpstr(qdict_get_try_str(m, "alias"), ==, "q35");
            seen_q35 = true;
        }
        if (qdict_get_try_bool(m, "is-default", false)) {
            g_assert_cmpstr(qdict_get_str(m, "name"), ==, "pc-i440fx-11.1");
            seen_default = true;
        }
    }
    g_assert(seen_q35 && seen_default);
    qobject_unref(rsp);

    g_assert_true(qtest_has_machine("pc-q35-11.0"));
    g_assert_true(qtest_has_machine("pc"));
    g_assert_false(qtest_has_machine("pc-q35-7.2"));
    g_assert_true(qtest_has_device("tpm-crb"));
    g_assert_false(qtest_has_device("e1000"));
    qtest_quit(qts);
}

static void test_stop_cont_reset(void)
{
    QTestState *qts = qtest_init("-M none -S");
    QDict *ev;

    assert_status(qts, "prelaunch", false);
    qtest_qmp_assert_success(qts, "{'execute': 'cont'}");
    qtest_qmp_eventwait(qts, "RESUME");
    assert_status(qts, "running", true);
    qtest_qmp_assert_success(qts, "{'execute': 'stop'}");
    qtest_qmp_eventwait(qts, "STOP");
    assert_status(qts, "paused", false);
    qtest_qmp_assert_success(qts, "{'execute': 'cont'}");
    assert_status(qts, "running", true);

    qtest_qmp_assert_success(qts, "{'execute': 'system_reset'}");
    ev = qtest_qmp_eventwait_ref(qts, "RESET");
    g_assert_false(qdict_get_bool(qdict_get_qdict(ev, "data"), "guest"));
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(ev, "data"), "reason"),
                    ==, "host-qmp-system-reset");
    g_assert(qdict_haskey(qdict_get_qdict(ev, "timestamp"), "seconds"));
    g_assert(qdict_haskey(qdict_get_qdict(ev, "timestamp"),
                          "microseconds"));
    qobject_unref(ev);
    qtest_quit(qts);
}

static void test_errors(void)
{
    QTestState *qts = qtest_init("-M none");
    QDict *rsp;

    rsp = qtest_qmp(qts, "{'execute': 'foo', 'id': 'abc'}");
    g_assert_cmpstr(qdict_get_str(rsp, "id"), ==, "abc");
    assert_error(rsp, "CommandNotFound", "The command foo has not been found");
    assert_error(qtest_qmp(qts, "{'execute': 'query-status', "
                           "'arguments': {'x': 1}}"),
                 "GenericError", "Parameter 'x' is unexpected");
    qtest_qmp_send_raw(qts, "{\"execute\": }");
    rsp = qtest_qmp_receive(qts);
    g_assert(g_str_has_prefix(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                            "desc"), "JSON parse error, "));
    assert_error(rsp, "GenericError", NULL);
    qtest_qmp_send_raw(qts, "[1, 2]");
    assert_error(qtest_qmp_receive(qts), "GenericError",
                 "QMP input must be a JSON object");
    qtest_qmp_send_raw(qts, "42 ");
    assert_error(qtest_qmp_receive(qts), "GenericError",
                 "QMP input must be a JSON object");
    /* The connection survives all of it. */
    assert_status(qts, "running", true);
    qtest_quit(qts);
}

static void test_quit(void)
{
    QTestState *qts = qtest_init("-M none");
    QDict *ev;

    qtest_qmp_assert_success(qts, "{'execute': 'quit'}");
    ev = qtest_qmp_eventwait_ref(qts, "SHUTDOWN");
    g_assert_false(qdict_get_bool(qdict_get_qdict(ev, "data"), "guest"));
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(ev, "data"), "reason"),
                    ==, "host-qmp-quit");
    qobject_unref(ev);
    /* It leaves by itself, with status 0. */
    qtest_wait_qemu(qts);
    g_assert_true(WIFEXITED(qtest_wait_status(qts)));
    g_assert_cmpint(WEXITSTATUS(qtest_wait_status(qts)), ==, 0);
    qtest_quit(qts);
}

/* Gone, or a zombie nobody reaped yet: either way it no longer runs. */
static bool process_gone(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
    g_autofree char *stat = NULL;
    const char *p;

    if (!g_file_get_contents(path, &stat, NULL, NULL)) {
        return true;
    }
    p = strrchr(stat, ')');
    return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/*
 * -run-with exit-with-parent=on: a helper process starts the emulator and
 * is killed; the emulator must go away too.
 */
static void test_exit_with_parent(void)
{
    int pipefd[2];
    pid_t helper, qemu_pid = -1;
    gint64 end;

    g_assert_cmpint(pipe(pipefd), ==, 0);
    helper = fork();
    g_assert_cmpint(helper, >=, 0);
    if (helper == 0) {
        QTestState *qts = qtest_init("-M none");
        pid_t pid = qtest_pid(qts);

        close(pipefd[0]);
        if (write(pipefd[1], &pid, sizeof(pid)) != sizeof(pid)) {
            _exit(1);
        }
        for (;;) {
            pause();
        }
    }
    close(pipefd[1]);
    g_assert_cmpint(read(pipefd[0], &qemu_pid, sizeof(qemu_pid)), ==,
                    sizeof(qemu_pid));
    close(pipefd[0]);
    g_assert_cmpint(qemu_pid, >, 0);
    g_assert_false(process_gone(qemu_pid));

    kill(helper, SIGKILL);
    g_assert_cmpint(waitpid(helper, NULL, 0), ==, helper);

    end = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
    while (!process_gone(qemu_pid) && g_get_monotonic_time() < end) {
        g_usleep(20 * 1000);
    }
    g_assert_true(process_gone(qemu_pid));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    if (qtest_peer_mode()) {
        g_test_skip("QMP of this build only: the peer speaks its own "
                    "version");
        return g_test_run();
    }
    qtest_add_func("qmp/greeting-bytes", test_greeting_bytes);
    qtest_add_func("qmp/negotiation", test_negotiation);
    qtest_add_func("qmp/queries", test_queries);
    qtest_add_func("qmp/stop-cont-reset", test_stop_cont_reset);
    qtest_add_func("qmp/errors", test_errors);
    qtest_add_func("qmp/quit", test_quit);
    qtest_add_func("qmp/exit-with-parent", test_exit_with_parent);
    return g_test_run();
}
