/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * qtest: random guest traffic against tpm-crb and a real swtpm.
 *
 * For TPM_CRB_RANDOM_SECONDS per window (default 15: 30 s in all) the
 * test writes and reads every register at every access size (aligned or
 * not), writes plausible and absurd command headers and payloads into
 * the data window, and sets Start, nextChunk, crbRspRetry, cancel,
 * cmdReady, goIdle and the locality bits in any order. swtpm answers
 * every command it gets (with an error code if it must), so the device
 * must never report a backend failure (tpmSts), nextChunk and
 * crbRspRetry must never stick, QMP must keep answering; at the end
 * system_reset must answer within a second
 * (the 7.2 peer hangs its reset here) and bring the registers back, an
 * ordinary command must succeed, and quit must exit 0.
 *
 * The seed is printed; TPM_CRB_RANDOM_SEED=N replays a run (the same
 * operations; swtpm's timing may differ). Two windows are used: the full
 * 3968 bytes (swtpm's 4096-byte buffer is larger, so chunking is on and
 * rarely needed) and 64 bytes (many chunks per command).
 */

#include "qemu/osdep.h"
#include "hw/acpi/tpm.h"
#include "libqtest.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "system/tpm_util.h"
#include "tpm-crb-util.h"

#define CRB(reg) (TPM_CRB_ADDR_BASE + A_CRB_##reg)
#define CRB_WINDOW (TPM_CRB_ADDR_BASE + A_CRB_DATA_BUFFER)

typedef struct RandomStats {
    unsigned ops;
    unsigned starts;
    unsigned completed;
    unsigned qmp;
} RandomStats;

/* Headers of real commands, so that swtpm runs some of them for real. */
static const uint8_t known_cmds[][12] = {
    /* TPM2_GetRandom(16) */
    { 0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0x00, 0x10 },
    /* TPM2_Startup(SU_CLEAR) */
    { 0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0x00, 0x00 },
    /* TPM2_SelfTest(full) (11 bytes, the last one ignored) */
    { 0x80, 0x01, 0, 0, 0, 0x0b, 0, 0, 0x01, 0x43, 0x01, 0x00 },
};

static unsigned env_uint(const char *name, unsigned dflt)
{
    const char *v = g_getenv(name);

    return v && *v ? (unsigned)g_ascii_strtoull(v, NULL, 0) : dflt;
}

/* A declared size: mostly plausible, sometimes absurd. */
static uint32_t random_size(GRand *r, uint32_t w)
{
    switch (g_rand_int_range(r, 0, 8)) {
    case 0:
        return g_rand_int_range(r, 0, 10);
    case 1:
        return g_rand_int_range(r, 10, 64);
    case 2:
        return w + g_rand_int_range(r, -2, 3);
    case 3:
        return g_rand_int_range(r, 10, 3 * w + 1);
    case 4:
        return 4096 + g_rand_int_range(r, -2, 3);
    case 5:
        return g_rand_int(r);
    default:
        return 12;
    }
}

static void write_header(QTestState *qts, GRand *r, uint32_t w)
{
    uint8_t hdr[12];

    if (g_rand_boolean(r)) {
        memcpy(hdr, known_cmds[g_rand_int_range(r, 0,
                                                G_N_ELEMENTS(known_cmds))],
               sizeof(hdr));
    } else {
        stw_be_p(hdr, g_rand_boolean(r) ? 0x8001 : g_rand_int(r));
        stl_be_p(hdr + 2, random_size(r, w));
        stl_be_p(hdr + 6, g_rand_boolean(r) ? 0x17b : g_rand_int(r));
        stw_be_p(hdr + 10, g_rand_int(r));
    }
    qtest_memwrite(qts, CRB_WINDOW, hdr, sizeof(hdr));
}

/* Any access of any size at any offset of the register block. */
static void random_register_access(QTestState *qts, GRand *r)
{
    uint64_t addr = TPM_CRB_ADDR_BASE + g_rand_int_range(r, 0, 0x88);
    uint64_t val = g_rand_boolean(r) ? 1u << g_rand_int_range(r, 0, 4)
                                     : ((uint64_t)g_rand_int(r) << 32 |
                                        g_rand_int(r));
    bool write = g_rand_int_range(r, 0, 3) == 0;

    switch (g_rand_int_range(r, 0, 4)) {
    case 0:
        write ? qtest_writeb(qts, addr, val) : (void)qtest_readb(qts, addr);
        break;
    case 1:
        write ? qtest_writew(qts, addr, val) : (void)qtest_readw(qts, addr);
        break;
    case 2:
        write ? qtest_writel(qts, addr, val) : (void)qtest_readl(qts, addr);
        break;
    default:
        write ? qtest_writeq(qts, addr, val) : (void)qtest_readq(qts, addr);
        break;
    }
}

static void random_op(QTestState *qts, GRand *r, uint32_t w,
                      RandomStats *st)
{
    uint8_t junk[64];
    unsigned i;

    switch (g_rand_int_range(r, 0, 12)) {
    case 0:
    case 1:
        random_register_access(qts, r);
        break;
    case 2:
    case 3:
        write_header(qts, r, w);
        break;
    case 4:
        qtest_writel(qts, CRB(CTRL_START), 1);
        st->starts++;
        break;
    case 5:
    case 6:
        qtest_writel(qts, CRB(CTRL_START), 4);
        break;
    case 7:
        qtest_writel(qts, CRB(CTRL_START), g_rand_int_range(r, 0, 8));
        break;
    case 8:
        qtest_writel(qts, CRB(CTRL_CANCEL), g_rand_int_range(r, 0, 2));
        break;
    case 9:
        qtest_writel(qts, CRB(CTRL_REQ), g_rand_int_range(r, 0, 4));
        break;
    case 10:
        qtest_writel(qts, CRB(LOC_CTRL), g_rand_boolean(r) ? 1 : 2);
        break;
    default:
        for (i = 0; i < sizeof(junk); i++) {
            junk[i] = g_rand_int(r);
        }
        qtest_memwrite(qts, CRB_WINDOW + g_rand_int_range(r, 0, w - 63),
                       junk, g_rand_int_range(r, 1, sizeof(junk) + 1));
        break;
    }
}

static void check_registers(QTestState *qts)
{
    uint32_t start = qtest_readl(qts, CRB(CTRL_START));

    /* nextChunk and crbRspRetry are acted on before the write returns. */
    g_assert_cmphex(start & ~1u, ==, 0);
    /* swtpm answers everything: no backend failure. */
    g_assert_cmphex(qtest_readl(qts, CRB(CTRL_STS)) & 1, ==, 0);
}

/* Bounded: a cancel ends a long command (key generation) quickly. */
static void wait_start_clear(QTestState *qts, RandomStats *st)
{
    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    bool cancelled = false;

    while (qtest_readl(qts, CRB(CTRL_START)) & 1) {
        if (!cancelled && g_get_monotonic_time() >
            deadline - 50 * G_USEC_PER_SEC) {
            qtest_writel(qts, CRB(CTRL_CANCEL), 1);
            cancelled = true;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }
    st->completed++;
}

static void assert_qmp_running(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-status' }");

    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
}

/* An ordinary command, as a driver sends it (whole, or in chunks). */
static uint32_t ordinary_command(QTestState *qts, const uint8_t *cmd,
                                 size_t len, uint32_t w, RandomStats *st)
{
    uint8_t rsp[TPM_HEADER_SIZE];
    size_t off;

    qtest_writel(qts, CRB(LOC_CTRL), 1);
    qtest_writel(qts, CRB(CTRL_REQ), 1);
    qtest_writel(qts, CRB(CTRL_CANCEL), 0);
    for (off = 0; len - off > w; off += w) {
        qtest_memwrite(qts, CRB_WINDOW, cmd + off, w);
        qtest_writel(qts, CRB(CTRL_START), 4);
    }
    qtest_memwrite(qts, CRB_WINDOW, cmd + off, len - off);
    qtest_writel(qts, CRB(CTRL_START), 1);
    wait_start_clear(qts, st);
    qtest_memread(qts, CRB_WINDOW, rsp, sizeof(rsp));
    g_assert_cmphex(lduw_be_p(rsp), ==, 0x8001);
    return ldl_be_p(rsp + 6);
}

static void run_random(uint32_t window)
{
    g_autofree char *dir = g_dir_make_tmp("tpm-crb-random-XXXXXX", NULL);
    g_autoptr(SocketAddress) addr = NULL;
    g_autoptr(GError) err = NULL;
    unsigned seconds = env_uint("TPM_CRB_RANDOM_SECONDS", 15);
    guint32 seed = env_uint("TPM_CRB_RANDOM_SEED", g_random_int());
    g_autoptr(GRand) r = g_rand_new_with_seed(seed);
    RandomStats st = { 0 };
    gint64 end, t_reset;
    QTestState *qts;
    GPid pid;
    uint32_t rc;

    g_test_message("seed %u (replay: TPM_CRB_RANDOM_SEED=%u), window %u, "
                   "%u s", seed, seed, window, seconds);
    g_assert_nonnull(dir);
    g_assert_true(tpm_crb_util_swtpm_start(dir, &pid, &addr, &err));
    g_assert_no_error(err);
    qts = qtest_initf("-M q35 -nodefaults " TPM_CRB_OPT_IN
                      "-chardev socket,id=chr,path=%s "
                      "-tpmdev emulator,id=dev,chardev=chr "
                      "-device tpm-crb,tpmdev=dev,x-data-buffer-size=%u",
                      addr->u.q_unix.path, window);

    end = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < end) {
        random_op(qts, r, window, &st);
        st.ops++;
        if (st.ops % 64 == 0) {
            check_registers(qts);
        }
        if (st.ops % 1024 == 0) {
            assert_qmp_running(qts);
            st.qmp++;
        }
        /* Let most commands finish, so that swtpm really runs them. */
        if (g_rand_int_range(r, 0, 16) == 0) {
            wait_start_clear(qts, &st);
        }
    }
    wait_start_clear(qts, &st);
    check_registers(qts);
    assert_qmp_running(qts);

    /* system_reset brings the registers back. */
    t_reset = g_get_monotonic_time();
    qtest_qmp_assert_success(qts, "{ 'execute': 'system_reset' }");
    t_reset = g_get_monotonic_time() - t_reset;
    g_test_message("system_reset answered in %" PRId64 " us", t_reset);
    g_assert_cmpint(t_reset, <, G_USEC_PER_SEC);
    g_assert_cmphex(qtest_readl(qts, CRB(CTRL_STS)), ==, 0x2);
    g_assert_cmphex(qtest_readl(qts, CRB(CTRL_START)), ==, 0);
    g_assert_cmphex(qtest_readl(qts, CRB(CTRL_CMD_SIZE)), ==, window);

    /* After the reset swtpm wants TPM2_Startup first, like a real TPM. */
    rc = ordinary_command(qts, known_cmds[1], 12, window, &st);
    g_assert_true(rc == 0 || rc == 0x100);
    g_assert_cmphex(ordinary_command(qts, known_cmds[0], 12, window, &st),
                    ==, 0);
    check_registers(qts);

    g_test_message("%u operations, %u Start writes, %u commands waited "
                   "for, %u QMP round trips", st.ops, st.starts,
                   st.completed, st.qmp);
    qtest_quit(qts);
    tpm_crb_util_swtpm_kill(pid);
    tpm_crb_util_rmdir(dir);
}

static void test_random_full_window(void)
{
    run_random(TPM_CRB_DATA_BUFFER_SIZE);
}

static void test_random_small_window(void)
{
    run_random(64);
}

static void test_skip_no_swtpm(void)
{
    g_test_skip("swtpm with TPM 2 support is not installed");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    if (!tpm_crb_util_swtpm_has_tpm2()) {
        qtest_add_func("/tpm-crb/random/swtpm", test_skip_no_swtpm);
        return g_test_run();
    }
    qtest_add_func("/tpm-crb/random/full-window", test_random_full_window);
    qtest_add_func("/tpm-crb/random/small-window", test_random_small_window);
    return g_test_run();
}
