/*
 * Lean host: QEMU 10.2's path of the machine header.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BOARDS_H
#define HW_BOARDS_H

#include "hw/core/boards.h"

#endif /* HW_BOARDS_H */
