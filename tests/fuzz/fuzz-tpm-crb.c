/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libFuzzer target: the tpm-crb device, driven by guest MMIO.
 *
 * An input is two configuration bytes (cap-chunk, cancel behaviour, B and
 * W; see fuzz_crb_create) followed by steps: MMIO reads and writes of 1,
 * 2, 4 and 8 bytes at any offset (aligned or not) of the register block
 * and the data window, shortcuts for the plausible register writes and
 * command headers, device resets, and backend verdicts (answer, answer
 * with a malformed response, fail; without one the command stays
 * stalled). Completions arrive through the main loop, which runs after
 * every step; then the device's transfer state is checked against SPEC
 * §4: never more than B bytes buffered, a valid phase, Start set exactly
 * while the backend owns a command, never stuck once it answered. The
 * data window is an allocation of exactly W bytes, so ASan catches any
 * write past it.
 */

#include "qemu/osdep.h"
#include "hw/acpi/tpm.h"
#include "hw/tpm/tpm_crb_internal.h"
#include "system/memory.h"
#include "system/reset.h"
#include "system/runstate.h"
#include "system/tpm_util.h"
#include "fuzz-common.h"
#include "fuzz-crb-env.h"

/* Steps per input: enough for long chunked transfers, bounded in time. */
#define MAX_STEPS 4096

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_crb_env_init();
    return 0;
}

/* A command header in the window: mostly plausible sizes. */
static void write_header(FuzzInput *in, const TPMCRBDebugState *st)
{
    uint8_t hdr[TPM_HEADER_SIZE];
    uint8_t how = fuzz_u8(in);
    uint32_t size;

    switch (how & 7) {
    case 0:
        size = TPM_HEADER_SIZE + fuzz_u8(in);
        break;
    case 1:
        size = st->window_size + fuzz_u16(in) % 64 - 32;
        break;
    case 2:
        size = st->buffer_size + fuzz_u8(in) % 16 - 8;
        break;
    case 3:
        size = fuzz_u8(in) % TPM_HEADER_SIZE;
        break;
    case 4:
        size = 2 * st->window_size + fuzz_u8(in) % 3;
        break;
    default:
        size = fuzz_u32(in);
        break;
    }
    stw_be_p(hdr, how & 8 ? 0x8002 : 0x8001);
    stl_be_p(hdr + 2, size);
    stl_be_p(hdr + 6, 0x17b);
    address_space_write(&address_space_memory,
                        TPM_CRB_ADDR_BASE + A_CRB_DATA_BUFFER,
                        MEMTXATTRS_UNSPECIFIED, hdr, sizeof(hdr));
}

static void backend_verdict(FuzzInput *in, const TPMCRBDebugState *st)
{
    uint8_t how = fuzz_u8(in);
    Verdict v = { .kind = how % VERDICT__MAX, .rc = how & 0x80 ? 0x101 : 0 };
    uint32_t r = TPM_HEADER_SIZE + fuzz_u16(in) % (st->buffer_size + 1);

    switch (v.kind) {
    case VERDICT_ANSWER:
        v.declared = v.produced = r;
        break;
    case VERDICT_SHORT:
        v.declared = r;
        v.produced = fuzz_u16(in) % r;
        break;
    case VERDICT_BAD_SIZE:
        v.declared = fuzz_u32(in);
        v.produced = r;
        break;
    default:
        break;
    }
    fuzz_crb_verdict(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    FuzzInput in = { data, size };
    uint8_t cfg = fuzz_u8(&in);
    DeviceState *dev = fuzz_crb_create(cfg, fuzz_u8(&in));
    TPMCRBDebugState st;
    unsigned steps;

    fuzz_crb_check(dev);
    for (steps = 0; steps < MAX_STEPS && in.len; steps++) {
        uint8_t op = fuzz_u8(&in);
        uint64_t off;

        tpm_crb_debug_state(dev, &st);
        switch (op % 10) {
        case 0:     /* any write, any size, any offset in the page */
            off = fuzz_u16(&in) % (TPM_CRB_ADDR_SIZE + 8);
            fuzz_crb_mmio_write(off, sizes[(op >> 4) & 3], fuzz_u64(&in));
            break;
        case 1:     /* any read */
            off = fuzz_u16(&in) % (TPM_CRB_ADDR_SIZE + 8);
            fuzz_crb_mmio_read(off, sizes[(op >> 4) & 3]);
            break;
        case 2:     /* a register write of the usual kind */
            off = A_CRB_LOC_CTRL + 4 * (fuzz_u8(&in) % 0x20);
            fuzz_crb_mmio_write(off, 4, 1u << ((op >> 4) & 3));
            break;
        case 3:
            write_header(&in, &st);
            break;
        case 4:     /* Start, nextChunk, crbRspRetry and combinations */
            fuzz_crb_mmio_write(A_CRB_CTRL_START, 4, (op >> 4) & 7);
            break;
        case 5:
            fuzz_crb_mmio_write(A_CRB_LOC_CTRL, 4, op & 0x10 ? 2 : 1);
            break;
        case 6:
            fuzz_crb_mmio_write(op & 0x10 ? A_CRB_CTRL_CANCEL
                                          : A_CRB_CTRL_REQ,
                                4, (op >> 5) & 3);
            break;
        case 7:
            backend_verdict(&in, &st);
            break;
        case 8:     /* window bytes, as a driver copies a chunk in */
            off = A_CRB_DATA_BUFFER + fuzz_u16(&in) % st.window_size;
            fuzz_crb_mmio_write(off, 8, fuzz_u64(&in));
            break;
        case 9:
            if (op & 0x80) {
                qemu_devices_reset(SHUTDOWN_CAUSE_GUEST_RESET);
            }
            break;
        }
        fuzz_crb_settle();
        fuzz_crb_check(dev);
        /* A backend that answered never leaves Start stuck. */
        if (op % 10 == 7) {
            tpm_crb_debug_state(dev, &st);
            g_assert_false(FIELD_EX32(st.ctrl_start, CRB_CTRL_START, Start));
        }
    }
    fuzz_crb_destroy(dev);
    return 0;
}
