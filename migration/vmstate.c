/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The VMState walker: saves and loads a structure described by a
 * VMStateDescription (fields, versions, subsections, hooks).
 *
 * Stream layout of one description (inside a section's payload):
 *   fields, in table order, each as its VMStateInfo writes it;
 *   for each subsection whose needed() holds:
 *     0x05, name (u8 length + bytes), be32 version, be32 length, payload
 *     (the subsection's own layout, recursively);
 *   0x1f, closing the list of subsections.
 * Every subsection says how long it is, so a reader that does not stop at
 * the exact end of one knows the stream is corrupt.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "migration/qemu-file.h"
#include "migration/vmstate.h"
#include "migration/vmstate-internal.h"
#include "trace.h"

void migration_put_name(QEMUFile *f, const char *name)
{
    size_t len = strlen(name);

    g_assert(len > 0 && len <= MIGRATION_NAME_MAX);
    qemu_put_byte(f, len);
    qemu_put_buffer(f, (const uint8_t *)name, len);
}

bool migration_get_name(QEMUFile *f, char *name, Error **errp)
{
    uint64_t at = qemu_file_tell(f);
    int len = qemu_get_byte(f);

    qemu_get_buffer(f, (uint8_t *)name, len);
    name[len] = '\0';
    if (qemu_file_get_error(f)) {
        error_setg(errp, "migration: stream truncated at byte %" PRIu64
                   " (inside a name)", qemu_file_tell(f));
        return false;
    }
    /* Names end up in error messages: only plain printable ASCII. */
    for (int i = 0; i < len; i++) {
        if (!g_ascii_isgraph(name[i])) {
            error_setg(errp, "migration: malformed name at byte %" PRIu64,
                       at);
            return false;
        }
    }
    if (len == 0) {
        error_setg(errp, "migration: empty name at byte %" PRIu64, at);
        return false;
    }
    return true;
}

static bool vmstate_field_present(const VMStateField *field, void *opaque,
                                  int version_id)
{
    if (field->field_exists) {
        return field->field_exists(opaque, version_id);
    }
    return field->version_id <= version_id;
}

/* Number of elements; false if a count taken from the state is negative. */
static bool vmstate_n_elems(void *opaque, const VMStateField *field,
                            size_t *n)
{
    void *p = (char *)opaque + field->num_offset;

    if (field->flags & VMS_ARRAY) {
        *n = field->num;
    } else if (field->flags & VMS_VARRAY_INT32) {
        int32_t v = *(int32_t *)p;

        if (v < 0) {
            return false;
        }
        *n = v;
    } else if (field->flags & VMS_VARRAY_UINT32) {
        *n = *(uint32_t *)p;
    } else if (field->flags & VMS_VARRAY_UINT16) {
        *n = *(uint16_t *)p;
    } else if (field->flags & VMS_VARRAY_UINT8) {
        *n = *(uint8_t *)p;
    } else {
        *n = 1;
    }
    if (field->flags & VMS_MULTIPLY_ELEMENTS) {
        *n *= field->num;
    }
    return true;
}

static size_t vmstate_elem_size(void *opaque, const VMStateField *field)
{
    size_t size = field->size;

    if (field->flags & VMS_VBUFFER) {
        size = *(uint32_t *)((char *)opaque + field->size_offset);
        if (field->flags & VMS_MULTIPLY) {
            size *= field->size;
        }
    }
    return size;
}

static int vmstate_pre_save(const VMStateDescription *vmsd, void *opaque,
                            Error **errp)
{
    if (vmsd->pre_save_errp) {
        if (!vmsd->pre_save_errp(opaque, errp)) {
            return -EINVAL;
        }
    } else if (vmsd->pre_save) {
        int ret = vmsd->pre_save(opaque);

        if (ret < 0) {
            error_setg(errp, "migration: pre_save of '%s' failed: %s",
                       vmsd->name, g_strerror(-ret));
            return ret;
        }
    }
    return 0;
}

static int vmstate_save_subsections(QEMUFile *f,
                                    const VMStateDescription *vmsd,
                                    void *opaque, Error **errp)
{
    const VMStateDescription * const *sub = vmsd->subsections;

    for (; sub && *sub; sub++) {
        g_autoptr(QEMUFile) body = NULL;
        const uint8_t *data;
        size_t len;
        int ret;

        if ((*sub)->needed && !(*sub)->needed(opaque)) {
            continue;
        }
        trace_vmstate_subsection_save((*sub)->name);
        /* Saved aside first: its length goes in front of it. */
        body = qemu_file_new_output_buffer();
        ret = vmstate_save_state(body, *sub, opaque, errp);
        if (ret < 0) {
            return ret;
        }
        data = qemu_file_buffer_data(body, &len);
        qemu_put_byte(f, VMSTATE_SUBSECTION_MARK);
        migration_put_name(f, (*sub)->name);
        qemu_put_be32(f, (*sub)->version_id);
        qemu_put_be32(f, len);
        qemu_put_buffer(f, data, len);
    }
    qemu_put_byte(f, VMSTATE_SUBSECTIONS_END);
    return 0;
}

int vmstate_save_state(QEMUFile *f, const VMStateDescription *vmsd,
                       void *opaque, Error **errp)
{
    int ret;

    trace_vmstate_save(vmsd->name, vmsd->version_id);
    if (vmsd->unmigratable) {
        error_setg(errp, "migration: '%s' cannot be migrated", vmsd->name);
        return -EINVAL;
    }
    ret = vmstate_pre_save(vmsd, opaque, errp);
    if (ret < 0) {
        return ret;
    }

    for (const VMStateField *field = vmsd->fields; field && field->name;
         field++) {
        void *ptr = (char *)opaque + field->offset;
        size_t n, size;

        if (!vmstate_field_present(field, opaque, vmsd->version_id)) {
            continue;
        }
        if (!vmstate_n_elems(opaque, field, &n)) {
            error_setg(errp, "migration: '%s' field '%s' has a negative "
                       "element count", vmsd->name, field->name);
            return -EINVAL;
        }
        size = vmstate_elem_size(opaque, field);
        if (field->flags & VMS_POINTER) {
            ptr = *(void **)ptr;
            if (!ptr && n && size) {
                error_setg(errp, "migration: '%s' field '%s' is NULL",
                           vmsd->name, field->name);
                return -EINVAL;
            }
        }
        for (size_t i = 0; i < n; i++) {
            void *elem = (char *)ptr + i * size;

            if (field->flags & VMS_ARRAY_OF_POINTER) {
                elem = *(void **)elem;
            }
            if (field->flags & VMS_STRUCT) {
                ret = vmstate_save_state(f, field->vmsd, elem, errp);
                if (ret < 0) {
                    return ret;
                }
            } else {
                ret = field->info->put(f, elem, size, field);
                if (ret < 0) {
                    error_setg(errp, "migration: cannot save '%s' field "
                               "'%s'", vmsd->name, field->name);
                    return ret;
                }
            }
        }
    }

    ret = vmstate_save_subsections(f, vmsd, opaque, errp);
    if (ret < 0) {
        return ret;
    }
    if (vmsd->post_save) {
        vmsd->post_save(opaque);
    }
    ret = qemu_file_get_error(f);
    if (ret < 0) {
        error_setg(errp, "migration: writing '%s' failed: %s", vmsd->name,
                   g_strerror(-ret));
    }
    return ret;
}

static void vmstate_truncated(QEMUFile *f, const VMStateDescription *vmsd,
                              const char *what, Error **errp)
{
    error_setg(errp, "migration: section '%s' truncated at byte %" PRIu64
               " (%s)", vmsd->name, qemu_file_tell(f), what);
}

/* Point a VMS_POINTER field at storage, allocating it for VMS_ALLOC. */
static bool vmstate_load_pointer(QEMUFile *f, const VMStateDescription *vmsd,
                                 const VMStateField *field, void **slot,
                                 size_t bytes, Error **errp)
{
    if (field->flags & VMS_ALLOC) {
        /* The size came from the stream: it must be there in full. */
        if (bytes > vmstate_load_limit(f)) {
            error_setg(errp, "migration: section '%s' truncated at byte %"
                       PRIu64 " (field '%s' claims %zu bytes)", vmsd->name,
                       qemu_file_tell(f), field->name, bytes);
            return false;
        }
        g_free(*slot);
        *slot = bytes ? g_malloc(bytes) : NULL;
    } else if (!*slot && bytes) {
        error_setg(errp, "migration: section '%s' field '%s' has no storage",
                   vmsd->name, field->name);
        return false;
    }
    return true;
}

static int vmstate_load_subsections(QEMUFile *f,
                                    const VMStateDescription *vmsd,
                                    void *opaque, Error **errp)
{
    for (;;) {
        const VMStateDescription * const *sub = vmsd->subsections;
        char name[MIGRATION_NAME_MAX + 1];
        g_autoptr(QEMUFile) body = NULL;
        g_autofree uint8_t *data = NULL;
        uint32_t version_id, len;
        uint64_t start;
        int mark, ret;

        mark = qemu_get_byte(f);
        if (qemu_file_get_error(f)) {
            vmstate_truncated(f, vmsd, "end of subsections", errp);
            return -EIO;
        }
        if (mark == VMSTATE_SUBSECTIONS_END) {
            return 0;
        }
        if (mark != VMSTATE_SUBSECTION_MARK) {
            error_setg(errp, "migration: section '%s' has unexpected byte "
                       "0x%02x at byte %" PRIu64 " after its fields",
                       vmsd->name, mark, qemu_file_tell(f) - 1);
            return -EINVAL;
        }
        if (!migration_get_name(f, name, errp)) {
            return -EINVAL;
        }
        version_id = qemu_get_be32(f);
        len = qemu_get_be32(f);
        if (qemu_file_get_error(f)) {
            vmstate_truncated(f, vmsd, "subsection header", errp);
            return -EIO;
        }
        for (; sub && *sub; sub++) {
            if (!strcmp((*sub)->name, name)) {
                break;
            }
        }
        if (!sub || !*sub) {
            error_setg(errp, "migration: unknown subsection '%s' in '%s'",
                       name, vmsd->name);
            return -ENOENT;
        }
        if (len > qemu_file_remaining(f)) {
            error_setg(errp, "migration: subsection '%s' truncated at byte "
                       "%" PRIu64 " (%u bytes announced, %zu present)",
                       name, qemu_file_tell(f), len,
                       qemu_file_remaining(f));
            return -EIO;
        }
        start = qemu_file_tell(f);
        data = g_malloc(len ? len : 1);
        qemu_get_buffer(f, data, len);
        if (qemu_file_get_error(f)) {
            vmstate_truncated(f, vmsd, "subsection", errp);
            return -EIO;
        }
        trace_vmstate_subsection_load(name, version_id);
        body = qemu_file_new_input_buffer(data, len, start);
        if (version_id > INT_MAX) {
            error_setg(errp, "migration: subsection '%s' has version %u, "
                       "this side supports %d", name, version_id,
                       (*sub)->version_id);
            return -EINVAL;
        }
        ret = vmstate_load_state(body, *sub, opaque, version_id, errp);
        if (ret < 0) {
            return ret;
        }
        if (qemu_file_remaining(body)) {
            error_setg(errp, "migration: subsection '%s' has %zu unexpected "
                       "bytes at byte %" PRIu64, name,
                       qemu_file_remaining(body), qemu_file_tell(body));
            return -EINVAL;
        }
    }
}

static int vmstate_post_load(const VMStateDescription *vmsd, void *opaque,
                             int version_id, Error **errp)
{
    if (vmsd->post_load_errp) {
        if (!vmsd->post_load_errp(opaque, version_id, errp)) {
            return -EINVAL;
        }
    } else if (vmsd->post_load) {
        int ret = vmsd->post_load(opaque, version_id);

        if (ret < 0) {
            error_setg(errp, "migration: '%s' refused the loaded state: %s",
                       vmsd->name, g_strerror(-ret));
            return ret;
        }
    }
    return 0;
}

int vmstate_load_state(QEMUFile *f, const VMStateDescription *vmsd,
                       void *opaque, int version_id, Error **errp)
{
    int ret;

    trace_vmstate_load(vmsd->name, version_id);
    if (version_id > vmsd->version_id) {
        error_setg(errp, "migration: '%s' version %d is newer than the "
                   "supported %d", vmsd->name, version_id, vmsd->version_id);
        return -EINVAL;
    }
    if (version_id < vmsd->minimum_version_id) {
        error_setg(errp, "migration: '%s' version %d is older than the "
                   "oldest supported %d", vmsd->name, version_id,
                   vmsd->minimum_version_id);
        return -EINVAL;
    }
    if (vmsd->pre_load) {
        ret = vmsd->pre_load(opaque);
        if (ret < 0) {
            error_setg(errp, "migration: pre_load of '%s' failed: %s",
                       vmsd->name, g_strerror(-ret));
            return ret;
        }
    }

    for (const VMStateField *field = vmsd->fields; field && field->name;
         field++) {
        void *ptr = (char *)opaque + field->offset;
        size_t n, size;

        if (!vmstate_field_present(field, opaque, version_id)) {
            continue;
        }
        if (!vmstate_n_elems(opaque, field, &n)) {
            error_setg(errp, "migration: section '%s' field '%s' has a "
                       "negative element count", vmsd->name, field->name);
            return -EINVAL;
        }
        size = vmstate_elem_size(opaque, field);
        if (size && n > VMSTATE_MAX_FIELD_BYTES / size) {
            error_setg(errp, "migration: section '%s' field '%s' is too "
                       "large (%zu x %zu bytes)", vmsd->name, field->name,
                       n, size);
            return -EINVAL;
        }
        if (field->flags & VMS_POINTER) {
            if (!vmstate_load_pointer(f, vmsd, field, ptr, n * size, errp)) {
                return -EINVAL;
            }
            ptr = *(void **)ptr;
        }
        for (size_t i = 0; i < n; i++) {
            void *elem = (char *)ptr + i * size;

            if (field->flags & VMS_ARRAY_OF_POINTER) {
                elem = *(void **)elem;
            }
            if (field->flags & VMS_STRUCT) {
                ret = vmstate_load_state(f, field->vmsd, elem,
                                         field->vmsd->version_id, errp);
                if (ret < 0) {
                    return ret;
                }
                continue;
            }
            ret = field->info->get(f, elem, size, field);
            if (qemu_file_get_error(f)) {
                error_setg(errp, "migration: section '%s' truncated at byte %"
                           PRIu64 " (field '%s')", vmsd->name,
                           qemu_file_tell(f), field->name);
                return -EIO;
            }
            if (ret < 0) {
                error_setg(errp, "migration: section '%s' field '%s' has an "
                           "invalid %s value", vmsd->name, field->name,
                           field->info->name);
                return ret;
            }
        }
    }

    ret = vmstate_load_subsections(f, vmsd, opaque, errp);
    if (ret < 0) {
        return ret;
    }
    return vmstate_post_load(vmsd, opaque, version_id, errp);
}
