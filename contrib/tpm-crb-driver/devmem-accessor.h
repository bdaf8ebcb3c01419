/*
 * MMIO accessor for the reference TPM CRB driver inside a guest: the CRB
 * page mapped through /dev/mem.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TPM_CRB_DEVMEM_ACCESSOR_H
#define TPM_CRB_DEVMEM_ACCESSOR_H

#include "tpm-crb-driver.h"

typedef struct DevmemAccessor DevmemAccessor;

/*
 * Map the 4 KiB page at @base (the registers and the data window of
 * locality 0) from @path, normally /dev/mem, uncached (O_SYNC). A kernel
 * with CONFIG_IO_STRICT_DEVMEM allows it only while no driver has claimed
 * the region (tpm_crb unbound or never loaded); the error then says so.
 */
DevmemAccessor *devmem_accessor_open(const char *path, uint64_t base,
                                     Error **errp);
void devmem_accessor_free(DevmemAccessor *da);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DevmemAccessor, devmem_accessor_free)

/* The accessor callbacks; their opaque is the DevmemAccessor. */
extern const TpmCrbAccessorOps devmem_accessor_ops;

#endif /* TPM_CRB_DEVMEM_ACCESSOR_H */
