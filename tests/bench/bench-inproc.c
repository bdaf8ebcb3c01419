/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * tpm-crb-bench-inproc: the tpm-crb device and the real swtpm backend in
 * one process, driven through the device's MMIO ops (address_space_read/
 * write on the system memory) with the main loop run while a command
 * executes, side by side with the same commands sent straight to a swtpm
 * data channel from the same process (benchmark part 1).
 *
 * Two TPMs of the same kind are started: one behind the device (control
 * socket chardev, -tpmdev emulator), one for the direct client (control
 * socket + CMD_SET_DATAFD, as the backend does). Each iteration runs a
 * command through both, in alternating order, so that a change in the
 * machine's load hits both sides alike; the report is the median of
 * each side and their ratio.
 *
 * Under valgrind --tool=callgrind (part 3) every command batch ends with
 * a dump named after it, and bench_copy_baseline() copies the same bytes
 * once in and once out, so that instructions in the device per command
 * can be set against a plain copy measured the same way.
 */

#include "qemu/osdep.h"
#include <gio/gio.h>
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qom/object.h"
#include "chardev/char.h"
#include "hw/core/boards.h"
#include "hw/core/qdev.h"
#include "monitor/qdev.h"
#include "system/memory.h"
#include "system/runstate.h"
#include "system/tpm.h"
#ifdef CONFIG_CALLGRIND_H
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_DUMP_STATS_AT(name) do { } while (0)
#define CALLGRIND_ZERO_STATS do { } while (0)
#define RUNNING_ON_VALGRIND 0
#endif

#include "bench-common.h"
#include "../qtest/tpm-emu.h"

typedef struct BenchArgs {
    const char *backend;    /* "swtpm" or "fake" */
    uint32_t fake_buffer;   /* the fake's B */
    uint32_t window;
    unsigned iterations;
    unsigned warmup;
    const char *out;
    bool callgrind;
} BenchArgs;

/* Where the device's TPM and the direct client's TPM live. */
typedef struct BenchTPMs {
    BenchSwtpm swtpm[2];
    TPMEmu *emu[2];
    const char *ctrl[2];
} BenchTPMs;

typedef struct XferInfo {
    unsigned chunks_in;
    unsigned chunks_out;
} XferInfo;

static void mmio_write32(uint64_t off, uint32_t val)
{
    uint8_t buf[4] = { val, val >> 8, val >> 16, val >> 24 };

    address_space_write(&address_space_memory, BENCH_CRB_BASE + off,
                        MEMTXATTRS_UNSPECIFIED, buf, 4);
}

static uint32_t mmio_read32(uint64_t off)
{
    uint8_t buf[4];

    address_space_read(&address_space_memory, BENCH_CRB_BASE + off,
                       MEMTXATTRS_UNSPECIFIED, buf, 4);
    return buf[0] | buf[1] << 8 | buf[2] << 16 | (uint32_t)buf[3] << 24;
}

static void window_write(const uint8_t *data, uint32_t len)
{
    address_space_write(&address_space_memory, BENCH_CRB_BASE + BENCH_CRB_DATA,
                        MEMTXATTRS_UNSPECIFIED, data, len);
}

static void window_read(uint8_t *data, uint32_t len)
{
    address_space_read(&address_space_memory, BENCH_CRB_BASE + BENCH_CRB_DATA,
                       MEMTXATTRS_UNSPECIFIED, data, len);
}

/*
 * What a guest driver does (PTP v1.07 §6.5.3.9/10): cmdReady, the
 * command in window-sized chunks (nextChunk between them, Start with the
 * last), wait for Start to clear while the main loop runs the backend's
 * completion, the response in chunks, goIdle.
 */
static bool device_transact(uint32_t w, const uint8_t *cmd, uint32_t len,
                            uint8_t *rsp, uint32_t rsp_max, uint32_t *rsp_len,
                            XferInfo *xi, GError **errp)
{
    uint32_t off = 0, size, n;

    xi->chunks_in = xi->chunks_out = 0;
    mmio_write32(BENCH_CRB_CTRL_REQ, BENCH_CRB_CMD_READY);
    for (;;) {
        n = MIN(w, len - off);
        window_write(cmd + off, n);
        off += n;
        xi->chunks_in++;
        if (off == len) {
            break;
        }
        mmio_write32(BENCH_CRB_CTRL_START, BENCH_CRB_NEXT_CHUNK);
    }
    mmio_write32(BENCH_CRB_CTRL_START, BENCH_CRB_START);
    while (mmio_read32(BENCH_CRB_CTRL_START) & BENCH_CRB_START) {
        aio_poll(qemu_get_aio_context(), true);
    }
    if (mmio_read32(BENCH_CRB_CTRL_STS) & 1) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "bench: tpm-crb reports tpmSts (backend failure)");
        return false;
    }

    window_read(rsp, BENCH_HDR_SIZE);
    size = bench_be32(rsp + 2);
    if (size < BENCH_HDR_SIZE || size > rsp_max) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "bench: response declares %u bytes", size);
        return false;
    }
    n = MIN(w, size);
    window_read(rsp + BENCH_HDR_SIZE, n - BENCH_HDR_SIZE);
    off = n;
    xi->chunks_out = 1;
    while (off < size) {
        mmio_write32(BENCH_CRB_CTRL_START, BENCH_CRB_NEXT_CHUNK);
        n = MIN(w, size - off);
        window_read(rsp + off, n);
        off += n;
        xi->chunks_out++;
    }
    mmio_write32(BENCH_CRB_CTRL_REQ, BENCH_CRB_GO_IDLE);
    *rsp_len = size;
    return true;
}

/*
 * Part 3's baseline: the command's bytes copied once in and the
 * response's bytes once out, nothing else. noinline so that callgrind
 * can collect exactly this function (--toggle-collect).
 */
void __attribute__((noinline)) bench_copy_baseline(uint8_t *window,
                                                   const uint8_t *cmd,
                                                   uint32_t cmd_len,
                                                   uint8_t *rsp,
                                                   uint32_t rsp_len);
void __attribute__((noinline)) bench_copy_baseline(uint8_t *window,
                                                   const uint8_t *cmd,
                                                   uint32_t cmd_len,
                                                   uint8_t *rsp,
                                                   uint32_t rsp_len)
{
    memcpy(window, cmd, cmd_len);
    /* keep the compiler from merging or dropping the copies */
    asm volatile("" : : "r"(window) : "memory");
    memcpy(rsp, window, rsp_len);
    asm volatile("" : : "r"(rsp) : "memory");
}

static void G_GNUC_NORETURN die(const char *what, GError *err)
{
    fprintf(stderr, "tpm-crb-bench-inproc: %s: %s\n", what,
            err ? err->message : "failed");
    exit(1);
}

static void G_GNUC_NORETURN die_err(const char *what, Error *err)
{
    fprintf(stderr, "tpm-crb-bench-inproc: %s: %s\n", what,
            err ? error_get_pretty(err) : "failed");
    exit(1);
}

static void start_tpms(const BenchArgs *a, BenchTPMs *t)
{
    GError *err = NULL;
    int i;

    for (i = 0; i < 2; i++) {
        if (!strcmp(a->backend, "fake")) {
            t->emu[i] = tpm_emu_start(a->fake_buffer, &err);
            if (!t->emu[i]) {
                die("starting the fake swtpm", err);
            }
            tpm_emu_set_reply(t->emu[i], TPM_EMU_REPLY_ECHO);
            t->ctrl[i] = tpm_emu_socket_path(t->emu[i]);
        } else {
            if (!bench_swtpm_start(&t->swtpm[i], &err)) {
                die("starting swtpm", err);
            }
            t->ctrl[i] = t->swtpm[i].ctrl_path;
        }
    }
}

static void stop_tpms(BenchTPMs *t)
{
    int i;

    for (i = 0; i < 2; i++) {
        if (t->emu[i]) {
            tpm_emu_stop(t->emu[i]);
            t->emu[i] = NULL;
        }
        bench_swtpm_stop(&t->swtpm[i]);
    }
}

/* The machine, the swtpm backend and the device, as the command line
 * "-machine q35 -chardev socket,... -tpmdev emulator,... -device tpm-crb"
 * would make them, through the host API. */
static void create_device(const char *ctrl_path, uint32_t window)
{
    g_autofree char *chr = g_strdup_printf("socket,id=chrtpm,path=%s",
                                           ctrl_path);
    g_autofree char *dev = g_strdup_printf("tpm-crb,tpmdev=tpm0,"
                                           "x-data-buffer-size=%u", window);
    MachineClass *mc;
    Object *obj;
    Error *err = NULL;

    if (qemu_init_main_loop(&err) < 0) {
        die_err("main loop", err);
    }
    if (!qemu_chr_new_from_string(chr, &err)) {
        die_err("chardev", err);
    }
    if (tpm_config_parse("emulator,id=tpm0,chardev=chrtpm", &err) < 0) {
        die_err("tpmdev", err);
    }

    mc = find_machine_class("q35");
    if (!mc) {
        die_err("machine type q35 not found", NULL);
    }
    obj = object_new(object_class_get_name(OBJECT_CLASS(mc)));
    current_machine = MACHINE(obj);
    object_property_add_child(object_get_root(), "machine", obj);
    object_unref(obj);
    current_machine->accel = g_strdup("qtest");
    if (mc->init) {
        mc->init(current_machine);
    }

    if (tpm_init(&err) < 0) {
        die_err("TPM backend", err);
    }
    if (!qdev_device_add_from_str(dev, &err)) {
        die_err("device", err);
    }
    qemu_system_reset(SHUTDOWN_CAUSE_NONE);
    vm_start();
}

static FILE *out;

static void run_command(const BenchArgs *a, BenchDirect *direct,
                        const BenchCommand *c, uint8_t *rsp)
{
    unsigned total = a->warmup + a->iterations;
    g_autofree double *dev_us = g_new(double, a->iterations);
    g_autofree double *dir_us = g_new(double, a->iterations);
    g_autofree uint8_t *scratch = g_malloc(BENCH_MAX_MSG);
    uint32_t dev_len = 0, dir_len = 0;
    XferInfo xi = { 0 };
    GError *err = NULL;
    unsigned i;

    for (i = 0; i < total; i++) {
        bool dev_first = i % 2 == 0;
        int64_t t0, t1, t2;

        if (a->callgrind && i == a->warmup) {
            CALLGRIND_DUMP_STATS_AT("warm-up");
        }
        t0 = bench_now_ns();
        if (dev_first) {
            if (!device_transact(a->window, c->bytes, c->len, rsp,
                                 BENCH_MAX_MSG, &dev_len, &xi, &err)) {
                die(c->name, err);
            }
        } else if (!bench_direct_transact(direct, c->bytes, c->len, rsp,
                                          BENCH_MAX_MSG, &dir_len, &err)) {
            die(c->name, err);
        }
        t1 = bench_now_ns();
        if (dev_first) {
            if (!bench_direct_transact(direct, c->bytes, c->len, rsp,
                                       BENCH_MAX_MSG, &dir_len, &err)) {
                die(c->name, err);
            }
        } else if (!device_transact(a->window, c->bytes, c->len, rsp,
                                    BENCH_MAX_MSG, &dev_len, &xi, &err)) {
            die(c->name, err);
        }
        t2 = bench_now_ns();
        if (i >= a->warmup) {
            dev_us[i - a->warmup] = (dev_first ? t1 - t0 : t2 - t1) / 1e3;
            dir_us[i - a->warmup] = (dev_first ? t2 - t1 : t1 - t0) / 1e3;
        }
    }
    if (dev_len != dir_len) {
        fprintf(stderr, "tpm-crb-bench-inproc: %s: the device returned %u "
                "bytes, the direct channel %u\n", c->name, dev_len, dir_len);
        exit(1);
    }

    if (a->callgrind) {
        g_autofree char *dev_name = NULL;
        g_autofree char *base_name = NULL;

        /*
         * Collection is restricted (--toggle-collect) to the device's
         * entry points and bench_copy_baseline: one batch of each, one
         * dump each; the warm-up went into a dump of its own.
         */
        dev_name = g_strdup_printf("device %s %u %s %u %u %u %u",
                                   a->backend, a->window, c->name, c->len,
                                   dev_len, xi.chunks_in, a->iterations);
        CALLGRIND_DUMP_STATS_AT(dev_name);
        for (i = 0; i < a->iterations; i++) {
            bench_copy_baseline(scratch, c->bytes, c->len, rsp, dev_len);
        }
        base_name = g_strdup_printf("baseline %s %u %s %u %u %u %u",
                                    a->backend, a->window, c->name, c->len,
                                    dev_len, xi.chunks_in, a->iterations);
        CALLGRIND_DUMP_STATS_AT(base_name);
        return;
    }

    {
        double dm = bench_median(dev_us, a->iterations);
        double rm = bench_median(dir_us, a->iterations);

        fprintf(out, "inproc\t%s\t%u\t%s\t%u\t%u\t%u\t%u\t%.2f\t%.2f\t%.3f"
                "\t%u\n", a->backend, a->window, c->name, c->len, dev_len,
                xi.chunks_in, xi.chunks_out, dm, rm, dm / rm, a->iterations);
        fflush(out);
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: tpm-crb-bench-inproc [--backend swtpm|fake] "
            "[--fake-buffer B] [--window W]\n"
            "                            [--iterations N] [--warmup N] "
            "[--out FILE] [--callgrind]\n");
    exit(2);
}

static uint32_t parse_u32(const char *s)
{
    guint64 v;

    if (!g_ascii_string_to_unsigned(s, 10, 1, UINT32_MAX, &v, NULL)) {
        usage();
    }
    return v;
}

int main(int argc, char **argv)
{
    BenchArgs a = {
        .backend = "swtpm", .fake_buffer = 8192, .window = 3968,
        .iterations = 200, .warmup = 20,
    };
    BenchTPMs tpms = { 0 };
    BenchDirect direct = { .ctrl_fd = -1, .data_fd = -1 };
    BenchCommand startup, cmds[4];
    unsigned ncmds = 0, i;
    g_autofree uint8_t *rsp = g_malloc(BENCH_MAX_MSG);
    uint32_t len;
    XferInfo xi;
    GError *err = NULL;

    for (i = 1; i < (unsigned)argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < (unsigned)argc ? argv[i + 1] : NULL;

        if (!strcmp(arg, "--callgrind")) {
            a.callgrind = true;
            continue;
        }
        if (!val) {
            usage();
        }
        i++;
        if (!strcmp(arg, "--backend")) {
            a.backend = val;
        } else if (!strcmp(arg, "--fake-buffer")) {
            a.fake_buffer = parse_u32(val);
        } else if (!strcmp(arg, "--window")) {
            a.window = parse_u32(val);
        } else if (!strcmp(arg, "--iterations")) {
            a.iterations = parse_u32(val);
        } else if (!strcmp(arg, "--warmup")) {
            a.warmup = parse_u32(val);
        } else if (!strcmp(arg, "--out")) {
            a.out = val;
        } else {
            usage();
        }
    }
    if (strcmp(a.backend, "swtpm") && strcmp(a.backend, "fake")) {
        usage();
    }
    out = a.out ? fopen(a.out, "a") : stdout;
    if (!out) {
        fprintf(stderr, "tpm-crb-bench-inproc: %s: %s\n", a.out,
                g_strerror(errno));
        return 1;
    }

    start_tpms(&a, &tpms);
    create_device(tpms.ctrl[0], a.window);
    if (!bench_direct_open(&direct, tpms.ctrl[1], &err)) {
        die("direct channel", err);
    }

    mmio_write32(BENCH_CRB_LOC_CTRL, 1); /* requestAccess, locality 0 */

    if (!strcmp(a.backend, "swtpm")) {
        /* Both TPMs need TPM2_Startup before they take commands. */
        bench_cmd_startup(&startup);
        if (!device_transact(a.window, startup.bytes, startup.len, rsp,
                             BENCH_MAX_MSG, &len, &xi, &err) ||
            !bench_direct_transact(&direct, startup.bytes, startup.len, rsp,
                                   BENCH_MAX_MSG, &len, &err)) {
            die("TPM2_Startup", err);
        }
        bench_cmd_free(&startup);

        bench_cmd_get_random(&cmds[ncmds++]);
        bench_cmd_pcr_extend(&cmds[ncmds++]);
        bench_cmd_framed(&cmds[ncmds++], "Framed1K", 1024);
        bench_cmd_framed(&cmds[ncmds++], "Framed4K", 4096);
    } else {
        bench_cmd_framed(&cmds[ncmds++], "Framed8K", 8192);
    }

    if (a.callgrind) {
        /* Everything so far (start-up, Startup) is not a measurement. */
        CALLGRIND_DUMP_STATS_AT("setup");
    }
    for (i = 0; i < ncmds; i++) {
        run_command(&a, &direct, &cmds[i], rsp);
        bench_cmd_free(&cmds[i]);
    }

    bench_direct_close(&direct);
    /* The emulator backend's control connection goes before its TPM. */
    tpm_cleanup();
    qemu_chr_cleanup();
    stop_tpms(&tpms);
    if (a.out) {
        fclose(out);
    }
    return 0;
}
