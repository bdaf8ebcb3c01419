/*
 * QEMU Object Model: types, classes, interfaces and instances, with the
 * subset of QEMU's API that device models and backends use.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_OBJECT_H
#define QEMU_OBJECT_H

#include "qapi/error.h"

typedef struct TypeImpl *Type;
typedef struct ObjectClass ObjectClass;
typedef struct Object Object;
typedef struct InterfaceClass InterfaceClass;
typedef struct InterfaceInfo InterfaceInfo;
typedef struct TypeInfo TypeInfo;

#define TYPE_OBJECT "object"
#define TYPE_INTERFACE "interface"

typedef void (ObjectUnparent)(Object *obj);
typedef void (ObjectFree)(void *obj);

#define OBJECT_CLASS_CAST_CACHE 4

struct ObjectClass {
    /* private: */
    Type type;
    GSList *interfaces;
    ObjectUnparent *unparent;
    /*
     * Type names (by pointer) that instances of this class are known to
     * cast to, as QEMU keeps them: a cast in an MMIO handler then costs
     * a few loads instead of a hash lookup and a walk up the type tree.
     */
    const char *object_cast_cache[OBJECT_CLASS_CAST_CACHE];
};

struct Object {
    /* private: */
    ObjectClass *class;
    ObjectFree *free;
    uint32_t ref;
    Object *parent;
    /* Name under the parent ("/machine/peripheral/<id>" style paths). */
    char *name;
    GHashTable *children;
    /*
     * Memory regions this object owns: finalized with it, as QEMU does by
     * making them QOM children of their owner.
     */
    GSList *owned_regions;
};

struct InterfaceInfo {
    const char *type;
};

struct InterfaceClass {
    ObjectClass parent_class;
    /* private: */
    ObjectClass *concrete_class;
    Type interface_type;
};

struct TypeInfo {
    const char *name;
    const char *parent;

    size_t instance_size;
    size_t instance_align;
    void (*instance_init)(Object *obj);
    void (*instance_post_init)(Object *obj);
    void (*instance_finalize)(Object *obj);

    bool abstract;
    size_t class_size;

    void (*class_init)(ObjectClass *klass, const void *data);
    void (*class_base_init)(ObjectClass *klass, const void *data);
    const void *class_data;

    const InterfaceInfo *interfaces;
};

#define OBJECT(obj) ((Object *)(obj))
#define OBJECT_CLASS(class) ((ObjectClass *)(class))

#define OBJECT_CHECK(type, obj, name) \
    ((type *)object_dynamic_cast_assert(OBJECT(obj), (name), \
                                        __FILE__, __LINE__, __func__))
#define OBJECT_CLASS_CHECK(class_type, class, name) \
    ((class_type *)object_class_dynamic_cast_assert(OBJECT_CLASS(class), \
                                                    (name), __FILE__, \
                                                    __LINE__, __func__))
#define OBJECT_GET_CLASS(class, obj, name) \
    OBJECT_CLASS_CHECK(class, object_get_class(OBJECT(obj)), name)

#define INTERFACE_CHECK(interface, obj, name) \
    ((interface *)object_dynamic_cast_assert(OBJECT((obj)), (name), \
                                             __FILE__, __LINE__, __func__))
#define INTERFACE_CLASS(klass) \
    OBJECT_CLASS_CHECK(InterfaceClass, klass, TYPE_INTERFACE)

#define DECLARE_INSTANCE_CHECKER(InstanceType, OBJ_NAME, TYPENAME) \
    static inline G_GNUC_UNUSED InstanceType * \
    OBJ_NAME(const void *obj) \
    { return OBJECT_CHECK(InstanceType, obj, TYPENAME); }

#define DECLARE_CLASS_CHECKERS(ClassType, OBJ_NAME, TYPENAME) \
    static inline G_GNUC_UNUSED ClassType * \
    OBJ_NAME##_GET_CLASS(const void *obj) \
    { return OBJECT_GET_CLASS(ClassType, obj, TYPENAME); } \
    \
    static inline G_GNUC_UNUSED ClassType * \
    OBJ_NAME##_CLASS(const void *klass) \
    { return OBJECT_CLASS_CHECK(ClassType, klass, TYPENAME); }

#define DECLARE_OBJ_CHECKERS(InstanceType, ClassType, OBJ_NAME, TYPENAME) \
    DECLARE_INSTANCE_CHECKER(InstanceType, OBJ_NAME, TYPENAME) \
    DECLARE_CLASS_CHECKERS(ClassType, OBJ_NAME, TYPENAME)

#define OBJECT_DECLARE_TYPE(InstanceType, ClassType, MODULE_OBJ_NAME) \
    typedef struct InstanceType InstanceType; \
    typedef struct ClassType ClassType; \
    G_DEFINE_AUTOPTR_CLEANUP_FUNC(InstanceType, object_unref) \
    DECLARE_OBJ_CHECKERS(InstanceType, ClassType, \
                         MODULE_OBJ_NAME, TYPE_##MODULE_OBJ_NAME)

#define OBJECT_DECLARE_SIMPLE_TYPE(InstanceType, MODULE_OBJ_NAME) \
    typedef struct InstanceType InstanceType; \
    G_DEFINE_AUTOPTR_CLEANUP_FUNC(InstanceType, object_unref) \
    DECLARE_INSTANCE_CHECKER(InstanceType, MODULE_OBJ_NAME, \
                             TYPE_##MODULE_OBJ_NAME)

Type type_register_static(const TypeInfo *info);
void type_register_static_array(const TypeInfo *infos, int nr_infos);

#define DEFINE_TYPES(type_array) \
    static void do_qemu_init_ ## type_array(void) \
    { \
        type_register_static_array(type_array, ARRAY_SIZE(type_array)); \
    } \
    type_init(do_qemu_init_ ## type_array)

Object *object_new(const char *typename);
Object *object_new_with_class(ObjectClass *klass);
Object *object_ref(void *obj);
void object_unref(void *obj);

ObjectClass *object_get_class(Object *obj);
const char *object_get_typename(const Object *obj);
Object *object_dynamic_cast(Object *obj, const char *typename);
/* typename must live as long as the program (a type-name literal): the
 * class's cast cache remembers it by pointer. */
Object *object_dynamic_cast_assert(Object *obj, const char *typename,
                                   const char *file, int line,
                                   const char *func);

ObjectClass *object_class_by_name(const char *typename);
ObjectClass *module_object_class_by_name(const char *typename);
ObjectClass *object_class_get_parent(ObjectClass *klass);
const char *object_class_get_name(ObjectClass *klass);
bool object_class_is_abstract(ObjectClass *klass);
ObjectClass *object_class_dynamic_cast(ObjectClass *klass,
                                       const char *typename);
ObjectClass *object_class_dynamic_cast_assert(ObjectClass *klass,
                                              const char *typename,
                                              const char *file, int line,
                                              const char *func);
/* Every non-abstract (unless include_abstract) class derived from
 * implements_type, as a list the caller frees with g_slist_free. */
GSList *object_class_get_list(const char *implements_type,
                              bool include_abstract);
GSList *object_class_get_list_sorted(const char *implements_type,
                                     bool include_abstract);

/*
 * The composition tree. Objects are attached under a parent with a name;
 * object_get_root() is "/". The tree holds a reference to each child.
 */
Object *object_get_root(void);
Object *object_get_container(const char *name);
void object_property_add_child(Object *obj, const char *name, Object *child);
void object_unparent(Object *obj);
char *object_get_canonical_path(const Object *obj);
const char *object_get_canonical_path_component(const Object *obj);
Object *object_resolve_path(const char *path, bool *ambiguous);
/*
 * With path "", searches the whole tree for objects implementing typename:
 * returns the single match, or NULL (with *ambiguous set when several).
 */
Object *object_resolve_path_type(const char *path, const char *typename,
                                 bool *ambiguous);
/* Calls fn(child, opaque) for each child; stops at the first non-zero. */
int object_child_foreach(Object *obj, int (*fn)(Object *child, void *opaque),
                         void *opaque);
int object_child_foreach_recursive(Object *obj,
                                   int (*fn)(Object *child, void *opaque),
                                   void *opaque);

/*
 * Property access by name. Objects in this host expose properties through
 * their class's qdev-style Property array (see hw/core/qdev-properties.h);
 * "parse" takes the command-line string form.
 */
bool object_property_parse(Object *obj, const char *name,
                           const char *string, Error **errp);
char *object_property_print(Object *obj, const char *name, Error **errp);
bool object_property_set_bool(Object *obj, const char *name, bool value,
                              Error **errp);
bool object_property_get_bool(Object *obj, const char *name, Error **errp);
bool object_property_set_uint(Object *obj, const char *name, uint64_t value,
                              Error **errp);
uint64_t object_property_get_uint(Object *obj, const char *name,
                                  Error **errp);
bool object_property_set_str(Object *obj, const char *name,
                             const char *value, Error **errp);
char *object_property_get_str(Object *obj, const char *name, Error **errp);

#include "qemu/module.h"

#endif /* QEMU_OBJECT_H */
