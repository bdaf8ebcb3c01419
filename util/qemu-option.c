/*
 * "key=value,key=value" option strings, as QEMU's command line takes them.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/option.h"
#include "qemu/cutils.h"

typedef struct QemuOpt {
    char *name;
    char *value;
} QemuOpt;

struct QemuOpts {
    QemuOptsList *list;
    char *id;
    GPtrArray *opts;
};

static void qemu_opt_free(gpointer p)
{
    QemuOpt *opt = p;

    g_free(opt->name);
    g_free(opt->value);
    g_free(opt);
}

/*
 * Copy one element up to an unescaped delimiter into *out; ",," stands for
 * a literal comma. Returns the position after the element.
 */
static const char *get_opt_part(const char *p, char delim, char **out)
{
    GString *s = g_string_new(NULL);

    while (*p) {
        if (*p == ',') {
            if (p[1] == ',') {
                g_string_append_c(s, ',');
                p += 2;
                continue;
            }
            break;
        }
        if (*p == delim) {
            break;
        }
        g_string_append_c(s, *p);
        p++;
    }
    *out = g_string_free(s, FALSE);
    return p;
}

bool qapi_bool_parse(const char *name, const char *value, bool *obj,
                     Error **errp)
{
    if (g_str_equal(value, "on") || g_str_equal(value, "yes") ||
        g_str_equal(value, "true") || g_str_equal(value, "y")) {
        *obj = true;
        return true;
    }
    if (g_str_equal(value, "off") || g_str_equal(value, "no") ||
        g_str_equal(value, "false") || g_str_equal(value, "n")) {
        *obj = false;
        return true;
    }
    error_setg(errp, "Parameter '%s' expects 'on' or 'off'", name);
    return false;
}

static const QemuOptDesc *find_desc(const QemuOptDesc *desc,
                                    const char *name)
{
    for (; desc && desc->name; desc++) {
        if (g_str_equal(desc->name, name)) {
            return desc;
        }
    }
    return NULL;
}

QemuOpts *qemu_opts_parse(QemuOptsList *list, const char *params,
                          bool permit_abbrev, Error **errp)
{
    QemuOpts *opts = g_new0(QemuOpts, 1);
    const char *p = params;
    bool first = true;

    opts->list = list;
    opts->opts = g_ptr_array_new_with_free_func(qemu_opt_free);

    while (*p) {
        g_autofree char *name = NULL;
        g_autofree char *value = NULL;
        const char *q = get_opt_part(p, '=', &name);

        if (*q == '=') {
            q = get_opt_part(q + 1, '\0', &value);
        } else if (first && permit_abbrev && list->implied_opt_name) {
            value = name;
            name = g_strdup(list->implied_opt_name);
        } else {
            value = g_strdup("on");
        }

        if (!*name) {
            error_setg(errp, "Invalid parameter ''");
            goto fail;
        }
        if (g_str_equal(name, "id")) {
            if (opts->id) {
                error_setg(errp, "Parameter 'id' given twice");
                goto fail;
            }
            if (!*value || !g_ascii_isalpha(value[0])) {
                error_setg(errp, "Parameter 'id' expects an identifier");
                error_append_hint(errp, "Identifiers consist of letters, "
                                  "digits, '-', '.', '_', starting with a "
                                  "letter.\n");
                goto fail;
            }
            opts->id = g_strdup(value);
        } else {
            QemuOpt *opt = g_new0(QemuOpt, 1);

            if (list->desc[0].name && !find_desc(list->desc, name)) {
                error_setg(errp, "Invalid parameter '%s'", name);
                g_free(opt);
                goto fail;
            }
            opt->name = g_steal_pointer(&name);
            opt->value = g_steal_pointer(&value);
            g_ptr_array_add(opts->opts, opt);
        }

        first = false;
        p = q;
        if (*p == ',') {
            p++;
        }
    }
    return opts;

fail:
    qemu_opts_del(opts);
    return NULL;
}

void qemu_opts_del(QemuOpts *opts)
{
    if (!opts) {
        return;
    }
    g_ptr_array_unref(opts->opts);
    g_free(opts->id);
    g_free(opts);
}

const char *qemu_opts_id(QemuOpts *opts)
{
    return opts->id;
}

static QemuOpt *qemu_opt_find(QemuOpts *opts, const char *name)
{
    /* The last occurrence wins, as in QEMU. */
    for (guint i = opts->opts->len; i > 0; i--) {
        QemuOpt *opt = g_ptr_array_index(opts->opts, i - 1);

        if (g_str_equal(opt->name, name)) {
            return opt;
        }
    }
    return NULL;
}

const char *qemu_opt_get(QemuOpts *opts, const char *name)
{
    QemuOpt *opt = qemu_opt_find(opts, name);

    if (opt) {
        return opt->value;
    }
    if (opts->list) {
        const QemuOptDesc *desc = find_desc(opts->list->desc, name);

        if (desc) {
            return desc->def_value_str;
        }
    }
    return NULL;
}

bool qemu_opt_has(QemuOpts *opts, const char *name)
{
    return qemu_opt_find(opts, name) != NULL;
}

bool qemu_opt_get_bool_err(QemuOpts *opts, const char *name, bool defval,
                           Error **errp)
{
    const char *value = qemu_opt_get(opts, name);
    bool ret = defval;

    if (value && !qapi_bool_parse(name, value, &ret, errp)) {
        return defval;
    }
    return ret;
}

bool qemu_opt_get_bool(QemuOpts *opts, const char *name, bool defval)
{
    return qemu_opt_get_bool_err(opts, name, defval, NULL);
}

uint64_t qemu_opt_get_number(QemuOpts *opts, const char *name,
                             uint64_t defval)
{
    const char *value = qemu_opt_get(opts, name);
    uint64_t ret;

    if (!value || qemu_strtou64(value, NULL, 0, &ret) < 0) {
        return defval;
    }
    return ret;
}

bool qemu_opts_validate(QemuOpts *opts, const QemuOptDesc *desc,
                        Error **errp)
{
    for (guint i = 0; i < opts->opts->len; i++) {
        QemuOpt *opt = g_ptr_array_index(opts->opts, i);
        const QemuOptDesc *d = find_desc(desc, opt->name);
        uint64_t n;
        bool b;

        if (!d) {
            error_setg(errp, "Invalid parameter '%s'", opt->name);
            return false;
        }
        if (d->type == QEMU_OPT_BOOL &&
            !qapi_bool_parse(opt->name, opt->value, &b, errp)) {
            return false;
        }
        if ((d->type == QEMU_OPT_NUMBER || d->type == QEMU_OPT_SIZE) &&
            qemu_strtou64(opt->value, NULL, 0, &n) < 0) {
            error_setg(errp, "Parameter '%s' expects a number", opt->name);
            return false;
        }
    }
    return true;
}

int qemu_opt_foreach(QemuOpts *opts,
                     int (*fn)(void *opaque, const char *name,
                               const char *value, Error **errp),
                     void *opaque, Error **errp)
{
    for (guint i = 0; i < opts->opts->len; i++) {
        QemuOpt *opt = g_ptr_array_index(opts->opts, i);
        int rc = fn(opaque, opt->name, opt->value, errp);

        if (rc) {
            return rc;
        }
    }
    return 0;
}
