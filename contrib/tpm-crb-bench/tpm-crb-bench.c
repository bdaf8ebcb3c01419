/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * tpm-crb-bench: TPM command latency, measured inside a guest, through
 * the kernel's driver (a TPM character device, /dev/tpmrm0) or through
 * the project's chunked driver on the CRB page mapped from /dev/mem.
 *
 *   tpm-crb-bench --device /dev/tpmrm0 --count 200 getrandom pcrextend
 *   tpm-crb-bench --devmem /dev/mem --count 100 padded:2048 floor
 *
 * Commands: getrandom (TPM2_GetRandom(16), 12 bytes), pcrextend
 * (TPM2_PCR_Extend of PCR 16 with one SHA-256 digest, 65 bytes), hash1k
 * (TPM2_Hash of 1024 bytes: 1042 bytes), padded:N (TPM2_GetRandom padded
 * to N bytes, which the TPM reads whole and answers with TPM_RC_SIZE:
 * the transport's cost for an N-byte command), and, with --devmem,
 * floor (one window's worth of bytes written into the data window and
 * one MMIO write: the least a chunk can cost). For each it prints
 *
 *   BENCH NAME SIZE CHUNKS_IN CHUNKS_OUT COUNT MIN MEDIAN MAX
 *
 * with the latencies in microseconds, command by command.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "hw/acpi/tpm.h"
#include "tpm-crb-driver.h"
#include "devmem-accessor.h"

#define BENCH_MAX_COMMAND 4096
#define TPM_RC_INITIALIZE 0x100

typedef struct Bench {
    int fd;                 /* --device */
    DevmemAccessor *da;     /* --devmem */
    TpmCrbDriver *drv;
} Bench;

/* Build the named command; false if the name is unknown. */
static bool make_command(const char *name, GByteArray *cmd)
{
    static const uint8_t getrandom[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x7b,
        0x00, 0x10,
    };
    static const uint8_t extend_head[] = {
        0x80, 0x02, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x01, 0x82,
        0x00, 0x00, 0x00, 0x10,                     /* PCR 16 */
        0x00, 0x00, 0x00, 0x09,                     /* password session */
        0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x0b,         /* 1 SHA-256 */
    };
    unsigned long size;

    g_byte_array_set_size(cmd, 0);
    if (!strcmp(name, "getrandom")) {
        g_byte_array_append(cmd, getrandom, sizeof(getrandom));
    } else if (!strcmp(name, "pcrextend")) {
        g_byte_array_append(cmd, extend_head, sizeof(extend_head));
        g_byte_array_set_size(cmd, 0x41);
        memset(cmd->data + sizeof(extend_head), 0x5a,
               0x41 - sizeof(extend_head));
    } else if (!strcmp(name, "hash1k")) {
        /* TPM2_Hash(1024 bytes, SHA-256, TPM_RH_NULL) */
        g_byte_array_set_size(cmd, 10 + 2 + 1024 + 2 + 4);
        memset(cmd->data, 0x33, cmd->len);
        stw_be_p(cmd->data, 0x8001);
        stl_be_p(cmd->data + 2, cmd->len);
        stl_be_p(cmd->data + 6, 0x17d);
        stw_be_p(cmd->data + 10, 1024);
        stw_be_p(cmd->data + 12 + 1024, 0x000b);
        stl_be_p(cmd->data + 14 + 1024, 0x40000007);
    } else if (g_str_has_prefix(name, "padded:") &&
               !qemu_strtoul(name + 7, NULL, 10, &size) &&
               size >= sizeof(getrandom) && size <= BENCH_MAX_COMMAND) {
        g_byte_array_append(cmd, getrandom, sizeof(getrandom));
        g_byte_array_set_size(cmd, size);
        memset(cmd->data + sizeof(getrandom), 0, size - sizeof(getrandom));
        stl_be_p(cmd->data + 2, size);
    } else {
        return false;
    }
    return true;
}

/* One command; its latency in us, its chunk counts; -1 on failure. */
static int64_t run_once(Bench *b, const GByteArray *cmd, unsigned *cin,
                        unsigned *cout, Error **errp)
{
    uint8_t rsp[TPM_CRB_MAX_RESPONSE];
    int64_t t0 = g_get_monotonic_time();

    if (b->drv) {
        TpmCrbXferStats st;
        size_t len;

        if (!tpm_crb_driver_transmit(b->drv, cmd->data, cmd->len, rsp,
                                     sizeof(rsp), &len, &st, errp)) {
            return -1;
        }
        *cin = st.chunks_in;
        *cout = st.chunks_out;
    } else {
        ssize_t n = write(b->fd, cmd->data, cmd->len);

        if (n != (ssize_t)cmd->len) {
            error_setg_errno(errp, errno, "write to the TPM device");
            return -1;
        }
        n = read(b->fd, rsp, sizeof(rsp));
        if (n < TPM_CRB_HDR_SIZE) {
            error_setg_errno(errp, errno, "read from the TPM device");
            return -1;
        }
        *cin = *cout = 1;
    }
    return g_get_monotonic_time() - t0;
}

/*
 * The floor of a chunk: a window's worth of bytes into the data window
 * and one MMIO write (CTRL_CANCEL = 0, which the device ignores).
 */
static int64_t run_floor(Bench *b, const uint8_t *buf, uint32_t w,
                         Error **errp)
{
    int64_t t0 = g_get_monotonic_time();

    if (!devmem_accessor_ops.write_buf(b->da, TPM_CRB_LOC0_BASE +
                                       A_CRB_DATA_BUFFER, buf, w, errp) ||
        !devmem_accessor_ops.write32(b->da, TPM_CRB_LOC0_BASE +
                                     A_CRB_CTRL_CANCEL, 0, errp)) {
        return -1;
    }
    return g_get_monotonic_time() - t0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static bool bench_one(Bench *b, const char *name, int count, Error **errp)
{
    g_autoptr(GByteArray) cmd = g_byte_array_new();
    g_autofree int64_t *t = g_new(int64_t, count);
    bool floor = !strcmp(name, "floor");
    uint32_t w = b->drv ? tpm_crb_driver_cmd_window(b->drv) : 0;
    unsigned cin = 1, cout = 0;

    if (floor && !b->drv) {
        error_setg(errp, "floor needs --devmem");
        return false;
    }
    if (!floor && !make_command(name, cmd)) {
        error_setg(errp, "unknown command '%s'", name);
        return false;
    }
    if (floor) {
        g_byte_array_set_size(cmd, w);
        memset(cmd->data, 0xa5, w);
    }
    for (int i = 0; i < count; i++) {
        t[i] = floor ? run_floor(b, cmd->data, w, errp)
                     : run_once(b, cmd, &cin, &cout, errp);
        if (t[i] < 0) {
            error_prepend(errp, "%s: ", name);
            return false;
        }
    }
    qsort(t, count, sizeof(*t), cmp_i64);
    printf("BENCH %s %u %u %u %d %" PRId64 " %" PRId64 " %" PRId64 "\n",
           name, cmd->len, cin, cout, count, t[0], t[count / 2],
           t[count - 1]);
    fflush(stdout);
    return true;
}

/* Firmware may not have started the TPM (qboot): do it, as the bridge. */
static bool bench_startup(Bench *b, Error **errp)
{
    static const uint8_t startup[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44,
        0x00, 0x00,
    };
    uint8_t rsp[64];
    size_t len;
    uint32_t rc;

    if (!tpm_crb_driver_transmit(b->drv, startup, sizeof(startup), rsp,
                                 sizeof(rsp), &len, NULL, errp)) {
        return false;
    }
    rc = ldl_be_p(rsp + 6);
    if (rc && rc != TPM_RC_INITIALIZE) {
        error_setg(errp, "TPM2_Startup answered 0x%" PRIx32, rc);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    g_autofree char *device = NULL, *devmem = NULL;
    int count = 100;
    GOptionEntry entries[] = {
        { "device", 0, 0, G_OPTION_ARG_FILENAME, &device,
          "A TPM character device (the kernel's driver)", "PATH" },
        { "devmem", 0, 0, G_OPTION_ARG_FILENAME, &devmem,
          "The CRB page through PATH (/dev/mem), the project's driver",
          "PATH" },
        { "count", 'n', 0, G_OPTION_ARG_INT, &count,
          "Commands per measurement (default 100)", "N" },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("COMMAND... - TPM command latency in a guest");
    g_autoptr(GError) gerr = NULL;
    Error *err = NULL;
    Bench b = { .fd = -1 };
    int ret = 0;

    error_init(argv[0]);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
        error_report("%s", gerr->message);
        return 2;
    }
    if (!device == !devmem || count < 1 || argc < 2) {
        error_report("give --device or --devmem, a positive --count and "
                     "commands");
        return 2;
    }
    if (device) {
        b.fd = open(device, O_RDWR | O_CLOEXEC);
        if (b.fd < 0) {
            error_report("cannot open %s: %s", device, g_strerror(errno));
            return 1;
        }
    } else {
        b.da = devmem_accessor_open(devmem, TPM_CRB_LOC0_BASE, &err);
        if (b.da) {
            b.drv = tpm_crb_driver_new(&devmem_accessor_ops, b.da,
                                       TPM_CRB_LOC0_BASE);
        }
        if (!b.da || !tpm_crb_driver_probe(b.drv, &err) ||
            !tpm_crb_driver_request_locality(b.drv, &err) ||
            !bench_startup(&b, &err)) {
            error_report_err(err);
            return 1;
        }
    }
    for (int i = 1; i < argc && !ret; i++) {
        if (!bench_one(&b, argv[i], count, &err)) {
            error_report_err(err);
            ret = 1;
        }
    }
    if (b.drv) {
        tpm_crb_driver_relinquish_locality(b.drv, NULL);
        tpm_crb_driver_free(b.drv);
        devmem_accessor_free(b.da);
    }
    if (b.fd >= 0) {
        close(b.fd);
    }
    return ret;
}
