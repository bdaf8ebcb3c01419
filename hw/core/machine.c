/*
 * The abstract machine type, machine lookup and the versioned hardware
 * compat lists.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/core/boards.h"

MachineState *current_machine;

/*
 * What a machine version 11.0 lacks: PTP v1.07 chunking in tpm-crb. The
 * device's migration stream gained the tpm-crb/chunk subsection in 11.1,
 * so 11.0 machines keep both off to stay migratable to 11.0 hosts.
 */
GlobalProperty hw_compat_11_0[] = {
    { "tpm-crb", "cap-chunk", "off" },
    { "tpm-crb", "x-allow-chunk-migration", "off" },
};
const size_t hw_compat_11_0_len = G_N_ELEMENTS(hw_compat_11_0);

void compat_props_add(GPtrArray *arr, GlobalProperty props[], size_t nelem)
{
    for (size_t i = 0; i < nelem; i++) {
        g_ptr_array_add(arr, &props[i]);
    }
}

MachineClass *find_machine_class(const char *name)
{
    GSList *list = object_class_get_list(TYPE_MACHINE, false);
    MachineClass *found = NULL;

    for (GSList *e = list; e; e = e->next) {
        MachineClass *mc = e->data;

        if (g_str_equal(mc->name, name) ||
            (mc->alias && g_str_equal(mc->alias, name))) {
            found = mc;
            break;
        }
    }
    g_slist_free(list);
    return found;
}

MachineClass *find_default_machine_class(void)
{
    GSList *list = object_class_get_list(TYPE_MACHINE, false);
    MachineClass *found = NULL;

    for (GSList *e = list; e; e = e->next) {
        MachineClass *mc = e->data;

        if (mc->is_default) {
            found = mc;
            break;
        }
    }
    g_slist_free(list);
    return found;
}

static void machine_class_base_init(ObjectClass *oc, const void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    /*
     * Each machine class owns its compat list; the copy of the parent's
     * pointer made by class inheritance must not be shared.
     */
    mc->compat_props = g_ptr_array_new();
    if (!object_class_is_abstract(oc)) {
        const char *cname = object_class_get_name(oc);

        g_assert(g_str_has_suffix(cname, TYPE_MACHINE_SUFFIX));
        mc->name = g_strndup(cname,
                             strlen(cname) - strlen(TYPE_MACHINE_SUFFIX));
    }
}

static void machine_finalize(Object *obj)
{
    MachineState *ms = MACHINE(obj);

    g_free(ms->accel);
}

static const TypeInfo machine_info = {
    .name = TYPE_MACHINE,
    .parent = TYPE_OBJECT,
    .abstract = true,
    .class_size = sizeof(MachineClass),
    .class_base_init = machine_class_base_init,
    .instance_size = sizeof(MachineState),
    .instance_finalize = machine_finalize,
};

static void machine_none_class_init(ObjectClass *oc, const void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->desc = "empty machine";
}

static const TypeInfo machine_none_info = {
    .name = MACHINE_TYPE_NAME("none"),
    .parent = TYPE_MACHINE,
    .class_init = machine_none_class_init,
};

static void machine_register_types(void)
{
    type_register_static(&machine_info);
    type_register_static(&machine_none_info);
}

type_init(machine_register_types)
