/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libFuzzer target: the QMP request path (qobject/json-streamer.c,
 * qobject/qjson.c, monitor/qmp.c).
 *
 * The first input byte says whether capabilities are negotiated; the rest
 * is the byte stream a QMP client would send. It is split into messages
 * by the JSON streamer with the monitor's limit, parsed, and dispatched as
 * the monitor does; every reply must serialise to JSON that parses back
 * to an object with "return" or "error". "migrate" and
 * "migrate-incoming" are answered without running them: they would write
 * files and open sockets named by the input.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "monitor/monitor.h"
#include "qemu/main-loop.h"
#include "qobject/json-streamer.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qstring.h"
#include "system/runstate.h"
#include "fuzz-common.h"

/* As monitor/qmp.c's QMP_MAX_REQUEST. */
#define FUZZ_QMP_MAX_REQUEST (8 * 1024 * 1024)

typedef struct FuzzQmp {
    bool negotiated;
    unsigned replies;
} FuzzQmp;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    Error *err = NULL;

    if (qemu_init_main_loop(&err) < 0) {
        error_report_err(err);
        abort();
    }
    monitor_init_globals();
    return 0;
}

static bool is_side_effect_command(QObject *req)
{
    QDict *dict = qobject_to(QDict, req);
    const char *cmd = dict ? qdict_get_try_str(dict, "execute") : NULL;

    return cmd && (!strcmp(cmd, "migrate") ||
                   !strcmp(cmd, "migrate-incoming"));
}

static void check_reply(QObject *rsp)
{
    g_autoptr(GString) json = qobject_to_json(rsp);
    QObject *back = qobject_from_json(json->str, NULL);
    QDict *dict = qobject_to(QDict, back);

    g_assert_nonnull(dict);
    g_assert_true(qdict_haskey(dict, "return") ||
                  qdict_haskey(dict, "error"));
    qobject_unref(back);
}

static void fuzz_qmp_message(void *opaque, const char *text, size_t len,
                             const char *errmsg)
{
    FuzzQmp *fq = opaque;
    g_autofree char *msg = NULL;
    QObject *req, *rsp;

    fq->replies++;
    if (!text) {
        /* The streamer refused the message: the monitor sends errmsg. */
        g_assert_nonnull(errmsg);
        return;
    }
    req = qobject_from_json_msg(text, &msg);
    if (!req) {
        return;
    }
    if (!is_side_effect_command(req)) {
        rsp = qmp_dispatch_request(req, fq->negotiated);
        g_assert_nonnull(rsp);
        check_reply(rsp);
        /* The monitor's negotiation: a successful qmp_capabilities. */
        if (!fq->negotiated &&
            qdict_haskey(qobject_to(QDict, rsp), "return")) {
            fq->negotiated = true;
        }
        qobject_unref(rsp);
    }
    qobject_unref(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzQmp fq = { .negotiated = size && (data[0] & 1) };
    JSONStreamer *js = json_streamer_new(fuzz_qmp_message, &fq,
                                         FUZZ_QMP_MAX_REQUEST);

    if (size) {
        json_streamer_feed(js, (const char *)data + 1, size - 1);
    }
    json_streamer_free(js);
    return 0;
}
