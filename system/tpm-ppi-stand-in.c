/*
 * Lean host: stand-in for QEMU's PPI region (hw/tpm/tpm_ppi.c). The lean
 * host has no ACPI and no firmware to use it, so the region reads as
 * zero and ignores writes; it exists so that the device maps and unmaps
 * it exactly as it does in QEMU.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/acpi/tpm.h"
#include "tpm_ppi.h"

static uint64_t tpm_ppi_read(void *opaque, hwaddr addr, unsigned size)
{
    return 0;
}

static void tpm_ppi_write(void *opaque, hwaddr addr, uint64_t val,
                          unsigned size)
{
}

static const MemoryRegionOps tpm_ppi_ops = {
    .read = tpm_ppi_read,
    .write = tpm_ppi_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

void tpm_ppi_init(TPMPPI *tpmppi, MemoryRegion *m, hwaddr addr, Object *obj)
{
    memory_region_init_io(&tpmppi->ram, obj, &tpm_ppi_ops, tpmppi,
                          "tpm-ppi", TPM_PPI_ADDR_SIZE);
    memory_region_add_subregion(m, addr, &tpmppi->ram);
}

void tpm_ppi_reset(TPMPPI *tpmppi)
{
}
