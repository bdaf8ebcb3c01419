/*
 * TPM backend base class: the abstract "tpm-backend" type that every TPM
 * backend derives from, and the TPMIf interface type that TPM devices
 * implement. Commands run on a worker thread; completion is reported to
 * the device on the main loop.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "block/thread-pool.h"
#include "system/tpm.h"
#include "system/tpm_backend.h"
#include "trace.h"

/* Main loop: the worker has finished with s->cmd. */
static void tpm_backend_request_completed(void *opaque, int ret)
{
    TPMBackend *s = TPM_BACKEND(opaque);
    TPMIfClass *tic = TPM_IF_GET_CLASS(s->tpmif);

    trace_tpm_backend_request_completed(ret);

    /*
     * Clear cmd before calling the device: its completion handler may
     * deliver the next command right away.
     */
    s->cmd = NULL;
    tic->request_completed(s->tpmif, ret);

    object_unref(OBJECT(s));
}

/* Worker thread: the only place where a backend may block on the TPM. */
static int tpm_backend_worker_thread(void *opaque)
{
    TPMBackend *s = TPM_BACKEND(opaque);
    TPMBackendClass *k = TPM_BACKEND_GET_CLASS(s);
    Error *err = NULL;

    k->handle_request(s, s->cmd, &err);
    if (err) {
        error_report_err(err);
        return -1;
    }

    return 0;
}

void tpm_backend_finish_sync(TPMBackend *s)
{
    while (s->cmd) {
        aio_poll(qemu_get_aio_context(), true);
    }
}

enum TpmType tpm_backend_get_type(TPMBackend *s)
{
    TPMBackendClass *k = TPM_BACKEND_GET_CLASS(s);

    return k->type;
}

int tpm_backend_init(TPMBackend *s, TPMIf *tpmif, Error **errp)
{
    if (s->tpmif) {
        error_setg(errp, "TPM backend '%s' is already in use by another "
                   "TPM device", s->id);
        return -1;
    }

    s->tpmif = tpmif;
    object_ref(OBJECT(tpmif));

    s->had_startup_error = false;

    return 0;
}

int tpm_backend_startup_tpm(TPMBackend *s, size_t buffersize)
{
    TPMBackendClass *k = TPM_BACKEND_GET_CLASS(s);
    int res;

    /* A command still running belongs to the TPM being restarted. */
    tpm_backend_finish_sync(s);

    res = k->startup_tpm ? k->startup_tpm(s, buffersize) : 0;
    s->had_startup_error = (res != 0);

    trace_tpm_backend_startup_tpm(buffersize, res);

    return res;
}

bool tpm_backend_had_startup_error(TPMBackend *s)
{
    return s->had_startup_error;
}

void tpm_backend_deliver_request(TPMBackend *s, TPMBackendCmd *cmd)
{
    if (s->cmd != NULL) {
        /* The device must wait for request_completed; this is its bug. */
        error_report("tpm-backend: a TPM request is already pending");
        return;
    }

    trace_tpm_backend_deliver_request(cmd->in_len, cmd->out_len);

    s->cmd = cmd;
    /* The worker and the completion need the backend to stay alive. */
    object_ref(OBJECT(s));
    thread_pool_submit_aio(tpm_backend_worker_thread, s,
                           tpm_backend_request_completed, s);
}

void tpm_backend_reset(TPMBackend *s)
{
    TPMBackendClass *k = TPM_BACKEND_GET_CLASS(s);

    if (k->reset) {
        k->reset(s);
    }

    tpm_backend_finish_sync(s);

    s->had_startup_error = false;
}

void tpm_backend_cancel_cmd(TPMBackend *s)
{
    TPMBackendClass *k = TPM_BACKEND_GET_CLASS(s);

    if (k->cancel_cmd) {
        k->cancel_cmd(s);
    }
}

bool tpm_backend_get_tpm_established_flag(TPMBackend *s)
{
    TPMBackendClass *k = TPM_BACKEND_GET_CLASS(s);

    return k->get_tpm_established_flag ?
           k->get_tpm_established_flag(s) : false;
}

int tpm_backend_reset_tpm_established_flag(TPMBackend *s, uint8_t locty)
{
    TPMBackendClass *k = TPM_BACKEND_GET_CLASS(s);

    return k->reset_tpm_established_flag ?
           k->reset_tpm_established_flag(s, locty) : 0;
}

TPMVersion tpm_backend_get_tpm_version(TPMBackend *s)
{
    TPMBackendClass *k = TPM_BACKEND_GET_CLASS(s);

    return k->get_tpm_version(s);
}

size_t tpm_backend_get_buffer_size(TPMBackend *s)
{
    TPMBackendClass *k = TPM_BACKEND_GET_CLASS(s);

    return k->get_buffer_size(s);
}

static void tpm_backend_instance_finalize(Object *obj)
{
    TPMBackend *s = TPM_BACKEND(obj);

    if (s->tpmif) {
        object_unref(OBJECT(s->tpmif));
    }
    g_free(s->id);
}

static const TypeInfo tpm_backend_types[] = {
    {
        .name = TYPE_TPM_BACKEND,
        .parent = TYPE_OBJECT,
        .instance_size = sizeof(TPMBackend),
        .instance_finalize = tpm_backend_instance_finalize,
        .class_size = sizeof(TPMBackendClass),
        .abstract = true,
    },
    {
        .name = TYPE_TPM_IF,
        .parent = TYPE_INTERFACE,
        .class_size = sizeof(TPMIfClass),
    },
};

DEFINE_TYPES(tpm_backend_types)
