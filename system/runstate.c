/*
 * Run states, reset and shutdown requests, and the main loop driver.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "system/runstate.h"
#include "trace.h"

#include <glib-unix.h>
#include <signal.h>

static RunState current_run_state = RUN_STATE_PRELAUNCH;
static ShutdownCause shutdown_requested;
static ShutdownCause reset_requested;
static int exit_status;
static RunstateEventSink *event_sink;
static GList *vm_change_state_handlers;

struct VMChangeStateEntry {
    VMChangeStateHandler *cb;
    void *opaque;
};

static const char *const run_state_names[RUN_STATE__MAX] = {
    [RUN_STATE_DEBUG] = "debug",
    [RUN_STATE_INMIGRATE] = "inmigrate",
    [RUN_STATE_INTERNAL_ERROR] = "internal-error",
    [RUN_STATE_IO_ERROR] = "io-error",
    [RUN_STATE_PAUSED] = "paused",
    [RUN_STATE_POSTMIGRATE] = "postmigrate",
    [RUN_STATE_PRELAUNCH] = "prelaunch",
    [RUN_STATE_FINISH_MIGRATE] = "finish-migrate",
    [RUN_STATE_RESTORE_VM] = "restore-vm",
    [RUN_STATE_RUNNING] = "running",
    [RUN_STATE_SAVE_VM] = "save-vm",
    [RUN_STATE_SHUTDOWN] = "shutdown",
    [RUN_STATE_SUSPENDED] = "suspended",
    [RUN_STATE_WATCHDOG] = "watchdog",
    [RUN_STATE_GUEST_PANICKED] = "guest-panicked",
    [RUN_STATE_COLO] = "colo",
};

static const char *const shutdown_cause_names[SHUTDOWN_CAUSE__MAX] = {
    [SHUTDOWN_CAUSE_NONE] = "none",
    [SHUTDOWN_CAUSE_HOST_ERROR] = "host-error",
    [SHUTDOWN_CAUSE_HOST_QMP_QUIT] = "host-qmp-quit",
    [SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET] = "host-qmp-system-reset",
    [SHUTDOWN_CAUSE_HOST_SIGNAL] = "host-signal",
    [SHUTDOWN_CAUSE_HOST_UI] = "host-ui",
    [SHUTDOWN_CAUSE_GUEST_SHUTDOWN] = "guest-shutdown",
    [SHUTDOWN_CAUSE_GUEST_RESET] = "guest-reset",
    [SHUTDOWN_CAUSE_GUEST_PANIC] = "guest-panic",
    [SHUTDOWN_CAUSE_SUBSYSTEM_RESET] = "subsystem-reset",
    [SHUTDOWN_CAUSE_SNAPSHOT_LOAD] = "snapshot-load",
};

const char *RunState_str(RunState state)
{
    return state < RUN_STATE__MAX ? run_state_names[state] : "unknown";
}

const char *ShutdownCause_str(ShutdownCause cause)
{
    return cause < SHUTDOWN_CAUSE__MAX ? shutdown_cause_names[cause]
                                       : "unknown";
}

void runstate_set_event_sink(RunstateEventSink *sink)
{
    event_sink = sink;
}

static void runstate_event(const char *event, bool guest,
                           ShutdownCause cause)
{
    if (event_sink) {
        event_sink(event, guest, cause);
    }
}

RunState runstate_get(void)
{
    return current_run_state;
}

void runstate_set(RunState new_state)
{
    trace_runstate_set(RunState_str(current_run_state),
                       RunState_str(new_state));
    current_run_state = new_state;
}

bool runstate_check(RunState state)
{
    return current_run_state == state;
}

bool runstate_is_running(void)
{
    return current_run_state == RUN_STATE_RUNNING;
}

static void vm_state_notify(bool running, RunState state)
{
    for (GList *l = vm_change_state_handlers; l; l = l->next) {
        VMChangeStateEntry *e = l->data;

        e->cb(e->opaque, running, state);
    }
}

VMChangeStateEntry *qemu_add_vm_change_state_handler(VMChangeStateHandler *cb,
                                                     void *opaque)
{
    VMChangeStateEntry *e = g_new0(VMChangeStateEntry, 1);

    e->cb = cb;
    e->opaque = opaque;
    vm_change_state_handlers = g_list_append(vm_change_state_handlers, e);
    return e;
}

void qemu_del_vm_change_state_handler(VMChangeStateEntry *e)
{
    vm_change_state_handlers = g_list_remove(vm_change_state_handlers, e);
    g_free(e);
}

int vm_start(void)
{
    if (runstate_is_running()) {
        return 0;
    }
    runstate_set(RUN_STATE_RUNNING);
    vm_state_notify(true, RUN_STATE_RUNNING);
    runstate_event("RESUME", false, SHUTDOWN_CAUSE_NONE);
    return 0;
}

int vm_stop(RunState state)
{
    bool was_running = runstate_is_running();

    runstate_set(state);
    if (was_running) {
        vm_state_notify(false, state);
        runstate_event("STOP", false, SHUTDOWN_CAUSE_NONE);
    }
    return 0;
}

void qemu_system_shutdown_request(ShutdownCause reason)
{
    shutdown_requested = reason ? reason : SHUTDOWN_CAUSE_HOST_ERROR;
    g_main_context_wakeup(NULL);
}

void qemu_system_reset_request(ShutdownCause reason)
{
    reset_requested = reason ? reason : SHUTDOWN_CAUSE_GUEST_RESET;
    g_main_context_wakeup(NULL);
}

bool qemu_shutdown_requested_get(void)
{
    return shutdown_requested != SHUTDOWN_CAUSE_NONE;
}

void qemu_system_reset(ShutdownCause reason)
{
    trace_qemu_system_reset(reason);
    qemu_devices_reset(reason);
    if (reason != SHUTDOWN_CAUSE_NONE &&
        reason != SHUTDOWN_CAUSE_SUBSYSTEM_RESET &&
        reason != SHUTDOWN_CAUSE_SNAPSHOT_LOAD) {
        runstate_event("RESET", reason >= SHUTDOWN_CAUSE_GUEST_SHUTDOWN,
                       reason);
    }
}

static gboolean shutdown_signal(gpointer opaque)
{
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL);
    return G_SOURCE_CONTINUE;
}

void qemu_main_loop(void)
{
    signal(SIGPIPE, SIG_IGN);
    g_unix_signal_add(SIGINT, shutdown_signal, NULL);
    g_unix_signal_add(SIGTERM, shutdown_signal, NULL);
    g_unix_signal_add(SIGHUP, shutdown_signal, NULL);

    while (!shutdown_requested) {
        main_loop_wait(false);
        if (reset_requested) {
            ShutdownCause reason = reset_requested;

            reset_requested = SHUTDOWN_CAUSE_NONE;
            qemu_system_reset(reason);
        }
    }
    runstate_event("SHUTDOWN", shutdown_requested >=
                   SHUTDOWN_CAUSE_GUEST_SHUTDOWN, shutdown_requested);
    if (shutdown_requested == SHUTDOWN_CAUSE_HOST_ERROR && !exit_status) {
        exit_status = 1;
    }
}

int qemu_main_loop_exit_status(void)
{
    return exit_status;
}

void qemu_main_loop_set_exit_status(int status)
{
    exit_status = status;
}
