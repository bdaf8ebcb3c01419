/*
 * tpm-crb: a read-only view of the transfer state, for tests and fuzz
 * targets that check the device's invariants from outside (SPEC §4):
 * never more than B bytes buffered, a valid phase, Start set exactly
 * while a command executes. Not used by the device model itself.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_TPM_TPM_CRB_INTERNAL_H
#define HW_TPM_TPM_CRB_INTERNAL_H

#include "hw/qdev-core.h"

/* The values of the device's transfer phase, in this order. */
enum {
    TPM_CRB_DEBUG_PHASE_IDLE,
    TPM_CRB_DEBUG_PHASE_UPLOAD,
    TPM_CRB_DEBUG_PHASE_EXECUTING,
    TPM_CRB_DEBUG_PHASE_DOWNLOAD,
    TPM_CRB_DEBUG_PHASE_DRAINED,
    TPM_CRB_DEBUG_PHASE__MAX,
};

typedef struct TPMCRBDebugState {
    unsigned phase;
    uint32_t command_len;       /* bytes of the command buffered */
    uint32_t response_len;      /* bytes of the response kept */
    uint32_t response_offset;   /* response bytes given to the guest */
    uint32_t buffer_size;       /* B as used: B, or min(B, W) */
    uint32_t window_size;       /* W */
    bool chunking;              /* CapCRBChunk as advertised */
    uint32_t ctrl_start;        /* CTRL_START as stored */
    uint32_t ctrl_sts;          /* CTRL_STS as stored */
} TPMCRBDebugState;

/* Fill st from dev, which must be a realized tpm-crb. */
void tpm_crb_debug_state(DeviceState *dev, TPMCRBDebugState *st);

#endif /* HW_TPM_TPM_CRB_INTERNAL_H */
