/*
 * The QMP command registry and event emission: how any part of the host
 * adds a QMP command or sends a QMP event.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QAPI_QMP_REGISTRY_H
#define QAPI_QMP_REGISTRY_H

#include "qapi/error.h"
#include "qobject/qobject.h"
#include "qobject/qdict.h"

/*
 * A synchronous QMP command. args is the "arguments" object (an empty
 * dict when the client sent none; borrowed). On success set *ret to the
 * result (ownership passes to the caller; leaving it NULL answers {}),
 * on failure set errp. The handler checks its own arguments and should
 * word errors like QEMU: "Parameter 'x' is unexpected",
 * "Parameter 'x' is missing", "Invalid parameter type for 'x',
 * expected: string".
 */
typedef void (QmpCommandFunc)(QDict *args, QObject **ret, Error **errp);

/*
 * Register a command under name. Safe from type_init()/migration_init()
 * constructors; a second registration of the same name replaces the
 * first.
 */
void qmp_register_command(const char *name, QmpCommandFunc *fn);

/* Whether a command of that name is registered. */
bool qmp_command_exists(const char *name);

/*
 * Send an event to every QMP monitor past capabilities negotiation:
 * {"timestamp": {"seconds": S, "microseconds": U}, "event": EVENT,
 *  "data": DATA}. data may be NULL (no "data" member); it is borrowed,
 * the caller keeps its reference.
 */
void qmp_send_event(const char *event, QDict *data);

#endif /* QAPI_QMP_REGISTRY_H */
