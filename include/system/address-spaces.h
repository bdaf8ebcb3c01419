/*
 * The global address spaces.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef SYSTEM_ADDRESS_SPACES_H
#define SYSTEM_ADDRESS_SPACES_H

#include "system/memory.h"

#endif /* SYSTEM_ADDRESS_SPACES_H */
