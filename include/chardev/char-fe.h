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

/*
 * Event-driven use from the main loop (QMP monitor, qtest server), with
 * QEMU's callback types. fd_read gets what arrived, at most what
 * fd_can_read allowed (0 pauses input until qemu_chr_fe_accept_input());
 * fd_event gets CHR_EVENT_OPENED on each connection (at once if already
 * connected, when set_open) and CHR_EVENT_CLOSED when the peer goes.
 * A server chardev then listens for the next client.
 */
typedef enum QEMUChrEvent {
    CHR_EVENT_BREAK,
    CHR_EVENT_OPENED,
    CHR_EVENT_MUX_IN,
    CHR_EVENT_MUX_OUT,
    CHR_EVENT_CLOSED,
} QEMUChrEvent;

typedef int IOCanReadHandler(void *opaque);
typedef void IOReadHandler(void *opaque, const uint8_t *buf, int size);
typedef void IOEventHandler(void *opaque, QEMUChrEvent event);
typedef int BackendChangeHandler(void *opaque);

void qemu_chr_fe_set_handlers(CharBackend *b,
                              IOCanReadHandler *fd_can_read,
                              IOReadHandler *fd_read,
                              IOEventHandler *fd_event,
                              BackendChangeHandler *be_change,
                              void *opaque,
                              GMainContext *context,
                              bool set_open);
void qemu_chr_fe_accept_input(CharBackend *be);
/*
 * Queue len bytes for the peer without blocking (written from the main
 * loop as the socket drains). Returns len, or -1 when not connected.
 * A peer that stops reading is dropped once its backlog passes 16 MiB.
 */
int qemu_chr_fe_write(CharBackend *be, const uint8_t *buf, int len);
/* Drop the current connection (a server then listens again). */
void qemu_chr_fe_disconnect(CharBackend *be);

#endif /* QEMU_CHAR_FE_H */
