/*
 * QEMU Object Model: type registry, class and interface initialisation,
 * instances, casts and the composition tree.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qom/object.h"
#include "system/memory.h"
#include "hw/core/qdev-properties.h"

#define TYPE_CONTAINER "container"

typedef struct TypeImpl TypeImpl;

struct TypeImpl {
    char *name;
    char *parent;
    TypeImpl *parent_type;

    size_t class_size;
    size_t instance_size;
    void (*class_init)(ObjectClass *klass, const void *data);
    void (*class_base_init)(ObjectClass *klass, const void *data);
    const void *class_data;
    void (*instance_init)(Object *obj);
    void (*instance_post_init)(Object *obj);
    void (*instance_finalize)(Object *obj);
    bool abstract;

    GPtrArray *interface_names;
    ObjectClass *class;

    /* Static properties installed by this type's class_init. */
    const Property *props;
    size_t n_props;
};

static GHashTable *type_table;
static Object *root_object;

static GHashTable *type_table_get(void)
{
    if (!type_table) {
        type_table = g_hash_table_new(g_str_hash, g_str_equal);
    }
    return type_table;
}

static TypeImpl *type_get_by_name(const char *name)
{
    if (!name) {
        return NULL;
    }
    return g_hash_table_lookup(type_table_get(), name);
}

Type type_register_static(const TypeInfo *info)
{
    TypeImpl *ti = g_new0(TypeImpl, 1);

    g_assert(info->name);
    if (g_hash_table_lookup(type_table_get(), info->name)) {
        fprintf(stderr, "Registering '%s' which already exists\n",
                info->name);
        abort();
    }
    ti->name = g_strdup(info->name);
    ti->parent = g_strdup(info->parent);
    ti->class_size = info->class_size;
    ti->instance_size = info->instance_size;
    ti->class_init = info->class_init;
    ti->class_base_init = info->class_base_init;
    ti->class_data = info->class_data;
    ti->instance_init = info->instance_init;
    ti->instance_post_init = info->instance_post_init;
    ti->instance_finalize = info->instance_finalize;
    ti->abstract = info->abstract;
    ti->interface_names = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; info->interfaces && info->interfaces[i].type; i++) {
        g_ptr_array_add(ti->interface_names,
                        g_strdup(info->interfaces[i].type));
    }
    g_hash_table_insert(type_table_get(), ti->name, ti);
    return ti;
}

void type_register_static_array(const TypeInfo *infos, int nr_infos)
{
    for (int i = 0; i < nr_infos; i++) {
        type_register_static(&infos[i]);
    }
}

static TypeImpl *type_get_parent(TypeImpl *ti)
{
    if (!ti->parent_type && ti->parent) {
        ti->parent_type = type_get_by_name(ti->parent);
        if (!ti->parent_type) {
            fprintf(stderr, "Type '%s' is missing its parent '%s'\n",
                    ti->name, ti->parent);
            abort();
        }
    }
    return ti->parent_type;
}

static bool type_is_ancestor(TypeImpl *type, TypeImpl *target)
{
    for (; type; type = type_get_parent(type)) {
        if (type == target) {
            return true;
        }
    }
    return false;
}

static size_t type_class_get_size(TypeImpl *ti)
{
    if (ti->class_size) {
        return ti->class_size;
    }
    if (type_get_parent(ti)) {
        return type_class_get_size(type_get_parent(ti));
    }
    return sizeof(ObjectClass);
}

static size_t type_object_get_size(TypeImpl *ti)
{
    if (ti->instance_size) {
        return ti->instance_size;
    }
    if (type_get_parent(ti)) {
        return type_object_get_size(type_get_parent(ti));
    }
    return 0;
}

static void type_initialize(TypeImpl *ti);

/* Give klass its own copy of the interface class for iface. */
static void type_add_interface(ObjectClass *klass, TypeImpl *iface,
                               const ObjectClass *template)
{
    InterfaceClass *ic;
    size_t size;

    type_initialize(iface);
    if (!template) {
        template = iface->class;
    }
    size = type_class_get_size(iface);
    ic = g_malloc0(size);
    memcpy(ic, template, size);
    ic->parent_class.type = iface;
    ic->parent_class.interfaces = NULL;
    ic->concrete_class = klass;
    ic->interface_type = iface;
    klass->interfaces = g_slist_append(klass->interfaces, ic);
}

static void type_initialize(TypeImpl *ti)
{
    TypeImpl *parent;
    size_t size;

    if (ti->class) {
        return;
    }
    size = type_class_get_size(ti);
    ti->class = g_malloc0(size);

    parent = type_get_parent(ti);
    if (parent) {
        type_initialize(parent);
        memcpy(ti->class, parent->class, type_class_get_size(parent));
        ti->class->interfaces = NULL;
        for (GSList *e = parent->class->interfaces; e; e = e->next) {
            InterfaceClass *pic = e->data;

            type_add_interface(ti->class, pic->interface_type,
                               OBJECT_CLASS(pic));
        }
    }
    ti->class->type = ti;

    for (guint i = 0; i < ti->interface_names->len; i++) {
        TypeImpl *iface = type_get_by_name(
            g_ptr_array_index(ti->interface_names, i));
        bool inherited = false;

        if (!iface) {
            fprintf(stderr, "Type '%s' implements unknown interface '%s'\n",
                    ti->name,
                    (char *)g_ptr_array_index(ti->interface_names, i));
            abort();
        }
        for (GSList *e = ti->class->interfaces; e; e = e->next) {
            if (((InterfaceClass *)e->data)->interface_type == iface) {
                inherited = true;
            }
        }
        if (!inherited) {
            type_add_interface(ti->class, iface, NULL);
        }
    }

    for (TypeImpl *t = parent; t; t = type_get_parent(t)) {
        if (t->class_base_init) {
            t->class_base_init(ti->class, ti->class_data);
        }
    }
    if (ti->class_init) {
        ti->class_init(ti->class, ti->class_data);
    }
}

ObjectClass *object_class_by_name(const char *typename)
{
    TypeImpl *ti = type_get_by_name(typename);

    if (!ti) {
        return NULL;
    }
    type_initialize(ti);
    return ti->class;
}

ObjectClass *module_object_class_by_name(const char *typename)
{
    return object_class_by_name(typename);
}

ObjectClass *object_class_get_parent(ObjectClass *klass)
{
    TypeImpl *parent = type_get_parent(klass->type);

    if (!parent) {
        return NULL;
    }
    type_initialize(parent);
    return parent->class;
}

const char *object_class_get_name(ObjectClass *klass)
{
    return klass->type->name;
}

bool object_class_is_abstract(ObjectClass *klass)
{
    return klass->type->abstract;
}

ObjectClass *object_class_dynamic_cast(ObjectClass *klass,
                                       const char *typename)
{
    TypeImpl *target;
    TypeImpl *iface_root;

    if (!klass) {
        return NULL;
    }
    target = type_get_by_name(typename);
    if (!target) {
        return NULL;
    }
    if (type_is_ancestor(klass->type, target)) {
        return klass;
    }
    iface_root = type_get_by_name(TYPE_INTERFACE);
    if (type_is_ancestor(target, iface_root)) {
        for (GSList *e = klass->interfaces; e; e = e->next) {
            InterfaceClass *ic = e->data;

            if (type_is_ancestor(ic->interface_type, target)) {
                return OBJECT_CLASS(ic);
            }
        }
    }
    return NULL;
}

ObjectClass *object_class_dynamic_cast_assert(ObjectClass *klass,
                                              const char *typename,
                                              const char *file, int line,
                                              const char *func)
{
    ObjectClass *ret = object_class_dynamic_cast(klass, typename);

    if (!ret && klass) {
        fprintf(stderr, "%s:%d:%s: Object %p is not an instance of type %s\n",
                file, line, func, (void *)klass, typename);
        abort();
    }
    return ret;
}

ObjectClass *object_get_class(Object *obj)
{
    return obj->class;
}

const char *object_get_typename(const Object *obj)
{
    return obj->class->type->name;
}

Object *object_dynamic_cast(Object *obj, const char *typename)
{
    if (obj && object_class_dynamic_cast(obj->class, typename)) {
        return obj;
    }
    return NULL;
}

Object *object_dynamic_cast_assert(Object *obj, const char *typename,
                                   const char *file, int line,
                                   const char *func)
{
    const char **cache;
    int i;

    if (!obj) {
        return obj;
    }
    /*
     * Worker threads cast too: entries are read and written atomically;
     * a lost update only costs a later full check.
     */
    cache = obj->class->object_cast_cache;
    for (i = 0; i < OBJECT_CLASS_CAST_CACHE; i++) {
        if (g_atomic_pointer_get(&cache[i]) == typename) {
            return obj;
        }
    }
    if (!object_dynamic_cast(obj, typename)) {
        fprintf(stderr, "%s:%d:%s: Object %p is not an instance of type %s\n",
                file, line, func, (void *)obj, typename);
        abort();
    }
    for (i = 1; i < OBJECT_CLASS_CAST_CACHE; i++) {
        g_atomic_pointer_set(&cache[i - 1], g_atomic_pointer_get(&cache[i]));
    }
    g_atomic_pointer_set(&cache[OBJECT_CLASS_CAST_CACHE - 1], typename);
    return obj;
}

static void type_foreach_static_prop(TypeImpl *ti,
                                     void (*fn)(const Property *prop,
                                                void *opaque),
                                     void *opaque)
{
    for (; ti; ti = type_get_parent(ti)) {
        for (size_t i = 0; i < ti->n_props; i++) {
            fn(&ti->props[i], opaque);
        }
    }
}

void object_class_foreach_static_prop(ObjectClass *oc,
                                      void (*fn)(const Property *prop,
                                                 void *opaque),
                                      void *opaque)
{
    type_foreach_static_prop(oc->type, fn, opaque);
}

void object_class_add_static_props(ObjectClass *oc, const Property *props,
                                   size_t n)
{
    oc->type->props = props;
    oc->type->n_props = n;
}

const Property *object_class_find_static_prop(ObjectClass *oc,
                                              const char *name)
{
    for (TypeImpl *ti = oc->type; ti; ti = type_get_parent(ti)) {
        for (size_t i = 0; i < ti->n_props; i++) {
            if (g_str_equal(ti->props[i].name, name)) {
                return &ti->props[i];
            }
        }
    }
    return NULL;
}

static void prop_set_default(const Property *prop, void *opaque)
{
    if (prop->info->set_default_value) {
        prop->info->set_default_value(opaque, prop);
    }
}

static void prop_release(const Property *prop, void *opaque)
{
    if (prop->info->release) {
        prop->info->release(opaque, prop);
    }
}

static void object_init_with_type(Object *obj, TypeImpl *ti)
{
    if (type_get_parent(ti)) {
        object_init_with_type(obj, type_get_parent(ti));
    }
    if (ti->instance_init) {
        ti->instance_init(obj);
    }
}

static void object_post_init_with_type(Object *obj, TypeImpl *ti)
{
    if (ti->instance_post_init) {
        ti->instance_post_init(obj);
    }
    if (type_get_parent(ti)) {
        object_post_init_with_type(obj, type_get_parent(ti));
    }
}

Object *object_new_with_class(ObjectClass *klass)
{
    TypeImpl *ti = klass->type;
    Object *obj;

    if (ti->abstract) {
        fprintf(stderr, "Cannot instantiate abstract type '%s'\n", ti->name);
        abort();
    }
    obj = g_malloc0(type_object_get_size(ti));
    obj->class = ti->class;
    obj->ref = 1;
    obj->free = g_free;
    type_foreach_static_prop(ti, prop_set_default, obj);
    object_init_with_type(obj, ti);
    object_post_init_with_type(obj, ti);
    return obj;
}

Object *object_new(const char *typename)
{
    ObjectClass *klass = object_class_by_name(typename);

    if (!klass) {
        fprintf(stderr, "Unknown type '%s'\n", typename);
        abort();
    }
    return object_new_with_class(klass);
}

Object *object_ref(void *objptr)
{
    Object *obj = OBJECT(objptr);

    if (obj) {
        g_atomic_int_inc(&obj->ref);
    }
    return obj;
}

static void object_finalize(Object *obj)
{
    for (TypeImpl *ti = obj->class->type; ti; ti = type_get_parent(ti)) {
        if (ti->instance_finalize) {
            ti->instance_finalize(obj);
        }
    }
    type_foreach_static_prop(obj->class->type, prop_release, obj);
    g_slist_free_full(g_steal_pointer(&obj->owned_regions),
                      (GDestroyNotify)memory_region_finalize);
    if (obj->children) {
        g_hash_table_destroy(obj->children);
    }
    g_free(obj->name);
    if (obj->free) {
        obj->free(obj);
    }
}

void object_unref(void *objptr)
{
    Object *obj = OBJECT(objptr);

    if (!obj) {
        return;
    }
    g_assert(obj->ref > 0);
    if (g_atomic_int_dec_and_test(&obj->ref)) {
        object_finalize(obj);
    }
}

GSList *object_class_get_list(const char *implements_type,
                              bool include_abstract)
{
    GSList *list = NULL;
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, type_table_get());
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        TypeImpl *ti = value;

        type_initialize(ti);
        if ((include_abstract || !ti->abstract) &&
            object_class_dynamic_cast(ti->class, implements_type)) {
            list = g_slist_prepend(list, ti->class);
        }
    }
    return list;
}

static gint class_name_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(object_class_get_name((ObjectClass *)a),
                  object_class_get_name((ObjectClass *)b));
}

GSList *object_class_get_list_sorted(const char *implements_type,
                                     bool include_abstract)
{
    return g_slist_sort(object_class_get_list(implements_type,
                                              include_abstract),
                        class_name_cmp);
}

/* The composition tree. */

static void object_child_unref(gpointer p)
{
    Object *child = p;

    child->parent = NULL;
    object_unref(child);
}

Object *object_get_root(void)
{
    if (!root_object) {
        root_object = object_new(TYPE_CONTAINER);
    }
    return root_object;
}

void object_property_add_child(Object *obj, const char *name, Object *child)
{
    g_assert(!child->parent);
    if (!obj->children) {
        obj->children = g_hash_table_new_full(g_str_hash, g_str_equal,
                                              g_free, object_child_unref);
    }
    g_assert(!g_hash_table_contains(obj->children, name));
    g_free(child->name);
    child->name = g_strdup(name);
    child->parent = obj;
    g_hash_table_insert(obj->children, g_strdup(name), object_ref(child));
}

Object *object_get_container(const char *name)
{
    Object *root = object_get_root();
    Object *c = root->children ? g_hash_table_lookup(root->children, name)
                               : NULL;

    if (!c) {
        c = object_new(TYPE_CONTAINER);
        object_property_add_child(root, name, c);
        object_unref(c);
    }
    return c;
}

void object_unparent(Object *obj)
{
    if (!obj->parent) {
        return;
    }
    if (obj->class->unparent) {
        obj->class->unparent(obj);
    }
    if (obj->parent) {
        g_hash_table_remove(obj->parent->children, obj->name);
    }
}

const char *object_get_canonical_path_component(const Object *obj)
{
    return obj->name;
}

char *object_get_canonical_path(const Object *obj)
{
    GString *path = g_string_new(NULL);

    if (obj == root_object) {
        return g_string_free(path, FALSE);
    }
    for (; obj && obj->parent; obj = obj->parent) {
        g_string_prepend(path, obj->name);
        g_string_prepend_c(path, '/');
    }
    if (!path->len) {
        g_string_append_c(path, '/');
    }
    return g_string_free(path, FALSE);
}

int object_child_foreach(Object *obj, int (*fn)(Object *child, void *opaque),
                         void *opaque)
{
    GHashTableIter iter;
    gpointer value;

    if (!obj->children) {
        return 0;
    }
    g_hash_table_iter_init(&iter, obj->children);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        int ret = fn(value, opaque);

        if (ret) {
            return ret;
        }
    }
    return 0;
}

typedef struct RecursiveWalk {
    int (*fn)(Object *child, void *opaque);
    void *opaque;
} RecursiveWalk;

static int do_child_foreach_recursive(Object *child, void *opaque)
{
    RecursiveWalk *walk = opaque;
    int ret = walk->fn(child, walk->opaque);

    if (ret) {
        return ret;
    }
    return object_child_foreach(child, do_child_foreach_recursive, walk);
}

int object_child_foreach_recursive(Object *obj,
                                   int (*fn)(Object *child, void *opaque),
                                   void *opaque)
{
    RecursiveWalk walk = { .fn = fn, .opaque = opaque };

    return object_child_foreach(obj, do_child_foreach_recursive, &walk);
}

typedef struct ResolveSearch {
    const char *typename;
    const char *name;
    Object *found;
    int count;
} ResolveSearch;

static int resolve_match(Object *child, void *opaque)
{
    ResolveSearch *s = opaque;

    if (s->name && g_strcmp0(child->name, s->name) != 0) {
        return 0;
    }
    if (s->typename && !object_dynamic_cast(child, s->typename)) {
        return 0;
    }
    s->found = child;
    s->count++;
    return 0;
}

static Object *object_resolve_partial(const char *name, const char *typename,
                                      bool *ambiguous)
{
    ResolveSearch s = { .typename = typename, .name = name };

    object_child_foreach_recursive(object_get_root(), resolve_match, &s);
    if (s.count > 1) {
        if (ambiguous) {
            *ambiguous = true;
        }
        return NULL;
    }
    return s.found;
}

Object *object_resolve_path_type(const char *path, const char *typename,
                                 bool *ambiguous)
{
    Object *obj;

    if (ambiguous) {
        *ambiguous = false;
    }
    if (!path[0]) {
        return object_resolve_partial(NULL, typename, ambiguous);
    }
    obj = object_resolve_path(path, ambiguous);
    return object_dynamic_cast(obj, typename);
}

Object *object_resolve_path(const char *path, bool *ambiguous)
{
    g_auto(GStrv) parts = NULL;
    Object *obj;

    if (ambiguous) {
        *ambiguous = false;
    }
    if (path[0] != '/') {
        return object_resolve_partial(path, NULL, ambiguous);
    }
    parts = g_strsplit(path + 1, "/", -1);
    obj = object_get_root();
    for (int i = 0; parts[i] && obj; i++) {
        if (!parts[i][0]) {
            continue;
        }
        obj = obj->children ? g_hash_table_lookup(obj->children, parts[i])
                            : NULL;
    }
    return obj;
}

/* Property access by name, through the class's static properties. */

static const Property *object_find_prop(Object *obj, const char *name,
                                        Error **errp)
{
    const Property *prop = object_class_find_static_prop(obj->class, name);

    if (!prop) {
        error_setg(errp, "Property '%s.%s' not found",
                   object_get_typename(obj), name);
    }
    return prop;
}

bool object_property_parse(Object *obj, const char *name,
                           const char *string, Error **errp)
{
    const Property *prop = object_find_prop(obj, name, errp);
    DeviceState *dev = (DeviceState *)object_dynamic_cast(obj, TYPE_DEVICE);

    if (!prop) {
        return false;
    }
    if (dev && dev->realized) {
        error_setg(errp, "Attempt to set property '%s' on device '%s' "
                   "(type '%s') after it was realized", name,
                   dev->id ? dev->id : "<anon>", object_get_typename(obj));
        return false;
    }
    return prop->info->parse(obj, prop, string, errp);
}

char *object_property_print(Object *obj, const char *name, Error **errp)
{
    const Property *prop = object_find_prop(obj, name, errp);

    if (!prop) {
        return NULL;
    }
    return prop->info->print(obj, prop);
}

bool object_property_set_bool(Object *obj, const char *name, bool value,
                              Error **errp)
{
    return object_property_parse(obj, name, value ? "on" : "off", errp);
}

bool object_property_get_bool(Object *obj, const char *name, Error **errp)
{
    g_autofree char *s = object_property_print(obj, name, errp);

    return s && (g_str_equal(s, "true") || g_str_equal(s, "on"));
}

bool object_property_set_uint(Object *obj, const char *name, uint64_t value,
                              Error **errp)
{
    g_autofree char *s = g_strdup_printf("%" PRIu64, value);

    return object_property_parse(obj, name, s, errp);
}

uint64_t object_property_get_uint(Object *obj, const char *name,
                                  Error **errp)
{
    g_autofree char *s = object_property_print(obj, name, errp);

    return s ? g_ascii_strtoull(s, NULL, 0) : 0;
}

bool object_property_set_str(Object *obj, const char *name,
                             const char *value, Error **errp)
{
    return object_property_parse(obj, name, value, errp);
}

char *object_property_get_str(Object *obj, const char *name, Error **errp)
{
    return object_property_print(obj, name, errp);
}

static void register_base_types(void)
{
    static const TypeInfo object_info = {
        .name = TYPE_OBJECT,
        .instance_size = sizeof(Object),
        .class_size = sizeof(ObjectClass),
        .abstract = true,
    };
    static const TypeInfo interface_info = {
        .name = TYPE_INTERFACE,
        .class_size = sizeof(InterfaceClass),
        .abstract = true,
    };
    static const TypeInfo container_info = {
        .name = TYPE_CONTAINER,
        .parent = TYPE_OBJECT,
        .instance_size = sizeof(Object),
    };

    type_register_static(&object_info);
    type_register_static(&interface_info);
    type_register_static(&container_info);
}

type_init(register_base_types)
