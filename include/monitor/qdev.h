/*
 * -device: creating devices from the command line, and their help.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MONITOR_QDEV_H
#define MONITOR_QDEV_H

#include "qapi/error.h"
#include "hw/core/qdev.h"

/*
 * Create, configure and realize a device from "DRIVER[,id=ID][,PROP=VAL]"
 * or its JSON form {"driver": ..., "id": ..., PROP: VAL}. The device
 * joins the composition tree at /machine/peripheral/ID, or at
 * /machine/peripheral-anon/device[N] without an id. Returns it (the tree
 * holds the reference) or NULL with errp set.
 */
DeviceState *qdev_device_add_from_str(const char *str, Error **errp);

/*
 * "-device help" / "-device DRIVER,help": print the list or the
 * driver's properties to stdout and return true. False when str asks
 * for no help. An unknown DRIVER sets errp.
 */
bool qdev_device_help(const char *str, Error **errp);

#endif /* MONITOR_QDEV_H */
