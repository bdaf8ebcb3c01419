/*
 * JSON message splitter for QMP streams: finds where each JSON text ends
 * by counting brackets outside string literals (both quote kinds, as QEMU
 * accepts), without newline framing.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/json-streamer.h"

struct JSONStreamer {
    JSONStreamerEmit *emit;
    void *opaque;
    size_t max_size;
    GString *buf;
    int depth;
    /* Quote character of the string literal we are in, or 0. */
    char quote;
    bool escape;
    /* Inside a bare top-level token (number, keyword, garbage). */
    bool scalar;
    /*
     * After an over-long or over-deep message: drop bytes until the
     * brackets balance again, so one bad message yields one error.
     */
    bool skipping;
};

JSONStreamer *json_streamer_new(JSONStreamerEmit *emit, void *opaque,
                                size_t max_size)
{
    JSONStreamer *s = g_new0(JSONStreamer, 1);

    s->emit = emit;
    s->opaque = opaque;
    s->max_size = max_size;
    s->buf = g_string_new("");
    return s;
}

void json_streamer_reset(JSONStreamer *s)
{
    g_string_truncate(s->buf, 0);
    s->depth = 0;
    s->quote = 0;
    s->escape = false;
    s->scalar = false;
    s->skipping = false;
}

void json_streamer_free(JSONStreamer *s)
{
    if (s) {
        g_string_free(s->buf, TRUE);
        g_free(s);
    }
}

static void emit_message(JSONStreamer *s)
{
    g_autofree char *text = NULL;
    size_t len = s->buf->len;

    text = g_strndup(s->buf->str, len);
    g_string_truncate(s->buf, 0);
    s->scalar = false;
    s->emit(s->opaque, text, len, NULL);
}

static void fail_message(JSONStreamer *s, const char *msg, bool skip)
{
    g_string_truncate(s->buf, 0);
    s->scalar = false;
    s->skipping = skip && s->depth > 0;
    if (!s->skipping) {
        s->depth = 0;
        s->quote = 0;
        s->escape = false;
    }
    s->emit(s->opaque, NULL, 0, msg);
}

static bool is_delimiter(char c)
{
    return g_ascii_isspace(c) || c == '{' || c == '}' || c == '[' ||
           c == ']' || c == '"' || c == '\'' || c == ',' || c == ':';
}

static void feed_char(JSONStreamer *s, char c)
{
    if (s->quote) {
        if (s->escape) {
            s->escape = false;
        } else if (c == '\\') {
            s->escape = true;
        } else if (c == s->quote) {
            s->quote = 0;
        }
        if (!s->skipping) {
            g_string_append_c(s->buf, c);
            if (!s->quote && s->depth == 0) {
                /* A bare top-level string is a complete message. */
                emit_message(s);
            }
        }
        return;
    }

    if (s->scalar && is_delimiter(c)) {
        /* The bare token ended: hand it over (it will not be an object). */
        emit_message(s);
    }

    switch (c) {
    case '"':
    case '\'':
        s->quote = c;
        break;
    case '{':
    case '[':
        if (s->depth >= JSON_STREAMER_MAX_NESTING) {
            if (!s->skipping) {
                fail_message(s, "JSON nesting depth limit exceeded", true);
            }
        }
        s->depth++;
        break;
    case '}':
    case ']':
        if (s->depth == 0) {
            fail_message(s, "JSON parse error, expecting value", false);
            return;
        }
        s->depth--;
        if (s->depth == 0) {
            if (s->skipping) {
                s->skipping = false;
                return;
            }
            g_string_append_c(s->buf, c);
            emit_message(s);
            return;
        }
        break;
    default:
        if (s->depth == 0 && !g_ascii_isspace(c)) {
            s->scalar = true;
        }
        break;
    }

    if (s->skipping) {
        return;
    }
    if (s->depth == 0 && !s->quote && !s->scalar) {
        /* White space between messages is not buffered. */
        return;
    }
    g_string_append_c(s->buf, c);
}

void json_streamer_feed(JSONStreamer *s, const char *buf, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        feed_char(s, buf[i]);
        if (!s->skipping && s->buf->len > s->max_size) {
            fail_message(s, "JSON token size limit exceeded", true);
        }
    }
}
