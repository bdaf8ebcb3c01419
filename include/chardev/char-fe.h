/*
 * Character device front end: how a device or backend talks to a
 * -chardev, with the subset of QEMU's CharBackend API in use.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_CHAR_FE_H
#define QEMU_CHAR_FE_H

#include "chardev/char.h"

typedef struct CharBackend {
    Chardev *chr;
} CharBackend;

/* Attach be to chr; fails if chr already has a front end. */
bool qemu_chr_fe_init(CharBackend *be, Chardev *chr, Error **errp);
void qemu_chr_fe_deinit(CharBackend *be, bool del);
Chardev *qemu_chr_fe_get_driver(CharBackend *be);
bool qemu_chr_fe_backend_connected(CharBackend *be);

/*
 * Blocking I/O on a connected stream chardev. Return the number of bytes
 * moved, or -1 with errno set (0 on read means the peer closed).
 */
int qemu_chr_fe_write_all(CharBackend *be, const uint8_t *buf, int len);
int qemu_chr_fe_read_all(CharBackend *be, uint8_t *buf, int len);
/* File descriptors sent (SCM_RIGHTS) with the next write. */
int qemu_chr_fe_set_msgfds(CharBackend *be, int *fds, int num);
/* Bound each later blocking read/write to timeout_ms (0: no bound). */
void qemu_chr_fe_set_timeout(CharBackend *be, int timeout_ms);

#endif /* QEMU_CHAR_FE_H */
