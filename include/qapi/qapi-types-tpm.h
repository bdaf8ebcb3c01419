/*
 * TPM enumerations that QEMU generates from its QAPI schema.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QAPI_TYPES_TPM_H
#define QAPI_TYPES_TPM_H

typedef enum TpmModel {
    TPM_MODEL_TPM_TIS,
    TPM_MODEL_TPM_CRB,
    TPM_MODEL_TPM_SPAPR,
    TPM_MODEL__MAX,
} TpmModel;

typedef enum TpmType {
    TPM_TYPE_PASSTHROUGH,
    TPM_TYPE_EMULATOR,
    TPM_TYPE__MAX,
} TpmType;

#endif /* QAPI_TYPES_TPM_H */
