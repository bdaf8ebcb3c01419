/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Reference guest-side driver for the TPM CRB interface with PTP v1.07
 * chunked transfers.
 *
 * The non-chunked flow is the one Linux's drivers/char/tpm/tpm_crb.c
 * follows (request locality, cmdReady, fill the buffer, Start, wait,
 * read, goIdle); chunking adds nextChunk between window loads on the way
 * in and between window reads on the way out, and crbRspRetry to start a
 * response download over (PTP v1.07 §6.5.3.9, §6.5.3.10).
 */

#include "qemu/osdep.h"
#include "exec/hwaddr.h"
#include "qemu/bswap.h"
#include "hw/acpi/tpm.h"
#include "tpm-crb-driver.h"

/*
 * The register map is the device's own (include/hw/acpi/tpm.h): the
 * driver is written against the same PTP v1.07 tables. CTRL_RSP_ADDR is
 * a 64-bit register that the driver reads as two 32-bit halves.
 */
#define A_CRB_CTRL_RSP_LADDR A_CRB_CTRL_RSP_ADDR
#define A_CRB_CTRL_RSP_HADDR (A_CRB_CTRL_RSP_ADDR + 4)

/* PTP InterfaceType 1: the CRB interface is the active one. */
#define CRB_INTERFACE_TYPE_CRB 1

/* A window smaller than a header cannot carry a chunked transfer. */
#define CRB_MIN_WINDOW 16
#define CRB_MAX_WINDOW (1024 * 1024)

/* How often a response whose header fails its check is fetched again. */
#define CRB_RSP_RETRIES 3

/* TPM 2.0 and TPM 1.2 response tags a driver may see. */
#define TPM2_ST_NO_SESSIONS 0x8001
#define TPM2_ST_SESSIONS 0x8002
#define TPM_TAG_RSP_COMMAND 0x00C4

struct TpmCrbDriver {
    const TpmCrbAccessorOps *ops;
    void *opaque;
    uint64_t base;
    TpmCrbTimeouts timeouts;
    bool probed;
    uint32_t intf_id;
    bool chunking;
    uint64_t cmd_addr;
    uint32_t cmd_size;
    uint64_t rsp_addr;
    uint32_t rsp_size;
};

void tpm_crb_driver_default_timeouts(TpmCrbTimeouts *t)
{
    t->locality_ms = 2000;
    t->state_ms = 2000;
    /* Linux allows RSA key generation up to 300 s (TPM2_DURATION_LONG). */
    t->command_ms = 300000;
}

TpmCrbDriver *tpm_crb_driver_new(const TpmCrbAccessorOps *ops, void *opaque,
                                 uint64_t base)
{
    TpmCrbDriver *drv = g_new0(TpmCrbDriver, 1);

    drv->ops = ops;
    drv->opaque = opaque;
    drv->base = base;
    tpm_crb_driver_default_timeouts(&drv->timeouts);
    return drv;
}

void tpm_crb_driver_free(TpmCrbDriver *drv)
{
    g_free(drv);
}

void tpm_crb_driver_set_timeouts(TpmCrbDriver *drv, const TpmCrbTimeouts *t)
{
    drv->timeouts = *t;
}

uint32_t tpm_crb_driver_intf_id(const TpmCrbDriver *drv)
{
    return drv->intf_id;
}

uint32_t tpm_crb_driver_cmd_window(const TpmCrbDriver *drv)
{
    return drv->cmd_size;
}

uint32_t tpm_crb_driver_rsp_window(const TpmCrbDriver *drv)
{
    return drv->rsp_size;
}

bool tpm_crb_driver_has_chunking(const TpmCrbDriver *drv)
{
    return drv->chunking;
}

static bool crb_read(TpmCrbDriver *drv, hwaddr reg, uint32_t *val,
                     Error **errp)
{
    return drv->ops->read32(drv->opaque, drv->base + reg, val, errp);
}

static bool crb_write(TpmCrbDriver *drv, hwaddr reg, uint32_t val,
                      Error **errp)
{
    return drv->ops->write32(drv->opaque, drv->base + reg, val, errp);
}

/*
 * Poll a register until (value & mask) == want. A software TPM answers
 * in microseconds to a few seconds, so the poll starts tight and backs
 * off to 2 ms; the deadline turns a dead device into an error rather
 * than a hang.
 */
static bool crb_wait(TpmCrbDriver *drv, hwaddr reg, const char *reg_name,
                     uint32_t mask, uint32_t want, unsigned timeout_ms,
                     const char *what, Error **errp)
{
    int64_t deadline = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
    unsigned delay_us = 0;
    uint32_t val;

    for (;;) {
        if (!crb_read(drv, reg, &val, errp)) {
            return false;
        }
        if ((val & mask) == want) {
            return true;
        }
        if (g_get_monotonic_time() >= deadline) {
            error_setg(errp, "tpm-crb driver: timed out after %u ms waiting "
                       "for %s (%s = 0x%08" PRIx32 ")", timeout_ms, what,
                       reg_name, val);
            return false;
        }
        if (delay_us) {
            g_usleep(delay_us);
        }
        delay_us = delay_us ? MIN(delay_us * 2, 2000) : 20;
    }
}

bool tpm_crb_driver_probe(TpmCrbDriver *drv, Error **errp)
{
    uint32_t id, loc_state, cmd_lo, cmd_hi, rsp_lo, rsp_hi;

    if (!crb_read(drv, A_CRB_INTF_ID, &id, errp) ||
        !crb_read(drv, A_CRB_LOC_STATE, &loc_state, errp)) {
        return false;
    }
    if (FIELD_EX32(id, CRB_INTF_ID, InterfaceType) != CRB_INTERFACE_TYPE_CRB
        || !FIELD_EX32(id, CRB_INTF_ID, CapCRB)) {
        error_setg(errp, "tpm-crb driver: no active CRB interface at 0x%"
                   PRIx64 " (INTF_ID = 0x%08" PRIx32 ")", drv->base, id);
        return false;
    }
    if (!FIELD_EX32(loc_state, CRB_LOC_STATE, tpmRegValidSts)) {
        error_setg(errp, "tpm-crb driver: register space not valid "
                   "(LOC_STATE = 0x%08" PRIx32 ", tpmRegValidSts = 0)",
                   loc_state);
        return false;
    }
    if (!crb_read(drv, A_CRB_CTRL_CMD_SIZE, &drv->cmd_size, errp) ||
        !crb_read(drv, A_CRB_CTRL_CMD_LADDR, &cmd_lo, errp) ||
        !crb_read(drv, A_CRB_CTRL_CMD_HADDR, &cmd_hi, errp) ||
        !crb_read(drv, A_CRB_CTRL_RSP_SIZE, &drv->rsp_size, errp) ||
        !crb_read(drv, A_CRB_CTRL_RSP_LADDR, &rsp_lo, errp) ||
        !crb_read(drv, A_CRB_CTRL_RSP_HADDR, &rsp_hi, errp)) {
        return false;
    }
    if (drv->cmd_size < CRB_MIN_WINDOW || drv->cmd_size > CRB_MAX_WINDOW ||
        drv->rsp_size < CRB_MIN_WINDOW || drv->rsp_size > CRB_MAX_WINDOW) {
        error_setg(errp, "tpm-crb driver: implausible buffer sizes "
                   "(CTRL_CMD_SIZE = %" PRIu32 ", CTRL_RSP_SIZE = %" PRIu32
                   "; expected %u..%u)", drv->cmd_size, drv->rsp_size,
                   CRB_MIN_WINDOW, CRB_MAX_WINDOW);
        return false;
    }
    drv->cmd_addr = ((uint64_t)cmd_hi << 32) | cmd_lo;
    drv->rsp_addr = ((uint64_t)rsp_hi << 32) | rsp_lo;
    drv->intf_id = id;
    drv->chunking = FIELD_EX32(id, CRB_INTF_ID, CapCRBChunk);
    drv->probed = true;
    return true;
}

/* PTP v1.07 §6.5.3.4: requestAccess, then LOC_STS.Granted. */
bool tpm_crb_driver_request_locality(TpmCrbDriver *drv, Error **errp)
{
    uint32_t ctrl = FIELD_DP32(0, CRB_LOC_CTRL, requestAccess, 1);

    if (!crb_write(drv, A_CRB_LOC_CTRL, ctrl, errp)) {
        return false;
    }
    return crb_wait(drv, A_CRB_LOC_STS, "LOC_STS", R_CRB_LOC_STS_Granted_MASK,
                    R_CRB_LOC_STS_Granted_MASK, drv->timeouts.locality_ms,
                    "locality 0 to be granted", errp);
}

bool tpm_crb_driver_relinquish_locality(TpmCrbDriver *drv, Error **errp)
{
    uint32_t ctrl = FIELD_DP32(0, CRB_LOC_CTRL, relinquish, 1);

    if (!crb_write(drv, A_CRB_LOC_CTRL, ctrl, errp)) {
        return false;
    }
    return crb_wait(drv, A_CRB_LOC_STATE, "LOC_STATE",
                    R_CRB_LOC_STATE_locAssigned_MASK, 0,
                    drv->timeouts.locality_ms,
                    "locality 0 to be relinquished", errp);
}

/*
 * PTP v1.07 §6.5.3.2.1: cmdReady moves the TPM out of idle; the TPM
 * clears the request bit and tpmIdle when it is ready for a command.
 */
static bool crb_cmd_ready(TpmCrbDriver *drv, Error **errp)
{
    uint32_t req = FIELD_DP32(0, CRB_CTRL_REQ, cmdReady, 1);

    return crb_write(drv, A_CRB_CTRL_REQ, req, errp) &&
           crb_wait(drv, A_CRB_CTRL_REQ, "CTRL_REQ",
                    R_CRB_CTRL_REQ_cmdReady_MASK, 0, drv->timeouts.state_ms,
                    "cmdReady to be acknowledged", errp) &&
           crb_wait(drv, A_CRB_CTRL_STS, "CTRL_STS",
                    R_CRB_CTRL_STS_tpmIdle_MASK, 0, drv->timeouts.state_ms,
                    "the TPM to leave idle (tpmIdle = 0)", errp);
}

static bool crb_go_idle(TpmCrbDriver *drv, Error **errp)
{
    uint32_t req = FIELD_DP32(0, CRB_CTRL_REQ, goIdle, 1);

    return crb_write(drv, A_CRB_CTRL_REQ, req, errp) &&
           crb_wait(drv, A_CRB_CTRL_REQ, "CTRL_REQ",
                    R_CRB_CTRL_REQ_goIdle_MASK, 0, drv->timeouts.state_ms,
                    "goIdle to be acknowledged", errp);
}

/*
 * nextChunk (PTP v1.07 §6.5.3.10): the TPM consumes the window (command
 * phase) or refills it (response phase) and clears the bit when done.
 */
static bool crb_next_chunk(TpmCrbDriver *drv, Error **errp)
{
    uint32_t start = FIELD_DP32(0, CRB_CTRL_START, nextChunk, 1);

    return crb_write(drv, A_CRB_CTRL_START, start, errp) &&
           crb_wait(drv, A_CRB_CTRL_START, "CTRL_START",
                    R_CRB_CTRL_START_nextChunk_MASK, 0,
                    drv->timeouts.state_ms, "nextChunk to clear", errp);
}

/*
 * Linux's timeout path: ask the TPM to cancel, give it a moment to finish
 * the command, then withdraw the request so the next command is not
 * cancelled too.
 */
static void crb_cancel(TpmCrbDriver *drv)
{
    if (crb_write(drv, A_CRB_CTRL_CANCEL, 1, NULL)) {
        crb_wait(drv, A_CRB_CTRL_START, "CTRL_START",
                 R_CRB_CTRL_START_invoke_MASK, 0, drv->timeouts.state_ms,
                 "the cancelled command to end", NULL);
    }
    crb_write(drv, A_CRB_CTRL_CANCEL, 0, NULL);
}

static bool crb_send(TpmCrbDriver *drv, const uint8_t *cmd, size_t len,
                     TpmCrbXferStats *st, Error **errp)
{
    size_t off = 0;

    /* PTP v1.07 §6.5.3.10: a command larger than the window needs chunks. */
    if (len > drv->cmd_size && !drv->chunking) {
        error_setg(errp, "tpm-crb driver: command of %zu bytes exceeds the "
                   "%" PRIu32 "-byte command window and the device does not "
                   "offer chunking (INTF_ID = 0x%08" PRIx32
                   ", CapCRBChunk = 0)", len, drv->cmd_size, drv->intf_id);
        return false;
    }

    for (;;) {
        size_t n = MIN(len - off, (size_t)drv->cmd_size);

        if (!drv->ops->write_buf(drv->opaque, drv->cmd_addr, cmd + off, n,
                                 errp)) {
            return false;
        }
        off += n;
        st->chunks_in++;
        st->bytes_in += n;
        if (off == len) {
            break;
        }
        if (!crb_next_chunk(drv, errp)) {
            return false;
        }
    }

    /* The last (or only) piece goes with Start (PTP v1.07 §6.5.3.9). */
    return crb_write(drv, A_CRB_CTRL_START,
                     FIELD_DP32(0, CRB_CTRL_START, invoke, 1), errp);
}

static bool crb_rsp_header_ok(const uint8_t *hdr, size_t rsp_max,
                              uint32_t *size)
{
    uint16_t tag = lduw_be_p(hdr);

    *size = ldl_be_p(hdr + 2);
    if (tag != TPM2_ST_NO_SESSIONS && tag != TPM2_ST_SESSIONS &&
        tag != TPM_TAG_RSP_COMMAND) {
        return false;
    }
    return *size >= TPM_CRB_HDR_SIZE && *size <= rsp_max;
}

/*
 * Read the first response chunk and check its header. A header that does
 * not make sense (bad tag, size outside 10..rsp_max) is fetched again:
 * with chunking the driver sets crbRspRetry so that the TPM puts the first
 * chunk back (PTP v1.07 §6.5.3.10); without it the window still holds the
 * whole response and is simply read again.
 */
static bool crb_recv_first(TpmCrbDriver *drv, uint8_t *rsp, size_t rsp_max,
                           uint32_t *rsp_size, TpmCrbXferStats *st,
                           Error **errp)
{
    uint32_t size = 0;
    unsigned attempt;

    for (attempt = 0; attempt <= CRB_RSP_RETRIES; attempt++) {
        if (attempt > 0) {
            st->retries++;
            if (drv->chunking &&
                !crb_write(drv, A_CRB_CTRL_START,
                           FIELD_DP32(0, CRB_CTRL_START, crbRspRetry, 1),
                           errp)) {
                return false;
            }
        }
        if (!drv->ops->read_buf(drv->opaque, drv->rsp_addr, rsp,
                                TPM_CRB_HDR_SIZE, errp)) {
            return false;
        }
        if (crb_rsp_header_ok(rsp, rsp_max, &size)) {
            *rsp_size = size;
            return true;
        }
    }
    error_setg(errp, "tpm-crb driver: response header is invalid (tag 0x%04x,"
               " size %" PRIu32 "; expected size %u..%zu) after %u "
               "crbRspRetry attempts", lduw_be_p(rsp), size,
               TPM_CRB_HDR_SIZE, rsp_max, CRB_RSP_RETRIES);
    return false;
}

static bool crb_recv(TpmCrbDriver *drv, uint8_t *rsp, size_t rsp_max,
                     size_t *rsp_len, TpmCrbXferStats *st, Error **errp)
{
    uint32_t size;
    size_t off, n;

    if (!crb_recv_first(drv, rsp, rsp_max, &size, st, errp)) {
        return false;
    }
    if (size > drv->rsp_size && !drv->chunking) {
        error_setg(errp, "tpm-crb driver: response of %" PRIu32 " bytes "
                   "exceeds the %" PRIu32 "-byte response window and the "
                   "device does not offer chunking", size, drv->rsp_size);
        return false;
    }

    /* The rest of the first chunk; its header is already in rsp. */
    n = MIN((size_t)size, (size_t)drv->rsp_size);
    if (n > TPM_CRB_HDR_SIZE &&
        !drv->ops->read_buf(drv->opaque, drv->rsp_addr + TPM_CRB_HDR_SIZE,
                            rsp + TPM_CRB_HDR_SIZE, n - TPM_CRB_HDR_SIZE,
                            errp)) {
        return false;
    }
    off = n;
    st->chunks_out = 1;

    while (off < size) {
        if (!crb_next_chunk(drv, errp)) {
            return false;
        }
        n = MIN((size_t)size - off, (size_t)drv->rsp_size);
        if (!drv->ops->read_buf(drv->opaque, drv->rsp_addr, rsp + off, n,
                                errp)) {
            return false;
        }
        off += n;
        st->chunks_out++;
    }
    st->bytes_out = size;
    st->rc = ldl_be_p(rsp + 6);
    *rsp_len = size;
    return true;
}

static bool crb_transact(TpmCrbDriver *drv, const uint8_t *cmd,
                         size_t cmd_len, uint8_t *rsp, size_t rsp_max,
                         size_t *rsp_len, TpmCrbXferStats *st, Error **errp)
{
    uint32_t sts;

    /* A command still running (an earlier timeout) owns the window. */
    if (!crb_wait(drv, A_CRB_CTRL_START, "CTRL_START",
                  R_CRB_CTRL_START_invoke_MASK, 0, drv->timeouts.state_ms,
                  "an earlier command to finish", errp) ||
        !crb_cmd_ready(drv, errp) ||
        !crb_send(drv, cmd, cmd_len, st, errp)) {
        return false;
    }

    if (!crb_wait(drv, A_CRB_CTRL_START, "CTRL_START",
                  R_CRB_CTRL_START_invoke_MASK, 0, drv->timeouts.command_ms,
                  "the command to complete (Start to clear)", errp)) {
        crb_cancel(drv);
        return false;
    }

    /*
     * As Linux does: a set tpmSts means the TPM failed the command (here:
     * the backend broke), and whatever is in the window is not a response.
     */
    if (!crb_read(drv, A_CRB_CTRL_STS, &sts, errp)) {
        return false;
    }
    if (FIELD_EX32(sts, CRB_CTRL_STS, tpmSts)) {
        st->tpm_sts = true;
        error_setg(errp, "tpm-crb driver: the TPM reports a fatal error "
                   "(CTRL_STS = 0x%08" PRIx32 ", tpmSts = 1) after command "
                   "0x%08" PRIx32, sts, st->cc);
        return false;
    }

    return crb_recv(drv, rsp, rsp_max, rsp_len, st, errp);
}

bool tpm_crb_driver_transmit(TpmCrbDriver *drv,
                             const uint8_t *cmd, size_t cmd_len,
                             uint8_t *rsp, size_t rsp_max, size_t *rsp_len,
                             TpmCrbXferStats *stats, Error **errp)
{
    TpmCrbXferStats local = { 0 };
    TpmCrbXferStats *st = stats ? stats : &local;
    int64_t t0 = g_get_monotonic_time();
    bool ok;

    memset(st, 0, sizeof(*st));
    if (!drv->probed) {
        error_setg(errp, "tpm-crb driver: transmit before probe");
        return false;
    }
    if (cmd_len < TPM_CRB_HDR_SIZE ||
        ldl_be_p(cmd + 2) != (uint32_t)cmd_len) {
        error_setg(errp, "tpm-crb driver: command header declares %" PRIu32
                   " bytes but %zu were given",
                   cmd_len >= 6 ? ldl_be_p(cmd + 2) : 0, cmd_len);
        return false;
    }
    if (rsp_max < TPM_CRB_HDR_SIZE) {
        error_setg(errp, "tpm-crb driver: response buffer of %zu bytes "
                   "cannot hold a header", rsp_max);
        return false;
    }
    st->cc = ldl_be_p(cmd + 6);

    ok = crb_transact(drv, cmd, cmd_len, rsp, rsp_max, rsp_len, st, errp);
    if (ok) {
        ok = crb_go_idle(drv, errp);
    } else {
        /* Leave the TPM idle even after a failure; the first error wins. */
        crb_go_idle(drv, NULL);
    }
    st->time_us = g_get_monotonic_time() - t0;
    return ok;
}
