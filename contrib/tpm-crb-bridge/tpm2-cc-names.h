/*
 * Names of TPM 2.0 command codes, for the bridge's statistics.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TPM2_CC_NAMES_H
#define TPM2_CC_NAMES_H

/* The name without its TPM2_CC_ prefix, or NULL for an unknown code. */
const char *tpm2_cc_name(uint32_t cc);

#endif /* TPM2_CC_NAMES_H */
