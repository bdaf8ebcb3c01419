/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * qtest for PTP v1.07 chunked transfers through tpm-crb:
 * a real TPM workload through a real swtpm at several window sizes, and
 * the transfer state machine's edges (boundaries, retry, discarding,
 * framing errors, priorities, capability) through the in-process fake
 * swtpm, which also reaches 8 KiB and 64 KiB buffers.
 *
 * Chunking is opted in (-global tpm-crb.cap-chunk=on). When the device
 * under test does not advertise CapCRBChunk (a peer QEMU without the
 * series, QTEST_QEMU_PEER=1), every test skips and says why.
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include <glib/gstdio.h>
#include "backends/tpm/tpm_ioctl.h"

#include "libqtest.h"
#include "hw/acpi/tpm.h"
#include "system/tpm_util.h"
#include "tpm-crb-emu.h"
#include "tpm-crb-util.h"
#include "tpm-crb-chunk-util.h"

#define WINDOW_MAX TPM_CRB_DATA_BUFFER_SIZE
#define TPM_RC_CANCELED 0x909
/* TPM_RC_SIZE (0x095) | TPM_RC_P (0x040) | TPM_RC_1 (0x100) */
#define TPM_RC_SIZE_P1 0x1d5

typedef struct Ctx {
    TPMEmu *emu;
    GPid swtpm_pid;
    QTestState *s;
    uint32_t w;
    /* Commands the backend sent on its own (a version probe) at start. */
    unsigned base;
} Ctx;

/* TPM commands the fake received since the VM started. */
static unsigned calls(Ctx *c)
{
    return tpm_emu_command_count(c->emu) - c->base;
}

/* ---- set-up ---- */

/* Chunking opted in, but not on a peer QEMU: it lacks the properties. */
static const char *opt_in(void)
{
    const char *peer = g_getenv("QTEST_QEMU_PEER");

    return peer && *peer && strcmp(peer, "0") ? "" : TPM_CRB_OPT_IN;
}

static QTestState *vm_start(const char *sock, const char *props)
{
    return qtest_initf("-machine q35 %s"
                       "-chardev socket,id=chr,path=%s "
                       "-tpmdev emulator,id=dev,chardev=chr "
                       "-device tpm-crb,tpmdev=dev%s",
                       opt_in(), sock, props ? props : "");
}

static void ctx_start(Ctx *c, uint32_t b, const char *props)
{
    g_autoptr(GError) err = NULL;

    memset(c, 0, sizeof(*c));
    c->emu = tpm_emu_start(b, &err);
    g_assert_no_error(err);
    c->s = vm_start(tpm_emu_socket_path(c->emu), props);
    c->w = crb_window_size(c->s);
    c->base = tpm_emu_command_count(c->emu);
}

static void ctx_start_w(Ctx *c, uint32_t b, uint32_t w)
{
    g_autofree char *props = g_strdup_printf(",x-data-buffer-size=%u", w);

    ctx_start(c, b, props);
    g_assert_cmpuint(c->w, ==, w);
}

static void ctx_stop(Ctx *c)
{
    if (c->s) {
        qtest_quit(c->s);
    }
    if (c->emu) {
        tpm_emu_stop(c->emu);
    }
    if (c->swtpm_pid) {
        tpm_crb_util_swtpm_kill(c->swtpm_pid);
    }
    memset(c, 0, sizeof(*c));
}

/*
 * Whether the device under test offers chunking at all: probed once with
 * a TPM whose buffer (8 KiB) exceeds the window, opted in but without
 * any of this project's properties on a peer QEMU.
 */
static bool chunking_available(void)
{
    static int avail = -1;

    if (avail < 0) {
        Ctx c;

        ctx_start(&c, 8192, NULL);
        avail = crb_cap_chunk(c.s);
        ctx_stop(&c);
    }
    if (!avail) {
        g_test_skip("CapCRBChunk reads 0: the device under test does not "
                    "offer chunked transfers (a peer QEMU without chunking)");
    }
    return avail;
}

static unsigned chunks(size_t len, uint32_t w)
{
    return (len + w - 1) / w;
}

static uint32_t rsp_rc(const GByteArray *r)
{
    g_assert_cmpuint(r->len, >=, 10);
    return crb_be32(r->data + 6);
}

static void assert_local_error(const GByteArray *r)
{
    static const uint8_t local[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x42
    };

    g_assert_cmpmem(r->data, r->len, local, sizeof(local));
}

/* Read the window (W bytes) as the guest sees it now. */
static GByteArray *window_read(Ctx *c)
{
    GByteArray *b = g_byte_array_new();

    g_byte_array_set_size(b, c->w);
    qtest_memread(c->s, CRB_DATA_ADDR, b->data, c->w);
    return b;
}

static void window_fill(Ctx *c, uint8_t v)
{
    g_autofree uint8_t *buf = g_malloc(c->w);

    memset(buf, v, c->w);
    qtest_memwrite(c->s, CRB_DATA_ADDR, buf, c->w);
}

static bool window_is(Ctx *c, uint8_t v)
{
    g_autoptr(GByteArray) b = window_read(c);
    uint32_t i;

    for (i = 0; i < b->len; i++) {
        if (b->data[i] != v) {
            return false;
        }
    }
    return true;
}

/* Echo a len-byte command and check bytes and chunk counts both ways. */
static void echo_checked(Ctx *c, uint32_t len, uint8_t seed)
{
    g_autoptr(GByteArray) cmd = crb_make_command(len, 0x20000000 | len, seed);
    g_autoptr(GByteArray) rsp = NULL;
    g_autoptr(GByteArray) seen = NULL;
    unsigned before = tpm_emu_command_count(c->emu);
    CRBXfer x = { 0 };

    g_test_message("echo %u bytes through W %u", len, c->w);
    rsp = crb_transfer(c->s, cmd->data, cmd->len, &x);
    g_assert_false(crb_tpm_sts(c->s));
    g_assert_cmpuint(tpm_emu_command_count(c->emu), ==, before + 1);
    seen = tpm_emu_last_command(c->emu);
    g_assert_cmpmem(seen->data, seen->len, cmd->data, cmd->len);
    g_assert_cmpmem(rsp->data, rsp->len, cmd->data, cmd->len);
    g_assert_cmpuint(x.upload_chunks, ==, chunks(len, c->w));
    g_assert_cmpuint(x.download_chunks, ==, chunks(len, c->w));
}

/* ---- capability ---- */

static void test_capability(void)
{
    Ctx c;
    uint8_t marker = 0x5a;
    g_autoptr(GByteArray) cmd = NULL;

    if (!chunking_available()) {
        return;
    }

    ctx_start(&c, 8192, NULL);
    g_assert_true(crb_cap_chunk(c.s));
    g_assert_cmphex(crb_readl(c.s, A_CRB_INTF_ID), ==, 0x00025C11);
    ctx_stop(&c);

    ctx_start(&c, 4096, NULL);
    g_assert_true(crb_cap_chunk(c.s));
    ctx_stop(&c);

    ctx_start(&c, WINDOW_MAX, NULL);
    g_assert_false(crb_cap_chunk(c.s));
    ctx_stop(&c);

    ctx_start_w(&c, 4096, 100);
    g_assert_true(crb_cap_chunk(c.s));
    ctx_stop(&c);

    /*
     * Chunking off: nextChunk and crbRspRetry do nothing, the bits never
     * stick, and a command larger than the window is answered locally.
     */
    ctx_start(&c, 8192, ",cap-chunk=off");
    g_assert_false(crb_cap_chunk(c.s));
    g_assert_cmphex(crb_readl(c.s, A_CRB_INTF_ID), ==, 0x00025811);
    crb_request_locality(c.s);
    crb_cmd_ready(c.s);
    cmd = crb_make_command(2 * c.w, 0x17b, 1);
    qtest_memwrite(c.s, CRB_DATA_ADDR, cmd->data, c.w);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    g_assert_cmphex(crb_readl(c.s, A_CRB_CTRL_START), ==, 0);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_RSP_RETRY);
    g_assert_cmphex(crb_readl(c.s, A_CRB_CTRL_START), ==, 0);
    g_assert_cmpuint(calls(&c), ==, 0);
    {
        g_autoptr(GByteArray) win = window_read(&c);

        g_assert_cmpmem(win->data, win->len, cmd->data, c.w);
    }
    crb_writel(c.s, A_CRB_CTRL_START, CRB_START);
    g_assert_true(crb_wait_start_clear(c.s));
    {
        g_autoptr(GByteArray) r = crb_receive(c.s, NULL);

        assert_local_error(r);
    }
    g_assert_cmpuint(calls(&c), ==, 0);
    /* A declared size below a header is answered locally here too. */
    {
        static const uint8_t size9[] = {
            0x80, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x01, 0x7b
        };
        g_autoptr(GByteArray) r = crb_transfer(c.s, size9, sizeof(size9),
                                               NULL);

        assert_local_error(r);
        g_assert_false(crb_tpm_sts(c.s));
    }
    g_assert_cmpuint(calls(&c), ==, 0);

    /* A whole-window command works; retry does not refill the window. */
    g_byte_array_unref(cmd);
    cmd = crb_make_command(100, 0x17b, 2);
    {
        g_autoptr(GByteArray) r = crb_transfer(c.s, cmd->data, cmd->len,
                                               NULL);

        g_assert_cmpmem(r->data, r->len, cmd->data, cmd->len);
    }
    window_fill(&c, marker);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_RSP_RETRY);
    g_assert_true(window_is(&c, marker));
    crb_writel(c.s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    g_assert_true(window_is(&c, marker));
    g_assert_cmpuint(calls(&c), ==, 1);
    ctx_stop(&c);
}

/* ---- exact buffer sizes through the fake ---- */

static void test_exact_buffer(const void *opaque)
{
    uint32_t b = GPOINTER_TO_UINT(opaque);
    Ctx c;

    if (!chunking_available()) {
        return;
    }
    ctx_start(&c, b, NULL);
    g_assert_cmpuint(c.w, ==, WINDOW_MAX);
    g_assert_true(crb_cap_chunk(c.s));
    echo_checked(&c, b, 7);
    /* The fake was started with B and kept it. */
    g_assert_cmpuint(tpm_emu_buffer_size(c.emu), ==, b);
    ctx_stop(&c);
}

/* ---- the device's own answer to a framing error ---- */

typedef enum FramingAt {
    AT_START,           /* Start in IDLE with the window holding the piece */
    AT_NEXT_CHUNK,      /* refused at the first nextChunk, answered at Start */
    AT_START_AFTER_ONE, /* one piece accepted, then Start too early */
} FramingAt;

static void framing_case(Ctx *c, const char *what, const uint8_t *first,
                         size_t first_len, FramingAt at)
{
    unsigned before = tpm_emu_command_count(c->emu);
    g_autoptr(GByteArray) r = NULL;

    g_test_message("framing: %s", what);
    crb_request_locality(c->s);
    crb_cmd_ready(c->s);
    qtest_memwrite(c->s, CRB_DATA_ADDR, first, first_len);
    switch (at) {
    case AT_START:
        crb_writel(c->s, A_CRB_CTRL_START, CRB_START);
        break;
    case AT_NEXT_CHUNK: {
        /* A whole command of its own, if it were read as one. */
        static const uint8_t lure[] = {
            0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44,
            0x00, 0x00,
        };
        uint8_t win[10];

        crb_writel(c->s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
        /* Latched: no answer yet, the window is the driver's. */
        qtest_memread(c->s, CRB_DATA_ADDR, win, sizeof(win));
        g_assert_cmpmem(win, sizeof(win), first, sizeof(win));
        qtest_memwrite(c->s, CRB_DATA_ADDR, lure, sizeof(lure));
        crb_writel(c->s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
        crb_writel(c->s, A_CRB_CTRL_START, CRB_START);
        break;
    }
    case AT_START_AFTER_ONE:
        crb_writel(c->s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
        crb_writel(c->s, A_CRB_CTRL_START, CRB_START);
        break;
    }
    g_assert_true(crb_wait_start_clear(c->s));
    g_assert_false(crb_tpm_sts(c->s));
    r = crb_receive(c->s, NULL);
    assert_local_error(r);
    g_assert_cmpuint(tpm_emu_command_count(c->emu), ==, before);
    /* The local answer is a normal completion: retry gives it again. */
    window_fill(c, 0xee);
    crb_writel(c->s, A_CRB_CTRL_START, CRB_RSP_RETRY);
    {
        g_autoptr(GByteArray) again = crb_receive(c->s, NULL);

        assert_local_error(again);
    }
}

/* ---- every boundary ---- */

static void boundaries_at(uint32_t b, uint32_t w)
{
    Ctx c;
    uint32_t k;

    ctx_start_w(&c, b, w);
    tpm_emu_set_reply(c.emu, TPM_EMU_REPLY_ECHO);
    for (k = 1; k <= 3 && k * w + 1 <= b; k++) {
        if (k * w - 1 >= 10) {
            echo_checked(&c, k * w - 1, k);
        }
        echo_checked(&c, k * w, k);
        echo_checked(&c, k * w + 1, k);
    }
    echo_checked(&c, b, 9);
    echo_checked(&c, 10, 9);

    /*
     * B + 1 is refused at its first piece and answered at Start: the
     * pieces in between are never read as commands of their own.
     */
    {
        g_autoptr(GByteArray) cmd = crb_make_command(b + 1, 0x17b, 3);

        framing_case(&c, "B + 1", cmd->data, w, AT_NEXT_CHUNK);
    }
    echo_checked(&c, 2 * w, 4);
    ctx_stop(&c);
}

static void test_boundaries(void)
{
    if (!chunking_available()) {
        return;
    }
    boundaries_at(8192, 100);
    boundaries_at(8192, WINDOW_MAX);
    boundaries_at(4096, 16);
}

/* ---- framing errors ---- */

static void test_framing(void)
{
    static const uint8_t size9[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x01, 0x7b
    };
    static const uint8_t size0[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x7b
    };
    static const uint8_t huge[] = {
        0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01, 0x7b
    };
    g_autoptr(GByteArray) two = NULL;
    g_autoptr(GByteArray) three = NULL;
    g_autoptr(GByteArray) over = NULL;
    Ctx c;

    if (!chunking_available()) {
        return;
    }
    ctx_start_w(&c, 8192, 100);
    framing_case(&c, "size 9, Start", size9, sizeof(size9), AT_START);
    framing_case(&c, "size 9, nextChunk", size9, sizeof(size9),
                 AT_NEXT_CHUNK);
    framing_case(&c, "size 0, nextChunk", size0, sizeof(size0),
                 AT_NEXT_CHUNK);
    framing_case(&c, "size 2^32-1, Start", huge, sizeof(huge), AT_START);
    over = crb_make_command(8193, 0x17b, 1);
    framing_case(&c, "B + 1, nextChunk", over->data, c.w, AT_NEXT_CHUNK);
    framing_case(&c, "B + 1, Start", over->data, c.w, AT_START);
    /* Start with the only piece of a two-piece command. */
    two = crb_make_command(2 * c.w, 0x17b, 5);
    framing_case(&c, "Start with 1 of 2 pieces", two->data, c.w, AT_START);
    /* One piece accepted, Start with the second of three. */
    three = crb_make_command(3 * c.w, 0x17b, 6);
    framing_case(&c, "Start with 2 of 3 pieces", three->data, c.w,
                 AT_START_AFTER_ONE);

    /* The backend serves the next command. */
    echo_checked(&c, 2 * c.w, 6);
    ctx_stop(&c);
}

/* ---- crbRspRetry ---- */

static void test_rsp_retry(void)
{
    Ctx c;
    uint32_t r_len;
    g_autoptr(GByteArray) cmd = crb_make_command(20, 0x17b, 1);
    g_autoptr(GByteArray) first = NULL;
    g_autoptr(GByteArray) second = NULL;
    g_autoptr(GByteArray) full = NULL;
    g_autoptr(GByteArray) again = NULL;

    if (!chunking_available()) {
        return;
    }
    ctx_start_w(&c, 8192, 100);
    r_len = 3 * c.w + 5;
    tpm_emu_set_reply(c.emu, TPM_EMU_REPLY_SIZED);
    tpm_emu_set_response_size(c.emu, r_len);

    crb_request_locality(c.s);
    crb_cmd_ready(c.s);
    crb_send(c.s, cmd->data, cmd->len, NULL);
    g_assert_true(crb_wait_start_clear(c.s));
    first = window_read(&c);
    g_assert_cmpuint(crb_be32(first->data + 2), ==, r_len);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    second = window_read(&c);
    g_assert_cmpuint(second->data[0], ==, tpm_emu_pattern_byte(c.w));

    /* Mid-download: the first chunk again, the bit does not stick. */
    crb_writel(c.s, A_CRB_CTRL_START, CRB_RSP_RETRY);
    g_assert_cmphex(crb_readl(c.s, A_CRB_CTRL_START), ==, 0);
    again = window_read(&c);
    g_assert_cmpmem(again->data, again->len, first->data, first->len);
    g_byte_array_unref(again);

    /* ...and reading on from there gives the whole response. */
    full = crb_receive(c.s, NULL);
    g_assert_cmpuint(full->len, ==, r_len);
    {
        uint32_t i;

        for (i = 10; i < r_len; i++) {
            g_assert_cmpuint(full->data[i], ==, tpm_emu_pattern_byte(i));
        }
    }
    /* The last chunk is zero-padded. */
    {
        g_autoptr(GByteArray) last = window_read(&c);
        uint32_t tail = r_len - 3 * c.w, i;

        for (i = tail; i < c.w; i++) {
            g_assert_cmpuint(last->data[i], ==, 0);
        }
    }

    /* After the last chunk: retry restarts the download. */
    crb_writel(c.s, A_CRB_CTRL_START, CRB_RSP_RETRY);
    again = window_read(&c);
    g_assert_cmpmem(again->data, again->len, first->data, first->len);
    {
        g_autoptr(GByteArray) full2 = crb_receive(c.s, NULL);

        g_assert_cmpmem(full2->data, full2->len, full->data, full->len);
    }
    g_assert_cmpuint(calls(&c), ==, 1);
    ctx_stop(&c);
}

/*
 * crbRspRetry with no response kept (IDLE, UPLOAD) is ignored: the window
 * keeps what the guest wrote and an upload in progress goes on intact.
 */
static void test_rsp_retry_ignored(void)
{
    Ctx c;
    g_autoptr(GByteArray) cmd = NULL;
    g_autoptr(GByteArray) r = NULL;

    if (!chunking_available()) {
        return;
    }
    ctx_start_w(&c, 8192, 100);
    crb_request_locality(c.s);
    crb_cmd_ready(c.s);

    /* IDLE */
    window_fill(&c, 0x5a);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_RSP_RETRY);
    g_assert_cmphex(crb_readl(c.s, A_CRB_CTRL_START), ==, 0);
    g_assert_true(window_is(&c, 0x5a));

    /* UPLOAD, between the first and the second of three pieces */
    cmd = crb_make_command(3 * c.w - 7, 0x17b, 8);
    qtest_memwrite(c.s, CRB_DATA_ADDR, cmd->data, c.w);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    qtest_memwrite(c.s, CRB_DATA_ADDR, cmd->data + c.w, c.w);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_RSP_RETRY);
    g_assert_cmphex(crb_readl(c.s, A_CRB_CTRL_START), ==, 0);
    {
        g_autoptr(GByteArray) win = window_read(&c);

        g_assert_cmpmem(win->data, win->len, cmd->data + c.w, c.w);
    }
    crb_writel(c.s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    qtest_memwrite(c.s, CRB_DATA_ADDR, cmd->data + 2 * c.w,
                   cmd->len - 2 * c.w);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_START);
    g_assert_true(crb_wait_start_clear(c.s));
    r = crb_receive(c.s, NULL);
    g_assert_false(crb_tpm_sts(c.s));
    g_assert_cmpmem(r->data, r->len, cmd->data, cmd->len);
    g_assert_cmpuint(calls(&c), ==, 1);
    ctx_stop(&c);
}

/* ---- an extra nextChunk, Start mid-download, several bits ---- */

static void test_extra_next_chunk(void)
{
    Ctx c;
    g_autoptr(GByteArray) cmd = crb_make_command(20, 0x17b, 1);
    g_autoptr(GByteArray) r = NULL;
    g_autoptr(GByteArray) again = NULL;
    g_autoptr(GByteArray) first = NULL;

    if (!chunking_available()) {
        return;
    }
    ctx_start_w(&c, 8192, 100);
    tpm_emu_set_reply(c.emu, TPM_EMU_REPLY_SIZED);
    tpm_emu_set_response_size(c.emu, 2 * c.w + 1);
    r = crb_transfer(c.s, cmd->data, cmd->len, NULL);
    g_assert_cmpuint(r->len, ==, 2 * c.w + 1);

    /*
     * After the last chunk the response is drained. A nextChunk over the
     * unchanged window (the zero-padded last chunk) is the driver
     * acknowledging it, not a new command: it is ignored, the
     * backend is not called, and the response is still there for
     * crbRspRetry.
     */
    crb_writel(c.s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    g_assert_cmphex(crb_readl(c.s, A_CRB_CTRL_START), ==, 0);
    g_assert_false(crb_tpm_sts(c.s));
    g_assert_cmpuint(calls(&c), ==, 1);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_RSP_RETRY);
    again = crb_receive(c.s, NULL);
    g_assert_cmpmem(again->data, again->len, r->data, r->len);

    /*
     * Once the window holds something else, nextChunk begins a new
     * command, and the kept response is gone: here a header declaring 5
     * bytes, latched and answered locally at Start.
     */
    {
        static const uint8_t short_hdr[] = {
            0x80, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x01, 0x7b
        };

        qtest_memwrite(c.s, CRB_DATA_ADDR, short_hdr, sizeof(short_hdr));
    }
    crb_writel(c.s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    g_assert_cmpuint(calls(&c), ==, 1);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_RSP_RETRY);
    first = crb_receive(c.s, NULL);
    g_assert_cmpuint(crb_be32(first->data + 2), ==, 5);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_START);
    g_assert_true(crb_wait_start_clear(c.s));
    g_byte_array_unref(first);
    first = crb_receive(c.s, NULL);
    assert_local_error(first);

    /* A driver that starts over is served normally. */
    tpm_emu_set_reply(c.emu, TPM_EMU_REPLY_ECHO);
    echo_checked(&c, 250, 3);
    ctx_stop(&c);
}

static void test_start_mid_download(void)
{
    Ctx c;
    g_autoptr(GByteArray) cmd1 = crb_make_command(20, 0x17b, 1);
    g_autoptr(GByteArray) cmd2 = crb_make_command(60, 0x17b, 2);
    g_autoptr(GByteArray) r = NULL;

    if (!chunking_available()) {
        return;
    }
    ctx_start_w(&c, 8192, 100);
    tpm_emu_set_reply(c.emu, TPM_EMU_REPLY_SIZED);
    tpm_emu_set_response_size(c.emu, 3 * c.w);
    crb_request_locality(c.s);
    crb_cmd_ready(c.s);
    crb_send(c.s, cmd1->data, cmd1->len, NULL);
    g_assert_true(crb_wait_start_clear(c.s));
    crb_writel(c.s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);

    /* Half read: a new command with Start drops the rest. */
    tpm_emu_set_reply(c.emu, TPM_EMU_REPLY_ECHO);
    crb_send(c.s, cmd2->data, cmd2->len, NULL);
    g_assert_true(crb_wait_start_clear(c.s));
    r = crb_receive(c.s, NULL);
    g_assert_cmpmem(r->data, r->len, cmd2->data, cmd2->len);
    g_assert_cmpuint(calls(&c), ==, 2);
    {
        g_autoptr(GByteArray) seen = tpm_emu_last_command(c.emu);

        g_assert_cmpmem(seen->data, seen->len, cmd2->data, cmd2->len);
    }
    /* Nothing of the old response is left to read. */
    crb_writel(c.s, A_CRB_CTRL_START, CRB_RSP_RETRY);
    {
        g_autoptr(GByteArray) again = crb_receive(c.s, NULL);

        g_assert_cmpmem(again->data, again->len, cmd2->data, cmd2->len);
    }
    ctx_stop(&c);
}

static void test_several_bits(void)
{
    Ctx c;
    g_autoptr(GByteArray) cmd = crb_make_command(60, 0x17b, 1);
    g_autoptr(GByteArray) first = NULL;
    g_autoptr(GByteArray) win = NULL;

    if (!chunking_available()) {
        return;
    }
    ctx_start_w(&c, 8192, 100);
    crb_request_locality(c.s);
    crb_cmd_ready(c.s);

    /* IDLE, all three bits: Start wins, the command executes. */
    qtest_memwrite(c.s, CRB_DATA_ADDR, cmd->data, cmd->len);
    tpm_emu_set_reply(c.emu, TPM_EMU_REPLY_SIZED);
    tpm_emu_set_response_size(c.emu, 3 * c.w);
    crb_writel(c.s, A_CRB_CTRL_START,
               CRB_START | CRB_NEXT_CHUNK | CRB_RSP_RETRY);
    g_assert_true(crb_wait_start_clear(c.s));
    g_assert_cmpuint(calls(&c), ==, 1);
    first = window_read(&c);
    g_assert_cmpuint(crb_be32(first->data + 2), ==, 3 * c.w);

    /* DOWNLOAD, nextChunk and crbRspRetry: nextChunk wins. */
    crb_writel(c.s, A_CRB_CTRL_START, CRB_NEXT_CHUNK | CRB_RSP_RETRY);
    win = window_read(&c);
    g_assert_cmpuint(win->data[0], ==, tpm_emu_pattern_byte(c.w));
    g_assert_cmphex(crb_readl(c.s, A_CRB_CTRL_START), ==, 0);

    /* DOWNLOAD, Start and nextChunk with a command: Start wins. */
    tpm_emu_set_reply(c.emu, TPM_EMU_REPLY_ECHO);
    qtest_memwrite(c.s, CRB_DATA_ADDR, cmd->data, cmd->len);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_START | CRB_NEXT_CHUNK);
    g_assert_true(crb_wait_start_clear(c.s));
    g_assert_cmpuint(calls(&c), ==, 2);
    {
        g_autoptr(GByteArray) r = crb_receive(c.s, NULL);

        g_assert_cmpmem(r->data, r->len, cmd->data, cmd->len);
    }
    ctx_stop(&c);
}

/* ---- locality ---- */

static void test_inactive_locality(void)
{
    Ctx c;
    g_autoptr(GByteArray) cmd = crb_make_command(250, 0x17b, 1);

    if (!chunking_available()) {
        return;
    }
    ctx_start_w(&c, 8192, 100);
    /* No locality requested yet: CTRL_START writes do not count. */
    qtest_memwrite(c.s, CRB_DATA_ADDR, cmd->data, c.w);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_START);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_RSP_RETRY);
    g_assert_cmphex(crb_readl(c.s, A_CRB_CTRL_START), ==, 0);
    g_assert_cmpuint(calls(&c), ==, 0);
    {
        g_autoptr(GByteArray) win = window_read(&c);

        g_assert_cmpmem(win->data, win->len, cmd->data, c.w);
    }

    /* Relinquished: the same. */
    crb_request_locality(c.s);
    crb_relinquish_locality(c.s);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_START);
    g_assert_cmpuint(calls(&c), ==, 0);

    crb_request_locality(c.s);
    echo_checked(&c, 250, 1);
    ctx_stop(&c);
}

/* ---- discarding ---- */

typedef enum DiscardBy {
    BY_CANCEL,
    BY_GO_IDLE,
    BY_CMD_READY,
    BY_RELINQUISH,
    BY_RESET,
    BY_NONE,
} DiscardBy;

static const char *const discard_name[] = {
    "cancel", "goIdle", "cmdReady", "relinquish", "reset", "nothing"
};

/*
 * system_reset is carried out by the main loop after the QMP reply; the
 * reset sets tpmIdle again (both callers have cleared it with cmdReady),
 * which tells when it has happened.
 */
static void system_reset_wait(Ctx *c)
{
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    qtest_qmp_assert_success(c->s, "{ 'execute': 'system_reset' }");
    while (!FIELD_EX32(crb_readl(c->s, A_CRB_CTRL_STS), CRB_CTRL_STS,
                       tpmIdle)) {
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(1000);
    }
}

static void discard(Ctx *c, DiscardBy by)
{
    switch (by) {
    case BY_CANCEL:
        crb_writel(c->s, A_CRB_CTRL_CANCEL, 1);
        crb_writel(c->s, A_CRB_CTRL_CANCEL, 0);
        break;
    case BY_GO_IDLE:
        crb_go_idle(c->s);
        break;
    case BY_CMD_READY:
        crb_cmd_ready(c->s);
        break;
    case BY_RELINQUISH:
        crb_relinquish_locality(c->s);
        crb_request_locality(c->s);
        break;
    case BY_RESET:
        system_reset_wait(c);
        crb_request_locality(c->s);
        break;
    case BY_NONE:
        break;
    }
}

/*
 * Mid-upload: after the discard, the rest of the command is a new
 * command whose size field (bytes W+2..W+5 of the old one, made
 * 0xffffffff here) is refused locally; without a discard, the command
 * goes through whole.
 */
static void discard_mid_upload(DiscardBy by)
{
    Ctx c;
    g_autoptr(GByteArray) cmd = NULL;
    g_autoptr(GByteArray) r = NULL;

    ctx_start_w(&c, 8192, 100);
    cmd = crb_make_command(2 * c.w, 0x17b, 1);
    memset(cmd->data + c.w + 2, 0xff, 4);
    crb_request_locality(c.s);
    crb_cmd_ready(c.s);
    qtest_memwrite(c.s, CRB_DATA_ADDR, cmd->data, c.w);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    discard(&c, by);
    qtest_memwrite(c.s, CRB_DATA_ADDR, cmd->data + c.w, c.w);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_START);
    g_assert_true(crb_wait_start_clear(c.s));
    r = crb_receive(c.s, NULL);
    g_assert_false(crb_tpm_sts(c.s));
    if (by == BY_NONE) {
        g_assert_cmpmem(r->data, r->len, cmd->data, cmd->len);
        g_assert_cmpuint(calls(&c), ==, 1);
    } else {
        assert_local_error(r);
        g_assert_cmpuint(calls(&c), ==, 0);
    }
    ctx_stop(&c);
}

/*
 * Mid-download: after the discard, crbRspRetry has nothing to give back
 * (the window keeps what the guest put there); without a discard it
 * restores the first chunk.
 */
static void discard_mid_download(DiscardBy by)
{
    Ctx c;
    g_autoptr(GByteArray) cmd = crb_make_command(20, 0x17b, 1);
    g_autoptr(GByteArray) first = NULL;

    ctx_start_w(&c, 8192, 100);
    tpm_emu_set_reply(c.emu, TPM_EMU_REPLY_SIZED);
    tpm_emu_set_response_size(c.emu, 3 * c.w);
    crb_request_locality(c.s);
    crb_cmd_ready(c.s);
    crb_send(c.s, cmd->data, cmd->len, NULL);
    g_assert_true(crb_wait_start_clear(c.s));
    first = window_read(&c);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    discard(&c, by);
    window_fill(&c, 0x5a);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_RSP_RETRY);
    if (by == BY_NONE) {
        g_autoptr(GByteArray) again = window_read(&c);

        g_assert_cmpmem(again->data, again->len, first->data, first->len);
    } else {
        g_assert_true(window_is(&c, 0x5a));
    }
    g_assert_cmpuint(calls(&c), ==, 1);
    g_assert_false(crb_tpm_sts(c.s));
    ctx_stop(&c);
}

static void test_discard(const void *opaque)
{
    DiscardBy by = GPOINTER_TO_UINT(opaque);

    if (!chunking_available()) {
        return;
    }
    g_test_message("discard by %s", discard_name[by]);
    discard_mid_upload(by);
    discard_mid_download(by);
}

/*
 * While the backend executes: every CTRL_START write and goIdle are
 * ignored, cancel reaches the backend and the completion arrives as
 * usual (here TPM_RC_CANCELED from the fake).
 */
static void test_executing(void)
{
    Ctx c;
    g_autoptr(GByteArray) cmd = crb_make_command(150, 0x17b, 1);
    g_autoptr(GByteArray) r = NULL;

    if (!chunking_available()) {
        return;
    }
    ctx_start_w(&c, 8192, 100);
    tpm_emu_set_reply(c.emu, TPM_EMU_REPLY_STALL);
    crb_request_locality(c.s);
    crb_cmd_ready(c.s);
    crb_send(c.s, cmd->data, cmd->len, NULL);
    g_assert_true(tpm_emu_wait_held(c.emu, 10000));
    g_assert_cmpuint(FIELD_EX32(crb_readl(c.s, A_CRB_CTRL_START),
                                CRB_CTRL_START, invoke), ==, 1);

    crb_writel(c.s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_RSP_RETRY);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_START);
    crb_go_idle(c.s);
    g_assert_cmpuint(FIELD_EX32(crb_readl(c.s, A_CRB_CTRL_STS),
                                CRB_CTRL_STS, tpmIdle), ==, 0);
    g_assert_cmpuint(calls(&c), ==, 1);

    /* Released: the echo arrives, in two chunks. */
    tpm_emu_release(c.emu);
    g_assert_true(crb_wait_start_clear(c.s));
    r = crb_receive(c.s, NULL);
    g_assert_cmpmem(r->data, r->len, cmd->data, cmd->len);
    g_byte_array_unref(r);

    /* Cancelled: the TPM's answer arrives as a normal completion. */
    crb_cmd_ready(c.s);
    crb_send(c.s, cmd->data, cmd->len, NULL);
    g_assert_true(tpm_emu_wait_held(c.emu, 10000));
    crb_writel(c.s, A_CRB_CTRL_CANCEL, 1);
    g_assert_true(crb_wait_start_clear(c.s));
    crb_writel(c.s, A_CRB_CTRL_CANCEL, 0);
    r = crb_receive(c.s, NULL);
    g_assert_cmpuint(r->len, ==, 10);
    g_assert_cmphex(rsp_rc(r), ==, TPM_RC_CANCELED);
    g_assert_false(crb_tpm_sts(c.s));
    g_assert_cmpuint(tpm_emu_ctrl_count(c.emu, CMD_CANCEL_TPM_CMD), >=, 1);

    tpm_emu_set_reply(c.emu, TPM_EMU_REPLY_ECHO);
    echo_checked(&c, 150, 2);
    ctx_stop(&c);
}

/* ---- backend failure sets tpmSts; framing never does ---- */

/*
 * After a backend failure nothing is kept: crbRspRetry and nextChunk
 * leave the window alone (a guest-written marker survives).
 */
static void assert_nothing_kept(Ctx *c)
{
    window_fill(c, 0x5a);
    crb_writel(c->s, A_CRB_CTRL_START, CRB_RSP_RETRY);
    g_assert_true(window_is(c, 0x5a));
}

static void test_backend_failure(void)
{
    Ctx c;
    g_autoptr(GByteArray) cmd = crb_make_command(150, 0x17b, 1);
    g_autoptr(GByteArray) big = NULL;
    g_autoptr(GByteArray) r = NULL;

    if (!chunking_available()) {
        return;
    }
    ctx_start_w(&c, 8192, 100);

    /* R > bytes produced: the response declares 300, 40 arrive, EOF. */
    tpm_emu_set_reply(c.emu, TPM_EMU_REPLY_SHORT);
    tpm_emu_set_response_size(c.emu, 300);
    tpm_emu_set_short_len(c.emu, 40);
    r = crb_transfer(c.s, cmd->data, cmd->len, NULL);
    g_assert_true(crb_tpm_sts(c.s));
    g_assert_cmpuint(calls(&c), ==, 1);
    assert_nothing_kept(&c);
    ctx_stop(&c);

    /* R > B: a well-formed response of B + 1 bytes is still refused. */
    ctx_start_w(&c, 8192, 100);
    big = crb_make_command(8192 + 1, 0, 2);
    tpm_emu_set_reply(c.emu, TPM_EMU_REPLY_FIXED);
    tpm_emu_set_response(c.emu, big->data, big->len);
    g_byte_array_unref(r);
    r = crb_transfer(c.s, cmd->data, cmd->len, NULL);
    g_assert_true(crb_tpm_sts(c.s));
    g_assert_cmpuint(calls(&c), ==, 1);
    assert_nothing_kept(&c);

    /*
     * tpmSts stays set, and the next command is still tried: a response
     * of exactly B bytes (82 chunks at W = 100) comes back whole.
     */
    tpm_emu_set_reply(c.emu, TPM_EMU_REPLY_SIZED);
    tpm_emu_set_response_size(c.emu, 8192);
    {
        CRBXfer x = { 0 };
        g_autoptr(GByteArray) ok = crb_transfer(c.s, cmd->data, cmd->len,
                                                &x);
        uint32_t i;

        g_assert_cmpuint(ok->len, ==, 8192);
        for (i = 10; i < ok->len; i++) {
            g_assert_cmpuint(ok->data[i], ==, tpm_emu_pattern_byte(i));
        }
        g_assert_cmpuint(x.download_chunks, ==, chunks(8192, c.w));
    }
    g_assert_true(crb_tpm_sts(c.s));
    g_assert_cmpuint(calls(&c), ==, 2);
    ctx_stop(&c);

    /* The data channel closes without an answer. */
    ctx_start_w(&c, 8192, 100);
    tpm_emu_set_reply(c.emu, TPM_EMU_REPLY_FAIL);
    g_byte_array_unref(r);
    r = crb_transfer(c.s, cmd->data, cmd->len, NULL);
    g_assert_true(crb_tpm_sts(c.s));
    g_assert_cmpuint(calls(&c), ==, 1);
    assert_nothing_kept(&c);
    ctx_stop(&c);
}

/* ---- never more than B bytes buffered ---- */

static void test_no_overrun(void)
{
    Ctx c;
    g_autoptr(GByteArray) cmd = NULL;
    g_autoptr(GByteArray) seen = NULL;
    g_autoptr(GByteArray) r = NULL;
    uint32_t i;

    if (!chunking_available()) {
        return;
    }
    ctx_start_w(&c, 8192, 3000);
    cmd = crb_make_command(8192, 0x17b, 4);
    crb_request_locality(c.s);
    crb_cmd_ready(c.s);
    /* Three full windows (9000 bytes) then more nextChunks: S stays B. */
    for (i = 0; i < 3; i++) {
        uint32_t n = MIN(c.w, cmd->len - i * c.w);
        g_autofree uint8_t *piece = g_malloc0(c.w);

        memcpy(piece, cmd->data + i * c.w, n);
        qtest_memwrite(c.s, CRB_DATA_ADDR, piece, c.w);
        crb_writel(c.s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    }
    crb_writel(c.s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    crb_writel(c.s, A_CRB_CTRL_START, CRB_START);
    g_assert_true(crb_wait_start_clear(c.s));
    r = crb_receive(c.s, NULL);
    seen = tpm_emu_last_command(c.emu);
    g_assert_cmpuint(seen->len, ==, 8192);
    g_assert_cmpmem(seen->data, seen->len, cmd->data, cmd->len);
    g_assert_cmpmem(r->data, r->len, cmd->data, cmd->len);
    ctx_stop(&c);
}

/* ---- a real TPM through a real swtpm ---- */


static const uint8_t wl_startup[] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44, 0x00, 0x00
};
static const uint8_t wl_get_random[] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x7b, 0x00, 0x20
};
static const uint8_t wl_pcr_extend[] = {
    0x80, 0x02, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x01, 0x82,
    0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x09,
    0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x0b,
    'c', 'h', 'u', 'n', 'k', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
};
static const uint8_t wl_pcr_read[] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x01, 0x7e,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x0b, 0x03, 0x00, 0x04, 0x00,
};
/* CreatePrimary(owner, RSA-2048 restricted decryption key, AES-128). */
static const uint8_t wl_create_rsa[] = {
    0x80, 0x02, 0x00, 0x00, 0x00, 0x43, 0x00, 0x00, 0x01, 0x31,
    0x40, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09,
    0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x1a, 0x00, 0x01, 0x00, 0x0b, 0x00, 0x03, 0x00, 0x72, 0x00, 0x00,
    0x00, 0x06, 0x00, 0x80, 0x00, 0x43, 0x00, 0x10, 0x08, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* CreatePrimary(owner, ECC NIST P-256 restricted decryption key). */
static const uint8_t wl_create_ecc[] = {
    0x80, 0x02, 0x00, 0x00, 0x00, 0x43, 0x00, 0x00, 0x01, 0x31,
    0x40, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09,
    0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x1a, 0x00, 0x23, 0x00, 0x0b, 0x00, 0x03, 0x00, 0x72, 0x00, 0x00,
    0x00, 0x06, 0x00, 0x80, 0x00, 0x43, 0x00, 0x10, 0x00, 0x03, 0x00, 0x10,
    0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/*
 * GetCapability(TPM_CAP_TPM_PROPERTIES, TPM_PT_FIXED, 29): properties up
 * to TPM_PT_ORDERLY_COUNT, which do not depend on the buffer size the TPM
 * was started with (the two after it do: see wl_get_cap_io).
 */
static const uint8_t wl_get_cap_props[] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x01, 0x7a,
    0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x1d,
};
/*
 * GetCapability(TPM_CAP_TPM_PROPERTIES, TPM_PT_MAX_COMMAND_SIZE, 2): the
 * buffer size the device started the TPM with (B with chunking,
 * min(B, W) without).
 */
#define TPM_PT_MAX_COMMAND_SIZE 0x11e
#define TPM_PT_MAX_RESPONSE_SIZE 0x11f
static const uint8_t wl_get_cap_io[] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x01, 0x7a,
    0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x01, 0x1e, 0x00, 0x00, 0x00, 0x02,
};
/* GetCapability(TPM_CAP_COMMANDS, TPM_CC_FIRST, 256) */
static const uint8_t wl_get_cap_cmds[] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x01, 0x7a,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x1f, 0x00, 0x00, 0x01, 0x00,
};
/* NV_DefineSpace(owner, 0x01500001, SHA-256, OWNERWRITE|OWNERREAD, 32) */
static const uint8_t wl_nv_define[] = {
    0x80, 0x02, 0x00, 0x00, 0x00, 0x2d, 0x00, 0x00, 0x01, 0x2a,
    0x40, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09,
    0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00,
    0x00, 0x0e, 0x01, 0x50, 0x00, 0x01, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x20,
};
static const uint8_t wl_nv_write[] = {
    0x80, 0x02, 0x00, 0x00, 0x00, 0x43, 0x00, 0x00, 0x01, 0x37,
    0x40, 0x00, 0x00, 0x01, 0x01, 0x50, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09,
    0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x20,
    'P', 'T', 'P', ' ', 'v', '1', '.', '0', '7', ' ', 'c', 'h', 'u', 'n',
    'k', 'e', 'd', ' ', 'C', 'R', 'B', ' ', 't', 'r', 'a', 'n', 's', 'f',
    'e', 'r', '!', '\n',
    0x00, 0x00,
};
static const uint8_t wl_nv_read[] = {
    0x80, 0x02, 0x00, 0x00, 0x00, 0x23, 0x00, 0x00, 0x01, 0x4e,
    0x40, 0x00, 0x00, 0x01, 0x01, 0x50, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09,
    0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x20, 0x00, 0x00,
};
static const uint8_t wl_nv_undefine[] = {
    0x80, 0x02, 0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x01, 0x22,
    0x40, 0x00, 0x00, 0x01, 0x01, 0x50, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09,
    0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* TPM2_Hash(1024 bytes, SHA-256, owner): several chunks each way. */
static GByteArray *wl_hash_cmd(void)
{
    static const uint8_t head[] = {
        0x80, 0x01, 0x00, 0x00, 0x04, 0x12, 0x00, 0x00, 0x01, 0x7d,
        0x04, 0x00,
    };
    static const uint8_t tail[] = { 0x00, 0x0b, 0x40, 0x00, 0x00, 0x01 };
    GByteArray *cmd = g_byte_array_new();
    int i;

    g_byte_array_append(cmd, head, sizeof(head));
    for (i = 0; i < 1024; i++) {
        uint8_t b = i * 7 + 1;

        g_byte_array_append(cmd, &b, 1);
    }
    g_byte_array_append(cmd, tail, sizeof(tail));
    g_assert_cmpuint(cmd->len, ==, 0x412);
    return cmd;
}

static GByteArray *wl_flush_cmd(const GByteArray *create_rsp)
{
    static const uint8_t head[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x01, 0x65,
    };
    GByteArray *cmd = g_byte_array_new();

    g_assert_cmpuint(create_rsp->len, >=, 14);
    g_byte_array_append(cmd, head, sizeof(head));
    g_byte_array_append(cmd, create_rsp->data + 10, 4);
    return cmd;
}

/*
 * One command of the workload: transfer it, check its chunking, and
 * return the response (its random bytes zeroed when mask_from is set).
 */
static GByteArray *wl_run(Ctx *c, const char *name, const uint8_t *cmd,
                          size_t len, size_t mask_from, bool want_ok)
{
    CRBXfer x = { 0 };
    bool chunked = crb_cap_chunk(c->s);
    GByteArray *r = crb_transfer(c->s, cmd, len, &x);

    g_test_message("%s: %zu -> %u bytes, %u/%u chunks (W %u)", name, len,
                   r->len, x.upload_chunks, x.download_chunks, c->w);
    g_assert_false(crb_tpm_sts(c->s));
    if (want_ok) {
        g_assert_cmphex(rsp_rc(r), ==, 0);
    }
    g_assert_cmpuint(x.upload_chunks, ==, chunked ? chunks(len, c->w) : 1);
    g_assert_cmpuint(x.download_chunks, ==,
                     chunked ? chunks(r->len, c->w) : 1);
    if (mask_from && r->len > mask_from) {
        memset(r->data + mask_from, 0, r->len - mask_from);
    }
    return r;
}

/*
 * A transcript entry: the command's name, a NUL, then its response, so
 * that a mismatch names the command it came from.
 */
static void transcript_add(GPtrArray *t, const char *name, GByteArray *r)
{
    GByteArray *e = g_byte_array_new();

    g_byte_array_append(e, (const uint8_t *)name, strlen(name) + 1);
    g_byte_array_append(e, r->data, r->len);
    g_ptr_array_add(t, e);
    g_byte_array_unref(r);
}

static char *hex_of(const GByteArray *b)
{
    GString *h = g_string_new(NULL);
    guint i;

    for (i = 0; i < b->len; i++) {
        g_string_append_printf(h, "%02x", b->data[i]);
    }
    return g_string_free(h, FALSE);
}

static void transcript_compare(GPtrArray *t, GPtrArray *ref)
{
    guint i;

    g_assert_cmpuint(t->len, ==, ref->len);
    for (i = 0; i < t->len; i++) {
        GByteArray *e = g_ptr_array_index(t, i);
        GByteArray *r = g_ptr_array_index(ref, i);

        g_assert_cmpstr((const char *)e->data, ==, (const char *)r->data);
        if (e->len != r->len || memcmp(e->data, r->data, e->len)) {
            g_autofree char *got = hex_of(e);
            g_autofree char *want = hex_of(r);

            g_test_message("%s differs: got %s", (const char *)e->data, got);
            g_test_message("%s differs: want %s", (const char *)e->data,
                           want);
        }
        g_assert_cmpmem(e->data, e->len, r->data, r->len);
    }
}

/* Run the workload; returns the transcript of all responses. */
static GPtrArray *workload(Ctx *c)
{
    GPtrArray *t = g_ptr_array_new_with_free_func(
        (GDestroyNotify)g_byte_array_unref);
    g_autoptr(GByteArray) hash = wl_hash_cmd();
    GByteArray *r;
    struct {
        const char *name;
        const uint8_t *cmd;
        size_t len;
        size_t mask_from;
    } plain[] = {
        { "Startup", wl_startup, sizeof(wl_startup), 0 },
        { "GetRandom", wl_get_random, sizeof(wl_get_random), 12 },
        { "PCR_Extend", wl_pcr_extend, sizeof(wl_pcr_extend), 0 },
        { "PCR_Read", wl_pcr_read, sizeof(wl_pcr_read), 0 },
        { "Hash", hash->data, hash->len, 0 },
        { "GetCapability(properties)", wl_get_cap_props,
          sizeof(wl_get_cap_props), 0 },
        { "GetCapability(commands)", wl_get_cap_cmds,
          sizeof(wl_get_cap_cmds), 0 },
    };
    const struct {
        const char *name;
        const uint8_t *cmd;
        size_t len;
    } keys[] = {
        { "CreatePrimary(RSA-2048)", wl_create_rsa, sizeof(wl_create_rsa) },
        { "CreatePrimary(ECC P-256)", wl_create_ecc, sizeof(wl_create_ecc) },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(plain); i++) {
        r = wl_run(c, plain[i].name, plain[i].cmd, plain[i].len,
                   plain[i].mask_from, true);
        transcript_add(t, plain[i].name, r);
    }
    for (i = 0; i < G_N_ELEMENTS(keys); i++) {
        g_autoptr(GByteArray) flush = NULL;

        r = wl_run(c, keys[i].name, keys[i].cmd, keys[i].len, 0, true);
        g_assert_cmpuint(r->len, >, 200);
        flush = wl_flush_cmd(r);
        transcript_add(t, keys[i].name, r);
        r = wl_run(c, "FlushContext", flush->data, flush->len, 0, true);
        g_byte_array_unref(r);
    }

    /* NV: define, write, read back, undefine (the state dir is reused). */
    r = wl_run(c, "NV_DefineSpace", wl_nv_define, sizeof(wl_nv_define), 0,
               true);
    transcript_add(t, "NV_DefineSpace", r);
    r = wl_run(c, "NV_Write", wl_nv_write, sizeof(wl_nv_write), 0, true);
    transcript_add(t, "NV_Write", r);
    r = wl_run(c, "NV_Read", wl_nv_read, sizeof(wl_nv_read), 0, true);
    g_assert_cmpuint(r->len, >=, 14 + 32);
    g_assert_cmpmem(r->data + 16, 32, wl_nv_write + 33, 32);
    transcript_add(t, "NV_Read", r);
    r = wl_run(c, "NV_UndefineSpace", wl_nv_undefine, sizeof(wl_nv_undefine),
               0, true);
    transcript_add(t, "NV_UndefineSpace", r);
    return t;
}

/*
 * TPM_PT_MAX_COMMAND_SIZE as the TPM reports it, checked equal to
 * TPM_PT_MAX_RESPONSE_SIZE: what startup_tpm() told swtpm.
 */
static uint32_t swtpm_io_size(Ctx *c)
{
    g_autoptr(GByteArray) r = wl_run(c, "GetCapability(io sizes)",
                                     wl_get_cap_io, sizeof(wl_get_cap_io),
                                     0, true);

    /* header, moreData, capability, count, then (property, value) pairs */
    g_assert_cmpuint(r->len, ==, 10 + 1 + 4 + 4 + 2 * 8);
    g_assert_cmpuint(crb_be32(r->data + 15), ==, 2);
    g_assert_cmphex(crb_be32(r->data + 19), ==, TPM_PT_MAX_COMMAND_SIZE);
    g_assert_cmphex(crb_be32(r->data + 27), ==, TPM_PT_MAX_RESPONSE_SIZE);
    g_assert_cmpuint(crb_be32(r->data + 23), ==, crb_be32(r->data + 31));
    return crb_be32(r->data + 23);
}

static bool swtpm_ctx_start(Ctx *c, const char *dir, const char *props)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(SocketAddress) addr = NULL;

    memset(c, 0, sizeof(*c));
    if (!tpm_crb_util_swtpm_start(dir, &c->swtpm_pid, &addr, &err)) {
        g_test_message("swtpm did not start: %s", err->message);
        return false;
    }
    c->s = vm_start(addr->u.q_unix.path, props);
    c->w = crb_window_size(c->s);
    return true;
}

static bool swtpm_available(void)
{
    if (!tpm_crb_util_swtpm_has_tpm2()) {
        g_test_skip("swtpm with TPM 2 support is not installed");
        return false;
    }
    return true;
}

static void test_swtpm_workload(void)
{
    static const uint32_t windows[] = { 16, 64, 100, 512, WINDOW_MAX };
    g_autofree char *dir = NULL;
    g_autoptr(GPtrArray) reference = NULL;
    uint32_t io_size, first_io_size = 0;
    Ctx c;
    size_t i;

    if (!chunking_available() || !swtpm_available()) {
        return;
    }
    dir = g_dir_make_tmp("tpm-crb-chunk-XXXXXX", NULL);
    g_assert_nonnull(dir);

    /* Chunking off: one window per command, the reference transcript. */
    g_assert_true(swtpm_ctx_start(&c, dir, ",cap-chunk=off"));
    g_assert_false(crb_cap_chunk(c.s));
    {
        /* Start from a clean NV index whatever an earlier run left. */
        g_autoptr(GByteArray) u = crb_transfer(c.s, wl_startup,
                                               sizeof(wl_startup), NULL);
        g_autoptr(GByteArray) v = crb_transfer(c.s, wl_nv_undefine,
                                               sizeof(wl_nv_undefine), NULL);

        g_assert_cmphex(rsp_rc(u), ==, 0);
        g_assert_cmpuint(v->len, >=, 10);
    }
    ctx_stop(&c);

    g_assert_true(swtpm_ctx_start(&c, dir, ",cap-chunk=off"));
    reference = workload(&c);
    /* Without chunking the TPM is started with min(B, W) = W. */
    g_assert_cmpuint(swtpm_io_size(&c), ==, WINDOW_MAX);
    ctx_stop(&c);

    for (i = 0; i < G_N_ELEMENTS(windows); i++) {
        g_autofree char *props = g_strdup_printf(",x-data-buffer-size=%u",
                                                 windows[i]);
        g_autoptr(GPtrArray) t = NULL;

        g_assert_true(swtpm_ctx_start(&c, dir, props));
        g_assert_cmpuint(c.w, ==, windows[i]);
        /* Debian's swtpm reports B = 4096 > W: chunking is on. */
        g_assert_true(crb_cap_chunk(c.s));
        t = workload(&c);
        transcript_compare(t, reference);
        /*
         * With chunking the TPM is started with its own B, larger than
         * any window, and the same whatever the window.
         */
        io_size = swtpm_io_size(&c);
        g_test_message("TPM started with a %u-byte buffer (W %u)", io_size,
                       c.w);
        g_assert_cmpuint(io_size, >, WINDOW_MAX);
        if (!first_io_size) {
            first_io_size = io_size;
        }
        g_assert_cmpuint(io_size, ==, first_io_size);
        ctx_stop(&c);
    }
    tpm_crb_util_rmdir(dir);
}

/*
 * Framing errors against the real swtpm: answered locally, and the TPM
 * then serves the next command. A correctly framed 4096-byte command
 * crosses the default window in two chunks and gets libtpms' verdict.
 */
static void test_swtpm_framing(void)
{
    static const uint8_t size9[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x01, 0x7b
    };
    g_autofree char *dir = NULL;
    g_autoptr(GByteArray) big = NULL;
    Ctx c;
    uint32_t b;

    if (!chunking_available() || !swtpm_available()) {
        return;
    }
    dir = g_dir_make_tmp("tpm-crb-chunk-XXXXXX", NULL);
    g_assert_true(swtpm_ctx_start(&c, dir, NULL));
    g_assert_true(crb_cap_chunk(c.s));
    g_assert_cmpuint(c.w, ==, WINDOW_MAX);
    /* wl_run checks the response itself; it is not needed here. */
    g_byte_array_unref(wl_run(&c, "Startup", wl_startup, sizeof(wl_startup),
                              0, true));

    /* The TPM's buffer: the largest command the device accepts. */
    b = 4096;
    {
        g_autoptr(GByteArray) r = crb_transfer(c.s, size9, sizeof(size9),
                                               NULL);

        assert_local_error(r);
        g_assert_false(crb_tpm_sts(c.s));
    }
    {
        g_autoptr(GByteArray) over = crb_make_command(b + 1, 0x17d, 1);
        g_autoptr(GByteArray) r = NULL;

        /* Refused at its first piece, answered at Start. */
        crb_cmd_ready(c.s);
        crb_send(c.s, over->data, over->len, NULL);
        g_assert_true(crb_wait_start_clear(c.s));
        r = crb_receive(c.s, NULL);
        assert_local_error(r);
        g_assert_false(crb_tpm_sts(c.s));
    }
    {
        g_autoptr(GByteArray) two = crb_make_command(c.w + 50, 0x17d, 2);
        g_autoptr(GByteArray) r = NULL;

        crb_cmd_ready(c.s);
        qtest_memwrite(c.s, CRB_DATA_ADDR, two->data, c.w);
        crb_writel(c.s, A_CRB_CTRL_START, CRB_START);
        g_assert_true(crb_wait_start_clear(c.s));
        r = crb_receive(c.s, NULL);
        assert_local_error(r);
    }
    /* wl_run checks the response itself; it is not needed here. */
    g_byte_array_unref(wl_run(&c, "GetRandom", wl_get_random,
                              sizeof(wl_get_random), 12, true));

    /* TPM2_Hash with a 4078-byte buffer: 4096 bytes, well framed. */
    big = g_byte_array_new();
    {
        static const uint8_t head[] = {
            0x80, 0x01, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x01, 0x7d,
            0x0f, 0xee,
        };
        static const uint8_t tail[] = { 0x00, 0x0b, 0x40, 0x00, 0x00, 0x01 };
        g_autofree uint8_t *data = g_malloc(4078);
        CRBXfer x = { 0 };
        g_autoptr(GByteArray) r = NULL;

        memset(data, 0x61, 4078);
        g_byte_array_append(big, head, sizeof(head));
        g_byte_array_append(big, data, 4078);
        g_byte_array_append(big, tail, sizeof(tail));
        g_assert_cmpuint(big->len, ==, 4096);
        r = crb_transfer(c.s, big->data, big->len, &x);
        g_assert_cmpuint(x.upload_chunks, ==, 2);
        g_assert_false(crb_tpm_sts(c.s));
        g_test_message("4096-byte TPM2_Hash: rc 0x%x from libtpms",
                       rsp_rc(r));
        /*
         * libtpms compares the declared size with the bytes it received
         * (TPM_RC_COMMAND_SIZE if they differ) before it parses any
         * parameter; its verdict here is on parameter 1 instead: the
         * 4078-byte TPM2B_MAX_BUFFER exceeds its 1024-byte maximum
         * (TPM_RC_SIZE + TPM_RC_P + TPM_RC_1). So all 4096 bytes arrived.
         */
        g_assert_cmphex(rsp_rc(r), !=, TPM_RC_COMMAND_SIZE);
        g_assert_cmphex(rsp_rc(r), ==, TPM_RC_SIZE_P1);
    }
    /* wl_run checks the response itself; it is not needed here. */
    g_byte_array_unref(wl_run(&c, "PCR_Read", wl_pcr_read, sizeof(wl_pcr_read),
                              0, true));
    ctx_stop(&c);
    tpm_crb_util_rmdir(dir);
}

int main(int argc, char **argv)
{
    int i;

    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/tpm-crb-chunk/capability", test_capability);
    qtest_add_data_func("/tpm-crb-chunk/exact-buffer/8192",
                        GUINT_TO_POINTER(8192), test_exact_buffer);
    qtest_add_data_func("/tpm-crb-chunk/exact-buffer/65536",
                        GUINT_TO_POINTER(65536), test_exact_buffer);
    qtest_add_func("/tpm-crb-chunk/boundaries", test_boundaries);
    qtest_add_func("/tpm-crb-chunk/framing", test_framing);
    qtest_add_func("/tpm-crb-chunk/rsp-retry", test_rsp_retry);
    qtest_add_func("/tpm-crb-chunk/rsp-retry-ignored",
                   test_rsp_retry_ignored);
    qtest_add_func("/tpm-crb-chunk/extra-next-chunk", test_extra_next_chunk);
    qtest_add_func("/tpm-crb-chunk/start-mid-download",
                   test_start_mid_download);
    qtest_add_func("/tpm-crb-chunk/several-bits", test_several_bits);
    qtest_add_func("/tpm-crb-chunk/inactive-locality",
                   test_inactive_locality);
    for (i = 0; i < (int)G_N_ELEMENTS(discard_name); i++) {
        g_autofree char *path = g_strdup_printf("/tpm-crb-chunk/discard/%s",
                                                discard_name[i]);

        qtest_add_data_func(path, GUINT_TO_POINTER(i), test_discard);
    }
    qtest_add_func("/tpm-crb-chunk/executing", test_executing);
    qtest_add_func("/tpm-crb-chunk/backend-failure", test_backend_failure);
    qtest_add_func("/tpm-crb-chunk/no-overrun", test_no_overrun);
    qtest_add_func("/tpm-crb-chunk/swtpm/workload", test_swtpm_workload);
    qtest_add_func("/tpm-crb-chunk/swtpm/framing", test_swtpm_framing);

    return g_test_run();
}
