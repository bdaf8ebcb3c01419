/*
 * Helpers for the tpm-crb qtests: a guest driver's view of chunked CRB
 * transfers (see tpm-crb-chunk-util.h).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tpm-crb-chunk-util.h"

/* Generous: an RSA-2048 CreatePrimary in swtpm can take seconds. */
#define CRB_START_TIMEOUT_US (60 * G_USEC_PER_SEC)

uint32_t crb_readl(QTestState *s, uint32_t off)
{
    return qtest_readl(s, CRB_ADDR(off));
}

void crb_writel(QTestState *s, uint32_t off, uint32_t val)
{
    qtest_writel(s, CRB_ADDR(off), val);
}

uint32_t crb_window_size(QTestState *s)
{
    return crb_readl(s, A_CRB_CTRL_CMD_SIZE);
}

bool crb_cap_chunk(QTestState *s)
{
    return FIELD_EX32(crb_readl(s, A_CRB_INTF_ID), CRB_INTF_ID, CapCRBChunk);
}

void crb_request_locality(QTestState *s)
{
    crb_writel(s, A_CRB_LOC_CTRL, R_CRB_LOC_CTRL_requestAccess_MASK);
}

void crb_relinquish_locality(QTestState *s)
{
    crb_writel(s, A_CRB_LOC_CTRL, R_CRB_LOC_CTRL_relinquish_MASK);
}

void crb_cmd_ready(QTestState *s)
{
    crb_writel(s, A_CRB_CTRL_REQ, R_CRB_CTRL_REQ_cmdReady_MASK);
}

void crb_go_idle(QTestState *s)
{
    crb_writel(s, A_CRB_CTRL_REQ, R_CRB_CTRL_REQ_goIdle_MASK);
}

bool crb_wait_start_clear(QTestState *s)
{
    gint64 end = g_get_monotonic_time() + CRB_START_TIMEOUT_US;

    for (;;) {
        uint32_t start = crb_readl(s, A_CRB_CTRL_START);

        if (!FIELD_EX32(start, CRB_CTRL_START, invoke)) {
            return true;
        }
        if (g_get_monotonic_time() > end) {
            return false;
        }
        g_usleep(500);
    }
}

bool crb_tpm_sts(QTestState *s)
{
    return FIELD_EX32(crb_readl(s, A_CRB_CTRL_STS), CRB_CTRL_STS, tpmSts);
}

void crb_send(QTestState *s, const void *req, size_t len, CRBXfer *x)
{
    const uint8_t *p = req;
    uint32_t w = crb_window_size(s);
    size_t done = 0;

    g_assert_cmpuint(w, >, 0);
    for (;;) {
        size_t n = MIN(w, len - done);

        qtest_memwrite(s, CRB_DATA_ADDR, p + done, n);
        done += n;
        if (x) {
            x->upload_chunks++;
        }
        if (done == len) {
            crb_writel(s, A_CRB_CTRL_START, CRB_START);
            return;
        }
        crb_writel(s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    }
}

GByteArray *crb_receive(QTestState *s, CRBXfer *x)
{
    GByteArray *rsp = g_byte_array_new();
    uint32_t w = crb_window_size(s);
    uint32_t total, n;

    g_byte_array_set_size(rsp, 10);
    qtest_memread(s, CRB_DATA_ADDR, rsp->data, 10);
    total = crb_be32(rsp->data + 2);
    if (x) {
        x->download_chunks++;
    }
    if (total < 10) {
        return rsp;
    }
    g_assert_cmpuint(total, <=, 16 * 1024 * 1024);
    g_byte_array_set_size(rsp, total);
    n = MIN(w, total);
    if (n > 10) {
        qtest_memread(s, CRB_DATA_ADDR + 10, rsp->data + 10, n - 10);
    }
    while (n < total) {
        uint32_t piece = MIN(w, total - n);

        crb_writel(s, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
        qtest_memread(s, CRB_DATA_ADDR, rsp->data + n, piece);
        n += piece;
        if (x) {
            x->download_chunks++;
        }
    }
    return rsp;
}

GByteArray *crb_transfer(QTestState *s, const void *req, size_t len,
                         CRBXfer *x)
{
    crb_request_locality(s);
    crb_cmd_ready(s);
    crb_send(s, req, len, x);
    g_assert_true(crb_wait_start_clear(s));
    return crb_receive(s, x);
}

uint32_t crb_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

GByteArray *crb_make_command(uint32_t len, uint32_t cc, uint8_t seed)
{
    GByteArray *cmd = g_byte_array_new();
    uint32_t i;

    g_assert_cmpuint(len, >=, 10);
    g_byte_array_set_size(cmd, len);
    cmd->data[0] = 0x80;
    cmd->data[1] = 0x01;
    cmd->data[2] = len >> 24;
    cmd->data[3] = len >> 16;
    cmd->data[4] = len >> 8;
    cmd->data[5] = len;
    cmd->data[6] = cc >> 24;
    cmd->data[7] = cc >> 16;
    cmd->data[8] = cc >> 8;
    cmd->data[9] = cc;
    for (i = 10; i < len; i++) {
        cmd->data[i] = (uint8_t)(i * 13 + seed + (i >> 9));
    }
    return cmd;
}
