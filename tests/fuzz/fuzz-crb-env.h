/*
 * The tpm-crb device in-process, for fuzz targets: a deterministic
 * TPMBackend subclass whose worker waits for the input's verdict, device
 * creation and teardown, MMIO helpers and the SPEC §4 invariants.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_FUZZ_FUZZ_CRB_ENV_H
#define TESTS_FUZZ_FUZZ_CRB_ENV_H

#include "hw/core/qdev.h"

typedef enum VerdictKind {
    VERDICT_ANSWER,         /* a well-formed response of R bytes */
    VERDICT_SHORT,          /* header declares R, fewer bytes produced */
    VERDICT_BAD_SIZE,       /* header declares any size at all */
    VERDICT_FAIL,           /* the backend reports an error */
    VERDICT__MAX,
} VerdictKind;

typedef struct Verdict {
    VerdictKind kind;
    uint32_t declared;
    uint32_t produced;
    uint32_t rc;
} Verdict;

/* Once per process: QOM types, the main loop, the backend "fuzz0". */
void fuzz_crb_env_init(void);

/*
 * A realized and reset tpm-crb on the fuzz backend. cfg bit 0: cap-chunk
 * off; bit 1: a cancel makes the backend answer TPM_RC_CANCELED. sizes:
 * low nibble picks B, high nibble W, from fixed tables.
 */
DeviceState *fuzz_crb_create(uint8_t cfg, uint8_t sizes);
/* Complete any stalled command, unrealize and free. */
void fuzz_crb_destroy(DeviceState *dev);

/* The backend's B. */
uint32_t fuzz_crb_backend_buffer_size(void);
/* Hand the stalled command (if any) its outcome. */
void fuzz_crb_verdict(const Verdict *v);
/* Wait for a given verdict's completion, then run ready bottom halves. */
void fuzz_crb_settle(void);
/* Assert the SPEC §4 invariants of dev's transfer state. */
void fuzz_crb_check(DeviceState *dev);

void fuzz_crb_mmio_write(uint64_t off, unsigned size, uint64_t val);
uint64_t fuzz_crb_mmio_read(uint64_t off, unsigned size);

#endif /* TESTS_FUZZ_FUZZ_CRB_ENV_H */
