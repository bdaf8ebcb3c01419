/*
 * -device: creating user devices from the command line (and, later,
 * device_add), with QEMU's error wording, and -device help.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/option.h"
#include "qom/object.h"
#include "hw/core/boards.h"
#include "hw/core/qdev.h"
#include "hw/core/qdev-properties.h"
#include "monitor/qdev.h"
#include "qobject/qbool.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"
#include "trace.h"

static QemuOptsList qemu_device_opts = {
    .name = "device",
    .implied_opt_name = "driver",
    /* Properties are checked against the device, not listed here. */
};

/* QEMU's identifier rule for -device id=. */
static bool id_wellformed(const char *id)
{
    int i;

    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (i = 1; id[i]; i++) {
        if (!g_ascii_isalnum(id[i]) && !strchr("-._", id[i])) {
            return false;
        }
    }
    return true;
}

static DeviceClass *qdev_get_device_class(const char *driver, Error **errp)
{
    ObjectClass *oc = object_class_by_name(driver);
    DeviceClass *dc;

    if (!oc || !object_class_dynamic_cast(oc, TYPE_DEVICE)) {
        error_setg(errp, "'%s' is not a valid device model name", driver);
        return NULL;
    }
    if (object_class_is_abstract(oc)) {
        error_setg(errp, "Parameter 'driver' expects a non-abstract device "
                   "type");
        return NULL;
    }
    dc = DEVICE_CLASS(oc);
    if (!dc->user_creatable) {
        error_setg(errp, "Parameter 'driver' expects a pluggable device "
                   "type");
        return NULL;
    }
    return dc;
}

static Object *qdev_container(const char *name)
{
    g_autofree char *path = g_strdup_printf("/machine/%s", name);
    Object *machine = object_resolve_path("/machine", NULL);
    Object *c = object_resolve_path(path, NULL);

    if (!c) {
        c = object_new("container");
        object_property_add_child(machine ? machine : object_get_root(),
                                  name, c);
        object_unref(c);
    }
    return c;
}

/* The string form of a JSON property value, as -device would spell it. */
static char *qdev_json_prop_string(QObject *val, const char *name, Error **errp)
{
    switch (qobject_type(val)) {
    case QTYPE_QSTRING:
        return g_strdup(qstring_get_str(qobject_to(QString, val)));
    case QTYPE_QBOOL:
        return g_strdup(qbool_get_bool(qobject_to(QBool, val)) ?
                        "on" : "off");
    case QTYPE_QNUM:
        return qnum_to_string(qobject_to(QNum, val));
    default:
        error_setg(errp, "Invalid parameter type for '%s', expected: "
                   "scalar", name);
        return NULL;
    }
}

typedef struct DeviceProps {
    /* name, value pairs in command-line order */
    GPtrArray *names;
    GPtrArray *values;
} DeviceProps;

static int collect_prop(void *opaque, const char *name, const char *value,
                        Error **errp)
{
    DeviceProps *p = opaque;

    g_ptr_array_add(p->names, g_strdup(name));
    g_ptr_array_add(p->values, g_strdup(value));
    return 0;
}

static bool parse_device_str(const char *str, char **driver, char **id,
                             DeviceProps *props, Error **errp)
{
    if (str[0] == '{') {
        g_autoptr(QObject) obj = qobject_from_json(str, errp);
        QDict *dict = qobject_to(QDict, obj);
        const QDictEntry *e;

        if (!obj) {
            return false;
        }
        if (!dict) {
            error_setg(errp, "-device: JSON argument must be an object");
            return false;
        }
        for (e = qdict_first(dict); e; e = qdict_next(dict, e)) {
            const char *key = qdict_entry_key(e);
            char *val = qdev_json_prop_string(qdict_entry_value(e), key, errp);

            if (!val) {
                return false;
            }
            if (!strcmp(key, "driver")) {
                g_free(*driver);
                *driver = val;
            } else if (!strcmp(key, "id")) {
                g_free(*id);
                *id = val;
            } else {
                g_ptr_array_add(props->names, g_strdup(key));
                g_ptr_array_add(props->values, val);
            }
        }
        return true;
    } else {
        QemuOpts *opts = qemu_opts_parse(&qemu_device_opts, str, true, errp);
        guint i;

        if (!opts) {
            return false;
        }
        *id = g_strdup(qemu_opts_id(opts));
        qemu_opt_foreach(opts, collect_prop, props, NULL);
        qemu_opts_del(opts);
        /* The implied key is the driver; it is not a property. */
        for (i = 0; i < props->names->len; i++) {
            if (!strcmp(g_ptr_array_index(props->names, i), "driver")) {
                g_free(*driver);
                *driver = g_strdup(g_ptr_array_index(props->values, i));
                g_ptr_array_remove_index(props->names, i);
                g_ptr_array_remove_index(props->values, i);
                i--;
            }
        }
        return true;
    }
}

DeviceState *qdev_device_add_from_str(const char *str, Error **errp)
{
    static unsigned int anon_count;
    g_autofree char *driver = NULL;
    g_autofree char *id = NULL;
    g_autofree char *name = NULL;
    DeviceProps props = {
        .names = g_ptr_array_new_with_free_func(g_free),
        .values = g_ptr_array_new_with_free_func(g_free),
    };
    DeviceState *dev = NULL;
    Object *parent;
    guint i;

    if (!parse_device_str(str, &driver, &id, &props, errp)) {
        goto out;
    }
    if (!driver) {
        error_setg(errp, "Parameter 'driver' is missing");
        goto out;
    }
    if (!qdev_get_device_class(driver, errp)) {
        goto out;
    }
    if (id && !id_wellformed(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        error_append_hint(errp, "Identifiers consist of letters, digits, "
                          "'-', '.', '_', starting with a letter.\n");
        goto out;
    }
    for (i = 0; i < props.names->len; i++) {
        if (!strcmp(g_ptr_array_index(props.names, i), "bus")) {
            /* Nothing in this host sits on a bus. */
            error_setg(errp, "Bus '%s' not found",
                       (char *)g_ptr_array_index(props.values, i));
            goto out;
        }
    }

    if (id) {
        g_autofree char *path = g_strdup_printf("/machine/peripheral/%s",
                                                id);

        if (object_resolve_path(path, NULL)) {
            error_setg(errp, "Duplicate device ID '%s'", id);
            goto out;
        }
        parent = qdev_container("peripheral");
        name = g_strdup(id);
    } else {
        parent = qdev_container("peripheral-anon");
        name = g_strdup_printf("device[%u]", anon_count++);
    }

    dev = qdev_new(driver);
    dev->id = g_strdup(id);
    for (i = 0; i < props.names->len; i++) {
        if (!object_property_parse(OBJECT(dev),
                                   g_ptr_array_index(props.names, i),
                                   g_ptr_array_index(props.values, i),
                                   errp)) {
            object_unref(OBJECT(dev));
            dev = NULL;
            goto out;
        }
    }
    object_property_add_child(parent, name, OBJECT(dev));
    if (!qdev_realize(dev, NULL, errp)) {
        object_unparent(OBJECT(dev));
        object_unref(OBJECT(dev));
        dev = NULL;
        goto out;
    }
    {
        g_autofree char *path = object_get_canonical_path(OBJECT(dev));

        trace_qdev_device_add(driver, path);
    }
    /* The composition tree keeps it alive now. */
    object_unref(OBJECT(dev));

out:
    g_ptr_array_unref(props.names);
    g_ptr_array_unref(props.values);
    return dev;
}

static const char *const category_names[DEVICE_CATEGORY_MAX] = {
    [DEVICE_CATEGORY_BRIDGE] = "Controller/Bridge/Hub",
    [DEVICE_CATEGORY_USB] = "USB",
    [DEVICE_CATEGORY_STORAGE] = "Storage",
    [DEVICE_CATEGORY_NETWORK] = "Network",
    [DEVICE_CATEGORY_INPUT] = "Input",
    [DEVICE_CATEGORY_DISPLAY] = "Display",
    [DEVICE_CATEGORY_SOUND] = "Sound",
    [DEVICE_CATEGORY_MISC] = "Misc",
    [DEVICE_CATEGORY_CPU] = "CPU",
    [DEVICE_CATEGORY_WATCHDOG] = "Watchdog",
};

static bool device_in_category(DeviceClass *dc, int cat)
{
    int i;

    if (cat < DEVICE_CATEGORY_MAX) {
        return test_bit(cat, dc->categories);
    }
    /* "Uncategorized": no bit set at all. */
    for (i = 0; i < DEVICE_CATEGORY_MAX; i++) {
        if (test_bit(i, dc->categories)) {
            return false;
        }
    }
    return true;
}

static void qdev_print_devinfo(DeviceClass *dc)
{
    printf("name \"%s\"", object_class_get_name(OBJECT_CLASS(dc)));
    if (dc->bus_type) {
        printf(", bus %s", dc->bus_type);
    }
    if (dc->desc) {
        printf(", desc \"%s\"", dc->desc);
    }
    if (!dc->user_creatable) {
        printf(", no-user");
    }
    printf("\n");
}

static void qdev_list_devices(void)
{
    GSList *list = object_class_get_list_sorted(TYPE_DEVICE, false);
    int cat;

    for (cat = 0; cat <= DEVICE_CATEGORY_MAX; cat++) {
        bool header = false;
        GSList *l;

        for (l = list; l; l = l->next) {
            DeviceClass *dc = l->data;

            if (!dc->user_creatable || !device_in_category(dc, cat)) {
                continue;
            }
            if (!header) {
                printf("%s devices:\n", cat < DEVICE_CATEGORY_MAX ?
                       category_names[cat] : "Uncategorized");
                header = true;
            }
            qdev_print_devinfo(dc);
        }
        if (header) {
            printf("\n");
        }
    }
    g_slist_free(list);
}

static void collect_static_prop(const Property *prop, void *opaque)
{
    g_ptr_array_add(opaque, (gpointer)prop);
}

static gint prop_name_cmp(gconstpointer a, gconstpointer b)
{
    const Property *x = *(const Property *const *)a;
    const Property *y = *(const Property *const *)b;

    return strcmp(x->name, y->name);
}

static void qdev_print_props(DeviceClass *dc)
{
    const char *driver = object_class_get_name(OBJECT_CLASS(dc));
    g_autoptr(GPtrArray) props = g_ptr_array_new();
    guint i;

    object_class_foreach_static_prop(OBJECT_CLASS(dc), collect_static_prop,
                                     props);
    if (!props->len) {
        printf("There are no options for %s.\n", driver);
        return;
    }
    g_ptr_array_sort(props, prop_name_cmp);
    printf("%s options:\n", driver);
    for (i = 0; i < props->len; i++) {
        const Property *prop = g_ptr_array_index(props, i);
        const PropertyInfo *info = prop->info;
        g_autoptr(GString) line = g_string_new("");
        g_autofree char *def = NULL;

        g_string_append_printf(line, "  %s=<%s>", prop->name, info->type);
        if (prop->set_default) {
            if (info == &qdev_prop_bool) {
                def = g_strdup(prop->defval.u ? "true" : "false");
            } else if (info == &qdev_prop_int32) {
                def = g_strdup_printf("%" PRId64, prop->defval.i);
            } else {
                def = g_strdup_printf("%" PRIu64, prop->defval.u);
            }
        }
        /* QEMU's layout: the description starts in column 24. */
        if (info->description || def) {
            if (line->len < 24) {
                g_string_append_printf(line, "%*s", 24 - (int)line->len, "");
            }
            g_string_append_printf(line, " - %s",
                                   info->description ? info->description
                                                     : "");
            if (def) {
                g_string_append_printf(line, " (default: %s)", def);
            }
        }
        printf("%s\n", line->str);
    }
}

bool qdev_device_help(const char *str, Error **errp)
{
    g_auto(GStrv) parts = g_strsplit(str, ",", -1);
    bool want = false;
    DeviceClass *dc;
    int i;

    if (!strcmp(str, "help") || !strcmp(str, "?")) {
        qdev_list_devices();
        return true;
    }
    for (i = 1; parts[i]; i++) {
        if (!strcmp(parts[i], "help") || !strcmp(parts[i], "?")) {
            want = true;
        }
    }
    if (!want) {
        return false;
    }
    dc = qdev_get_device_class(parts[0], errp);
    if (dc) {
        qdev_print_props(dc);
    }
    return true;
}
