/*
 * Unit tests of the memory dispatcher: QEMU's access-size rules (valid
 * and impl sizes, splitting, widening, alignment), unassigned accesses,
 * RAM regions, priorities and device endianness.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "system/memory.h"

typedef struct Access {
    bool is_write;
    hwaddr addr;
    unsigned size;
    uint64_t val;
} Access;

typedef struct TestDev {
    GArray *log;
    /* Backing bytes that the callbacks read and write. */
    uint8_t bytes[64];
} TestDev;

static uint64_t dev_read(void *opaque, hwaddr addr, unsigned size)
{
    TestDev *d = opaque;
    Access a = { false, addr, size, 0 };

    g_assert_cmpuint(addr + size, <=, sizeof(d->bytes));
    memcpy(&a.val, d->bytes + addr, size);
    g_array_append_val(d->log, a);
    return a.val;
}

static void dev_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    TestDev *d = opaque;
    Access a = { true, addr, size, val };

    g_assert_cmpuint(addr + size, <=, sizeof(d->bytes));
    memcpy(d->bytes + addr, &val, size);
    g_array_append_val(d->log, a);
}

/* A private root so that tests do not see each other's regions. */
typedef struct Fixture {
    MemoryRegion root;
    MemoryRegion mmio;
    AddressSpace as;
    TestDev dev;
    MemoryRegionOps ops;
} Fixture;

#define BASE 0x10000

static void fixture_init(Fixture *f, const MemoryRegionOps *ops)
{
    memset(f, 0, sizeof(*f));
    f->dev.log = g_array_new(FALSE, TRUE, sizeof(Access));
    for (unsigned i = 0; i < sizeof(f->dev.bytes); i++) {
        f->dev.bytes[i] = 0x10 + i;
    }
    f->ops = *ops;
    f->ops.read = dev_read;
    f->ops.write = dev_write;
    memory_region_init(&f->root, NULL, "root", UINT64_MAX);
    memory_region_init_io(&f->mmio, NULL, &f->ops, &f->dev, "dev",
                          sizeof(f->dev.bytes));
    memory_region_add_subregion(&f->root, BASE, &f->mmio);
    f->as.name = (char *)"test";
    f->as.root = &f->root;
}

static void fixture_fini(Fixture *f)
{
    memory_region_del_subregion(&f->root, &f->mmio);
    memory_region_finalize(&f->mmio);
    memory_region_finalize(&f->root);
    g_array_free(f->dev.log, TRUE);
}

static Access *log_at(Fixture *f, unsigned i)
{
    g_assert_cmpuint(i, <, f->dev.log->len);
    return &g_array_index(f->dev.log, Access, i);
}

static uint64_t as_read(Fixture *f, hwaddr addr, unsigned size)
{
    uint64_t v = 0;

    address_space_read(&f->as, addr, MEMTXATTRS_UNSPECIFIED, &v, size);
    return v;
}

static void as_write(Fixture *f, hwaddr addr, uint64_t v, unsigned size)
{
    address_space_write(&f->as, addr, MEMTXATTRS_UNSPECIFIED, &v, size);
}

/* An 8-byte read of a region with valid.max 4 becomes two 4-byte reads. */
static void test_split_by_valid_max(void)
{
    MemoryRegionOps ops = { .endianness = DEVICE_LITTLE_ENDIAN };
    Fixture f;

    fixture_init(&f, &ops);
    g_assert_cmphex(as_read(&f, BASE + 8, 8), ==, 0x1f1e1d1c1b1a1918ULL);
    g_assert_cmpuint(f.dev.log->len, ==, 2);
    g_assert_cmphex(log_at(&f, 0)->addr, ==, 8);
    g_assert_cmpuint(log_at(&f, 0)->size, ==, 4);
    g_assert_cmphex(log_at(&f, 1)->addr, ==, 12);
    fixture_fini(&f);
}

/* A misaligned access is split at natural alignment boundaries. */
static void test_split_by_alignment(void)
{
    MemoryRegionOps ops = { .endianness = DEVICE_LITTLE_ENDIAN };
    Fixture f;

    fixture_init(&f, &ops);
    g_assert_cmphex(as_read(&f, BASE + 2, 4), ==, 0x15141312);
    g_assert_cmpuint(f.dev.log->len, ==, 2);
    g_assert_cmpuint(log_at(&f, 0)->size, ==, 2);
    g_assert_cmphex(log_at(&f, 0)->addr, ==, 2);
    g_assert_cmpuint(log_at(&f, 1)->size, ==, 2);
    g_assert_cmphex(log_at(&f, 1)->addr, ==, 4);
    fixture_fini(&f);
}

/* valid.max_access_size 1: a 4-byte write arrives as four byte writes. */
static void test_byte_only_device(void)
{
    MemoryRegionOps ops = {
        .endianness = DEVICE_LITTLE_ENDIAN,
        .valid = { .min_access_size = 1, .max_access_size = 1 },
    };
    Fixture f;

    fixture_init(&f, &ops);
    as_write(&f, BASE, 0xa1b2c3d4, 4);
    g_assert_cmpuint(f.dev.log->len, ==, 4);
    for (unsigned i = 0; i < 4; i++) {
        g_assert_true(log_at(&f, i)->is_write);
        g_assert_cmpuint(log_at(&f, i)->size, ==, 1);
        g_assert_cmphex(log_at(&f, i)->addr, ==, i);
    }
    g_assert_cmphex(log_at(&f, 0)->val, ==, 0xd4);
    g_assert_cmphex(log_at(&f, 3)->val, ==, 0xa1);
    fixture_fini(&f);
}

/*
 * impl.min_access_size 4: a byte read is widened to a 4-byte callback and
 * the low byte kept; the bytes beyond are not returned.
 */
static void test_widen_to_impl_min(void)
{
    MemoryRegionOps ops = {
        .endianness = DEVICE_LITTLE_ENDIAN,
        .impl = { .min_access_size = 4, .max_access_size = 4 },
    };
    Fixture f;

    fixture_init(&f, &ops);
    g_assert_cmphex(as_read(&f, BASE + 4, 1), ==, 0x14);
    g_assert_cmpuint(f.dev.log->len, ==, 1);
    g_assert_cmpuint(log_at(&f, 0)->size, ==, 4);
    fixture_fini(&f);
}

/* impl.max_access_size 1 with valid 1..4: one access, several callbacks. */
static void test_split_to_impl_max(void)
{
    MemoryRegionOps ops = {
        .endianness = DEVICE_LITTLE_ENDIAN,
        .impl = { .min_access_size = 1, .max_access_size = 1 },
    };
    Fixture f;
    uint64_t v = 0;

    fixture_init(&f, &ops);
    g_assert_cmpint(memory_region_dispatch_read(&f.mmio, 4, &v, 4,
                                                MEMTXATTRS_UNSPECIFIED),
                    ==, MEMTX_OK);
    g_assert_cmphex(v, ==, 0x17161514);
    g_assert_cmpuint(f.dev.log->len, ==, 4);
    fixture_fini(&f);
}

/* Accesses the region does not accept are not delivered. */
static void test_invalid_not_delivered(void)
{
    MemoryRegionOps ops = {
        .endianness = DEVICE_LITTLE_ENDIAN,
        .valid = { .min_access_size = 4, .max_access_size = 4 },
    };
    Fixture f;
    uint64_t v = 0xdead;

    fixture_init(&f, &ops);
    /* Too small for valid.min: read as 0, write dropped. */
    g_assert_cmphex(as_read(&f, BASE + 1, 1), ==, 0);
    as_write(&f, BASE + 1, 0xff, 1);
    /* Misaligned, straight to the region. */
    g_assert_cmpint(memory_region_dispatch_read(&f.mmio, 2, &v, 4,
                                                MEMTXATTRS_UNSPECIFIED),
                    ==, MEMTX_DECODE_ERROR);
    g_assert_cmphex(v, ==, 0);
    /* Past the end of the region. */
    g_assert_cmpint(memory_region_dispatch_write(&f.mmio, 62, 0, 4,
                                                 MEMTXATTRS_UNSPECIFIED),
                    ==, MEMTX_DECODE_ERROR);
    g_assert_cmpuint(f.dev.log->len, ==, 0);
    g_assert_cmphex(f.dev.bytes[1], ==, 0x11);
    fixture_fini(&f);
}

static bool accepts_even(void *opaque, hwaddr addr, unsigned size,
                         bool is_write, MemTxAttrs attrs)
{
    return (addr & 7) == 0;
}

static void test_accepts_hook(void)
{
    MemoryRegionOps ops = {
        .endianness = DEVICE_LITTLE_ENDIAN,
        .valid = { .accepts = accepts_even },
    };
    Fixture f;

    fixture_init(&f, &ops);
    g_assert_cmphex(as_read(&f, BASE + 8, 4), ==, 0x1b1a1918);
    g_assert_cmphex(as_read(&f, BASE + 4, 4), ==, 0);
    g_assert_cmpuint(f.dev.log->len, ==, 1);
    fixture_fini(&f);
}

static void test_big_endian_device(void)
{
    MemoryRegionOps ops = { .endianness = DEVICE_BIG_ENDIAN };
    Fixture f;

    fixture_init(&f, &ops);
    /* The device returns 0x13121110 as a value; the bus sees it swapped. */
    g_assert_cmphex(as_read(&f, BASE, 4), ==, 0x10111213);
    as_write(&f, BASE, 0x01020304, 4);
    g_assert_cmphex(log_at(&f, 1)->val, ==, 0x04030201);
    fixture_fini(&f);
}

/* Unassigned memory reads as zeros and ignores writes, across a gap. */
static void test_unassigned_and_spanning(void)
{
    MemoryRegionOps ops = { .endianness = DEVICE_LITTLE_ENDIAN };
    Fixture f;
    uint8_t buf[16];

    fixture_init(&f, &ops);
    memset(buf, 0xee, sizeof(buf));
    g_assert_cmpint(address_space_read(&f.as, BASE - 8,
                                       MEMTXATTRS_UNSPECIFIED, buf, 16),
                    ==, MEMTX_DECODE_ERROR);
    for (int i = 0; i < 8; i++) {
        g_assert_cmphex(buf[i], ==, 0);
    }
    for (int i = 8; i < 16; i++) {
        g_assert_cmphex(buf[i], ==, 0x10 + i - 8);
    }
    as_write(&f, 0x500000, 0x1234, 4);
    g_assert_cmphex(as_read(&f, 0x500000, 4), ==, 0);
    fixture_fini(&f);
}

/* RAM regions: byte-exact round trips; higher priority wins an overlap. */
static void test_ram_and_priority(void)
{
    MemoryRegion root, ram, over;
    AddressSpace as = { .name = (char *)"t", .root = &root };
    uint8_t in[32], out[32];

    memory_region_init(&root, NULL, "root", UINT64_MAX);
    g_assert_true(memory_region_init_ram(&ram, NULL, "ram", 4096,
                                         &error_abort));
    g_assert_true(memory_region_init_ram(&over, NULL, "over", 16,
                                         &error_abort));
    memory_region_add_subregion(&root, 0x1000, &ram);
    for (int i = 0; i < 32; i++) {
        in[i] = i * 7;
    }
    address_space_write(&as, 0x1ff0, MEMTXATTRS_UNSPECIFIED, in, 32);
    address_space_read(&as, 0x1ff0, MEMTXATTRS_UNSPECIFIED, out, 32);
    g_assert_cmpmem(out, 16, in, 16);
    for (int i = 16; i < 32; i++) {
        g_assert_cmphex(out[i], ==, 0);
    }

    memory_region_add_subregion_overlap(&root, 0x1008, &over, 1);
    address_space_write(&as, 0x1000, MEMTXATTRS_UNSPECIFIED, in, 32);
    g_assert_cmpmem(memory_region_get_ram_ptr(&over), 16, in + 8, 16);
    /* Bytes under the overlay stay as before in the lower region. */
    g_assert_cmphex(((uint8_t *)memory_region_get_ram_ptr(&ram))[8], ==, 0);
    g_assert_cmphex(((uint8_t *)memory_region_get_ram_ptr(&ram))[24],
                    ==, in[24]);

    memory_region_del_subregion(&root, &over);
    memory_region_del_subregion(&root, &ram);
    memory_region_finalize(&over);
    memory_region_finalize(&ram);
    memory_region_finalize(&root);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/memory/split-by-valid-max", test_split_by_valid_max);
    g_test_add_func("/memory/split-by-alignment", test_split_by_alignment);
    g_test_add_func("/memory/byte-only-device", test_byte_only_device);
    g_test_add_func("/memory/widen-to-impl-min", test_widen_to_impl_min);
    g_test_add_func("/memory/split-to-impl-max", test_split_to_impl_max);
    g_test_add_func("/memory/invalid-not-delivered",
                    test_invalid_not_delivered);
    g_test_add_func("/memory/accepts-hook", test_accepts_hook);
    g_test_add_func("/memory/big-endian-device", test_big_endian_device);
    g_test_add_func("/memory/unassigned-and-spanning",
                    test_unassigned_and_spanning);
    g_test_add_func("/memory/ram-and-priority", test_ram_and_priority);
    return g_test_run();
}
