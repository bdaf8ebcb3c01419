/*
 * qobject_from_json() with QEMU's Error ** reporting. Kept apart from
 * qjson.c because libqtest links the QObject code without the Error
 * machinery of util/.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qobject/qjson.h"

QObject *qobject_from_json(const char *string, Error **errp)
{
    g_autofree char *msg = NULL;
    QObject *obj = qobject_from_json_msg(string, &msg);

    if (!obj && msg) {
        error_setg(errp, "%s", msg);
    }
    return obj;
}
