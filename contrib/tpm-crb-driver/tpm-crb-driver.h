/*
 * Reference guest-side driver for the TPM CRB interface with PTP v1.07
 * chunked transfers: the public API.
 *
 * The driver sees the device only through an accessor (32-bit register
 * reads and writes plus buffer copies at guest-physical addresses), so
 * the same code runs over qtest, /dev/mem or a fault-injecting test
 * double.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TPM_CRB_DRIVER_H
#define TPM_CRB_DRIVER_H

#include "qapi/error.h"

/* Locality 0 of the CRB register space (PTP v1.07 §6.5.3.1). */
#define TPM_CRB_LOC0_BASE 0xFED40000ULL

/* The TPM 2.0 command/response header: tag(2) size(4) code(4). */
#define TPM_CRB_HDR_SIZE 10

/* Largest response the bridge accepts: far above any TPM's buffer. */
#define TPM_CRB_MAX_RESPONSE (64 * 1024)

typedef struct TpmCrbAccessorOps {
    bool (*read32)(void *opaque, uint64_t addr, uint32_t *val, Error **errp);
    bool (*write32)(void *opaque, uint64_t addr, uint32_t val, Error **errp);
    bool (*read_buf)(void *opaque, uint64_t addr, void *buf, size_t len,
                     Error **errp);
    bool (*write_buf)(void *opaque, uint64_t addr, const void *buf,
                      size_t len, Error **errp);
} TpmCrbAccessorOps;

/*
 * How long the driver waits for each kind of state change before it gives
 * up with an error. The defaults follow the PTP timeouts (TIMEOUT_A for
 * locality, TIMEOUT_C for cmdReady/goIdle and chunk handshakes) with a
 * margin for a software TPM on a loaded host, and Linux's longest command
 * duration for Start.
 */
typedef struct TpmCrbTimeouts {
    unsigned locality_ms;
    unsigned state_ms;
    unsigned command_ms;
} TpmCrbTimeouts;

/* What one command moved across the interface. */
typedef struct TpmCrbXferStats {
    uint32_t cc;            /* command code from the command header */
    uint32_t rc;            /* response code, valid when a response came */
    size_t bytes_in;        /* command bytes written to the TPM */
    size_t bytes_out;       /* response bytes read back */
    unsigned chunks_in;     /* window loads for the command */
    unsigned chunks_out;    /* window reads for the response */
    unsigned retries;       /* crbRspRetry requests */
    int64_t time_us;        /* cmdReady to goIdle */
    bool tpm_sts;           /* CTRL_STS.tpmSts after the command */
} TpmCrbXferStats;

typedef struct TpmCrbDriver TpmCrbDriver;

TpmCrbDriver *tpm_crb_driver_new(const TpmCrbAccessorOps *ops, void *opaque,
                                 uint64_t base);
void tpm_crb_driver_free(TpmCrbDriver *drv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TpmCrbDriver, tpm_crb_driver_free)

void tpm_crb_driver_default_timeouts(TpmCrbTimeouts *t);
void tpm_crb_driver_set_timeouts(TpmCrbDriver *drv, const TpmCrbTimeouts *t);

/*
 * Read the interface identifier and the buffer registers, check that this
 * is an active CRB interface and learn the window sizes and CapCRBChunk.
 */
bool tpm_crb_driver_probe(TpmCrbDriver *drv, Error **errp);

uint32_t tpm_crb_driver_intf_id(const TpmCrbDriver *drv);
uint32_t tpm_crb_driver_cmd_window(const TpmCrbDriver *drv);
uint32_t tpm_crb_driver_rsp_window(const TpmCrbDriver *drv);
bool tpm_crb_driver_has_chunking(const TpmCrbDriver *drv);

/*
 * Ask for locality 0 and wait until it is granted; give it back. A driver
 * holds the locality for a session of commands.
 */
bool tpm_crb_driver_request_locality(TpmCrbDriver *drv, Error **errp);
bool tpm_crb_driver_relinquish_locality(TpmCrbDriver *drv, Error **errp);

/*
 * Run one TPM command: cmdReady, send (in chunks if it is larger than the
 * command window), Start, wait, receive (in chunks if the response is
 * larger than the response window), goIdle. On success *rsp_len is the
 * response size from its header. @stats, if not NULL, is filled in even
 * when the command fails.
 */
bool tpm_crb_driver_transmit(TpmCrbDriver *drv,
                             const uint8_t *cmd, size_t cmd_len,
                             uint8_t *rsp, size_t rsp_max, size_t *rsp_len,
                             TpmCrbXferStats *stats, Error **errp);

#endif /* TPM_CRB_DRIVER_H */
