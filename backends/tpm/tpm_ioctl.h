/*
 * Lean host: swtpm's control protocol at the path QEMU keeps its copy
 * (backends/tpm/tpm_ioctl.h), so that test code builds in both; here it
 * is swtpm-dev's own header.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef LEAN_BACKENDS_TPM_TPM_IOCTL_H
#define LEAN_BACKENDS_TPM_TPM_IOCTL_H

#include <swtpm/tpm_ioctl.h>

#endif /* LEAN_BACKENDS_TPM_TPM_IOCTL_H */
