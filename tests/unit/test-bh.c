/*
 * Unit tests of bottom halves: scheduling from another thread, a bottom
 * half that reschedules or deletes itself, and the worker thread pool.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "block/thread-pool.h"

typedef struct Counter {
    int runs;
    int limit;
    QEMUBH *bh;
} Counter;

static void run_until(int *flag, int value)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    while (g_atomic_int_get(flag) < value) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        aio_poll(qemu_get_aio_context(), true);
    }
}

static void resched_cb(void *opaque)
{
    Counter *c = opaque;

    if (++c->runs < c->limit) {
        qemu_bh_schedule(c->bh);
    }
}

static void test_reschedule_self(void)
{
    Counter c = { .limit = 5 };

    c.bh = qemu_bh_new(resched_cb, &c);
    qemu_bh_schedule(c.bh);
    /* Scheduling twice before it runs runs it once. */
    qemu_bh_schedule(c.bh);
    run_until(&c.runs, 5);
    while (aio_poll(qemu_get_aio_context(), false)) {
    }
    g_assert_cmpint(c.runs, ==, 5);
    qemu_bh_delete(c.bh);
}

static void delete_self_cb(void *opaque)
{
    Counter *c = opaque;

    c->runs++;
    /* QEMU allows this; the BH is freed after the callback returns. */
    qemu_bh_delete(c->bh);
}

static void test_delete_self(void)
{
    Counter c = { 0 };

    c.bh = qemu_bh_new(delete_self_cb, &c);
    qemu_bh_schedule(c.bh);
    run_until(&c.runs, 1);
    while (aio_poll(qemu_get_aio_context(), false)) {
    }
    g_assert_cmpint(c.runs, ==, 1);
}

static void test_delete_pending(void)
{
    Counter c = { 0 };

    c.bh = qemu_bh_new(delete_self_cb, &c);
    qemu_bh_schedule(c.bh);
    qemu_bh_delete(c.bh);
    while (aio_poll(qemu_get_aio_context(), false)) {
    }
    g_assert_cmpint(c.runs, ==, 0);
}

static gpointer schedule_from_thread(gpointer opaque)
{
    qemu_bh_schedule(opaque);
    return NULL;
}

static void count_cb(void *opaque)
{
    g_atomic_int_inc((int *)opaque);
}

static void test_schedule_from_thread(void)
{
    int runs = 0;
    QEMUBH *bh = qemu_bh_new(count_cb, &runs);
    GThread *t = g_thread_new("bh", schedule_from_thread, bh);

    run_until(&runs, 1);
    g_thread_join(t);
    qemu_bh_delete(bh);
}

static int worker(void *opaque)
{
    g_assert_false(qemu_in_main_thread());
    return GPOINTER_TO_INT(opaque) * 2;
}

static void worker_done(void *opaque, int ret)
{
    int *sum = opaque;

    g_assert_true(qemu_in_main_thread());
    *sum += ret;
    g_atomic_int_inc(&sum[1]);
}

static void test_thread_pool(void)
{
    int result[2] = { 0, 0 };

    for (int i = 1; i <= 10; i++) {
        thread_pool_submit_aio(worker, GINT_TO_POINTER(i), worker_done,
                               result);
    }
    run_until(&result[1], 10);
    g_assert_cmpint(result[0], ==, 110);
    g_assert_cmpuint(thread_pool_pending(), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);
    g_test_add_func("/bh/reschedule-self", test_reschedule_self);
    g_test_add_func("/bh/delete-self", test_delete_self);
    g_test_add_func("/bh/delete-pending", test_delete_pending);
    g_test_add_func("/bh/schedule-from-thread", test_schedule_from_thread);
    g_test_add_func("/bh/thread-pool", test_thread_pool);
    return g_test_run();
}
