/*
 * Machine types: MachineClass, MachineState and the versioned compat
 * property lists, with QEMU's names.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_CORE_BOARDS_H
#define HW_CORE_BOARDS_H

#include "qom/object.h"
#include "hw/core/qdev-properties.h"

#define TYPE_MACHINE_SUFFIX "-machine"
#define MACHINE_TYPE_NAME(machinename) (machinename TYPE_MACHINE_SUFFIX)

#define TYPE_MACHINE "machine"
OBJECT_DECLARE_TYPE(MachineState, MachineClass, MACHINE)

struct MachineClass {
    ObjectClass parent_class;

    const char *family;
    char *name;
    const char *alias;
    const char *desc;
    const char *deprecation_reason;

    void (*init)(MachineState *state);

    int is_default;
    const char *default_machine_opts;
    /* GlobalProperty *, applied to every object created under it. */
    GPtrArray *compat_props;
};

struct MachineState {
    Object parent_obj;

    char *accel;
    uint64_t ram_size;
};

/* hw_compat_X_Y: what machine version X.Y lacks compared with newer ones. */
extern GlobalProperty hw_compat_11_0[];
extern const size_t hw_compat_11_0_len;

/* Append an array of GlobalProperty to a class's compat list. */
void compat_props_add(GPtrArray *arr, GlobalProperty props[], size_t nelem);

/* The current machine, once created; NULL before. */
extern MachineState *current_machine;

/* Look a machine class up by name or alias; NULL if unknown. */
MachineClass *find_machine_class(const char *name);
MachineClass *find_default_machine_class(void);

#endif /* HW_CORE_BOARDS_H */
