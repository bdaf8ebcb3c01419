/*
 * Helpers for the TPM qtests: moving a TPM command through the CRB
 * window, standard TPM 2 commands, and starting/stopping swtpm.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_TPM_CRB_UTIL_H
#define TESTS_TPM_CRB_UTIL_H

#include "libqtest.h"

#include "qapi/qapi-types-sockets.h"

/*
 * Chunking is opt-in: the tests of chunking turn it on as a user does,
 * and let it migrate. A -device property given after these overrides
 * them.
 */
#define TPM_CRB_OPT_IN "-global tpm-crb.cap-chunk=on " \
    "-global tpm-crb.x-allow-chunk-migration=on "
#define TPM_CRB_OPT_IN_ARGV "-global", "tpm-crb.cap-chunk=on", \
    "-global", "tpm-crb.x-allow-chunk-migration=on"

typedef void (tx_func)(QTestState *s,
                       const unsigned char *req, size_t req_size,
                       unsigned char *rsp, size_t rsp_size);

/*
 * One-window CRB transfer at locality 0: write the command, set Start,
 * wait (bounded) for Start to clear, read rsp_size bytes of response.
 */
void tpm_crb_util_crb_transfer(QTestState *s,
                           const unsigned char *req, size_t req_size,
                           unsigned char *rsp, size_t rsp_size);

/* TPM2_Startup(SU_CLEAR); asserts success. */
void tpm_crb_util_startup(QTestState *s, tx_func *tx);
/* TPM2_PCR_Extend(PCR 10, SHA-256 "test\0..."); asserts success. */
void tpm_crb_util_pcrextend(QTestState *s, tx_func *tx);
/* TPM2_PCR_Read(SHA-256 PCR 10); compares all but pcrUpdateCounter. */
void tpm_crb_util_pcrread(QTestState *s, tx_func *tx,
                      const unsigned char *exp_resp, size_t exp_resp_size);

bool tpm_crb_util_swtpm_has_tpm2(void);

/*
 * swtpm socket --tpm2 --tpmstate dir=path --ctrl type=unixio,path=path/sock,
 * returning once the control socket accepts connections. The child is
 * not reaped automatically: tpm_crb_util_swtpm_kill() or
 * tpm_crb_util_swtpm_wait_exit() reap it.
 */
gboolean tpm_crb_util_swtpm_start(const char *path, GPid *pid,
                              SocketAddress **addr, GError **error);
/* SIGKILL swtpm if it still runs, and reap it. */
void tpm_crb_util_swtpm_kill(GPid pid);
/* Wait up to timeout_ms for swtpm to exit on its own; reaps it. */
bool tpm_crb_util_swtpm_wait_exit(GPid pid, int timeout_ms);

/* Remove swtpm's state directory and what swtpm left in it. */
void tpm_crb_util_rmdir(const char *path);

#endif /* TESTS_TPM_CRB_UTIL_H */
