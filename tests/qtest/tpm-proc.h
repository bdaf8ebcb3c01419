/*
 * A minimal harness for the TPM backend qtests that must see what
 * libqtest hides: the emulator's exit status and stderr, a plain qtest
 * socket, and a peer QEMU started with its own command line.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_TPM_PROC_H
#define TESTS_TPM_PROC_H

#include <gio/gio.h>
#include "qobject/qdict.h"
#include "qobject/qjson.h"

typedef struct TPMProc {
    GSubprocess *proc;
    char *dir;
    char *qtest_path;
    char *qmp_path;
    char *stderr_path;
    int qtest_fd;
    int qmp_fd;
    GString *qtest_in;
    GString *qmp_in;
    bool exited;
    int exit_status;
} TPMProc;

/*
 * Start binary with args (NULL-terminated) plus, when with_sockets,
 * "-qtest unix:DIR/qtest,server=on,wait=off -qmp unix:DIR/qmp,...".
 * stdout and stderr go to a file read by tpm_proc_stderr().
 */
TPMProc *tpm_proc_spawn(const char *binary, const char *const *args,
                        bool with_sockets);
/* Connect to the qtest (and QMP, if any) sockets, bounded in time. */
void tpm_proc_connect(TPMProc *p, bool with_qmp);
/* Connect a raw stream socket to path, retrying until timeout_ms. */
int tpm_proc_connect_unix(const char *path, int timeout_ms);

/* Wait up to timeout_ms for the process to exit; true if it did. */
bool tpm_proc_wait(TPMProc *p, int timeout_ms);
/* Everything the process wrote to stdout and stderr so far. */
char *tpm_proc_stderr(TPMProc *p);
/* QMP quit, then wait; returns the exit status (-1: did not exit). */
int tpm_proc_quit(TPMProc *p);
/* Kill if running, remove the temporary directory, free. */
void tpm_proc_free(TPMProc *p);

/* qtest text protocol on any connected fd; replies are asserted "OK". */
char *tpm_qtest_cmd(int fd, GString *inbuf, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
uint32_t tpm_qtest_readl(int fd, GString *inbuf, uint64_t addr);
void tpm_qtest_writel(int fd, GString *inbuf, uint64_t addr, uint32_t val);
void tpm_qtest_writeb(int fd, GString *inbuf, uint64_t addr, uint8_t val);
void tpm_qtest_memwrite(int fd, GString *inbuf, uint64_t addr,
                        const void *data, size_t size);
void tpm_qtest_memread(int fd, GString *inbuf, uint64_t addr,
                       void *data, size_t size);

/* Convenience wrappers over p's qtest socket. */
uint32_t tpm_proc_readl(TPMProc *p, uint64_t addr);
void tpm_proc_writel(TPMProc *p, uint64_t addr, uint32_t val);

/* One QMP command; returns the reply object (events skipped). */
QDict *tpm_proc_qmp(TPMProc *p, const char *json);
/*
 * Poll query-migrate (bounded by timeout_ms) until a final status:
 * returns it, and in *desc (if desc) the error-desc of a failure or NULL.
 */
char *tpm_proc_wait_migration(TPMProc *p, int timeout_ms, char **desc);

#endif /* TESTS_TPM_PROC_H */
