/*
 * Lean host: stand-in for QEMU's hw/tpm/tpm_ppi.h. The lean host has no ACPI and no firmware, so it maps no PPI region: the 'ppi' property is accepted and does nothing here (the real PPI is QEMU's, tested there).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TPM_TPM_PPI_H
#define TPM_TPM_PPI_H

#include "system/memory.h"

typedef struct TPMPPI {
    MemoryRegion ram;
} TPMPPI;

void tpm_ppi_init(TPMPPI *tpmppi, MemoryRegion *m, hwaddr addr, Object *obj);
void tpm_ppi_reset(TPMPPI *tpmppi);

#endif /* TPM_TPM_PPI_H */
