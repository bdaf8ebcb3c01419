/*
 * The QMP command registry and the commands the front end implements:
 * query-status, query-version, query-commands, query-machines,
 * query-name, qom-list-types, stop, cont, system_reset, quit.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qom/object.h"
#include "hw/core/boards.h"
#include "migration/misc.h"
#include "qobject/qbool.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qstring.h"
#include "system/runstate.h"
#include "system/system.h"
#include "monitor-internal.h"

typedef struct QmpCommand {
    char *name;
    QmpCommandFunc *fn;
} QmpCommand;

/*
 * Filled from constructors (migration_init and friends), so created on
 * first use rather than by an initialiser that might run later.
 */
static GPtrArray *qmp_commands;

void qmp_register_command(const char *name, QmpCommandFunc *fn)
{
    QmpCommand *cmd;
    guint i;

    if (!qmp_commands) {
        qmp_commands = g_ptr_array_new();
    }
    for (i = 0; i < qmp_commands->len; i++) {
        cmd = g_ptr_array_index(qmp_commands, i);
        if (!strcmp(cmd->name, name)) {
            cmd->fn = fn;
            return;
        }
    }
    cmd = g_new0(QmpCommand, 1);
    cmd->name = g_strdup(name);
    cmd->fn = fn;
    g_ptr_array_add(qmp_commands, cmd);
}

QmpCommandFunc *qmp_find_command(const char *name)
{
    guint i;

    for (i = 0; qmp_commands && i < qmp_commands->len; i++) {
        QmpCommand *cmd = g_ptr_array_index(qmp_commands, i);

        if (!strcmp(cmd->name, name)) {
            return cmd->fn;
        }
    }
    return NULL;
}

bool qmp_command_exists(const char *name)
{
    return !strcmp(name, "qmp_capabilities") || qmp_find_command(name);
}

GPtrArray *qmp_command_names(void)
{
    GPtrArray *names = g_ptr_array_new();
    guint i;

    g_ptr_array_add(names, (gpointer)"qmp_capabilities");
    for (i = 0; qmp_commands && i < qmp_commands->len; i++) {
        QmpCommand *cmd = g_ptr_array_index(qmp_commands, i);

        g_ptr_array_add(names, cmd->name);
    }
    return names;
}

bool qmp_check_args(QDict *args, const char *const *allowed, Error **errp)
{
    const QDictEntry *e;

    for (e = args ? qdict_first(args) : NULL; e; e = qdict_next(args, e)) {
        const char *key = qdict_entry_key(e);
        const char *const *ok = allowed;

        while (*ok && strcmp(*ok, key)) {
            ok++;
        }
        if (!*ok) {
            error_setg(errp, "Parameter '%s' is unexpected", key);
            return false;
        }
    }
    return true;
}

bool qmp_arg_str(QDict *args, const char *key, const char **val,
                 Error **errp)
{
    QObject *obj = qdict_get(args, key);

    if (!obj) {
        return true;
    }
    if (!qobject_to(QString, obj)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: string",
                   key);
        return false;
    }
    *val = qstring_get_str(qobject_to(QString, obj));
    return true;
}

bool qmp_arg_bool(QDict *args, const char *key, bool *val, Error **errp)
{
    QObject *obj = qdict_get(args, key);

    if (!obj) {
        return true;
    }
    if (!qobject_to(QBool, obj)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: "
                   "boolean", key);
        return false;
    }
    *val = qbool_get_bool(qobject_to(QBool, obj));
    return true;
}

static const char *const no_args[] = { NULL };

QObject *qmp_version_object(void)
{
    QDict *ver = qdict_new();
    QDict *qemu = qdict_new();

    qdict_put_int(qemu, "major", QEMU_VERSION_MAJOR);
    qdict_put_int(qemu, "minor", QEMU_VERSION_MINOR);
    qdict_put_int(qemu, "micro", QEMU_VERSION_MICRO);
    qdict_put(ver, "qemu", qemu);
    qdict_put_str(ver, "package", "");
    return QOBJECT(ver);
}

static void qmp_query_version(QDict *args, QObject **ret, Error **errp)
{
    if (qmp_check_args(args, no_args, errp)) {
        *ret = qmp_version_object();
    }
}

static void qmp_query_status(QDict *args, QObject **ret, Error **errp)
{
    QDict *st;

    if (!qmp_check_args(args, no_args, errp)) {
        return;
    }
    st = qdict_new();
    qdict_put_str(st, "status", RunState_str(runstate_get()));
    qdict_put_bool(st, "running", runstate_is_running());
    *ret = QOBJECT(st);
}

static void qmp_query_commands(QDict *args, QObject **ret, Error **errp)
{
    g_autoptr(GPtrArray) names = NULL;
    QList *list;
    guint i;

    if (!qmp_check_args(args, no_args, errp)) {
        return;
    }
    names = qmp_command_names();
    list = qlist_new();
    for (i = 0; i < names->len; i++) {
        QDict *cmd = qdict_new();

        qdict_put_str(cmd, "name", g_ptr_array_index(names, i));
        qlist_append(list, cmd);
    }
    *ret = QOBJECT(list);
}

static void qmp_query_machines(QDict *args, QObject **ret, Error **errp)
{
    GSList *machines, *l;
    QList *list;

    if (!qmp_check_args(args, (const char *const[]){ "compat-props", NULL },
                        errp)) {
        return;
    }
    list = qlist_new();
    machines = object_class_get_list_sorted(TYPE_MACHINE, false);
    for (l = machines; l; l = l->next) {
        MachineClass *mc = l->data;
        QDict *info = qdict_new();

        qdict_put_str(info, "name", mc->name);
        if (mc->alias) {
            qdict_put_str(info, "alias", mc->alias);
        }
        if (mc->is_default) {
            qdict_put_bool(info, "is-default", true);
        }
        /* The qtest accelerator runs no CPUs; the machines have one. */
        qdict_put_int(info, "cpu-max", 1);
        qdict_put_bool(info, "hotpluggable-cpus", false);
        qdict_put_bool(info, "numa-mem-supported", false);
        qdict_put_bool(info, "deprecated", mc->deprecation_reason != NULL);
        qdict_put_bool(info, "acpi", false);
        qlist_append(list, info);
    }
    g_slist_free(machines);
    *ret = QOBJECT(list);
}

static void qmp_query_name(QDict *args, QObject **ret, Error **errp)
{
    QDict *info;

    if (!qmp_check_args(args, no_args, errp)) {
        return;
    }
    info = qdict_new();
    if (qemu_name) {
        qdict_put_str(info, "name", qemu_name);
    }
    *ret = QOBJECT(info);
}

static void qmp_qom_list_types(QDict *args, QObject **ret, Error **errp)
{
    static const char *const allowed[] = { "implements", "abstract", NULL };
    const char *implements = NULL;
    bool abstract = false;
    GSList *classes, *l;
    QList *list;

    if (!qmp_check_args(args, allowed, errp) ||
        !qmp_arg_str(args, "implements", &implements, errp) ||
        !qmp_arg_bool(args, "abstract", &abstract, errp)) {
        return;
    }
    list = qlist_new();
    classes = object_class_get_list_sorted(implements ? implements
                                                      : TYPE_OBJECT,
                                           abstract);
    for (l = classes; l; l = l->next) {
        ObjectClass *oc = l->data;
        ObjectClass *parent = object_class_get_parent(oc);
        QDict *info = qdict_new();

        qdict_put_str(info, "name", object_class_get_name(oc));
        if (abstract) {
            qdict_put_bool(info, "abstract", object_class_is_abstract(oc));
        }
        if (parent) {
            qdict_put_str(info, "parent", object_class_get_name(parent));
        }
        qlist_append(list, info);
    }
    g_slist_free(classes);
    *ret = QOBJECT(list);
}

static void qmp_stop(QDict *args, QObject **ret, Error **errp)
{
    if (!qmp_check_args(args, no_args, errp)) {
        return;
    }
    if (runstate_check(RUN_STATE_INMIGRATE)) {
        /* As QEMU: stay paused once the incoming state has loaded. */
        migration_set_incoming_autostart(false);
    } else if (runstate_is_running()) {
        vm_stop(RUN_STATE_PAUSED);
    }
}

static void qmp_cont(QDict *args, QObject **ret, Error **errp)
{
    if (!qmp_check_args(args, no_args, errp)) {
        return;
    }
    if (runstate_check(RUN_STATE_INMIGRATE)) {
        migration_set_incoming_autostart(true);
    } else if (runstate_check(RUN_STATE_SHUTDOWN) ||
               runstate_check(RUN_STATE_GUEST_PANICKED) ||
               runstate_check(RUN_STATE_INTERNAL_ERROR)) {
        error_setg(errp, "Resetting the Virtual Machine is required");
    } else if (!runstate_is_running()) {
        vm_start();
    }
}

static void qmp_system_reset(QDict *args, QObject **ret, Error **errp)
{
    if (qmp_check_args(args, no_args, errp)) {
        qemu_system_reset_request(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET);
    }
}

static void qmp_quit(QDict *args, QObject **ret, Error **errp)
{
    if (qmp_check_args(args, no_args, errp)) {
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    }
}

void qmp_register_builtin_commands(void)
{
    qmp_register_command("query-status", qmp_query_status);
    qmp_register_command("query-version", qmp_query_version);
    qmp_register_command("query-commands", qmp_query_commands);
    qmp_register_command("query-machines", qmp_query_machines);
    qmp_register_command("query-name", qmp_query_name);
    qmp_register_command("qom-list-types", qmp_qom_list_types);
    qmp_register_command("stop", qmp_stop);
    qmp_register_command("cont", qmp_cont);
    qmp_register_command("system_reset", qmp_system_reset);
    qmp_register_command("quit", qmp_quit);
}
