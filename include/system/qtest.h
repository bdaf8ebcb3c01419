/*
 * The qtest accelerator and its protocol server.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef SYSTEM_QTEST_H
#define SYSTEM_QTEST_H

#include "qapi/error.h"

/* True once the qtest accelerator is selected (always, in this host). */
extern bool qtest_allowed;

static inline bool qtest_enabled(void)
{
    return qtest_allowed;
}

/* Whether a qtest client drives us (the -qtest server exists). */
bool qtest_driver(void);

/*
 * -qtest CHARDEV [-qtest-log FILE]: start the protocol server on a
 * legacy chardev ("unix:PATH" or "unix:PATH,server=on,wait=off"). A NULL
 * log means stderr, "none" means no log. When the connection closes,
 * the emulator shuts down.
 */
bool qtest_server_init(const char *qtest_chrdev, const char *qtest_log,
                       Error **errp);
void qtest_server_cleanup(void);

/*
 * Fuzzing: process buf as if a qtest client had sent it, on a server of
 * its own with no chardev and no log; replies are appended to reply.
 * Does nothing while a real qtest server exists.
 */
void qtest_server_feed(const uint8_t *buf, size_t len, GString *reply);

#endif /* SYSTEM_QTEST_H */
