/*
 * libqtest: start an emulator, speak the qtest protocol and QMP to it,
 * and reap it, with the API of QEMU's libqtest (see libqtest.h).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "libqtest.h"
#include "libqtest-single.h"
#include "qobject/json-streamer.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qstring.h"

/* How long QEMU may take to connect, and to exit once asked. */
#define CONNECT_TIMEOUT_S 60
#define WAITPID_TIMEOUT_S 30
#define DEFAULT_REPLY_TIMEOUT_S 120
#define MAX_CHILDREN 64

QTestState *global_qtest;

struct QTestState {
    int fd;
    int qmp_fd;
    pid_t qemu_pid;
    /* The child's pid once reaped, to find its sanitizer report. */
    pid_t reaped_pid;
    int wstatus;
    int expected_status;
    bool big_endian;
    GString *rx;
    /* Complete QMP texts received but not yet consumed. */
    GQueue *qmp_texts;
    JSONStreamer *qmp_streamer;
    GList *pending_events;
};

/*
 * Children to kill when the test aborts (a failed g_assert): a fixed
 * table, as the signal handler may only use async-signal-safe calls.
 */
static volatile pid_t abort_children[MAX_CHILDREN];
static GHookList abrt_hooks;
static bool abrt_handler_installed;

static void sigabrt_handler(int signo)
{
    int i;

    for (i = 0; i < MAX_CHILDREN; i++) {
        if (abort_children[i] > 0) {
            kill(abort_children[i], SIGKILL);
        }
    }
    if (abrt_hooks.is_setup) {
        g_hook_list_invoke(&abrt_hooks, FALSE);
    }
    signal(SIGABRT, SIG_DFL);
    raise(SIGABRT);
}

static void install_abrt_handler(void)
{
    if (!abrt_handler_installed) {
        signal(SIGABRT, sigabrt_handler);
        abrt_handler_installed = true;
    }
}

static void track_child(pid_t pid, bool add)
{
    int i;

    for (i = 0; i < MAX_CHILDREN; i++) {
        if (add && abort_children[i] <= 0) {
            abort_children[i] = pid;
            return;
        }
        if (!add && abort_children[i] == pid) {
            abort_children[i] = 0;
            return;
        }
    }
}

void qtest_add_abrt_handler(GHookFunc fn, const void *data)
{
    GHook *hook;

    if (!abrt_hooks.is_setup) {
        g_hook_list_init(&abrt_hooks, sizeof(GHook));
    }
    install_abrt_handler();
    hook = g_hook_alloc(&abrt_hooks);
    hook->func = fn;
    hook->data = (void *)data;
    g_hook_prepend(&abrt_hooks, hook);
}

void qtest_remove_abrt_handler(void *data)
{
    GHook *hook;

    if (!abrt_hooks.is_setup) {
        return;
    }
    hook = g_hook_find_data(&abrt_hooks, TRUE, data);
    if (hook) {
        g_hook_destroy_link(&abrt_hooks, hook);
    }
}

bool qtest_peer_mode(void)
{
    const char *peer = g_getenv("QTEST_QEMU_PEER");

    return peer && strcmp(peer, "") && strcmp(peer, "0");
}

static int reply_timeout_ms(void)
{
    const char *env = g_getenv("QTEST_TIMEOUT");
    int secs = env ? atoi(env) : 0;

    return (secs > 0 ? secs : DEFAULT_REPLY_TIMEOUT_S) * 1000;
}

static const char *qtest_qemu_binary(void)
{
    const char *bin = g_getenv("QTEST_QEMU_BINARY");

    if (!bin) {
        fprintf(stderr, "Environment variable QTEST_QEMU_BINARY required\n");
        exit(1);
    }
    return bin;
}

static char *describe_status(int wstatus)
{
    if (WIFEXITED(wstatus)) {
        return g_strdup_printf("exited with status %d",
                               WEXITSTATUS(wstatus));
    }
    if (WIFSIGNALED(wstatus)) {
        return g_strdup_printf("was killed by signal %d (%s)%s",
                               WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)),
                               WCOREDUMP(wstatus) ? ", core dumped" : "");
    }
    return g_strdup_printf("ended with wait status 0x%x", wstatus);
}

bool qtest_probe_child(QTestState *s)
{
    pid_t pid;

    if (s->qemu_pid == -1) {
        return false;
    }
    pid = waitpid(s->qemu_pid, &s->wstatus, WNOHANG);
    if (pid == 0) {
        return true;
    }
    track_child(s->qemu_pid, false);
    s->reaped_pid = s->qemu_pid;
    s->qemu_pid = -1;
    return false;
}

pid_t qtest_pid(QTestState *s)
{
    return s->qemu_pid;
}

int qtest_wait_status(QTestState *s)
{
    return s->wstatus;
}

/*
 * In sanitizer builds (scripts/sanitizer-test.py) the emulator writes
 * ASan/LSan/UBSan reports to "$QTEST_SANITIZER_LOG.<pid>", as its stderr
 * may be /dev/null. Show the reaped child's report and fail the current
 * test case; the file is renamed so that the wrapper does not repeat it.
 * Returns whether there was a report.
 */
static bool qtest_sanitizer_report(QTestState *s)
{
    const char *prefix = g_getenv("QTEST_SANITIZER_LOG");
    g_autofree char *path = NULL;
    g_autofree char *seen = NULL;
    g_autofree char *text = NULL;

    if (!prefix || !*prefix || s->reaped_pid <= 0) {
        return false;
    }
    path = g_strdup_printf("%s.%d", prefix, (int)s->reaped_pid);
    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return false;
    }
    fprintf(stderr, "QEMU (pid %d) reported sanitizer errors (%s):\n%s\n",
            (int)s->reaped_pid, path, text);
    seen = g_strconcat(path, ".reported", NULL);
    rename(path, seen);
    g_test_message("QEMU (pid %d) reported sanitizer errors, see stderr",
                   (int)s->reaped_pid);
    g_test_fail();
    return true;
}

/* The child is gone while we needed it: say how it ended. */
static void G_GNUC_NORETURN child_died(QTestState *s, const char *what)
{
    g_autofree char *how = describe_status(s->wstatus);

    qtest_sanitizer_report(s);
    g_error("%s: QEMU %s%s", what, how,
            g_getenv("QTEST_LOG") ? "" :
            " (set QTEST_LOG=1 to see its messages)");
}

/*
 * Wait until fd is ready for events, the child still alive. A child
 * that exits first, or a timeout, ends the test.
 */
static void wait_fd(QTestState *s, int fd, short events, int timeout_ms,
                    const char *what)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = events };
        int ret = poll(&pfd, 1, 100);

        if (ret > 0) {
            return;
        }
        if (ret < 0 && errno != EINTR) {
            g_error("%s: poll: %s", what, strerror(errno));
        }
        if (s && s->qemu_pid != -1 && !qtest_probe_child(s)) {
            /* Let a last reply already sent be read first. */
            if (poll(&pfd, 1, 0) > 0) {
                return;
            }
            child_died(s, what);
        }
        if (g_get_monotonic_time() > deadline) {
            g_error("%s: no answer from QEMU within %d s", what,
                    timeout_ms / 1000);
        }
    }
}

int qtest_socket_server(const char *socket_path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int sock;

    g_assert(strlen(socket_path) < sizeof(addr.sun_path));
    strcpy(addr.sun_path, socket_path);
    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(sock, !=, -1);
    if (bind(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(sock, 1) < 0) {
        g_error("cannot listen on %s: %s", socket_path, strerror(errno));
    }
    return sock;
}

static int socket_accept(QTestState *s, int sock, const char *what)
{
    int fd;

    wait_fd(s, sock, POLLIN, CONNECT_TIMEOUT_S * 1000, what);
    fd = RETRY_ON_EINTR(accept4(sock, NULL, NULL, SOCK_CLOEXEC));
    if (fd < 0) {
        g_error("%s: accept: %s", what, strerror(errno));
    }
    close(sock);
    return fd;
}

static char *socket_path(const char *suffix)
{
    return g_strdup_printf("%s/qtest-%d.%s", g_get_tmp_dir(), getpid(),
                           suffix);
}

char *qtest_qemu_args(const char *extra_args)
{
    g_autofree char *sock = socket_path("sock");
    g_autofree char *qmp = socket_path("qmp");
    const char *trace = g_getenv("QTEST_TRACE");
    g_autofree char *tracearg = trace ?
        g_strdup_printf("-trace %s ", trace) : g_strdup("");
    bool peer = qtest_peer_mode();

    return g_strdup_printf("%s"
                           "-qtest unix:%s "
                           "-qtest-log %s "
                           "-chardev socket,path=%s,id=char0 "
                           "-mon chardev=char0,mode=control "
                           "-display none "
                           "%s"
                           "%s"
                           " %s",
                           tracearg, sock,
                           g_getenv("QTEST_LOG") ? "/dev/fd/2" : "/dev/null",
                           qmp,
                           peer ? "" : "-audio none "
                                       "-run-with exit-with-parent=on ",
                           extra_args ? extra_args : "",
                           peer ? "-accel tcg -S" : "-accel qtest");
}

static pid_t spawn_qemu(const char *args)
{
    g_autofree char *command = NULL;
    bool peer = qtest_peer_mode();
    pid_t pid;

    command = g_strdup_printf("exec %s %s%s", qtest_qemu_binary(), args,
                              g_getenv("QTEST_LOG") ? "" : " 2>/dev/null");
    g_test_message("starting QEMU: %s", command);

    pid = fork();
    if (pid < 0) {
        g_error("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        if (peer) {
            /* The peer lacks -run-with: do its job from here. */
            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        }
        execlp("/bin/sh", "sh", "-c", command, NULL);
        _exit(1);
    }
    track_child(pid, true);
    install_abrt_handler();
    return pid;
}

static void qmp_text_ready(void *opaque, const char *text, size_t len,
                           const char *errmsg)
{
    QTestState *s = opaque;

    if (!text) {
        g_error("QMP: malformed message from QEMU: %s", errmsg);
    }
    g_queue_push_tail(s->qmp_texts, g_strdup(text));
}

static int qtest_query_target_endianness(QTestState *s);

QTestState *qtest_init_without_qmp_handshake(const char *extra_args)
{
    QTestState *s = g_new0(QTestState, 1);
    g_autofree char *sock_path = socket_path("sock");
    g_autofree char *qmp_path = socket_path("qmp");
    g_autofree char *args = qtest_qemu_args(extra_args);
    int sock, qmpsock;

    /* A crashed earlier run may have left the sockets behind. */
    unlink(sock_path);
    unlink(qmp_path);
    sock = qtest_socket_server(sock_path);
    qmpsock = qtest_socket_server(qmp_path);

    s->qemu_pid = spawn_qemu(args);
    s->fd = -1;
    s->qmp_fd = -1;
    s->fd = socket_accept(s, sock, "qtest connection");
    s->qmp_fd = socket_accept(s, qmpsock, "QMP connection");
    unlink(sock_path);
    unlink(qmp_path);

    s->rx = g_string_new("");
    s->qmp_texts = g_queue_new();
    s->qmp_streamer = json_streamer_new(qmp_text_ready, s, 64 * 1024 * 1024);
    s->big_endian = qtest_query_target_endianness(s);
    return s;
}

QTestState *qtest_init(const char *extra_args)
{
    QTestState *s = qtest_init_without_qmp_handshake(extra_args);
    QDict *greeting = qtest_qmp_receive(s);

    g_assert(qdict_haskey(greeting, "QMP"));
    qobject_unref(greeting);
    qobject_unref(qtest_qmp(s, "{ 'execute': 'qmp_capabilities' }"));
    return s;
}

QTestState *qtest_vinitf(const char *fmt, va_list ap)
{
    g_autofree char *args = g_strdup_vprintf(fmt, ap);

    return qtest_init(args);
}

QTestState *qtest_initf(const char *fmt, ...)
{
    va_list ap;
    QTestState *s;

    va_start(ap, fmt);
    s = qtest_vinitf(fmt, ap);
    va_end(ap);
    return s;
}

void qtest_set_expected_status(QTestState *s, int status)
{
    s->expected_status = status;
}

static void qtest_check_status(QTestState *s)
{
    int wstatus = s->wstatus;

    /* A report explains the exit status; the test case already failed. */
    if (qtest_sanitizer_report(s)) {
        return;
    }
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != s->expected_status) {
        g_error("QEMU exited with status %d (expected %d)",
                WEXITSTATUS(wstatus), s->expected_status);
    } else if (WIFSIGNALED(wstatus)) {
        g_autofree char *how = describe_status(wstatus);

        g_error("QEMU %s", how);
    }
}

void qtest_wait_qemu(QTestState *s)
{
    if (s->qemu_pid != -1) {
        gint64 end = g_get_monotonic_time() +
                     WAITPID_TIMEOUT_S * G_TIME_SPAN_SECOND;
        pid_t pid;

        do {
            pid = waitpid(s->qemu_pid, &s->wstatus, WNOHANG);
            if (pid != 0) {
                break;
            }
            g_usleep(10 * 1000);
        } while (g_get_monotonic_time() < end);
        if (pid == 0) {
            kill(s->qemu_pid, SIGKILL);
            pid = RETRY_ON_EINTR(waitpid(s->qemu_pid, &s->wstatus, 0));
        }
        g_assert_cmpint(pid, ==, s->qemu_pid);
        track_child(s->qemu_pid, false);
        s->reaped_pid = s->qemu_pid;
        s->qemu_pid = -1;
    }
    qtest_check_status(s);
}

void qtest_kill_qemu(QTestState *s)
{
    if (s->qemu_pid != -1) {
        kill(s->qemu_pid, SIGTERM);
    }
    qtest_wait_qemu(s);
}

void qtest_quit(QTestState *s)
{
    GList *l;

    if (s == global_qtest) {
        global_qtest = NULL;
    }
    qtest_kill_qemu(s);
    if (s->fd >= 0) {
        close(s->fd);
    }
    if (s->qmp_fd >= 0) {
        close(s->qmp_fd);
    }
    g_string_free(s->rx, TRUE);
    while (!g_queue_is_empty(s->qmp_texts)) {
        g_free(g_queue_pop_head(s->qmp_texts));
    }
    g_queue_free(s->qmp_texts);
    json_streamer_free(s->qmp_streamer);
    for (l = s->pending_events; l; l = l->next) {
        qobject_unref((QDict *)l->data);
    }
    g_list_free(s->pending_events);
    g_free(s);
}

static void send_all(QTestState *s, int fd, const char *buf, size_t len,
                     const char *what)
{
    while (len) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (s->qemu_pid != -1 && !qtest_probe_child(s)) {
                child_died(s, what);
            }
            g_error("%s: send: %s", what, strerror(errno));
        }
        buf += n;
        len -= n;
    }
}

static void G_GNUC_PRINTF(2, 3) qtest_sendf(QTestState *s,
                                            const char *fmt, ...)
{
    g_autofree char *str = NULL;
    va_list ap;

    va_start(ap, fmt);
    str = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    send_all(s, s->fd, str, strlen(str), "qtest");
}

static GString *qtest_recv_line(QTestState *s)
{
    GString *line;
    char *eol;
    size_t offset;

    while (!(eol = strchr(s->rx->str, '\n'))) {
        char buffer[4096];
        ssize_t len;

        wait_fd(s, s->fd, POLLIN, reply_timeout_ms(), "qtest reply");
        len = recv(s->fd, buffer, sizeof(buffer), 0);
        if (len < 0 && errno == EINTR) {
            continue;
        }
        if (len <= 0) {
            if (s->qemu_pid != -1 && !qtest_probe_child(s)) {
                child_died(s, "qtest reply");
            }
            g_error("qtest reply: connection %s",
                    len ? strerror(errno) : "closed by QEMU");
        }
        g_string_append_len(s->rx, buffer, len);
    }
    offset = eol - s->rx->str;
    line = g_string_new_len(s->rx->str, offset);
    g_string_erase(s->rx, 0, offset + 1);
    return line;
}

static gchar **qtest_rsp_args(QTestState *s, int expected_args)
{
    gchar **words;
    int i;

    for (;;) {
        GString *line = qtest_recv_line(s);

        words = g_strsplit(line->str, " ", 0);
        g_string_free(line, TRUE);
        /* Interrupt notifications may come before the reply. */
        if (!words[0] || strcmp(words[0], "IRQ")) {
            break;
        }
        g_strfreev(words);
    }
    g_assert(words[0] != NULL);
    g_assert_cmpstr(words[0], ==, "OK");
    for (i = 0; i < expected_args; i++) {
        g_assert(words[i] != NULL);
    }
    return words;
}

static void qtest_rsp(QTestState *s)
{
    g_strfreev(qtest_rsp_args(s, 0));
}

char *qtest_raw_line(QTestState *s, const char *line)
{
    GString *reply;

    send_all(s, s->fd, line, strlen(line), "qtest");
    send_all(s, s->fd, "\n", 1, "qtest");
    reply = qtest_recv_line(s);
    return g_string_free(reply, FALSE);
}

static int qtest_query_target_endianness(QTestState *s)
{
    gchar **args;
    int big;

    qtest_sendf(s, "endianness\n");
    args = qtest_rsp_args(s, 1);
    g_assert(!strcmp(args[1], "big") || !strcmp(args[1], "little"));
    big = !strcmp(args[1], "big");
    g_strfreev(args);
    return big;
}

bool qtest_big_endian(QTestState *s)
{
    return s->big_endian;
}

/* QMP */

static void qmp_send_text(QTestState *s, const char *text, size_t len)
{
    if (g_getenv("QTEST_LOG")) {
        fprintf(stderr, "{QMP out} %.*s\n", (int)len, text);
    }
    send_all(s, s->qmp_fd, text, len, "QMP");
}

void qtest_qmp_vsend(QTestState *s, const char *fmt, va_list ap)
{
    QObject *obj = qobject_from_vjsonf_nofail(fmt, ap);
    g_autoptr(GString) json = qobject_to_json(obj);

    qobject_unref(obj);
    qmp_send_text(s, json->str, json->len);
}

void qtest_qmp_send(QTestState *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    qtest_qmp_vsend(s, fmt, ap);
    va_end(ap);
}

void qtest_qmp_send_raw(QTestState *s, const char *fmt, ...)
{
    g_autofree char *str = NULL;
    va_list ap;

    va_start(ap, fmt);
    str = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    qmp_send_text(s, str, strlen(str));
}

QDict *qtest_qmp_receive_dict(QTestState *s)
{
    g_autofree char *text = NULL;
    g_autofree char *msg = NULL;
    QObject *obj;
    QDict *dict;

    while (g_queue_is_empty(s->qmp_texts)) {
        char buf[4096];
        ssize_t len;

        wait_fd(s, s->qmp_fd, POLLIN, reply_timeout_ms(), "QMP reply");
        len = recv(s->qmp_fd, buf, sizeof(buf), 0);
        if (len < 0 && errno == EINTR) {
            continue;
        }
        if (len <= 0) {
            if (s->qemu_pid != -1 && !qtest_probe_child(s)) {
                child_died(s, "QMP reply");
            }
            g_error("QMP reply: connection %s",
                    len ? strerror(errno) : "closed by QEMU");
        }
        if (g_getenv("QTEST_LOG")) {
            fprintf(stderr, "{QMP in} %.*s", (int)len, buf);
        }
        json_streamer_feed(s->qmp_streamer, buf, len);
    }
    text = g_queue_pop_head(s->qmp_texts);
    obj = qobject_from_json_msg(text, &msg);
    dict = qobject_to(QDict, obj);
    if (!dict) {
        g_error("QMP: QEMU sent %s: %s", msg ? msg : "a non-object", text);
    }
    return dict;
}

QDict *qtest_qmp_receive(QTestState *s)
{
    for (;;) {
        QDict *response = qtest_qmp_receive_dict(s);

        if (!qdict_get_try_str(response, "event")) {
            return response;
        }
        /* Keep the event for a later qtest_qmp_eventwait(). */
        s->pending_events = g_list_append(s->pending_events, response);
    }
}

QDict *qtest_vqmp(QTestState *s, const char *fmt, va_list ap)
{
    qtest_qmp_vsend(s, fmt, ap);
    return qtest_qmp_receive(s);
}

QDict *qtest_qmp(QTestState *s, const char *fmt, ...)
{
    va_list ap;
    QDict *response;

    va_start(ap, fmt);
    response = qtest_vqmp(s, fmt, ap);
    va_end(ap);
    return response;
}

static QDict *qmp_assert_success_ref(QTestState *s, const char *fmt,
                                     va_list ap)
{
    QDict *response = qtest_vqmp(s, fmt, ap);
    QDict *ret;

    if (!qdict_haskey(response, "return")) {
        g_autoptr(GString) json = qobject_to_json_pretty(QOBJECT(response),
                                                         true);

        g_test_message("%s", json->str);
    }
    g_assert(qdict_haskey(response, "return"));
    ret = qdict_get_qdict(response, "return");
    qobject_ref(ret);
    qobject_unref(response);
    return ret;
}

void qtest_qmp_assert_success(QTestState *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    qobject_unref(qmp_assert_success_ref(s, fmt, ap));
    va_end(ap);
}

QDict *qtest_qmp_assert_success_ref(QTestState *s, const char *fmt, ...)
{
    va_list ap;
    QDict *ret;

    va_start(ap, fmt);
    ret = qmp_assert_success_ref(s, fmt, ap);
    va_end(ap);
    return ret;
}

QDict *qtest_qmp_event_ref(QTestState *s, const char *event)
{
    while (s->pending_events) {
        GList *first = s->pending_events;
        QDict *response = first->data;

        s->pending_events = g_list_delete_link(s->pending_events, first);
        if (!strcmp(qdict_get_str(response, "event"), event)) {
            return response;
        }
        qobject_unref(response);
    }
    return NULL;
}

QDict *qtest_qmp_eventwait_ref(QTestState *s, const char *event)
{
    QDict *response = qtest_qmp_event_ref(s, event);

    while (!response) {
        QDict *msg = qtest_qmp_receive_dict(s);
        const char *name = qdict_get_try_str(msg, "event");

        if (name && !strcmp(name, event)) {
            response = msg;
        } else {
            qobject_unref(msg);
        }
    }
    return response;
}

void qtest_qmp_eventwait(QTestState *s, const char *event)
{
    qobject_unref(qtest_qmp_eventwait_ref(s, event));
}

/* Memory and ports */

static void qtest_write(QTestState *s, const char *cmd, uint64_t addr,
                        uint64_t value)
{
    qtest_sendf(s, "%s 0x%" PRIx64 " 0x%" PRIx64 "\n", cmd, addr, value);
    qtest_rsp(s);
}

static uint64_t qtest_read(QTestState *s, const char *cmd, uint64_t addr)
{
    gchar **args;
    uint64_t value;
    char *end;

    qtest_sendf(s, "%s 0x%" PRIx64 "\n", cmd, addr);
    args = qtest_rsp_args(s, 2);
    value = g_ascii_strtoull(args[1], &end, 0);
    g_assert(end != args[1] && !*end);
    g_strfreev(args);
    return value;
}

uint8_t qtest_readb(QTestState *s, uint64_t addr)
{
    return qtest_read(s, "readb", addr);
}

uint16_t qtest_readw(QTestState *s, uint64_t addr)
{
    return qtest_read(s, "readw", addr);
}

uint32_t qtest_readl(QTestState *s, uint64_t addr)
{
    return qtest_read(s, "readl", addr);
}

uint64_t qtest_readq(QTestState *s, uint64_t addr)
{
    return qtest_read(s, "readq", addr);
}

void qtest_writeb(QTestState *s, uint64_t addr, uint8_t value)
{
    qtest_write(s, "writeb", addr, value);
}

void qtest_writew(QTestState *s, uint64_t addr, uint16_t value)
{
    qtest_write(s, "writew", addr, value);
}

void qtest_writel(QTestState *s, uint64_t addr, uint32_t value)
{
    qtest_write(s, "writel", addr, value);
}

void qtest_writeq(QTestState *s, uint64_t addr, uint64_t value)
{
    qtest_write(s, "writeq", addr, value);
}

static int hex2nib(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
        return 10 + (ch - 'a');
    } else if (ch >= 'A' && ch <= 'F') {
        return 10 + (ch - 'A');
    }
    return -1;
}

void qtest_memread(QTestState *s, uint64_t addr, void *data, size_t size)
{
    uint8_t *ptr = data;
    gchar **args;
    size_t i;

    if (!size) {
        return;
    }
    qtest_sendf(s, "read 0x%" PRIx64 " 0x%zx\n", addr, size);
    args = qtest_rsp_args(s, 2);
    g_assert_cmpuint(strlen(args[1]), ==, 2 + 2 * size);
    for (i = 0; i < size; i++) {
        int hi = hex2nib(args[1][2 + 2 * i]);
        int lo = hex2nib(args[1][3 + 2 * i]);

        g_assert(hi >= 0 && lo >= 0);
        ptr[i] = (hi << 4) | lo;
    }
    g_strfreev(args);
}

void qtest_memwrite(QTestState *s, uint64_t addr, const void *data,
                    size_t size)
{
    const uint8_t *ptr = data;
    g_autofree char *enc = NULL;
    size_t i;

    if (!size) {
        return;
    }
    enc = g_malloc(2 * size + 1);
    for (i = 0; i < size; i++) {
        snprintf(enc + 2 * i, 3, "%02x", ptr[i]);
    }
    qtest_sendf(s, "write 0x%" PRIx64 " 0x%zx 0x%s\n", addr, size, enc);
    qtest_rsp(s);
}

void qtest_bufwrite(QTestState *s, uint64_t addr, const void *data,
                    size_t size)
{
    g_autofree char *b64 = g_base64_encode(data, size);

    qtest_sendf(s, "b64write 0x%" PRIx64 " 0x%zx %s\n", addr, size, b64);
    qtest_rsp(s);
}

void qtest_bufread(QTestState *s, uint64_t addr, void *data, size_t size)
{
    gchar **args;
    gsize len;

    qtest_sendf(s, "b64read 0x%" PRIx64 " 0x%zx\n", addr, size);
    args = qtest_rsp_args(s, 2);
    g_base64_decode_inplace(args[1], &len);
    if (len != size) {
        fprintf(stderr, "bufread: asked for %zu bytes but decoded %zu\n",
                size, (size_t)len);
        len = MIN(len, size);
    }
    memcpy(data, args[1], len);
    g_strfreev(args);
}

void qtest_memset(QTestState *s, uint64_t addr, uint8_t patt, size_t size)
{
    qtest_sendf(s, "memset 0x%" PRIx64 " 0x%zx 0x%02x\n", addr, size, patt);
    qtest_rsp(s);
}

static void qtest_out(QTestState *s, const char *cmd, uint16_t addr,
                      uint32_t value)
{
    qtest_sendf(s, "%s 0x%x 0x%x\n", cmd, addr, value);
    qtest_rsp(s);
}

static uint32_t qtest_in(QTestState *s, const char *cmd, uint16_t addr)
{
    gchar **args;
    uint64_t value;

    qtest_sendf(s, "%s 0x%x\n", cmd, addr);
    args = qtest_rsp_args(s, 2);
    value = g_ascii_strtoull(args[1], NULL, 0);
    g_assert_cmpuint(value, <=, UINT32_MAX);
    g_strfreev(args);
    return value;
}

uint8_t qtest_inb(QTestState *s, uint16_t addr)
{
    return qtest_in(s, "inb", addr);
}

uint16_t qtest_inw(QTestState *s, uint16_t addr)
{
    return qtest_in(s, "inw", addr);
}

uint32_t qtest_inl(QTestState *s, uint16_t addr)
{
    return qtest_in(s, "inl", addr);
}

void qtest_outb(QTestState *s, uint16_t addr, uint8_t value)
{
    qtest_out(s, "outb", addr, value);
}

void qtest_outw(QTestState *s, uint16_t addr, uint16_t value)
{
    qtest_out(s, "outw", addr, value);
}

void qtest_outl(QTestState *s, uint16_t addr, uint32_t value)
{
    qtest_out(s, "outl", addr, value);
}

static int64_t qtest_clock_rsp(QTestState *s)
{
    gchar **words = qtest_rsp_args(s, 2);
    int64_t clock = g_ascii_strtoll(words[1], NULL, 0);

    g_strfreev(words);
    return clock;
}

int64_t qtest_clock_step_next(QTestState *s)
{
    qtest_sendf(s, "clock_step\n");
    return qtest_clock_rsp(s);
}

int64_t qtest_clock_step(QTestState *s, int64_t step)
{
    qtest_sendf(s, "clock_step %" PRIi64 "\n", step);
    return qtest_clock_rsp(s);
}

int64_t qtest_clock_set(QTestState *s, int64_t val)
{
    qtest_sendf(s, "clock_set %" PRIi64 "\n", val);
    return qtest_clock_rsp(s);
}

/* Test registration and capability queries */

const char *qtest_get_arch(void)
{
    const char *qemu = qtest_qemu_binary();
    const char *end = strrchr(qemu, '-');

    if (!end || !strstr(qemu, "-system-")) {
        fprintf(stderr, "QTEST_QEMU_BINARY must end with *-system-<arch> "
                "where 'arch' is the target\narchitecture (x86_64, aarch64, "
                "etc).\n");
        exit(1);
    }
    return end + 1;
}

void qtest_add_func(const char *str, void (*fn)(void))
{
    g_autofree char *path = g_strdup_printf("/%s/%s", qtest_get_arch(), str);

    g_test_add_func(path, fn);
}

void qtest_add_data_func(const char *str, const void *data,
                         void (*fn)(const void *))
{
    g_autofree char *path = g_strdup_printf("/%s/%s", qtest_get_arch(), str);

    g_test_add_data_func(path, data, fn);
}

void qtest_add_data_func_full(const char *str, void *data,
                              void (*fn)(const void *),
                              GDestroyNotify data_free_func)
{
    g_autofree char *path = g_strdup_printf("/%s/%s", qtest_get_arch(), str);

    g_test_add_data_func_full(path, data, fn, data_free_func);
}

static QList *machines_cache;
static QList *devices_cache;

bool qtest_has_machine(const char *machine)
{
    const QListEntry *e;

    if (!machines_cache) {
        QTestState *qts = qtest_init("-machine none");
        QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-machines' }");

        machines_cache = qdict_get_qlist(rsp, "return");
        g_assert(machines_cache);
        qobject_ref(machines_cache);
        qobject_unref(rsp);
        qtest_quit(qts);
    }
    for (e = qlist_first(machines_cache); e; e = qlist_next(e)) {
        QDict *info = qobject_to(QDict, qlist_entry_obj(e));
        const char *alias = qdict_get_try_str(info, "alias");

        if (!strcmp(qdict_get_str(info, "name"), machine) ||
            (alias && !strcmp(alias, machine))) {
            return true;
        }
    }
    return false;
}

bool qtest_has_device(const char *device)
{
    const QListEntry *e;

    if (!devices_cache) {
        QTestState *qts = qtest_init("-machine none");
        QDict *rsp = qtest_qmp(qts, "{'execute': 'qom-list-types',"
                               " 'arguments': {'implements': 'device',"
                               " 'abstract': false}}");

        devices_cache = qdict_get_qlist(rsp, "return");
        g_assert(devices_cache);
        qobject_ref(devices_cache);
        qobject_unref(rsp);
        qtest_quit(qts);
    }
    for (e = qlist_first(devices_cache); e; e = qlist_next(e)) {
        QDict *info = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(info, "name"), device)) {
            return true;
        }
    }
    return false;
}

bool qtest_has_accel(const char *accel_name)
{
    return !strcmp(accel_name, "qtest") ||
           (qtest_peer_mode() && !strcmp(accel_name, "tcg"));
}
