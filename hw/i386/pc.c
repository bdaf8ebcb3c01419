/*
 * The x86 PC machine types (i440FX and Q35), reduced to what this host
 * models: guest RAM at address 0 and the machine version history that
 * decides device compat properties.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/core/boards.h"
#include "system/memory.h"

/* QEMU's default for PC machines. */
#define PC_DEFAULT_RAM_SIZE (128 * MiB)

static MemoryRegion pc_ram;

static void pc_init(MachineState *ms)
{
    if (!ms->ram_size) {
        ms->ram_size = PC_DEFAULT_RAM_SIZE;
    }
    memory_region_init_ram(&pc_ram, OBJECT(ms), "pc.ram", ms->ram_size,
                           &error_fatal);
    memory_region_add_subregion(get_system_memory(), 0, &pc_ram);
}

static void pc_i440fx_11_1_class_init(ObjectClass *oc, const void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->family = "pc_piix";
    mc->desc = "Standard PC (i440FX + PIIX, 1996)";
    mc->alias = "pc";
    mc->is_default = true;
    mc->init = pc_init;
}

static void pc_i440fx_11_0_class_init(ObjectClass *oc, const void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->family = "pc_piix";
    mc->desc = "Standard PC (i440FX + PIIX, 1996)";
    mc->init = pc_init;
    compat_props_add(mc->compat_props, hw_compat_11_0, hw_compat_11_0_len);
}

static void pc_q35_11_1_class_init(ObjectClass *oc, const void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->family = "pc_q35";
    mc->desc = "Standard PC (Q35 + ICH9, 2009)";
    mc->alias = "q35";
    mc->init = pc_init;
}

static void pc_q35_11_0_class_init(ObjectClass *oc, const void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->family = "pc_q35";
    mc->desc = "Standard PC (Q35 + ICH9, 2009)";
    mc->init = pc_init;
    compat_props_add(mc->compat_props, hw_compat_11_0, hw_compat_11_0_len);
}

static const TypeInfo pc_machine_types[] = {
    {
        .name = MACHINE_TYPE_NAME("pc-i440fx-11.1"),
        .parent = TYPE_MACHINE,
        .class_init = pc_i440fx_11_1_class_init,
    }, {
        .name = MACHINE_TYPE_NAME("pc-i440fx-11.0"),
        .parent = TYPE_MACHINE,
        .class_init = pc_i440fx_11_0_class_init,
    }, {
        .name = MACHINE_TYPE_NAME("pc-q35-11.1"),
        .parent = TYPE_MACHINE,
        .class_init = pc_q35_11_1_class_init,
    }, {
        .name = MACHINE_TYPE_NAME("pc-q35-11.0"),
        .parent = TYPE_MACHINE,
        .class_init = pc_q35_11_0_class_init,
    },
};

DEFINE_TYPES(pc_machine_types)
