/*
 * Unit tests of static properties, global properties (-global and
 * machine compat lists), the machine registry and QOM casts.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/core/qdev.h"
#include "hw/core/qdev-properties.h"
#include "hw/core/boards.h"

#define TYPE_TEST_DEV "test-props-dev"
#define TYPE_TEST_SUBDEV "test-props-subdev"
#define TYPE_TEST_IF "test-props-if"

typedef struct TestDevState {
    DeviceState parent_obj;
    bool flag;
    uint32_t size;
    uint8_t small;
    uint64_t big;
    char *name;
    int realize_count;
} TestDevState;

DECLARE_INSTANCE_CHECKER(TestDevState, TEST_DEV, TYPE_TEST_DEV)

typedef struct TestIfClass {
    InterfaceClass parent_class;
    int (*answer)(Object *obj);
} TestIfClass;

DECLARE_CLASS_CHECKERS(TestIfClass, TEST_IF, TYPE_TEST_IF)

static const Property test_dev_props[] = {
    DEFINE_PROP_BOOL("flag", TestDevState, flag, true),
    DEFINE_PROP_UINT32("size", TestDevState, size, 3968),
    DEFINE_PROP_UINT8("small", TestDevState, small, 7),
    DEFINE_PROP_SIZE("big", TestDevState, big, 4096),
    DEFINE_PROP_STRING("name", TestDevState, name),
};

static void test_dev_realize(DeviceState *dev, Error **errp)
{
    TestDevState *s = TEST_DEV(dev);

    if (s->size == 0) {
        error_setg(errp, "test-props-dev: size must not be 0");
        return;
    }
    s->realize_count++;
}

static int test_dev_answer(Object *obj)
{
    return 42;
}

static int test_subdev_answer(Object *obj)
{
    return 43;
}

static void test_dev_class_init(ObjectClass *oc, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = test_dev_realize;
    device_class_set_props(dc, test_dev_props);
    TEST_IF_CLASS(oc)->answer = test_dev_answer;
}

static void test_subdev_class_init(ObjectClass *oc, const void *data)
{
    TEST_IF_CLASS(oc)->answer = test_subdev_answer;
}

static const TypeInfo test_types[] = {
    {
        .name = TYPE_TEST_IF,
        .parent = TYPE_INTERFACE,
        .class_size = sizeof(TestIfClass),
    }, {
        .name = TYPE_TEST_DEV,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(TestDevState),
        .class_init = test_dev_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { TYPE_TEST_IF },
            { }
        },
    }, {
        .name = TYPE_TEST_SUBDEV,
        .parent = TYPE_TEST_DEV,
        .class_init = test_subdev_class_init,
    },
};

DEFINE_TYPES(test_types)

static TestDevState *new_dev(const char *type)
{
    return TEST_DEV(qdev_new(type));
}

static void test_defaults_and_parse(void)
{
    TestDevState *s = new_dev(TYPE_TEST_DEV);
    Error *err = NULL;
    g_autofree char *printed = NULL;

    g_assert_true(s->flag);
    g_assert_cmpuint(s->size, ==, 3968);
    g_assert_cmpuint(s->small, ==, 7);
    g_assert_cmpuint(s->big, ==, 4096);
    g_assert_null(s->name);

    g_assert_true(object_property_parse(OBJECT(s), "flag", "off", &err));
    g_assert_false(s->flag);
    g_assert_true(object_property_parse(OBJECT(s), "size", "0x80", &err));
    g_assert_cmpuint(s->size, ==, 128);
    g_assert_true(object_property_parse(OBJECT(s), "big", "8k", &err));
    g_assert_cmpuint(s->big, ==, 8192);
    g_assert_true(object_property_parse(OBJECT(s), "name", "x", &err));
    g_assert_cmpstr(s->name, ==, "x");
    printed = object_property_print(OBJECT(s), "size", &error_abort);
    g_assert_cmpstr(printed, ==, "128");
    g_assert_null(err);
    object_unref(s);
}

typedef struct BadValue {
    const char *prop;
    const char *value;
    const char *message;
} BadValue;

static void test_parse_errors(void)
{
    static const BadValue bad[] = {
        { "flag", "maybe", "Parameter 'flag' expects 'on' or 'off'" },
        { "size", "-1", "Parameter 'size' expects a non-negative integer" },
        { "size", "4294967296",
          "Parameter 'size' expects uint32_t (4294967296 is out of range)" },
        { "small", "256",
          "Parameter 'small' expects uint8_t (256 is out of range)" },
        { "size", "12abc", "Parameter 'size' expects a non-negative integer" },
        { "big", "1T", "Parameter 'big' expects a size" },
        { "nosuch", "1", "Property 'test-props-dev.nosuch' not found" },
    };
    TestDevState *s = new_dev(TYPE_TEST_DEV);

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        Error *err = NULL;

        g_assert_false(object_property_parse(OBJECT(s), bad[i].prop,
                                             bad[i].value, &err));
        g_assert_nonnull(err);
        g_assert_cmpstr(error_get_pretty(err), ==, bad[i].message);
        error_free(err);
    }
    /* Nothing changed. */
    g_assert_true(s->flag);
    g_assert_cmpuint(s->size, ==, 3968);
    object_unref(s);
}

static void test_realize(void)
{
    TestDevState *s = new_dev(TYPE_TEST_DEV);
    Error *err = NULL;

    object_property_parse(OBJECT(s), "size", "0", &error_abort);
    g_assert_false(qdev_realize(DEVICE(s), NULL, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "test-props-dev: size must not be 0");
    error_free(err);
    err = NULL;
    object_property_parse(OBJECT(s), "size", "16", &error_abort);
    g_assert_true(qdev_realize(DEVICE(s), NULL, &error_abort));
    g_assert_cmpint(s->realize_count, ==, 1);
    /* Properties are frozen once realized. */
    g_assert_false(object_property_parse(OBJECT(s), "size", "32", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "after it was realized"));
    error_free(err);
    qdev_unrealize(DEVICE(s));
    object_unref(s);
}

/* Compat globals apply first; a later user -global wins. */
static void test_globals_order(void)
{
    GlobalProperty compat[] = {
        { TYPE_TEST_DEV, "flag", "off" },
        { TYPE_TEST_DEV, "size", "64" },
    };
    TestDevState *s;
    Error *err = NULL;

    qdev_prop_reset_globals();
    for (size_t i = 0; i < G_N_ELEMENTS(compat); i++) {
        qdev_prop_register_global(&compat[i]);
    }
    g_assert_true(qdev_global_parse(TYPE_TEST_DEV ".size=100", &err));
    s = new_dev(TYPE_TEST_DEV);
    g_assert_false(s->flag);
    g_assert_cmpuint(s->size, ==, 100);
    object_unref(s);

    /* Globals apply to subtypes too. */
    s = new_dev(TYPE_TEST_SUBDEV);
    g_assert_cmpuint(s->size, ==, 100);
    object_unref(s);

    g_assert_false(qdev_global_parse("nodot=1", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "DRIVER.PROPERTY=VALUE"));
    error_free(err);
    qdev_prop_reset_globals();
}

static void test_machine_compat(void)
{
    MachineClass *mc_new = find_machine_class("q35");
    MachineClass *mc_old = find_machine_class("pc-q35-11.0");
    bool cap_chunk = false, allow_mig = false;

    g_assert_nonnull(mc_new);
    g_assert_cmpstr(mc_new->name, ==, "pc-q35-11.1");
    g_assert_cmpstr(find_machine_class("pc")->name, ==, "pc-i440fx-11.1");
    g_assert_true(find_default_machine_class() ==
                  find_machine_class("pc-i440fx-11.1"));
    g_assert_nonnull(find_machine_class("none"));
    g_assert_null(find_machine_class("pc-q35-2.0"));
    g_assert_cmpuint(mc_new->compat_props->len, ==, 0);

    g_assert_nonnull(mc_old);
    for (guint i = 0; i < mc_old->compat_props->len; i++) {
        GlobalProperty *p = g_ptr_array_index(mc_old->compat_props, i);

        g_assert_cmpstr(p->driver, ==, "tpm-crb");
        g_assert_cmpstr(p->value, ==, "off");
        cap_chunk |= g_str_equal(p->property, "cap-chunk");
        allow_mig |= g_str_equal(p->property, "x-allow-chunk-migration");
    }
    g_assert_true(cap_chunk && allow_mig);
    g_assert_cmpuint(find_machine_class("pc-i440fx-11.0")->compat_props->len,
                     ==, mc_old->compat_props->len);
}

static void test_casts_and_tree(void)
{
    TestDevState *a = new_dev(TYPE_TEST_DEV);
    TestDevState *b = new_dev(TYPE_TEST_SUBDEV);
    Object *container = object_get_container("unit-test");
    bool ambiguous = false;

    g_assert_cmpint(TEST_IF_GET_CLASS(a)->answer(OBJECT(a)), ==, 42);
    g_assert_cmpint(TEST_IF_GET_CLASS(b)->answer(OBJECT(b)), ==, 43);
    g_assert_nonnull(object_dynamic_cast(OBJECT(b), TYPE_TEST_DEV));
    g_assert_null(object_dynamic_cast(OBJECT(a), TYPE_TEST_SUBDEV));
    g_assert_null(object_dynamic_cast(OBJECT(a), TYPE_MACHINE));

    object_property_add_child(container, "a", OBJECT(a));
    g_assert_true(object_resolve_path_type("", TYPE_TEST_IF, &ambiguous) ==
                  OBJECT(a));
    g_assert_false(ambiguous);
    object_property_add_child(container, "b", OBJECT(b));
    g_assert_null(object_resolve_path_type("", TYPE_TEST_IF, &ambiguous));
    g_assert_true(ambiguous);
    g_assert_true(object_resolve_path("/unit-test/b", NULL) == OBJECT(b));
    g_autofree char *path = object_get_canonical_path(OBJECT(b));
    g_assert_cmpstr(path, ==, "/unit-test/b");

    object_unparent(OBJECT(b));
    g_assert_true(object_resolve_path_type("", TYPE_TEST_IF, NULL) ==
                  OBJECT(a));
    object_unparent(OBJECT(a));
    object_unref(a);
    object_unref(b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qdev/props/defaults-and-parse",
                    test_defaults_and_parse);
    g_test_add_func("/qdev/props/parse-errors", test_parse_errors);
    g_test_add_func("/qdev/realize", test_realize);
    g_test_add_func("/qdev/globals/order", test_globals_order);
    g_test_add_func("/machine/compat-lists", test_machine_compat);
    g_test_add_func("/qom/casts-and-tree", test_casts_and_tree);
    return g_test_run();
}
