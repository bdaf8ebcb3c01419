/*
 * Trace event registry and -trace option handling.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "trace/control.h"

static GPtrArray *trace_events;
/* Where trace lines go: stderr, or the file given by -trace file=. */
static FILE *trace_log;

void trace_event_register_group(TraceEvent **events)
{
    if (!trace_events) {
        trace_events = g_ptr_array_new();
    }
    for (; *events; events++) {
        g_ptr_array_add(trace_events, *events);
    }
}

int trace_enable_events(const char *pattern)
{
    bool enable = true;
    int matched = 0;

    if (pattern[0] == '-') {
        enable = false;
        pattern++;
    }
    for (guint i = 0; trace_events && i < trace_events->len; i++) {
        TraceEvent *ev = g_ptr_array_index(trace_events, i);

        if (g_pattern_match_simple(pattern, ev->name)) {
            ev->dstate = enable;
            matched++;
        }
    }
    return matched;
}

void trace_list_events(FILE *f)
{
    for (guint i = 0; trace_events && i < trace_events->len; i++) {
        TraceEvent *ev = g_ptr_array_index(trace_events, i);

        fprintf(f, "%s\n", ev->name);
    }
}

static bool trace_enable_checked(const char *pattern, Error **errp)
{
    if (!trace_enable_events(pattern) && !strchr(pattern, '*') &&
        !strchr(pattern, '?')) {
        /* QEMU warns for an exact name that matches nothing. */
        error_setg(errp, "trace event '%s' does not exist", pattern);
        return false;
    }
    return true;
}

bool trace_opt_parse(const char *optarg, Error **errp)
{
    g_auto(GStrv) parts = g_strsplit(optarg, ",", -1);

    for (int i = 0; parts[i]; i++) {
        const char *p = parts[i];

        if (g_str_equal(p, "help")) {
            trace_list_events(stdout);
            exit(0);
        } else if (g_str_has_prefix(p, "enable=")) {
            if (!trace_enable_checked(p + strlen("enable="), errp)) {
                return false;
            }
        } else if (g_str_has_prefix(p, "events=")) {
            g_autofree char *contents = NULL;
            g_autoptr(GError) gerr = NULL;
            g_auto(GStrv) lines = NULL;

            if (!g_file_get_contents(p + strlen("events="), &contents, NULL,
                                     &gerr)) {
                error_setg(errp, "cannot read trace events file: %s",
                           gerr->message);
                return false;
            }
            lines = g_strsplit(contents, "\n", -1);
            for (int j = 0; lines[j]; j++) {
                g_strstrip(lines[j]);
                if (lines[j][0] && lines[j][0] != '#' &&
                    !trace_enable_checked(lines[j], errp)) {
                    return false;
                }
            }
        } else if (g_str_has_prefix(p, "file=")) {
            FILE *f = fopen(p + strlen("file="), "a");

            if (!f) {
                error_setg_errno(errp, errno, "cannot open trace file '%s'",
                                 p + strlen("file="));
                return false;
            }
            setvbuf(f, NULL, _IOLBF, 0);
            if (trace_log) {
                fclose(trace_log);
            }
            trace_log = f;
        } else if (strchr(p, '=')) {
            error_setg(errp, "Invalid parameter '%.*s' for -trace",
                       (int)(strchr(p, '=') - p), p);
            return false;
        } else if (!trace_enable_checked(p, errp)) {
            return false;
        }
    }
    return true;
}

void qemu_log(const char *fmt, ...)
{
    va_list ap;
    gint64 now = g_get_real_time();
    FILE *f = trace_log ? trace_log : stderr;

    /* Same prefix as QEMU's log backend: pid@seconds.micros: */
    flockfile(f);
    fprintf(f, "%d@%" PRId64 ".%06" PRId64 ":", (int)getpid(),
            now / G_USEC_PER_SEC, now % G_USEC_PER_SEC);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    funlockfile(f);
}
