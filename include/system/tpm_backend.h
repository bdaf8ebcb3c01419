/*
 * TPM backends: what a TPM device may ask of the TPM behind it.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TPM_BACKEND_H
#define TPM_BACKEND_H

#include "qom/object.h"
#include "qemu/option.h"
#include "system/tpm.h"
#include "qapi/error.h"

#define TYPE_TPM_BACKEND "tpm-backend"
OBJECT_DECLARE_TYPE(TPMBackend, TPMBackendClass, TPM_BACKEND)

typedef struct TPMBackendCmd {
    uint8_t locty;
    const uint8_t *in;
    uint32_t in_len;
    uint8_t *out;
    uint32_t out_len;
    bool selftest_done;
} TPMBackendCmd;

struct TPMBackend {
    Object parent;

    /*< protected >*/
    TPMIf *tpmif;
    bool opened;
    bool had_startup_error;
    TPMBackendCmd *cmd;

    /* <public> */
    char *id;
};

struct TPMBackendClass {
    ObjectClass parent_class;

    enum TpmType type;
    const QemuOptDesc *opts;
    /* A descriptive text of the backend to display to the user. */
    const char *desc;

    TPMBackend *(*create)(QemuOpts *opts, Error **errp);

    /* Start up the TPM on the backend - optional. */
    int (*startup_tpm)(TPMBackend *t, size_t buffersize);

    /* Optional. */
    void (*reset)(TPMBackend *t);

    void (*cancel_cmd)(TPMBackend *t);

    /* Optional. */
    bool (*get_tpm_established_flag)(TPMBackend *t);

    /* Optional. */
    int (*reset_tpm_established_flag)(TPMBackend *t, uint8_t locty);

    TPMVersion (*get_tpm_version)(TPMBackend *t);

    size_t (*get_buffer_size)(TPMBackend *t);

    /* Runs on a worker thread: execute cmd, fill cmd->out. */
    void (*handle_request)(TPMBackend *s, TPMBackendCmd *cmd, Error **errp);
};

enum TpmType tpm_backend_get_type(TPMBackend *s);

/* Bind the backend to its front end. Returns 0 on success. */
int tpm_backend_init(TPMBackend *s, TPMIf *tpmif, Error **errp);

/*
 * Start the TPM with the given buffer size (0: leave it as is).
 * Returns 0 on success.
 */
int tpm_backend_startup_tpm(TPMBackend *s, size_t buffersize);

bool tpm_backend_had_startup_error(TPMBackend *s);

/*
 * Hand a command to the backend. It runs off the main thread; the front
 * end's request_completed(ret) is called on the main loop when it ends.
 */
void tpm_backend_deliver_request(TPMBackend *s, TPMBackendCmd *cmd);

/* Reset the backend to a well-defined state, errors included. */
void tpm_backend_reset(TPMBackend *s);

/* Ask the TPM to cancel the command in progress, if any. */
void tpm_backend_cancel_cmd(TPMBackend *s);

bool tpm_backend_get_tpm_established_flag(TPMBackend *s);
int tpm_backend_reset_tpm_established_flag(TPMBackend *s, uint8_t locty);
TPMVersion tpm_backend_get_tpm_version(TPMBackend *s);
size_t tpm_backend_get_buffer_size(TPMBackend *s);

/* Wait on the main loop until the pending command, if any, completes. */
void tpm_backend_finish_sync(TPMBackend *s);

TPMBackend *qemu_find_tpm_be(const char *id);
/*
 * Make an in-process backend (drv->id set) findable by qemu_find_tpm_be,
 * for fuzz targets and unit tests; takes over the caller's reference.
 */
void tpm_backend_register(TPMBackend *drv);

#endif /* TPM_BACKEND_H */
