/*
 * Static device properties: DEFINE_PROP_* tables, set from -device,
 * -global and machine compat lists, with QEMU's macro names.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_CORE_QDEV_PROPERTIES_H
#define HW_CORE_QDEV_PROPERTIES_H

#include "hw/core/qdev.h"

typedef struct PropertyInfo PropertyInfo;

struct Property {
    const char *name;
    const PropertyInfo *info;
    ptrdiff_t offset;
    const char *link_type;
    union {
        int64_t i;
        uint64_t u;
    } defval;
    bool set_default;
};

/*
 * How a property type reads and writes its field. QEMU goes through QAPI
 * visitors; this host has no visitor layer, so the type converts from and
 * to the command-line string form directly. The field layout and the
 * DEFINE_PROP_* macros are the same as QEMU's.
 */
struct PropertyInfo {
    const char *type;
    const char *description;
    bool (*parse)(Object *obj, const Property *prop, const char *str,
                  Error **errp);
    char *(*print)(Object *obj, const Property *prop);
    void (*set_default_value)(Object *obj, const Property *prop);
    void (*release)(Object *obj, const Property *prop);
};

extern const PropertyInfo qdev_prop_bool;
extern const PropertyInfo qdev_prop_uint8;
extern const PropertyInfo qdev_prop_uint16;
extern const PropertyInfo qdev_prop_uint32;
extern const PropertyInfo qdev_prop_int32;
extern const PropertyInfo qdev_prop_uint64;
extern const PropertyInfo qdev_prop_size;
extern const PropertyInfo qdev_prop_string;

#define DEFINE_PROP(_name, _state, _field, _prop, _type, ...) { \
        .name = (_name), \
        .info = &(_prop), \
        .offset = offsetof(_state, _field) \
            + type_check(_type, typeof_field(_state, _field)), \
        __VA_ARGS__ \
    }

#define DEFINE_PROP_SIGNED(_name, _state, _field, _defval, _prop, _type) \
    DEFINE_PROP(_name, _state, _field, _prop, _type, \
                .set_default = true, \
                .defval.i = (_type)_defval)

#define DEFINE_PROP_UNSIGNED(_name, _state, _field, _defval, _prop, _type) \
    DEFINE_PROP(_name, _state, _field, _prop, _type, \
                .set_default = true, \
                .defval.u = (_type)_defval)

#define DEFINE_PROP_BOOL(_n, _s, _f, _d) \
    DEFINE_PROP_UNSIGNED(_n, _s, _f, _d, qdev_prop_bool, bool)
#define DEFINE_PROP_UINT8(_n, _s, _f, _d) \
    DEFINE_PROP_UNSIGNED(_n, _s, _f, _d, qdev_prop_uint8, uint8_t)
#define DEFINE_PROP_UINT16(_n, _s, _f, _d) \
    DEFINE_PROP_UNSIGNED(_n, _s, _f, _d, qdev_prop_uint16, uint16_t)
#define DEFINE_PROP_UINT32(_n, _s, _f, _d) \
    DEFINE_PROP_UNSIGNED(_n, _s, _f, _d, qdev_prop_uint32, uint32_t)
#define DEFINE_PROP_INT32(_n, _s, _f, _d) \
    DEFINE_PROP_SIGNED(_n, _s, _f, _d, qdev_prop_int32, int32_t)
#define DEFINE_PROP_UINT64(_n, _s, _f, _d) \
    DEFINE_PROP_UNSIGNED(_n, _s, _f, _d, qdev_prop_uint64, uint64_t)
#define DEFINE_PROP_SIZE(_n, _s, _f, _d) \
    DEFINE_PROP_UNSIGNED(_n, _s, _f, _d, qdev_prop_size, uint64_t)
#define DEFINE_PROP_STRING(_n, _s, _f) \
    DEFINE_PROP(_n, _s, _f, qdev_prop_string, char *)

/* A property's storage inside an object. */
void *object_field_prop_ptr(Object *obj, const Property *prop);

/* Find a static property on the object's class or its parents. */
const Property *object_class_find_static_prop(ObjectClass *oc,
                                              const char *name);
/* Calls fn for every static property of the class and its parents. */
void object_class_foreach_static_prop(ObjectClass *oc,
                                      void (*fn)(const Property *prop,
                                                 void *opaque),
                                      void *opaque);
/* Install static properties on any class (devices and backends alike). */
void object_class_add_static_props(ObjectClass *oc, const Property *props,
                                   size_t n);

/*
 * Global properties: -global DRIVER.PROP=VALUE and machine compat lists.
 * They apply to every object of DRIVER (or a subtype) at creation, after
 * the defaults; user -global entries win over compat entries.
 */
typedef struct GlobalProperty {
    const char *driver;
    const char *property;
    const char *value;
    bool used;
    bool optional;
} GlobalProperty;

void qdev_prop_register_global(GlobalProperty *prop);
void object_apply_global_props(Object *obj, const GPtrArray *props,
                               Error **errp);
void qdev_prop_set_globals(DeviceState *dev);
/* Parses "DRIVER.PROP=VALUE" (the -global syntax). */
bool qdev_global_parse(const char *str, Error **errp);
/* Drop all registered globals (unit tests). */
void qdev_prop_reset_globals(void);

void qdev_prop_set_bit(DeviceState *dev, const char *name, bool value);
void qdev_prop_set_uint32(DeviceState *dev, const char *name,
                          uint32_t value);
void qdev_prop_set_string(DeviceState *dev, const char *name,
                          const char *value);

#endif /* HW_CORE_QDEV_PROPERTIES_H */
