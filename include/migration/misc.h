/*
 * Migration entry points for the rest of the host: the command line's
 * -incoming, and the QMP commands' implementation.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MIGRATION_MISC_H
#define MIGRATION_MISC_H

/*
 * -incoming URI: "unix:PATH" (listen there), "file:PATH" (read the file)
 * or "defer" (wait for QMP migrate-incoming). Call it once the machine
 * and its devices exist and have been reset; the command line must have
 * put the VM in RUN_STATE_INMIGRATE before the reset, so that the TPM
 * backend waits for the incoming state instead of starting afresh. The
 * stream is read from the main loop. After a successful load the VM
 * runs, or with autostart off (-S) stays paused; after a failed one it
 * stays in "inmigrate" and query-migrate reports the error.
 */
bool qemu_start_incoming_migration(const char *uri, Error **errp);

/* -S: whether a successful incoming migration starts the VM (default). */
void migration_set_incoming_autostart(bool autostart);

/* migrate-incoming exit-on-error: exit(1) after a failed load. */
void migration_set_incoming_exit_on_error(bool exit_on_error);

/* True from -incoming until the incoming stream has loaded. */
bool migration_incoming_pending(void);

/* QMP migrate: start sending the VM state to uri ("unix:", "file:"). */
bool qmp_migrate_uri(const char *uri, Error **errp);
/* QMP migrate-incoming, after -incoming defer. */
bool qmp_migrate_incoming_uri(const char *uri, Error **errp);
/* QMP migrate_cancel. */
void qmp_migrate_cancel_now(void);

/* What query-migrate reports. */
typedef struct MigrationInfoSnapshot {
    /* QEMU's MigrationStatus name; NULL before any migration. */
    const char *status;
    /* Set when status is "failed". */
    const char *error_desc;
    /* Milliseconds from start to completion (completed only). */
    int64_t total_time_ms;
    /* Bytes of stream written (source) or read (destination). */
    uint64_t transferred;
} MigrationInfoSnapshot;

void migration_query(MigrationInfoSnapshot *info);

/*
 * Where MIGRATION events go ({"status": ...}): the QMP monitor installs a
 * sink, as it does for run-state events.
 */
typedef void MigrationEventSink(const char *status);
void migration_set_event_sink(MigrationEventSink *sink);

#endif /* MIGRATION_MISC_H */
