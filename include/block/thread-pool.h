/*
 * Worker threads whose completion callbacks run on the main loop.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_THREAD_POOL_H
#define QEMU_THREAD_POOL_H

typedef int ThreadPoolFunc(void *opaque);
typedef void BlockCompletionFunc(void *opaque, int ret);
typedef struct BlockAIOCB BlockAIOCB;

/*
 * Run func(arg) on a worker thread; then, on the main loop, cb(opaque, ret)
 * with func's return value.
 */
BlockAIOCB *thread_pool_submit_aio(ThreadPoolFunc *func, void *arg,
                                   BlockCompletionFunc *cb, void *opaque);
/* Number of submitted requests whose callback has not yet run. */
unsigned thread_pool_pending(void);

#endif /* QEMU_THREAD_POOL_H */
