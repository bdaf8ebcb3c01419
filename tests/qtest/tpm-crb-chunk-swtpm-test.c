/*
 * qtest: tpm-crb in front of a real swtpm (started by the test): TPM 2
 * commands with checked results, TPM re-initialisation on system_reset,
 * and swtpm's clean exit when the emulator quits.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <signal.h>

#include "hw/acpi/tpm.h"
#include "libqtest.h"
#include "qemu/bswap.h"
#include "tpm-proc.h"
#include "tpm-crb-util.h"

#define SHA256_LEN 32

typedef struct TestState {
    char *dir;
    GPid pid;
    SocketAddress *addr;
    QTestState *qts;
} TestState;

static void test_state_start(TestState *t)
{
    g_autoptr(GError) err = NULL;

    t->dir = g_dir_make_tmp("tpm-crb-swtpm-test-XXXXXX", &err);
    g_assert_no_error(err);
    g_assert_true(tpm_crb_util_swtpm_start(t->dir, &t->pid, &t->addr, &err));
    g_assert_no_error(err);

    t->qts = qtest_initf("-M q35 " TPM_CRB_OPT_IN
                         "-chardev socket,id=chr,path=%s "
                         "-tpmdev emulator,id=dev,chardev=chr "
                         "-device tpm-crb,tpmdev=dev",
                         t->addr->u.q_unix.path);
}

static void test_state_stop(TestState *t)
{
    if (t->qts) {
        qtest_quit(t->qts);
    }
    tpm_crb_util_swtpm_kill(t->pid);
    qapi_free_SocketAddress(t->addr);
    tpm_crb_util_rmdir(t->dir);
    g_free(t->dir);
}

/*
 * The TPM2_PCR_Read response for SHA-256 PCR 10 holding digest (the
 * pcrUpdateCounter bytes are not compared).
 */
static void pcrread_response(uint8_t *rsp, size_t len,
                             const uint8_t *digest)
{
    static const uint8_t head[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x3e,     /* 62 bytes */
        0x00, 0x00, 0x00, 0x00,                 /* TPM_RC_SUCCESS */
        0x00, 0x00, 0x00, 0x00,                 /* pcrUpdateCounter */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x0b,     /* one SHA-256 bank */
        0x03, 0x00, 0x04, 0x00,                 /* PCR 10 */
        0x00, 0x00, 0x00, 0x01,                 /* one digest */
        0x00, 0x20,                             /* of 32 bytes */
    };

    g_assert_cmpuint(len, ==, sizeof(head) + SHA256_LEN);
    memcpy(rsp, head, sizeof(head));
    memcpy(rsp + sizeof(head), digest, SHA256_LEN);
}

/* PCR 10 after one extend from zero: SHA-256(0^32 || "test" 0^28). */
static void expected_pcr10(uint8_t *digest)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    uint8_t zeros[SHA256_LEN] = { 0 };
    uint8_t ext[SHA256_LEN] = { 't', 'e', 's', 't' };
    gsize len = SHA256_LEN;

    g_checksum_update(sum, zeros, sizeof(zeros));
    g_checksum_update(sum, ext, sizeof(ext));
    g_checksum_get_digest(sum, digest, &len);
    g_assert_cmpuint(len, ==, SHA256_LEN);
}

static void get_random(QTestState *qts)
{
    static const uint8_t cmd[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0c,
        0x00, 0x00, 0x01, 0x7b,                 /* TPM_CC_GetRandom */
        0x00, 0x10,                             /* 16 bytes */
    };
    static const uint8_t head[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x1c,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
    };
    static const uint8_t zeros[16];
    uint8_t rsp[sizeof(head) + 16];

    tpm_crb_util_crb_transfer(qts, cmd, sizeof(cmd), rsp, sizeof(rsp));
    g_assert_cmpmem(rsp, sizeof(head), head, sizeof(head));
    g_assert_true(memcmp(rsp + sizeof(head), zeros, sizeof(zeros)) != 0);
}

static void test_swtpm_commands(void)
{
    uint8_t digest[SHA256_LEN], rsp[62];
    TestState t = { 0 };

    test_state_start(&t);

    tpm_crb_util_startup(t.qts, tpm_crb_util_crb_transfer);
    tpm_crb_util_pcrextend(t.qts, tpm_crb_util_crb_transfer);
    expected_pcr10(digest);
    pcrread_response(rsp, sizeof(rsp), digest);
    tpm_crb_util_pcrread(t.qts, tpm_crb_util_crb_transfer, rsp, sizeof(rsp));
    get_random(t.qts);

    test_state_stop(&t);
}

static void test_swtpm_system_reset(void)
{
    static const uint8_t zeros[SHA256_LEN];
    uint8_t digest[SHA256_LEN], rsp[62];
    TestState t = { 0 };
    gint64 deadline;

    test_state_start(&t);

    tpm_crb_util_startup(t.qts, tpm_crb_util_crb_transfer);
    tpm_crb_util_pcrextend(t.qts, tpm_crb_util_crb_transfer);
    expected_pcr10(digest);
    pcrread_response(rsp, sizeof(rsp), digest);
    tpm_crb_util_pcrread(t.qts, tpm_crb_util_crb_transfer, rsp, sizeof(rsp));

    /*
     * The transfer left locality 0 assigned; the device reset clears it,
     * which tells us the reset (and the TPM's CMD_INIT) has happened.
     */
    g_assert_cmpint(qtest_readl(t.qts, TPM_CRB_ADDR_BASE + A_CRB_LOC_STATE)
                    & R_CRB_LOC_STATE_locAssigned_MASK, !=, 0);
    qtest_qmp_assert_success(t.qts, "{'execute': 'system_reset'}");
    deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (qtest_readl(t.qts, TPM_CRB_ADDR_BASE + A_CRB_LOC_STATE) &
           R_CRB_LOC_STATE_locAssigned_MASK) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }

    /* Startup is accepted again, and the PCRs start from zero. */
    tpm_crb_util_startup(t.qts, tpm_crb_util_crb_transfer);
    pcrread_response(rsp, sizeof(rsp), zeros);
    tpm_crb_util_pcrread(t.qts, tpm_crb_util_crb_transfer, rsp, sizeof(rsp));
    get_random(t.qts);

    test_state_stop(&t);
}

static void test_swtpm_quit(void)
{
    TestState t = { 0 };

    test_state_start(&t);
    tpm_crb_util_startup(t.qts, tpm_crb_util_crb_transfer);

    qtest_quit(t.qts);
    t.qts = NULL;
    /* The backend sent CMD_SHUTDOWN: swtpm exits by itself. */
    g_assert_true(tpm_crb_util_swtpm_wait_exit(t.pid, 10000));
    t.pid = 0;

    test_state_stop(&t);
}

/*
 * The documented command line, started as is and driven by a plain qtest
 * client on a raw socket: no libqtest, no QMP, no other set-up.
 */
static void test_plain_qtest_client(void)
{
    static const uint8_t cmd[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0c,
        0x00, 0x00, 0x01, 0x7b, 0x00, 0x08,     /* GetRandom(8) */
    };
    static const uint8_t startup[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0c,
        0x00, 0x00, 0x01, 0x44, 0x00, 0x00,     /* Startup(CLEAR) */
    };
    const uint64_t base = TPM_CRB_ADDR_BASE;
    g_autoptr(GError) err = NULL;
    g_autoptr(GString) in = g_string_new("");
    g_autofree char *dir = g_dir_make_tmp("tpm-crb-plain-XXXXXX", &err);
    g_autofree char *qsock = g_build_filename(dir, "qtest", NULL);
    g_autofree char *chardev = NULL, *qtest = NULL;
    g_autoptr(SocketAddress) addr = NULL;
    const uint8_t *step;
    uint8_t rsp[18];
    TPMProc *p;
    GPid pid;
    int fd;

    g_assert_no_error(err);
    g_assert_true(tpm_crb_util_swtpm_start(dir, &pid, &addr, &err));
    g_assert_no_error(err);
    chardev = g_strdup_printf("socket,id=chr,path=%s", addr->u.q_unix.path);
    qtest = g_strdup_printf("unix:%s,server=on,wait=off", qsock);
    {
        const char *args[] = {
            "-M", "q35", TPM_CRB_OPT_IN_ARGV, "-chardev", chardev,
            "-tpmdev", "emulator,id=tpm0,chardev=chr",
            "-device", "tpm-crb,tpmdev=tpm0",
            "-qtest", qtest, "-nodefaults", "-display", "none", NULL
        };

        p = tpm_proc_spawn(g_getenv("QTEST_QEMU_BINARY"), args,
                           false);
    }
    fd = tpm_proc_connect_unix(qsock, 30000);
    g_assert_cmpint(fd, >=, 0);

    g_assert_cmphex(tpm_qtest_readl(fd, in, base + A_CRB_INTF_ID2), ==,
                    0x1014);
    g_assert_cmphex(tpm_qtest_readl(fd, in, base + A_CRB_CTRL_CMD_LADDR), ==,
                    base + A_CRB_DATA_BUFFER);
    tpm_qtest_writel(fd, in, base + A_CRB_LOC_CTRL, 1);
    g_assert_cmphex(tpm_qtest_readl(fd, in, base + A_CRB_LOC_STS) & 1, ==, 1);

    for (step = startup; step; step = step == startup ? cmd : NULL) {
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

        tpm_qtest_memwrite(fd, in, base + A_CRB_DATA_BUFFER, step,
                           sizeof(cmd));
        tpm_qtest_writel(fd, in, base + A_CRB_CTRL_START, 1);
        while (tpm_qtest_readl(fd, in, base + A_CRB_CTRL_START) & 1) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            g_usleep(1000);
        }
        tpm_qtest_memread(fd, in, base + A_CRB_DATA_BUFFER, rsp,
                          sizeof(rsp));
        g_assert_cmphex(ldl_be_p(rsp + 6), ==, 0);
    }
    /* GetRandom(8): 10 + 2 + 8 bytes, TPM2B of 8 bytes. */
    g_assert_cmphex(ldl_be_p(rsp + 2), ==, 20);
    g_assert_cmphex(lduw_be_p(rsp + 10), ==, 8);

    close(fd);
    g_subprocess_send_signal(p->proc, SIGTERM);
    g_assert_true(tpm_proc_wait(p, 30000));
    g_assert_cmpint(p->exit_status, ==, 0);
    tpm_proc_free(p);
    tpm_crb_util_swtpm_wait_exit(pid, 10000);
    tpm_crb_util_swtpm_kill(pid);
    tpm_crb_util_rmdir(dir);
}

static void test_skip(void)
{
    g_test_skip("swtpm with TPM 2 support is not installed");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    if (!tpm_crb_util_swtpm_has_tpm2()) {
        g_test_add_func("/tpm-crb/swtpm", test_skip);
        return g_test_run();
    }

    g_test_add_func("/tpm-crb/swtpm/commands", test_swtpm_commands);
    g_test_add_func("/tpm-crb/swtpm/system-reset", test_swtpm_system_reset);
    g_test_add_func("/tpm-crb/swtpm/quit-stops-swtpm", test_swtpm_quit);
    g_test_add_func("/tpm-crb/swtpm/plain-qtest-client",
                    test_plain_qtest_client);

    return g_test_run();
}
