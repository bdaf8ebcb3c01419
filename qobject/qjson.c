/*
 * QObject <-> JSON text. Parsing goes through json-glib after a small
 * rewriting pass that turns QEMU's extensions (single-quoted strings,
 * %-interpolation) into standard JSON; printing follows QEMU's layout
 * exactly so that replies match QEMU's byte for byte.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <json-glib/json-glib.h>
#include "qobject/qbool.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qnull.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"

/* Deeper documents are refused rather than recursed into. */
#define QJSON_MAX_DEPTH 1024

static void json_append_string(GString *out, const char *s)
{
    const char *p = s;

    g_string_append_c(out, '"');
    while (*p) {
        gunichar cp = g_utf8_get_char_validated(p, -1);
        const char *next;

        if (cp == (gunichar)-1 || cp == (gunichar)-2) {
            /* Invalid UTF-8: replace the byte, as QEMU does. */
            cp = 0xFFFD;
            next = p + 1;
        } else {
            next = g_utf8_next_char(p);
        }
        switch (cp) {
        case '"':
            g_string_append(out, "\\\"");
            break;
        case '\\':
            g_string_append(out, "\\\\");
            break;
        case '\b':
            g_string_append(out, "\\b");
            break;
        case '\f':
            g_string_append(out, "\\f");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        case '\r':
            g_string_append(out, "\\r");
            break;
        case '\t':
            g_string_append(out, "\\t");
            break;
        default:
            if (cp >= 0x20 && cp <= 0x7E) {
                g_string_append_c(out, (char)cp);
            } else if (cp > 0xFFFF) {
                cp -= 0x10000;
                g_string_append_printf(out, "\\u%04X\\u%04X",
                                       0xD800 | (cp >> 10),
                                       0xDC00 | (cp & 0x3FF));
            } else {
                g_string_append_printf(out, "\\u%04X", cp);
            }
            break;
        }
        p = next;
    }
    g_string_append_c(out, '"');
}

static void json_indent(GString *out, bool pretty, int level)
{
    if (pretty) {
        g_string_append_c(out, '\n');
        g_string_append_printf(out, "%*s", 4 * level, "");
    }
}

static void to_json(const QObject *obj, bool pretty, int level, GString *out)
{
    switch (qobject_type(obj)) {
    case QTYPE_QNULL:
        g_string_append(out, "null");
        break;
    case QTYPE_QNUM: {
        g_autofree char *s = qnum_to_string(qobject_to(QNum, obj));

        g_string_append(out, s);
        break;
    }
    case QTYPE_QSTRING:
        json_append_string(out, qstring_get_str(qobject_to(QString, obj)));
        break;
    case QTYPE_QBOOL:
        g_string_append(out, qbool_get_bool(qobject_to(QBool, obj)) ?
                        "true" : "false");
        break;
    case QTYPE_QDICT: {
        const QDict *d = qobject_to(QDict, obj);
        const QDictEntry *e;
        const char *sep = "";

        g_string_append_c(out, '{');
        for (e = qdict_first(d); e; e = qdict_next(d, e)) {
            g_string_append(out, sep);
            json_indent(out, pretty, level + 1);
            json_append_string(out, qdict_entry_key(e));
            g_string_append(out, ": ");
            to_json(qdict_entry_value(e), pretty, level + 1, out);
            sep = pretty ? "," : ", ";
        }
        if (qdict_size(d)) {
            json_indent(out, pretty, level);
        }
        g_string_append_c(out, '}');
        break;
    }
    case QTYPE_QLIST: {
        const QList *l = qobject_to(QList, obj);
        const QListEntry *e;
        const char *sep = "";

        g_string_append_c(out, '[');
        for (e = qlist_first(l); e; e = qlist_next(e)) {
            g_string_append(out, sep);
            json_indent(out, pretty, level + 1);
            to_json(qlist_entry_obj(e), pretty, level + 1, out);
            sep = pretty ? "," : ", ";
        }
        if (qlist_size(l)) {
            json_indent(out, pretty, level);
        }
        g_string_append_c(out, ']');
        break;
    }
    default:
        g_assert_not_reached();
    }
}

GString *qobject_to_json_pretty(const QObject *obj, bool pretty)
{
    GString *out = g_string_new("");

    to_json(obj, pretty, 0, out);
    return out;
}

GString *qobject_to_json(const QObject *obj)
{
    return qobject_to_json_pretty(obj, false);
}

/*
 * Copy one string literal starting at *pp (on its opening quote) to out
 * as a double-quoted JSON string. QEMU accepts '...' and the escape \'
 * in both kinds; JSON knows neither.
 */
static void normalize_string(const char **pp, GString *out)
{
    const char *p = *pp;
    char quote = *p++;

    g_string_append_c(out, '"');
    while (*p && *p != quote) {
        if (*p == '\\' && p[1]) {
            if (p[1] == '\'') {
                g_string_append_c(out, '\'');
            } else {
                g_string_append_c(out, '\\');
                g_string_append_c(out, p[1]);
            }
            p += 2;
            continue;
        }
        if (*p == '"') {
            g_string_append(out, "\\\"");
        } else {
            g_string_append_c(out, *p);
        }
        p++;
    }
    if (*p == quote) {
        g_string_append_c(out, '"');
        p++;
    }
    /* An unterminated literal stays unterminated: the parser reports it. */
    *pp = p;
}

/* Expand one %-directive at *pp (just after the '%'). */
static bool interpolate(const char **pp, va_list *ap, GString *out,
                        char **errmsg)
{
    const char *p = *pp;
    int longs = 0;

    if (*p == '%') {
        g_string_append_c(out, '%');
        *pp = p + 1;
        return true;
    }
    while (*p == 'l' && longs < 2) {
        longs++;
        p++;
    }
    switch (*p) {
    case 'd':
    case 'i':
        if (longs == 2) {
            g_string_append_printf(out, "%lld", va_arg(*ap, long long));
        } else if (longs == 1) {
            g_string_append_printf(out, "%ld", va_arg(*ap, long));
        } else {
            g_string_append_printf(out, "%d", va_arg(*ap, int));
        }
        break;
    case 'u':
        if (longs == 2) {
            g_string_append_printf(out, "%llu",
                                   va_arg(*ap, unsigned long long));
        } else if (longs == 1) {
            g_string_append_printf(out, "%lu", va_arg(*ap, unsigned long));
        } else {
            g_string_append_printf(out, "%u", va_arg(*ap, unsigned int));
        }
        break;
    case 's':
        if (longs) {
            goto bad;
        } else {
            const char *s = va_arg(*ap, const char *);

            if (!s) {
                *errmsg = g_strdup("JSON interpolation of a NULL string");
                return false;
            }
            json_append_string(out, s);
        }
        break;
    case 'f':
    case 'g':
        if (longs) {
            goto bad;
        } else {
            char buf[G_ASCII_DTOSTR_BUF_SIZE];

            g_ascii_dtostr(buf, sizeof(buf), va_arg(*ap, double));
            g_string_append(out, buf);
        }
        break;
    case 'p':
        if (longs) {
            goto bad;
        } else {
            QObject *obj = va_arg(*ap, QObject *);
            g_autoptr(GString) text = NULL;

            if (!obj) {
                *errmsg = g_strdup("JSON interpolation of a NULL QObject");
                return false;
            }
            text = qobject_to_json(obj);
            g_string_append_len(out, text->str, text->len);
            /* %p hands the caller's reference over, as in QEMU. */
            qobject_unref(obj);
        }
        break;
    default:
        goto bad;
    }
    *pp = p + 1;
    return true;

bad:
    *errmsg = g_strdup_printf("JSON parse error, invalid interpolation "
                              "'%%%.*s'", (int)(p - *pp + 1), *pp);
    return false;
}

static GString *normalize(const char *in, va_list *ap, char **errmsg)
{
    GString *out = g_string_sized_new(strlen(in) + 16);
    const char *p = in;

    while (*p) {
        if (*p == '"' || *p == '\'') {
            normalize_string(&p, out);
        } else if (*p == '%' && ap) {
            p++;
            if (!interpolate(&p, ap, out, errmsg)) {
                g_string_free(out, TRUE);
                return NULL;
            }
        } else {
            g_string_append_c(out, *p++);
        }
    }
    return out;
}

static QObject *from_node(JsonNode *node, int depth, char **errmsg)
{
    if (depth > QJSON_MAX_DEPTH) {
        *errmsg = g_strdup("JSON nesting depth limit exceeded");
        return NULL;
    }
    switch (json_node_get_node_type(node)) {
    case JSON_NODE_NULL:
        return QOBJECT(qnull());
    case JSON_NODE_VALUE:
        switch (json_node_get_value_type(node)) {
        case G_TYPE_INT64:
            return QOBJECT(qnum_from_int(json_node_get_int(node)));
        case G_TYPE_DOUBLE:
            return QOBJECT(qnum_from_double(json_node_get_double(node)));
        case G_TYPE_BOOLEAN:
            return QOBJECT(qbool_from_bool(json_node_get_boolean(node)));
        case G_TYPE_STRING:
            return QOBJECT(qstring_from_str(json_node_get_string(node)));
        default:
            *errmsg = g_strdup("JSON parse error, unsupported value");
            return NULL;
        }
    case JSON_NODE_ARRAY: {
        JsonArray *arr = json_node_get_array(node);
        QList *list = qlist_new();
        guint i, n = json_array_get_length(arr);

        for (i = 0; i < n; i++) {
            QObject *elt = from_node(json_array_get_element(arr, i),
                                     depth + 1, errmsg);
            if (!elt) {
                qobject_unref(list);
                return NULL;
            }
            qlist_append_obj(list, elt);
        }
        return QOBJECT(list);
    }
    case JSON_NODE_OBJECT: {
        JsonObject *o = json_node_get_object(node);
        QDict *dict = qdict_new();
        GList *members = json_object_get_members(o);
        GList *m;

        for (m = members; m; m = m->next) {
            const char *key = m->data;
            QObject *val = from_node(json_object_get_member(o, key),
                                     depth + 1, errmsg);
            if (!val) {
                g_list_free(members);
                qobject_unref(dict);
                return NULL;
            }
            qdict_put_obj(dict, key, val);
        }
        g_list_free(members);
        return QOBJECT(dict);
    }
    }
    *errmsg = g_strdup("JSON parse error, unknown node");
    return NULL;
}

static QObject *parse_text(const char *text, size_t len, char **errmsg)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) err = NULL;
    JsonNode *root;

    if (!json_parser_load_from_data(parser, text, len, &err)) {
        *errmsg = g_strdup_printf("JSON parse error, %s", err->message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root) {
        return NULL;
    }
    return from_node(root, 0, errmsg);
}

static QObject *from_json(const char *string, va_list *ap, char **errmsg)
{
    g_autoptr(GString) text = NULL;
    char *msg = NULL;
    QObject *obj = NULL;

    text = normalize(string, ap, &msg);
    if (text) {
        obj = parse_text(text->str, text->len, &msg);
    }
    if (errmsg) {
        *errmsg = msg;
    } else {
        g_free(msg);
    }
    return obj;
}

QObject *qobject_from_json_msg(const char *string, char **errmsg)
{
    return from_json(string, NULL, errmsg);
}

QObject *qobject_from_vjsonf_msg(const char *string, va_list ap,
                                 char **errmsg)
{
    va_list copy;
    QObject *obj;

    va_copy(copy, ap);
    obj = from_json(string, &copy, errmsg);
    va_end(copy);
    return obj;
}

QObject *qobject_from_vjsonf_nofail(const char *string, va_list ap)
{
    g_autofree char *msg = NULL;
    QObject *obj = qobject_from_vjsonf_msg(string, ap, &msg);

    if (!obj) {
        g_error("qobject_from_jsonf_nofail: %s (input: %s)",
                msg ? msg : "empty input", string);
    }
    return obj;
}

QObject *qobject_from_jsonf_nofail(const char *string, ...)
{
    va_list ap;
    QObject *obj;

    va_start(ap, string);
    obj = qobject_from_vjsonf_nofail(string, ap);
    va_end(ap);
    return obj;
}

QDict *qdict_from_vjsonf_nofail(const char *string, va_list ap)
{
    QObject *obj = qobject_from_vjsonf_nofail(string, ap);
    QDict *dict = qobject_to(QDict, obj);

    if (!dict) {
        g_error("qdict_from_jsonf_nofail: not a JSON object: %s", string);
    }
    return dict;
}

QDict *qdict_from_jsonf_nofail(const char *string, ...)
{
    va_list ap;
    QDict *dict;

    va_start(ap, string);
    dict = qdict_from_vjsonf_nofail(string, ap);
    va_end(ap);
    return dict;
}
