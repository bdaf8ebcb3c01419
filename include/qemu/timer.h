/*
 * Clocks and timers with QEMU's names. Under the qtest accelerator the
 * virtual clock stands still until the qtest client moves it (clock_step,
 * clock_set); virtual timers fire as it passes them. The realtime and
 * host clocks follow the host and their timers run from the main loop.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_TIMER_H
#define QEMU_TIMER_H

#define NANOSECONDS_PER_SECOND 1000000000LL

#define SCALE_MS 1000000
#define SCALE_US 1000
#define SCALE_NS 1

typedef enum {
    QEMU_CLOCK_REALTIME = 0,
    QEMU_CLOCK_VIRTUAL = 1,
    QEMU_CLOCK_HOST = 2,
    QEMU_CLOCK_VIRTUAL_RT = 3,
    QEMU_CLOCK_MAX
} QEMUClockType;

#define QEMU_TIMER_ATTR_EXTERNAL ((int)BIT(0))
#define QEMU_TIMER_ATTR_ALL      0xffffffff

typedef void QEMUTimerCB(void *opaque);
typedef struct QEMUTimer QEMUTimer;

int64_t qemu_clock_get_ns(QEMUClockType type);

static inline int64_t qemu_clock_get_us(QEMUClockType type)
{
    return qemu_clock_get_ns(type) / SCALE_US;
}

static inline int64_t qemu_clock_get_ms(QEMUClockType type)
{
    return qemu_clock_get_ns(type) / SCALE_MS;
}

/*
 * Nanoseconds from now until the earliest pending timer of the clock,
 * or -1 when none is pending.
 */
int64_t qemu_clock_deadline_ns_all(QEMUClockType type, int attr_mask);

/*
 * Move the virtual clock forward to dest (never backwards), running the
 * virtual timers it passes in deadline order. Returns the new time.
 */
int64_t qemu_clock_advance_virtual_time(int64_t dest);

QEMUTimer *timer_new_full(QEMUClockType type, int scale, int attributes,
                          QEMUTimerCB *cb, void *opaque);

static inline QEMUTimer *timer_new(QEMUClockType type, int scale,
                                   QEMUTimerCB *cb, void *opaque)
{
    return timer_new_full(type, scale, 0, cb, opaque);
}

static inline QEMUTimer *timer_new_ns(QEMUClockType type, QEMUTimerCB *cb,
                                      void *opaque)
{
    return timer_new(type, SCALE_NS, cb, opaque);
}

static inline QEMUTimer *timer_new_us(QEMUClockType type, QEMUTimerCB *cb,
                                      void *opaque)
{
    return timer_new(type, SCALE_US, cb, opaque);
}

static inline QEMUTimer *timer_new_ms(QEMUClockType type, QEMUTimerCB *cb,
                                      void *opaque)
{
    return timer_new(type, SCALE_MS, cb, opaque);
}

/* Arm for expire_time, in the timer's scale, on its clock. */
void timer_mod(QEMUTimer *ts, int64_t expire_time);
void timer_mod_ns(QEMUTimer *ts, int64_t expire_time);
void timer_del(QEMUTimer *ts);
void timer_free(QEMUTimer *ts);
bool timer_pending(QEMUTimer *ts);
/* Expiry in nanoseconds, or -1 when not pending. */
int64_t timer_expire_time_ns(QEMUTimer *ts);

#endif /* QEMU_TIMER_H */
