/*
 * Chardev internals shared by the generic layer (char.c) and the unix
 * socket backend (char-socket.c).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef CHARDEV_INTERNAL_H
#define CHARDEV_INTERNAL_H

#include "chardev/char-fe.h"

/* Output a slow peer may leave queued before it is dropped. */
#define CHARDEV_MAX_BACKLOG (16 * 1024 * 1024)

typedef struct ChardevPrivate {
    CharBackend *be;
    IOCanReadHandler *can_read;
    IOReadHandler *read;
    IOEventHandler *event;
    void *opaque;
    guint read_watch;
    guint write_watch;
    guint accept_watch;
    GByteArray *outbuf;
    /* We created the socket file (server), so we remove it. */
    bool unlink_path;
} ChardevPrivate;

/* char-socket.c */
bool chr_socket_open(Chardev *chr, Error **errp);
/* Blocking accept for a server without a client, bounded by timeout. */
bool chr_socket_wait_connected(Chardev *chr, int timeout_ms);
/* Event-driven side: (re)arm the watches that fit the current state. */
void chr_socket_update_watches(Chardev *chr);
void chr_socket_remove_watches(Chardev *chr);
void chr_socket_disconnect(Chardev *chr);
int chr_socket_queue_write(Chardev *chr, const uint8_t *buf, size_t len);
void chr_socket_flush(Chardev *chr, int timeout_ms);
void chr_socket_close(Chardev *chr);

#endif /* CHARDEV_INTERNAL_H */
