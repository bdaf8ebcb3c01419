/*
 * Worker threads for blocking work (the TPM data channel), completing on
 * the main loop.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "block/thread-pool.h"

struct BlockAIOCB {
    ThreadPoolFunc *func;
    void *arg;
    BlockCompletionFunc *cb;
    void *opaque;
    int ret;
};

static GThreadPool *pool;
static gint pending;

static void thread_pool_complete(void *opaque)
{
    BlockAIOCB *req = opaque;

    g_atomic_int_dec_and_test(&pending);
    req->cb(req->opaque, req->ret);
    g_free(req);
}

static void thread_pool_worker(gpointer data, gpointer user_data)
{
    BlockAIOCB *req = data;

    req->ret = req->func(req->arg);
    aio_bh_schedule_oneshot(qemu_get_aio_context(), thread_pool_complete,
                            req);
}

BlockAIOCB *thread_pool_submit_aio(ThreadPoolFunc *func, void *arg,
                                   BlockCompletionFunc *cb, void *opaque)
{
    BlockAIOCB *req = g_new0(BlockAIOCB, 1);

    if (!pool) {
        pool = g_thread_pool_new(thread_pool_worker, NULL, 4, FALSE, NULL);
    }
    req->func = func;
    req->arg = arg;
    req->cb = cb;
    req->opaque = opaque;
    g_atomic_int_inc(&pending);
    g_thread_pool_push(pool, req, NULL);
    return req;
}

unsigned thread_pool_pending(void)
{
    return g_atomic_int_get(&pending);
}
