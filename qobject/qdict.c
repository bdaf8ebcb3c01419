/*
 * QDict: string-keyed dictionaries of QObjects.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qbool.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qnull.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"

/*
 * The same bucket function as QEMU's QDict (the tdb hash), so that members
 * come out in the same order and our QMP replies match QEMU's byte for
 * byte (clients that compare text, not parsed JSON, keep working).
 */
static unsigned int qdict_bucket(const char *key)
{
    uint32_t value = 0x238F13AFu * (uint32_t)strlen(key);
    unsigned int i;

    for (i = 0; key[i]; i++) {
        value += (uint32_t)(unsigned char)key[i] << (i * 5 % 24);
    }
    value = 1103515243u * value + 12345u;
    return value % QDICT_BUCKET_MAX;
}

QDict *qdict_new(void)
{
    QDict *qd = g_new0(QDict, 1);

    qobject_init(QOBJECT(qd), QTYPE_QDICT);
    return qd;
}

const char *qdict_entry_key(const QDictEntry *entry)
{
    return entry->key;
}

QObject *qdict_entry_value(const QDictEntry *entry)
{
    return entry->value;
}

size_t qdict_size(const QDict *qdict)
{
    return qdict->size;
}

static QDictEntry *qdict_find(const QDict *qdict, const char *key,
                              unsigned int bucket)
{
    QDictEntry *e;

    for (e = qdict->table[bucket]; e; e = e->next) {
        if (!strcmp(e->key, key)) {
            return e;
        }
    }
    return NULL;
}

void qdict_put_obj(QDict *qdict, const char *key, QObject *value)
{
    unsigned int bucket = qdict_bucket(key);
    QDictEntry *e = qdict_find(qdict, key, bucket);

    assert(value);
    if (e) {
        qobject_unref(e->value);
        e->value = value;
        return;
    }
    e = g_new0(QDictEntry, 1);
    e->key = g_strdup(key);
    e->value = value;
    e->next = qdict->table[bucket];
    qdict->table[bucket] = e;
    qdict->size++;
}

void qdict_del(QDict *qdict, const char *key)
{
    unsigned int bucket = qdict_bucket(key);
    QDictEntry **pe;

    for (pe = &qdict->table[bucket]; *pe; pe = &(*pe)->next) {
        QDictEntry *e = *pe;

        if (!strcmp(e->key, key)) {
            *pe = e->next;
            qobject_unref(e->value);
            g_free(e->key);
            g_free(e);
            qdict->size--;
            return;
        }
    }
}

int qdict_haskey(const QDict *qdict, const char *key)
{
    return qdict_find(qdict, key, qdict_bucket(key)) != NULL;
}

QObject *qdict_get(const QDict *qdict, const char *key)
{
    QDictEntry *e = qdict_find(qdict, key, qdict_bucket(key));

    return e ? e->value : NULL;
}

static const QDictEntry *qdict_first_from(const QDict *qdict,
                                          unsigned int bucket)
{
    for (; bucket < QDICT_BUCKET_MAX; bucket++) {
        if (qdict->table[bucket]) {
            return qdict->table[bucket];
        }
    }
    return NULL;
}

const QDictEntry *qdict_first(const QDict *qdict)
{
    return qdict_first_from(qdict, 0);
}

const QDictEntry *qdict_next(const QDict *qdict, const QDictEntry *entry)
{
    if (entry->next) {
        return entry->next;
    }
    return qdict_first_from(qdict, qdict_bucket(entry->key) + 1);
}

bool qdict_is_equal(const QObject *x, const QObject *y)
{
    const QDict *a = qobject_to(QDict, x);
    const QDict *b = qobject_to(QDict, y);
    const QDictEntry *e;

    if (a->size != b->size) {
        return false;
    }
    for (e = qdict_first(a); e; e = qdict_next(a, e)) {
        if (!qobject_is_equal(e->value, qdict_get(b, e->key))) {
            return false;
        }
    }
    return true;
}

void qdict_destroy_obj(QObject *obj)
{
    QDict *qd = qobject_to(QDict, obj);
    unsigned int i;

    for (i = 0; i < QDICT_BUCKET_MAX; i++) {
        QDictEntry *e = qd->table[i];

        while (e) {
            QDictEntry *next = e->next;

            qobject_unref(e->value);
            g_free(e->key);
            g_free(e);
            e = next;
        }
    }
    g_free(qd);
}

void qdict_put_bool(QDict *qdict, const char *key, bool value)
{
    qdict_put(qdict, key, qbool_from_bool(value));
}

void qdict_put_int(QDict *qdict, const char *key, int64_t value)
{
    qdict_put(qdict, key, qnum_from_int(value));
}

void qdict_put_null(QDict *qdict, const char *key)
{
    qdict_put(qdict, key, qnull());
}

void qdict_put_str(QDict *qdict, const char *key, const char *value)
{
    qdict_put(qdict, key, qstring_from_str(value));
}

double qdict_get_double(const QDict *qdict, const char *key)
{
    QNum *qn = qobject_to(QNum, qdict_get(qdict, key));

    g_assert(qn);
    return qnum_get_double(qn);
}

int64_t qdict_get_int(const QDict *qdict, const char *key)
{
    QNum *qn = qobject_to(QNum, qdict_get(qdict, key));

    g_assert(qn);
    return qnum_get_int(qn);
}

bool qdict_get_bool(const QDict *qdict, const char *key)
{
    QBool *qb = qobject_to(QBool, qdict_get(qdict, key));

    g_assert(qb);
    return qbool_get_bool(qb);
}

QList *qdict_get_qlist(const QDict *qdict, const char *key)
{
    return qobject_to(QList, qdict_get(qdict, key));
}

QDict *qdict_get_qdict(const QDict *qdict, const char *key)
{
    return qobject_to(QDict, qdict_get(qdict, key));
}

const char *qdict_get_str(const QDict *qdict, const char *key)
{
    QString *qs = qobject_to(QString, qdict_get(qdict, key));

    g_assert(qs);
    return qstring_get_str(qs);
}

int64_t qdict_get_try_int(const QDict *qdict, const char *key,
                          int64_t def_value)
{
    QNum *qn = qobject_to(QNum, qdict_get(qdict, key));
    int64_t val;

    if (!qn || !qnum_get_try_int(qn, &val)) {
        return def_value;
    }
    return val;
}

bool qdict_get_try_bool(const QDict *qdict, const char *key, bool def_value)
{
    QBool *qb = qobject_to(QBool, qdict_get(qdict, key));

    return qb ? qbool_get_bool(qb) : def_value;
}

const char *qdict_get_try_str(const QDict *qdict, const char *key)
{
    QString *qs = qobject_to(QString, qdict_get(qdict, key));

    return qs ? qstring_get_str(qs) : NULL;
}

QDict *qdict_clone_shallow(const QDict *src)
{
    QDict *dst = qdict_new();
    unsigned int i;

    /*
     * Walk each bucket oldest first so the copy keeps the same order
     * within buckets as the source.
     */
    for (i = 0; i < QDICT_BUCKET_MAX; i++) {
        g_autoptr(GPtrArray) chain = g_ptr_array_new();
        QDictEntry *e;
        int j;

        for (e = src->table[i]; e; e = e->next) {
            g_ptr_array_add(chain, e);
        }
        for (j = (int)chain->len - 1; j >= 0; j--) {
            e = g_ptr_array_index(chain, j);
            qdict_put_obj(dst, e->key, qobject_ref(e->value));
        }
    }
    return dst;
}
