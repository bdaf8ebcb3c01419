/*
 * Character devices created by -chardev: unix sockets in client and
 * server form, found by id.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_CHAR_H
#define QEMU_CHAR_H

#include "qemu/option.h"

typedef struct Chardev {
    char *label;
    char *path;
    bool server;
    bool wait;
    /* Connected stream socket, or -1. */
    int fd;
    /* Listening socket (server form), or -1. */
    int listen_fd;
    bool has_frontend;
    int *pending_fds;
    int n_pending_fds;
    int timeout_ms;
    /* Event-driven front end state (chardev/char.c), or NULL. */
    struct ChardevPrivate *priv;
} Chardev;

/* -chardev BACKEND,id=ID,...; client sockets connect here. */
Chardev *qemu_chr_new_from_opts(QemuOpts *opts, Error **errp);
Chardev *qemu_chr_new_from_string(const char *optstr, Error **errp);
/*
 * The legacy form that -qtest and -qmp take: "unix:PATH[,server=on,
 * wait=off]" (or "none": returns NULL without error). The chardev gets
 * the given label.
 */
Chardev *qemu_chr_new(const char *label, const char *filename, Error **errp);
Chardev *qemu_chr_find(const char *label);
void qemu_chr_delete(Chardev *chr);
/* At exit: flush pending output (bounded wait), close and unlink. */
void qemu_chr_cleanup(void);

#endif /* QEMU_CHAR_H */
