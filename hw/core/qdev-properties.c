/*
 * Static properties: the basic property types and global properties
 * (-global and machine compat lists).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/option.h"
#include "qemu/cutils.h"
#include "hw/core/qdev-properties.h"

void *object_field_prop_ptr(Object *obj, const Property *prop)
{
    return (char *)obj + prop->offset;
}

/* bool */

static bool prop_parse_bool(Object *obj, const Property *prop,
                            const char *str, Error **errp)
{
    bool *ptr = object_field_prop_ptr(obj, prop);

    return qapi_bool_parse(prop->name, str, ptr, errp);
}

static char *prop_print_bool(Object *obj, const Property *prop)
{
    bool *ptr = object_field_prop_ptr(obj, prop);

    return g_strdup(*ptr ? "true" : "false");
}

static void prop_default_bool(Object *obj, const Property *prop)
{
    bool *ptr = object_field_prop_ptr(obj, prop);

    if (prop->set_default) {
        *ptr = prop->defval.u != 0;
    }
}

const PropertyInfo qdev_prop_bool = {
    .type = "bool",
    .description = "on/off",
    .parse = prop_parse_bool,
    .print = prop_print_bool,
    .set_default_value = prop_default_bool,
};

/* Unsigned and signed integers, range-checked against the field width. */

static bool parse_uint(const Property *prop, const char *str, uint64_t max,
                       uint64_t *out, Error **errp)
{
    uint64_t v;

    if (qemu_strtou64(str, NULL, 0, &v) < 0) {
        error_setg(errp, "Parameter '%s' expects a non-negative integer",
                   prop->name);
        return false;
    }
    if (v > max) {
        error_setg(errp, "Parameter '%s' expects uint%d_t (%s is out of "
                   "range)", prop->name,
                   max == UINT8_MAX ? 8 : max == UINT16_MAX ? 16 :
                   max == UINT32_MAX ? 32 : 64, str);
        return false;
    }
    *out = v;
    return true;
}

#define DEFINE_UINT_PROP(bits)                                              \
static bool prop_parse_uint##bits(Object *obj, const Property *prop,        \
                                  const char *str, Error **errp)            \
{                                                                           \
    uint##bits##_t *ptr = object_field_prop_ptr(obj, prop);                 \
    uint64_t v;                                                             \
                                                                            \
    if (!parse_uint(prop, str, UINT##bits##_MAX, &v, errp)) {               \
        return false;                                                       \
    }                                                                       \
    *ptr = v;                                                               \
    return true;                                                            \
}                                                                           \
                                                                            \
static char *prop_print_uint##bits(Object *obj, const Property *prop)       \
{                                                                           \
    uint##bits##_t *ptr = object_field_prop_ptr(obj, prop);                 \
                                                                            \
    return g_strdup_printf("%" PRIu64, (uint64_t)*ptr);                     \
}                                                                           \
                                                                            \
static void prop_default_uint##bits(Object *obj, const Property *prop)      \
{                                                                           \
    uint##bits##_t *ptr = object_field_prop_ptr(obj, prop);                 \
                                                                            \
    if (prop->set_default) {                                                \
        *ptr = prop->defval.u;                                              \
    }                                                                       \
}                                                                           \
                                                                            \
const PropertyInfo qdev_prop_uint##bits = {                                 \
    .type = "uint" #bits,                                                   \
    .parse = prop_parse_uint##bits,                                         \
    .print = prop_print_uint##bits,                                         \
    .set_default_value = prop_default_uint##bits,                           \
};

DEFINE_UINT_PROP(8)
DEFINE_UINT_PROP(16)
DEFINE_UINT_PROP(32)
DEFINE_UINT_PROP(64)

static bool prop_parse_int32(Object *obj, const Property *prop,
                             const char *str, Error **errp)
{
    int32_t *ptr = object_field_prop_ptr(obj, prop);
    int64_t v;

    if (qemu_strtoi64(str, NULL, 0, &v) < 0 || v < INT32_MIN ||
        v > INT32_MAX) {
        error_setg(errp, "Parameter '%s' expects int32_t", prop->name);
        return false;
    }
    *ptr = v;
    return true;
}

static char *prop_print_int32(Object *obj, const Property *prop)
{
    int32_t *ptr = object_field_prop_ptr(obj, prop);

    return g_strdup_printf("%" PRId32, *ptr);
}

static void prop_default_int32(Object *obj, const Property *prop)
{
    int32_t *ptr = object_field_prop_ptr(obj, prop);

    if (prop->set_default) {
        *ptr = prop->defval.i;
    }
}

const PropertyInfo qdev_prop_int32 = {
    .type = "int32",
    .parse = prop_parse_int32,
    .print = prop_print_int32,
    .set_default_value = prop_default_int32,
};

/* Sizes accept the k/M/G suffixes, as QEMU's size properties do. */
static bool prop_parse_size(Object *obj, const Property *prop,
                            const char *str, Error **errp)
{
    uint64_t *ptr = object_field_prop_ptr(obj, prop);
    const char *end;
    uint64_t v;
    unsigned shift = 0;

    if (qemu_strtou64(str, &end, 0, &v) < 0) {
        goto bad;
    }
    switch (*end) {
    case '\0':
        break;
    case 'k': case 'K':
        shift = 10;
        break;
    case 'M':
        shift = 20;
        break;
    case 'G':
        shift = 30;
        break;
    default:
        goto bad;
    }
    if (shift && (end[1] || v > (UINT64_MAX >> shift))) {
        goto bad;
    }
    *ptr = v << shift;
    return true;

bad:
    error_setg(errp, "Parameter '%s' expects a size", prop->name);
    return false;
}

const PropertyInfo qdev_prop_size = {
    .type = "size",
    .parse = prop_parse_size,
    .print = prop_print_uint64,
    .set_default_value = prop_default_uint64,
};

/* string */

static bool prop_parse_string(Object *obj, const Property *prop,
                              const char *str, Error **errp)
{
    char **ptr = object_field_prop_ptr(obj, prop);

    g_free(*ptr);
    *ptr = g_strdup(str);
    return true;
}

static char *prop_print_string(Object *obj, const Property *prop)
{
    char **ptr = object_field_prop_ptr(obj, prop);

    return g_strdup(*ptr ? *ptr : "");
}

static void prop_release_string(Object *obj, const Property *prop)
{
    char **ptr = object_field_prop_ptr(obj, prop);

    g_clear_pointer(ptr, g_free);
}

const PropertyInfo qdev_prop_string = {
    .type = "str",
    .parse = prop_parse_string,
    .print = prop_print_string,
    .release = prop_release_string,
};

void qdev_prop_set_bit(DeviceState *dev, const char *name, bool value)
{
    object_property_set_bool(OBJECT(dev), name, value, &error_abort);
}

void qdev_prop_set_uint32(DeviceState *dev, const char *name,
                          uint32_t value)
{
    object_property_set_uint(OBJECT(dev), name, value, &error_abort);
}

void qdev_prop_set_string(DeviceState *dev, const char *name,
                          const char *value)
{
    object_property_set_str(OBJECT(dev), name, value, &error_abort);
}

/* Global properties, in registration order (compat lists, then -global). */

static GPtrArray *global_props;

static void global_prop_free(gpointer p)
{
    GlobalProperty *g = p;

    g_free((char *)g->driver);
    g_free((char *)g->property);
    g_free((char *)g->value);
    g_free(g);
}

static GPtrArray *global_props_get(void)
{
    if (!global_props) {
        global_props = g_ptr_array_new_with_free_func(global_prop_free);
    }
    return global_props;
}

void qdev_prop_register_global(GlobalProperty *prop)
{
    GlobalProperty *copy = g_new0(GlobalProperty, 1);

    copy->driver = g_strdup(prop->driver);
    copy->property = g_strdup(prop->property);
    copy->value = g_strdup(prop->value);
    copy->optional = prop->optional;
    g_ptr_array_add(global_props_get(), copy);
}

void qdev_prop_reset_globals(void)
{
    g_clear_pointer(&global_props, g_ptr_array_unref);
}

bool qdev_global_parse(const char *str, Error **errp)
{
    const char *dot = strchr(str, '.');
    const char *eq = dot ? strchr(dot, '=') : NULL;
    GlobalProperty g = { 0 };
    g_autofree char *driver = NULL;
    g_autofree char *property = NULL;

    if (!dot || !eq || dot == str || eq == dot + 1) {
        error_setg(errp, "Invalid -global '%s': expected "
                   "DRIVER.PROPERTY=VALUE", str);
        return false;
    }
    driver = g_strndup(str, dot - str);
    property = g_strndup(dot + 1, eq - dot - 1);
    g.driver = driver;
    g.property = property;
    g.value = eq + 1;
    qdev_prop_register_global(&g);
    return true;
}

void object_apply_global_props(Object *obj, const GPtrArray *props,
                               Error **errp)
{
    if (!props) {
        return;
    }
    for (guint i = 0; i < props->len; i++) {
        GlobalProperty *p = g_ptr_array_index(props, i);
        Error *err = NULL;

        if (!object_dynamic_cast(obj, p->driver)) {
            continue;
        }
        if (p->optional &&
            !object_class_find_static_prop(object_get_class(obj),
                                           p->property)) {
            continue;
        }
        p->used = true;
        if (!object_property_parse(obj, p->property, p->value, &err)) {
            error_prepend(&err, "can't apply global %s.%s=%s: ",
                          p->driver, p->property, p->value);
            error_propagate(errp, err);
            return;
        }
    }
}

void qdev_prop_set_globals(DeviceState *dev)
{
    object_apply_global_props(OBJECT(dev), global_props, &error_fatal);
}
