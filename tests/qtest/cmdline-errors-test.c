/*
 * Wrong input, table-driven: command lines (each refused with one clear
 * line and exit status 1), QMP messages and qtest lines (each answered
 * with its error while the emulator stays up for the next command).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <signal.h>
#include <sys/wait.h>
#include "libqtest.h"

#define PROG "qemu-system-x86_64: "
#define SCOPE "(it hosts only the tpm-crb device under the qtest accelerator)"

typedef struct CmdlineCase {
    const char *args;
    /* The first line of stderr, exactly. */
    const char *error;
} CmdlineCase;

static const CmdlineCase cmdline_cases[] = {
    { "-netdev user,id=n0",
      PROG "-netdev: not supported by this build " SCOPE },
    { "-drive file=x.img", PROG "-drive: not supported by this build " SCOPE },
    { "-frobnicate", PROG "-frobnicate: invalid option" },
    { "-device", PROG "-device: requires an argument" },
    { "-incoming", PROG "-incoming: requires an argument" },
    { "-device foo", PROG "-device foo: 'foo' is not a valid device model "
      "name" },
    { "-device tpm-crb,bar=1", PROG "-device tpm-crb,bar=1: Property "
      "'tpm-crb.bar' not found" },
    { "-device tpm-crb,id=1x", PROG "-device tpm-crb,id=1x: Parameter 'id' "
      "expects an identifier" },
    { "-device tpm-crb,bus=isa.0", PROG "-device tpm-crb,bus=isa.0: Bus "
      "'isa.0' not found" },
    { "-accel kvm", PROG "-accel kvm: the kvm accelerator is not supported "
      "by this build (it runs the qtest accelerator only)" },
    { "-accel tcg", PROG "-accel tcg: the tcg accelerator is not supported "
      "by this build (it runs the qtest accelerator only)" },
    { "-accel foo", PROG "-accel foo: invalid accelerator foo" },
    { "-enable-kvm", PROG "-enable-kvm: the kvm accelerator is not "
      "supported by this build (it runs the qtest accelerator only)" },
    { "-machine none,accel=kvm:tcg", PROG "-machine none,accel=kvm:tcg: the "
      "kvm accelerator is not supported by this build (it runs the qtest "
      "accelerator only)" },
    { "-machine none,foo=bar", PROG "Property 'none-machine.foo' not found" },
    { "-M pc-q35-2.0", PROG "unsupported machine type: \"pc-q35-2.0\"" },
    { "-display gtk", PROG "-display gtk: only 'none' is supported by this "
      "build " SCOPE },
    { "-audio pa", PROG "-audio pa: only 'none' is supported by this build "
      SCOPE },
    { "-run-with chroot=/", PROG "-run-with chroot=/: Parameter 'chroot' is "
      "not supported by this build (only exit-with-parent is)" },
    { "-run-with exit-with-parent=maybe", PROG "-run-with "
      "exit-with-parent=maybe: Parameter 'exit-with-parent' expects 'on' or "
      "'off'" },
    { "-chardev socket,id=c0", PROG "-chardev socket,id=c0: chardev 'c0': "
      "Parameter 'path' is missing (this build supports unix sockets only)" },
    { "-chardev foo,id=c0", PROG "-chardev foo,id=c0: 'foo' is not a valid "
      "char driver name" },
    { "-chardev stdio,id=c0", PROG "-chardev stdio,id=c0: chardev backend "
      "'stdio' is not supported by this build (it supports unix sockets "
      "only: socket,path=...)" },
    { "-chardev socket,id=c0,path=/nonexistent/dir/s", PROG "-chardev "
      "socket,id=c0,path=/nonexistent/dir/s: Failed to connect to "
      "'/nonexistent/dir/s': No such file or directory" },
    { "-mon chardev=nochr,mode=control", PROG "-mon "
      "chardev=nochr,mode=control: chardev \"nochr\" not found" },
    { "-qtest unix:/nonexistent/dir/q", PROG "Failed to initialize device "
      "for qtest: \"unix:/nonexistent/dir/q\": Failed to connect to "
      "'/nonexistent/dir/q': No such file or directory" },
    { "-object foo,id=x", PROG "-object foo,id=x: Parameter 'qom-type' does "
      "not accept value 'foo'" },
    { "-object secret,id=s0,data=x", PROG "-object secret,id=s0,data=x: "
      "object type 'secret' is not supported by this build " SCOPE },
    { "-m lots", PROG "-m lots: Parameter 'size' expects a non-negative "
      "number below 2^64" },
    { "-m 1T", PROG "-m 1T: ram size 0x10000000000 exceeds this build's "
      "limit of 16 GiB" },
    { "-global tpm-crb", PROG "-global tpm-crb: Invalid -global 'tpm-crb': "
      "expected DRIVER.PROPERTY=VALUE" },
    { "-serial stdio", PROG "-serial stdio: only 'none' is supported by "
      "this build " SCOPE },
    { "disk.img", PROG "disk.img: disk images are not supported by this "
      "build " SCOPE },
};

static char *binary(void)
{
    return g_strdup(g_getenv("QTEST_QEMU_BINARY"));
}

static void test_cmdline_case(const void *opaque)
{
    const CmdlineCase *c = opaque;
    g_autofree char *bin = binary();
    g_autofree char *cmd = g_strdup_printf("%s -M none -display none %s",
                                           bin, c->args);
    g_auto(GStrv) argv = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GError) gerr = NULL;
    g_auto(GStrv) lines = NULL;
    int pipefd[2];
    GString *buf = g_string_new("");
    gint64 end;
    pid_t pid;
    int status = 0;

    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, &gerr));
    g_assert_cmpint(pipe(pipefd), ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pipefd[1]);

    /* A case that wrongly starts must not hang the test. */
    end = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (g_get_monotonic_time() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            g_error("'%s' did not exit", c->args);
        }
        g_usleep(5 * 1000);
    }
    for (;;) {
        char chunk[1024];
        ssize_t n = read(pipefd[0], chunk, sizeof(chunk));

        if (n <= 0) {
            break;
        }
        g_string_append_len(buf, chunk, n);
    }
    close(pipefd[0]);
    err = g_string_free(buf, FALSE);

    g_test_message("%s -> %s", c->args, err);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    lines = g_strsplit(err, "\n", -1);
    g_assert_cmpstr(lines[0], ==, c->error);
}

typedef struct QmpCase {
    const char *name;
    /* Sent verbatim (so it can be malformed). */
    const char *request;
    const char *cls;
    /* The description, or its start when it ends in "*". */
    const char *desc;
} QmpCase;

static const QmpCase qmp_cases[] = {
    { "unknown-command", "{\"execute\": \"foo\"}", "CommandNotFound",
      "The command foo has not been found" },
    { "unexpected-argument", "{\"execute\": \"query-status\", \"arguments\": "
      "{\"x\": 1}}", "GenericError", "Parameter 'x' is unexpected" },
    { "execute-not-string", "{\"execute\": 1}", "GenericError",
      "QMP input member 'execute' must be a string" },
    { "no-execute", "{\"arguments\": {}}", "GenericError",
      "QMP input lacks member 'execute'" },
    { "arguments-not-object", "{\"execute\": \"stop\", \"arguments\": []}",
      "GenericError", "QMP input member 'arguments' must be an object" },
    { "unexpected-member", "{\"execute\": \"stop\", \"foo\": 1}",
      "GenericError", "QMP input member 'foo' is unexpected" },
    { "array", "[1, 2]", "GenericError", "QMP input must be a JSON object" },
    { "string", "\"hello\"", "GenericError",
      "QMP input must be a JSON object" },
    { "number", "3.5 ", "GenericError", "QMP input must be a JSON object" },
    { "bad-json", "{\"execute\" \"stop\"}", "GenericError",
      "JSON parse error, *" },
    { "stray-brace", "}", "GenericError", "JSON parse error, *" },
    { "wrong-type", "{\"execute\": \"qom-list-types\", \"arguments\": "
      "{\"abstract\": \"yes\"}}", "GenericError",
      "Invalid parameter type for 'abstract', expected: boolean" },
    { "capabilities-again", "{\"execute\": \"qmp_capabilities\"}",
      "CommandNotFound", "Capabilities negotiation is already complete, "
      "command ignored" },
};

static void test_qmp_cases(void)
{
    QTestState *qts = qtest_init("-M none");
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(qmp_cases); i++) {
        const QmpCase *c = &qmp_cases[i];
        QDict *rsp, *err, *ret;
        const char *desc;
        size_t n = strlen(c->desc);

        qtest_qmp_send_raw(qts, "%s", c->request);
        rsp = qtest_qmp_receive(qts);
        err = qdict_get_qdict(rsp, "error");
        g_assert(err);
        desc = qdict_get_str(err, "desc");
        g_test_message("%s: %s -> %s", c->name, c->request, desc);
        g_assert_cmpstr(qdict_get_str(err, "class"), ==, c->cls);
        if (c->desc[n - 1] == '*') {
            g_assert_cmpint(strncmp(desc, c->desc, n - 1), ==, 0);
        } else {
            g_assert_cmpstr(desc, ==, c->desc);
        }
        qobject_unref(rsp);

        /* Still alive and well. */
        ret = qtest_qmp_assert_success_ref(qts,
                                           "{'execute': 'query-status'}");
        g_assert_true(qdict_get_bool(ret, "running"));
        qobject_unref(ret);
    }
    qtest_quit(qts);
}

typedef struct QtestCase {
    const char *line;
    const char *reply;
} QtestCase;

/* Lines QEMU asserts on; we answer them (documented in system/qtest.c). */
static const QtestCase qtest_cases[] = {
    { "", "FAIL empty command" },
    { "readl", "FAIL missing argument for 'readl'" },
    { "readl xyz", "FAIL invalid number 'xyz'" },
    { "writel 0x1000 -1", "FAIL invalid number '-1'" },
    { "writel  0x1000", "FAIL invalid number ''" },
    { "write 0x1000 2 0xzz", "FAIL invalid hex data at byte 0" },
    { "read 0x1000 0", "FAIL read of 0 bytes" },
    { "read 0x0 0x2000000", "FAIL size 0x2000000 exceeds the limit of "
      "0x1000000 bytes" },
    { "memset 0x0 0x1000000000 0", "FAIL size 0x1000000000 exceeds the limit "
      "of 0x40000000 bytes" },
    { "clock_set abc", "FAIL invalid number 'abc'" },
    { "clock_step -5", "FAIL could not advance time" },
    { "outb 0x10000 1", "FAIL port address 0x10000 above 0xffff" },
    { "b64write 0x0 4 A", "ERR invalid argument size" },
    { "irq_intercept_in /machine/nonexistent", "FAIL Unknown device" },
    { "frobnicate", "FAIL Unknown command 'frobnicate'" },
};

static void test_qtest_cases(void)
{
    QTestState *qts = qtest_init("-M q35");
    size_t i;

    qtest_writel(qts, 0x1000, 0xfeedface);
    for (i = 0; i < G_N_ELEMENTS(qtest_cases); i++) {
        g_autofree char *reply = qtest_raw_line(qts, qtest_cases[i].line);

        g_test_message("'%s' -> %s", qtest_cases[i].line, reply);
        g_assert_cmpstr(reply, ==, qtest_cases[i].reply);
        g_assert_cmphex(qtest_readl(qts, 0x1000), ==, 0xfeedface);
    }
    qtest_quit(qts);
}

/* A line with no end is dropped, not buffered without bound. */
static void test_qtest_long_line(void)
{
    QTestState *qts = qtest_init("-M none");
    size_t len = 33 * 1024 * 1024;
    g_autofree char *line = g_malloc(len + 1);
    g_autofree char *reply = NULL;

    memset(line, 'a', len);
    line[len] = 0;
    reply = qtest_raw_line(qts, line);
    g_assert_cmpstr(reply, ==, "FAIL line longer than 33554688 bytes");
    g_assert_cmphex(qtest_readl(qts, 0x0), ==, 0);
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);
    if (qtest_peer_mode()) {
        g_test_skip("this build's own error wording: not for the peer");
        return g_test_run();
    }
    for (i = 0; i < G_N_ELEMENTS(cmdline_cases); i++) {
        g_autofree char *path = g_strdup_printf("cmdline-errors/cmdline/%zu",
                                                i);

        qtest_add_data_func(path, &cmdline_cases[i], test_cmdline_case);
    }
    qtest_add_func("cmdline-errors/qmp", test_qmp_cases);
    qtest_add_func("cmdline-errors/qtest", test_qtest_cases);
    qtest_add_func("cmdline-errors/qtest-long-line", test_qtest_long_line);
    return g_test_run();
}
