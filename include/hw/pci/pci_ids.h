/*
 * Lean host: the PCI vendor ID the TPM devices report.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_PCI_IDS_H
#define HW_PCI_IDS_H

#define PCI_VENDOR_ID_IBM 0x1014

#endif /* HW_PCI_IDS_H */
