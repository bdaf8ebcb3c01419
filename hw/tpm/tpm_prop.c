/*
 * The "tpmdev" qdev property type: resolves a -tpmdev id to its backend
 * and binds the backend to the device that names it.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "system/tpm.h"
#include "system/tpm_backend.h"
#include "tpm_prop.h"

static bool tpm_prop_parse(Object *obj, const Property *prop, const char *str,
                           Error **errp)
{
    TPMBackend **be = object_field_prop_ptr(obj, prop);
    TPMBackend *s;

    s = qemu_find_tpm_be(str);
    if (!s) {
        error_setg(errp, "Property '%s.%s' can't find value '%s'",
                   object_get_typename(obj), prop->name, str);
        return false;
    }
    if (*be == s) {
        return true;
    }
    if (*be) {
        /* A backend serves one front end; do not leave the first bound. */
        error_setg(errp, "Property '%s.%s' is already set to '%s'",
                   object_get_typename(obj), prop->name, (*be)->id);
        return false;
    }
    if (tpm_backend_init(s, TPM_IF(obj), errp) != 0) {
        return false;
    }
    /* A weak reference: the backend outlives every front end using it. */
    *be = s;
    return true;
}

static char *tpm_prop_print(Object *obj, const Property *prop)
{
    TPMBackend **be = object_field_prop_ptr(obj, prop);

    return g_strdup(*be && (*be)->id ? (*be)->id : "");
}

static void tpm_prop_release(Object *obj, const Property *prop)
{
    TPMBackend **be = object_field_prop_ptr(obj, prop);

    if (*be) {
        tpm_backend_reset(*be);
    }
}

const PropertyInfo qdev_prop_tpm = {
    .type = "str",
    .description = "ID of a tpm to use as a backend",
    .parse = tpm_prop_parse,
    .print = tpm_prop_print,
    .release = tpm_prop_release,
};
