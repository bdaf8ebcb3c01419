/*
 * Module initialisation: type_init() registers QOM types before main().
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_MODULE_H
#define QEMU_MODULE_H

/*
 * All objects are linked into one binary, so registration runs from ELF
 * constructors; module_call_init() is kept for source compatibility.
 */
#define module_init(function, type) \
    static void __attribute__((constructor)) do_qemu_init_ ## function(void) \
    { \
        function(); \
    }

typedef enum {
    MODULE_INIT_QOM,
    MODULE_INIT_MIGRATION,
} module_init_type;

#define type_init(function) module_init(function, MODULE_INIT_QOM)
#define migration_init(function) module_init(function, MODULE_INIT_MIGRATION)

static inline void module_call_init(module_init_type type)
{
    (void)type;
}

#endif /* QEMU_MODULE_H */
