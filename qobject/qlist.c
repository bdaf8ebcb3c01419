/*
 * QList: ordered lists of QObjects.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qbool.h"
#include "qobject/qlist.h"
#include "qobject/qnull.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"

QList *qlist_new(void)
{
    QList *ql = g_new0(QList, 1);

    qobject_init(QOBJECT(ql), QTYPE_QLIST);
    return ql;
}

QList *qlist_copy(QList *src)
{
    QList *dst = qlist_new();
    QListEntry *e;

    QLIST_FOREACH_ENTRY(src, e) {
        qlist_append_obj(dst, qobject_ref(e->value));
    }
    return dst;
}

void qlist_append_obj(QList *qlist, QObject *obj)
{
    QListEntry *e = g_new0(QListEntry, 1);

    assert(obj);
    e->value = obj;
    e->prev = qlist->tail;
    if (qlist->tail) {
        qlist->tail->next = e;
    } else {
        qlist->head = e;
    }
    qlist->tail = e;
    qlist->size++;
}

void qlist_append_int(QList *qlist, int64_t value)
{
    qlist_append(qlist, qnum_from_int(value));
}

void qlist_append_bool(QList *qlist, bool value)
{
    qlist_append(qlist, qbool_from_bool(value));
}

void qlist_append_str(QList *qlist, const char *value)
{
    qlist_append(qlist, qstring_from_str(value));
}

void qlist_append_null(QList *qlist)
{
    qlist_append(qlist, qnull());
}

QObject *qlist_pop(QList *qlist)
{
    QListEntry *e;
    QObject *obj;

    if (!qlist || !qlist->head) {
        return NULL;
    }
    e = qlist->head;
    qlist->head = e->next;
    if (qlist->head) {
        qlist->head->prev = NULL;
    } else {
        qlist->tail = NULL;
    }
    qlist->size--;
    obj = e->value;
    g_free(e);
    return obj;
}

QObject *qlist_peek(QList *qlist)
{
    return qlist && qlist->head ? qlist->head->value : NULL;
}

int qlist_empty(const QList *qlist)
{
    return qlist->head == NULL;
}

size_t qlist_size(const QList *qlist)
{
    return qlist->size;
}

bool qlist_is_equal(const QObject *x, const QObject *y)
{
    const QList *a = qobject_to(QList, x);
    const QList *b = qobject_to(QList, y);
    const QListEntry *ea, *eb;

    if (a->size != b->size) {
        return false;
    }
    for (ea = a->head, eb = b->head; ea && eb; ea = ea->next, eb = eb->next) {
        if (!qobject_is_equal(ea->value, eb->value)) {
            return false;
        }
    }
    return true;
}

void qlist_destroy_obj(QObject *obj)
{
    QList *ql = qobject_to(QList, obj);
    QListEntry *e, *next;

    for (e = ql->head; e; e = next) {
        next = e->next;
        qobject_unref(e->value);
        g_free(e);
    }
    g_free(ql);
}
