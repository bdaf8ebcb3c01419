/*
 * Lean host: QEMU 10.2's path of the qdev properties header.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_QDEV_PROPERTIES_H
#define HW_QDEV_PROPERTIES_H

#include "hw/core/qdev-properties.h"

#endif /* HW_QDEV_PROPERTIES_H */
