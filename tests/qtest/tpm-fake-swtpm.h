/*
 * A small in-process stand-in for swtpm's control and data channels,
 * for backend faults a real swtpm cannot be made to show: a missing
 * capability, one channel closing while the other stays up.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_TPM_FAKE_SWTPM_H
#define TESTS_TPM_FAKE_SWTPM_H

#include "backends/tpm/tpm_ioctl.h"

typedef struct FakeSwtpm FakeSwtpm;

/* Listen on a fresh socket path; answers with capabilities caps. */
FakeSwtpm *fake_swtpm_new(ptm_cap caps);
const char *fake_swtpm_path(FakeSwtpm *f);
/* All of swtpm 0.7's capabilities that the emulator backend uses. */
ptm_cap fake_swtpm_default_caps(void);
/* Number of TPM commands answered on the data channel. */
unsigned fake_swtpm_commands(FakeSwtpm *f);
/*
 * From now on, answer with a header that declares declared bytes but send
 * only the 10-byte header, and keep the channel open (a truncated
 * response). 0 goes back to well-formed responses.
 */
void fake_swtpm_short_response(FakeSwtpm *f, uint32_t declared);
/*
 * From now on, answer with a response that declares declared bytes and
 * carries all of them (filler after the header): a swtpm that sends more
 * than the buffer QEMU gave it. 0 goes back to well-formed responses.
 */
void fake_swtpm_oversized_response(FakeSwtpm *f, uint32_t declared);
/* Close one channel from the swtpm side (the peer sees EOF). */
void fake_swtpm_close_data(FakeSwtpm *f);
void fake_swtpm_close_ctrl(FakeSwtpm *f);
void fake_swtpm_free(FakeSwtpm *f);

#endif /* TESTS_TPM_FAKE_SWTPM_H */
