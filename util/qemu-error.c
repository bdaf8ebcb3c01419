/*
 * error_report() and friends: one line on stderr, prefixed with the
 * program name, as QEMU prints them.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"

static char *error_progname;
G_LOCK_DEFINE_STATIC(report_lock);

void error_init(const char *argv0)
{
    g_free(error_progname);
    error_progname = g_path_get_basename(argv0);
}

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);

    G_LOCK(report_lock);
    fprintf(stderr, "%s%s%s%s\n",
            error_progname ? error_progname : "",
            error_progname ? ": " : "", prefix, msg);
    fflush(stderr);
    G_UNLOCK(report_lock);
}

void error_vreport(const char *fmt, va_list ap)
{
    vreport("", fmt, ap);
}

void warn_vreport(const char *fmt, va_list ap)
{
    vreport("warning: ", fmt, ap);
}

void error_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
}

void warn_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("warning: ", fmt, ap);
    va_end(ap);
}

void info_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("info: ", fmt, ap);
    va_end(ap);
}
