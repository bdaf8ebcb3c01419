/*
 * Strict string-to-number conversions.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"

static int check_end(const char *nptr, const char *end, const char **endptr)
{
    if (end == nptr) {
        return -EINVAL;
    }
    if (endptr) {
        *endptr = end;
    } else if (*end) {
        return -EINVAL;
    }
    return 0;
}

int qemu_strtou64(const char *nptr, const char **endptr, int base,
                  uint64_t *result)
{
    const char *p = nptr;
    char *end;
    uint64_t v;
    int ret;

    if (!nptr) {
        return -EINVAL;
    }
    while (g_ascii_isspace(*p)) {
        p++;
    }
    /* strtoull would accept "-1" as UINT64_MAX. */
    if (*p == '-' || *p == '+') {
        return -EINVAL;
    }
    errno = 0;
    v = g_ascii_strtoull(p, &end, base);
    ret = check_end(p, end, endptr);
    if (ret) {
        return ret;
    }
    if (errno == ERANGE) {
        return -ERANGE;
    }
    *result = v;
    return 0;
}

int qemu_strtoi64(const char *nptr, const char **endptr, int base,
                  int64_t *result)
{
    char *end;
    int64_t v;
    int ret;

    if (!nptr) {
        return -EINVAL;
    }
    errno = 0;
    v = g_ascii_strtoll(nptr, &end, base);
    ret = check_end(nptr, end, endptr);
    if (ret) {
        return ret;
    }
    if (errno == ERANGE) {
        return -ERANGE;
    }
    *result = v;
    return 0;
}

bool buffer_is_zero(const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len--) {
        if (*p++) {
            return false;
        }
    }
    return true;
}
