/*
 * QMP commands of migration: migrate, migrate-incoming, migrate_cancel,
 * query-migrate, and the MIGRATION event.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "qapi/qmp-registry.h"
#include "qobject/qdict.h"
#include "qobject/qbool.h"
#include "qobject/qstring.h"
#include "migration/misc.h"

/*
 * Arguments: every key must be one of allowed (NULL-terminated); "uri",
 * when listed first, is a required string.
 */
static const char *migration_get_uri(QDict *args,
                                     const char *const *allowed,
                                     Error **errp)
{
    QObject *uri = args ? qdict_get(args, "uri") : NULL;

    for (const QDictEntry *e = args ? qdict_first(args) : NULL; e;
         e = qdict_next(args, e)) {
        const char *key = qdict_entry_key(e);
        const char *const *ok = allowed;

        while (*ok && strcmp(*ok, key)) {
            ok++;
        }
        if (!*ok) {
            error_setg(errp, "Parameter '%s' is unexpected", key);
            return NULL;
        }
    }
    if (!uri) {
        error_setg(errp, "Parameter 'uri' is missing");
        return NULL;
    }
    if (!qobject_to(QString, uri)) {
        error_setg(errp, "Invalid parameter type for 'uri', expected: "
                   "string");
        return NULL;
    }
    return qstring_get_str(qobject_to(QString, uri));
}

static bool migration_get_bool(QDict *args, const char *key, bool def,
                               Error **errp)
{
    QObject *v = args ? qdict_get(args, key) : NULL;

    if (!v) {
        return def;
    }
    if (!qobject_to(QBool, v)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: "
                   "boolean", key);
        return def;
    }
    return qbool_get_bool(qobject_to(QBool, v));
}

static void qmp_migrate(QDict *args, QObject **ret, Error **errp)
{
    static const char *const allowed[] = { "uri", "detach", NULL };
    const char *uri = migration_get_uri(args, allowed, errp);
    Error *err = NULL;

    if (!uri) {
        return;
    }
    /* QEMU always detaches; the argument is accepted and has no effect. */
    migration_get_bool(args, "detach", true, &err);
    if (err) {
        error_propagate(errp, err);
        return;
    }
    if (qmp_migrate_uri(uri, errp)) {
        *ret = QOBJECT(qdict_new());
    }
}

static void qmp_migrate_incoming(QDict *args, QObject **ret, Error **errp)
{
    static const char *const allowed[] = { "uri", "exit-on-error", NULL };
    const char *uri = migration_get_uri(args, allowed, errp);
    Error *err = NULL;
    bool exit_on_error;

    if (!uri) {
        return;
    }
    /* Default off: a failed load is reported by query-migrate. */
    exit_on_error = migration_get_bool(args, "exit-on-error", false, &err);
    if (err) {
        error_propagate(errp, err);
        return;
    }
    migration_set_incoming_exit_on_error(exit_on_error);
    if (qmp_migrate_incoming_uri(uri, errp)) {
        *ret = QOBJECT(qdict_new());
    }
}

static bool migration_no_args(QDict *args, Error **errp)
{
    const QDictEntry *e = args ? qdict_first(args) : NULL;

    if (e) {
        error_setg(errp, "Parameter '%s' is unexpected", qdict_entry_key(e));
        return false;
    }
    return true;
}

static void qmp_migrate_cancel(QDict *args, QObject **ret, Error **errp)
{
    if (!migration_no_args(args, errp)) {
        return;
    }
    qmp_migrate_cancel_now();
    *ret = QOBJECT(qdict_new());
}

static void qmp_query_migrate(QDict *args, QObject **ret, Error **errp)
{
    MigrationInfoSnapshot info;
    QDict *d;

    if (!migration_no_args(args, errp)) {
        return;
    }
    migration_query(&info);
    d = qdict_new();
    /* Before any migration QEMU answers an empty object. */
    if (info.status) {
        QDict *ram = qdict_new();

        qdict_put_str(d, "status", info.status);
        if (info.error_desc) {
            qdict_put_str(d, "error-desc", info.error_desc);
        }
        if (!strcmp(info.status, "completed")) {
            qdict_put_int(d, "total-time", info.total_time_ms);
        }
        qdict_put_int(ram, "transferred", info.transferred);
        qdict_put_obj(d, "ram", QOBJECT(ram));
    }
    *ret = QOBJECT(d);
}

static void migration_event(const char *status)
{
    QDict *data = qdict_new();

    qdict_put_str(data, "status", status);
    qmp_send_event("MIGRATION", data);
    qobject_unref(data);
}

static void migration_qmp_register(void)
{
    qmp_register_command("migrate", qmp_migrate);
    qmp_register_command("migrate-incoming", qmp_migrate_incoming);
    qmp_register_command("migrate_cancel", qmp_migrate_cancel);
    qmp_register_command("query-migrate", qmp_query_migrate);
    migration_set_event_sink(migration_event);
}

migration_init(migration_qmp_register)
