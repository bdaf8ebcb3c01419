/*
 * QString: an immutable UTF-8 string value.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QOBJECT_QSTRING_H
#define QOBJECT_QSTRING_H

#include "qobject/qobject.h"

struct QString {
    struct QObjectBase_ base;
    const char *string;
};

QString *qstring_new(void);
QString *qstring_from_str(const char *str);
/* The bytes str[start, end). */
QString *qstring_from_substr(const char *str, size_t start, size_t end);
/* Takes over the GString's buffer. */
QString *qstring_from_gstring(GString *gstr);
const char *qstring_get_str(const QString *qstring);
bool qstring_is_equal(const QObject *x, const QObject *y);
void qstring_destroy_obj(QObject *obj);

static inline void qstring_unref_(QString *q)
{
    qobject_unref(q);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QString, qstring_unref_)

#endif /* QOBJECT_QSTRING_H */
