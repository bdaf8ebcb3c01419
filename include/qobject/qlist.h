/*
 * QList: an ordered list of QObjects (the JSON array).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QOBJECT_QLIST_H
#define QOBJECT_QLIST_H

#include <stdint.h>
#include "qobject/qobject.h"

typedef struct QListEntry {
    QObject *value;
    struct QListEntry *next;
    struct QListEntry *prev;
} QListEntry;

struct QList {
    struct QObjectBase_ base;
    QListEntry *head;
    QListEntry *tail;
    size_t size;
};

/* Append value, taking over the caller's reference. */
#define qlist_append(qlist, obj) \
    qlist_append_obj((qlist), QOBJECT(obj))

#define QLIST_FOREACH_ENTRY(qlist, var) \
    for ((var) = (qlist) ? (qlist)->head : NULL; (var); (var) = (var)->next)

static inline QObject *qlist_entry_obj(const QListEntry *entry)
{
    return entry->value;
}

QList *qlist_new(void);
QList *qlist_copy(QList *src);
void qlist_append_obj(QList *qlist, QObject *obj);
void qlist_append_int(QList *qlist, int64_t value);
void qlist_append_bool(QList *qlist, bool value);
void qlist_append_str(QList *qlist, const char *value);
void qlist_append_null(QList *qlist);
/* Remove the first element; the caller owns the returned reference. */
QObject *qlist_pop(QList *qlist);
/* The first element (borrowed), or NULL. */
QObject *qlist_peek(QList *qlist);
int qlist_empty(const QList *qlist);
size_t qlist_size(const QList *qlist);
bool qlist_is_equal(const QObject *x, const QObject *y);
void qlist_destroy_obj(QObject *obj);

static inline const QListEntry *qlist_first(const QList *qlist)
{
    return qlist->head;
}

static inline const QListEntry *qlist_next(const QListEntry *entry)
{
    return entry->next;
}

static inline void qlist_unref_(QList *q)
{
    qobject_unref(q);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QList, qlist_unref_)

#endif /* QOBJECT_QLIST_H */
