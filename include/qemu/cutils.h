/*
 * String-to-number conversions with QEMU's names and strictness.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_CUTILS_H
#define QEMU_CUTILS_H

/*
 * Parse an unsigned number (base 0: 0x hex, 0 octal, else decimal). With
 * endptr NULL the whole string must be consumed. A sign, overflow or no
 * digits is an error: returns -EINVAL or -ERANGE, 0 on success.
 */
int qemu_strtou64(const char *nptr, const char **endptr, int base,
                  uint64_t *result);
int qemu_strtoi64(const char *nptr, const char **endptr, int base,
                  int64_t *result);

/* Whether len bytes at buf are all zero. */
bool buffer_is_zero(const void *buf, size_t len);

#endif /* QEMU_CUTILS_H */
