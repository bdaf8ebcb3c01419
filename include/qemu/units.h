/*
 * Lean host: size units.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_UNITS_H
#define QEMU_UNITS_H

/* KiB and MiB: the lean host defines them in qemu/osdep.h. */
#include "qemu/osdep.h"

#endif /* QEMU_UNITS_H */
