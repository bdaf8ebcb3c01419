/*
 * Helpers for TPM command and response headers.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef SYSTEM_TPM_UTIL_H
#define SYSTEM_TPM_UTIL_H

#include "system/tpm.h"

/* Bytes 2..5 of a TPM command or response: its size, big-endian. */
static inline uint32_t tpm_cmd_get_size(const void *b)
{
    const uint8_t *p = b;

    return ((uint32_t)p[2] << 24) | ((uint32_t)p[3] << 16) |
           ((uint32_t)p[4] << 8) | p[5];
}

static inline uint16_t tpm_cmd_get_tag(const void *b)
{
    const uint8_t *p = b;

    return ((uint16_t)p[0] << 8) | p[1];
}

static inline uint32_t tpm_cmd_get_ordinal(const void *b)
{
    const uint8_t *p = b;

    return ((uint32_t)p[6] << 24) | ((uint32_t)p[7] << 16) |
           ((uint32_t)p[8] << 8) | p[9];
}

static inline uint32_t tpm_cmd_get_errcode(const void *b)
{
    return tpm_cmd_get_ordinal(b);
}

static inline void tpm_cmd_set_tag(void *b, uint16_t tag)
{
    uint8_t *p = b;

    p[0] = tag >> 8;
    p[1] = tag;
}

static inline void tpm_cmd_set_size(void *b, uint32_t size)
{
    uint8_t *p = b;

    p[2] = size >> 24;
    p[3] = size >> 16;
    p[4] = size >> 8;
    p[5] = size;
}

static inline void tpm_cmd_set_error(void *b, uint32_t error)
{
    uint8_t *p = b;

    p[6] = error >> 24;
    p[7] = error >> 16;
    p[8] = error >> 8;
    p[9] = error;
}

/* Write a 10-byte TPM error response with the given code. */
void tpm_util_write_fatal_error_response(uint8_t *out, uint32_t out_len);
void tpm_util_write_error_response(uint8_t *out, uint32_t out_len,
                                   uint16_t tag, uint32_t errcode);
/* Whether a command is TPM2_SelfTest / TPM_ContinueSelfTest. */
bool tpm_util_is_selftest(const uint8_t *in, uint32_t in_len);
/* Probe the TPM version over a connected data fd. */
int tpm_util_test_tpmdev(int tpm_fd, TPMVersion *tpm_version);
void tpm_util_show_buffer(const unsigned char *buffer, size_t buffer_size,
                          const char *string);

#define TPM_HEADER_SIZE 10

#endif /* SYSTEM_TPM_UTIL_H */
