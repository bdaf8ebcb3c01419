/*
 * The bridge's managed session: a background swtpm + emulator pair kept
 * alive between bridge invocations by a keeper process, so that TPM
 * state (loaded sessions, the context-save epoch, transient objects
 * restored by tpm2-tools from its context files) survives from one
 * tpm2-tools command to the next.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TPM_CRB_BRIDGE_SESSION_H
#define TPM_CRB_BRIDGE_SESSION_H

#include "tpm-launch.h"

typedef struct BridgeSessionConfig {
    const char *dir;
    const char *emulator;
    bool emulator_set;      /* given explicitly: must match a running pair */
    const char *swtpm;
    const char *accel;
    unsigned window;        /* 0: device default */
    bool window_set;
    bool no_chunk;
    unsigned idle_timeout_s; /* 0: run until --stop */
} BridgeSessionConfig;

/* $XDG_RUNTIME_DIR/tpm-crb-bridge, else /tmp/tpm-crb-bridge-UID. */
char *bridge_session_default_dir(void);

/*
 * Take the session lock (waiting while another bridge uses the session),
 * start the pair if it is not running, and return the lock fd. Unless
 * @qtest_fd is NULL, the keeper's qtest connection to the emulator goes
 * to *qtest_fd (the caller closes it; the keeper keeps its own copy, so
 * the emulator sees one client for the whole session).
 */
int bridge_session_acquire(const BridgeSessionConfig *cfg, int *qtest_fd,
                           Error **errp);
void bridge_session_release(const char *dir, int lock_fd);

/*
 * Receive a copy of the keeper's qtest connection through the session's
 * handoff socket, without taking the session lock; -1 with *errp set on
 * failure.
 */
int bridge_session_take_qtest_fd(const char *dir, Error **errp);

/* Stop a running pair; false with *errp only on a real failure. */
bool bridge_session_stop(const char *dir, bool *was_running, Error **errp);

/* The keeper's pid if the session's pair runs, else 0. */
pid_t bridge_session_keeper_pid(const char *dir);

#endif /* TPM_CRB_BRIDGE_SESSION_H */
