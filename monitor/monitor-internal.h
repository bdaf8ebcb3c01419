/*
 * QMP internals shared by the server (qmp.c) and the commands
 * (qmp-cmds.c).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MONITOR_INTERNAL_H
#define MONITOR_INTERNAL_H

#include "qapi/qmp-registry.h"

#define QEMU_VERSION_MAJOR 11
#define QEMU_VERSION_MINOR 1
#define QEMU_VERSION_MICRO 0

/* The registered handler, or NULL. */
QmpCommandFunc *qmp_find_command(const char *name);
/* Every registered name, in registration order (caller frees the array). */
GPtrArray *qmp_command_names(void);
/* The query-version result. */
QObject *qmp_version_object(void);
/* Register the commands that qmp-cmds.c implements. */
void qmp_register_builtin_commands(void);

/*
 * Argument checking in QEMU's words: every key of args must be in
 * allowed (NULL-terminated).
 */
bool qmp_check_args(QDict *args, const char *const *allowed, Error **errp);
/* Optional typed arguments; false with errp set on a wrong type. */
bool qmp_arg_str(QDict *args, const char *key, const char **val,
                 Error **errp);
bool qmp_arg_bool(QDict *args, const char *key, bool *val, Error **errp);

#endif /* MONITOR_INTERNAL_H */
