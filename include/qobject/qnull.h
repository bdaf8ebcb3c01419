/*
 * QNull: the JSON null value, a singleton.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QOBJECT_QNULL_H
#define QOBJECT_QNULL_H

#include "qobject/qobject.h"

struct QNull {
    struct QObjectBase_ base;
};

extern QNull qnull_;

/* A new reference to the singleton. */
static inline QNull *qnull(void)
{
    return qobject_ref(&qnull_);
}

#endif /* QOBJECT_QNULL_H */
