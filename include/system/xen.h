/*
 * Lean host: Xen is never enabled.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef SYSTEM_XEN_H
#define SYSTEM_XEN_H

/* The lean host never runs under Xen. */
static inline bool xen_enabled(void)
{
    return false;
}

#endif /* SYSTEM_XEN_H */
