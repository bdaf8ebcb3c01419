/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * qtest for the tpm-crb device: register values after reset, locality,
 * cmdReady/goIdle, access sizes, read-only registers, a transfer through
 * the emulator backend to an in-process fake swtpm, backend failure and
 * the device's start-up errors.
 *
 * Tests that set this project's properties (x-data-buffer-size,
 * cap-chunk) or need chunking skip, with a reason, against a peer QEMU
 * (QTEST_QEMU_PEER=1) that does not have them.
 */

#include "qemu/osdep.h"
#include <gio/gio.h>
#include <glib/gstdio.h>
#include "backends/tpm/tpm_ioctl.h"

#include "libqtest.h"
#include "hw/acpi/tpm.h"
#include "tpm-crb-emu.h"
#include "tpm-crb-util.h"
#include "tpm-crb-chunk-util.h"

#define WINDOW_MAX TPM_CRB_DATA_BUFFER_SIZE

static bool peer_mode(void)
{
    const char *peer = g_getenv("QTEST_QEMU_PEER");

    return peer && *peer && strcmp(peer, "0") != 0;
}

static bool skip_in_peer_mode(const char *what)
{
    if (peer_mode()) {
        g_autofree char *msg = g_strdup_printf(
            "peer QEMU has no %s (this project's property)", what);
        g_test_skip(msg);
        return true;
    }
    return false;
}

static TPMEmu *emu_new(uint32_t b)
{
    g_autoptr(GError) err = NULL;
    TPMEmu *emu = tpm_emu_start(b, &err);

    g_assert_no_error(err);
    return emu;
}

static QTestState *vm_start(TPMEmu *emu, const char *props)
{
    return qtest_initf("-machine q35 "
                       "-chardev socket,id=chr,path=%s "
                       "-tpmdev emulator,id=dev,chardev=chr "
                       "-device tpm-crb,tpmdev=dev%s",
                       tpm_emu_socket_path(emu), props ? props : "");
}

/* The values a driver reads before touching anything. */
static void test_registers_after_reset(void)
{
    g_autoptr(TPMEmu) emu = emu_new(WINDOW_MAX);
    QTestState *s = vm_start(emu, NULL);
    uint32_t locstate = crb_readl(s, A_CRB_LOC_STATE);

    /* 7.2 reports tpmEstablished as the inverse of the backend's flag. */
    g_assert_cmphex(locstate, ==, 0x81);
    g_assert_cmphex(crb_readl(s, A_CRB_LOC_CTRL), ==, 0);
    g_assert_cmphex(crb_readl(s, A_CRB_LOC_STS), ==, 0);
    /* The fake's B equals W: no chunking to offer. */
    g_assert_cmphex(crb_readl(s, A_CRB_INTF_ID), ==, 0x00025811);
    g_assert_cmphex(crb_readl(s, A_CRB_INTF_ID2), ==, 0x00001014);
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_EXT), ==, 0);
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_REQ), ==, 0);
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_STS), ==, 0x2);
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_CANCEL), ==, 0);
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_START), ==, 0);
    g_assert_cmphex(crb_readl(s, A_CRB_INT_ENABLED), ==, 0);
    g_assert_cmphex(crb_readl(s, A_CRB_INT_STS), ==, 0);
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_CMD_SIZE), ==, 0xF80);
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_CMD_LADDR), ==, 0xFED40080);
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_CMD_HADDR), ==, 0);
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_RSP_SIZE), ==, 0xF80);
    g_assert_cmphex(qtest_readq(s, CRB_ADDR(A_CRB_CTRL_RSP_ADDR)), ==,
                    0xFED40080);
    g_assert_cmphex(qtest_readq(s, CRB_ADDR(A_CRB_CTRL_CMD_LADDR)), ==,
                    0xFED40080);
    qtest_quit(s);
}

/* CapCRBChunk only when cap-chunk is on (off by default) and B > W. */
static void test_intf_id_chunk(void)
{
    static const struct {
        uint32_t b;
        const char *props;
        uint32_t intf_id;
    } table[] = {
        { 4096, NULL, 0x00025811 },
        { 4096, ",cap-chunk=off", 0x00025811 },
        { 4096, ",cap-chunk=on", 0x00025C11 },
        { 8192, ",cap-chunk=on", 0x00025C11 },
        { WINDOW_MAX, ",cap-chunk=on", 0x00025811 },
        { 2048, ",cap-chunk=on", 0x00025811 },
        { 2048, ",cap-chunk=on,x-data-buffer-size=1024", 0x00025C11 },
        { 1024, ",cap-chunk=on,x-data-buffer-size=1024", 0x00025811 },
    };
    size_t i;

    if (skip_in_peer_mode("cap-chunk")) {
        return;
    }
    for (i = 0; i < G_N_ELEMENTS(table); i++) {
        g_autoptr(TPMEmu) emu = emu_new(table[i].b);
        QTestState *s = vm_start(emu, table[i].props);

        g_test_message("B %u props %s", table[i].b,
                       table[i].props ? table[i].props : "");
        g_assert_cmphex(crb_readl(s, A_CRB_INTF_ID), ==, table[i].intf_id);
        qtest_quit(s);
    }
}

static void test_locality(void)
{
    g_autoptr(TPMEmu) emu = emu_new(WINDOW_MAX);
    QTestState *s = vm_start(emu, NULL);
    uint32_t v;

    crb_request_locality(s);
    v = crb_readl(s, A_CRB_LOC_STATE);
    g_assert_cmpuint(FIELD_EX32(v, CRB_LOC_STATE, locAssigned), ==, 1);
    g_assert_cmpuint(FIELD_EX32(v, CRB_LOC_STATE, activeLocality), ==, 0);
    g_assert_cmpuint(FIELD_EX32(v, CRB_LOC_STATE, tpmRegValidSts), ==, 1);
    v = crb_readl(s, A_CRB_LOC_STS);
    g_assert_cmpuint(FIELD_EX32(v, CRB_LOC_STS, Granted), ==, 1);
    g_assert_cmpuint(FIELD_EX32(v, CRB_LOC_STS, beenSeized), ==, 0);
    /* LOC_CTRL is write-only: it reads 0. */
    g_assert_cmphex(crb_readl(s, A_CRB_LOC_CTRL), ==, 0);

    /* Seize from locality 0 and two requests at once do nothing. */
    crb_writel(s, A_CRB_LOC_CTRL, R_CRB_LOC_CTRL_seize_MASK);
    crb_writel(s, A_CRB_LOC_CTRL, R_CRB_LOC_CTRL_requestAccess_MASK |
                                  R_CRB_LOC_CTRL_relinquish_MASK);
    g_assert_cmpuint(FIELD_EX32(crb_readl(s, A_CRB_LOC_STS), CRB_LOC_STS,
                                Granted), ==, 1);
    g_assert_cmpuint(FIELD_EX32(crb_readl(s, A_CRB_LOC_STATE), CRB_LOC_STATE,
                                locAssigned), ==, 1);

    crb_relinquish_locality(s);
    v = crb_readl(s, A_CRB_LOC_STATE);
    g_assert_cmpuint(FIELD_EX32(v, CRB_LOC_STATE, locAssigned), ==, 0);
    g_assert_cmpuint(FIELD_EX32(crb_readl(s, A_CRB_LOC_STS), CRB_LOC_STS,
                                Granted), ==, 0);

    /* A byte write reaches LOC_CTRL as well. */
    qtest_writeb(s, CRB_ADDR(A_CRB_LOC_CTRL), 1);
    g_assert_cmpuint(FIELD_EX32(crb_readl(s, A_CRB_LOC_STATE), CRB_LOC_STATE,
                                locAssigned), ==, 1);
    qtest_quit(s);
}

static void test_cmd_ready_go_idle(void)
{
    g_autoptr(TPMEmu) emu = emu_new(WINDOW_MAX);
    QTestState *s = vm_start(emu, NULL);

    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_STS), ==, 0x2);
    crb_cmd_ready(s);
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_STS), ==, 0x0);
    /* CTRL_REQ bits are cleared by the device: it reads 0. */
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_REQ), ==, 0);
    /* Both bits at once is not a request. */
    crb_writel(s, A_CRB_CTRL_REQ, 3);
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_STS), ==, 0x0);
    crb_go_idle(s);
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_STS), ==, 0x2);
    crb_cmd_ready(s);
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_STS), ==, 0x0);
    qtest_quit(s);
}

/* TPM2_Startup(SU_CLEAR) and the fake's echo of it. */
static const unsigned char startup_cmd[] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44, 0x00, 0x00
};

static void test_transfer(void)
{
    static const unsigned char fixed_rsp[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00,
        0xde, 0xad, 0xbe, 0xef
    };
    g_autoptr(TPMEmu) emu = emu_new(WINDOW_MAX);
    QTestState *s = vm_start(emu, NULL);
    /* The backend may probe the TPM version on its own at start. */
    unsigned base = tpm_emu_command_count(emu);
    unsigned char rsp[sizeof(fixed_rsp)];
    g_autoptr(GByteArray) last = NULL;

    /* The shared helper: one window, Start, wait, read. */
    tpm_emu_set_reply(emu, TPM_EMU_REPLY_FIXED);
    tpm_emu_set_response(emu, fixed_rsp, sizeof(fixed_rsp));
    tpm_crb_util_crb_transfer(s, startup_cmd, sizeof(startup_cmd),
                          rsp, sizeof(rsp));
    g_assert_cmpmem(rsp, sizeof(rsp), fixed_rsp, sizeof(fixed_rsp));
    g_assert_cmpuint(tpm_emu_command_count(emu) - base, ==, 1);
    last = tpm_emu_last_command(emu);
    g_assert_cmpmem(last->data, last->len, startup_cmd, sizeof(startup_cmd));
    g_assert_false(crb_tpm_sts(s));

    /* A window-sized command goes through whole. */
    {
        g_autoptr(GByteArray) cmd = crb_make_command(WINDOW_MAX, 0x17b, 3);
        g_autoptr(GByteArray) got = NULL;
        g_autoptr(GByteArray) seen = NULL;

        tpm_emu_set_reply(emu, TPM_EMU_REPLY_ECHO);
        got = crb_transfer(s, cmd->data, cmd->len, NULL);
        g_assert_cmpmem(got->data, got->len, cmd->data, cmd->len);
        seen = tpm_emu_last_command(emu);
        g_assert_cmpmem(seen->data, seen->len, cmd->data, cmd->len);
        g_assert_cmpuint(tpm_emu_command_count(emu) - base, ==, 2);
    }
    /* The backend was told the locality. */
    g_assert_cmpuint(tpm_emu_locality(emu), ==, 0);
    qtest_quit(s);
}

/* Byte and word reads see the bytes of the 32-bit registers. */
static void test_access_sizes(void)
{
    g_autoptr(TPMEmu) emu = emu_new(WINDOW_MAX);
    QTestState *s = vm_start(emu, NULL);
    /* The backend may probe the TPM version on its own at start. */
    unsigned base = tpm_emu_command_count(emu);
    static const uint8_t intf_id[] = { 0x11, 0x58, 0x02, 0x00 };
    int i;

    for (i = 0; i < 4; i++) {
        g_assert_cmphex(qtest_readb(s, CRB_ADDR(A_CRB_INTF_ID + i)), ==,
                        intf_id[i]);
    }
    g_assert_cmphex(qtest_readw(s, CRB_ADDR(A_CRB_INTF_ID)), ==, 0x5811);
    g_assert_cmphex(qtest_readw(s, CRB_ADDR(A_CRB_INTF_ID + 2)), ==, 0x0002);
    g_assert_cmphex(qtest_readw(s, CRB_ADDR(A_CRB_INTF_ID2)), ==, 0x1014);
    g_assert_cmphex(qtest_readw(s, CRB_ADDR(A_CRB_INTF_ID2 + 2)), ==, 0);
    g_assert_cmphex(qtest_readb(s, CRB_ADDR(A_CRB_LOC_STATE)), ==, 0x81);
    g_assert_cmphex(qtest_readb(s, CRB_ADDR(A_CRB_LOC_STATE + 1)), ==, 0);
    g_assert_cmphex(qtest_readb(s, CRB_ADDR(A_CRB_CTRL_STS)), ==, 0x2);
    g_assert_cmphex(qtest_readb(s, CRB_ADDR(A_CRB_CTRL_CMD_SIZE)), ==, 0x80);
    g_assert_cmphex(qtest_readb(s, CRB_ADDR(A_CRB_CTRL_CMD_SIZE + 1)), ==,
                    0x0F);
    g_assert_cmphex(qtest_readw(s, CRB_ADDR(A_CRB_CTRL_CMD_LADDR + 2)), ==,
                    0xFED4);
    g_assert_cmphex(qtest_readb(s, CRB_ADDR(A_CRB_CTRL_RSP_ADDR + 1)), ==,
                    0x00);
    g_assert_cmphex(qtest_readb(s, CRB_ADDR(A_CRB_CTRL_RSP_ADDR)), ==, 0x80);

    /* Byte writes land at their offset: Start is bit 0 of byte 0x4C. */
    crb_request_locality(s);
    qtest_memwrite(s, CRB_DATA_ADDR, startup_cmd, sizeof(startup_cmd));
    qtest_writeb(s, CRB_ADDR(A_CRB_CTRL_START + 1), 1);
    g_assert_cmpuint(tpm_emu_command_count(emu) - base, ==, 0);
    qtest_writeb(s, CRB_ADDR(A_CRB_CTRL_START), 1);
    g_assert_true(crb_wait_start_clear(s));
    g_assert_cmpuint(tpm_emu_command_count(emu) - base, ==, 1);
    qtest_quit(s);
}

/* Status, identity, size and address registers ignore guest writes. */
static void test_read_only(void)
{
    static const uint32_t ro[] = {
        A_CRB_LOC_STATE, A_CRB_LOC_STS, A_CRB_INTF_ID, A_CRB_INTF_ID2,
        A_CRB_CTRL_EXT, A_CRB_CTRL_STS, A_CRB_INT_ENABLED, A_CRB_INT_STS,
        A_CRB_CTRL_CMD_SIZE, A_CRB_CTRL_CMD_LADDR, A_CRB_CTRL_CMD_HADDR,
        A_CRB_CTRL_RSP_SIZE, A_CRB_CTRL_RSP_ADDR, A_CRB_CTRL_RSP_ADDR + 4,
    };
    g_autoptr(TPMEmu) emu = emu_new(WINDOW_MAX);
    QTestState *s = vm_start(emu, NULL);
    uint32_t before[G_N_ELEMENTS(ro)];
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(ro); i++) {
        before[i] = crb_readl(s, ro[i]);
    }
    for (i = 0; i < G_N_ELEMENTS(ro); i++) {
        crb_writel(s, ro[i], 0xffffffff);
        qtest_writeb(s, CRB_ADDR(ro[i] + 1), 0xff);
        qtest_writew(s, CRB_ADDR(ro[i] + 2), 0xffff);
    }
    for (i = 0; i < G_N_ELEMENTS(ro); i++) {
        g_test_message("register 0x%x", ro[i]);
        g_assert_cmphex(crb_readl(s, ro[i]), ==, before[i]);
    }
    qtest_quit(s);
}

/* A shrunken window: size registers follow W, the rest is unassigned. */
static void test_small_window(void)
{
    g_autoptr(TPMEmu) emu = NULL;
    QTestState *s;
    uint8_t buf[8];
    static const uint8_t ones[8] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
    };

    if (skip_in_peer_mode("x-data-buffer-size")) {
        return;
    }
    emu = emu_new(4096);
    s = vm_start(emu, ",x-data-buffer-size=100");
    g_assert_cmpuint(crb_readl(s, A_CRB_CTRL_CMD_SIZE), ==, 100);
    g_assert_cmpuint(crb_readl(s, A_CRB_CTRL_RSP_SIZE), ==, 100);
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_CMD_LADDR), ==, 0xFED40080);

    /* The last window byte is RAM... */
    qtest_memwrite(s, CRB_DATA_ADDR + 96, ones, 4);
    qtest_memread(s, CRB_DATA_ADDR + 96, buf, 4);
    g_assert_cmpmem(buf, 4, ones, 4);
    /* ...and what follows up to the end of the page reads 0. */
    qtest_memwrite(s, CRB_DATA_ADDR + 100, ones, 8);
    qtest_memread(s, CRB_DATA_ADDR + 100, buf, 8);
    g_assert_cmphex(buf[0] | buf[1] | buf[2] | buf[7], ==, 0);
    qtest_memwrite(s, CRB_ADDR(0xFF8), ones, 8);
    qtest_memread(s, CRB_ADDR(0xFF8), buf, 8);
    g_assert_cmphex(buf[0] | buf[7], ==, 0);
    g_assert_cmphex(qtest_readl(s, CRB_ADDR(0xFFC)), ==, 0);
    qtest_quit(s);
}

static void system_reset(QTestState *s)
{
    qtest_qmp_assert_success(s, "{ 'execute': 'system_reset' }");
}

/*
 * tpmSts is the backend's failure alone; it stays set until
 * reset while later commands are still tried.
 */
static void test_backend_failure(void)
{
    static const unsigned char bad_rsp[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00
    };
    g_autoptr(TPMEmu) emu = emu_new(WINDOW_MAX);
    QTestState *s = vm_start(emu, NULL);
    /* The backend may probe the TPM version on its own at start. */
    unsigned base = tpm_emu_command_count(emu);
    g_autoptr(GByteArray) r1 = NULL;
    g_autoptr(GByteArray) r2 = NULL;

    /* A response that declares 5 bytes is malformed. */
    tpm_emu_set_reply(emu, TPM_EMU_REPLY_FIXED);
    tpm_emu_set_response(emu, bad_rsp, sizeof(bad_rsp));
    r1 = crb_transfer(s, startup_cmd, sizeof(startup_cmd), NULL);
    g_assert_true(crb_tpm_sts(s));
    g_assert_cmpuint(tpm_emu_command_count(emu) - base, ==, 1);

    /* The next command is still attempted; tpmSts stays. */
    tpm_emu_set_reply(emu, TPM_EMU_REPLY_ECHO);
    r2 = crb_transfer(s, startup_cmd, sizeof(startup_cmd), NULL);
    g_assert_cmpuint(tpm_emu_command_count(emu) - base, ==, 2);
    g_assert_cmpmem(r2->data, r2->len, startup_cmd, sizeof(startup_cmd));
    g_assert_true(crb_tpm_sts(s));

    system_reset(s);
    g_assert_false(crb_tpm_sts(s));
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_STS), ==, 0x2);
    qtest_quit(s);
}

/*
 * Without chunking, while a command executes, as stock QEMU: goIdle sets
 * tpmIdle at once; CTRL_START and CTRL_CANCEL act only on the value 1
 * (3 neither starts a command nor cancels this one); a 1 in
 * CTRL_CANCEL reaches the backend, whose answer completes the command.
 * Also run against the stock peer.
 */
static void test_executing(void)
{
    static const uint8_t cmd[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x7b,
        0x00, 0x08,
    };
    g_autoptr(TPMEmu) emu = emu_new(WINDOW_MAX);
    QTestState *s = vm_start(emu, NULL);
    unsigned base = tpm_emu_command_count(emu);
    uint8_t rsp[10];

    crb_request_locality(s);
    /* Idle: 3 in CTRL_START starts nothing. */
    qtest_memwrite(s, CRB_DATA_ADDR, cmd, sizeof(cmd));
    crb_writel(s, A_CRB_CTRL_START, 3);
    g_assert_cmpuint(crb_readl(s, A_CRB_CTRL_START), ==, 0);

    tpm_emu_set_reply(emu, TPM_EMU_REPLY_STALL);
    crb_cmd_ready(s);
    crb_writel(s, A_CRB_CTRL_START, 1);
    g_assert_true(tpm_emu_wait_held(emu, 10000));
    g_assert_cmpuint(tpm_emu_command_count(emu) - base, ==, 1);

    crb_go_idle(s);
    g_assert_cmphex(crb_readl(s, A_CRB_CTRL_STS), ==,
                    R_CRB_CTRL_STS_tpmIdle_MASK);
    crb_writel(s, A_CRB_CTRL_CANCEL, 3);
    g_assert_cmpuint(tpm_emu_ctrl_count(emu, CMD_CANCEL_TPM_CMD), ==, 0);
    g_assert_cmpuint(crb_readl(s, A_CRB_CTRL_START), ==, 1);

    crb_writel(s, A_CRB_CTRL_CANCEL, 1);
    g_assert_true(crb_wait_start_clear(s));
    crb_writel(s, A_CRB_CTRL_CANCEL, 0);
    g_assert_cmpuint(tpm_emu_ctrl_count(emu, CMD_CANCEL_TPM_CMD), ==, 1);
    qtest_memread(s, CRB_DATA_ADDR, rsp, sizeof(rsp));
    g_assert_cmphex(crb_be32(rsp + 6), ==, 0x909);    /* TPM_RC_CANCELED */
    g_assert_false(crb_tpm_sts(s));
    g_assert_cmpuint(tpm_emu_command_count(emu) - base, ==, 1);
    qtest_quit(s);
}

static void start_must_fail_done(GObject *src, GAsyncResult *res,
                                 gpointer opaque)
{
    *(bool *)opaque = true;
}

/*
 * Start the emulator with a command line that must be refused; returns
 * its stderr. Fails the test if it does not exit within 20 s.
 */
static char *start_must_fail(const char *const *extra)
{
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GSubprocessLauncher) l = NULL;
    g_autoptr(GSubprocess) p = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("tpm-crb-test-XXXXXX", NULL);
    g_autofree char *errfile = g_build_filename(dir, "stderr", NULL);
    char *text = NULL;
    gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    bool done = false;

    g_assert_nonnull(qemu);
    g_ptr_array_add(argv, (char *)qemu);
    g_ptr_array_add(argv, (char *)"-machine");
    g_ptr_array_add(argv, (char *)"q35");
    /* Also how the 7.2 peer (peer mode) takes the qtest accelerator. */
    g_ptr_array_add(argv, (char *)"-qtest");
    g_ptr_array_add(argv, (char *)"null");
    g_ptr_array_add(argv, (char *)"-display");
    g_ptr_array_add(argv, (char *)"none");
    for (; *extra; extra++) {
        g_ptr_array_add(argv, (char *)*extra);
    }
    g_ptr_array_add(argv, NULL);

    l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_subprocess_launcher_set_stderr_file_path(l, errfile);
    p = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata,
                                     &err);
    g_assert_no_error(err);
    g_subprocess_wait_async(p, NULL, start_must_fail_done, &done);
    while (!done && g_get_monotonic_time() < end) {
        if (!g_main_context_iteration(NULL, FALSE)) {
            g_usleep(10 * 1000);
        }
    }
    if (!done) {
        g_subprocess_force_exit(p);
        g_subprocess_wait(p, NULL, NULL);
        g_test_message("the emulator did not refuse to start within 20 s");
        g_assert_not_reached();
    }
    g_assert_true(g_subprocess_get_if_exited(p));
    g_assert_cmpint(g_subprocess_get_exit_status(p), !=, 0);
    g_assert_true(g_file_get_contents(errfile, &text, NULL, NULL));
    g_unlink(errfile);
    g_rmdir(dir);
    return text;
}

static void expect_refused(TPMEmu *emu, const char *device,
                           const char *needle)
{
    g_autofree char *chardev = g_strdup_printf("socket,id=chr,path=%s",
                                               tpm_emu_socket_path(emu));
    const char *extra[] = {
        "-chardev", chardev,
        "-tpmdev", "emulator,id=dev,chardev=chr",
        "-device", device,
        NULL
    };
    g_autofree char *err = start_must_fail(extra);

    g_test_message("stderr: %s", err);
    g_assert_nonnull(strstr(err, needle));
}

/* The messages are the 7.2 peer's: peer mode checks them against it. */
static void test_start_errors(void)
{
    g_autoptr(TPMEmu) emu = emu_new(4096);

    expect_refused(emu, "tpm-crb", "'tpmdev' property is required");
    expect_refused(emu, "tpm-crb,tpmdev=nosuch",
                   "Property 'tpm-crb.tpmdev' can't find value 'nosuch'");
    if (skip_in_peer_mode("x-data-buffer-size")) {
        return;
    }
    expect_refused(emu, "tpm-crb,tpmdev=dev,x-data-buffer-size=15",
                   "x-data-buffer-size must be between 16 and 3968 bytes, "
                   "got 15");
    expect_refused(emu, "tpm-crb,tpmdev=dev,x-data-buffer-size=3969",
                   "got 3969");
}

/*
 * A second TPM front end is refused by the device itself, whatever it
 * names: realize checks for another TPM first. (Two -tpmdev options are
 * already refused by -tpmdev parsing, "Only one TPM is allowed", before
 * any device exists, so they cannot reach this check.)
 */
static void test_two_tpms(void)
{
    g_autoptr(TPMEmu) emu = NULL;
    g_autofree char *chardev = NULL;
    g_autofree char *err = NULL;

    emu = emu_new(4096);
    chardev = g_strdup_printf("socket,id=chr,path=%s",
                              tpm_emu_socket_path(emu));
    {
        const char *extra[] = {
            "-chardev", chardev,
            "-tpmdev", "emulator,id=dev,chardev=chr",
            "-device", "tpm-crb,tpmdev=dev",
            "-device", "tpm-crb",
            NULL
        };

        err = start_must_fail(extra);
    }
    g_test_message("stderr: %s", err);
    g_assert_nonnull(strstr(err, "-device tpm-crb: at most one TPM device "
                            "is permitted"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/tpm-crb/registers-after-reset",
                   test_registers_after_reset);
    qtest_add_func("/tpm-crb/intf-id-chunk", test_intf_id_chunk);
    qtest_add_func("/tpm-crb/locality", test_locality);
    qtest_add_func("/tpm-crb/cmd-ready-go-idle", test_cmd_ready_go_idle);
    qtest_add_func("/tpm-crb/transfer", test_transfer);
    qtest_add_func("/tpm-crb/access-sizes", test_access_sizes);
    qtest_add_func("/tpm-crb/read-only", test_read_only);
    qtest_add_func("/tpm-crb/small-window", test_small_window);
    qtest_add_func("/tpm-crb/backend-failure", test_backend_failure);
    qtest_add_func("/tpm-crb/executing", test_executing);
    qtest_add_func("/tpm-crb/start-errors", test_start_errors);
    qtest_add_func("/tpm-crb/two-tpms", test_two_tpms);

    return g_test_run();
}
