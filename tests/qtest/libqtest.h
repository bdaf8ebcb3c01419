/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libqtest: drive an emulator through the qtest protocol and QMP, with
 * the API of QEMU's tests/qtest/libqtest.h.
 *
 * The emulator is $QTEST_QEMU_BINARY, started as QEMU 11's libqtest
 * starts it:
 *   exec BIN [-trace $QTEST_TRACE] -qtest unix:SOCK -qtest-log LOG
 *        -chardev socket,path=QMPSOCK,id=char0
 *        -mon chardev=char0,mode=control -display none -audio none
 *        -run-with exit-with-parent=on EXTRA_ARGS -accel qtest
 * through /bin/sh -c (so EXTRA_ARGS is split like a shell would).
 *
 * Environment:
 *   QTEST_QEMU_BINARY  the emulator (required).
 *   QTEST_LOG          set: the emulator's stderr and the qtest log go to
 *                      our stderr, and QMP traffic is echoed there; unset:
 *                      both go to /dev/null.
 *   QTEST_TRACE        PATTERN for -trace.
 *   QTEST_TIMEOUT      seconds to wait for any reply (default 120).
 *   QTEST_QEMU_PEER    set to 1 to drive a stock QEMU without the qtest
 *                      accelerator (Debian's QEMU 7.2): it is started with
 *                      "-accel tcg -S" instead of "-accel qtest" (-S keeps
 *                      the firmware from running), without "-audio none"
 *                      and "-run-with", which 7.2 rejects; the child gets
 *                      PR_SET_PDEATHSIG from us instead. Tests call
 *                      qtest_peer_mode() to skip what the peer cannot do
 *                      (clock_step needs the qtest accelerator).
 *
 * A child that dies, or a socket that fails, ends the test with a clear
 * message; no wait is unbounded.
 */

#ifndef LIBQTEST_H
#define LIBQTEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>
#include "qobject/qobject.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"

typedef struct QTestState QTestState;

/* Start the emulator and complete the QMP handshake. */
QTestState *qtest_init(const char *extra_args);
QTestState *qtest_initf(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
QTestState *qtest_vinitf(const char *fmt, va_list ap) G_GNUC_PRINTF(1, 0);
/* Start it, read nothing from QMP (the greeting is still pending). */
QTestState *qtest_init_without_qmp_handshake(const char *extra_args);

/* The argument string qtest_init() would pass, extra_args included. */
char *qtest_qemu_args(const char *extra_args);

/* SIGTERM the emulator, reap it (checking the exit status), free s. */
void qtest_quit(QTestState *s);
void qtest_kill_qemu(QTestState *s);
/* Wait (bounded, then SIGKILL) for the emulator to exit by itself. */
void qtest_wait_qemu(QTestState *s);
/* The exit status qtest_quit()/qtest_wait_qemu() expect (default 0). */
void qtest_set_expected_status(QTestState *s, int status);
/* True while the emulator runs; reaps it once it has exited. */
bool qtest_probe_child(QTestState *s);
/* The emulator's pid (-1 once reaped) and its wait status. */
pid_t qtest_pid(QTestState *s);
int qtest_wait_status(QTestState *s);

/* QMP: send a command built like qobject_from_jsonf_nofail(). */
void qtest_qmp_send(QTestState *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void qtest_qmp_vsend(QTestState *s, const char *fmt, va_list ap)
    G_GNUC_PRINTF(2, 0);
/* Send text as it is (for malformed input). */
void qtest_qmp_send_raw(QTestState *s, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
/* Send and return the response, stashing events that arrive first. */
QDict *qtest_qmp(QTestState *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
QDict *qtest_vqmp(QTestState *s, const char *fmt, va_list ap)
    G_GNUC_PRINTF(2, 0);
/* The next response, stashing events. */
QDict *qtest_qmp_receive(QTestState *s);
/* The next message, event or not. */
QDict *qtest_qmp_receive_dict(QTestState *s);
/* Assert the command succeeds. */
void qtest_qmp_assert_success(QTestState *s, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
/* Same, returning a reference to the "return" member (a dict). */
QDict *qtest_qmp_assert_success_ref(QTestState *s, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
/* Wait for event (stashed or new); _ref returns it, the caller unrefs. */
void qtest_qmp_eventwait(QTestState *s, const char *event);
QDict *qtest_qmp_eventwait_ref(QTestState *s, const char *event);
/* A stashed event of that name, or NULL (stashed others are dropped). */
QDict *qtest_qmp_event_ref(QTestState *s, const char *event);

/* Memory through the qtest protocol (little-endian values). */
uint8_t qtest_readb(QTestState *s, uint64_t addr);
uint16_t qtest_readw(QTestState *s, uint64_t addr);
uint32_t qtest_readl(QTestState *s, uint64_t addr);
uint64_t qtest_readq(QTestState *s, uint64_t addr);
void qtest_writeb(QTestState *s, uint64_t addr, uint8_t value);
void qtest_writew(QTestState *s, uint64_t addr, uint16_t value);
void qtest_writel(QTestState *s, uint64_t addr, uint32_t value);
void qtest_writeq(QTestState *s, uint64_t addr, uint64_t value);
void qtest_memread(QTestState *s, uint64_t addr, void *data, size_t size);
void qtest_memwrite(QTestState *s, uint64_t addr, const void *data,
                    size_t size);
void qtest_bufread(QTestState *s, uint64_t addr, void *data, size_t size);
void qtest_bufwrite(QTestState *s, uint64_t addr, const void *data,
                    size_t size);
void qtest_memset(QTestState *s, uint64_t addr, uint8_t patt, size_t size);

/* Port I/O (this host has no port space: reads float high). */
uint8_t qtest_inb(QTestState *s, uint16_t addr);
uint16_t qtest_inw(QTestState *s, uint16_t addr);
uint32_t qtest_inl(QTestState *s, uint16_t addr);
void qtest_outb(QTestState *s, uint16_t addr, uint8_t value);
void qtest_outw(QTestState *s, uint16_t addr, uint16_t value);
void qtest_outl(QTestState *s, uint16_t addr, uint32_t value);

/* The virtual clock (qtest accelerator only). */
int64_t qtest_clock_step_next(QTestState *s);
int64_t qtest_clock_step(QTestState *s, int64_t step);
int64_t qtest_clock_set(QTestState *s, int64_t val);

bool qtest_big_endian(QTestState *s);

/*
 * Send one protocol line (without its newline) and return the reply
 * line, newline stripped, verbatim ("OK ...", "FAIL ...", "ERR ...").
 * For protocol tests; the caller frees it.
 */
char *qtest_raw_line(QTestState *s, const char *line);

/* "x86_64", from the binary's name (...-system-ARCH). */
const char *qtest_get_arch(void);
/* Register "/ARCH/str" with g_test. */
void qtest_add_func(const char *str, void (*fn)(void));
void qtest_add_data_func(const char *str, const void *data,
                         void (*fn)(const void *));
void qtest_add_data_func_full(const char *str, void *data,
                              void (*fn)(const void *),
                              GDestroyNotify data_free_func);

/* Asked of the binary (once, then cached) through QMP. */
bool qtest_has_machine(const char *machine);
bool qtest_has_device(const char *device);
/* Only "qtest" exists in this host's binary; tcg/kvm answer false. */
bool qtest_has_accel(const char *accel_name);

/* Whether QTEST_QEMU_PEER selects the peer (non-qtest) mode. */
bool qtest_peer_mode(void);

/* A listening unix socket at path (for tests that spawn peers). */
int qtest_socket_server(const char *socket_path);

/* Run fn(data) on abort, e.g. to kill helper processes. */
void qtest_add_abrt_handler(GHookFunc fn, const void *data);
void qtest_remove_abrt_handler(void *data);

#endif /* LIBQTEST_H */
