/*
 * VMStateInfo: how each field type is written to and read from the
 * migration stream (big-endian integers, strict booleans, byte buffers).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "migration/qemu-file.h"
#include "migration/vmstate.h"
#include "migration/vmstate-internal.h"

/* bool: one byte, 0 or 1; anything else is a corrupt stream. */

static int get_bool(QEMUFile *f, void *pv, size_t size,
                    const VMStateField *field)
{
    int v = qemu_get_byte(f);

    if (v > 1) {
        return -EINVAL;
    }
    *(bool *)pv = v;
    return 0;
}

static int put_bool(QEMUFile *f, void *pv, size_t size,
                    const VMStateField *field)
{
    qemu_put_byte(f, *(bool *)pv ? 1 : 0);
    return 0;
}

const VMStateInfo vmstate_info_bool = {
    .name = "bool",
    .get = get_bool,
    .put = put_bool,
};

#define VMSTATE_INT_INFO(type, ctype, getter, putter) \
    static int get_##type(QEMUFile *f, void *pv, size_t size, \
                          const VMStateField *field) \
    { \
        *(ctype *)pv = (ctype)getter(f); \
        return 0; \
    } \
    static int put_##type(QEMUFile *f, void *pv, size_t size, \
                          const VMStateField *field) \
    { \
        putter(f, *(ctype *)pv); \
        return 0; \
    } \
    const VMStateInfo vmstate_info_##type = { \
        .name = #type, \
        .get = get_##type, \
        .put = put_##type, \
    }

VMSTATE_INT_INFO(int8, int8_t, qemu_get_byte, qemu_put_byte);
VMSTATE_INT_INFO(int16, int16_t, qemu_get_be16, qemu_put_be16);
VMSTATE_INT_INFO(int32, int32_t, qemu_get_be32, qemu_put_be32);
VMSTATE_INT_INFO(int64, int64_t, qemu_get_be64, qemu_put_be64);
VMSTATE_INT_INFO(uint8, uint8_t, qemu_get_byte, qemu_put_byte);
VMSTATE_INT_INFO(uint16, uint16_t, qemu_get_be16, qemu_put_be16);
VMSTATE_INT_INFO(uint32, uint32_t, qemu_get_be32, qemu_put_be32);
VMSTATE_INT_INFO(uint64, uint64_t, qemu_get_be64, qemu_put_be64);

/* buffer: size raw bytes; the engine has sized (and allocated) pv. */

static int get_buffer(QEMUFile *f, void *pv, size_t size,
                      const VMStateField *field)
{
    qemu_get_buffer(f, pv, size);
    return 0;
}

static int put_buffer(QEMUFile *f, void *pv, size_t size,
                      const VMStateField *field)
{
    qemu_put_buffer(f, pv, size);
    return 0;
}

const VMStateInfo vmstate_info_buffer = {
    .name = "buffer",
    .get = get_buffer,
    .put = put_buffer,
};

/*
 * GByteArray: be32 length then the bytes. The length comes from the
 * stream, so it is checked against what the stream still holds before
 * the array grows to it.
 */

static int get_gbytearray(QEMUFile *f, void *pv, size_t size,
                          const VMStateField *field)
{
    GByteArray **pba = pv;
    uint32_t len = qemu_get_be32(f);

    if (qemu_file_get_error(f)) {
        return qemu_file_get_error(f);
    }
    if (len > size || len > vmstate_load_limit(f)) {
        qemu_file_set_error(f, -EIO);
        return -EIO;
    }
    if (!*pba) {
        *pba = g_byte_array_new();
    }
    g_byte_array_set_size(*pba, len);
    qemu_get_buffer(f, (*pba)->data, len);
    return 0;
}

static int put_gbytearray(QEMUFile *f, void *pv, size_t size,
                          const VMStateField *field)
{
    GByteArray *ba = *(GByteArray **)pv;
    uint32_t len = ba ? ba->len : 0;

    qemu_put_be32(f, len);
    if (len) {
        qemu_put_buffer(f, ba->data, len);
    }
    return 0;
}

const VMStateInfo vmstate_info_gbytearray = {
    .name = "gbytearray",
    .get = get_gbytearray,
    .put = put_gbytearray,
};
