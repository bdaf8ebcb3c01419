/*
 * -tpmdev: parsing the TPM backend options, creating the backend, and
 * finding it by id for the TPM device's "tpmdev" property.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/option.h"
#include "system/tpm.h"
#include "system/tpm_backend.h"

/* How long tpm_cleanup waits for a command still in flight. */
#define TPM_CLEANUP_TIMEOUT_US (2 * G_USEC_PER_SEC)

static const char *const tpm_type_names[TPM_TYPE__MAX] = {
    [TPM_TYPE_PASSTHROUGH] = "passthrough",
    [TPM_TYPE_EMULATOR] = "emulator",
};

/* Every key is accepted here; the backend class validates its own. */
static QemuOptsList qemu_tpmdev_opts = {
    .name = "tpmdev",
    .implied_opt_name = "type",
};

/* -tpmdev options in command-line order, created by tpm_init. */
static GPtrArray *tpm_opts;
/* Backends created by tpm_init. */
static GPtrArray *tpm_backends;

static const TPMBackendClass *tpm_be_find_by_type(enum TpmType type)
{
    g_autofree char *typename = g_strdup_printf("tpm-%s",
                                                tpm_type_names[type]);
    ObjectClass *oc = object_class_by_name(typename);

    if (!oc || !object_class_dynamic_cast(oc, TYPE_TPM_BACKEND)) {
        return NULL;
    }
    return TPM_BACKEND_CLASS(oc);
}

static const TPMBackendClass *tpm_be_find_by_name(const char *name)
{
    int i;

    for (i = 0; i < TPM_TYPE__MAX; i++) {
        if (tpm_type_names[i] && g_str_equal(name, tpm_type_names[i])) {
            return tpm_be_find_by_type(i);
        }
    }
    return NULL;
}

/* "Supported TPM types: emulator (TPM emulator backend driver)". */
static char *tpm_backend_drivers_str(void)
{
    GString *s = g_string_new("");
    int i;

    for (i = 0; i < TPM_TYPE__MAX; i++) {
        const TPMBackendClass *bc = tpm_be_find_by_type(i);

        if (bc) {
            g_string_append_printf(s, "%s%s (%s)", s->len ? ", " : "",
                                   tpm_type_names[i], bc->desc);
        }
    }
    return g_string_free(s, FALSE);
}

static void tpm_display_backend_drivers(void)
{
    int i;

    printf("Supported TPM types (choose only one):\n");
    for (i = 0; i < TPM_TYPE__MAX; i++) {
        const TPMBackendClass *bc = tpm_be_find_by_type(i);

        if (bc) {
            printf("%12s   %s\n", tpm_type_names[i], bc->desc);
        }
    }
}

TPMBackend *qemu_find_tpm_be(const char *id)
{
    guint i;

    if (!id || !tpm_backends) {
        return NULL;
    }
    for (i = 0; i < tpm_backends->len; i++) {
        TPMBackend *drv = g_ptr_array_index(tpm_backends, i);

        if (g_str_equal(drv->id, id)) {
            return drv;
        }
    }
    return NULL;
}

/*
 * -tpmdev TYPE,id=ID[,...]: check everything that does not need other
 * objects now, so that mistakes are reported before anything starts.
 * "-tpmdev help" lists the backend types and exits.
 */
int tpm_config_parse(const char *optstr, Error **errp)
{
    const TPMBackendClass *be;
    QemuOpts *opts;
    const char *id, *type;
    guint i;

    if (g_str_equal(optstr, "help")) {
        tpm_display_backend_drivers();
        exit(0);
    }

    opts = qemu_opts_parse(&qemu_tpmdev_opts, optstr, true, errp);
    if (!opts) {
        return -1;
    }

    id = qemu_opts_id(opts);
    if (!id) {
        error_setg(errp, "-tpmdev %s: Parameter 'id' is missing", optstr);
        goto fail;
    }

    for (i = 0; tpm_opts && i < tpm_opts->len; i++) {
        if (g_str_equal(qemu_opts_id(g_ptr_array_index(tpm_opts, i)), id)) {
            error_setg(errp, "Duplicate ID '%s' for tpmdev", id);
            goto fail;
        }
    }

    type = qemu_opt_get(opts, "type");
    if (!type) {
        g_autofree char *types = tpm_backend_drivers_str();

        error_setg(errp, "tpmdev '%s': Parameter 'type' is missing", id);
        error_append_hint(errp, "Supported TPM types: %s\n", types);
        goto fail;
    }

    be = tpm_be_find_by_name(type);
    if (!be) {
        g_autofree char *types = tpm_backend_drivers_str();

        error_setg(errp, "tpmdev '%s': Parameter 'type' expects a TPM "
                   "backend type, not '%s' (supported: %s)", id, type, types);
        goto fail;
    }

    if (!qemu_opts_validate(opts, be->opts, errp)) {
        error_prepend(errp, "tpmdev '%s': ", id);
        goto fail;
    }

    /* As in QEMU: one backend, hence at most one TPM device. */
    if (tpm_opts && tpm_opts->len) {
        error_setg(errp, "-tpmdev %s: Only one TPM is allowed", optstr);
        goto fail;
    }

    if (!tpm_opts) {
        tpm_opts = g_ptr_array_new_with_free_func(
            (GDestroyNotify)qemu_opts_del);
    }
    g_ptr_array_add(tpm_opts, opts);
    return 0;

fail:
    qemu_opts_del(opts);
    return -1;
}

/* Create the backends; chardevs must exist by now. */
int tpm_init(Error **errp)
{
    guint i;

    for (i = 0; tpm_opts && i < tpm_opts->len; i++) {
        QemuOpts *opts = g_ptr_array_index(tpm_opts, i);
        const TPMBackendClass *be;
        TPMBackend *drv;

        be = tpm_be_find_by_name(qemu_opt_get(opts, "type"));
        drv = be->create(opts, errp);
        if (!drv) {
            return -1;
        }
        drv->id = g_strdup(qemu_opts_id(opts));

        if (!tpm_backends) {
            tpm_backends = g_ptr_array_new();
        }
        g_ptr_array_add(tpm_backends, drv);
    }
    return 0;
}

/*
 * Make a backend that was created in-process (a fuzz target's or a unit
 * test's own TPMBackend subclass) findable by id, as if -tpmdev had
 * created it; tpm_cleanup() drops the reference taken over here.
 */
void tpm_backend_register(TPMBackend *drv)
{
    if (!tpm_backends) {
        tpm_backends = g_ptr_array_new();
    }
    g_ptr_array_add(tpm_backends, drv);
}

/*
 * At exit. A command still running (a stalled swtpm) is asked to cancel
 * and given a bounded time; if it still runs, the worker keeps the
 * backend alive and exit proceeds without waiting for it.
 */
void tpm_cleanup(void)
{
    guint i;

    for (i = 0; tpm_backends && i < tpm_backends->len; i++) {
        TPMBackend *drv = g_ptr_array_index(tpm_backends, i);
        gint64 deadline = g_get_monotonic_time() + TPM_CLEANUP_TIMEOUT_US;

        if (drv->cmd) {
            tpm_backend_cancel_cmd(drv);
        }
        while (drv->cmd && g_get_monotonic_time() < deadline) {
            if (!aio_poll(qemu_get_aio_context(), false)) {
                g_usleep(1000);
            }
        }
        object_unref(OBJECT(drv));
    }
    if (tpm_backends) {
        g_ptr_array_free(tpm_backends, TRUE);
        tpm_backends = NULL;
    }
    if (tpm_opts) {
        g_ptr_array_free(tpm_opts, TRUE);
        tpm_opts = NULL;
    }
}
