/*
 * QDict: a string-keyed dictionary of QObjects (the JSON object).
 *
 * Iteration order, and so the order in which members are printed, follows
 * QEMU's: 512 hash buckets walked in order, newest entry first within a
 * bucket. That makes our QMP output byte-compatible with QEMU's.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QOBJECT_QDICT_H
#define QOBJECT_QDICT_H

#include <stdint.h>
#include "qobject/qobject.h"

#define QDICT_BUCKET_MAX 512

typedef struct QDictEntry {
    char *key;
    QObject *value;
    struct QDictEntry *next;
} QDictEntry;

struct QDict {
    struct QObjectBase_ base;
    size_t size;
    QDictEntry *table[QDICT_BUCKET_MAX];
};

QDict *qdict_new(void);
const char *qdict_entry_key(const QDictEntry *entry);
QObject *qdict_entry_value(const QDictEntry *entry);
size_t qdict_size(const QDict *qdict);
/* Store value under key (replacing any), taking over the reference. */
void qdict_put_obj(QDict *qdict, const char *key, QObject *value);
void qdict_del(QDict *qdict, const char *key);
int qdict_haskey(const QDict *qdict, const char *key);
/* Borrowed reference, or NULL. */
QObject *qdict_get(const QDict *qdict, const char *key);
bool qdict_is_equal(const QObject *x, const QObject *y);
const QDictEntry *qdict_first(const QDict *qdict);
const QDictEntry *qdict_next(const QDict *qdict, const QDictEntry *entry);
void qdict_destroy_obj(QObject *obj);

#define qdict_put(qdict, key, obj) \
    qdict_put_obj((qdict), (key), QOBJECT(obj))

void qdict_put_bool(QDict *qdict, const char *key, bool value);
void qdict_put_int(QDict *qdict, const char *key, int64_t value);
void qdict_put_null(QDict *qdict, const char *key);
void qdict_put_str(QDict *qdict, const char *key, const char *value);

/*
 * Typed getters. The plain forms require the member to exist with that
 * type (they abort otherwise, as in QEMU); the _try_ forms return a
 * default or NULL.
 */
double qdict_get_double(const QDict *qdict, const char *key);
int64_t qdict_get_int(const QDict *qdict, const char *key);
bool qdict_get_bool(const QDict *qdict, const char *key);
QList *qdict_get_qlist(const QDict *qdict, const char *key);
QDict *qdict_get_qdict(const QDict *qdict, const char *key);
const char *qdict_get_str(const QDict *qdict, const char *key);
int64_t qdict_get_try_int(const QDict *qdict, const char *key,
                          int64_t def_value);
bool qdict_get_try_bool(const QDict *qdict, const char *key, bool def_value);
const char *qdict_get_try_str(const QDict *qdict, const char *key);

/* A new dict holding new references to src's values. */
QDict *qdict_clone_shallow(const QDict *src);

static inline void qdict_unref_(QDict *q)
{
    qobject_unref(q);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QDict, qdict_unref_)

#endif /* QOBJECT_QDICT_H */
