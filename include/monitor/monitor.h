/*
 * The QMP monitor: created by -mon, -qmp and -object monitor-qmp on a
 * socket chardev.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MONITOR_MONITOR_H
#define MONITOR_MONITOR_H

#include "qapi/error.h"
#include "qemu/option.h"
#include "chardev/char.h"
#include "qobject/qobject.h"

/* Attach a QMP monitor to chr (which must be free of other users). */
bool monitor_init_qmp(Chardev *chr, bool pretty, Error **errp);

/*
 * -mon CHARDEV-OPTIONS: "chardev=ID[,mode=control][,pretty=on]". Only
 * mode=control exists in this build; the human monitor does not.
 */
bool monitor_parse_mon(const char *optarg, Error **errp);

/*
 * -qmp / -qmp-pretty DEV: "unix:PATH[,server=on,wait=off]" or "none".
 * Creates the chardev and the monitor.
 */
bool monitor_parse_qmp(const char *optarg, bool pretty, Error **errp);

/* -object monitor-qmp,id=ID,chardev=CHR[,pretty=on]. */
bool monitor_object_add(QemuOpts *opts, Error **errp);

/* Built-in commands and run-state events; call once before monitors. */
void monitor_init_globals(void);

/*
 * Run one request as a monitor would, for the dispatcher's unit tests:
 * returns the response dict (never NULL). negotiated says whether the
 * session is past qmp_capabilities.
 */
QObject *qmp_dispatch_request(QObject *request, bool negotiated);

void monitor_cleanup(void);

#endif /* MONITOR_MONITOR_H */
