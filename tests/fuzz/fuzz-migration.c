/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libFuzzer target: the migration stream loader (migration/savevm.c,
 * migration/vmstate.c) with a tpm-crb on the destination, on streams
 * mutated from real ones.
 *
 * An input is a flags byte, the device's two configuration bytes (see
 * fuzz_crb_create) and a stream. With flag bit 0 the CRC-32 fields of the
 * stream's RAM and section records are recomputed before loading, so that
 * mutations reach the VMState decoding and tpm-crb's post_load checks
 * instead of stopping at the checksum; without it the checksum checks
 * themselves are fuzzed. A stream that loads must leave the device in a
 * state it can run: the invariants are checked, then the guest side
 * reads the rest of the transfer, retries and sends a new command.
 *
 * The seed corpus (tests/fuzz/corpus/fuzz-migration) comes from real
 * saves by qemu_savevm_state of a device in each transfer phase; with
 * FUZZ_MIGRATION_WRITE_SEEDS=DIR the program writes them to DIR and exits.
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>
#include "qapi/error.h"
#include "hw/acpi/tpm.h"
#include "migration/qemu-file.h"
#include "migration/savevm.h"
#include "system/tpm_util.h"
#include "qemu/bswap.h"
#include "fuzz-common.h"
#include "fuzz-crb-env.h"

#define FLAG_FIX_CRC 1

/* Bounds-checked reader over the mutable stream copy. */
typedef struct Walker {
    uint8_t *p;
    size_t len;
    size_t pos;
} Walker;

static bool walk_skip(Walker *w, uint64_t n)
{
    if (n > w->len - w->pos) {
        return false;
    }
    w->pos += n;
    return true;
}

static bool walk_be32(Walker *w, uint32_t *v)
{
    if (w->len - w->pos < 4) {
        return false;
    }
    *v = ldl_be_p(w->p + w->pos);
    w->pos += 4;
    return true;
}

static bool walk_be64(Walker *w, uint64_t *v)
{
    uint32_t hi, lo;

    if (!walk_be32(w, &hi) || !walk_be32(w, &lo)) {
        return false;
    }
    *v = (uint64_t)hi << 32 | lo;
    return true;
}

static bool walk_name(Walker *w)
{
    if (w->pos >= w->len) {
        return false;
    }
    return walk_skip(w, 1 + w->p[w->pos]);
}

/* One RAM region: pages until the end marker, then fix its CRC. */
static bool fix_ram_region(Walker *w)
{
    uint64_t size, off;
    uint32_t crc = 0;

    if (!walk_name(w) || !walk_be64(w, &size)) {
        return false;
    }
    for (;;) {
        size_t at = w->pos;
        uint64_t len;

        if (!walk_be64(w, &off)) {
            return false;
        }
        crc = migration_crc32(crc, w->p + at, 8);
        if (off == MIGRATION_RAM_REGION_END) {
            break;
        }
        if (off >= size) {
            return false;
        }
        len = MIN(MIGRATION_RAM_PAGE_SIZE, size - off);
        at = w->pos;
        if (!walk_skip(w, len)) {
            return false;
        }
        crc = migration_crc32(crc, w->p + at, len);
    }
    if (w->len - w->pos < 4) {
        return false;
    }
    stl_be_p(w->p + w->pos, crc);
    w->pos += 4;
    return true;
}

/* Recompute every checksum the stream layout of savevm.h defines. */
static void fix_crcs(uint8_t *data, size_t len)
{
    Walker w = { data, len, 0 };
    uint32_t count, i, plen;

    /* magic, version, config record */
    if (!walk_skip(&w, 9) || !walk_name(&w)) {
        return;
    }
    while (w.pos < w.len) {
        uint8_t rec = w.p[w.pos++];
        size_t at;

        switch (rec) {
        case MIGRATION_REC_RAM:
            if (!walk_be32(&w, &count)) {
                return;
            }
            for (i = 0; i < count; i++) {
                if (!fix_ram_region(&w)) {
                    return;
                }
            }
            break;
        case MIGRATION_REC_SECTION:
            if (!walk_name(&w) || !walk_skip(&w, 8) ||
                !walk_be32(&w, &plen)) {
                return;
            }
            at = w.pos;
            if (!walk_skip(&w, plen) || w.len - w.pos < 4) {
                return;
            }
            stl_be_p(w.p + w.pos, migration_crc32(0, w.p + at, plen));
            w.pos += 4;
            break;
        default:
            return;
        }
    }
}

/* The guest carries on after a successful load; nothing may break. */
static void run_after_load(DeviceState *dev)
{
    Verdict answer = { VERDICT_ANSWER, 64, 64, 0 };
    uint8_t hdr[TPM_HEADER_SIZE] = { 0x80, 0x01, 0, 0, 0, TPM_HEADER_SIZE };
    int i;

    fuzz_crb_check(dev);
    for (i = 0; i < 40; i++) {
        fuzz_crb_mmio_write(A_CRB_CTRL_START, 4,
                            i == 20 ? 2 : 4);    /* nextChunk, a retry */
        fuzz_crb_settle();
        fuzz_crb_check(dev);
    }
    fuzz_crb_mmio_write(A_CRB_LOC_CTRL, 4, 1);
    fuzz_crb_mmio_write(A_CRB_CTRL_REQ, 4, 1);
    for (i = 0; i < TPM_HEADER_SIZE; i++) {
        fuzz_crb_mmio_write(A_CRB_DATA_BUFFER + i, 1, hdr[i]);
    }
    fuzz_crb_mmio_write(A_CRB_CTRL_START, 4, 1);
    fuzz_crb_settle();
    fuzz_crb_verdict(&answer);
    fuzz_crb_settle();
    fuzz_crb_check(dev);
    g_assert_cmpuint(fuzz_crb_mmio_read(A_CRB_CTRL_START, 4) & 1, ==, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in = { data, size };
    uint8_t flags = fuzz_u8(&in);
    uint8_t cfg = fuzz_u8(&in);
    DeviceState *dev = fuzz_crb_create(cfg, fuzz_u8(&in));
    /* A copy the CRC fixer may write; never empty, for g_malloc. */
    g_autofree uint8_t *stream = g_malloc0(in.len + 1);
    QEMUFile *f;
    Error *err = NULL;
    int ret;

    memcpy(stream, in.data, in.len);
    if (flags & FLAG_FIX_CRC) {
        fix_crcs(stream, in.len);
    }
    f = qemu_file_new_input_buffer(stream, in.len, 0);
    ret = qemu_loadvm_state(f, &err);
    qemu_fclose(f);
    if (g_getenv("FUZZ_VERBOSE")) {
        fprintf(stderr, "fuzz-migration: %s\n",
                ret == 0 ? "loaded" : error_get_pretty(err));
    }
    if (ret == 0) {
        g_assert_null(err);
        run_after_load(dev);
    } else {
        /* Every refusal says why. */
        g_assert_nonnull(err);
        g_assert_cmpuint(strlen(error_get_pretty(err)), >, 0);
        error_free(err);
    }
    fuzz_crb_destroy(dev);
    return 0;
}

/* Seeds: real saves of a device in each transfer phase. */

static void seed_save(const char *dir, const char *name, uint8_t cfg,
                      uint8_t sizes)
{
    g_autoptr(QEMUFile) f = qemu_file_new_output_buffer();
    g_autoptr(GByteArray) seed = g_byte_array_new();
    g_autofree char *path = NULL;
    g_autoptr(GError) gerr = NULL;
    const uint8_t *data;
    uint8_t head[3] = { FLAG_FIX_CRC, cfg, sizes };
    size_t len;

    if (qemu_savevm_state(f, &error_abort) < 0) {
        g_error("cannot save seed %s", name);
    }
    data = qemu_file_buffer_data(f, &len);
    g_byte_array_append(seed, head, sizeof(head));
    g_byte_array_append(seed, data, len);
    path = g_strdup_printf("%s/%s", dir, name);
    if (!g_file_set_contents(path, (const char *)seed->data, seed->len,
                             &gerr)) {
        g_error("%s: %s", path, gerr->message);
    }
    /* The same stream with its checksums left as they are. */
    seed->data[0] = 0;
    g_free(path);
    path = g_strdup_printf("%s/%s-raw", dir, name);
    if (!g_file_set_contents(path, (const char *)seed->data, seed->len,
                             &gerr)) {
        g_error("%s: %s", path, gerr->message);
    }
}

static void seed_command(uint32_t declared, bool start)
{
    uint8_t hdr[TPM_HEADER_SIZE];
    unsigned i;

    stw_be_p(hdr, 0x8001);
    stl_be_p(hdr + 2, declared);
    stl_be_p(hdr + 6, 0x17b);
    fuzz_crb_mmio_write(A_CRB_LOC_CTRL, 4, 1);
    fuzz_crb_mmio_write(A_CRB_CTRL_REQ, 4, 1);
    for (i = 0; i < sizeof(hdr); i++) {
        fuzz_crb_mmio_write(A_CRB_DATA_BUFFER + i, 1, hdr[i]);
    }
    fuzz_crb_mmio_write(A_CRB_CTRL_START, 4, start ? 1 : 4);
    fuzz_crb_settle();
}

static void write_seeds(const char *dir)
{
    /* cfg, sizes (B index | W index << 4), as fuzz_crb_create reads them */
    static const struct {
        const char *name;
        uint8_t cfg, sizes;
    } configs[] = {
        { "b8k-w3968", 0, 0x01 },
        { "b4k-w64", 0, 0x20 },
        { "b64k-w1000", 0, 0x33 },
        { "nochunk", 1, 0x00 },
    };
    unsigned i;

    g_mkdir_with_parents(dir, 0755);
    for (i = 0; i < ARRAY_SIZE(configs); i++) {
        uint8_t cfg = configs[i].cfg, sizes = configs[i].sizes;
        DeviceState *dev = fuzz_crb_create(cfg, sizes);
        uint32_t w = fuzz_crb_mmio_read(A_CRB_CTRL_CMD_SIZE, 4);
        Verdict big = { VERDICT_ANSWER, 2 * w + 3, 2 * w + 3, 0 };
        Verdict small = { VERDICT_ANSWER, 30, 30, 0 };
        Verdict fail = { VERDICT_FAIL };
        g_autofree char *n = NULL;

        n = g_strdup_printf("%s-idle", configs[i].name);
        seed_save(dir, n, cfg, sizes);

        /* A finished command: DRAINED, which migrates as IDLE. */
        seed_command(TPM_HEADER_SIZE + 2, true);
        fuzz_crb_verdict(&small);
        fuzz_crb_settle();
        g_free(n);
        n = g_strdup_printf("%s-drained", configs[i].name);
        seed_save(dir, n, cfg, sizes);

        if (!(cfg & 1)) {
            /* UPLOAD: one chunk of a three-chunk command is in. */
            seed_command(2 * w + 5, false);
            g_free(n);
            n = g_strdup_printf("%s-upload", configs[i].name);
            seed_save(dir, n, cfg, sizes);

            /* DOWNLOAD: the first of three response chunks is out. */
            fuzz_crb_mmio_write(A_CRB_CTRL_REQ, 4, 1);
            seed_command(TPM_HEADER_SIZE + 2, true);
            fuzz_crb_verdict(&big);
            fuzz_crb_settle();
            g_free(n);
            n = g_strdup_printf("%s-download", configs[i].name);
            seed_save(dir, n, cfg, sizes);
        }

        /* A backend failure: tpmSts = 1 travels in the registers. */
        fuzz_crb_mmio_write(A_CRB_CTRL_REQ, 4, 1);
        seed_command(TPM_HEADER_SIZE + 2, true);
        fuzz_crb_verdict(&fail);
        fuzz_crb_settle();
        g_free(n);
        n = g_strdup_printf("%s-failed", configs[i].name);
        seed_save(dir, n, cfg, sizes);

        fuzz_crb_destroy(dev);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *seeds = g_getenv("FUZZ_MIGRATION_WRITE_SEEDS");

    fuzz_crb_env_init();
    if (seeds) {
        write_seeds(seeds);
        exit(0);
    }
    return 0;
}
