/*
 * Register and field definitions as data: REG32/FIELD and their
 * extract/deposit accessors, with the names QEMU's devices use.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_CORE_REGISTERFIELDS_H
#define HW_CORE_REGISTERFIELDS_H

#include "qemu/bitops.h"

/*
 * REG32(NAME, addr) defines A_NAME (byte offset) and R_NAME (index into a
 * uint32_t register array).
 */
#define REG8(reg, addr) \
    enum { A_ ## reg = (addr) }; \
    enum { R_ ## reg = (addr) };

#define REG16(reg, addr) \
    enum { A_ ## reg = (addr) }; \
    enum { R_ ## reg = (addr) / 2 };

#define REG32(reg, addr) \
    enum { A_ ## reg = (addr) }; \
    enum { R_ ## reg = (addr) / 4 };

#define REG64(reg, addr) \
    enum { A_ ## reg = (addr) }; \
    enum { R_ ## reg = (addr) / 8 };

/* FIELD(REG, NAME, shift, length): R_REG_NAME_SHIFT/_LENGTH/_MASK. */
#define FIELD(reg, field, shift, length) \
    enum { R_ ## reg ## _ ## field ## _SHIFT = (shift) }; \
    enum { R_ ## reg ## _ ## field ## _LENGTH = (length) }; \
    enum { R_ ## reg ## _ ## field ## _MASK = \
           MAKE_64BIT_MASK(shift, length) };

#define FIELD_EX8(storage, reg, field) \
    extract32((storage), R_ ## reg ## _ ## field ## _SHIFT, \
              R_ ## reg ## _ ## field ## _LENGTH)
#define FIELD_EX16(storage, reg, field) \
    extract32((storage), R_ ## reg ## _ ## field ## _SHIFT, \
              R_ ## reg ## _ ## field ## _LENGTH)
#define FIELD_EX32(storage, reg, field) \
    extract32((storage), R_ ## reg ## _ ## field ## _SHIFT, \
              R_ ## reg ## _ ## field ## _LENGTH)
#define FIELD_EX64(storage, reg, field) \
    extract64((storage), R_ ## reg ## _ ## field ## _SHIFT, \
              R_ ## reg ## _ ## field ## _LENGTH)

#define ARRAY_FIELD_EX32(regs, reg, field) \
    FIELD_EX32((regs)[R_ ## reg], reg, field)
#define ARRAY_FIELD_EX64(regs, reg, field) \
    FIELD_EX64((regs)[R_ ## reg], reg, field)

#define FIELD_DP32(storage, reg, field, val) \
    deposit32((storage), R_ ## reg ## _ ## field ## _SHIFT, \
              R_ ## reg ## _ ## field ## _LENGTH, (val))
#define FIELD_DP64(storage, reg, field, val) \
    deposit64((storage), R_ ## reg ## _ ## field ## _SHIFT, \
              R_ ## reg ## _ ## field ## _LENGTH, (val))

#define ARRAY_FIELD_DP32(regs, reg, field, val) \
    ((regs)[R_ ## reg] = FIELD_DP32((regs)[R_ ## reg], reg, field, val))
#define ARRAY_FIELD_DP64(regs, reg, field, val) \
    ((regs)[R_ ## reg] = FIELD_DP64((regs)[R_ ## reg], reg, field, val))

#endif /* HW_CORE_REGISTERFIELDS_H */
