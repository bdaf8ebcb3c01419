/*
 * Option lists: "key=value,key=value" strings as -chardev, -tpmdev and
 * -machine take them, with the subset of QEMU's QemuOpts API in use.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_OPTION_H
#define QEMU_OPTION_H

enum QemuOptType {
    QEMU_OPT_STRING = 0,
    QEMU_OPT_BOOL,
    QEMU_OPT_NUMBER,
    QEMU_OPT_SIZE,
};

typedef struct QemuOptDesc {
    const char *name;
    enum QemuOptType type;
    const char *help;
    const char *def_value_str;
} QemuOptDesc;

typedef struct QemuOpts QemuOpts;

typedef struct QemuOptsList {
    const char *name;
    /* Key that a leading bare value is assigned to ("socket" -> backend=). */
    const char *implied_opt_name;
    /* When non-empty (terminated by a NULL name), unknown keys are errors. */
    QemuOptDesc desc[32];
} QemuOptsList;

/*
 * Parse "value,k1=v1,k2=v2" (the first bare value only if the list has
 * an implied option name). "k" alone means "k=on"; ",," escapes a comma.
 */
QemuOpts *qemu_opts_parse(QemuOptsList *list, const char *params,
                          bool permit_abbrev, Error **errp);
void qemu_opts_del(QemuOpts *opts);
const char *qemu_opts_id(QemuOpts *opts);
const char *qemu_opt_get(QemuOpts *opts, const char *name);
bool qemu_opt_has(QemuOpts *opts, const char *name);
/* Parsing errors of bool/number values are reported through errp. */
bool qemu_opt_get_bool_err(QemuOpts *opts, const char *name, bool defval,
                           Error **errp);
bool qemu_opt_get_bool(QemuOpts *opts, const char *name, bool defval);
uint64_t qemu_opt_get_number(QemuOpts *opts, const char *name,
                             uint64_t defval);
/* Check every key against desc (NULL-name terminated). */
bool qemu_opts_validate(QemuOpts *opts, const QemuOptDesc *desc,
                        Error **errp);
/* Calls fn(opaque, name, value) for each key in order; stops on non-zero. */
int qemu_opt_foreach(QemuOpts *opts,
                     int (*fn)(void *opaque, const char *name,
                               const char *value, Error **errp),
                     void *opaque, Error **errp);
/* Parse a QEMU boolean ("on"/"off", "yes"/"no", "true"/"false"). */
bool qapi_bool_parse(const char *name, const char *value, bool *obj,
                     Error **errp);

#endif /* QEMU_OPTION_H */
