/*
 * QNum: JSON numbers, held as a signed or unsigned 64-bit integer or a
 * double, as in QEMU.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QOBJECT_QNUM_H
#define QOBJECT_QNUM_H

#include <stdint.h>
#include "qobject/qobject.h"

typedef enum {
    QNUM_I64,
    QNUM_U64,
    QNUM_DOUBLE,
} QNumKind;

struct QNum {
    struct QObjectBase_ base;
    QNumKind kind;
    union {
        int64_t i64;
        uint64_t u64;
        double dbl;
    } u;
};

QNum *qnum_from_int(int64_t value);
QNum *qnum_from_uint(uint64_t value);
QNum *qnum_from_double(double value);

/* Whether the value fits the type exactly; the value goes to *val. */
bool qnum_get_try_int(const QNum *qn, int64_t *val);
bool qnum_get_try_uint(const QNum *qn, uint64_t *val);
/* As above, but the value must fit (abort otherwise). */
int64_t qnum_get_int(const QNum *qn);
uint64_t qnum_get_uint(const QNum *qn);
double qnum_get_double(const QNum *qn);

/* The number in JSON form. */
char *qnum_to_string(QNum *qn);

bool qnum_is_equal(const QObject *x, const QObject *y);
void qnum_destroy_obj(QObject *obj);

static inline void qnum_unref_(QNum *q)
{
    qobject_unref(q);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QNum, qnum_unref_)

#endif /* QOBJECT_QNUM_H */
