/*
 * The main loop: GLib's default main context, with bottom halves that
 * worker threads schedule to complete work on the main thread.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/main-loop.h"

#include <glib-unix.h>

struct QEMUBH {
    QEMUBHFunc *cb;
    void *opaque;
    const char *name;
    /* Protected by bh_lock: the idle source pending, if any. */
    guint source_id;
    bool deleted;
    /* Its callback is running (main thread). */
    bool dispatching;
    bool oneshot;
};

/* A single context: AioContext is an opaque handle to it. */
struct AioContext {
    GMainContext *ctx;
};

static AioContext main_aio_context;
static GThread *main_thread;
static GMutex bh_lock;

int qemu_init_main_loop(Error **errp)
{
    main_aio_context.ctx = g_main_context_default();
    main_thread = g_thread_self();
    return 0;
}

bool qemu_in_main_thread(void)
{
    return main_thread == NULL || g_thread_self() == main_thread;
}

AioContext *qemu_get_aio_context(void)
{
    return &main_aio_context;
}

AioContext *qemu_get_current_aio_context(void)
{
    return &main_aio_context;
}

void main_loop_wait(int nonblocking)
{
    g_main_context_iteration(NULL, !nonblocking);
}

bool aio_poll(AioContext *ctx, bool blocking)
{
    return g_main_context_iteration(NULL, blocking);
}

static gboolean bh_dispatch(gpointer opaque)
{
    QEMUBH *bh = opaque;
    bool run, free_now;

    g_mutex_lock(&bh_lock);
    bh->source_id = 0;
    run = !bh->deleted;
    bh->dispatching = true;
    g_mutex_unlock(&bh_lock);

    if (run) {
        bh->cb(bh->opaque);
    }

    /* The callback may have deleted or rescheduled its own bottom half. */
    g_mutex_lock(&bh_lock);
    bh->dispatching = false;
    free_now = bh->oneshot || bh->deleted;
    g_mutex_unlock(&bh_lock);
    if (free_now) {
        g_free(bh);
    }
    return G_SOURCE_REMOVE;
}

QEMUBH *qemu_bh_new_full(QEMUBHFunc *cb, void *opaque, const char *name)
{
    QEMUBH *bh = g_new0(QEMUBH, 1);

    bh->cb = cb;
    bh->opaque = opaque;
    bh->name = name;
    return bh;
}

void qemu_bh_schedule(QEMUBH *bh)
{
    g_mutex_lock(&bh_lock);
    if (!bh->source_id && !bh->deleted) {
        /* g_idle_add is thread-safe and wakes the main context. */
        bh->source_id = g_idle_add_full(G_PRIORITY_DEFAULT, bh_dispatch,
                                        bh, NULL);
    }
    g_mutex_unlock(&bh_lock);
}

void qemu_bh_cancel(QEMUBH *bh)
{
    g_mutex_lock(&bh_lock);
    if (bh->source_id) {
        g_source_remove(bh->source_id);
        bh->source_id = 0;
    }
    g_mutex_unlock(&bh_lock);
}

/*
 * Like QEMU's, only from the main thread; a bottom half may delete itself
 * from its own callback, and is then freed once the callback returns.
 */
void qemu_bh_delete(QEMUBH *bh)
{
    bool free_now;

    if (!bh) {
        return;
    }
    assert(qemu_in_main_thread());
    g_mutex_lock(&bh_lock);
    bh->deleted = true;
    if (bh->source_id) {
        g_source_remove(bh->source_id);
        bh->source_id = 0;
    }
    free_now = !bh->dispatching;
    g_mutex_unlock(&bh_lock);
    if (free_now) {
        g_free(bh);
    }
}

void aio_bh_schedule_oneshot(AioContext *ctx, QEMUBHFunc *cb, void *opaque)
{
    QEMUBH *bh = qemu_bh_new_full(cb, opaque, "oneshot");

    bh->oneshot = true;
    qemu_bh_schedule(bh);
}

guint qemu_set_fd_handler_glib(int fd, GIOCondition cond,
                               GUnixFDSourceFunc cb, void *opaque)
{
    return g_unix_fd_add(fd, cond, cb, opaque);
}
