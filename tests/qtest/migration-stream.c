/*
 * The tpm-crb device's state in a real QEMU migration stream.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <gio/gio.h>
#include "qemu/bswap.h"
#include "migration-stream.h"

/* Record types of migration/savevm.c */
#define QEMU_VM_SECTION_FULL 0x04
#define QEMU_VM_SUBSECTION 0x05
#define QEMU_VM_SECTION_FOOTER 0x7e

typedef struct Reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool bad;
} Reader;

static const uint8_t *take(Reader *r, size_t n)
{
    const uint8_t *at;

    if (r->bad || r->len - r->pos < n) {
        r->bad = true;
        return NULL;
    }
    at = r->p + r->pos;
    r->pos += n;
    return at;
}

static uint32_t get_u8(Reader *r)
{
    const uint8_t *b = take(r, 1);

    return b ? b[0] : 0;
}

static uint32_t get_be32(Reader *r)
{
    const uint8_t *b = take(r, 4);

    return b ? ldl_be_p(b) : 0;
}

static char *get_name(Reader *r)
{
    uint32_t len = get_u8(r);
    const uint8_t *b = take(r, len);

    return b ? g_strndup((const char *)b, len) : NULL;
}

static GByteArray *get_bytes(Reader *r)
{
    uint32_t len = get_be32(r);
    const uint8_t *b = take(r, len);
    GByteArray *ba = g_byte_array_new();

    if (b) {
        g_byte_array_append(ba, b, len);
    }
    return ba;
}

static void put_u8(GByteArray *out, uint8_t v)
{
    g_byte_array_append(out, &v, 1);
}

static void put_be32(GByteArray *out, uint32_t v)
{
    uint8_t b[4];

    stl_be_p(b, v);
    g_byte_array_append(out, b, 4);
}

static void put_name(GByteArray *out, const char *name)
{
    put_u8(out, strlen(name));
    g_byte_array_append(out, (const uint8_t *)name, strlen(name));
}

static void put_bytes(GByteArray *out, const GByteArray *ba)
{
    put_be32(out, ba ? ba->len : 0);
    if (ba && ba->len) {
        g_byte_array_append(out, ba->data, ba->len);
    }
}

void crb_mig_clear(CRBMigState *st)
{
    if (st->cmd) {
        g_byte_array_unref(st->cmd);
    }
    if (st->rsp) {
        g_byte_array_unref(st->rsp);
    }
    memset(st, 0, sizeof(*st));
}

/* Parse the payload at r; false if it does not have the layout. */
static bool crb_mig_read(Reader *r, CRBMigState *st)
{
    memset(st, 0, sizeof(*st));
    for (int i = 0; i < CRB_MIG_NREGS; i++) {
        st->regs[i] = get_be32(r);
    }
    if (!r->bad && r->pos < r->len && r->p[r->pos] == QEMU_VM_SUBSECTION) {
        g_autofree char *name = NULL;

        get_u8(r);
        name = get_name(r);
        if (r->bad || g_strcmp0(name, "tpm-crb/chunk") || get_be32(r) != 0) {
            return false;
        }
        st->has_chunk = true;
        st->cmd = get_bytes(r);
        st->rsp = get_bytes(r);
        st->rsp_offset = get_be32(r);
        /* Not in the stream: it follows from the buffers. */
        if (st->cmd->len) {
            st->phase = CRB_MIG_PHASE_UPLOAD;
        } else if (st->rsp_offset < st->rsp->len) {
            st->phase = CRB_MIG_PHASE_DOWNLOAD;
        } else {
            st->phase = CRB_MIG_PHASE_DRAINED;
        }
    }
    return !r->bad;
}

bool crb_mig_decode(const GByteArray *payload, CRBMigState *st,
                    GError **err)
{
    Reader r = { .p = payload->data, .len = payload->len };

    if (!crb_mig_read(&r, st) || r.pos != r.len) {
        crb_mig_clear(st);
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "tpm-crb payload does not parse");
        return false;
    }
    return true;
}

GByteArray *crb_mig_encode(const CRBMigState *st)
{
    GByteArray *out = g_byte_array_new();

    for (int i = 0; i < CRB_MIG_NREGS; i++) {
        put_be32(out, st->regs[i]);
    }
    if (st->has_chunk) {
        put_u8(out, QEMU_VM_SUBSECTION);
        put_name(out, "tpm-crb/chunk");
        put_be32(out, 0);
        put_bytes(out, st->cmd);
        put_bytes(out, st->rsp);
        put_be32(out, st->rsp_offset);
    }
    return out;
}

void mig_stream_free(MigStream *s)
{
    if (s) {
        g_byte_array_unref(s->prefix);
        g_byte_array_unref(s->payload);
        g_byte_array_unref(s->suffix);
        g_free(s);
    }
}

MigStream *mig_stream_parse(const uint8_t *data, size_t len, GError **err)
{
    /* type, section id, "tpm-crb", instance 0, version 0 */
    static const uint8_t name[] = { 7, 't', 'p', 'm', '-', 'c', 'r', 'b' };
    const size_t hdr = 1 + 4 + sizeof(name) + 4 + 4;

    for (size_t at = 0; at + hdr <= len; at++) {
        Reader r = { .p = data, .len = len, .pos = at + hdr };
        CRBMigState st;
        MigStream *s;

        if (data[at] != QEMU_VM_SECTION_FULL ||
            memcmp(data + at + 5, name, sizeof(name)) ||
            ldl_be_p(data + at + 5 + sizeof(name)) != 0 ||
            ldl_be_p(data + at + 9 + sizeof(name)) != 0) {
            continue;
        }
        if (!crb_mig_read(&r, &st) || r.pos >= len ||
            data[r.pos] != QEMU_VM_SECTION_FOOTER) {
            crb_mig_clear(&st);
            continue;
        }
        crb_mig_clear(&st);
        s = g_new0(MigStream, 1);
        s->section_offset = at;
        s->payload_offset = at + hdr;
        s->prefix = g_byte_array_new();
        g_byte_array_append(s->prefix, data, s->payload_offset);
        s->payload = g_byte_array_new();
        g_byte_array_append(s->payload, data + s->payload_offset,
                            r.pos - s->payload_offset);
        s->suffix = g_byte_array_new();
        g_byte_array_append(s->suffix, data + r.pos, len - r.pos);
        return s;
    }
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "no tpm-crb section in the stream");
    return NULL;
}

GByteArray *mig_stream_serialize(const MigStream *s)
{
    GByteArray *out = g_byte_array_new();

    g_byte_array_append(out, s->prefix->data, s->prefix->len);
    g_byte_array_append(out, s->payload->data, s->payload->len);
    g_byte_array_append(out, s->suffix->data, s->suffix->len);
    return out;
}
