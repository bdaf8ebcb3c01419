/*
 * TPM platform definitions: where the CRB interface lives in guest
 * physical memory and its register map (TCG PC Client Platform TPM
 * Profile v1.07, CRB interface), as REG32/FIELD data.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ACPI_TPM_H
#define HW_ACPI_TPM_H

#include "hw/registerfields.h"

/* Locality 0 of the CRB interface; each locality is a 4 KiB page. */
#define TPM_CRB_ADDR_BASE           0xFED40000
#define TPM_CRB_ADDR_SIZE           0x1000
#define TPM_CRB_NUM_LOCALITIES      5
#define TPM_CRB_LOCALITY_SHIFT      12

/* Locality registers */
REG32(CRB_LOC_STATE, 0x00)
    FIELD(CRB_LOC_STATE, tpmEstablished, 0, 1)
    FIELD(CRB_LOC_STATE, locAssigned, 1, 1)
    FIELD(CRB_LOC_STATE, activeLocality, 2, 3)
    FIELD(CRB_LOC_STATE, reserved, 5, 2)
    FIELD(CRB_LOC_STATE, tpmRegValidSts, 7, 1)
REG32(CRB_LOC_CTRL, 0x08)
    FIELD(CRB_LOC_CTRL, requestAccess, 0, 1)
    FIELD(CRB_LOC_CTRL, relinquish, 1, 1)
    FIELD(CRB_LOC_CTRL, seize, 2, 1)
    FIELD(CRB_LOC_CTRL, resetEstablishmentBit, 3, 1)
REG32(CRB_LOC_STS, 0x0C)
    FIELD(CRB_LOC_STS, Granted, 0, 1)
    FIELD(CRB_LOC_STS, beenSeized, 1, 1)

/* Interface identifier: what the guest driver may rely on */
REG32(CRB_INTF_ID, 0x30)
    FIELD(CRB_INTF_ID, InterfaceType, 0, 4)
    FIELD(CRB_INTF_ID, InterfaceVersion, 4, 4)
    FIELD(CRB_INTF_ID, CapLocality, 8, 1)
    FIELD(CRB_INTF_ID, CapCRBIdleBypass, 9, 1)
    FIELD(CRB_INTF_ID, CapCRBChunk, 10, 1)
    FIELD(CRB_INTF_ID, CapDataXferSizeSupport, 11, 2)
    FIELD(CRB_INTF_ID, CapFIFO, 13, 1)
    FIELD(CRB_INTF_ID, CapCRB, 14, 1)
    FIELD(CRB_INTF_ID, CapIFRes, 15, 2)
    FIELD(CRB_INTF_ID, InterfaceSelector, 17, 2)
    FIELD(CRB_INTF_ID, IntfSelLock, 19, 1)
    FIELD(CRB_INTF_ID, Reserved2, 20, 4)
    FIELD(CRB_INTF_ID, RID, 24, 8)
REG32(CRB_INTF_ID2, 0x34)
    FIELD(CRB_INTF_ID2, VID, 0, 16)
    FIELD(CRB_INTF_ID2, DID, 16, 16)
REG32(CRB_CTRL_EXT, 0x38)

/* Control area */
REG32(CRB_CTRL_REQ, 0x40)
    FIELD(CRB_CTRL_REQ, cmdReady, 0, 1)
    FIELD(CRB_CTRL_REQ, goIdle, 1, 1)
REG32(CRB_CTRL_STS, 0x44)
    FIELD(CRB_CTRL_STS, tpmSts, 0, 1)
    FIELD(CRB_CTRL_STS, tpmIdle, 1, 1)
REG32(CRB_CTRL_CANCEL, 0x48)
    FIELD(CRB_CTRL_CANCEL, cancel, 0, 1)
REG32(CRB_CTRL_START, 0x4C)
    FIELD(CRB_CTRL_START, Start, 0, 1)
    FIELD(CRB_CTRL_START, crbRspRetry, 1, 1)
    FIELD(CRB_CTRL_START, nextChunk, 2, 1)
REG32(CRB_INT_ENABLED, 0x50)
REG32(CRB_INT_STS, 0x54)
REG32(CRB_CTRL_CMD_SIZE, 0x58)
REG32(CRB_CTRL_CMD_LADDR, 0x5C)
REG32(CRB_CTRL_CMD_HADDR, 0x60)
REG32(CRB_CTRL_RSP_SIZE, 0x64)
REG32(CRB_CTRL_RSP_ADDR, 0x68)
REG32(CRB_DATA_BUFFER, 0x80)

#define TPM_CRB_ADDR_CTRL           (TPM_CRB_ADDR_BASE + A_CRB_CTRL_REQ)
/* Number of 32-bit registers in front of the data buffer. */
#define TPM_CRB_R_MAX               R_CRB_DATA_BUFFER
/* The largest data window that fits the 4 KiB locality page: W. */
#define TPM_CRB_DATA_BUFFER_SIZE    (TPM_CRB_ADDR_SIZE - A_CRB_DATA_BUFFER)

/* Physical Presence Interface, as QEMU maps it */
#define TPM_PPI_ADDR_SIZE           0x400
#define TPM_PPI_ADDR_BASE           0xFED45000

/* ACPI TPM2 table values for a CRB TPM */
#define TPM2_ACPI_CLASS_CLIENT      0
#define TPM2_ACPI_CLASS_SERVER      1
#define TPM2_START_METHOD_MMIO      6
#define TPM2_START_METHOD_CRB       7

#endif /* HW_ACPI_TPM_H */
