/*
 * qtest: tpm-crb on QEMU's emulator backend when swtpm fails: killed
 * mid-command, stopped, a channel closed, a response cut short or too
 * large. QEMU must keep running and answer QMP, the guest sees tpmSts
 * and Start as the device's rules say, one clear error reaches the log, and a
 * system reset (with a restarted swtpm where it died) serves again.
 * Also the start-up errors of a wrong TPM configuration.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/wait.h>

#include "hw/acpi/tpm.h"
#include "qemu/bswap.h"
#include "qobject/qlist.h"
#include "tpm-fake-swtpm.h"
#include "tpm-proc.h"
#include "tpm-crb-util.h"

#define CRB(reg) (TPM_CRB_ADDR_BASE + A_CRB_##reg)
#define CRB_WINDOW (TPM_CRB_ADDR_BASE + A_CRB_DATA_BUFFER)

/* TPM2_GetRandom(16) */
static const uint8_t get_random[] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x7b, 0x00, 0x10,
};
/* TPM2_Startup(SU_CLEAR) */
static const uint8_t startup[] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44, 0x00, 0x00,
};

static const char *qemu_binary(void)
{
    const char *bin = g_getenv("QTEST_QEMU_BINARY");

    g_assert_nonnull(bin);
    return bin;
}

/*
 * The backend's bounds (backends/tpm): a reset or a migration waits this
 * long for a command, a control command this long for swtpm's answer.
 */
#define FINISH_TIMEOUT_MS 10000
#define CTRL_TIMEOUT_MS 10000

/*
 * The emulator with a tpm-crb on the swtpm control socket at sock; the
 * chardev reconnects to a restarted swtpm.
 */
static TPMProc *start_emulator(const char *sock)
{
    g_autofree char *chardev =
        g_strdup_printf("socket,id=chr,path=%s,reconnect-ms=100", sock);
    const char *args[] = {
        "-M", "q35", "-nodefaults", "-display", "none", TPM_CRB_OPT_IN_ARGV,
        "-chardev", chardev,
        "-tpmdev", "emulator,id=tpm0,chardev=chr",
        "-device", "tpm-crb,tpmdev=tpm0",
        NULL
    };
    TPMProc *p = tpm_proc_spawn(qemu_binary(), args, true);

    tpm_proc_connect(p, true);
    return p;
}

static void crb_start(TPMProc *p, const uint8_t *cmd, size_t len)
{
    tpm_qtest_writeb(p->qtest_fd, p->qtest_in, CRB(LOC_CTRL), 1);
    tpm_qtest_memwrite(p->qtest_fd, p->qtest_in, CRB_WINDOW, cmd, len);
    tpm_proc_writel(p, CRB(CTRL_START), 1);
}

/* Wait (bounded) for Start to clear; true if it did. */
static bool crb_wait(TPMProc *p, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + timeout_ms * (gint64)1000;

    while (tpm_proc_readl(p, CRB(CTRL_START)) & 1) {
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        g_usleep(1000);
    }
    return true;
}

/* Run cmd to completion; returns the response code. */
static uint32_t crb_run(TPMProc *p, const uint8_t *cmd, size_t len)
{
    uint8_t rsp[10];

    crb_start(p, cmd, len);
    g_assert_true(crb_wait(p, 30000));
    tpm_qtest_memread(p->qtest_fd, p->qtest_in, CRB_WINDOW, rsp,
                      sizeof(rsp));
    return ldl_be_p(rsp + 6);
}

static bool crb_tpm_sts(TPMProc *p)
{
    return tpm_proc_readl(p, CRB(CTRL_STS)) & 1;
}

static unsigned count_lines_with(const char *text, const char *needle)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    unsigned n = 0;
    size_t i;

    for (i = 0; lines[i]; i++) {
        if (strstr(lines[i], needle)) {
            n++;
        }
    }
    return n;
}

/* The emulator's log holds needle on exactly one line. */
static void assert_logged_once(TPMProc *p, const char *needle)
{
    g_autofree char *err = tpm_proc_stderr(p);

    if (count_lines_with(err, needle) != 1) {
        g_error("expected '%s' once in the log, got:\n%s", needle, err);
    }
}

/*
 * A failed migration says so before the VM runs again: wait (bounded)
 * until the runstate has left finish-migrate.
 */
static void wait_migration_unwound(TPMProc *p)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    for (;;) {
        QDict *rsp = tpm_proc_qmp(p, "{'execute': 'query-status'}");
        bool unwound = strcmp(qdict_get_str(qdict_get_qdict(rsp, "return"),
                                            "status"), "finish-migrate");

        qobject_unref(rsp);
        if (unwound || g_get_monotonic_time() > deadline) {
            return;
        }
        g_usleep(10 * 1000);
    }
}

static void assert_qmp_alive(TPMProc *p)
{
    QDict *rsp = tpm_proc_qmp(p, "{'execute': 'query-status'}");

    g_assert_true(qdict_haskey(rsp, "return"));
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(rsp, "return"), "status"),
                    ==, "running");
    qobject_unref(rsp);
}

/* system_reset; returns how long QMP took to answer, in ms. */
static int64_t system_reset(TPMProc *p)
{
    gint64 t0 = g_get_monotonic_time();
    QDict *rsp = tpm_proc_qmp(p, "{'execute': 'system_reset'}");

    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    return (g_get_monotonic_time() - t0) / 1000;
}

/* Wait (bounded) until the chardev has connected to a swtpm again. */
static void wait_chardev_connected(TPMProc *p)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    for (;;) {
        QDict *rsp = tpm_proc_qmp(p, "{'execute': 'query-chardev'}");
        QListEntry *e;
        bool connected = false;

        QLIST_FOREACH_ENTRY(qdict_get_qlist(rsp, "return"), e) {
            QDict *chr = qobject_to(QDict, qlist_entry_obj(e));

            if (!strcmp(qdict_get_str(chr, "label"), "chr")) {
                connected = !g_str_has_prefix(qdict_get_str(chr, "filename"),
                                              "disconnected:");
            }
        }
        qobject_unref(rsp);
        if (connected) {
            return;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(10 * 1000);
    }
}

typedef struct SwtpmFixture {
    char *dir;
    GPid pid;
    SocketAddress *addr;
} SwtpmFixture;

/* swtpm on f->dir; again on the same socket and state after a kill. */
static void swtpm_fixture_run(SwtpmFixture *f)
{
    g_autoptr(GError) err = NULL;

    qapi_free_SocketAddress(f->addr);
    g_assert_true(tpm_crb_util_swtpm_start(f->dir, &f->pid, &f->addr, &err));
    g_assert_no_error(err);
}

static void swtpm_fixture_start(SwtpmFixture *f)
{
    g_autoptr(GError) err = NULL;

    f->addr = NULL;
    f->dir = g_dir_make_tmp("tpm-crb-fault-XXXXXX", &err);
    g_assert_no_error(err);
    swtpm_fixture_run(f);
}

static void swtpm_fixture_stop(SwtpmFixture *f)
{
    tpm_crb_util_swtpm_kill(f->pid);
    qapi_free_SocketAddress(f->addr);
    tpm_crb_util_rmdir(f->dir);
    g_free(f->dir);
}

/* A fresh swtpm, the emulator on it, and TPM2_Startup done. */
static TPMProc *start_with_swtpm(SwtpmFixture *f)
{
    TPMProc *p;

    swtpm_fixture_start(f);
    p = start_emulator(f->addr->u.q_unix.path);
    g_assert_cmphex(crb_run(p, startup, sizeof(startup)), ==, 0);
    return p;
}

/* quit (exit status 0), then stop swtpm and remove its state. */
static void quit_with_swtpm(TPMProc *p, SwtpmFixture *f)
{
    g_assert_cmpint(tpm_proc_quit(p), ==, 0);
    tpm_proc_free(p);
    swtpm_fixture_stop(f);
}

/* Stop swtpm and start a command: it is surely in flight. */
static void start_stalled_command(TPMProc *p, SwtpmFixture *f)
{
    kill(f->pid, SIGSTOP);
    crb_start(p, get_random, sizeof(get_random));
    g_usleep(200 * 1000);
    g_assert_cmpint(tpm_proc_readl(p, CRB(CTRL_START)) & 1, ==, 1);
}

/*
 * swtpm dies mid-command: the command fails (Start clears, tpmSts = 1),
 * later commands fail at once, and a reset after swtpm is restarted on
 * the same state serves again.
 */
static void test_swtpm_sigkill_during_command(void)
{
    SwtpmFixture f;
    TPMProc *p;

    p = start_with_swtpm(&f);

    start_stalled_command(p, &f);
    kill(f.pid, SIGKILL);
    g_assert_cmpint(RETRY_ON_EINTR(waitpid(f.pid, NULL, 0)), ==, f.pid);
    f.pid = 0;

    g_assert_true(crb_wait(p, 30000));
    g_assert_true(crb_tpm_sts(p));
    assert_logged_once(p, "tpm-emulator: TPM command failed");
    assert_qmp_alive(p);

    /* Until a reset, commands fail without touching the dead channel. */
    crb_run(p, get_random, sizeof(get_random));
    g_assert_true(crb_tpm_sts(p));
    assert_logged_once(p, "tpm-emulator: no data channel to swtpm until "
                       "the next reset");

    swtpm_fixture_run(&f);
    wait_chardev_connected(p);
    g_assert_cmpint(system_reset(p), <, 1000);
    g_assert_false(crb_tpm_sts(p));
    g_assert_cmphex(crb_run(p, startup, sizeof(startup)), ==, 0);
    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);
    g_assert_false(crb_tpm_sts(p));

    quit_with_swtpm(p, &f);
}

/*
 * The guest cancels while swtpm is stopped: the vCPU does not wait for
 * swtpm's answer, and that answer, read later, is not taken for the
 * answer to a later control command.
 */
static void test_swtpm_stall_cancel(void)
{
    SwtpmFixture f;
    g_autofree char *err = NULL;
    uint8_t rsp[10];
    gint64 t0;
    TPMProc *p;
    uint32_t rc;

    p = start_with_swtpm(&f);

    start_stalled_command(p, &f);
    t0 = g_get_monotonic_time();
    tpm_proc_writel(p, CRB(CTRL_CANCEL), 1);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, G_USEC_PER_SEC);
    assert_qmp_alive(p);
    g_assert_cmpint(tpm_proc_readl(p, CRB(CTRL_START)) & 1, ==, 1);

    kill(f.pid, SIGCONT);
    g_assert_true(crb_wait(p, 30000));
    tpm_proc_writel(p, CRB(CTRL_CANCEL), 0);
    g_assert_false(crb_tpm_sts(p));
    tpm_qtest_memread(p->qtest_fd, p->qtest_in, CRB_WINDOW, rsp,
                      sizeof(rsp));
    rc = ldl_be_p(rsp + 6);
    /* libtpms may finish GetRandom or report TPM_RC_CANCELED. */
    g_assert_true(rc == 0 || rc == 0x909);

    /* A reset sends CMD_INIT: its answer is read, not the cancel's. */
    g_assert_cmpint(system_reset(p), <, 1000);
    g_assert_cmphex(crb_run(p, startup, sizeof(startup)), ==, 0);
    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);
    g_assert_false(crb_tpm_sts(p));

    err = tpm_proc_stderr(p);
    g_assert_cmpuint(count_lines_with(err, "tpm-emulator:"), ==, 0);

    g_assert_cmpint(tpm_proc_quit(p), ==, 0);
    /* CMD_SHUTDOWN at quit got through: swtpm exits on its own. */
    g_assert_true(tpm_crb_util_swtpm_wait_exit(f.pid, 10000));
    f.pid = 0;

    tpm_proc_free(p);
    swtpm_fixture_stop(&f);
}

/*
 * A reset while swtpm is stopped: the reset waits FINISH_TIMEOUT_MS for
 * the command, closes the data channel, and the new one cannot be set up
 * (CTRL_TIMEOUT_MS): QMP answers again after both, with the errors in
 * the log, and tpmSts set. Once swtpm runs again, the next reset serves.
 */
static void test_swtpm_stall_reset(void)
{
    SwtpmFixture f;
    int64_t ms;
    TPMProc *p;

    p = start_with_swtpm(&f);

    start_stalled_command(p, &f);
    ms = system_reset(p);
    g_test_message("system_reset with swtpm stopped: %" PRId64 " ms", ms);
    g_assert_cmpint(ms, >=, FINISH_TIMEOUT_MS);
    g_assert_cmpint(ms, <, FINISH_TIMEOUT_MS + CTRL_TIMEOUT_MS + 5000);
    assert_qmp_alive(p);
    assert_logged_once(p, "tpm-emulator: swtpm did not finish the command "
                       "within 10000 ms; closing the data channel");
    assert_logged_once(p, "tpm-emulator: swtpm did not answer within "
                       "10000 ms; disconnecting its control channel");
    /* The TPM did not start: the VM runs on, the guest sees tpmSts. */
    assert_logged_once(p, "tpm-crb: the TPM backend failed to start");
    g_assert_true(crb_tpm_sts(p));

    kill(f.pid, SIGCONT);
    wait_chardev_connected(p);
    g_assert_cmpint(system_reset(p), <, 1000);
    g_assert_false(crb_tpm_sts(p));
    g_assert_cmphex(crb_run(p, startup, sizeof(startup)), ==, 0);
    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);

    quit_with_swtpm(p, &f);
}

/*
 * A migration while swtpm is stopped fails after FINISH_TIMEOUT_MS with
 * an error; the source runs on, and its command completes once swtpm
 * runs again.
 */
static void test_swtpm_stall_migrate(void)
{
    g_autofree char *uri = NULL;
    g_autofree char *cmd = NULL;
    g_autofree char *status = NULL;
    g_autofree char *desc = NULL;
    SwtpmFixture f;
    TPMProc *p;
    QDict *rsp;

    p = start_with_swtpm(&f);

    start_stalled_command(p, &f);
    uri = g_strdup_printf("file:%s/migration", f.dir);
    cmd = g_strdup_printf("{'execute': 'migrate', 'arguments': "
                          "{'uri': '%s'}}", uri);
    rsp = tpm_proc_qmp(p, cmd);
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);

    status = tpm_proc_wait_migration(p, 60000, &desc);
    g_test_message("migration: %s", desc ? desc : "(no error-desc)");
    g_assert_cmpstr(status, ==, "failed");
    assert_logged_once(p, "did not finish within 10000 ms");
    wait_migration_unwound(p);
    assert_qmp_alive(p);

    kill(f.pid, SIGCONT);
    g_assert_true(crb_wait(p, 30000));
    g_assert_false(crb_tpm_sts(p));
    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);

    quit_with_swtpm(p, &f);
}

/*
 * quit while swtpm is stopped mid-command: QEMU exits at once, cleanly.
 * The pending command holds a reference to the backend, which is
 * therefore not finalized and sends no CMD_SHUTDOWN to wait for.
 */
static void test_swtpm_stall_quit(void)
{
    g_autofree char *err = NULL;
    SwtpmFixture f;
    int64_t ms;
    gint64 t0;
    TPMProc *p;

    p = start_with_swtpm(&f);

    start_stalled_command(p, &f);
    t0 = g_get_monotonic_time();
    g_assert_cmpint(tpm_proc_quit(p), ==, 0);
    ms = (g_get_monotonic_time() - t0) / 1000;
    g_test_message("quit with swtpm stopped: %" PRId64 " ms", ms);
    g_assert_cmpint(ms, <, 2000);
    err = tpm_proc_stderr(p);
    g_assert_cmpuint(count_lines_with(err, "tpm-emulator:"), ==, 0);

    tpm_proc_free(p);
    swtpm_fixture_stop(&f);
}

/*
 * swtpm closes the data channel: the command fails, and a reset sets up
 * a new data channel over the control channel.
 */
static void test_data_channel_closed(void)
{
    FakeSwtpm *fake = fake_swtpm_new(fake_swtpm_default_caps());
    TPMProc *p = start_emulator(fake_swtpm_path(fake));

    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);
    g_assert_false(crb_tpm_sts(p));

    fake_swtpm_close_data(fake);
    crb_start(p, get_random, sizeof(get_random));
    g_assert_true(crb_wait(p, 30000));
    g_assert_true(crb_tpm_sts(p));
    assert_logged_once(p, "tpm-emulator: TPM command failed");
    assert_qmp_alive(p);

    g_assert_cmpint(system_reset(p), <, 1000);
    g_assert_false(crb_tpm_sts(p));
    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);
    g_assert_false(crb_tpm_sts(p));

    g_assert_cmpint(tpm_proc_quit(p), ==, 0);
    tpm_proc_free(p);
    fake_swtpm_free(fake);
}

static void test_ctrl_channel_closed(void)
{
    FakeSwtpm *fake = fake_swtpm_new(fake_swtpm_default_caps());
    TPMProc *p = start_emulator(fake_swtpm_path(fake));

    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);
    fake_swtpm_close_ctrl(fake);

    /* The data channel still works without the control channel. */
    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);
    g_assert_false(crb_tpm_sts(p));
    g_assert_cmpuint(fake_swtpm_commands(fake), >=, 2);
    assert_qmp_alive(p);

    /* quit cannot send CMD_SHUTDOWN: say so, but exit normally. */
    g_assert_cmpint(tpm_proc_quit(p), ==, 0);
    assert_logged_once(p, "tpm-emulator: Could not cleanly shutdown the TPM");
    tpm_proc_free(p);
    fake_swtpm_free(fake);
}

/*
 * The data channel delivers a response whose header declares 64 bytes,
 * then nothing more. The command stays in execution (Start = 1, as on a
 * TPM that does not finish; the backend has no deadline for a command,
 * which may take minutes), a cancel does not help, and QMP answers. A
 * reset ends it after FINISH_TIMEOUT_MS and serves again.
 */
static void test_response_shorter_than_header(void)
{
    FakeSwtpm *fake = fake_swtpm_new(fake_swtpm_default_caps());
    TPMProc *p = start_emulator(fake_swtpm_path(fake));
    int64_t ms;

    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);

    fake_swtpm_short_response(fake, 64);
    crb_start(p, get_random, sizeof(get_random));
    g_assert_false(crb_wait(p, 1000));
    tpm_proc_writel(p, CRB(CTRL_CANCEL), 1);
    g_assert_false(crb_wait(p, 1000));
    assert_qmp_alive(p);

    fake_swtpm_short_response(fake, 0);
    ms = system_reset(p);
    g_assert_cmpint(ms, >=, FINISH_TIMEOUT_MS);
    g_assert_cmpint(ms, <, FINISH_TIMEOUT_MS + 5000);
    assert_logged_once(p, "tpm-emulator: swtpm did not finish the command "
                       "within 10000 ms; closing the data channel");
    assert_logged_once(p, "tpm-emulator: TPM command failed");
    g_assert_false(crb_tpm_sts(p));
    g_assert_cmpint(tpm_proc_readl(p, CRB(CTRL_START)) & 1, ==, 0);
    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);

    g_assert_cmpint(tpm_proc_quit(p), ==, 0);
    tpm_proc_free(p);
    fake_swtpm_free(fake);
}

/*
 * A response larger than the buffer: refused with an error that names
 * its size, the rest dropped so that the next response is read from its
 * first byte; tpmSts = 1 until a reset.
 */
static void test_response_oversized(void)
{
    FakeSwtpm *fake = fake_swtpm_new(fake_swtpm_default_caps());
    TPMProc *p = start_emulator(fake_swtpm_path(fake));

    fake_swtpm_oversized_response(fake, 6000);
    crb_start(p, get_random, sizeof(get_random));
    g_assert_true(crb_wait(p, 30000));
    g_assert_true(crb_tpm_sts(p));
    assert_logged_once(p, "tpm-emulator: response declares 6000 bytes, "
                       "outside [10, 4096]");

    fake_swtpm_oversized_response(fake, 0);
    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);
    g_assert_true(crb_tpm_sts(p));
    g_assert_cmpint(system_reset(p), <, 1000);
    g_assert_false(crb_tpm_sts(p));
    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);
    assert_qmp_alive(p);

    g_assert_cmpint(tpm_proc_quit(p), ==, 0);
    tpm_proc_free(p);
    fake_swtpm_free(fake);
}

/*
 * Runs after every other fault test: no emulator or swtpm they started
 * may still be around (alive or unreaped) once they are done.
 */
static void test_no_children_left(void)
{
    g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
    g_autofree char *pid_field = g_strdup_printf(" %d ", (int)getpid());
    const char *name;
    unsigned left = 0;

    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *path = g_strdup_printf("/proc/%s/stat", name);
        g_autofree char *stat = NULL;
        const char *rp;

        if (!g_ascii_isdigit(name[0]) ||
            !g_file_get_contents(path, &stat, NULL, NULL)) {
            continue;
        }
        /* "pid (comm) state ppid ...": comm may hold spaces. */
        rp = strrchr(stat, ')');
        if (rp && rp[1] == ' ' && rp[2] && !strncmp(rp + 3, pid_field,
                                                     strlen(pid_field))) {
            g_test_message("child left behind: %s", stat);
            left++;
        }
    }
    g_assert_cmpuint(left, ==, 0);
}

/* Start with args; expect exit status 1 and a message containing msg. */
static void expect_startup_error(const char *const *args, const char *msg)
{
    TPMProc *p = tpm_proc_spawn(qemu_binary(), args, false);
    g_autofree char *err = NULL;

    g_assert_true(tpm_proc_wait(p, 60000));
    err = tpm_proc_stderr(p);
    if (!strstr(err, msg)) {
        g_error("expected '%s' in the output, got:\n%s", msg, err);
    }
    g_assert_cmpint(p->exit_status, ==, 1);
    tpm_proc_free(p);
}

static void test_no_tpmdev(void)
{
    const char *args[] = {
        "-M", "q35", "-nodefaults", "-display", "none",
        "-device", "tpm-crb", NULL
    };

    expect_startup_error(args, "'tpmdev' property is required");
}

static void test_unknown_backend_id(void)
{
    const char *args[] = {
        "-M", "q35", "-nodefaults", "-display", "none",
        "-device", "tpm-crb,tpmdev=nope", NULL
    };

    expect_startup_error(args,
                         "Property 'tpm-crb.tpmdev' can't find value 'nope'");
}

/* Configurations that need a listening swtpm; the fake is enough. */
static void expect_error_with_fake(const char *tpmdev, const char *device,
                                   const char *device2, const char *msg)
{
    FakeSwtpm *fake = fake_swtpm_new(fake_swtpm_default_caps());
    g_autofree char *chardev = g_strdup_printf("socket,id=chr,path=%s",
                                               fake_swtpm_path(fake));
    const char *args[] = {
        "-M", "q35", "-nodefaults", "-display", "none",
        "-chardev", chardev, "-tpmdev", tpmdev,
        device ? "-device" : NULL, device, device2 ? "-device" : NULL,
        device2, NULL
    };

    expect_startup_error(args, msg);
    fake_swtpm_free(fake);
}

static void test_two_devices(void)
{
    expect_error_with_fake("emulator,id=tpm0,chardev=chr",
                           "tpm-crb,tpmdev=tpm0", "tpm-crb",
                           "at most one TPM device is permitted");
}

static void test_tpmdev_unknown_type(void)
{
    expect_error_with_fake("nosuch,id=tpm0,chardev=chr", NULL, NULL,
                           "Parameter 'type' expects a TPM backend type");
}

static void test_tpmdev_missing_id(void)
{
    expect_error_with_fake("emulator,chardev=chr", NULL, NULL,
                           "Parameter 'id' is missing");
}

static void test_tpmdev_unknown_option(void)
{
    expect_error_with_fake("emulator,id=tpm0,chardev=chr,bogus=1", NULL,
                           NULL, "Invalid parameter 'bogus'");
}

static void test_tpmdev_missing_chardev(void)
{
    expect_error_with_fake("emulator,id=tpm0", NULL, NULL,
                           "tpm-emulator: parameter 'chardev' is missing");
}

static void test_tpmdev_unknown_chardev(void)
{
    expect_error_with_fake("emulator,id=tpm0,chardev=nochr", NULL, NULL,
                           "tpm-emulator: tpm chardev 'nochr' not found");
}

static void test_tpmdev_duplicate_id(void)
{
    FakeSwtpm *fake = fake_swtpm_new(fake_swtpm_default_caps());
    g_autofree char *chardev = g_strdup_printf("socket,id=chr,path=%s",
                                               fake_swtpm_path(fake));
    const char *args[] = {
        "-M", "q35", "-nodefaults", "-display", "none",
        "-chardev", chardev,
        "-tpmdev", "emulator,id=tpm0,chardev=chr",
        "-tpmdev", "emulator,id=tpm0,chardev=chr",
        NULL
    };

    expect_startup_error(args, "Duplicate ID 'tpm0' for tpmdev");
    fake_swtpm_free(fake);
}

static void test_swtpm_not_listening(void)
{
    g_autoptr(GError) gerr = NULL;
    g_autofree char *dir = g_dir_make_tmp("tpm-crb-fault-XXXXXX", &gerr);
    g_autofree char *sock = g_build_filename(dir, "sock", NULL);
    g_autofree char *chardev = g_strdup_printf("socket,id=chr,path=%s",
                                               sock);
    g_autofree char *msg = g_strdup_printf("Failed to connect to '%s'",
                                           sock);
    const char *args[] = {
        "-M", "q35", "-nodefaults", "-display", "none",
        "-chardev", chardev,
        "-tpmdev", "emulator,id=tpm0,chardev=chr",
        "-device", "tpm-crb,tpmdev=tpm0", NULL
    };

    g_assert_no_error(gerr);
    expect_startup_error(args, msg);
    g_rmdir(dir);
}

static void test_swtpm_missing_capability(void)
{
    FakeSwtpm *fake = fake_swtpm_new(fake_swtpm_default_caps() &
                                     ~PTM_CAP_SET_BUFFERSIZE);
    g_autofree char *chardev = g_strdup_printf("socket,id=chr,path=%s",
                                               fake_swtpm_path(fake));
    const char *args[] = {
        "-M", "q35", "-nodefaults", "-display", "none",
        "-chardev", chardev,
        "-tpmdev", "emulator,id=tpm0,chardev=chr",
        "-device", "tpm-crb,tpmdev=tpm0", NULL
    };

    expect_startup_error(args, "tpm-emulator: TPM does not implement "
                         "minimum set of required capabilities for TPM 2");
    fake_swtpm_free(fake);
}

static void test_chardev_not_socket(void)
{
    const char *args[] = {
        "-M", "q35", "-nodefaults", "-display", "none",
        "-chardev", "null,id=chr",
        "-tpmdev", "emulator,id=tpm0,chardev=chr",
        "-device", "tpm-crb,tpmdev=tpm0", NULL
    };

    expect_startup_error(args, "tpm-emulator: chardev 'chr' is not a socket");
}

/*
 * swtpm's state is corrupted, so that CMD_INIT fails at the next reset:
 * the VM runs on with tpmSts set. Reading LOC_STATE asks the
 * backend for the established flag, which swtpm refuses with a bare
 * result while its TPM is not running: the read answers at once, and the
 * control channel stays in step. Once the state is removed (swtpm then
 * makes a new TPM), a reset serves again.
 */
static void test_swtpm_state_corrupt(void)
{
    SwtpmFixture f;
    g_autofree char *state = NULL;
    g_autofree char *err = NULL;
    gint64 t0;
    TPMProc *p;

    p = start_with_swtpm(&f);
    state = g_build_filename(f.dir, "tpm2-00.permall", NULL);
    g_assert_true(g_file_test(state, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_set_contents(state, "corrupt", -1, NULL));

    g_assert_cmpint(system_reset(p), <, 1000);
    g_assert_true(crb_tpm_sts(p));
    assert_logged_once(p, "tpm-crb: the TPM backend failed to start");
    t0 = g_get_monotonic_time();
    tpm_proc_readl(p, CRB(LOC_STATE));
    tpm_proc_readl(p, CRB(LOC_STATE));
    g_assert_cmpint(g_get_monotonic_time() - t0, <, G_USEC_PER_SEC);
    assert_qmp_alive(p);

    g_assert_cmpint(unlink(state), ==, 0);
    g_assert_cmpint(system_reset(p), <, 1000);
    g_assert_false(crb_tpm_sts(p));
    g_assert_cmphex(crb_run(p, startup, sizeof(startup)), ==, 0);
    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);
    g_assert_false(crb_tpm_sts(p));

    err = tpm_proc_stderr(p);
    g_assert_cmpuint(count_lines_with(err, "established flag"), ==, 0);
    g_assert_cmpuint(count_lines_with(err, "did not answer"), ==, 0);
    quit_with_swtpm(p, &f);
}

static void test_skip_no_swtpm(void)
{
    g_test_skip("swtpm with TPM 2 support is not installed");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    if (tpm_crb_util_swtpm_has_tpm2()) {
        g_test_add_func("/tpm-crb/fault/swtpm-sigkill-during-command",
                        test_swtpm_sigkill_during_command);
        g_test_add_func("/tpm-crb/fault/swtpm-stall-cancel",
                        test_swtpm_stall_cancel);
        g_test_add_func("/tpm-crb/fault/swtpm-stall-reset",
                        test_swtpm_stall_reset);
        g_test_add_func("/tpm-crb/fault/swtpm-stall-migrate",
                        test_swtpm_stall_migrate);
        g_test_add_func("/tpm-crb/fault/swtpm-stall-quit",
                        test_swtpm_stall_quit);
        g_test_add_func("/tpm-crb/fault/swtpm-state-corrupt",
                        test_swtpm_state_corrupt);
    } else {
        g_test_add_func("/tpm-crb/fault/swtpm", test_skip_no_swtpm);
    }
    g_test_add_func("/tpm-crb/fault/data-channel-closed",
                    test_data_channel_closed);
    g_test_add_func("/tpm-crb/fault/ctrl-channel-closed",
                    test_ctrl_channel_closed);
    g_test_add_func("/tpm-crb/fault/response-shorter-than-header",
                    test_response_shorter_than_header);
    g_test_add_func("/tpm-crb/fault/response-oversized",
                    test_response_oversized);
    g_test_add_func("/tpm-crb/fault/config/no-tpmdev", test_no_tpmdev);
    g_test_add_func("/tpm-crb/fault/config/unknown-backend-id",
                    test_unknown_backend_id);
    g_test_add_func("/tpm-crb/fault/config/two-devices", test_two_devices);
    g_test_add_func("/tpm-crb/fault/config/tpmdev-unknown-type",
                    test_tpmdev_unknown_type);
    g_test_add_func("/tpm-crb/fault/config/tpmdev-missing-id",
                    test_tpmdev_missing_id);
    g_test_add_func("/tpm-crb/fault/config/tpmdev-duplicate-id",
                    test_tpmdev_duplicate_id);
    g_test_add_func("/tpm-crb/fault/config/tpmdev-unknown-option",
                    test_tpmdev_unknown_option);
    g_test_add_func("/tpm-crb/fault/config/tpmdev-missing-chardev",
                    test_tpmdev_missing_chardev);
    g_test_add_func("/tpm-crb/fault/config/tpmdev-unknown-chardev",
                    test_tpmdev_unknown_chardev);
    g_test_add_func("/tpm-crb/fault/config/swtpm-not-listening",
                    test_swtpm_not_listening);
    g_test_add_func("/tpm-crb/fault/config/chardev-not-socket",
                    test_chardev_not_socket);
    g_test_add_func("/tpm-crb/fault/config/swtpm-missing-capability",
                    test_swtpm_missing_capability);

    /* A suite of its own, added last, so that it runs last. */
    g_test_add_func("/tpm-crb/fault/zz-cleanup/no-children-left",
                    test_no_children_left);

    return g_test_run();
}
