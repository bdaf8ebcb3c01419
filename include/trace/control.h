/*
 * Trace events: generated per directory from trace-events files, enabled
 * by -trace PATTERN, printed through qemu_log.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TRACE_CONTROL_H
#define TRACE_CONTROL_H

#include "qapi/error.h"

typedef struct TraceEvent {
    const char *name;
    bool dstate;
} TraceEvent;

/* Called by generated code at start-up for each directory's events. */
void trace_event_register_group(TraceEvent **events);

/*
 * Enable (or with a leading '-', disable) every event whose name matches
 * the glob pattern. Returns the number of events matched.
 */
int trace_enable_events(const char *pattern);
/*
 * Handle the argument of -trace: "PATTERN", "enable=PATTERN",
 * "events=FILE" (one pattern a line) or "help". Returns false with errp
 * set when it cannot be honoured.
 */
bool trace_opt_parse(const char *optarg, Error **errp);
/* Print every event name, one a line (for -trace help). */
void trace_list_events(FILE *f);

/* Log sink for trace output: stderr unless redirected. */
void qemu_log(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

#endif /* TRACE_CONTROL_H */
