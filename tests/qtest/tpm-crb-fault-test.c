/*
 * qtest: tpm-crb with a failing swtpm. A killed, stalled or half-closed
 * swtpm must not hang or kill the emulator: the command completes with
 * tpmSts = 1, one clear error line, QMP keeps answering, quit exits 0.
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

/* The emulator with a tpm-crb on the swtpm control socket at sock. */
static TPMProc *start_emulator(const char *sock)
{
    g_autofree char *chardev = g_strdup_printf("socket,id=chr,path=%s",
                                               sock);
    const char *args[] = {
        "-M", "q35", "-nodefaults", "-display", "none",
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

static void assert_qmp_alive(TPMProc *p)
{
    QDict *rsp = tpm_proc_qmp(p, "{'execute': 'query-status'}");

    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
}

typedef struct SwtpmFixture {
    char *dir;
    GPid pid;
    SocketAddress *addr;
} SwtpmFixture;

static void swtpm_fixture_start(SwtpmFixture *f)
{
    g_autoptr(GError) err = NULL;

    f->dir = g_dir_make_tmp("tpm-crb-fault-XXXXXX", &err);
    g_assert_no_error(err);
    g_assert_true(tpm_crb_util_swtpm_start(f->dir, &f->pid, &f->addr, &err));
    g_assert_no_error(err);
}

static void swtpm_fixture_stop(SwtpmFixture *f)
{
    tpm_crb_util_swtpm_kill(f->pid);
    qapi_free_SocketAddress(f->addr);
    tpm_crb_util_rmdir(f->dir);
    g_free(f->dir);
}

static void test_swtpm_sigkill_during_command(void)
{
    SwtpmFixture f;
    g_autofree char *err = NULL;
    TPMProc *p;

    swtpm_fixture_start(&f);
    p = start_emulator(f.addr->u.q_unix.path);
    g_assert_cmphex(crb_run(p, startup, sizeof(startup)), ==, 0);

    /* Stop swtpm so that the command is surely in flight when it dies. */
    kill(f.pid, SIGSTOP);
    crb_start(p, get_random, sizeof(get_random));
    g_usleep(200 * 1000);
    g_assert_cmpint(tpm_proc_readl(p, CRB(CTRL_START)) & 1, ==, 1);
    kill(f.pid, SIGKILL);
    g_assert_cmpint(RETRY_ON_EINTR(waitpid(f.pid, NULL, 0)), ==, f.pid);
    f.pid = 0;

    g_assert_true(crb_wait(p, 30000));
    g_assert_cmpint(tpm_proc_readl(p, CRB(CTRL_STS)) & 1, ==, 1);

    err = tpm_proc_stderr(p);
    g_assert_cmpuint(count_lines_with(err, "tpm-emulator:"), ==, 1);
    g_assert_nonnull(strstr(err, "closed the data channel"));

    assert_qmp_alive(p);
    g_assert_cmpint(tpm_proc_quit(p), ==, 0);

    tpm_proc_free(p);
    swtpm_fixture_stop(&f);
}

static void test_swtpm_stall_cancel(void)
{
    SwtpmFixture f;
    g_autofree char *err = NULL;
    uint8_t rsp[10];
    gint64 t0;
    TPMProc *p;
    uint32_t rc;

    swtpm_fixture_start(&f);
    p = start_emulator(f.addr->u.q_unix.path);
    g_assert_cmphex(crb_run(p, startup, sizeof(startup)), ==, 0);

    kill(f.pid, SIGSTOP);
    crb_start(p, get_random, sizeof(get_random));
    g_usleep(200 * 1000);
    g_assert_cmpint(tpm_proc_readl(p, CRB(CTRL_START)) & 1, ==, 1);

    /* The guest's cancel must not stall on the stopped swtpm. */
    t0 = g_get_monotonic_time();
    tpm_proc_writel(p, CRB(CTRL_CANCEL), 1);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC);
    assert_qmp_alive(p);
    g_assert_cmpint(tpm_proc_readl(p, CRB(CTRL_START)) & 1, ==, 1);

    kill(f.pid, SIGCONT);
    g_assert_true(crb_wait(p, 30000));
    tpm_proc_writel(p, CRB(CTRL_CANCEL), 0);
    g_assert_cmpint(tpm_proc_readl(p, CRB(CTRL_STS)) & 1, ==, 0);
    tpm_qtest_memread(p->qtest_fd, p->qtest_in, CRB_WINDOW, rsp,
                      sizeof(rsp));
    rc = ldl_be_p(rsp + 6);
    /* libtpms may finish GetRandom or report TPM_RC_CANCELED. */
    g_assert_true(rc == 0 || rc == 0x909);

    /* The late cancel reply must not confuse later control traffic. */
    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);

    err = tpm_proc_stderr(p);
    g_assert_cmpuint(count_lines_with(err, "tpm-emulator:"), ==, 0);

    g_assert_cmpint(tpm_proc_quit(p), ==, 0);
    /* CMD_SHUTDOWN at quit got through: swtpm exits on its own. */
    g_assert_true(tpm_crb_util_swtpm_wait_exit(f.pid, 10000));
    f.pid = 0;

    tpm_proc_free(p);
    swtpm_fixture_stop(&f);
}

static void test_data_channel_closed(void)
{
    FakeSwtpm *fake = fake_swtpm_new(fake_swtpm_default_caps());
    TPMProc *p = start_emulator(fake_swtpm_path(fake));
    g_autofree char *err = NULL;

    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);
    g_assert_cmpint(tpm_proc_readl(p, CRB(CTRL_STS)) & 1, ==, 0);

    fake_swtpm_close_data(fake);
    crb_start(p, get_random, sizeof(get_random));
    g_assert_true(crb_wait(p, 30000));
    g_assert_cmpint(tpm_proc_readl(p, CRB(CTRL_STS)) & 1, ==, 1);

    err = tpm_proc_stderr(p);
    g_assert_cmpuint(count_lines_with(err, "tpm-emulator:"), ==, 1);
    g_assert_nonnull(strstr(err, "closed the data channel"));

    assert_qmp_alive(p);
    g_assert_cmpint(tpm_proc_quit(p), ==, 0);
    tpm_proc_free(p);
    fake_swtpm_free(fake);
}

static void test_ctrl_channel_closed(void)
{
    FakeSwtpm *fake = fake_swtpm_new(fake_swtpm_default_caps());
    TPMProc *p = start_emulator(fake_swtpm_path(fake));
    g_autofree char *err = NULL;

    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);
    fake_swtpm_close_ctrl(fake);

    /* The data channel still works without the control channel. */
    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);
    g_assert_cmpint(tpm_proc_readl(p, CRB(CTRL_STS)) & 1, ==, 0);
    g_assert_cmpuint(fake_swtpm_commands(fake), >=, 2);
    assert_qmp_alive(p);

    /* quit cannot send CMD_SHUTDOWN: say so, but exit normally. */
    g_assert_cmpint(tpm_proc_quit(p), ==, 0);
    err = tpm_proc_stderr(p);
    g_assert_nonnull(strstr(err, "tpm-emulator: could not shut swtpm down"));
    tpm_proc_free(p);
    fake_swtpm_free(fake);
}

/*
 * The data channel delivers a response whose header declares 64 bytes,
 * then nothing more: after the backend's data timeout the command fails
 * like any broken backend (SPEC §4: tpmSts = 1, Start cleared, one error
 * line). Later commands are still attempted and succeed, tpmSts stays 1
 * until reset, and a system_reset clears it.
 */
static void test_response_shorter_than_header(void)
{
    FakeSwtpm *fake = fake_swtpm_new(fake_swtpm_default_caps());
    TPMProc *p = start_emulator(fake_swtpm_path(fake));
    g_autofree char *err = NULL;
    QDict *rsp;
    gint64 deadline;

    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);

    fake_swtpm_short_response(fake, 64);
    crb_start(p, get_random, sizeof(get_random));
    g_assert_true(crb_wait(p, 30000));
    g_assert_cmpint(tpm_proc_readl(p, CRB(CTRL_STS)) & 1, ==, 1);
    assert_qmp_alive(p);

    err = tpm_proc_stderr(p);
    g_assert_cmpuint(count_lines_with(err, "tpm-emulator:"), ==, 1);
    g_assert_nonnull(strstr(err, "response cut short after 10 of 64 bytes"));

    /* A restarted (here: repaired) backend is used again. */
    fake_swtpm_short_response(fake, 0);
    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);
    g_assert_cmpint(tpm_proc_readl(p, CRB(CTRL_STS)) & 1, ==, 1);

    rsp = tpm_proc_qmp(p, "{'execute': 'system_reset'}");
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (tpm_proc_readl(p, CRB(CTRL_STS)) & 1) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }
    g_assert_cmphex(crb_run(p, get_random, sizeof(get_random)), ==, 0);

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

    expect_startup_error(args, "tpm-emulator: TPM does not implement the "
                         "capabilities required for TPM 2: missing "
                         "SET_BUFFERSIZE");
    fake_swtpm_free(fake);
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
    } else {
        g_test_add_func("/tpm-crb/fault/swtpm", test_skip_no_swtpm);
    }
    g_test_add_func("/tpm-crb/fault/data-channel-closed",
                    test_data_channel_closed);
    g_test_add_func("/tpm-crb/fault/ctrl-channel-closed",
                    test_ctrl_channel_closed);
    g_test_add_func("/tpm-crb/fault/response-shorter-than-header",
                    test_response_shorter_than_header);
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
    g_test_add_func("/tpm-crb/fault/config/swtpm-missing-capability",
                    test_swtpm_missing_capability);

    /* A suite of its own, added last, so that it runs last. */
    g_test_add_func("/tpm-crb/fault/zz-cleanup/no-children-left",
                    test_no_children_left);

    return g_test_run();
}
