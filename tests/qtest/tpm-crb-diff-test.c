/*
 * qtest: differential test of tpm-crb without chunking against stock
 * QEMU: the same base without the series (QEMU 10.2.2, TPM_CRB_STOCK_QEMU,
 * on pc-q35-10.2, both with the qtest accelerator) and Debian's QEMU 7.2
 * (-accel tcg -S: it has no qtest accelerator). Each drives its own fresh
 * swtpm of the same version; the register reads and the TPM transcripts
 * must be identical bytes, the random bytes of TPM2_GetRandom aside.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"

#include "hw/acpi/tpm.h"
#include "qemu/bswap.h"
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
    /* QEMU 7.2: no qtest accelerator, a stopped TCG instead */
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

/* Chunking off by the machine type (compat) or by the property. */
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
    diff(&ours_off, PEER_QEMU, &qemu_7_2, "QEMU 7.2");
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

/* The values the SPEC quotes from stock QEMU, checked on our side too. */
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
    if (g_file_test(PEER_QEMU, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_add_func("/tpm-crb/diff/qemu-7.2", test_diff_7_2);
    } else {
        g_test_add_data_func("/tpm-crb/diff/qemu-7.2",
                             PEER_QEMU " is not installed", test_skip);
    }
    return g_test_run();
}
