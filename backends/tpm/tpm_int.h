/*
 * TPM backends: definitions shared by the backend implementations but
 * private to backends/tpm.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef BACKENDS_TPM_INT_H
#define BACKENDS_TPM_INT_H

#include "qemu/option.h"

/* Every backend accepts the backend type on its -tpmdev line. */
#define TPM_STANDARD_CMDLINE_OPTS \
    { \
        .name = "type", \
        .type = QEMU_OPT_STRING, \
        .help = "Type of TPM backend", \
    }

/* A blob of TPM state (swtpm's permanent, volatile or save state). */
typedef struct TPMSizedBuffer {
    uint32_t size;
    uint8_t *buffer;
} TPMSizedBuffer;

void tpm_sized_buffer_reset(TPMSizedBuffer *tsb);

/* TPM 1.2 tags and codes (TCG TPM Main Part 2) */
#define TPM_TAG_RQU_COMMAND       0x00c1
#define TPM_TAG_RSP_COMMAND       0x00c4
#define TPM_FAIL                  9
#define TPM_BAD_PARAMETER         3
#define TPM_BAD_ORDINAL           10
#define TPM_ORD_ContinueSelfTest  0x53
#define TPM_ORD_GetTicks          0xf1

/* TPM 2.0 tags and codes (TCG TPM 2.0 Library Part 2) */
#define TPM2_ST_NO_SESSIONS       0x8001
#define TPM2_ST_SESSIONS          0x8002
#define TPM2_CC_SelfTest          0x143
#define TPM2_CC_ReadClock         0x181
#define TPM_RC_FAILURE            0x101

#endif /* BACKENDS_TPM_INT_H */
