/*
 * Byte order conversions and unaligned big-endian loads and stores, with
 * the subset of QEMU's names in use.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_BSWAP_H
#define QEMU_BSWAP_H

#define cpu_to_be16(v) GUINT16_TO_BE(v)
#define cpu_to_be32(v) GUINT32_TO_BE(v)
#define cpu_to_be64(v) GUINT64_TO_BE(v)
#define be16_to_cpu(v) GUINT16_FROM_BE(v)
#define be32_to_cpu(v) GUINT32_FROM_BE(v)
#define be64_to_cpu(v) GUINT64_FROM_BE(v)

static inline uint32_t ldl_be_p(const void *ptr)
{
    const uint8_t *p = ptr;

    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static inline int lduw_be_p(const void *ptr)
{
    const uint8_t *p = ptr;

    return (p[0] << 8) | p[1];
}

static inline void stl_be_p(void *ptr, uint32_t v)
{
    uint8_t *p = ptr;

    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static inline void stw_be_p(void *ptr, uint16_t v)
{
    uint8_t *p = ptr;

    p[0] = v >> 8;
    p[1] = v;
}

#endif /* QEMU_BSWAP_H */
