/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QObject to and from JSON text, with QEMU's extensions: single-quoted
 * strings, and %-interpolation in the *jsonf* forms.
 *
 * Interpolation (outside string literals only): %s (a C string, becomes a
 * JSON string), %d %i %u %ld %lu %lld %llu and the PRId64 / PRIu64 /
 * PRIi64 forms (integers), %f %g (double), %p (a QObject *, whose
 * reference is taken over), %% (a literal '%', for use where JSON allows
 * it, e.g. never; it is accepted and copied). Text inside quotes is
 * never interpolated, as in QEMU.
 */

#ifndef QOBJECT_QJSON_H
#define QOBJECT_QJSON_H

#include <stdarg.h>
#include "qobject/qobject.h"
#include "qobject/qdict.h"

typedef struct Error Error;

/*
 * Parse one JSON value. On failure returns NULL and, when errmsg is not
 * NULL, a message in QEMU's wording ("JSON parse error, ...") that the
 * caller frees. Empty input (only white space) returns NULL with no
 * message.
 */
QObject *qobject_from_json_msg(const char *string, char **errmsg);

/*
 * QEMU's Error-based entry point. Only in the emulator (it needs the
 * Error machinery of util/), not in libqtest.
 */
QObject *qobject_from_json(const char *string, Error **errp);

/* Interpolating forms; they abort on malformed input, as QEMU's do. */
QObject *qobject_from_jsonf_nofail(const char *string, ...)
    G_GNUC_PRINTF(1, 2);
QObject *qobject_from_vjsonf_nofail(const char *string, va_list ap)
    G_GNUC_PRINTF(1, 0);
QDict *qdict_from_jsonf_nofail(const char *string, ...) G_GNUC_PRINTF(1, 2);
QDict *qdict_from_vjsonf_nofail(const char *string, va_list ap)
    G_GNUC_PRINTF(1, 0);

/*
 * Same, reporting failure instead of aborting: NULL with *errmsg set.
 * Used where the format comes from a test table.
 */
QObject *qobject_from_vjsonf_msg(const char *string, va_list ap,
                                 char **errmsg);

/* Serialise as QEMU does: {"a": 1, "b": [true, null]}. */
GString *qobject_to_json(const QObject *obj);
GString *qobject_to_json_pretty(const QObject *obj, bool pretty);

#endif /* QOBJECT_QJSON_H */
