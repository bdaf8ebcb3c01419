/*
 * Helpers for the tpm-crb qtests: register access by name and a guest
 * driver's view of a CRB transfer, chunked as PTP v1.07 describes it
 * (nextChunk while sending and receiving, Start for the last piece).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_TPM_CRB_CHUNK_UTIL_H
#define TESTS_TPM_CRB_CHUNK_UTIL_H

#include "libqtest.h"
#include "hw/acpi/tpm.h"

/* Guest physical address of a CRB register, by its A_ offset. */
#define CRB_ADDR(off) ((uint64_t)TPM_CRB_ADDR_BASE + (off))
#define CRB_DATA_ADDR CRB_ADDR(A_CRB_DATA_BUFFER)

/* Bits of CTRL_START, as the driver writes them. */
#define CRB_START       R_CRB_CTRL_START_invoke_MASK
#define CRB_RSP_RETRY   R_CRB_CTRL_START_crbRspRetry_MASK
#define CRB_NEXT_CHUNK  R_CRB_CTRL_START_nextChunk_MASK

/* What the transfer helpers saw. */
typedef struct CRBXfer {
    unsigned upload_chunks;     /* pieces written, the Start one included */
    unsigned download_chunks;   /* pieces read, the first one included */
} CRBXfer;

uint32_t crb_readl(QTestState *s, uint32_t off);
void crb_writel(QTestState *s, uint32_t off, uint32_t val);

/* W, from CTRL_CMD_SIZE. */
uint32_t crb_window_size(QTestState *s);
/* CapCRBChunk (INTF_ID bit 10). */
bool crb_cap_chunk(QTestState *s);

void crb_request_locality(QTestState *s);
void crb_relinquish_locality(QTestState *s);
/* cmdReady; the device clears tpmIdle. */
void crb_cmd_ready(QTestState *s);
void crb_go_idle(QTestState *s);

/* Wait (bounded) for Start to read 0; false on timeout. */
bool crb_wait_start_clear(QTestState *s);

/*
 * Send a command: every piece but the last with nextChunk, the last with
 * Start. Does not wait for completion.
 */
void crb_send(QTestState *s, const void *req, size_t len, CRBXfer *x);
/*
 * Read a whole response: the first piece from the window, then nextChunk
 * until the declared size R has been read. Returns exactly R bytes (or
 * the header alone if R < 10).
 */
GByteArray *crb_receive(QTestState *s, CRBXfer *x);
/*
 * The driver's whole sequence: locality, cmdReady, send, wait for Start
 * to clear (asserted), receive. tpmSts is not checked: see crb_tpm_sts().
 */
GByteArray *crb_transfer(QTestState *s, const void *req, size_t len,
                         CRBXfer *x);
bool crb_tpm_sts(QTestState *s);

/* The 32-bit big-endian field at off in a TPM header. */
uint32_t crb_be32(const uint8_t *p);
/* A command of len bytes: tag 0x8001, size len, code cc, pattern body. */
GByteArray *crb_make_command(uint32_t len, uint32_t cc, uint8_t seed);

#endif /* TESTS_TPM_CRB_CHUNK_UTIL_H */
