/*
 * Helpers shared by the libFuzzer targets: reading numbers from the
 * input (zero once it runs out, so every input is a valid program) and
 * the entry points libFuzzer calls.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_FUZZ_FUZZ_COMMON_H
#define TESTS_FUZZ_FUZZ_COMMON_H

#include "qemu/bswap.h"

typedef struct FuzzInput {
    const uint8_t *data;
    size_t len;
} FuzzInput;

static inline uint64_t fuzz_bytes(FuzzInput *in, unsigned n)
{
    uint64_t v = 0;
    unsigned i;

    for (i = 0; i < n && in->len; i++) {
        v |= (uint64_t)in->data[0] << (8 * i);
        in->data++;
        in->len--;
    }
    return v;
}

static inline uint8_t fuzz_u8(FuzzInput *in)
{
    return fuzz_bytes(in, 1);
}

static inline uint16_t fuzz_u16(FuzzInput *in)
{
    return fuzz_bytes(in, 2);
}

static inline uint32_t fuzz_u32(FuzzInput *in)
{
    return fuzz_bytes(in, 4);
}

static inline uint64_t fuzz_u64(FuzzInput *in)
{
    return fuzz_bytes(in, 8);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* TESTS_FUZZ_FUZZ_COMMON_H */
