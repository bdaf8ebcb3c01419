/*
 * Names of TPM 2.0 command codes (TPM 2.0 Part 2, TPM_CC) and response
 * codes (TPM_RC), for the bridge's statistics.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tpm2-cc-names.h"

static const struct {
    uint32_t cc;
    const char *name;
} tpm2_cc_table[] = {
    { 0x11f, "NV_UndefineSpaceSpecial" },
    { 0x120, "EvictControl" },
    { 0x121, "HierarchyControl" },
    { 0x122, "NV_UndefineSpace" },
    { 0x124, "ChangeEPS" },
    { 0x125, "ChangePPS" },
    { 0x126, "Clear" },
    { 0x127, "ClearControl" },
    { 0x128, "ClockSet" },
    { 0x129, "HierarchyChangeAuth" },
    { 0x12a, "NV_DefineSpace" },
    { 0x12b, "PCR_Allocate" },
    { 0x12c, "PCR_SetAuthPolicy" },
    { 0x12d, "PP_Commands" },
    { 0x12e, "SetPrimaryPolicy" },
    { 0x12f, "FieldUpgradeStart" },
    { 0x130, "ClockRateAdjust" },
    { 0x131, "CreatePrimary" },
    { 0x132, "NV_GlobalWriteLock" },
    { 0x133, "GetCommandAuditDigest" },
    { 0x134, "NV_Increment" },
    { 0x135, "NV_SetBits" },
    { 0x136, "NV_Extend" },
    { 0x137, "NV_Write" },
    { 0x138, "NV_WriteLock" },
    { 0x139, "DictionaryAttackLockReset" },
    { 0x13a, "DictionaryAttackParameters" },
    { 0x13b, "NV_ChangeAuth" },
    { 0x13c, "PCR_Event" },
    { 0x13d, "PCR_Reset" },
    { 0x13e, "SequenceComplete" },
    { 0x13f, "SetAlgorithmSet" },
    { 0x140, "SetCommandCodeAuditStatus" },
    { 0x141, "FieldUpgradeData" },
    { 0x142, "IncrementalSelfTest" },
    { 0x143, "SelfTest" },
    { 0x144, "Startup" },
    { 0x145, "Shutdown" },
    { 0x146, "StirRandom" },
    { 0x147, "ActivateCredential" },
    { 0x148, "Certify" },
    { 0x149, "PolicyNV" },
    { 0x14a, "CertifyCreation" },
    { 0x14b, "Duplicate" },
    { 0x14c, "GetTime" },
    { 0x14d, "GetSessionAuditDigest" },
    { 0x14e, "NV_Read" },
    { 0x14f, "NV_ReadLock" },
    { 0x150, "ObjectChangeAuth" },
    { 0x151, "PolicySecret" },
    { 0x152, "Rewrap" },
    { 0x153, "Create" },
    { 0x154, "ECDH_ZGen" },
    { 0x155, "HMAC" },
    { 0x156, "Import" },
    { 0x157, "Load" },
    { 0x158, "Quote" },
    { 0x159, "RSA_Decrypt" },
    { 0x15b, "HMAC_Start" },
    { 0x15c, "SequenceUpdate" },
    { 0x15d, "Sign" },
    { 0x15e, "Unseal" },
    { 0x160, "PolicySigned" },
    { 0x161, "ContextLoad" },
    { 0x162, "ContextSave" },
    { 0x163, "ECDH_KeyGen" },
    { 0x164, "EncryptDecrypt" },
    { 0x165, "FlushContext" },
    { 0x167, "LoadExternal" },
    { 0x168, "MakeCredential" },
    { 0x169, "NV_ReadPublic" },
    { 0x16a, "PolicyAuthorize" },
    { 0x16b, "PolicyAuthValue" },
    { 0x16c, "PolicyCommandCode" },
    { 0x16d, "PolicyCounterTimer" },
    { 0x16e, "PolicyCpHash" },
    { 0x16f, "PolicyLocality" },
    { 0x170, "PolicyNameHash" },
    { 0x171, "PolicyOR" },
    { 0x172, "PolicyTicket" },
    { 0x173, "ReadPublic" },
    { 0x174, "RSA_Encrypt" },
    { 0x176, "StartAuthSession" },
    { 0x177, "VerifySignature" },
    { 0x178, "ECC_Parameters" },
    { 0x179, "FirmwareRead" },
    { 0x17a, "GetCapability" },
    { 0x17b, "GetRandom" },
    { 0x17c, "GetTestResult" },
    { 0x17d, "Hash" },
    { 0x17e, "PCR_Read" },
    { 0x17f, "PolicyPCR" },
    { 0x180, "PolicyRestart" },
    { 0x181, "ReadClock" },
    { 0x182, "PCR_Extend" },
    { 0x183, "PCR_SetAuthValue" },
    { 0x184, "NV_Certify" },
    { 0x185, "EventSequenceComplete" },
    { 0x186, "HashSequenceStart" },
    { 0x187, "PolicyPhysicalPresence" },
    { 0x188, "PolicyDuplicationSelect" },
    { 0x189, "PolicyGetDigest" },
    { 0x18a, "TestParms" },
    { 0x18b, "Commit" },
    { 0x18c, "PolicyPassword" },
    { 0x18d, "ZGen_2Phase" },
    { 0x18e, "EC_Ephemeral" },
    { 0x18f, "PolicyNvWritten" },
    { 0x190, "PolicyTemplate" },
    { 0x191, "CreateLoaded" },
    { 0x192, "PolicyAuthorizeNV" },
    { 0x193, "EncryptDecrypt2" },
    { 0x194, "AC_GetCapability" },
    { 0x195, "AC_Send" },
    { 0x196, "Policy_AC_SendSelect" },
    { 0x197, "CertifyX509" },
    { 0x198, "ACT_SetTimeout" },
};

const char *tpm2_cc_name(uint32_t cc)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(tpm2_cc_table); i++) {
        if (tpm2_cc_table[i].cc == cc) {
            return tpm2_cc_table[i].name;
        }
    }
    return NULL;
}

typedef struct Tpm2RcName {
    uint32_t num;
    const char *name;
} Tpm2RcName;

/* Format zero, version 1 errors (TPM_RC_VER1 + n). */
static const Tpm2RcName tpm2_rc_ver1[] = {
    { 0x00, "INITIALIZE" }, { 0x01, "FAILURE" }, { 0x03, "SEQUENCE" },
    { 0x0b, "PRIVATE" }, { 0x19, "HMAC" }, { 0x20, "DISABLED" },
    { 0x21, "EXCLUSIVE" }, { 0x24, "AUTH_TYPE" }, { 0x25, "AUTH_MISSING" },
    { 0x26, "POLICY" }, { 0x27, "PCR" }, { 0x28, "PCR_CHANGED" },
    { 0x2d, "UPGRADE" }, { 0x2e, "TOO_MANY_CONTEXTS" },
    { 0x2f, "AUTH_UNAVAILABLE" }, { 0x30, "REBOOT" }, { 0x31, "UNBALANCED" },
    { 0x42, "COMMAND_SIZE" }, { 0x43, "COMMAND_CODE" }, { 0x44, "AUTHSIZE" },
    { 0x45, "AUTH_CONTEXT" }, { 0x46, "NV_RANGE" }, { 0x47, "NV_SIZE" },
    { 0x48, "NV_LOCKED" }, { 0x49, "NV_AUTHORIZATION" },
    { 0x4a, "NV_UNINITIALIZED" }, { 0x4b, "NV_SPACE" }, { 0x4c, "NV_DEFINED" },
    { 0x50, "BAD_CONTEXT" }, { 0x51, "CPHASH" }, { 0x52, "PARENT" },
    { 0x53, "NEEDS_TEST" }, { 0x54, "NO_RESULT" }, { 0x55, "SENSITIVE" },
};

/* Format one errors (TPM_RC_FMT1 + n), which name what they refer to. */
static const Tpm2RcName tpm2_rc_fmt1[] = {
    { 0x01, "ASYMMETRIC" }, { 0x02, "ATTRIBUTES" }, { 0x03, "HASH" },
    { 0x04, "VALUE" }, { 0x05, "HIERARCHY" }, { 0x07, "KEY_SIZE" },
    { 0x08, "MGF" }, { 0x09, "MODE" }, { 0x0a, "TYPE" }, { 0x0b, "HANDLE" },
    { 0x0c, "KDF" }, { 0x0d, "RANGE" }, { 0x0e, "AUTH_FAIL" },
    { 0x0f, "NONCE" }, { 0x10, "PP" }, { 0x12, "SCHEME" }, { 0x15, "SIZE" },
    { 0x16, "SYMMETRIC" }, { 0x17, "TAG" }, { 0x18, "SELECTOR" },
    { 0x1a, "INSUFFICIENT" }, { 0x1b, "SIGNATURE" }, { 0x1c, "KEY" },
    { 0x1d, "POLICY_FAIL" }, { 0x1f, "INTEGRITY" }, { 0x20, "TICKET" },
    { 0x21, "RESERVED_BITS" }, { 0x22, "BAD_AUTH" }, { 0x23, "EXPIRED" },
    { 0x24, "POLICY_CC" }, { 0x25, "BINDING" }, { 0x26, "CURVE" },
    { 0x27, "ECC_POINT" },
};

/* Warnings (TPM_RC_WARN + n): the command may succeed when sent again. */
static const Tpm2RcName tpm2_rc_warn[] = {
    { 0x01, "CONTEXT_GAP" }, { 0x02, "OBJECT_MEMORY" },
    { 0x03, "SESSION_MEMORY" }, { 0x04, "MEMORY" },
    { 0x05, "SESSION_HANDLES" }, { 0x06, "OBJECT_HANDLES" },
    { 0x07, "LOCALITY" }, { 0x08, "YIELDED" }, { 0x09, "CANCELED" },
    { 0x0a, "TESTING" }, { 0x20, "NV_RATE" }, { 0x21, "LOCKOUT" },
    { 0x22, "RETRY" }, { 0x23, "NV_UNAVAILABLE" },
};

static const char *tpm2_rc_lookup(const Tpm2RcName *t, size_t n,
                                  uint32_t num)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (t[i].num == num) {
            return t[i].name;
        }
    }
    return NULL;
}

/* TPM 2.0 Part 2, "TPM_RC": the bit layout of a response code. */
char *tpm2_rc_describe(uint32_t rc)
{
    const char *name = NULL;

    if (rc & 0x80) {
        unsigned n = (rc >> 8) & 0xf;

        name = tpm2_rc_lookup(tpm2_rc_fmt1, ARRAY_SIZE(tpm2_rc_fmt1),
                              rc & 0x3f);
        if (name && (rc & 0x40)) {
            return g_strdup_printf("%s(p%u)", name, n);
        }
        if (name && n) {
            return g_strdup_printf("%s(%c%u)", name, n & 8 ? 's' : 'h',
                                   n & 7);
        }
    } else if ((rc & 0xf00) == 0x900) {
        name = tpm2_rc_lookup(tpm2_rc_warn, ARRAY_SIZE(tpm2_rc_warn),
                              rc & 0x7f);
    } else if ((rc & 0xf00) == 0x100) {
        name = tpm2_rc_lookup(tpm2_rc_ver1, ARRAY_SIZE(tpm2_rc_ver1),
                              rc & 0x7f);
    }
    return name ? g_strdup(name) : g_strdup_printf("0x%03" PRIx32, rc);
}
