/*
 * Names of TPM 2.0 command and response codes, for the bridge's
 * statistics.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TPM2_CC_NAMES_H
#define TPM2_CC_NAMES_H

/* The name without its TPM2_CC_ prefix, or NULL for an unknown code. */
const char *tpm2_cc_name(uint32_t cc);

/*
 * A short reading of a response code, e.g. "RETRY" or "HANDLE(h1)"
 * (TPM_RC_ without its prefix, plus the handle, session or parameter a
 * format-one code points at); "0x%03x" for codes it does not know.
 * Caller frees.
 */
char *tpm2_rc_describe(uint32_t rc);

#endif /* TPM2_CC_NAMES_H */
