/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * qtest: differential test of tpm-crb without chunking against stock
 * QEMU: the same base without the series (QEMU 10.2.2, TPM_CRB_STOCK_QEMU,
 * on pc-q35-10.2, both with the qtest accelerator) and Debian 12's QEMU (7.2)
 * (-accel tcg -S: it has no qtest accelerator). Each drives its own fresh
 * swtpm of the same version; the register reads and the TPM transcripts
 * must be identical bytes, the random bytes of TPM2_GetRandom aside.
 *
 * The random part drives both the patched QEMU (chunking off, the
 * default) and the stock peer with the same seeded sequence of MMIO:
 * reads and writes of every register offset at sizes 1, 2 and 4 with any
 * value, window writes, well-formed and malformed commands, goIdle and
 * cancel while a command executes, resets. Every read must match, except
 * for the fixes this series makes on purpose, each by name:
 *
 * - "short-command": a command whose header declares fewer bytes than a
 *   header. Stock hands it to swtpm, which waits for the rest: the
 *   device stays busy (invoke = 1) forever and not even a reset ends it.
 *   This QEMU answers TPM_RC_COMMAND_SIZE itself. A session that writes
 *   one ends there (the stock side is wedged).
 * - "oversized-command": a command whose header declares more than the
 *   window. Stock hands the TPM the window's worth, and the TPM's answer
 *   depends on what it checks first (TPM_RC_COMMAND_SIZE before
 *   TPM2_Startup, often TPM_RC_VALUE after it); this QEMU answers
 *   TPM_RC_COMMAND_SIZE itself. The 10 bytes of the answer may differ;
 *   the test then writes the same bytes into both windows and goes on.
 * - "oversized-response" (the bounded backend read) and "reset-restart"
 *   (a reset whose TPM start fails) need a misbehaving swtpm; they are
 *   covered by tpm-crb-abi-test and tpm-crb-fault-test, not here.
 */

#include "qemu/osdep.h"

#include "hw/acpi/tpm.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "libqtest.h"
#include "system/tpm_util.h"
#include "tpm-proc.h"
#include "tpm-crb-util.h"

#define PEER_QEMU "/usr/bin/qemu-system-x86_64"
#define CRB(reg) (TPM_CRB_ADDR_BASE + A_CRB_##reg)
#define CRB_WINDOW (TPM_CRB_ADDR_BASE + A_CRB_DATA_BUFFER)

typedef struct Cmd {
    const char *name;
    const uint8_t *bytes;
    size_t len;
    /* Response bytes from here on are random and not compared. */
    size_t random_from;
} Cmd;

static const uint8_t cmd_startup[] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44, 0x00, 0x00,
};
static const uint8_t cmd_pcr_extend[] = {
    0x80, 0x02, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x01, 0x82,
    0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x09,
    0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x0b,
    'd', 'i', 'f', 'f', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
static const uint8_t cmd_pcr_read[] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x01, 0x7e,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x0b, 0x03, 0x00, 0x04, 0x00,
};
static const uint8_t cmd_get_random[] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x7b, 0x00, 0x20,
};
/* TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES, TPM_PT_FIXED, 16) */
static const uint8_t cmd_get_cap[] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x01, 0x7a,
    0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x10,
};
/* A command the TPM rejects: an unknown command code. */
static const uint8_t cmd_bad_cc[] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x7f, 0xff,
};

static const Cmd cmds[] = {
    { "Startup", cmd_startup, sizeof(cmd_startup), SIZE_MAX },
    { "PCR_Extend", cmd_pcr_extend, sizeof(cmd_pcr_extend), SIZE_MAX },
    { "PCR_Read", cmd_pcr_read, sizeof(cmd_pcr_read), SIZE_MAX },
    { "GetRandom", cmd_get_random, sizeof(cmd_get_random), 12 },
    { "GetCapability", cmd_get_cap, sizeof(cmd_get_cap), SIZE_MAX },
    { "BadCommandCode", cmd_bad_cc, sizeof(cmd_bad_cc), SIZE_MAX },
};

static const struct {
    const char *name;
    uint32_t offset;
} regs[] = {
    { "LOC_STATE", A_CRB_LOC_STATE },
    { "LOC_CTRL", A_CRB_LOC_CTRL },
    { "LOC_STS", A_CRB_LOC_STS },
    { "INTF_ID", A_CRB_INTF_ID },
    { "INTF_ID2", A_CRB_INTF_ID2 },
    { "CTRL_EXT", A_CRB_CTRL_EXT },
    { "CTRL_REQ", A_CRB_CTRL_REQ },
    { "CTRL_STS", A_CRB_CTRL_STS },
    { "CTRL_CANCEL", A_CRB_CTRL_CANCEL },
    { "CTRL_START", A_CRB_CTRL_START },
    { "INT_ENABLED", A_CRB_INT_ENABLED },
    { "INT_STS", A_CRB_INT_STS },
    { "CMD_SIZE", A_CRB_CTRL_CMD_SIZE },
    { "CMD_LADDR", A_CRB_CTRL_CMD_LADDR },
    { "CMD_HADDR", A_CRB_CTRL_CMD_HADDR },
    { "RSP_SIZE", A_CRB_CTRL_RSP_SIZE },
    { "RSP_ADDR_LO", A_CRB_CTRL_RSP_ADDR },
    { "RSP_ADDR_HI", A_CRB_CTRL_RSP_ADDR + 4 },
};

static void dump_regs(TPMProc *p, GString *t, const char *when)
{
    size_t i;

    g_string_append_printf(t, "[%s]", when);
    for (i = 0; i < ARRAY_SIZE(regs); i++) {
        g_string_append_printf(t, " %s=0x%08x", regs[i].name,
                               tpm_proc_readl(p, TPM_CRB_ADDR_BASE +
                                              regs[i].offset));
    }
    g_string_append_c(t, '\n');
}

static void run_cmd(TPMProc *p, GString *t, const Cmd *c)
{
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    uint8_t rsp[TPM_CRB_DATA_BUFFER_SIZE];
    uint32_t len;
    size_t i;

    tpm_qtest_memwrite(p->qtest_fd, p->qtest_in, CRB_WINDOW, c->bytes,
                       c->len);
    tpm_proc_writel(p, CRB(CTRL_START), 1);
    while (tpm_proc_readl(p, CRB(CTRL_START)) & 1) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }

    tpm_qtest_memread(p->qtest_fd, p->qtest_in, CRB_WINDOW, rsp, 10);
    len = MIN(ldl_be_p(rsp + 2), sizeof(rsp));
    g_assert_cmpuint(len, >=, 10);
    tpm_qtest_memread(p->qtest_fd, p->qtest_in, CRB_WINDOW, rsp, len);

    g_string_append_printf(t, "%s (%u bytes):", c->name, len);
    for (i = 0; i < len; i++) {
        if (i >= c->random_from) {
            g_string_append(t, " ??");
        } else {
            g_string_append_printf(t, " %02x", rsp[i]);
        }
    }
    g_string_append_c(t, '\n');
    dump_regs(p, t, c->name);
}

typedef struct Peer {
    const char *machine;
    const char *devopts;
    /* the 7.2 peer: no qtest accelerator, a stopped TCG instead */
    bool tcg_stopped;
} Peer;

/* Run the whole script on binary and return the transcript. */
static char *transcript(const char *binary, const Peer *peer)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("tpm-crb-diff-XXXXXX", &err);
    g_autofree char *chardev = NULL;
    g_autoptr(SocketAddress) addr = NULL;
    GString *t = g_string_new("");
    TPMProc *p;
    GPid pid;
    size_t i;

    g_assert_no_error(err);
    g_assert_true(tpm_crb_util_swtpm_start(dir, &pid, &addr, &err));
    g_assert_no_error(err);
    chardev = g_strdup_printf("socket,id=chr,path=%s", addr->u.q_unix.path);

    {
        g_autofree char *device = g_strdup_printf("tpm-crb,tpmdev=tpm0%s",
                                                  peer->devopts);
        /* 7.2 has no qtest accelerator; -S keeps its firmware away. */
        const char *args[] = {
            "-M", peer->machine, "-nodefaults", "-display", "none",
            "-chardev", chardev, "-tpmdev", "emulator,id=tpm0,chardev=chr",
            "-device", device,
            peer->tcg_stopped ? "-accel" : NULL, "tcg", "-S", NULL
        };

        p = tpm_proc_spawn(binary, args, true);
    }
    tpm_proc_connect(p, true);

    dump_regs(p, t, "reset");
    tpm_qtest_writeb(p->qtest_fd, p->qtest_in, CRB(LOC_CTRL), 1);
    dump_regs(p, t, "requestAccess");
    for (i = 0; i < ARRAY_SIZE(cmds); i++) {
        run_cmd(p, t, &cmds[i]);
    }
    tpm_proc_writel(p, CRB(CTRL_REQ), 2);
    dump_regs(p, t, "goIdle");
    tpm_proc_writel(p, CRB(CTRL_REQ), 1);
    dump_regs(p, t, "cmdReady");
    tpm_qtest_writeb(p->qtest_fd, p->qtest_in, CRB(LOC_CTRL), 2);
    dump_regs(p, t, "relinquish");

    g_assert_cmpint(tpm_proc_quit(p), ==, 0);
    tpm_proc_free(p);
    tpm_crb_util_swtpm_wait_exit(pid, 10000);
    tpm_crb_util_swtpm_kill(pid);
    tpm_crb_util_rmdir(dir);
    return g_string_free(t, FALSE);
}

/* Chunking off by default, or by the property. */
static const Peer ours_10_2 = { "pc-q35-10.2", "", false };
static const Peer ours_off = { "q35", ",cap-chunk=off", false };
static const Peer stock = { "pc-q35-10.2", "", false };
static const Peer qemu_7_2 = { "q35", "", true };

static void diff(const Peer *mine, const char *peer_binary,
                 const Peer *peer, const char *peer_name)
{
    g_autofree char *ours = transcript(g_getenv("QTEST_QEMU_BINARY"), mine);
    g_autofree char *theirs = transcript(peer_binary, peer);

    if (g_test_verbose()) {
        g_test_message("transcript: %s", ours);
    }
    if (!g_str_equal(ours, theirs)) {
        g_test_message("ours: %s", ours);
        g_test_message("%s: %s", peer_name, theirs);
        g_test_fail();
    }
}

static void test_diff_7_2(void)
{
    diff(&ours_off, PEER_QEMU, &qemu_7_2, "the 7.2 peer");
}

static void test_diff_stock(gconstpointer opaque)
{
    const Peer *mine = opaque;
    const char *binary = g_getenv("TPM_CRB_STOCK_QEMU");

    if (!binary || !g_file_test(binary, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("TPM_CRB_STOCK_QEMU does not name a stock QEMU 10.2.2 "
                    "(make stock builds it)");
        return;
    }
    diff(mine, binary, &stock, "stock QEMU 10.2.2");
}

/* ---- seeded random MMIO against the stock peer ---- */

#define RANDOM_STEPS 200
#define RANDOM_SESSIONS 3
#define RANDOM_SESSIONS_SLOW 30
#define WINDOW_CHECK 512
#define CRB_REGS_END A_CRB_DATA_BUFFER

/*
 * TPM2_CreatePrimary(owner, an RSA 2048 storage key): tens of
 * milliseconds, long enough for goIdle and cancel to arrive while it
 * executes, and the same bytes from the same TPM state.
 */
static const uint8_t cmd_create_primary[] = {
    0x80, 0x02, 0x00, 0x00, 0x00, 0x43, 0x00, 0x00, 0x01, 0x31,
    0x40, 0x00, 0x00, 0x01,                             /* TPM_RH_OWNER */
    0x00, 0x00, 0x00, 0x09, 0x40, 0x00, 0x00, 0x09,     /* TPM_RS_PW */
    0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x04, 0x00, 0x00, 0x00, 0x00,                 /* inSensitive */
    0x00, 0x1a, 0x00, 0x01, 0x00, 0x0b,                 /* RSA, SHA256 */
    0x00, 0x03, 0x00, 0x72, 0x00, 0x00,                 /* restricted */
    0x00, 0x06, 0x00, 0x80, 0x00, 0x43,                 /* AES-128-CFB */
    0x00, 0x10, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,     /* 2048 bits */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

typedef struct Side {
    QTestState *qts;
    char *dir;
    GPid pid;
    SocketAddress *addr;
} Side;

/*
 * var: the environment variable naming the binary (NULL: ours); state:
 * the TPM's permanent state, the same for both sides.
 */
static void side_start(Side *sd, const char *var, const char *state)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *args = NULL;
    g_autofree char *blob = NULL;
    g_autofree char *copy = NULL;
    gsize len;

    sd->dir = g_dir_make_tmp("tpm-crb-diff-XXXXXX", &err);
    g_assert_no_error(err);
    g_assert_true(g_file_get_contents(state, &blob, &len, &err));
    copy = g_build_filename(sd->dir, "tpm2-00.permall", NULL);
    g_assert_true(g_file_set_contents(copy, blob, len, &err));
    g_assert_true(tpm_crb_util_swtpm_start(sd->dir, &sd->pid, &sd->addr,
                                           &err));
    g_assert_no_error(err);
    args = g_strdup_printf("-M q35 -nodefaults "
                           "-chardev socket,id=chr,path=%s "
                           "-tpmdev emulator,id=tpm0,chardev=chr "
                           "-device tpm-crb,tpmdev=tpm0",
                           sd->addr->u.q_unix.path);
    sd->qts = qtest_init_ext(var, args, NULL, true);
}

static void side_stop(Side *sd)
{
    /* A wedged stock device waits for swtpm: end swtpm first. */
    if (qtest_readl(sd->qts, CRB(CTRL_START)) &
        R_CRB_CTRL_START_invoke_MASK) {
        tpm_crb_util_swtpm_kill(sd->pid);
    }
    qtest_quit(sd->qts);
    tpm_crb_util_swtpm_kill(sd->pid);
    qapi_free_SocketAddress(sd->addr);
    tpm_crb_util_rmdir(sd->dir);
    g_free(sd->dir);
}

typedef struct Run {
    Side side[2];           /* 0: this QEMU, 1: the stock peer */
    GRand *r;
    unsigned step;
    GString *log;           /* the steps so far, printed on a mismatch */
} Run;

static uint64_t side_read(Side *sd, uint64_t addr, unsigned size)
{
    switch (size) {
    case 1:
        return qtest_readb(sd->qts, addr);
    case 2:
        return qtest_readw(sd->qts, addr);
    default:
        return qtest_readl(sd->qts, addr);
    }
}

static void side_write(Side *sd, uint64_t addr, unsigned size, uint32_t v)
{
    switch (size) {
    case 1:
        qtest_writeb(sd->qts, addr, v);
        break;
    case 2:
        qtest_writew(sd->qts, addr, v);
        break;
    default:
        qtest_writel(sd->qts, addr, v);
        break;
    }
}

static void mismatch(Run *run, const char *what, uint64_t ours,
                     uint64_t stock)
{
    g_test_message("steps so far:");
    g_test_message("%s", run->log->str);
    g_test_message("step %u: %s: ours 0x%" PRIx64 ", stock 0x%" PRIx64,
                   run->step, what, ours, stock);
    g_test_fail();
}

/* Both sides read the same, or the run fails. */
static bool compare_read(Run *run, uint64_t addr, unsigned size)
{
    uint64_t a = side_read(&run->side[0], addr, size);
    uint64_t b = side_read(&run->side[1], addr, size);

    if (a != b) {
        g_autofree char *what = g_strdup_printf("read%u 0x%" PRIx64, size,
                                                addr);
        mismatch(run, what, a, b);
        return false;
    }
    return true;
}

static bool compare_state(Run *run)
{
    uint8_t win[2][WINDOW_CHECK];

    for (uint64_t off = 0; off < CRB_REGS_END; off += 4) {
        if (!compare_read(run, TPM_CRB_ADDR_BASE + off, 4)) {
            return false;
        }
    }
    for (int i = 0; i < 2; i++) {
        qtest_memread(run->side[i].qts, CRB_WINDOW, win[i], WINDOW_CHECK);
    }
    for (int i = 0; i < WINDOW_CHECK; i++) {
        if (win[0][i] != win[1][i]) {
            g_autofree char *what = g_strdup_printf("window byte %d", i);
            mismatch(run, what, win[0][i], win[1][i]);
            return false;
        }
    }
    return true;
}

/* Wait until no command executes on side i; false after 30 s. */
static bool side_idle(Side *sd, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000;

    while (qtest_readl(sd->qts, CRB(CTRL_START)) &
           R_CRB_CTRL_START_invoke_MASK) {
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        g_usleep(500);
    }
    return true;
}

static bool both_idle(Run *run)
{
    for (int i = 0; i < 2; i++) {
        if (!side_idle(&run->side[i], 30000)) {
            mismatch(run, i ? "stock still executing after 30 s"
                            : "ours still executing after 30 s", 0, 0);
            return false;
        }
    }
    return true;
}

static void both_write(Run *run, uint64_t addr, unsigned size, uint32_t v)
{
    g_string_append_printf(run->log, "  %u: write%u 0x%" PRIx64 " 0x%x\n",
                           run->step, size, addr, v);
    for (int i = 0; i < 2; i++) {
        side_write(&run->side[i], addr, size, v);
    }
}

static void both_memwrite(Run *run, uint64_t addr, const void *buf,
                          size_t len, const char *what)
{
    g_string_append_printf(run->log, "  %u: window +%" PRIu64 " %zu bytes "
                           "(%s)\n", run->step, addr - CRB_WINDOW, len, what);
    for (int i = 0; i < 2; i++) {
        qtest_memwrite(run->side[i].qts, addr, buf, len);
    }
}

/* A write of invoke = 1 now would hand the window to the TPM. */
static bool would_invoke(Run *run)
{
    QTestState *qts = run->side[0].qts;

    return (qtest_readl(qts, CRB(LOC_STATE)) &
            R_CRB_LOC_STATE_locAssigned_MASK) &&
           !(qtest_readl(qts, CRB(CTRL_START)) &
             R_CRB_CTRL_START_invoke_MASK);
}

/*
 * The named fix "oversized-command", after both completed: ours holds
 * its own TPM_RC_COMMAND_SIZE answer, stock the TPM's answer to the
 * truncated command, a 10-byte error. Both windows then get ours.
 */
static void check_oversized(Run *run)
{
    static const uint8_t answer[TPM_HEADER_SIZE] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x42,
    };
    uint8_t rsp[2][TPM_HEADER_SIZE];

    for (int i = 0; i < 2; i++) {
        if (!side_idle(&run->side[i], 30000)) {
            return;     /* both_idle() reports it */
        }
        qtest_memread(run->side[i].qts, CRB_WINDOW, rsp[i], sizeof(rsp[i]));
    }
    g_assert_cmpmem(rsp[0], sizeof(rsp[0]), answer, sizeof(answer));
    g_assert_cmphex(lduw_be_p(rsp[1]), ==, 0x8001);
    g_assert_cmpuint(ldl_be_p(rsp[1] + 2), ==, TPM_HEADER_SIZE);
    g_assert_cmphex(ldl_be_p(rsp[1] + 6), !=, 0);
    if (memcmp(rsp[0], rsp[1], sizeof(answer))) {
        g_test_message("allowed difference oversized-command at step %u: "
                       "ours TPM_RC_COMMAND_SIZE, stock rc 0x%x", run->step,
                       ldl_be_p(rsp[1] + 6));
        both_memwrite(run, CRB_WINDOW, answer, sizeof(answer), "resync");
    }
}

/* The declared size in the window's header, as both sides hold it */
static uint32_t window_declared(Run *run)
{
    uint8_t hdr[6];

    qtest_memread(run->side[0].qts, CRB_WINDOW, hdr, sizeof(hdr));
    return ldl_be_p(hdr + 2);
}

static const uint32_t interesting[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 0xff };

static uint32_t random_value(GRand *r)
{
    if (g_rand_boolean(r)) {
        return interesting[g_rand_int_range(r, 0, ARRAY_SIZE(interesting))];
    }
    return g_rand_int(r);
}

/* A register write, mostly to the registers that act. */
static void step_write(Run *run)
{
    static const uint32_t acting[] = {
        A_CRB_LOC_CTRL, A_CRB_CTRL_REQ, A_CRB_CTRL_CANCEL, A_CRB_CTRL_START,
    };
    static const unsigned sizes[] = { 1, 2, 4 };
    unsigned size = sizes[g_rand_int_range(run->r, 0, 3)];
    uint32_t off, v = random_value(run->r);

    if (g_rand_int_range(run->r, 0, 10) < 7) {
        off = acting[g_rand_int_range(run->r, 0, ARRAY_SIZE(acting))];
        off += g_rand_int_range(run->r, 0, 4) & ~(size - 1);
    } else {
        off = g_rand_int_range(run->r, 0, CRB_REGS_END) & ~(size - 1);
    }
    if (size < 4) {
        v &= (1u << (8 * size)) - 1;
    }
    /*
     * A command whose header declares less than a header is the one
     * stock never completes: that is a step of its own (step_short).
     */
    if (off == A_CRB_CTRL_START && v == 1 && would_invoke(run)) {
        uint32_t declared = window_declared(run);

        if (declared < TPM_HEADER_SIZE) {
            v = 0;
        } else if (declared > TPM_CRB_DATA_BUFFER_SIZE) {
            both_write(run, TPM_CRB_ADDR_BASE + off, size, v);
            check_oversized(run);
            return;
        }
    }
    both_write(run, TPM_CRB_ADDR_BASE + off, size, v);
}

static void step_read(Run *run)
{
    static const unsigned sizes[] = { 1, 2, 4 };
    unsigned size = sizes[g_rand_int_range(run->r, 0, 3)];
    uint32_t off = g_rand_int_range(run->r, 0, CRB_REGS_END) & ~(size - 1);

    compare_read(run, TPM_CRB_ADDR_BASE + off, size);
}

/* Random bytes anywhere in the window */
static void step_window(Run *run)
{
    uint8_t buf[64];
    uint32_t len = g_rand_int_range(run->r, 1, sizeof(buf) + 1);
    uint32_t off = g_rand_int_range(run->r, 0, TPM_CRB_DATA_BUFFER_SIZE -
                                    len + 1);

    for (uint32_t i = 0; i < len; i++) {
        buf[i] = g_rand_int(run->r);
    }
    both_memwrite(run, CRB_WINDOW + off, buf, len, "random");
}

/*
 * A command and invoke, maybe followed at once by goIdle or cancel: a
 * well-formed one (GetRandom aside, its answer is random), one with
 * random bytes after a header of a valid size, or one declaring more
 * than the window.
 */
static void step_command(Run *run)
{
    uint8_t buf[64];
    const uint8_t *bytes = buf;
    size_t len = 12;
    const char *what;
    int kind = g_rand_int_range(run->r, 0, 4);
    bool oversized;

    if (kind == 0) {
        bytes = cmd_create_primary;
        len = sizeof(cmd_create_primary);
        what = "CreatePrimary";
    } else if (kind == 1) {
        const Cmd *c;

        do {
            c = &cmds[g_rand_int_range(run->r, 0, ARRAY_SIZE(cmds))];
        } while (c->random_from != SIZE_MAX);
        bytes = c->bytes;
        len = c->len;
        what = c->name;
    } else {
        for (size_t i = 0; i < sizeof(buf); i++) {
            buf[i] = g_rand_int(run->r);
        }
        if (kind == 2) {
            len = g_rand_int_range(run->r, TPM_HEADER_SIZE, sizeof(buf));
            stl_be_p(buf + 2, len);
            what = "random body";
        } else {
            stl_be_p(buf + 2, g_rand_boolean(run->r) ?
                     g_rand_int_range(run->r, TPM_CRB_DATA_BUFFER_SIZE + 1,
                                      8193) : g_rand_int(run->r) | 0x80000000u);
            what = "oversized";
        }
    }
    both_memwrite(run, CRB_WINDOW, bytes, len, what);
    /* Mostly as a driver does: locality, cmdReady */
    if (g_rand_int_range(run->r, 0, 4)) {
        both_write(run, CRB(LOC_CTRL), 4, R_CRB_LOC_CTRL_requestAccess_MASK);
        both_write(run, CRB(CTRL_REQ), 4, R_CRB_CTRL_REQ_cmdReady_MASK);
    }
    oversized = window_declared(run) > TPM_CRB_DATA_BUFFER_SIZE &&
                would_invoke(run);
    both_write(run, CRB(CTRL_START), 4, R_CRB_CTRL_START_invoke_MASK);
    switch (g_rand_int_range(run->r, 0, 4)) {
    case 0:
        both_write(run, CRB(CTRL_REQ), 4, R_CRB_CTRL_REQ_goIdle_MASK);
        break;
    case 1:
        /* Mostly 1, which cancels; stock ignores any other value */
        both_write(run, CRB(CTRL_CANCEL), 4, g_rand_boolean(run->r) ?
                   R_CRB_CTRL_CANCEL_cancel_MASK : random_value(run->r));
        break;
    }
    if (oversized) {
        check_oversized(run);
    }
}

static void step_reset(Run *run)
{
    g_string_append_printf(run->log, "  %u: system_reset\n", run->step);
    for (int i = 0; i < 2; i++) {
        qtest_qmp_assert_success(run->side[i].qts,
                                 "{'execute': 'system_reset'}");
        /* The main loop resets after the reply: wait until it has. */
        qtest_qmp_eventwait(run->side[i].qts, "RESET");
    }
}

/*
 * The named fix "short-command": ours answers TPM_RC_COMMAND_SIZE, stock
 * never completes. Ends the session.
 */
static void step_short(Run *run)
{
    uint8_t cmd[TPM_HEADER_SIZE] = { 0x80, 0x01 };
    uint8_t rsp[TPM_HEADER_SIZE];

    stl_be_p(cmd + 2, g_rand_int_range(run->r, 0, TPM_HEADER_SIZE));
    both_memwrite(run, CRB_WINDOW, cmd, sizeof(cmd), "short-command");
    both_write(run, CRB(LOC_CTRL), 4, R_CRB_LOC_CTRL_requestAccess_MASK);
    both_write(run, CRB(CTRL_START), 4, R_CRB_CTRL_START_invoke_MASK);
    g_assert_true(side_idle(&run->side[0], 30000));
    qtest_memread(run->side[0].qts, CRB_WINDOW, rsp, sizeof(rsp));
    g_assert_cmphex(ldl_be_p(rsp + 6), ==, TPM_RC_COMMAND_SIZE);
    g_assert_false(side_idle(&run->side[1], 500));
    g_test_message("allowed difference short-command at step %u: ours "
                   "answered TPM_RC_COMMAND_SIZE, stock still executes",
                   run->step);
}

static void random_session(guint32 seed, const char *state)
{
    Run run = { .r = g_rand_new_with_seed(seed), .log = g_string_new("") };
    bool ok = true;

    g_test_message("seed %u (replay: TPM_CRB_DIFF_SEED=%u)", seed, seed);
    side_start(&run.side[0], NULL, state);
    side_start(&run.side[1], "TPM_CRB_STOCK_QEMU", state);
    ok = compare_state(&run);
    for (run.step = 1; ok && run.step <= RANDOM_STEPS; run.step++) {
        int pick = g_rand_int_range(run.r, 0, 100);

        if (pick < 30) {
            step_read(&run);
        } else if (pick < 60) {
            step_write(&run);
        } else if (pick < 75) {
            step_window(&run);
        } else if (pick < 97) {
            step_command(&run);
        } else {
            step_reset(&run);
        }
        ok = !g_test_failed() && both_idle(&run) && compare_state(&run);
    }
    if (ok && g_rand_boolean(run.r)) {
        step_short(&run);
    }
    for (int i = 0; i < 2; i++) {
        side_stop(&run.side[i]);
    }
    g_string_free(run.log, TRUE);
    g_rand_free(run.r);
}

static void test_random_stock(void)
{
    const char *stock = g_getenv("TPM_CRB_STOCK_QEMU");
    const char *seed_env = g_getenv("TPM_CRB_DIFF_SEED");
    int sessions = g_test_slow() ? RANDOM_SESSIONS_SLOW : RANDOM_SESSIONS;
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = NULL, *state = NULL;
    unsigned int seed;
    int status;

    if (!stock || !g_file_test(stock, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("TPM_CRB_STOCK_QEMU does not name a stock QEMU 10.2.2 "
                    "(make stock builds it)");
        return;
    }
    /* One TPM manufactured for both sides: the same seeds, the same keys */
    dir = g_dir_make_tmp("tpm-crb-diff-XXXXXX", &err);
    g_assert_no_error(err);
    {
        const char *argv[] = {
            "swtpm_setup", "--tpm2", "--tpmstate", dir, "--overwrite", NULL
        };

        if (!g_spawn_sync(NULL, (char **)argv, NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                          G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                          &status, NULL) ||
            !WIFEXITED(status) || WEXITSTATUS(status)) {
            g_test_skip("swtpm_setup (swtpm-tools) could not make a TPM");
            tpm_crb_util_rmdir(dir);
            return;
        }
    }
    state = g_build_filename(dir, "tpm2-00.permall", NULL);
    if (seed_env) {
        g_assert_cmpint(qemu_strtoui(seed_env, NULL, 0, &seed), ==, 0);
        random_session(seed, state);
    } else {
        /* A fixed start, so that the default run is the same every time */
        seed = g_test_slow() ? g_random_int() : 20261207;
        for (int i = 0; i < sessions && !g_test_failed(); i++) {
            random_session(seed + i, state);
        }
    }
    tpm_crb_util_rmdir(dir);
}

/* The reference values of stock QEMU, checked on our side too. */
static void test_reference_values(void)
{
    g_autofree char *ours = transcript(g_getenv("QTEST_QEMU_BINARY"),
                                       &ours_10_2);

    g_assert_nonnull(strstr(ours, "[reset] LOC_STATE="));
    g_assert_nonnull(strstr(ours, " INTF_ID=0x00025811 INTF_ID2=0x00001014"));
    g_assert_nonnull(strstr(ours, " CTRL_STS=0x00000002"));
    g_assert_nonnull(strstr(ours, " CMD_SIZE=0x00000f80 CMD_LADDR=0xfed40080 "
                            "CMD_HADDR=0x00000000 RSP_SIZE=0x00000f80 "
                            "RSP_ADDR_LO=0xfed40080 RSP_ADDR_HI=0x00000000"));
}

static void test_skip(gconstpointer reason)
{
    g_test_skip(reason);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    if (!tpm_crb_util_swtpm_has_tpm2()) {
        g_test_add_data_func("/tpm-crb/diff", "swtpm with TPM 2 support "
                             "is not installed", test_skip);
        return g_test_run();
    }
    g_test_add_func("/tpm-crb/diff/reference-values", test_reference_values);
    g_test_add_data_func("/tpm-crb/diff/stock-10.2.2/pc-q35-10.2",
                         &ours_10_2, test_diff_stock);
    g_test_add_data_func("/tpm-crb/diff/stock-10.2.2/cap-chunk-off",
                         &ours_off, test_diff_stock);
    g_test_add_func("/tpm-crb/diff/stock-10.2.2/random", test_random_stock);
    if (g_file_test(PEER_QEMU, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_add_func("/tpm-crb/diff/qemu-7.2", test_diff_7_2);
    } else {
        g_test_add_data_func("/tpm-crb/diff/qemu-7.2",
                             PEER_QEMU " is not installed", test_skip);
    }
    return g_test_run();
}
