/*
 * JSON message splitter: cuts a byte stream (a QMP socket) into complete
 * JSON texts by tracking brackets and string literals, the way QEMU's
 * json-streamer does, so that messages need no newline framing.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QOBJECT_JSON_STREAMER_H
#define QOBJECT_JSON_STREAMER_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* Nesting beyond this is refused (QEMU's MAX_NESTING). */
#define JSON_STREAMER_MAX_NESTING 1024

typedef struct JSONStreamer JSONStreamer;

/*
 * Called once per message: text (NUL-terminated, len bytes) is one
 * complete JSON text, or text is NULL and errmsg says why the bytes
 * since the previous message were dropped.
 */
typedef void JSONStreamerEmit(void *opaque, const char *text, size_t len,
                              const char *errmsg);

/* max_size bounds the bytes buffered for one message. */
JSONStreamer *json_streamer_new(JSONStreamerEmit *emit, void *opaque,
                                size_t max_size);
void json_streamer_feed(JSONStreamer *s, const char *buf, size_t len);
/* Forget any partial message (e.g. when the peer disconnects). */
void json_streamer_reset(JSONStreamer *s);
void json_streamer_free(JSONStreamer *s);

#endif /* QOBJECT_JSON_STREAMER_H */
