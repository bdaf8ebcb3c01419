/*
 * Older include path of hw/core/registerfields.h, kept so that device
 * models written before QEMU moved the header still build.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "hw/core/registerfields.h"
