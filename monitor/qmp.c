/*
 * The QMP server: greeting, capabilities negotiation, request dispatch
 * and events, on socket chardevs, speaking QEMU's wire format.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/option.h"
#include "chardev/char-fe.h"
#include "monitor/monitor.h"
#include "qobject/json-streamer.h"
#include "qobject/qbool.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qstring.h"
#include "system/runstate.h"
#include "monitor-internal.h"
#include "trace.h"

/* One request may not exceed this (QEMU's token size limit is larger). */
#define QMP_MAX_REQUEST (8 * 1024 * 1024)

typedef struct MonitorQMP {
    CharBackend chr;
    JSONStreamer *streamer;
    /* Past qmp_capabilities: commands and events are live. */
    bool negotiated;
    bool oob_enabled;
    bool pretty;
} MonitorQMP;

static GPtrArray *qmp_monitors;

static const char *const error_class_names[] = {
    [ERROR_CLASS_GENERIC_ERROR] = "GenericError",
    [ERROR_CLASS_COMMAND_NOT_FOUND] = "CommandNotFound",
    [ERROR_CLASS_DEVICE_NOT_ACTIVE] = "DeviceNotActive",
    [ERROR_CLASS_DEVICE_NOT_FOUND] = "DeviceNotFound",
    [ERROR_CLASS_KVM_MISSING_CAP] = "KVMMissingCap",
};

static QDict *qmp_error_response(ErrorClass cls, const char *desc)
{
    QDict *rsp = qdict_new();
    QDict *err = qdict_new();

    qdict_put_str(err, "class", cls < G_N_ELEMENTS(error_class_names) ?
                  error_class_names[cls] : "GenericError");
    qdict_put_str(err, "desc", desc);
    qdict_put(rsp, "error", err);
    return rsp;
}

static void monitor_send(MonitorQMP *mon, QDict *rsp)
{
    g_autoptr(GString) json = qobject_to_json_pretty(QOBJECT(rsp),
                                                     mon->pretty);

    trace_monitor_qmp_respond(mon, json->str);
    g_string_append_c(json, '\n');
    qemu_chr_fe_write(&mon->chr, (const uint8_t *)json->str, json->len);
}

static void qmp_capabilities(MonitorQMP *mon, QDict *args, QObject **ret,
                             Error **errp)
{
    static const char *const allowed[] = { "enable", NULL };
    QObject *enable;
    QList *list;
    const QListEntry *e;
    bool oob = false;

    if (!qmp_check_args(args, allowed, errp)) {
        return;
    }
    enable = qdict_get(args, "enable");
    if (enable) {
        list = qobject_to(QList, enable);
        if (!list) {
            error_setg(errp, "Invalid parameter type for 'enable', "
                       "expected: array");
            return;
        }
        for (e = qlist_first(list); e; e = qlist_next(e)) {
            QString *cap = qobject_to(QString, qlist_entry_obj(e));

            if (!cap) {
                error_setg(errp, "Invalid parameter type for 'enable[]', "
                           "expected: string");
                return;
            }
            if (strcmp(qstring_get_str(cap), "oob")) {
                error_setg(errp, "Parameter 'enable' does not accept value "
                           "'%s'", qstring_get_str(cap));
                return;
            }
            oob = true;
        }
    }
    mon->oob_enabled = oob;
    mon->negotiated = true;
    *ret = QOBJECT(qdict_new());
}

/*
 * The checks QEMU's qmp_dispatch_check_obj() makes, in its words: the
 * request must be an object with a string "execute" (or "exec-oob" once
 * enabled), an object "arguments" and an "id" of any type; nothing else.
 */
static const char *qmp_check_request(MonitorQMP *mon, QObject *req,
                                     Error **errp)
{
    QDict *dict = qobject_to(QDict, req);
    const char *exec_key = NULL;
    const QDictEntry *e;

    if (!dict) {
        error_setg(errp, "QMP input must be a JSON object");
        return NULL;
    }
    for (e = qdict_first(dict); e; e = qdict_next(dict, e)) {
        const char *key = qdict_entry_key(e);
        QObject *val = qdict_entry_value(e);

        if (!strcmp(key, "execute") ||
            (!strcmp(key, "exec-oob") && mon && mon->oob_enabled)) {
            if (qobject_type(val) != QTYPE_QSTRING) {
                error_setg(errp, "QMP input member '%s' must be a string",
                           key);
                return NULL;
            }
            if (exec_key) {
                error_setg(errp, "QMP input member '%s' clashes with '%s'",
                           key, exec_key);
                return NULL;
            }
            exec_key = key;
        } else if (!strcmp(key, "arguments")) {
            if (qobject_type(val) != QTYPE_QDICT) {
                error_setg(errp, "QMP input member 'arguments' must be an "
                           "object");
                return NULL;
            }
        } else if (strcmp(key, "id")) {
            error_setg(errp, "QMP input member '%s' is unexpected", key);
            return NULL;
        }
    }
    if (!exec_key) {
        error_setg(errp, "QMP input lacks member 'execute'");
        return NULL;
    }
    return qdict_get_str(dict, exec_key);
}

static QDict *qmp_dispatch(MonitorQMP *mon, QObject *req, bool negotiated)
{
    Error *err = NULL;
    QObject *ret = NULL;
    QDict *args, *rsp;
    QDict *dict = qobject_to(QDict, req);
    QObject *id = dict ? qdict_get(dict, "id") : NULL;
    const char *command;

    command = qmp_check_request(mon, req, &err);
    if (!command) {
        goto out;
    }
    trace_monitor_qmp_cmd(command);
    args = qdict_get_qdict(dict, "arguments");
    args = args ? qobject_ref(args) : qdict_new();

    if (!negotiated) {
        if (strcmp(command, "qmp_capabilities")) {
            /* QEMU replaces "not found" with this hint before negotiation. */
            error_set(&err, ERROR_CLASS_COMMAND_NOT_FOUND,
                      "Expecting capabilities negotiation with "
                      "'qmp_capabilities'");
        } else if (mon) {
            qmp_capabilities(mon, args, &ret, &err);
        } else {
            ret = QOBJECT(qdict_new());
        }
    } else if (!strcmp(command, "qmp_capabilities")) {
        error_set(&err, ERROR_CLASS_COMMAND_NOT_FOUND,
                  "Capabilities negotiation is already complete, command "
                  "ignored");
    } else {
        QmpCommandFunc *fn = qmp_find_command(command);

        if (!fn) {
            error_set(&err, ERROR_CLASS_COMMAND_NOT_FOUND,
                      "The command %s has not been found", command);
        } else {
            fn(args, &ret, &err);
            if (err) {
                qobject_unref(ret);
                ret = NULL;
            } else if (!ret) {
                ret = QOBJECT(qdict_new());
            }
        }
    }
    qobject_unref(args);

out:
    if (err) {
        rsp = qmp_error_response(error_get_class(err),
                                 error_get_pretty(err));
        error_free(err);
    } else {
        rsp = qdict_new();
        qdict_put_obj(rsp, "return", ret);
    }
    if (id) {
        qdict_put_obj(rsp, "id", qobject_ref(id));
    }
    return rsp;
}

QObject *qmp_dispatch_request(QObject *request, bool negotiated)
{
    return QOBJECT(qmp_dispatch(NULL, request, negotiated));
}

static void monitor_qmp_message(void *opaque, const char *text, size_t len,
                                const char *errmsg)
{
    MonitorQMP *mon = opaque;
    g_autofree char *msg = NULL;
    QObject *req;
    QDict *rsp;

    if (!text) {
        rsp = qmp_error_response(ERROR_CLASS_GENERIC_ERROR, errmsg);
        monitor_send(mon, rsp);
        qobject_unref(rsp);
        return;
    }
    trace_monitor_qmp_request(mon, text);
    req = qobject_from_json_msg(text, &msg);
    if (!req) {
        if (msg) {
            rsp = qmp_error_response(ERROR_CLASS_GENERIC_ERROR, msg);
            monitor_send(mon, rsp);
            qobject_unref(rsp);
        }
        return;
    }
    rsp = qmp_dispatch(mon, req, mon->negotiated);
    monitor_send(mon, rsp);
    qobject_unref(rsp);
    qobject_unref(req);
}

static int monitor_qmp_can_read(void *opaque)
{
    return 4096;
}

static void monitor_qmp_read(void *opaque, const uint8_t *buf, int size)
{
    MonitorQMP *mon = opaque;

    json_streamer_feed(mon->streamer, (const char *)buf, size);
}

static QDict *qmp_greeting(MonitorQMP *mon)
{
    QDict *qmp = qdict_new();
    QDict *greeting = qdict_new();
    QList *caps = qlist_new();

    qlist_append_str(caps, "oob");
    qdict_put_obj(qmp, "version", qmp_version_object());
    qdict_put(qmp, "capabilities", caps);
    qdict_put(greeting, "QMP", qmp);
    return greeting;
}

static void monitor_qmp_event(void *opaque, QEMUChrEvent event)
{
    MonitorQMP *mon = opaque;
    QDict *greeting;

    switch (event) {
    case CHR_EVENT_OPENED:
        mon->negotiated = false;
        mon->oob_enabled = false;
        json_streamer_reset(mon->streamer);
        greeting = qmp_greeting(mon);
        monitor_send(mon, greeting);
        qobject_unref(greeting);
        break;
    case CHR_EVENT_CLOSED:
        /* A server chardev waits for the next client, which starts over. */
        mon->negotiated = false;
        json_streamer_reset(mon->streamer);
        break;
    default:
        break;
    }
}

bool monitor_init_qmp(Chardev *chr, bool pretty, Error **errp)
{
    MonitorQMP *mon = g_new0(MonitorQMP, 1);

    if (!qemu_chr_fe_init(&mon->chr, chr, errp)) {
        g_free(mon);
        return false;
    }
    mon->pretty = pretty;
    mon->streamer = json_streamer_new(monitor_qmp_message, mon,
                                      QMP_MAX_REQUEST);
    if (!qmp_monitors) {
        qmp_monitors = g_ptr_array_new();
    }
    g_ptr_array_add(qmp_monitors, mon);
    qemu_chr_fe_set_handlers(&mon->chr, monitor_qmp_can_read,
                             monitor_qmp_read, monitor_qmp_event, NULL, mon,
                             NULL, true);
    return true;
}

static QemuOptsList qemu_mon_opts = {
    .name = "mon",
    .implied_opt_name = "chardev",
    .desc = {
        { .name = "mode", .type = QEMU_OPT_STRING },
        { .name = "chardev", .type = QEMU_OPT_STRING },
        { .name = "pretty", .type = QEMU_OPT_BOOL },
        { /* end of list */ }
    },
};

static bool monitor_attach(const char *chrid, const char *mode, bool pretty,
                           Error **errp)
{
    Chardev *chr;

    if (!chrid) {
        error_setg(errp, "Parameter 'chardev' is missing");
        return false;
    }
    if (mode && strcmp(mode, "control")) {
        if (!strcmp(mode, "readline")) {
            error_setg(errp, "the human monitor (mode=readline) is not "
                       "supported by this build: use mode=control (QMP)");
        } else {
            error_setg(errp, "Parameter 'mode' does not accept value '%s'",
                       mode);
        }
        return false;
    }
    if (!mode) {
        /* QEMU's default is the human monitor, which we do not have. */
        error_setg(errp, "the human monitor (the default mode=readline) is "
                   "not supported by this build: add mode=control");
        return false;
    }
    chr = qemu_chr_find(chrid);
    if (!chr) {
        error_setg(errp, "chardev \"%s\" not found", chrid);
        return false;
    }
    return monitor_init_qmp(chr, pretty, errp);
}

bool monitor_parse_mon(const char *optarg, Error **errp)
{
    QemuOpts *opts = qemu_opts_parse(&qemu_mon_opts, optarg, true, errp);
    Error *err = NULL;
    bool pretty, ok;

    if (!opts) {
        return false;
    }
    pretty = qemu_opt_get_bool_err(opts, "pretty", false, &err);
    if (err) {
        error_propagate(errp, err);
        qemu_opts_del(opts);
        return false;
    }
    ok = monitor_attach(qemu_opt_get(opts, "chardev"),
                        qemu_opt_get(opts, "mode"), pretty, errp);
    qemu_opts_del(opts);
    return ok;
}

bool monitor_parse_qmp(const char *optarg, bool pretty, Error **errp)
{
    static unsigned int count;
    g_autofree char *label = g_strdup_printf("compat_monitor%u", count++);
    Error *err = NULL;
    Chardev *chr;

    chr = qemu_chr_new(label, optarg, &err);
    if (!chr) {
        if (err) {
            error_propagate(errp, err);
            return false;
        }
        return true;    /* -qmp none */
    }
    return monitor_init_qmp(chr, pretty, errp);
}

bool monitor_object_add(QemuOpts *opts, Error **errp)
{
    static const QemuOptDesc desc[] = {
        { .name = "qom-type", .type = QEMU_OPT_STRING },
        { .name = "chardev", .type = QEMU_OPT_STRING },
        { .name = "pretty", .type = QEMU_OPT_BOOL },
        { /* end of list */ }
    };
    Error *err = NULL;
    bool pretty;

    if (!qemu_opts_validate(opts, desc, errp)) {
        return false;
    }
    pretty = qemu_opt_get_bool_err(opts, "pretty", false, &err);
    if (err) {
        error_propagate(errp, err);
        return false;
    }
    return monitor_attach(qemu_opt_get(opts, "chardev"), "control", pretty,
                          errp);
}

void qmp_send_event(const char *event, QDict *data)
{
    gint64 now = g_get_real_time();
    QDict *ev = qdict_new();
    QDict *ts = qdict_new();
    guint i;

    qdict_put_int(ts, "seconds", now / G_USEC_PER_SEC);
    qdict_put_int(ts, "microseconds", now % G_USEC_PER_SEC);
    qdict_put(ev, "timestamp", ts);
    qdict_put_str(ev, "event", event);
    if (data) {
        qdict_put(ev, "data", qobject_ref(data));
    }
    trace_monitor_qmp_event(event);
    for (i = 0; qmp_monitors && i < qmp_monitors->len; i++) {
        MonitorQMP *mon = g_ptr_array_index(qmp_monitors, i);

        /* QEMU holds events back until negotiation is complete. */
        if (mon->negotiated) {
            monitor_send(mon, ev);
        }
    }
    qobject_unref(ev);
}

static void monitor_runstate_event(const char *event, bool guest,
                                   ShutdownCause cause)
{
    QDict *data = NULL;

    if (!strcmp(event, "RESET") || !strcmp(event, "SHUTDOWN")) {
        data = qdict_new();
        qdict_put_bool(data, "guest", guest);
        qdict_put_str(data, "reason", ShutdownCause_str(cause));
    }
    qmp_send_event(event, data);
    qobject_unref(data);
}

void monitor_init_globals(void)
{
    qmp_register_builtin_commands();
    runstate_set_event_sink(monitor_runstate_event);
}

void monitor_cleanup(void)
{
    guint i;

    runstate_set_event_sink(NULL);
    for (i = 0; qmp_monitors && i < qmp_monitors->len; i++) {
        MonitorQMP *mon = g_ptr_array_index(qmp_monitors, i);

        /* Queued output (the SHUTDOWN event) is flushed by chardev. */
        qemu_chr_fe_deinit(&mon->chr, false);
        json_streamer_free(mon->streamer);
        g_free(mon);
    }
    g_clear_pointer(&qmp_monitors, g_ptr_array_unref);
}
