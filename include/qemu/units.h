/*
 * Lean host: size units.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_UNITS_H
#define QEMU_UNITS_H

#define KiB (1024)
#define MiB (1024 * KiB)

#endif /* QEMU_UNITS_H */
