/*
 * QEMUFile: big-endian primitives over a memory buffer or a descriptor.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "migration/qemu-file.h"

#define QEMU_FILE_IO_SIZE (64 * KiB)

typedef enum QEMUFileKind {
    QEMU_FILE_BUFFER_OUT,
    QEMU_FILE_BUFFER_IN,
    QEMU_FILE_FD_OUT,
    QEMU_FILE_FD_IN,
} QEMUFileKind;

struct QEMUFile {
    QEMUFileKind kind;
    int fd;
    /*
     * BUFFER_OUT: everything written. FD_OUT: pending output.
     * BUFFER_IN: the whole input. FD_IN: the current read window.
     */
    GByteArray *buf;
    size_t pos;
    /* Bytes before buf[0]: flushed output or consumed input, plus base. */
    uint64_t done;
    int last_error;
};

static QEMUFile *qemu_file_new(QEMUFileKind kind, int fd)
{
    QEMUFile *f = g_new0(QEMUFile, 1);

    f->kind = kind;
    f->fd = fd;
    f->buf = g_byte_array_new();
    return f;
}

QEMUFile *qemu_file_new_output_buffer(void)
{
    return qemu_file_new(QEMU_FILE_BUFFER_OUT, -1);
}

QEMUFile *qemu_file_new_input_buffer(const uint8_t *data, size_t len,
                                     uint64_t base)
{
    QEMUFile *f = qemu_file_new(QEMU_FILE_BUFFER_IN, -1);

    g_byte_array_append(f->buf, data, len);
    f->done = base;
    return f;
}

QEMUFile *qemu_file_new_fd_output(int fd)
{
    return qemu_file_new(QEMU_FILE_FD_OUT, fd);
}

QEMUFile *qemu_file_new_fd_input(int fd)
{
    return qemu_file_new(QEMU_FILE_FD_IN, fd);
}

int qemu_file_get_error(QEMUFile *f)
{
    return f->last_error;
}

void qemu_file_set_error(QEMUFile *f, int ret)
{
    /* The first error is the one worth reporting. */
    if (f->last_error == 0 && ret < 0) {
        f->last_error = ret;
    }
}

int qemu_fflush(QEMUFile *f)
{
    size_t off = 0;

    if (f->kind != QEMU_FILE_FD_OUT || f->last_error) {
        return f->last_error;
    }
    while (off < f->buf->len) {
        ssize_t n = RETRY_ON_EINTR(write(f->fd, f->buf->data + off,
                                         f->buf->len - off));
        if (n < 0) {
            qemu_file_set_error(f, -errno);
            break;
        }
        off += n;
    }
    f->done += off;
    g_byte_array_remove_range(f->buf, 0, off);
    return f->last_error;
}

int qemu_fclose(QEMUFile *f)
{
    int ret;

    if (!f) {
        return 0;
    }
    qemu_fflush(f);
    ret = f->last_error;
    if (f->fd >= 0 && close(f->fd) < 0 && ret == 0) {
        ret = -errno;
    }
    g_byte_array_free(f->buf, true);
    g_free(f);
    return ret;
}

uint64_t qemu_file_tell(QEMUFile *f)
{
    switch (f->kind) {
    case QEMU_FILE_BUFFER_OUT:
    case QEMU_FILE_FD_OUT:
        return f->done + f->buf->len;
    default:
        return f->done + f->pos;
    }
}

size_t qemu_file_remaining(QEMUFile *f)
{
    if (f->kind != QEMU_FILE_BUFFER_IN) {
        return SIZE_MAX;
    }
    return f->buf->len - f->pos;
}

const uint8_t *qemu_file_buffer_data(QEMUFile *f, size_t *len)
{
    g_assert(f->kind == QEMU_FILE_BUFFER_OUT);
    *len = f->buf->len;
    return f->buf->data;
}

/* Output */

void qemu_put_buffer(QEMUFile *f, const uint8_t *buf, size_t size)
{
    g_assert(f->kind == QEMU_FILE_BUFFER_OUT || f->kind == QEMU_FILE_FD_OUT);
    if (f->last_error) {
        return;
    }
    if (f->kind == QEMU_FILE_FD_OUT && f->buf->len + size > QEMU_FILE_IO_SIZE) {
        if (qemu_fflush(f) < 0) {
            return;
        }
        if (size >= QEMU_FILE_IO_SIZE) {
            /* Large payloads (RAM pages in bulk) go straight out. */
            g_byte_array_append(f->buf, buf, size);
            qemu_fflush(f);
            return;
        }
    }
    g_byte_array_append(f->buf, buf, size);
}

void qemu_put_byte(QEMUFile *f, int v)
{
    uint8_t b = v;

    qemu_put_buffer(f, &b, 1);
}

void qemu_put_be16(QEMUFile *f, unsigned int v)
{
    uint8_t b[2] = { v >> 8, v };

    qemu_put_buffer(f, b, sizeof(b));
}

void qemu_put_be32(QEMUFile *f, unsigned int v)
{
    uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

    qemu_put_buffer(f, b, sizeof(b));
}

void qemu_put_be64(QEMUFile *f, uint64_t v)
{
    qemu_put_be32(f, v >> 32);
    qemu_put_be32(f, v);
}

/* Input */

/* Refill the read window of a descriptor stream; false at end or error. */
static bool qemu_file_fill(QEMUFile *f)
{
    ssize_t n;

    if (f->kind != QEMU_FILE_FD_IN || f->last_error) {
        return false;
    }
    f->done += f->pos;
    g_byte_array_set_size(f->buf, QEMU_FILE_IO_SIZE);
    f->pos = 0;
    n = RETRY_ON_EINTR(read(f->fd, f->buf->data, QEMU_FILE_IO_SIZE));
    if (n <= 0) {
        g_byte_array_set_size(f->buf, 0);
        /* A peer that stops early is a short stream: -EIO, as QEMU. */
        qemu_file_set_error(f, n < 0 && errno != ECONNRESET ? -errno : -EIO);
        return false;
    }
    g_byte_array_set_size(f->buf, n);
    return true;
}

size_t qemu_get_buffer(QEMUFile *f, uint8_t *buf, size_t size)
{
    size_t got = 0;

    g_assert(f->kind == QEMU_FILE_BUFFER_IN || f->kind == QEMU_FILE_FD_IN);
    while (got < size && !f->last_error) {
        size_t avail = f->buf->len - f->pos;
        size_t n;

        if (avail == 0) {
            if (f->kind == QEMU_FILE_BUFFER_IN) {
                qemu_file_set_error(f, -EIO);
                break;
            }
            if (!qemu_file_fill(f)) {
                break;
            }
            continue;
        }
        n = MIN(avail, size - got);
        memcpy(buf + got, f->buf->data + f->pos, n);
        f->pos += n;
        got += n;
    }
    if (got < size) {
        memset(buf + got, 0, size - got);
    }
    return got;
}

int qemu_get_byte(QEMUFile *f)
{
    uint8_t b;

    qemu_get_buffer(f, &b, 1);
    return b;
}

unsigned int qemu_get_be16(QEMUFile *f)
{
    uint8_t b[2];

    qemu_get_buffer(f, b, sizeof(b));
    return (b[0] << 8) | b[1];
}

unsigned int qemu_get_be32(QEMUFile *f)
{
    uint8_t b[4];

    qemu_get_buffer(f, b, sizeof(b));
    return ((uint32_t)b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
}

uint64_t qemu_get_be64(QEMUFile *f)
{
    uint64_t hi = qemu_get_be32(f);

    return (hi << 32) | qemu_get_be32(f);
}

uint32_t migration_crc32(uint32_t crc, const uint8_t *buf, size_t len)
{
    static uint32_t table[256];
    static gsize table_ready;

    if (g_once_init_enter(&table_ready)) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;

            for (int k = 0; k < 8; k++) {
                c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            }
            table[i] = c;
        }
        g_once_init_leave(&table_ready, 1);
    }
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}
