/*
 * Clocks and timers. The virtual clock belongs to the qtest client: it
 * moves only through qemu_clock_advance_virtual_time(), which runs the
 * virtual timers it passes. Realtime and host timers are GLib timeouts
 * on the main loop.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"

struct QEMUTimer {
    QEMUClockType type;
    int scale;
    QEMUTimerCB *cb;
    void *opaque;
    /* Nanoseconds on its clock; -1 when not pending. */
    int64_t expire_ns;
    /* Realtime/host timers: the GLib source armed for them. */
    guint source;
};

static int64_t virtual_clock_ns;
/* Pending virtual timers, earliest first. */
static GList *virtual_timers;

static bool clock_is_virtual(QEMUClockType type)
{
    return type == QEMU_CLOCK_VIRTUAL || type == QEMU_CLOCK_VIRTUAL_RT;
}

int64_t qemu_clock_get_ns(QEMUClockType type)
{
    switch (type) {
    case QEMU_CLOCK_VIRTUAL:
    case QEMU_CLOCK_VIRTUAL_RT:
        return virtual_clock_ns;
    case QEMU_CLOCK_HOST:
        return g_get_real_time() * SCALE_US;
    case QEMU_CLOCK_REALTIME:
    default:
        return g_get_monotonic_time() * SCALE_US;
    }
}

QEMUTimer *timer_new_full(QEMUClockType type, int scale, int attributes,
                          QEMUTimerCB *cb, void *opaque)
{
    QEMUTimer *ts = g_new0(QEMUTimer, 1);

    ts->type = type;
    ts->scale = scale;
    ts->cb = cb;
    ts->opaque = opaque;
    ts->expire_ns = -1;
    return ts;
}

bool timer_pending(QEMUTimer *ts)
{
    return ts->expire_ns >= 0;
}

int64_t timer_expire_time_ns(QEMUTimer *ts)
{
    return ts->expire_ns;
}

void timer_del(QEMUTimer *ts)
{
    if (!timer_pending(ts)) {
        return;
    }
    if (clock_is_virtual(ts->type)) {
        virtual_timers = g_list_remove(virtual_timers, ts);
    } else if (ts->source) {
        g_source_remove(ts->source);
        ts->source = 0;
    }
    ts->expire_ns = -1;
}

void timer_free(QEMUTimer *ts)
{
    if (ts) {
        timer_del(ts);
        g_free(ts);
    }
}

static gint timer_cmp(gconstpointer a, gconstpointer b)
{
    const QEMUTimer *x = a, *y = b;

    return x->expire_ns < y->expire_ns ? -1 : x->expire_ns > y->expire_ns;
}

static gboolean host_timer_fire(gpointer opaque)
{
    QEMUTimer *ts = opaque;

    ts->source = 0;
    ts->expire_ns = -1;
    ts->cb(ts->opaque);
    return G_SOURCE_REMOVE;
}

void timer_mod_ns(QEMUTimer *ts, int64_t expire_time)
{
    timer_del(ts);
    ts->expire_ns = MAX(expire_time, 0);
    if (clock_is_virtual(ts->type)) {
        virtual_timers = g_list_insert_sorted(virtual_timers, ts, timer_cmp);
    } else {
        int64_t delta = expire_time - qemu_clock_get_ns(ts->type);
        guint ms = delta <= 0 ? 0 :
            (guint)MIN((delta + SCALE_MS - 1) / SCALE_MS, G_MAXUINT);

        ts->source = g_timeout_add(ms, host_timer_fire, ts);
    }
}

void timer_mod(QEMUTimer *ts, int64_t expire_time)
{
    int64_t ns;

    /* Saturate rather than overflow for far-future expiries. */
    if (expire_time > INT64_MAX / ts->scale) {
        ns = INT64_MAX;
    } else {
        ns = expire_time * ts->scale;
    }
    timer_mod_ns(ts, ns);
}

int64_t qemu_clock_deadline_ns_all(QEMUClockType type, int attr_mask)
{
    int64_t now = qemu_clock_get_ns(type);

    if (clock_is_virtual(type)) {
        QEMUTimer *first = virtual_timers ? virtual_timers->data : NULL;

        return first ? MAX(first->expire_ns - now, 0) : -1;
    }
    return -1;
}

int64_t qemu_clock_advance_virtual_time(int64_t dest)
{
    while (virtual_timers) {
        QEMUTimer *ts = virtual_timers->data;

        if (ts->expire_ns > dest) {
            break;
        }
        /* Each timer sees the clock at its own deadline, as in QEMU. */
        virtual_clock_ns = MAX(virtual_clock_ns, ts->expire_ns);
        virtual_timers = g_list_remove(virtual_timers, ts);
        ts->expire_ns = -1;
        ts->cb(ts->opaque);
    }
    virtual_clock_ns = MAX(virtual_clock_ns, dest);
    return virtual_clock_ns;
}
