/*
 * Lean host: QEMU 10.2's path of the qdev header.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_QDEV_CORE_H
#define HW_QDEV_CORE_H

#include "hw/core/qdev.h"

#endif /* HW_QDEV_CORE_H */
