/*
 * tpm_crb.c - QEMU's TPM CRB interface emulator
 *
 * Copyright (c) 2018 Red Hat, Inc.
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * Authors:
 *   Marc-André Lureau <marcandre.lureau@redhat.com>
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 *
 * tpm_crb is a device for TPM 2.0 Command Response Buffer (CRB) Interface
 * as defined in TCG PC Client Platform TPM Profile (PTP) Specification
 * Family “2.0” Level 00 Revision 01.03 v22, with the chunked transfers
 * of commands and responses larger than the data buffer that v1.07 adds
 * (docs/specs/tpm-crb-chunking.rst). With cap-chunk off, the default, the
 * registers, the RAM blocks and the migration stream are those of the
 * device before chunking.
 */

#include "qemu/osdep.h"
#include "qemu/module.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/units.h"
#include "hw/qdev-properties.h"
#include "hw/pci/pci_ids.h"
#include "hw/acpi/tpm.h"
#include "migration/vmstate.h"
#include "migration/blocker.h"
#include "system/address-spaces.h"
#include "system/tpm_backend.h"
#include "system/tpm_util.h"
#include "system/reset.h"
#include "system/runstate.h"
#include "system/xen.h"
#include "tpm_prop.h"
#include "tpm_ppi.h"
#include "trace.h"
#include "qom/object.h"

/*
 * Where a transfer stands. Each CTRL_START write is one switch
 * on this; nothing is inferred from buffer lengths.
 */
typedef enum CRBPhase {
    CRB_PHASE_IDLE,         /* no command, no response kept */
    CRB_PHASE_UPLOAD,       /* command chunks arriving (nextChunk) */
    CRB_PHASE_REFUSED,      /* upload whose size was refused, until invoke */
    CRB_PHASE_EXECUTING,    /* the backend owns the command; invoke = 1 */
    CRB_PHASE_DOWNLOAD,     /* response chunks left to read */
    CRB_PHASE_DRAINED,      /* whole response delivered, kept for retry */
} CRBPhase;

struct CRBState {
    DeviceState parent_obj;

    TPMBackend *tpmbe;
    TPMBackendCmd cmd;
    uint32_t regs[TPM_CRB_R_MAX];
    MemoryRegion mmio;
    MemoryRegion cmdmem;

    /* W: the data window, property x-data-buffer-size. */
    uint32_t data_buffer_size;
    /* The buffer size handed to the backend: B, or min(B, W). */
    uint32_t be_buffer_size;
    /* CapCRBChunk as advertised: cap-chunk && B > W. */
    bool chunking;

    /*
     * Transfer state, named so that a VMStateDescription can carry it:
     * the command received so far (its header holds the declared size S),
     * the response (exactly R bytes once validated) and how much of it
     * the guest has been given.
     */
    CRBPhase phase;
    GByteArray *command_buffer;
    GByteArray *response_buffer;
    uint32_t response_offset;
    /*
     * A command completed while the VM state was being saved: its
     * response may have been written into window RAM that was already
     * sent, so this save must fail.
     */
    bool completed_while_saving;

    bool cap_chunk;
    bool allow_chunk_migration;
    Error *migration_blocker;

    bool ppi_enabled;
    TPMPPI ppi;
};
typedef struct CRBState CRBState;

DECLARE_INSTANCE_CHECKER(CRBState, CRB, TYPE_TPM_CRB)

#define CRB_INTF_TYPE_CRB_ACTIVE 0b1
#define CRB_INTF_VERSION_CRB 0b1
#define CRB_INTF_CAP_LOCALITY_0_ONLY 0b0
#define CRB_INTF_CAP_IDLE_FAST 0b0
#define CRB_INTF_CAP_XFER_SIZE_64 0b11
#define CRB_INTF_CAP_FIFO_NOT_SUPPORTED 0b0
#define CRB_INTF_CAP_CRB_SUPPORTED 0b1
#define CRB_INTF_IF_SELECTOR_CRB 0b1

/* Smallest window that still holds a header and some payload. */
#define CRB_DATA_BUFFER_MIN 16

/*
 * Largest TPM buffer the device works with (libtpms offers up to 8 KiB
 * today); it bounds what the guest and an incoming stream can make the
 * device allocate.
 */
#define CRB_BUFFER_MAX (64 * KiB)

#define TPM_CRB_NO_LOCALITY 0xff

static const char *const crb_phase_name[] = {
    [CRB_PHASE_IDLE] = "IDLE",
    [CRB_PHASE_UPLOAD] = "UPLOAD",
    [CRB_PHASE_REFUSED] = "REFUSED",
    [CRB_PHASE_EXECUTING] = "EXECUTING",
    [CRB_PHASE_DOWNLOAD] = "DOWNLOAD",
    [CRB_PHASE_DRAINED] = "DRAINED",
};

static void tpm_crb_set_phase(CRBState *s, CRBPhase phase)
{
    if (s->phase != phase) {
        trace_tpm_crb_phase(crb_phase_name[s->phase], crb_phase_name[phase]);
        s->phase = phase;
    }
}

static uint8_t *tpm_crb_window(CRBState *s)
{
    return memory_region_get_ram_ptr(&s->cmdmem);
}

/*
 * Put len bytes (at most W) at the start of the data window. With
 * chunking the rest of the window is zeroed, so that a short last chunk
 * is not followed by stale bytes. Without chunking the window stays as
 * it was before chunking: the backend wrote the response over the
 * command in place and left the bytes after it alone.
 */
static void tpm_crb_window_fill(CRBState *s, const uint8_t *data,
                                uint32_t len)
{
    uint8_t *win = tpm_crb_window(s);

    len = MIN(len, s->data_buffer_size);
    if (len) {
        memcpy(win, data, len);
    }
    if (s->chunking) {
        memset(win + len, 0, s->data_buffer_size - len);
    }
    memory_region_set_dirty(&s->cmdmem, 0, s->data_buffer_size);
}

/*
 * Drop any partial upload and any kept response (PTP v1.07 6.5.3.9).
 * Never while the backend owns the command: callers check the phase.
 */
static void tpm_crb_discard(CRBState *s, const char *why)
{
    if (s->command_buffer->len || s->response_buffer->len) {
        trace_tpm_crb_discard(why, s->command_buffer->len,
                              s->response_buffer->len);
    }
    g_byte_array_set_size(s->command_buffer, 0);
    g_byte_array_set_size(s->response_buffer, 0);
    s->response_offset = 0;
    tpm_crb_set_phase(s, CRB_PHASE_IDLE);
}

/*
 * Give the guest the next piece of the response: min(W, R - offset)
 * bytes. PTP v1.07 §6.4.2.2: after the last chunk the response stays
 * available for crbRspRetry until a new command begins.
 */
static void tpm_crb_download_next(CRBState *s)
{
    uint32_t total = s->response_buffer->len;
    uint32_t n = MIN(s->data_buffer_size, total - s->response_offset);

    tpm_crb_window_fill(s, s->response_buffer->data + s->response_offset, n);
    s->response_offset += n;
    trace_tpm_crb_download(n, s->response_offset, total);
    tpm_crb_set_phase(s, s->response_offset < total ? CRB_PHASE_DOWNLOAD
                                                    : CRB_PHASE_DRAINED);
}

/* A validated response of response_buffer->len bytes is ready. */
static void tpm_crb_response_ready(CRBState *s)
{
    s->response_offset = 0;
    tpm_crb_download_next(s);
}

/*
 * A framing error (declared size below a header or above the buffer, or
 * invoke before the whole command arrived) is answered by the device with
 * a well-formed TPM 2.0 error, as a normal completion: the backend never
 * sees the command and tpmSts stays 0 (not the fatal tpmSts).
 */
static void tpm_crb_framing_error(CRBState *s, const char *why,
                                  uint32_t declared)
{
    trace_tpm_crb_framing_error(why, declared, s->command_buffer->len,
                                s->be_buffer_size);
    g_byte_array_set_size(s->command_buffer, 0);
    g_byte_array_set_size(s->response_buffer, TPM_HEADER_SIZE);
    tpm_util_write_tpm2_error_response(s->response_buffer->data,
                                       TPM_HEADER_SIZE, TPM_RC_COMMAND_SIZE);
    tpm_crb_response_ready(s);
}

/*
 * Why a command whose header declares this size cannot be taken, or NULL
 * if it can.
 */
static const char *tpm_crb_size_refused(CRBState *s, uint32_t declared)
{
    if (declared < TPM_HEADER_SIZE) {
        return "command shorter than its header";
    }
    if (declared > s->be_buffer_size) {
        return "command larger than the TPM buffer";
    }
    return NULL;
}

/*
 * Append the next piece of the command from the window: min(W, S -
 * received) bytes. Outside UPLOAD this is the first piece of a new
 * command, so a kept response is dropped and S is read from the header
 * in the window. A size that cannot be taken is answered locally at once
 * by invoke (last_piece), and latched by nextChunk: only the header is
 * kept, later pieces are not read, and invoke answers. Returns false if
 * the command was refused; never buffers more than S <= B bytes.
 */
static bool tpm_crb_upload_chunk(CRBState *s, bool last_piece)
{
    const uint8_t *win = tpm_crb_window(s);
    const char *refused;
    uint32_t declared, n;

    if (s->phase == CRB_PHASE_UPLOAD) {
        declared = tpm_cmd_get_size(s->command_buffer->data);
    } else {
        tpm_crb_discard(s, "new command");
        declared = tpm_cmd_get_size(win);
        refused = tpm_crb_size_refused(s, declared);
        if (refused && last_piece) {
            tpm_crb_framing_error(s, refused, declared);
            return false;
        }
        if (refused) {
            /*
             * A chunking driver writes every piece before it looks at the
             * window (PTP v1.07 6.5.3.9): answer at invoke, and never read
             * a later piece's payload as a header.
             */
            trace_tpm_crb_refusal_latched(refused, declared);
            g_byte_array_append(s->command_buffer, win, TPM_HEADER_SIZE);
            tpm_crb_set_phase(s, CRB_PHASE_REFUSED);
            return false;
        }
        tpm_crb_set_phase(s, CRB_PHASE_UPLOAD);
    }

    n = MIN(s->data_buffer_size, declared - s->command_buffer->len);
    g_byte_array_append(s->command_buffer, win, n);
    trace_tpm_crb_upload(n, s->command_buffer->len, declared);
    return true;
}

/*
 * invoke (PTP v1.07 §6.5.3.9): take the last (or only) piece of the
 * command and, once S bytes are in, hand exactly S bytes to the backend.
 */
static void tpm_crb_start(CRBState *s)
{
    uint32_t declared;

    if (s->phase == CRB_PHASE_REFUSED) {
        tpm_crb_framing_error(s, "refused at its first piece",
                              tpm_cmd_get_size(s->command_buffer->data));
        return;
    }
    if (!tpm_crb_upload_chunk(s, true)) {
        return;
    }
    declared = tpm_cmd_get_size(s->command_buffer->data);
    if (s->command_buffer->len < declared) {
        tpm_crb_framing_error(s, "invoke before the whole command arrived",
                              declared);
        return;
    }

    /*
     * Room for the largest response. The backend lowers cmd.out_len to
     * the bytes it wrote, and completion accepts no response longer than
     * that, so bytes of an earlier response are never handed out again.
     */
    g_byte_array_set_size(s->response_buffer, s->be_buffer_size);
    s->response_offset = 0;

    ARRAY_FIELD_DP32(s->regs, CRB_CTRL_START, invoke, 1);
    tpm_crb_set_phase(s, CRB_PHASE_EXECUTING);
    s->cmd = (TPMBackendCmd) {
        .locty = 0,
        .in = s->command_buffer->data,
        .in_len = declared,
        .out = s->response_buffer->data,
        .out_len = s->be_buffer_size,
    };
    trace_tpm_crb_deliver(tpm_cmd_get_ordinal(s->cmd.in), s->cmd.in_len,
                          s->cmd.out_len);
    tpm_backend_deliver_request(s->tpmbe, &s->cmd);
}

/*
 * DRAINED: does the window hold exactly what the device last put there,
 * the last response chunk and its zero padding?
 */
static bool tpm_crb_window_unchanged(CRBState *s)
{
    const uint8_t *win = tpm_crb_window(s);
    uint32_t total = s->response_buffer->len;
    uint32_t last, n;

    last = (total - 1) / s->data_buffer_size * s->data_buffer_size;
    n = total - last;
    return !memcmp(win, s->response_buffer->data + last, n) &&
           buffer_is_zero(win + n, s->data_buffer_size - n);
}

/* nextChunk (PTP v1.07 §6.5.3.9): upload or download, by phase. */
static void tpm_crb_next_chunk(CRBState *s, uint64_t addr, uint32_t val)
{
    switch (s->phase) {
    case CRB_PHASE_DRAINED:
        /*
         * A driver acknowledging the last chunk of a response, not a new
         * command: a stale response must never become the next command.
         */
        if (tpm_crb_window_unchanged(s)) {
            trace_tpm_crb_write_ignored(addr, val, "nextChunk acknowledges "
                                        "the last response chunk");
            return;
        }
        /* fall through */
    case CRB_PHASE_IDLE:
    case CRB_PHASE_UPLOAD:
        tpm_crb_upload_chunk(s, false);
        break;
    case CRB_PHASE_REFUSED:
        trace_tpm_crb_write_ignored(addr, val, "piece of a refused command");
        break;
    case CRB_PHASE_DOWNLOAD:
        tpm_crb_download_next(s);
        break;
    case CRB_PHASE_EXECUTING:
        /* Unreachable: invoke = 1 makes every CTRL_START write a no-op. */
        break;
    }
}

/* crbRspRetry (PTP v1.07 §6.5.3.9): deliver the response from the top. */
static void tpm_crb_rsp_retry(CRBState *s, uint64_t addr, uint32_t val)
{
    switch (s->phase) {
    case CRB_PHASE_DOWNLOAD:
    case CRB_PHASE_DRAINED:
        tpm_crb_response_ready(s);
        break;
    case CRB_PHASE_IDLE:
    case CRB_PHASE_UPLOAD:
    case CRB_PHASE_REFUSED:
    case CRB_PHASE_EXECUTING:
        trace_tpm_crb_write_ignored(addr, val, "crbRspRetry without response");
        break;
    }
}

static uint8_t tpm_crb_get_active_locty(CRBState *s)
{
    if (!ARRAY_FIELD_EX32(s->regs, CRB_LOC_STATE, locAssigned)) {
        return TPM_CRB_NO_LOCALITY;
    }
    return ARRAY_FIELD_EX32(s->regs, CRB_LOC_STATE, activeLocality);
}

static void tpm_crb_write_start(CRBState *s, uint8_t locty, uint64_t addr,
                                uint32_t val)
{
    if (tpm_crb_get_active_locty(s) != locty) {
        trace_tpm_crb_write_ignored(addr, val, "locality not active");
        return;
    }
    if (ARRAY_FIELD_EX32(s->regs, CRB_CTRL_START, invoke)) {
        trace_tpm_crb_write_ignored(addr, val, "command executing");
        return;
    }

    /* Without chunking, as before it: only the value 1 invokes. */
    if (!s->chunking) {
        if (val == R_CRB_CTRL_START_invoke_MASK) {
            tpm_crb_start(s);
        } else if (val) {
            trace_tpm_crb_write_ignored(addr, val, "chunking not offered");
        }
        return;
    }

    /*
     * One action per write; invoke wins, then nextChunk, then crbRspRetry.
     * nextChunk and crbRspRetry never stick: the device has
     * acted on them before the write returns.
     */
    if (FIELD_EX32(val, CRB_CTRL_START, invoke)) {
        tpm_crb_start(s);
    } else if (FIELD_EX32(val, CRB_CTRL_START, nextChunk)) {
        tpm_crb_next_chunk(s, addr, val);
    } else if (FIELD_EX32(val, CRB_CTRL_START, crbRspRetry)) {
        tpm_crb_rsp_retry(s, addr, val);
    }
}

static void tpm_crb_write_ctrl_req(CRBState *s, uint64_t addr, uint32_t val)
{
    /* Exactly one request bit, else nothing happens. */
    if (val == R_CRB_CTRL_REQ_cmdReady_MASK) {
        ARRAY_FIELD_DP32(s->regs, CRB_CTRL_STS, tpmIdle, 0);
        if (s->phase != CRB_PHASE_EXECUTING) {
            tpm_crb_discard(s, "cmdReady");
        }
    } else if (val == R_CRB_CTRL_REQ_goIdle_MASK) {
        /*
         * The buffers belong to the backend until it completes: with
         * chunking the request is ignored. Without chunking tpmIdle is
         * set at once, as before chunking.
         */
        if (s->phase == CRB_PHASE_EXECUTING) {
            if (!s->chunking) {
                ARRAY_FIELD_DP32(s->regs, CRB_CTRL_STS, tpmIdle, 1);
            }
            trace_tpm_crb_write_ignored(addr, val, "goIdle while executing");
            return;
        }
        ARRAY_FIELD_DP32(s->regs, CRB_CTRL_STS, tpmIdle, 1);
        tpm_crb_discard(s, "goIdle");
    } else if (val) {
        trace_tpm_crb_write_ignored(addr, val, "not a single request");
    }
}

static void tpm_crb_write_cancel(CRBState *s, uint64_t addr, uint32_t val)
{
    /*
     * Drivers write 0 here before each command; only a 1 asks (without
     * chunking, as before it, only the value 1).
     */
    if (!FIELD_EX32(val, CRB_CTRL_CANCEL, cancel) ||
        (!s->chunking && val != R_CRB_CTRL_CANCEL_cancel_MASK)) {
        return;
    }
    if (s->phase == CRB_PHASE_EXECUTING) {
        /* The completion arrives as usual, with the TPM's answer. */
        trace_tpm_crb_cancel();
        tpm_backend_cancel_cmd(s->tpmbe);
    } else {
        tpm_crb_discard(s, "cancel");
    }
}

static void tpm_crb_write_loc_ctrl(CRBState *s, uint8_t locty, uint64_t addr,
                                   uint32_t val)
{
    /*
     * One request per write. Only locality 0 is decoded
     * (CapLocality = 0), so seize, which must come from a locality higher
     * than the active one, and resetEstablishmentBit, reserved to
     * localities 3 and 4, can never be honoured.
     */
    if (val == R_CRB_LOC_CTRL_requestAccess_MASK) {
        ARRAY_FIELD_DP32(s->regs, CRB_LOC_STS, Granted, 1);
        ARRAY_FIELD_DP32(s->regs, CRB_LOC_STS, beenSeized, 0);
        ARRAY_FIELD_DP32(s->regs, CRB_LOC_STATE, locAssigned, 1);
        ARRAY_FIELD_DP32(s->regs, CRB_LOC_STATE, activeLocality, locty);
        trace_tpm_crb_locality("request", s->regs[R_CRB_LOC_STATE],
                               s->regs[R_CRB_LOC_STS]);
    } else if (val == R_CRB_LOC_CTRL_relinquish_MASK) {
        ARRAY_FIELD_DP32(s->regs, CRB_LOC_STATE, locAssigned, 0);
        ARRAY_FIELD_DP32(s->regs, CRB_LOC_STS, Granted, 0);
        trace_tpm_crb_locality("relinquish", s->regs[R_CRB_LOC_STATE],
                               s->regs[R_CRB_LOC_STS]);
        if (s->phase != CRB_PHASE_EXECUTING) {
            tpm_crb_discard(s, "relinquish");
        }
    } else if (val == R_CRB_LOC_CTRL_seize_MASK) {
        trace_tpm_crb_write_ignored(addr, val, "seize from locality 0");
    } else if (val == R_CRB_LOC_CTRL_resetEstablishmentBit_MASK) {
        trace_tpm_crb_write_ignored(addr, val, "only localities 3 and 4");
    } else if (val) {
        trace_tpm_crb_write_ignored(addr, val, "not a single request");
    }
}

/*
 * What holds between any two events, whatever the guest or the backend
 * did: at most B bytes buffered each way, invoke = 1 exactly while the
 * backend owns a command, the phase matching the buffers. Returns what
 * is broken, or NULL.
 */
static const char *tpm_crb_broken_invariant(CRBState *s)
{
    uint32_t cmd_len = s->command_buffer->len;
    uint32_t rsp_len = s->response_buffer->len;

    /*
     * The device's own answer to a framing error is a header, even
     * where B is smaller.
     */
    if (cmd_len > s->be_buffer_size ||
        rsp_len > MAX(s->be_buffer_size, TPM_HEADER_SIZE)) {
        return "a buffer exceeds the TPM buffer";
    }
    if (ARRAY_FIELD_EX32(s->regs, CRB_CTRL_START, invoke) !=
        (s->phase == CRB_PHASE_EXECUTING)) {
        return "invoke disagrees with the phase";
    }
    switch (s->phase) {
    case CRB_PHASE_IDLE:
        if (cmd_len || rsp_len || s->response_offset) {
            return "buffers kept while idle";
        }
        break;
    case CRB_PHASE_UPLOAD:
        if (cmd_len < TPM_HEADER_SIZE || rsp_len ||
            cmd_len > tpm_cmd_get_size(s->command_buffer->data)) {
            return "upload inconsistent with its header";
        }
        break;
    case CRB_PHASE_REFUSED:
        if (cmd_len != TPM_HEADER_SIZE || rsp_len ||
            tpm_cmd_get_size(s->command_buffer->data) == TPM_HEADER_SIZE) {
            return "refusal without its refused header";
        }
        break;
    case CRB_PHASE_EXECUTING:
        break;
    case CRB_PHASE_DOWNLOAD:
    case CRB_PHASE_DRAINED:
        if (cmd_len || rsp_len < TPM_HEADER_SIZE ||
            (s->phase == CRB_PHASE_DOWNLOAD) !=
            (s->response_offset < rsp_len) ||
            s->response_offset > rsp_len) {
            return "response inconsistent with its offset";
        }
        break;
    }
    return NULL;
}

/*
 * Checked after each MMIO write and each completion. The fuzzing build
 * stops at the step that broke an invariant, so that a slip is found
 * where it is made; elsewhere the guest gets a logged error and the
 * transfer is dropped, and the device carries on.
 */
static void tpm_crb_check_invariants(CRBState *s)
{
    const char *broken = tpm_crb_broken_invariant(s);

    if (!broken) {
        return;
    }
#ifdef CONFIG_FUZZ
    error_report("tpm-crb: %s in phase %s", broken, crb_phase_name[s->phase]);
    abort();
#else
    qemu_log_mask(LOG_GUEST_ERROR, "tpm-crb: %s in phase %s; transfer "
                  "dropped\n", broken, crb_phase_name[s->phase]);
    if (s->phase == CRB_PHASE_EXECUTING) {
        /* The backend owns the command; its completion ends it. */
        ARRAY_FIELD_DP32(s->regs, CRB_CTRL_START, invoke, 1);
        return;
    }
    ARRAY_FIELD_DP32(s->regs, CRB_CTRL_START, invoke, 0);
    tpm_crb_discard(s, "broken invariant");
#endif
}

static uint64_t tpm_crb_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    CRBState *s = CRB(opaque);
    unsigned shift = 8 * (addr & 3);
    uint32_t reg = s->regs[addr >> 2];
    uint32_t val;

    if ((addr & ~3) == A_CRB_LOC_STATE) {
        /* Bit 0 from the backend's established flag, as always. */
        reg |= !tpm_backend_get_tpm_established_flag(s->tpmbe);
    }
    /* The dispatcher only passes aligned accesses; stay inside anyway. */
    val = extract32(reg, shift, MIN(8 * size, 32 - shift));

    trace_tpm_crb_mmio_read(addr, size, val);
    return val;
}

static void tpm_crb_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                               unsigned size)
{
    CRBState *s = CRB(opaque);
    /* The register as the access sees it: bytes land at their offset. */
    uint32_t v = (uint32_t)val << (8 * (addr & 3));
    uint8_t locty = addr >> TPM_CRB_LOCALITY_SHIFT;

    trace_tpm_crb_mmio_write(addr, size, val);

    switch (addr & ~3) {
    case A_CRB_LOC_CTRL:
        tpm_crb_write_loc_ctrl(s, locty, addr, v);
        break;
    case A_CRB_CTRL_REQ:
        tpm_crb_write_ctrl_req(s, addr, v);
        break;
    case A_CRB_CTRL_CANCEL:
        tpm_crb_write_cancel(s, addr, v);
        break;
    case A_CRB_CTRL_START:
        tpm_crb_write_start(s, locty, addr, v);
        break;
    default:
        /* Status, identity, size and address registers are read-only. */
        trace_tpm_crb_write_ignored(addr, v, "read-only register");
        break;
    }
    tpm_crb_check_invariants(s);
}

static const MemoryRegionOps tpm_crb_memory_ops = {
    .read = tpm_crb_mmio_read,
    .write = tpm_crb_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 4,
    },
};

/*
 * The backend finished (on the main loop). Its response is accepted only
 * when its declared size R satisfies 10 <= R <= B and R <= the bytes it
 * produced; anything else is a backend failure, which alone sets tpmSts.
 * A backend that knows how many bytes it received may lower
 * cmd.out_len to that count.
 */
static void tpm_crb_take_response(CRBState *s, int ret)
{
    uint32_t produced = MIN(s->cmd.out_len, s->be_buffer_size);
    uint32_t rsp_size = 0, rc = 0;

    ARRAY_FIELD_DP32(s->regs, CRB_CTRL_START, invoke, 0);
    g_byte_array_set_size(s->command_buffer, 0);
    if (s->phase != CRB_PHASE_EXECUTING) {
        return;
    }
    tpm_crb_set_phase(s, CRB_PHASE_IDLE);

    if (ret == 0 && produced >= TPM_HEADER_SIZE) {
        rsp_size = tpm_cmd_get_size(s->response_buffer->data);
        rc = tpm_cmd_get_errcode(s->response_buffer->data);
    }
    trace_tpm_crb_request_completed(ret, rsp_size, rc);

    if (ret != 0 || rsp_size < TPM_HEADER_SIZE || rsp_size > produced) {
        uint8_t failure[TPM_HEADER_SIZE];

        trace_tpm_crb_backend_failure(ret, rsp_size, produced,
                                      s->be_buffer_size);
        /* A real TPM's failure mode: stays set until reset. */
        ARRAY_FIELD_DP32(s->regs, CRB_CTRL_STS, tpmSts, 1);
        tpm_crb_discard(s, "backend failure");
        /* The window shows the backend's failure answer, as always. */
        tpm_util_write_fatal_error_response(failure, sizeof(failure));
        tpm_crb_window_fill(s, failure, sizeof(failure));
        return;
    }

    g_byte_array_set_size(s->response_buffer, rsp_size);
    tpm_crb_response_ready(s);
}

static void tpm_crb_request_completed(TPMIf *ti, int ret)
{
    CRBState *s = CRB(ti);

    /*
     * Outside the VM stop handler, a completion during a save comes from
     * a wait in some pre_save hook, after guest RAM was sent.
     */
    if (runstate_check(RUN_STATE_FINISH_MIGRATE) ||
        runstate_check(RUN_STATE_SAVE_VM)) {
        s->completed_while_saving = true;
    }
    tpm_crb_take_response(s, ret);
    tpm_crb_check_invariants(s);
}

/*
 * The VM stops (a migration's switchover, savevm, a pause): finish an
 * executing command now, so that its response is in the window, and the
 * window marked dirty, before guest RAM is sent for the last time. The
 * device's own state is saved only after RAM, which is too late to write
 * into the window. Bounded: a TPM that does not answer makes the save
 * fail in pre_save, and the command is left to finish.
 */
static void tpm_crb_vm_state_change(void *opaque, bool running,
                                    RunState state)
{
    CRBState *s = opaque;

    if (running || state == RUN_STATE_SHUTDOWN) {
        return;
    }
    if (s->phase == CRB_PHASE_EXECUTING) {
        trace_tpm_crb_stop_wait(RunState_str(state));
        if (!tpm_backend_finish_sync_timeout(s->tpmbe,
                                             TPM_BACKEND_FINISH_TIMEOUT_MS)) {
            trace_tpm_crb_stop_wait_timeout(TPM_BACKEND_FINISH_TIMEOUT_MS);
            return;
        }
    }
    /* Whatever completed so far is in RAM that has not been sent yet. */
    s->completed_while_saving = false;
}

static enum TPMVersion tpm_crb_get_version(TPMIf *ti)
{
    CRBState *s = CRB(ti);

    return tpm_backend_get_tpm_version(s->tpmbe);
}

/*
 * Migration. The registers travel as before chunking; a transfer in
 * flight travels in the tpm-crb/chunk subsection; the data window is RAM
 * and travels with guest memory. Everything loaded is checked against
 * what this device could have produced before the guest may run.
 */

static bool tpm_crb_pre_save(void *opaque, Error **errp)
{
    CRBState *s = opaque;
    bool late = s->completed_while_saving;

    /*
     * The stop handler finished any executing command before RAM was
     * sent. A command still executing, or one that completed since, has
     * its response outside the stream: fail, the VM runs on and gets it.
     * invoke = 1 never travels.
     */
    s->completed_while_saving = false;
    if (s->phase == CRB_PHASE_EXECUTING) {
        error_setg(errp, "tpm-crb: the TPM command did not complete within "
                   "%d ms of the VM stopping", TPM_BACKEND_FINISH_TIMEOUT_MS);
        return false;
    }
    if (late) {
        error_setg(errp, "tpm-crb: the TPM command completed after guest "
                   "memory was saved; its response would be lost");
        return false;
    }
    return true;
}

/*
 * A command or a response the device holds travels with it: an upload
 * (a refused one too), a response with chunks unread, or one delivered
 * whole and kept for crbRspRetry. Without chunking the buffers are never
 * exposed, and the stream stays as it was before chunking.
 */
static bool tpm_crb_chunk_needed(void *opaque)
{
    CRBState *s = opaque;

    return s->chunking && s->allow_chunk_migration &&
           (s->command_buffer->len || s->response_buffer->len);
}

/*
 * A latched refusal keeps just the refused header. A live upload never
 * holds exactly a header that declares more: its first piece is min(W, S)
 * bytes with W above a header.
 */
static bool tpm_crb_is_refusal(CRBState *s)
{
    return s->command_buffer->len == TPM_HEADER_SIZE &&
           tpm_cmd_get_size(s->command_buffer->data) != TPM_HEADER_SIZE;
}

/*
 * A source may buffer whole chunks of a command whose declared size the
 * TPM cannot take and refuse it only at invoke (QEMU 11.1 does). Latch
 * the refusal here as this device would have: keep just the header.
 */
static bool tpm_crb_take_incoming_refusal(CRBState *s)
{
    uint32_t len = s->command_buffer->len;
    const char *refused;

    if (len < TPM_HEADER_SIZE || len % s->data_buffer_size) {
        return false;
    }
    refused = tpm_crb_size_refused(s, tpm_cmd_get_size(
                                          s->command_buffer->data));
    if (!refused) {
        return false;
    }
    trace_tpm_crb_refusal_latched(refused,
                                  tpm_cmd_get_size(s->command_buffer->data));
    g_byte_array_set_size(s->command_buffer, TPM_HEADER_SIZE);
    return true;
}

/* PTP v1.07 §6.5.3.9: every command piece but the last fills the window. */
static bool tpm_crb_check_upload(CRBState *s, Error **errp)
{
    uint32_t len = s->command_buffer->len;
    uint32_t declared;

    if (len < TPM_HEADER_SIZE) {
        error_setg(errp, "tpm-crb: incoming command of %" PRIu32 " bytes is "
                   "shorter than a TPM header", len);
        return false;
    }
    declared = tpm_cmd_get_size(s->command_buffer->data);
    if (declared > s->be_buffer_size) {
        error_setg(errp, "tpm-crb: incoming command declares %" PRIu32
                   " bytes, more than the TPM buffer (%" PRIu32 ")",
                   declared, s->be_buffer_size);
        return false;
    }
    if (len > declared) {
        error_setg(errp, "tpm-crb: incoming command of %" PRIu32 " bytes is "
                   "longer than its declared size %" PRIu32, len, declared);
        return false;
    }
    if (len % s->data_buffer_size && len != declared) {
        error_setg(errp, "tpm-crb: incoming command of %" PRIu32 " bytes is "
                   "not a sequence of %" PRIu32 "-byte chunks", len,
                   s->data_buffer_size);
        return false;
    }
    return true;
}

/*
 * A response the guest has read whole windows of: some (DOWNLOAD) or all
 * (DRAINED, kept for crbRspRetry).
 */
static bool tpm_crb_check_response(CRBState *s, Error **errp)
{
    uint32_t len = s->response_buffer->len;
    uint32_t off = s->response_offset;

    if (len < TPM_HEADER_SIZE) {
        error_setg(errp, "tpm-crb: incoming response of %" PRIu32 " bytes "
                   "is shorter than a TPM header", len);
        return false;
    }
    if (tpm_cmd_get_size(s->response_buffer->data) != len) {
        error_setg(errp, "tpm-crb: incoming response header declares %"
                   PRIu32 " bytes but %" PRIu32 " were sent",
                   tpm_cmd_get_size(s->response_buffer->data), len);
        return false;
    }
    if (off > len) {
        error_setg(errp, "tpm-crb: incoming response offset %" PRIu32
                   " is past the end of the response (%" PRIu32 " bytes)",
                   off, len);
        return false;
    }
    if (off != len && (off == 0 || off % s->data_buffer_size)) {
        error_setg(errp, "tpm-crb: incoming response offset %" PRIu32
                   " is not a chunk boundary (%" PRIu32 " bytes, window %"
                   PRIu32 ")", off, len, s->data_buffer_size);
        return false;
    }
    return true;
}

/*
 * The subsection carries no phase, only the two buffers and the offset:
 * the phase follows from them.
 */
static bool tpm_crb_chunk_post_load(void *opaque, int version_id,
                                    Error **errp)
{
    CRBState *s = opaque;

    /* What an older version does with a subsection it lacks: refuse. */
    if (!s->allow_chunk_migration) {
        error_setg(errp, "tpm-crb: incoming state has a transfer in flight "
                   "(tpm-crb/chunk), which this device refuses "
                   "(x-allow-chunk-migration=off)");
        return false;
    }
    if (s->command_buffer->len > s->be_buffer_size) {
        error_setg(errp, "tpm-crb: incoming command of %u bytes exceeds "
                   "the TPM buffer (%" PRIu32 ")", s->command_buffer->len,
                   s->be_buffer_size);
        return false;
    }
    if (s->response_buffer->len > s->be_buffer_size) {
        error_setg(errp, "tpm-crb: incoming response of %u bytes exceeds "
                   "the TPM buffer (%" PRIu32 ")", s->response_buffer->len,
                   s->be_buffer_size);
        return false;
    }

    if (s->command_buffer->len) {
        bool refused = tpm_crb_is_refusal(s) ||
                       tpm_crb_take_incoming_refusal(s);

        if (!refused && !tpm_crb_check_upload(s, errp)) {
            return false;
        }
        /* A source may keep its last response while a command arrives. */
        if (s->response_buffer->len) {
            trace_tpm_crb_discard("stale response in an incoming upload", 0,
                                  s->response_buffer->len);
            g_byte_array_set_size(s->response_buffer, 0);
        }
        s->response_offset = 0;
        tpm_crb_set_phase(s, refused ? CRB_PHASE_REFUSED : CRB_PHASE_UPLOAD);
    } else if (s->response_buffer->len) {
        if (!tpm_crb_check_response(s, errp)) {
            return false;
        }
        tpm_crb_set_phase(s, s->response_offset < s->response_buffer->len ?
                             CRB_PHASE_DOWNLOAD : CRB_PHASE_DRAINED);
    } else if (s->response_offset) {
        error_setg(errp, "tpm-crb: incoming response offset %" PRIu32
                   " without a response", s->response_offset);
        return false;
    }
    return true;
}

static const VMStateDescription vmstate_tpm_crb_chunk = {
    .name = "tpm-crb/chunk",
    .version_id = 0,
    .minimum_version_id = 0,
    .needed = tpm_crb_chunk_needed,
    .post_load_errp = tpm_crb_chunk_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_GBYTEARRAY_BOUNDED(command_buffer, CRBState, 0,
                                   CRB_BUFFER_MAX),
        VMSTATE_GBYTEARRAY_BOUNDED(response_buffer, CRBState, 0,
                                   CRB_BUFFER_MAX),
        VMSTATE_UINT32(response_offset, CRBState),
        VMSTATE_END_OF_LIST(),
    },
};

/* A stream without tpm-crb/chunk carries no transfer: load as IDLE. */
static bool tpm_crb_pre_load(void *opaque, Error **errp)
{
    CRBState *s = opaque;

    /* loadvm into a VM whose TPM did not answer when it stopped */
    if (s->phase == CRB_PHASE_EXECUTING &&
        !tpm_backend_finish_sync_timeout(s->tpmbe,
                                         TPM_BACKEND_FINISH_TIMEOUT_MS)) {
        error_setg(errp, "tpm-crb: a TPM command is still executing; "
                   "cannot load the device's state");
        return false;
    }
    tpm_crb_discard(s, "incoming migration");
    return true;
}

static bool tpm_crb_post_load(void *opaque, int version_id, Error **errp)
{
    CRBState *s = opaque;
    bool cap = ARRAY_FIELD_EX32(s->regs, CRB_INTF_ID, CapCRBChunk);

    if (ARRAY_FIELD_EX32(s->regs, CRB_CTRL_START, invoke)) {
        error_setg(errp, "tpm-crb: incoming state has a command executing "
                   "(invoke = 1)");
        return false;
    }
    /*
     * nextChunk and crbRspRetry are acted on before their write returns,
     * so no source ever sends them set; loaded as they are,
     * they would stick for the guest to read.
     */
    if (s->regs[R_CRB_CTRL_START]) {
        error_setg(errp, "tpm-crb: incoming CTRL_START 0x%" PRIx32 " has "
                   "bits that never stay set", s->regs[R_CRB_CTRL_START]);
        return false;
    }
    if (s->regs[R_CRB_CTRL_CMD_SIZE] != s->data_buffer_size ||
        s->regs[R_CRB_CTRL_RSP_SIZE] != s->data_buffer_size) {
        error_setg(errp, "tpm-crb: incoming data window of %" PRIu32
                   " bytes differs from this device's %" PRIu32,
                   s->regs[R_CRB_CTRL_CMD_SIZE], s->data_buffer_size);
        return false;
    }
    /* The guest driver decided how to talk to the TPM from this bit. */
    if (cap != s->chunking) {
        error_setg(errp, "tpm-crb: incoming state has CapCRBChunk=%d, this "
                   "device has %d (cap-chunk, TPM buffer %" PRIu32 ")",
                   cap, s->chunking, s->be_buffer_size);
        return false;
    }
    if (!s->chunking && s->phase != CRB_PHASE_IDLE) {
        error_setg(errp, "tpm-crb: incoming state has a chunked transfer "
                   "in flight, but this device does not offer chunking");
        return false;
    }
    return true;
}

static const VMStateDescription vmstate_tpm_crb = {
    .name = "tpm-crb",
    .pre_save_errp = tpm_crb_pre_save,
    .pre_load_errp = tpm_crb_pre_load,
    .post_load_errp = tpm_crb_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_ARRAY(regs, CRBState, TPM_CRB_R_MAX),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_tpm_crb_chunk,
        NULL
    },
};

static const Property tpm_crb_properties[] = {
    DEFINE_PROP_TPMBE("tpmdev", CRBState, tpmbe),
    DEFINE_PROP_BOOL("ppi", CRBState, ppi_enabled, true),
    /* Off by default: the guest ABI and the stream stay as before. */
    DEFINE_PROP_BOOL("cap-chunk", CRBState, cap_chunk, false),
    DEFINE_PROP_BOOL("x-allow-chunk-migration", CRBState,
                     allow_chunk_migration, false),
    DEFINE_PROP_UINT32("x-data-buffer-size", CRBState, data_buffer_size,
                       TPM_CRB_DATA_BUFFER_SIZE),
};

static void tpm_crb_reset(void *dev)
{
    CRBState *s = CRB(dev);
    uint32_t window = s->data_buffer_size;
    hwaddr databuf = TPM_CRB_ADDR_BASE + A_CRB_DATA_BUFFER;
    size_t b;

    if (s->ppi_enabled) {
        tpm_ppi_reset(&s->ppi);
    }
    /* Waits for an executing command; its completion runs first. */
    tpm_backend_reset(s->tpmbe);
    if (s->phase == CRB_PHASE_EXECUTING) {
        /* The backend never completed: nothing may point at our buffers. */
        s->phase = CRB_PHASE_IDLE;
    }
    tpm_crb_discard(s, "reset");

    /*
     * Advertise CapCRBChunk only when chunking can help, i.e.
     * the TPM takes commands larger than the window.
     */
    b = MIN(tpm_backend_get_buffer_size(s->tpmbe), CRB_BUFFER_MAX);
    s->chunking = s->cap_chunk && b > window;
    s->be_buffer_size = s->chunking ? b : MIN(b, window);

    memset(s->regs, 0, sizeof(s->regs));

    ARRAY_FIELD_DP32(s->regs, CRB_LOC_STATE, tpmRegValidSts, 1);
    ARRAY_FIELD_DP32(s->regs, CRB_CTRL_STS, tpmIdle, 1);
    ARRAY_FIELD_DP32(s->regs, CRB_INTF_ID, InterfaceType,
                     CRB_INTF_TYPE_CRB_ACTIVE);
    ARRAY_FIELD_DP32(s->regs, CRB_INTF_ID, InterfaceVersion,
                     CRB_INTF_VERSION_CRB);
    ARRAY_FIELD_DP32(s->regs, CRB_INTF_ID, CapLocality,
                     CRB_INTF_CAP_LOCALITY_0_ONLY);
    ARRAY_FIELD_DP32(s->regs, CRB_INTF_ID, CapCRBIdleBypass,
                     CRB_INTF_CAP_IDLE_FAST);
    ARRAY_FIELD_DP32(s->regs, CRB_INTF_ID, CapCRBChunk, s->chunking);
    ARRAY_FIELD_DP32(s->regs, CRB_INTF_ID, CapDataXferSizeSupport,
                     CRB_INTF_CAP_XFER_SIZE_64);
    ARRAY_FIELD_DP32(s->regs, CRB_INTF_ID, CapFIFO,
                     CRB_INTF_CAP_FIFO_NOT_SUPPORTED);
    ARRAY_FIELD_DP32(s->regs, CRB_INTF_ID, CapCRB,
                     CRB_INTF_CAP_CRB_SUPPORTED);
    ARRAY_FIELD_DP32(s->regs, CRB_INTF_ID, InterfaceSelector,
                     CRB_INTF_IF_SELECTOR_CRB);
    ARRAY_FIELD_DP32(s->regs, CRB_INTF_ID, RID, 0b0000);
    ARRAY_FIELD_DP32(s->regs, CRB_INTF_ID2, VID, PCI_VENDOR_ID_IBM);

    /* Both buffers are the one data window, W bytes long. */
    s->regs[R_CRB_CTRL_CMD_SIZE] = window;
    s->regs[R_CRB_CTRL_CMD_LADDR] = (uint32_t)databuf;
    s->regs[R_CRB_CTRL_CMD_HADDR] = (uint32_t)(databuf >> 32);
    s->regs[R_CRB_CTRL_RSP_SIZE] = window;
    /* CTRL_RSP_ADDR is one 64-bit register over two array slots. */
    s->regs[R_CRB_CTRL_RSP_ADDR] = (uint32_t)databuf;
    s->regs[R_CRB_CTRL_RSP_ADDR + 1] = (uint32_t)(databuf >> 32);

    trace_tpm_crb_reset(s->be_buffer_size, window, s->chunking);

    if (tpm_backend_startup_tpm(s->tpmbe, s->be_buffer_size) < 0) {
        error_report("tpm-crb: the TPM backend failed to start with a "
                     "buffer of %" PRIu32 " bytes", s->be_buffer_size);
        if (runstate_check(RUN_STATE_PRELAUNCH)) {
            exit(1);
        }
        /*
         * A running VM runs on rather than exiting: the TPM reports a
         * backend failure until a reset starts it again.
         */
        ARRAY_FIELD_DP32(s->regs, CRB_CTRL_STS, tpmSts, 1);
    }
}

static void tpm_crb_realize(DeviceState *dev, Error **errp)
{
    CRBState *s = CRB(dev);

    if (!tpm_find()) {
        error_setg(errp, "at most one TPM device is permitted");
        return;
    }
    if (!s->tpmbe) {
        error_setg(errp, "'tpmdev' property is required");
        return;
    }
    if (s->data_buffer_size < CRB_DATA_BUFFER_MIN ||
        s->data_buffer_size > TPM_CRB_DATA_BUFFER_SIZE) {
        error_setg(errp, "tpm-crb: x-data-buffer-size must be between %d "
                   "and %d bytes, got %" PRIu32, CRB_DATA_BUFFER_MIN,
                   TPM_CRB_DATA_BUFFER_SIZE, s->data_buffer_size);
        return;
    }
    if (s->cap_chunk && !s->allow_chunk_migration) {
        /* Chunk state migrates only where the destination expects it. */
        error_setg(&s->migration_blocker,
                   "tpm-crb: cap-chunk=on migrates only with "
                   "x-allow-chunk-migration=on (the tpm-crb/chunk state of "
                   "QEMU 11.1)");
        if (migrate_add_blocker_normal(&s->migration_blocker, errp) < 0) {
            return;
        }
    }

    /* Both regions are QOM children of the device, finalized with it. */
    memory_region_init_io(&s->mmio, OBJECT(s), &tpm_crb_memory_ops, s,
                          "tpm-crb-mmio", sizeof(s->regs));
    if (!memory_region_init_ram(&s->cmdmem, OBJECT(s), "tpm-crb-cmd",
                                s->data_buffer_size, errp)) {
        if (s->migration_blocker) {
            migrate_del_blocker(&s->migration_blocker);
        }
        return;
    }

    /*
     * The registers are I/O, the window is RAM right after them; bytes
     * between the end of a shrunken window and the end of the page are
     * left unassigned.
     */
    memory_region_add_subregion(get_system_memory(), TPM_CRB_ADDR_BASE,
                                &s->mmio);
    memory_region_add_subregion(get_system_memory(),
                                TPM_CRB_ADDR_BASE + sizeof(s->regs),
                                &s->cmdmem);

    if (s->ppi_enabled) {
        tpm_ppi_init(&s->ppi, get_system_memory(), TPM_PPI_ADDR_BASE,
                     OBJECT(s));
    }

    s->command_buffer = g_byte_array_new();
    s->response_buffer = g_byte_array_new();
    s->phase = CRB_PHASE_IDLE;
    qemu_add_vm_change_state_handler(tpm_crb_vm_state_change, s);

    if (xen_enabled()) {
        tpm_crb_reset(dev);
    } else {
        qemu_register_reset(tpm_crb_reset, dev);
    }
}

static void tpm_crb_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    TPMIfClass *tc = TPM_IF_CLASS(klass);

    /*
     * No unrealize: the device cannot be hot-unplugged, and
     * its backend holds a reference to it (tpm_backend_init()).
     */
    dc->realize = tpm_crb_realize;
    device_class_set_props(dc, tpm_crb_properties);
    dc->vmsd = &vmstate_tpm_crb;
    dc->user_creatable = true;
    dc->desc = "TPM 2.0 CRB interface (PTP v1.07, chunked transfers)";
    tc->model = TPM_MODEL_TPM_CRB;
    tc->get_version = tpm_crb_get_version;
    tc->request_completed = tpm_crb_request_completed;

    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo tpm_crb_info = {
    .name = TYPE_TPM_CRB,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(CRBState),
    .class_init = tpm_crb_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { TYPE_TPM_IF },
        { }
    }
};

static void tpm_crb_register(void)
{
    type_register_static(&tpm_crb_info);
}

type_init(tpm_crb_register)
