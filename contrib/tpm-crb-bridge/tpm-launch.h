/*
 * Start and stop the pair that backs a TPM CRB device for the bridge and
 * the driver tests: a swtpm on a unix control socket and an emulator with
 * a tpm-crb device and a qtest server socket.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TPM_CRB_LAUNCH_H
#define TPM_CRB_LAUNCH_H

#include "qapi/error.h"

typedef struct TpmLaunchConfig {
    const char *emulator;   /* emulator binary */
    const char *swtpm;      /* swtpm binary, NULL: "swtpm" from PATH */
    const char *accel;      /* NULL: qtest if offered, else tcg with -S */
    unsigned window;        /* x-data-buffer-size, 0: device default */
    bool no_chunk;          /* cap-chunk=off, else on where it exists */
    const char *state_dir;  /* swtpm state directory (created if absent) */
    const char *run_dir;    /* sockets and logs */
    const char *const *extra_args; /* NULL-terminated, appended, or NULL */
} TpmLaunchConfig;

typedef struct TpmLaunch {
    GPid swtpm_pid;
    GPid emu_pid;
    char *run_dir;
    char *ctrl_path;
    char *qtest_path;
    char *emu_log;
    char *swtpm_log;
} TpmLaunch;

TpmLaunch *tpm_launch_start(const TpmLaunchConfig *cfg, Error **errp);

/*
 * Report whether both processes still run; when one has gone, reap it and
 * describe which in *why (caller frees).
 */
bool tpm_launch_alive(TpmLaunch *l, char **why);

/* Stop the emulator, then swtpm (SIGTERM, then SIGKILL), and free. */
void tpm_launch_stop(TpmLaunch *l);

/* The last few lines of a log file, for error messages; caller frees. */
char *tpm_launch_log_tail(const char *path);

#endif /* TPM_CRB_LAUNCH_H */
