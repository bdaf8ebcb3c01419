/*
 * Compiler attributes used across the host.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_COMPILER_H
#define QEMU_COMPILER_H

#define QEMU_NORETURN __attribute__((noreturn))
#define QEMU_UNUSED __attribute__((unused))
#define QEMU_PACKED __attribute__((packed))
#define QEMU_WARN_UNUSED_RESULT __attribute__((warn_unused_result))
#define G_GNUC_PRINTF_CHECK(a, b) __attribute__((format(printf, a, b)))

#define QEMU_BUILD_BUG_ON(x) _Static_assert(!(x), "not expecting: " #x)

/*
 * Compile-time type checks worth 0, for field offsets in property and
 * VMState tables: a field of another type than the macro expects does
 * not compile (a negative array size). QEMU subtracts null pointers
 * instead, which clang's -Wnull-pointer-subtraction reports.
 */
#define typeof_field(type, field) typeof(((type *)0)->field)
#define QEMU_TYPE_ASSERT(ok) (0 * sizeof(char[(ok) ? 1 : -1]))
#define type_check(t1, t2) \
    QEMU_TYPE_ASSERT(__builtin_types_compatible_p(t1, t2))
#define type_check_array(t1, t2, n) \
    QEMU_TYPE_ASSERT(__builtin_types_compatible_p(t1[n], t2))
#define type_check_pointer(t1, t2) \
    QEMU_TYPE_ASSERT(__builtin_types_compatible_p(t1 *, t2))

#define QEMU_BUILD_BUG_MSG(x, msg) _Static_assert(!(x), msg)

#define stringify(s) tostring(s)
#define tostring(s) #s

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#endif /* QEMU_COMPILER_H */
