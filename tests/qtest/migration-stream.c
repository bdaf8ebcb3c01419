/*
 * A test-side reader and writer of this host's migration stream.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <string.h>
#include <gio/gio.h>

#include "migration-stream.h"

#define STREAM_MAGIC 0x5145564d
#define STREAM_VERSION 0x100
#define REC_SECTION 0x04
#define REC_CONFIG 0x07
#define REC_RAM 0x08
#define REC_EOF 0x1f
#define SUBSECTION_MARK 0x05
#define SUBSECTIONS_END 0x1f
#define RAM_PAGE 4096

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

    return b ? ((uint32_t)b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]
             : 0;
}

static uint64_t get_be64(Reader *r)
{
    uint64_t hi = get_be32(r);

    return (hi << 32) | get_be32(r);
}

static char *get_name(Reader *r)
{
    uint32_t len = get_u8(r);
    const uint8_t *b = take(r, len);

    return b ? g_strndup((const char *)b, len) : NULL;
}

static void put_be32(GByteArray *out, uint32_t v)
{
    uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

    g_byte_array_append(out, b, 4);
}

static void put_u8(GByteArray *out, uint8_t v)
{
    g_byte_array_append(out, &v, 1);
}

static void put_name(GByteArray *out, const char *name)
{
    put_u8(out, strlen(name));
    g_byte_array_append(out, (const uint8_t *)name, strlen(name));
}

uint32_t mig_stream_crc32(const uint8_t *buf, size_t len)
{
    uint32_t crc = 0xffffffff;

    for (size_t i = 0; i < len; i++) {
        crc ^= buf[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc & 1) ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
        }
    }
    return ~crc;
}

static void section_free(gpointer p)
{
    MigStreamSection *sec = p;

    g_free(sec->name);
    g_byte_array_unref(sec->payload);
    g_free(sec);
}

void mig_stream_free(MigStream *s)
{
    if (!s) {
        return;
    }
    g_byte_array_unref(s->head);
    if (s->ram) {
        g_byte_array_unref(s->ram);
    }
    g_ptr_array_unref(s->sections);
    g_free(s);
}

static bool skip_ram(Reader *r)
{
    uint32_t count = get_u8(r) == REC_RAM ? get_be32(r) : (r->bad = true, 0);

    for (uint32_t i = 0; i < count && !r->bad; i++) {
        uint64_t size;

        /* The block's name: skipped, only the layout is checked here. */
        g_free(get_name(r));
        size = get_be64(r);

        for (;;) {
            uint64_t off = get_be64(r);

            if (r->bad || off == UINT64_MAX) {
                break;
            }
            if (off >= size) {
                r->bad = true;
                break;
            }
            take(r, MIN(RAM_PAGE, size - off));
        }
        get_be32(r);
    }
    return !r->bad;
}

MigStream *mig_stream_parse(const uint8_t *data, size_t len, GError **err)
{
    g_autoptr(MigStream) s = g_new0(MigStream, 1);
    Reader r = { .p = data, .len = len };
    g_autofree char *machine = NULL;
    size_t start;

    s->sections = g_ptr_array_new_with_free_func(section_free);
    if (get_be32(&r) != STREAM_MAGIC || get_be32(&r) != STREAM_VERSION ||
        get_u8(&r) != REC_CONFIG) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad header");
        return NULL;
    }
    machine = get_name(&r);
    if (r.bad) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "short header");
        return NULL;
    }
    s->head = g_byte_array_new();
    g_byte_array_append(s->head, data, r.pos);

    for (;;) {
        uint32_t rec;

        start = r.pos;
        rec = get_u8(&r);
        if (r.bad) {
            break;
        }
        if (rec == REC_EOF) {
            s->eof_offset = start;
            if (r.pos != len) {
                g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "data after the end marker");
                return NULL;
            }
            return g_steal_pointer(&s);
        }
        if (rec == REC_RAM && !s->ram) {
            r.pos = start;
            if (!skip_ram(&r)) {
                break;
            }
            s->ram = g_byte_array_new();
            g_byte_array_append(s->ram, data + start, r.pos - start);
            s->ram_offset = start;
        } else if (rec == REC_SECTION) {
            MigStreamSection *sec = g_new0(MigStreamSection, 1);
            const uint8_t *body;
            uint32_t plen;

            sec->offset = start;
            sec->name = get_name(&r);
            sec->instance_id = get_be32(&r);
            sec->version_id = get_be32(&r);
            plen = get_be32(&r);
            body = take(&r, plen);
            sec->payload = g_byte_array_new();
            if (body) {
                g_byte_array_append(sec->payload, body, plen);
            }
            g_ptr_array_add(s->sections, sec);
            if (!r.bad && get_be32(&r) != mig_stream_crc32(body, plen)) {
                g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "section '%s' fails its checksum", sec->name);
                return NULL;
            }
        } else {
            r.bad = true;
        }
        if (r.bad) {
            break;
        }
    }
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "malformed stream at byte %zu", start);
    return NULL;
}

GByteArray *mig_stream_serialize(const MigStream *s)
{
    GByteArray *out = g_byte_array_new();

    g_byte_array_append(out, s->head->data, s->head->len);
    if (s->ram) {
        g_byte_array_append(out, s->ram->data, s->ram->len);
    }
    for (guint i = 0; i < s->sections->len; i++) {
        MigStreamSection *sec = s->sections->pdata[i];

        put_u8(out, REC_SECTION);
        put_name(out, sec->name);
        put_be32(out, sec->instance_id);
        put_be32(out, sec->version_id);
        put_be32(out, sec->payload->len);
        g_byte_array_append(out, sec->payload->data, sec->payload->len);
        put_be32(out, mig_stream_crc32(sec->payload->data,
                                       sec->payload->len));
    }
    put_u8(out, REC_EOF);
    return out;
}

MigStreamSection *mig_stream_find(MigStream *s, const char *name)
{
    for (guint i = 0; i < s->sections->len; i++) {
        MigStreamSection *sec = s->sections->pdata[i];

        if (!strcmp(sec->name, name)) {
            return sec;
        }
    }
    return NULL;
}

/* tpm-crb */

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

bool crb_mig_decode(const GByteArray *payload, CRBMigState *st,
                    GError **err)
{
    Reader r = { .p = payload->data, .len = payload->len };
    uint32_t mark;

    memset(st, 0, sizeof(*st));
    for (int i = 0; i < CRB_MIG_NREGS; i++) {
        st->regs[i] = get_be32(&r);
    }
    mark = get_u8(&r);
    if (mark == SUBSECTION_MARK) {
        g_autofree char *name = get_name(&r);
        uint32_t plen;
        size_t end;

        get_be32(&r);
        plen = get_be32(&r);
        end = r.pos + plen;
        if (r.bad || g_strcmp0(name, "tpm-crb/chunk")) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "unexpected subsection");
            return false;
        }
        st->has_chunk = true;
        st->cmd = get_bytes(&r);
        st->rsp = get_bytes(&r);
        st->rsp_offset = get_be32(&r);
        /* The phase is not in the stream: it follows from the buffers. */
        if (st->cmd && st->cmd->len) {
            st->phase = CRB_MIG_PHASE_UPLOAD;
        } else if (st->rsp && st->rsp_offset < st->rsp->len) {
            st->phase = CRB_MIG_PHASE_DOWNLOAD;
        } else {
            st->phase = CRB_MIG_PHASE_DRAINED;
        }
        /* The subsection's own (empty) list of subsections. */
        if (get_u8(&r) != SUBSECTIONS_END || r.pos != end) {
            r.bad = true;
        }
        mark = get_u8(&r);
    }
    if (r.bad || mark != SUBSECTIONS_END || r.pos != r.len) {
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
        g_autoptr(GByteArray) sub = g_byte_array_new();

        put_bytes(sub, st->cmd);
        put_bytes(sub, st->rsp);
        put_be32(sub, st->rsp_offset);
        put_u8(sub, SUBSECTIONS_END);

        put_u8(out, SUBSECTION_MARK);
        put_name(out, "tpm-crb/chunk");
        put_be32(out, 0);
        put_be32(out, sub->len);
        g_byte_array_append(out, sub->data, sub->len);
    }
    put_u8(out, SUBSECTIONS_END);
    return out;
}
