/*
 * Run states, as QEMU reports them in query-status, and the shutdown and
 * reset requests that the main loop acts on.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef SYSTEM_RUNSTATE_H
#define SYSTEM_RUNSTATE_H

#include "system/reset.h"

typedef enum RunState {
    RUN_STATE_DEBUG,
    RUN_STATE_INMIGRATE,
    RUN_STATE_INTERNAL_ERROR,
    RUN_STATE_IO_ERROR,
    RUN_STATE_PAUSED,
    RUN_STATE_POSTMIGRATE,
    RUN_STATE_PRELAUNCH,
    RUN_STATE_FINISH_MIGRATE,
    RUN_STATE_RESTORE_VM,
    RUN_STATE_RUNNING,
    RUN_STATE_SAVE_VM,
    RUN_STATE_SHUTDOWN,
    RUN_STATE_SUSPENDED,
    RUN_STATE_WATCHDOG,
    RUN_STATE_GUEST_PANICKED,
    RUN_STATE_COLO,
    RUN_STATE__MAX,
} RunState;

const char *RunState_str(RunState state);
RunState runstate_get(void);
void runstate_set(RunState new_state);
bool runstate_check(RunState state);
bool runstate_is_running(void);

/* vm_start/vm_stop move between running and a stopped state. */
int vm_start(void);
int vm_stop(RunState state);

/* Requests handled by the main loop at its next iteration. */
void qemu_system_shutdown_request(ShutdownCause reason);
void qemu_system_reset_request(ShutdownCause reason);
/* Resets all devices now (the reset handlers), as system_reset does. */
void qemu_system_reset(ShutdownCause reason);
/* Main loop helper: true once a shutdown has been requested. */
bool qemu_shutdown_requested_get(void);

const char *ShutdownCause_str(ShutdownCause cause);

/*
 * Run the main loop until a shutdown is requested (quit, SIGTERM, SIGINT,
 * SIGHUP). Installs those signal handlers and ignores SIGPIPE.
 */
void qemu_main_loop(void);
int qemu_main_loop_exit_status(void);
void qemu_main_loop_set_exit_status(int status);

/*
 * Where run-state events go ("STOP", "RESUME", "RESET", "SHUTDOWN"): the
 * QMP monitor installs a sink that turns them into QMP events. guest says
 * whether the guest caused it.
 */
typedef void RunstateEventSink(const char *event, bool guest,
                               ShutdownCause cause);
void runstate_set_event_sink(RunstateEventSink *sink);

/* Called on state changes (running, reason) for listeners. */
typedef void VMChangeStateHandler(void *opaque, bool running, RunState state);
typedef struct VMChangeStateEntry VMChangeStateEntry;
VMChangeStateEntry *qemu_add_vm_change_state_handler(VMChangeStateHandler *cb,
                                                     void *opaque);
void qemu_del_vm_change_state_handler(VMChangeStateEntry *e);

#endif /* SYSTEM_RUNSTATE_H */
