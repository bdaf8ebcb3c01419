/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Migration control: outgoing (QMP migrate / migrate_cancel), incoming
 * (-incoming, migrate-incoming), the unix-socket and file transports, the
 * status query-migrate reports, and the run states around them.
 *
 * The device state is small, so a migration is one pass: the VM stops,
 * every section is saved (each pre_save first), the stream is written
 * and the source ends in "postmigrate". On the destination the stream is
 * read on the main loop; only a completely loaded, fully checked stream
 * lets the VM run.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "system/runstate.h"
#include "migration/misc.h"
#include "migration/qemu-file.h"
#include "migration/savevm.h"
#include "trace.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

/*
 * A peer that stops reading or writing for this long fails the
 * migration instead of stalling the main loop forever.
 */
#define MIGRATION_IO_TIMEOUT_S 30

/* QEMU's MigrationStatus values, with their QAPI names. */
typedef enum MigStatus {
    MIG_STATUS_NONE,
    MIG_STATUS_SETUP,
    MIG_STATUS_CANCELLING,
    MIG_STATUS_CANCELLED,
    MIG_STATUS_ACTIVE,
    MIG_STATUS_COMPLETED,
    MIG_STATUS_FAILED,
} MigStatus;

static const char *const mig_status_names[] = {
    [MIG_STATUS_NONE] = "none",
    [MIG_STATUS_SETUP] = "setup",
    [MIG_STATUS_CANCELLING] = "cancelling",
    [MIG_STATUS_CANCELLED] = "cancelled",
    [MIG_STATUS_ACTIVE] = "active",
    [MIG_STATUS_COMPLETED] = "completed",
    [MIG_STATUS_FAILED] = "failed",
};

typedef struct MigrationState {
    const char *direction;
    MigStatus status;
    char *error_desc;
    int64_t start_us;
    int64_t total_ms;
    uint64_t transferred;
} MigrationState;

typedef struct OutgoingState {
    MigrationState st;
    /* The stream while a migration is set up or running. */
    QEMUFile *to;
} OutgoingState;

typedef struct IncomingState {
    MigrationState st;
    bool pending;
    bool deferred;
    bool started;
    bool autostart;
    bool exit_on_error;
    int listen_fd;
    char *listen_path;
    guint listen_watch;
    int load_fd;
} IncomingState;

static OutgoingState outgoing = {
    .st.direction = "outgoing",
};

static IncomingState incoming = {
    .st.direction = "incoming",
    .autostart = true,
    .listen_fd = -1,
    .load_fd = -1,
};

/* The one query-migrate describes: whichever changed last. */
static MigrationState *last_migration;
static MigrationEventSink *event_sink;

void migration_set_event_sink(MigrationEventSink *sink)
{
    event_sink = sink;
}

static void migration_set_status(MigrationState *st, MigStatus status)
{
    trace_migration_set_status(st->direction, mig_status_names[status]);
    st->status = status;
    last_migration = st;
    if (event_sink) {
        event_sink(mig_status_names[status]);
    }
}

static void migration_begin(MigrationState *st)
{
    g_clear_pointer(&st->error_desc, g_free);
    st->start_us = g_get_monotonic_time();
    st->total_ms = 0;
    st->transferred = 0;
    migration_set_status(st, MIG_STATUS_SETUP);
}

static void migration_finish(MigrationState *st, MigStatus status,
                             Error *err)
{
    st->total_ms = (g_get_monotonic_time() - st->start_us) / 1000;
    if (err) {
        g_free(st->error_desc);
        st->error_desc = g_strdup(error_get_pretty(err));
    }
    migration_set_status(st, status);
}

void migration_query(MigrationInfoSnapshot *info)
{
    MigrationState *st = last_migration;

    memset(info, 0, sizeof(*info));
    if (!st) {
        return;
    }
    info->status = mig_status_names[st->status];
    if (st->status == MIG_STATUS_FAILED) {
        info->error_desc = st->error_desc;
    }
    if (st->status == MIG_STATUS_COMPLETED) {
        info->total_time_ms = st->total_ms;
    }
    info->transferred = st->transferred;
}

/* Transports */

typedef enum MigTransport {
    MIG_TRANSPORT_UNIX,
    MIG_TRANSPORT_FILE,
} MigTransport;

static bool migration_parse_uri(const char *uri, MigTransport *transport,
                                const char **path, Error **errp)
{
    if (g_str_has_prefix(uri, "unix:")) {
        *transport = MIG_TRANSPORT_UNIX;
        *path = uri + strlen("unix:");
        if (strlen(*path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            error_setg(errp, "migration: unix socket path too long: '%s'",
                       *path);
            return false;
        }
    } else if (g_str_has_prefix(uri, "file:")) {
        *transport = MIG_TRANSPORT_FILE;
        *path = uri + strlen("file:");
        if (strstr(*path, ",offset=")) {
            error_setg(errp, "migration: file offsets are not supported: "
                       "'%s'", uri);
            return false;
        }
    } else {
        error_setg(errp, "migration: unsupported URI '%s' (supported: "
                   "unix:PATH, file:PATH)", uri);
        return false;
    }
    if (!**path) {
        error_setg(errp, "migration: URI '%s' has no path", uri);
        return false;
    }
    return true;
}

static void unix_addr(struct sockaddr_un *addr, const char *path)
{
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    g_strlcpy(addr->sun_path, path, sizeof(addr->sun_path));
}

static void socket_set_timeouts(int fd)
{
    struct timeval tv = { .tv_sec = MIGRATION_IO_TIMEOUT_S };

    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int migration_open_out(const char *uri, Error **errp)
{
    MigTransport transport;
    struct sockaddr_un addr;
    const char *path;
    int fd;

    if (!migration_parse_uri(uri, &transport, &path, errp)) {
        return -1;
    }
    if (transport == MIG_TRANSPORT_FILE) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
            error_setg_errno(errp, errno, "migration: cannot create '%s'",
                             path);
        }
        return fd;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "migration: cannot create a socket");
        return -1;
    }
    unix_addr(&addr, path);
    if (RETRY_ON_EINTR(connect(fd, (struct sockaddr *)&addr,
                               sizeof(addr))) < 0) {
        error_setg_errno(errp, errno, "Failed to connect to '%s'", path);
        close(fd);
        return -1;
    }
    socket_set_timeouts(fd);
    return fd;
}

/* Outgoing */

static void outgoing_restore_runstate(bool was_running, RunState prev)
{
    /* A failed or cancelled migration leaves the VM as it found it. */
    if (was_running) {
        vm_start();
    } else {
        runstate_set(prev);
    }
}

static void outgoing_run(void *opaque)
{
    RunState prev = runstate_get();
    bool was_running = runstate_is_running();
    Error *err = NULL;
    int ret, close_ret;

    if (outgoing.st.status == MIG_STATUS_CANCELLING) {
        qemu_fclose(g_steal_pointer(&outgoing.to));
        migration_finish(&outgoing.st, MIG_STATUS_CANCELLED, NULL);
        return;
    }
    migration_set_status(&outgoing.st, MIG_STATUS_ACTIVE);
    vm_stop(RUN_STATE_FINISH_MIGRATE);

    ret = qemu_savevm_state(outgoing.to, &err);
    outgoing.st.transferred = qemu_file_tell(outgoing.to);
    close_ret = qemu_fclose(g_steal_pointer(&outgoing.to));
    if (ret == 0 && close_ret < 0) {
        error_setg(&err, "migration: closing the stream failed: %s",
                   g_strerror(-close_ret));
        ret = close_ret;
    }

    if (outgoing.st.status == MIG_STATUS_CANCELLING) {
        error_free(err);
        outgoing_restore_runstate(was_running, prev);
        migration_finish(&outgoing.st, MIG_STATUS_CANCELLED, NULL);
    } else if (ret < 0) {
        outgoing_restore_runstate(was_running, prev);
        migration_finish(&outgoing.st, MIG_STATUS_FAILED, err);
        error_report_err(err);
    } else {
        runstate_set(RUN_STATE_POSTMIGRATE);
        migration_finish(&outgoing.st, MIG_STATUS_COMPLETED, NULL);
    }
}

static bool outgoing_in_progress(void)
{
    switch (outgoing.st.status) {
    case MIG_STATUS_SETUP:
    case MIG_STATUS_ACTIVE:
    case MIG_STATUS_CANCELLING:
        return true;
    default:
        return false;
    }
}

bool qmp_migrate_uri(const char *uri, Error **errp)
{
    Error *err = NULL;
    int fd;

    if (outgoing_in_progress()) {
        error_setg(errp, "There's a migration process in progress");
        return false;
    }
    if (incoming.pending) {
        error_setg(errp, "Guest is waiting for an incoming migration");
        return false;
    }
    if (qemu_savevm_state_blocked(errp)) {
        return false;
    }
    migration_begin(&outgoing.st);
    fd = migration_open_out(uri, &err);
    if (fd < 0) {
        migration_finish(&outgoing.st, MIG_STATUS_FAILED, err);
        error_propagate(errp, err);
        return false;
    }
    outgoing.to = qemu_file_new_fd_output(fd);
    /* The reply goes out first; the state is saved from the main loop. */
    aio_bh_schedule_oneshot(qemu_get_aio_context(), outgoing_run, NULL);
    return true;
}

void qmp_migrate_cancel_now(void)
{
    switch (outgoing.st.status) {
    case MIG_STATUS_SETUP:
    case MIG_STATUS_ACTIVE:
        migration_set_status(&outgoing.st, MIG_STATUS_CANCELLING);
        if (outgoing.to) {
            /* Whatever is still written is dropped; the peer sees EOF. */
            qemu_file_set_error(outgoing.to, -ECANCELED);
        }
        break;
    default:
        break;
    }
}

/* Incoming */

void migration_set_incoming_autostart(bool autostart)
{
    incoming.autostart = autostart;
}

void migration_set_incoming_exit_on_error(bool exit_on_error)
{
    incoming.exit_on_error = exit_on_error;
}

bool migration_incoming_pending(void)
{
    return incoming.pending;
}

static void incoming_stop_listening(void)
{
    if (incoming.listen_watch) {
        g_source_remove(incoming.listen_watch);
        incoming.listen_watch = 0;
    }
    if (incoming.listen_fd >= 0) {
        close(incoming.listen_fd);
        incoming.listen_fd = -1;
    }
    if (incoming.listen_path) {
        unlink(incoming.listen_path);
        g_clear_pointer(&incoming.listen_path, g_free);
    }
}

static void incoming_load(int fd)
{
    QEMUFile *f = qemu_file_new_fd_input(fd);
    Error *err = NULL;
    int ret;

    migration_set_status(&incoming.st, MIG_STATUS_ACTIVE);
    ret = qemu_loadvm_state(f, &err);
    incoming.st.transferred = qemu_file_tell(f);
    qemu_fclose(f);
    if (ret < 0) {
        /* The VM never runs on a partly loaded state. */
        migration_finish(&incoming.st, MIG_STATUS_FAILED, err);
        error_prepend(&err, "load of migration failed: ");
        error_report_err(err);
        if (incoming.exit_on_error) {
            exit(EXIT_FAILURE);
        }
        return;
    }
    incoming.pending = false;
    migration_finish(&incoming.st, MIG_STATUS_COMPLETED, NULL);
    if (incoming.autostart) {
        vm_start();
    } else {
        runstate_set(RUN_STATE_PAUSED);
    }
}

static gboolean incoming_accept(gint fd, GIOCondition cond, gpointer opaque)
{
    int conn = RETRY_ON_EINTR(accept4(fd, NULL, NULL, SOCK_CLOEXEC));

    if (conn < 0) {
        if (errno == EAGAIN || errno == ECONNABORTED) {
            return G_SOURCE_CONTINUE;
        }
        error_report("migration: accept on '%s' failed: %s",
                     incoming.listen_path, g_strerror(errno));
        return G_SOURCE_CONTINUE;
    }
    trace_migration_incoming_accept(incoming.listen_path);
    /* One connection only: the watch goes away with the listener. */
    incoming.listen_watch = 0;
    incoming_stop_listening();
    socket_set_timeouts(conn);
    incoming_load(conn);
    return G_SOURCE_REMOVE;
}

static void incoming_file_bh(void *opaque)
{
    int fd = incoming.load_fd;

    incoming.load_fd = -1;
    incoming_load(fd);
}

static bool incoming_listen_unix(const char *path, Error **errp)
{
    struct sockaddr_un addr;
    struct stat st;
    int fd;

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "migration: cannot create a socket");
        return false;
    }
    /* A stale socket from an earlier run is replaced, nothing else. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(path);
    }
    unix_addr(&addr, path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(fd, 1) < 0) {
        error_setg_errno(errp, errno, "Failed to bind socket to '%s'", path);
        close(fd);
        return false;
    }
    incoming.listen_fd = fd;
    incoming.listen_path = g_strdup(path);
    incoming.listen_watch = qemu_set_fd_handler_glib(fd, G_IO_IN,
                                                     incoming_accept, NULL);
    return true;
}

static bool incoming_start_uri(const char *uri, Error **errp)
{
    MigTransport transport;
    const char *path;

    if (!migration_parse_uri(uri, &transport, &path, errp)) {
        return false;
    }
    if (transport == MIG_TRANSPORT_UNIX) {
        if (!incoming_listen_unix(path, errp)) {
            return false;
        }
    } else {
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
            error_setg_errno(errp, errno, "migration: cannot open '%s'",
                             path);
            return false;
        }
        /* Read once the main loop runs, after start-up has finished. */
        incoming.load_fd = fd;
        aio_bh_schedule_oneshot(qemu_get_aio_context(), incoming_file_bh,
                                NULL);
    }
    incoming.started = true;
    migration_begin(&incoming.st);
    return true;
}

bool qemu_start_incoming_migration(const char *uri, Error **errp)
{
    if (incoming.pending) {
        error_setg(errp, "migration: -incoming was already given");
        return false;
    }
    /* Until the stream has loaded, the TPM must not start afresh. */
    runstate_set(RUN_STATE_INMIGRATE);
    incoming.pending = true;
    if (!strcmp(uri, "defer")) {
        incoming.deferred = true;
        return true;
    }
    return incoming_start_uri(uri, errp);
}

bool qmp_migrate_incoming_uri(const char *uri, Error **errp)
{
    if (!incoming.deferred) {
        error_setg(errp, "'-incoming' was not specified on the command line");
        return false;
    }
    if (incoming.started) {
        error_setg(errp, "The incoming migration has already been started");
        return false;
    }
    return incoming_start_uri(uri, errp);
}
