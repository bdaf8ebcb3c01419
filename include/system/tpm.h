/*
 * The TPM front-end interface (TPMIf) that TPM devices implement, and
 * the -tpmdev entry points.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_TPM_H
#define QEMU_TPM_H

#include "qapi/qapi-types-tpm.h"
#include "qom/object.h"

#define CONFIG_TPM 1

/* -tpmdev TYPE,id=ID,...: creates and opens the backend. */
int tpm_config_parse(const char *optstr, Error **errp);
int tpm_init(Error **errp);
void tpm_cleanup(void);

typedef enum TPMVersion {
    TPM_VERSION_UNSPEC = 0,
    TPM_VERSION_1_2 = 1,
    TPM_VERSION_2_0 = 2,
} TPMVersion;

#define TYPE_TPM_IF "tpm-if"
typedef struct TPMIfClass TPMIfClass;
DECLARE_CLASS_CHECKERS(TPMIfClass, TPM_IF, TYPE_TPM_IF)
#define TPM_IF(obj) INTERFACE_CHECK(TPMIf, (obj), TYPE_TPM_IF)

typedef struct TPMIf TPMIf;

struct TPMIfClass {
    InterfaceClass parent_class;

    enum TpmModel model;
    void (*request_completed)(TPMIf *obj, int ret);
    enum TPMVersion (*get_version)(TPMIf *obj);
};

#define TYPE_TPM_TIS_ISA "tpm-tis"
#define TYPE_TPM_CRB "tpm-crb"

#define TPM_IS_CRB(chr) object_dynamic_cast(OBJECT(chr), TYPE_TPM_CRB)

/* Returns NULL unless there is exactly one TPM device. */
static inline TPMIf *tpm_find(void)
{
    Object *obj = object_resolve_path_type("", TYPE_TPM_IF, NULL);

    return obj ? TPM_IF(obj) : NULL;
}

static inline TPMVersion tpm_get_version(TPMIf *ti)
{
    if (!ti) {
        return TPM_VERSION_UNSPEC;
    }
    return TPM_IF_GET_CLASS(ti)->get_version(ti);
}

#endif /* QEMU_TPM_H */
