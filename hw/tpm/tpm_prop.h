/*
 * The "tpmdev" qdev property: a TPM front end's link to its backend,
 * given on the command line by the backend's id.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_TPM_PROP_H
#define HW_TPM_PROP_H

#include "system/tpm_backend.h"
#include "hw/core/qdev-properties.h"

extern const PropertyInfo qdev_prop_tpm;

#define DEFINE_PROP_TPMBE(_n, _s, _f) \
    DEFINE_PROP(_n, _s, _f, qdev_prop_tpm, TPMBackend *)

#endif /* HW_TPM_PROP_H */
