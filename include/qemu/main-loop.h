/*
 * The main loop: a GLib main context, bottom halves that other threads
 * may schedule, and the polling entry points QEMU code calls.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_MAIN_LOOP_H
#define QEMU_MAIN_LOOP_H

#include "qapi/error.h"
#include <glib-unix.h>

typedef struct QEMUBH QEMUBH;
typedef struct AioContext AioContext;
typedef void QEMUBHFunc(void *opaque);

int qemu_init_main_loop(Error **errp);
/* One iteration; blocks for events unless nonblocking. */
void main_loop_wait(int nonblocking);

/* The main thread's context (there is only one in this host). */
AioContext *qemu_get_aio_context(void);
AioContext *qemu_get_current_aio_context(void);
/* Runs one iteration of the main context; returns whether work was done. */
bool aio_poll(AioContext *ctx, bool blocking);

#define qemu_bh_new(cb, opaque) qemu_bh_new_full((cb), (opaque), #cb)
QEMUBH *qemu_bh_new_full(QEMUBHFunc *cb, void *opaque, const char *name);
#define aio_bh_new(ctx, cb, opaque) qemu_bh_new((cb), (opaque))
/* Thread-safe: runs cb once on the main loop soon after. */
void qemu_bh_schedule(QEMUBH *bh);
void qemu_bh_cancel(QEMUBH *bh);
void qemu_bh_delete(QEMUBH *bh);
/* Thread-safe one-shot: run cb(opaque) on the main loop. */
void aio_bh_schedule_oneshot(AioContext *ctx, QEMUBHFunc *cb, void *opaque);

/* Big QEMU lock: a no-op here, the main loop owns device state. */
static inline void bql_lock(void) { }
static inline void bql_unlock(void) { }
static inline bool bql_locked(void) { return true; }

bool qemu_in_main_thread(void);

/* Watch an fd on the main loop; cb returns FALSE to remove the watch. */
guint qemu_set_fd_handler_glib(int fd, GIOCondition cond,
                               GUnixFDSourceFunc cb, void *opaque);

#endif /* QEMU_MAIN_LOOP_H */
