/*
 * MMIO accessor for the reference TPM CRB driver over the qtest text
 * protocol on a unix socket.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TPM_CRB_QTEST_ACCESSOR_H
#define TPM_CRB_QTEST_ACCESSOR_H

#include "tpm-crb-driver.h"

typedef struct QtestAccessor QtestAccessor;

/*
 * Connect to an emulator's qtest server socket ("-qtest
 * unix:PATH,server=on,wait=off"), retrying until @connect_timeout_ms so
 * that a just-started emulator has time to listen. Every reply must
 * arrive within @reply_timeout_ms.
 */
QtestAccessor *qtest_accessor_connect(const char *path,
                                      unsigned connect_timeout_ms,
                                      unsigned reply_timeout_ms,
                                      Error **errp);

/*
 * The same in two steps: open a connection (the raw fd, close-on-exec),
 * and wrap an open connection; the accessor owns @fd from then on.
 * @label names the connection in error messages.
 */
int qtest_accessor_dial(const char *path, unsigned connect_timeout_ms,
                        Error **errp);
QtestAccessor *qtest_accessor_new_fd(int fd, const char *label,
                                     unsigned reply_timeout_ms);

/*
 * Make sure the next reply read belongs to the next command sent. Needed
 * on a connection shared over time (the bridge session's): a client that
 * died mid-command may have left a partial command line in the server or
 * a late reply in the socket. Sends two lines the server cannot know and
 * discards everything up to the answer to the second one.
 */
bool qtest_accessor_sync(QtestAccessor *qa, Error **errp);

void qtest_accessor_free(QtestAccessor *qa);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QtestAccessor, qtest_accessor_free)

/* The accessor callbacks; their opaque is the QtestAccessor. */
extern const TpmCrbAccessorOps qtest_accessor_ops;

#endif /* TPM_CRB_QTEST_ACCESSOR_H */
