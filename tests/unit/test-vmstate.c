/*
 * Unit tests of the migration engine: VMState field types, versions,
 * subsections and hooks, and the whole-VM stream (sections, RAM with
 * zero pages skipped, checksums, truncation at every byte).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "system/memory.h"
#include "migration/qemu-file.h"
#include "migration/vmstate.h"
#include "migration/savevm.h"

typedef struct TestState {
    bool b;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    uint8_t bytes[5];
    uint32_t words[3];
    GByteArray *ba;
    uint32_t blob_size;
    uint8_t *blob;
    /* Added in version 2 of the description. */
    uint32_t v2_field;

    /* Subsection state and hook bookkeeping (not migrated by fields). */
    bool sub_needed;
    uint32_t sub_value;
    int pre_save_calls;
    int post_load_calls;
    int post_load_version;
    bool fail_pre_save;
    bool fail_post_load;
} TestState;

static bool sub_needed(void *opaque)
{
    TestState *s = opaque;

    return s->sub_needed;
}

static const VMStateDescription vmstate_sub = {
    .name = "test/sub",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = sub_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(sub_value, TestState),
        VMSTATE_END_OF_LIST()
    },
};

static bool test_pre_save(void *opaque, Error **errp)
{
    TestState *s = opaque;

    s->pre_save_calls++;
    if (s->fail_pre_save) {
        error_setg(errp, "test: pre_save refused");
        return false;
    }
    return true;
}

static bool test_post_load(void *opaque, int version_id, Error **errp)
{
    TestState *s = opaque;

    s->post_load_calls++;
    s->post_load_version = version_id;
    if (s->fail_post_load) {
        error_setg(errp, "test: post_load refused u32=%u", s->u32);
        return false;
    }
    return true;
}

#define TEST_FIELDS \
    VMSTATE_BOOL(b, TestState), \
    VMSTATE_SINGLE(i8, TestState, 0, vmstate_info_int8, int8_t), \
    VMSTATE_SINGLE(i16, TestState, 0, vmstate_info_int16, int16_t), \
    VMSTATE_INT32(i32, TestState), \
    VMSTATE_SINGLE(i64, TestState, 0, vmstate_info_int64, int64_t), \
    VMSTATE_UINT8(u8, TestState), \
    VMSTATE_UINT16(u16, TestState), \
    VMSTATE_UINT32(u32, TestState), \
    VMSTATE_UINT64(u64, TestState), \
    VMSTATE_UINT8_ARRAY(bytes, TestState, 5), \
    VMSTATE_UINT32_ARRAY(words, TestState, 3), \
    VMSTATE_GBYTEARRAY(ba, TestState, 0, 1 << 20), \
    VMSTATE_UINT32(blob_size, TestState), \
    VMSTATE_VBUFFER_ALLOC_UINT32(blob, TestState, 0, NULL, blob_size)

static const VMStateDescription vmstate_test = {
    .name = "test",
    .version_id = 2,
    .minimum_version_id = 1,
    .pre_save_errp = test_pre_save,
    .post_load_errp = test_post_load,
    .fields = (const VMStateField[]) {
        TEST_FIELDS,
        VMSTATE_UINT32_V(v2_field, TestState, 2),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_sub,
        NULL
    },
};

/* The same description on a side that never had the subsection. */
static const VMStateDescription vmstate_test_nosub = {
    .name = "test",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        TEST_FIELDS,
        VMSTATE_UINT32_V(v2_field, TestState, 2),
        VMSTATE_END_OF_LIST()
    },
};

/* Version 1 of the description: no v2_field. */
static const VMStateDescription vmstate_test_v1 = {
    .name = "test",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        TEST_FIELDS,
        VMSTATE_END_OF_LIST()
    },
};

static void test_state_fill(TestState *s)
{
    static const uint8_t blob[] = { 9, 8, 7, 6, 5, 4, 3 };

    memset(s, 0, sizeof(*s));
    s->b = true;
    s->i8 = -5;
    s->i16 = -1234;
    s->i32 = -123456789;
    s->i64 = -1234567890123LL;
    s->u8 = 0xab;
    s->u16 = 0xbeef;
    s->u32 = 0xdeadbeef;
    s->u64 = 0x0123456789abcdefULL;
    memcpy(s->bytes, "hello", 5);
    s->words[0] = 1;
    s->words[1] = 0x80000000;
    s->words[2] = 3;
    s->ba = g_byte_array_new();
    g_byte_array_append(s->ba, (const uint8_t *)"chunk", 5);
    s->blob_size = sizeof(blob);
    s->blob = g_memdup2(blob, sizeof(blob));
    s->v2_field = 42;
    s->sub_value = 0x5555;
}

static void test_state_free(TestState *s)
{
    if (s->ba) {
        g_byte_array_unref(s->ba);
    }
    g_free(s->blob);
    memset(s, 0, sizeof(*s));
}

static GByteArray *save(const VMStateDescription *vmsd, TestState *s)
{
    g_autoptr(QEMUFile) f = qemu_file_new_output_buffer();
    GByteArray *out = g_byte_array_new();
    const uint8_t *data;
    size_t len;

    g_assert_cmpint(vmstate_save_state(f, vmsd, s, &error_abort), ==, 0);
    data = qemu_file_buffer_data(f, &len);
    g_byte_array_append(out, data, len);
    return out;
}

static int load(const VMStateDescription *vmsd, TestState *s, int version,
                const uint8_t *data, size_t len, Error **errp)
{
    g_autoptr(QEMUFile) f = qemu_file_new_input_buffer(data, len, 0);
    int ret = vmstate_load_state(f, vmsd, s, version, errp);

    if (ret == 0 && qemu_file_remaining(f)) {
        error_setg(errp, "%zu bytes left over", qemu_file_remaining(f));
        return -EINVAL;
    }
    return ret;
}

static void test_roundtrip(void)
{
    TestState src, dst = { 0 };
    g_autoptr(GByteArray) stream = NULL;

    test_state_fill(&src);
    src.sub_needed = true;
    stream = save(&vmstate_test, &src);
    g_assert_cmpint(src.pre_save_calls, ==, 1);

    g_assert_cmpint(load(&vmstate_test, &dst, 2, stream->data, stream->len,
                         &error_abort), ==, 0);
    g_assert_true(dst.b);
    g_assert_cmpint(dst.i8, ==, -5);
    g_assert_cmpint(dst.i16, ==, -1234);
    g_assert_cmpint(dst.i32, ==, -123456789);
    g_assert_cmpint(dst.i64, ==, -1234567890123LL);
    g_assert_cmpuint(dst.u8, ==, 0xab);
    g_assert_cmpuint(dst.u16, ==, 0xbeef);
    g_assert_cmpuint(dst.u32, ==, 0xdeadbeef);
    g_assert_cmpuint(dst.u64, ==, 0x0123456789abcdefULL);
    g_assert_cmpmem(dst.bytes, 5, "hello", 5);
    g_assert_cmpmem(dst.words, sizeof(dst.words), src.words,
                    sizeof(src.words));
    g_assert_nonnull(dst.ba);
    g_assert_cmpmem(dst.ba->data, dst.ba->len, "chunk", 5);
    g_assert_cmpmem(dst.blob, dst.blob_size, src.blob, src.blob_size);
    g_assert_cmpuint(dst.v2_field, ==, 42);
    g_assert_cmpuint(dst.sub_value, ==, 0x5555);
    g_assert_cmpint(dst.post_load_calls, ==, 1);
    g_assert_cmpint(dst.post_load_version, ==, 2);

    test_state_free(&src);
    test_state_free(&dst);
}

static const VMStateDescription vmstate_wire = {
    .name = "wire",
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(u16, TestState),
        VMSTATE_UINT32(u32, TestState),
        VMSTATE_END_OF_LIST()
    },
};

/* Big-endian on the wire, whatever the host. */
static void test_wire_format(void)
{
    static const uint8_t want[] = { 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
                                    0x1f };
    TestState s = { .u16 = 0x1234, .u32 = 0xdeadbeef };
    g_autoptr(GByteArray) stream = save(&vmstate_wire, &s);

    g_assert_cmpmem(stream->data, stream->len, want, sizeof(want));
}

static void test_subsection_not_needed(void)
{
    TestState src, dst = { 0 };
    g_autoptr(GByteArray) stream = NULL;

    test_state_fill(&src);
    src.sub_needed = false;
    stream = save(&vmstate_test, &src);
    /* A side without the subsection accepts a stream that lacks it. */
    g_assert_cmpint(load(&vmstate_test_nosub, &dst, 2, stream->data,
                         stream->len, &error_abort), ==, 0);
    g_assert_cmpuint(dst.sub_value, ==, 0);
    test_state_free(&src);
    test_state_free(&dst);
}

static void test_unknown_subsection(void)
{
    TestState src, dst = { 0 };
    g_autoptr(GByteArray) stream = NULL;
    Error *err = NULL;

    test_state_fill(&src);
    src.sub_needed = true;
    stream = save(&vmstate_test, &src);
    g_assert_cmpint(load(&vmstate_test_nosub, &dst, 2, stream->data,
                         stream->len, &err), <, 0);
    g_assert_nonnull(err);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "migration: unknown subsection 'test/sub' in 'test'");
    error_free(err);
    test_state_free(&src);
    test_state_free(&dst);
}

static void test_versions(void)
{
    TestState src, dst = { 0 };
    g_autoptr(GByteArray) v2 = NULL;
    g_autoptr(GByteArray) v1 = NULL;
    Error *err = NULL;

    test_state_fill(&src);
    v2 = save(&vmstate_test, &src);
    v1 = save(&vmstate_test_v1, &src);

    /* Newer than this side knows. */
    g_assert_cmpint(load(&vmstate_test_v1, &dst, 2, v2->data, v2->len,
                         &err), <, 0);
    g_assert_nonnull(strstr(error_get_pretty(err), "version 2 is newer"));
    g_clear_pointer(&err, error_free);
    test_state_free(&dst);

    /* Older but supported: the v2 field is not in the stream. */
    dst.v2_field = 7;
    g_assert_cmpint(load(&vmstate_test, &dst, 1, v1->data, v1->len,
                         &error_abort), ==, 0);
    g_assert_cmpuint(dst.v2_field, ==, 7);
    g_assert_cmpint(dst.post_load_version, ==, 1);
    test_state_free(&dst);

    /* Below minimum_version_id. */
    g_assert_cmpint(load(&vmstate_test, &dst, 0, v1->data, v1->len,
                         &err), <, 0);
    g_assert_nonnull(strstr(error_get_pretty(err), "older than the oldest"));
    g_clear_pointer(&err, error_free);
    test_state_free(&dst);
    test_state_free(&src);
}

static void test_hooks_fail(void)
{
    TestState src, dst = { 0 };
    g_autoptr(QEMUFile) f = qemu_file_new_output_buffer();
    g_autoptr(GByteArray) stream = NULL;
    Error *err = NULL;

    test_state_fill(&src);
    src.fail_pre_save = true;
    g_assert_cmpint(vmstate_save_state(f, &vmstate_test, &src, &err), <, 0);
    g_assert_cmpstr(error_get_pretty(err), ==, "test: pre_save refused");
    g_clear_pointer(&err, error_free);

    src.fail_pre_save = false;
    stream = save(&vmstate_test, &src);
    dst.fail_post_load = true;
    g_assert_cmpint(load(&vmstate_test, &dst, 2, stream->data, stream->len,
                         &err), <, 0);
    /* post_load sees the loaded fields, and its message is kept. */
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "test: post_load refused u32=3735928559");
    error_free(err);
    test_state_free(&src);
    test_state_free(&dst);
}

/* Every proper prefix of a valid stream fails cleanly, naming a byte. */
static void test_truncation(void)
{
    TestState src;
    g_autoptr(GByteArray) stream = NULL;

    test_state_fill(&src);
    src.sub_needed = true;
    stream = save(&vmstate_test, &src);
    for (guint cut = 0; cut < stream->len; cut++) {
        TestState dst = { 0 };
        Error *err = NULL;

        g_assert_cmpint(load(&vmstate_test, &dst, 2, stream->data, cut,
                             &err), <, 0);
        g_assert_nonnull(err);
        g_assert_nonnull(strstr(error_get_pretty(err), "truncated"));
        g_assert_cmpint(dst.post_load_calls, ==, 0);
        error_free(err);
        test_state_free(&dst);
    }
    test_state_free(&src);
}

static uint32_t be32_at(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

static void put_be32_at(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

/* Offset of the GByteArray length: after the fixed-size fields. */
#define BA_LEN_OFFSET (1 + 1 + 2 + 4 + 8 + 1 + 2 + 4 + 8 + 5 + 12)

static void test_hostile_lengths(void)
{
    TestState src;
    g_autoptr(GByteArray) stream = NULL;
    guint blob_len_off;

    test_state_fill(&src);
    stream = save(&vmstate_test, &src);
    g_assert_cmpuint(be32_at(stream->data + BA_LEN_OFFSET), ==, 5);
    blob_len_off = BA_LEN_OFFSET + 4 + 5;
    g_assert_cmpuint(be32_at(stream->data + blob_len_off), ==, 7);

    /* A GByteArray claiming 4 GiB: refused before anything is allocated. */
    {
        g_autoptr(GByteArray) bad = g_byte_array_new();
        TestState dst = { 0 };
        Error *err = NULL;

        g_byte_array_append(bad, stream->data, stream->len);
        put_be32_at(bad->data + BA_LEN_OFFSET, 0xffffffff);
        g_assert_cmpint(load(&vmstate_test, &dst, 2, bad->data, bad->len,
                             &err), <, 0);
        g_assert_nonnull(strstr(error_get_pretty(err), "field 'ba'"));
        error_free(err);
        test_state_free(&dst);
    }
    /* A VBUFFER whose size claims more than the section holds. */
    {
        g_autoptr(GByteArray) bad = g_byte_array_new();
        TestState dst = { 0 };
        Error *err = NULL;

        g_byte_array_append(bad, stream->data, stream->len);
        put_be32_at(bad->data + blob_len_off, 0x7fffffff);
        g_assert_cmpint(load(&vmstate_test, &dst, 2, bad->data, bad->len,
                             &err), <, 0);
        g_assert_nonnull(strstr(error_get_pretty(err), "field 'blob'"));
        g_assert_null(dst.blob);
        error_free(err);
        test_state_free(&dst);
    }
    /* A boolean that is neither 0 nor 1. */
    {
        g_autoptr(GByteArray) bad = g_byte_array_new();
        TestState dst = { 0 };
        Error *err = NULL;

        g_byte_array_append(bad, stream->data, stream->len);
        bad->data[0] = 2;
        g_assert_cmpint(load(&vmstate_test, &dst, 2, bad->data, bad->len,
                             &err), <, 0);
        g_assert_cmpstr(error_get_pretty(err), ==,
                        "migration: section 'test' field 'b' has an "
                        "invalid bool value");
        error_free(err);
        test_state_free(&dst);
    }
    test_state_free(&src);
}

/* Whole-VM stream: registered sections and a RAM region. */

typedef struct StreamFixture {
    MemoryRegion ram;
    TestState state;
} StreamFixture;

#define RAM_SIZE (16 * MiB)

static void stream_fixture_init(StreamFixture *fx)
{
    memset(fx, 0, sizeof(*fx));
    memory_region_init_ram(&fx->ram, NULL, "test.ram", RAM_SIZE,
                           &error_abort);
    memory_region_add_subregion(get_system_memory(), 0x100000000ULL,
                                &fx->ram);
    test_state_fill(&fx->state);
    vmstate_register(NULL, -1, &vmstate_test, &fx->state);
}

static void stream_fixture_fini(StreamFixture *fx)
{
    vmstate_unregister(NULL, &vmstate_test, &fx->state);
    memory_region_del_subregion(get_system_memory(), &fx->ram);
    memory_region_finalize(&fx->ram);
    test_state_free(&fx->state);
}

static GByteArray *save_vm(void)
{
    g_autoptr(QEMUFile) f = qemu_file_new_output_buffer();
    GByteArray *out = g_byte_array_new();
    const uint8_t *data;
    size_t len;

    g_assert_cmpint(qemu_savevm_state(f, &error_abort), ==, 0);
    data = qemu_file_buffer_data(f, &len);
    g_byte_array_append(out, data, len);
    return out;
}

static int load_vm(const uint8_t *data, size_t len, Error **errp)
{
    g_autoptr(QEMUFile) f = qemu_file_new_input_buffer(data, len, 0);

    return qemu_loadvm_state(f, errp);
}

static void test_stream_roundtrip(void)
{
    StreamFixture fx;
    g_autoptr(GByteArray) stream = NULL;
    uint8_t *ram;

    stream_fixture_init(&fx);
    ram = memory_region_get_ram_ptr(&fx.ram);
    ram[5 * 4096 + 17] = 0x42;
    ram[RAM_SIZE - 1] = 0x99;
    stream = save_vm();
    /* 16 MiB of RAM, two dirty pages: the stream stays small. */
    g_assert_cmpuint(stream->len, <, 3 * 4096);

    /* Change everything the stream should restore. */
    ram[5 * 4096 + 17] = 0;
    ram[RAM_SIZE - 1] = 0;
    ram[1000] = 0x77;
    fx.state.u32 = 1;
    g_assert_cmpint(load_vm(stream->data, stream->len, &error_abort), ==, 0);
    g_assert_cmpuint(ram[5 * 4096 + 17], ==, 0x42);
    g_assert_cmpuint(ram[RAM_SIZE - 1], ==, 0x99);
    /* A page that was zero on the source is zero here. */
    g_assert_cmpuint(ram[1000], ==, 0);
    g_assert_cmpuint(fx.state.u32, ==, 0xdeadbeef);
    stream_fixture_fini(&fx);
}

static void test_stream_truncation(void)
{
    StreamFixture fx;
    g_autoptr(GByteArray) stream = NULL;

    stream_fixture_init(&fx);
    ((uint8_t *)memory_region_get_ram_ptr(&fx.ram))[12345] = 1;
    stream = save_vm();
    for (guint cut = 0; cut < stream->len; cut++) {
        Error *err = NULL;

        g_assert_cmpint(load_vm(stream->data, cut, &err), <, 0);
        g_assert_nonnull(err);
        if (!strstr(error_get_pretty(err), "truncated at byte")) {
            g_error("cut at %u: unexpected message: %s", cut,
                    error_get_pretty(err));
        }
        error_free(err);
    }
    stream_fixture_fini(&fx);
}

static void expect_load_error(GByteArray *stream, const char *want)
{
    Error *err = NULL;

    g_assert_cmpint(load_vm(stream->data, stream->len, &err), <, 0);
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), want)) {
        g_error("expected '%s' in: %s", want, error_get_pretty(err));
    }
    error_free(err);
}

static void test_stream_corruption(void)
{
    StreamFixture fx;
    g_autoptr(GByteArray) stream = NULL;
    g_autoptr(GByteArray) bad = g_byte_array_new();

    stream_fixture_init(&fx);
    ((uint8_t *)memory_region_get_ram_ptr(&fx.ram))[12345] = 1;
    stream = save_vm();

    /* Magic. */
    g_byte_array_append(bad, stream->data, stream->len);
    bad->data[0] ^= 1;
    expect_load_error(bad, "not a migration stream");

    /* One flipped bit anywhere after the header is caught. */
    for (guint i = 8; i < stream->len; i++) {
        Error *err = NULL;

        memcpy(bad->data, stream->data, stream->len);
        bad->data[i] ^= 0x10;
        if (load_vm(bad->data, bad->len, &err) == 0) {
            g_error("a flipped bit at byte %u went unnoticed", i);
        }
        error_free(err);
    }

    /* Trailing garbage. */
    memcpy(bad->data, stream->data, stream->len);
    g_byte_array_append(bad, (const uint8_t *)"x", 1);
    expect_load_error(bad, "unexpected data after the end of the stream");

    /* A section this side does not have. */
    vmstate_unregister(NULL, &vmstate_test, &fx.state);
    expect_load_error(stream, "unknown section 'test' (instance 0)");
    /* A section missing from the stream. */
    {
        g_autoptr(GByteArray) empty = NULL;

        empty = save_vm();
        vmstate_register(NULL, -1, &vmstate_test, &fx.state);
        expect_load_error(empty, "section 'test' (instance 0) is missing");
    }
    stream_fixture_fini(&fx);
}

static void test_stream_fd(void)
{
    StreamFixture fx;
    g_autofree char *path = NULL;
    QEMUFile *f;
    int fd;

    stream_fixture_init(&fx);
    ((uint8_t *)memory_region_get_ram_ptr(&fx.ram))[RAM_SIZE / 2] = 3;
    fd = g_file_open_tmp("test-vmstate-XXXXXX", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    f = qemu_file_new_fd_output(fd);
    g_assert_cmpint(qemu_savevm_state(f, &error_abort), ==, 0);
    g_assert_cmpint(qemu_fclose(f), ==, 0);

    ((uint8_t *)memory_region_get_ram_ptr(&fx.ram))[RAM_SIZE / 2] = 0;
    fd = open(path, O_RDONLY);
    g_assert_cmpint(fd, >=, 0);
    f = qemu_file_new_fd_input(fd);
    g_assert_cmpint(qemu_loadvm_state(f, &error_abort), ==, 0);
    qemu_fclose(f);
    g_assert_cmpuint(((uint8_t *)memory_region_get_ram_ptr(&fx.ram))
                     [RAM_SIZE / 2], ==, 3);
    unlink(path);
    stream_fixture_fini(&fx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vmstate/roundtrip", test_roundtrip);
    g_test_add_func("/vmstate/wire-format", test_wire_format);
    g_test_add_func("/vmstate/subsection/not-needed",
                    test_subsection_not_needed);
    g_test_add_func("/vmstate/subsection/unknown", test_unknown_subsection);
    g_test_add_func("/vmstate/versions", test_versions);
    g_test_add_func("/vmstate/hooks-fail", test_hooks_fail);
    g_test_add_func("/vmstate/truncation", test_truncation);
    g_test_add_func("/vmstate/hostile-lengths", test_hostile_lengths);
    g_test_add_func("/vmstate/stream/roundtrip", test_stream_roundtrip);
    g_test_add_func("/vmstate/stream/truncation", test_stream_truncation);
    g_test_add_func("/vmstate/stream/corruption", test_stream_corruption);
    g_test_add_func("/vmstate/stream/fd", test_stream_fd);
    return g_test_run();
}
