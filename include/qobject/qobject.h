/*
 * QObject: the reference-counted base of QEMU's JSON-like value types
 * (QNull, QNum, QString, QDict, QList, QBool), with QEMU's API.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QOBJECT_QOBJECT_H
#define QOBJECT_QOBJECT_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum QType {
    QTYPE_NONE,
    QTYPE_QNULL,
    QTYPE_QNUM,
    QTYPE_QSTRING,
    QTYPE_QDICT,
    QTYPE_QLIST,
    QTYPE_QBOOL,
    QTYPE__MAX,
} QType;

typedef struct QObject QObject;
typedef struct QNull QNull;
typedef struct QNum QNum;
typedef struct QString QString;
typedef struct QDict QDict;
typedef struct QList QList;
typedef struct QBool QBool;

struct QObjectBase_ {
    QType type;
    size_t refcnt;
};

struct QObject {
    struct QObjectBase_ base;
};

/*
 * Every concrete type starts with "struct QObjectBase_ base", so a pointer
 * to it is also a pointer to its QObject.
 */
#define QOBJECT(obj) ({ \
    typeof(obj) _qobj_ = (obj); \
    _qobj_ ? (QObject *)&_qobj_->base : NULL; \
})

/* Per-type tags for qobject_to(). */
#define QTYPE_CAST_TO_QNull     QTYPE_QNULL
#define QTYPE_CAST_TO_QNum      QTYPE_QNUM
#define QTYPE_CAST_TO_QString   QTYPE_QSTRING
#define QTYPE_CAST_TO_QDict     QTYPE_QDICT
#define QTYPE_CAST_TO_QList     QTYPE_QLIST
#define QTYPE_CAST_TO_QBool     QTYPE_QBOOL

/* Downcast: the object as TYPE, or NULL when it is another type (or NULL). */
#define qobject_to(type, obj) \
    ((type *)qobject_check_type((obj), QTYPE_CAST_TO_##type))

void qobject_ref_impl(QObject *obj);
void qobject_unref_impl(QObject *obj);
void qobject_destroy(QObject *obj);

/* Take a reference; returns obj with its own type. NULL is allowed. */
#define qobject_ref(obj) ({ \
    typeof(obj) _ref_obj_ = (obj); \
    qobject_ref_impl(QOBJECT(_ref_obj_)); \
    _ref_obj_; \
})

/* Drop a reference, destroying the object with the last one. */
#define qobject_unref(obj) qobject_unref_impl(QOBJECT(obj))

static inline void qobject_init(QObject *obj, QType type)
{
    obj->base.refcnt = 1;
    obj->base.type = type;
}

static inline QType qobject_type(const QObject *obj)
{
    return obj->base.type;
}

static inline QObject *qobject_check_type(const QObject *obj, QType type)
{
    if (obj && qobject_type(obj) == type) {
        return (QObject *)obj;
    }
    return NULL;
}

/* Deep comparison; numbers compare by value across int/uint/double. */
bool qobject_is_equal(const QObject *x, const QObject *y);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(QObject, qobject_unref_impl)

#endif /* QOBJECT_QOBJECT_H */
