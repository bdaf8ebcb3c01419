/*
 * The registry of device state sections and the whole-VM stream: header,
 * machine type, RAM regions (all-zero pages skipped), device sections,
 * end marker. The layout is described in migration/savevm.h.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/core/boards.h"
#include "system/memory.h"
#include "migration/blocker.h"
#include "migration/vmstate.h"
#include "migration/vmstate-internal.h"
#include "migration/savevm.h"
#include "trace.h"

typedef struct SaveStateEntry {
    /* The section name: the description's name, as in QEMU. */
    const char *idstr;
    uint32_t instance_id;
    const VMStateDescription *vmsd;
    void *opaque;
    Object *obj;
    /* Set while loading a stream: the section was seen. */
    bool loaded;
} SaveStateEntry;

/* Sections in save order: higher priority first, then registration. */
static GList *savevm_entries;

static SaveStateEntry *find_entry(const char *idstr, uint32_t instance_id)
{
    for (GList *l = savevm_entries; l; l = l->next) {
        SaveStateEntry *se = l->data;

        if (se->instance_id == instance_id && !strcmp(se->idstr, idstr)) {
            return se;
        }
    }
    return NULL;
}

static gint entry_priority_cmp(gconstpointer a, gconstpointer b)
{
    const SaveStateEntry *ea = a, *eb = b;

    return (int)eb->vmsd->priority - (int)ea->vmsd->priority;
}

int vmstate_register(Object *obj, int instance_id,
                     const VMStateDescription *vmsd, void *opaque)
{
    SaveStateEntry *se;

    g_assert(vmsd->name && strlen(vmsd->name) <= MIGRATION_NAME_MAX);
    if (instance_id < 0) {
        /* Any id: the next free one for this name, in creation order. */
        instance_id = 0;
        while (find_entry(vmsd->name, instance_id)) {
            instance_id++;
        }
    } else if (find_entry(vmsd->name, instance_id)) {
        /* Two sections with one identity could never be told apart. */
        g_error("migration: section '%s' instance %d registered twice",
                vmsd->name, instance_id);
    }
    se = g_new0(SaveStateEntry, 1);
    se->idstr = vmsd->name;
    se->instance_id = instance_id;
    se->vmsd = vmsd;
    se->opaque = opaque;
    se->obj = obj;
    savevm_entries = g_list_insert_sorted(savevm_entries, se,
                                          entry_priority_cmp);
    return 0;
}

int vmstate_register_any(Object *obj, const VMStateDescription *vmsd,
                         void *opaque)
{
    return vmstate_register(obj, -1, vmsd, opaque);
}

void vmstate_unregister(Object *obj, const VMStateDescription *vmsd,
                        void *opaque)
{
    GList *l = savevm_entries;

    while (l) {
        GList *next = l->next;
        SaveStateEntry *se = l->data;

        if (se->vmsd == vmsd && se->opaque == opaque) {
            savevm_entries = g_list_delete_link(savevm_entries, l);
            g_free(se);
        }
        l = next;
    }
}

bool qemu_savevm_state_blocked(Error **errp)
{
    const Error *blocker = migration_first_blocker();

    if (blocker) {
        error_setg(errp, "%s", error_get_pretty(blocker));
        return true;
    }
    for (GList *l = savevm_entries; l; l = l->next) {
        SaveStateEntry *se = l->data;

        if (se->vmsd->unmigratable) {
            error_setg(errp, "State blocked by non-migratable device '%s'",
                       se->idstr);
            return true;
        }
    }
    return false;
}

static const char *current_machine_type(void)
{
    if (!current_machine) {
        return "none";
    }
    return MACHINE_GET_CLASS(current_machine)->name;
}

/* RAM */

static void collect_ram(MemoryRegion *mr, void *opaque)
{
    g_ptr_array_add(opaque, mr);
}

static GPtrArray *ram_regions(Error **errp)
{
    g_autoptr(GPtrArray) regions = g_ptr_array_new();

    memory_foreach_ram_region(collect_ram, regions);
    for (guint i = 0; i < regions->len; i++) {
        const char *name = memory_region_name(regions->pdata[i]);

        if (!name || !*name || strlen(name) > MIGRATION_NAME_MAX) {
            error_setg(errp, "migration: a RAM region has no usable name");
            return NULL;
        }
        for (guint j = 0; j < i; j++) {
            if (!strcmp(name, memory_region_name(regions->pdata[j]))) {
                error_setg(errp, "migration: two RAM regions are named '%s'",
                           name);
                return NULL;
            }
        }
    }
    return g_steal_pointer(&regions);
}

static bool page_is_zero(const uint8_t *p, size_t len)
{
    return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

static void put_be64_crc(QEMUFile *f, uint64_t v, uint32_t *crc)
{
    uint8_t b[8];

    for (int i = 0; i < 8; i++) {
        b[i] = v >> (56 - 8 * i);
    }
    *crc = migration_crc32(*crc, b, sizeof(b));
    qemu_put_buffer(f, b, sizeof(b));
}

static void save_ram(QEMUFile *f, GPtrArray *regions)
{
    qemu_put_byte(f, MIGRATION_REC_RAM);
    qemu_put_be32(f, regions->len);
    for (guint i = 0; i < regions->len; i++) {
        MemoryRegion *mr = regions->pdata[i];
        const uint8_t *ram = memory_region_get_ram_ptr(mr);
        uint64_t size = memory_region_size(mr);
        uint64_t pages = 0;
        uint32_t crc = 0;

        migration_put_name(f, memory_region_name(mr));
        qemu_put_be64(f, size);
        for (uint64_t off = 0; off < size; off += MIGRATION_RAM_PAGE_SIZE) {
            size_t len = MIN(MIGRATION_RAM_PAGE_SIZE, size - off);

            /* Untouched guest RAM is zero: only written pages travel. */
            if (page_is_zero(ram + off, len)) {
                continue;
            }
            put_be64_crc(f, off, &crc);
            crc = migration_crc32(crc, ram + off, len);
            qemu_put_buffer(f, ram + off, len);
            pages++;
        }
        put_be64_crc(f, MIGRATION_RAM_REGION_END, &crc);
        qemu_put_be32(f, crc);
        trace_savevm_ram_region(memory_region_name(mr), size, pages);
    }
}

/* Zero [from, to) of a destination region, touching only dirty pages. */
static void ram_zero_range(uint8_t *ram, uint64_t from, uint64_t to)
{
    for (uint64_t off = from; off < to; off += MIGRATION_RAM_PAGE_SIZE) {
        size_t len = MIN(MIGRATION_RAM_PAGE_SIZE, to - off);

        if (!page_is_zero(ram + off, len)) {
            memset(ram + off, 0, len);
        }
    }
}

static bool load_ram_region(QEMUFile *f, MemoryRegion *mr, const char *name,
                            Error **errp)
{
    uint8_t *ram = memory_region_get_ram_ptr(mr);
    uint64_t size = memory_region_size(mr);
    uint64_t next = 0, pages = 0;
    uint32_t crc = 0, want;

    for (;;) {
        uint64_t off = qemu_get_be64(f);
        size_t len;
        uint8_t b[8];

        if (qemu_file_get_error(f)) {
            goto truncated;
        }
        for (int i = 0; i < 8; i++) {
            b[i] = off >> (56 - 8 * i);
        }
        crc = migration_crc32(crc, b, sizeof(b));
        if (off == MIGRATION_RAM_REGION_END) {
            break;
        }
        /* Pages come in increasing order: each lands once, in bounds. */
        if (off % MIGRATION_RAM_PAGE_SIZE || off >= size || off < next) {
            error_setg(errp, "migration: RAM block '%s' has a bad page "
                       "offset 0x%" PRIx64 " at byte %" PRIu64, name, off,
                       qemu_file_tell(f) - 8);
            return false;
        }
        ram_zero_range(ram, next, off);
        len = MIN(MIGRATION_RAM_PAGE_SIZE, size - off);
        qemu_get_buffer(f, ram + off, len);
        if (qemu_file_get_error(f)) {
            goto truncated;
        }
        crc = migration_crc32(crc, ram + off, len);
        next = off + len;
        pages++;
    }
    ram_zero_range(ram, next, size);
    want = qemu_get_be32(f);
    if (qemu_file_get_error(f)) {
        goto truncated;
    }
    if (want != crc) {
        error_setg(errp, "migration: RAM block '%s' fails its checksum "
                   "(stream 0x%08x, computed 0x%08x)", name, want, crc);
        return false;
    }
    trace_loadvm_ram_region(name, size, pages);
    return true;

truncated:
    error_setg(errp, "migration: RAM block '%s' truncated at byte %" PRIu64,
               name, qemu_file_tell(f));
    return false;
}

static bool load_ram(QEMUFile *f, GPtrArray *regions, bool *seen,
                     Error **errp)
{
    uint32_t count = qemu_get_be32(f);

    if (qemu_file_get_error(f)) {
        error_setg(errp, "migration: stream truncated at byte %" PRIu64
                   " (RAM record)", qemu_file_tell(f));
        return false;
    }
    if (count != regions->len) {
        error_setg(errp, "migration: the stream has %u RAM blocks, this VM "
                   "has %u", count, regions->len);
        return false;
    }
    for (uint32_t n = 0; n < count; n++) {
        char name[MIGRATION_NAME_MAX + 1];
        MemoryRegion *mr = NULL;
        uint64_t size;
        guint i;

        if (!migration_get_name(f, name, errp)) {
            return false;
        }
        for (i = 0; i < regions->len; i++) {
            if (!strcmp(name, memory_region_name(regions->pdata[i]))) {
                mr = regions->pdata[i];
                break;
            }
        }
        if (!mr) {
            error_setg(errp, "migration: unknown RAM block '%s'", name);
            return false;
        }
        if (seen[i]) {
            error_setg(errp, "migration: RAM block '%s' appears twice", name);
            return false;
        }
        seen[i] = true;
        size = qemu_get_be64(f);
        if (qemu_file_get_error(f)) {
            error_setg(errp, "migration: RAM block '%s' truncated at byte %"
                       PRIu64, name, qemu_file_tell(f));
            return false;
        }
        if (size != memory_region_size(mr)) {
            error_setg(errp, "migration: RAM block '%s' has size 0x%" PRIx64
                       " in the stream, 0x%" PRIx64 " here", name, size,
                       memory_region_size(mr));
            return false;
        }
        if (!load_ram_region(f, mr, name, errp)) {
            return false;
        }
    }
    return true;
}

/* Sections */

static int save_section(QEMUFile *f, SaveStateEntry *se, Error **errp)
{
    g_autoptr(QEMUFile) body = qemu_file_new_output_buffer();
    const uint8_t *data;
    size_t len;
    int ret;

    ret = vmstate_save_state(body, se->vmsd, se->opaque, errp);
    if (ret < 0) {
        return ret;
    }
    data = qemu_file_buffer_data(body, &len);
    if (len > MIGRATION_MAX_SECTION_BYTES) {
        error_setg(errp, "migration: section '%s' is too large (%zu bytes)",
                   se->idstr, len);
        return -EFBIG;
    }
    trace_savevm_section(se->idstr, se->instance_id, len);
    qemu_put_byte(f, MIGRATION_REC_SECTION);
    migration_put_name(f, se->idstr);
    qemu_put_be32(f, se->instance_id);
    qemu_put_be32(f, se->vmsd->version_id);
    qemu_put_be32(f, len);
    qemu_put_buffer(f, data, len);
    qemu_put_be32(f, migration_crc32(0, data, len));
    return 0;
}

int qemu_savevm_state(QEMUFile *f, Error **errp)
{
    g_autoptr(QEMUFile) sections = qemu_file_new_output_buffer();
    g_autoptr(GPtrArray) regions = NULL;
    const uint8_t *data;
    size_t len;
    int ret;

    /*
     * Device state first, into memory: pre_save hooks may still change
     * guest RAM (a finishing TPM command writes its response into the CRB
     * window), so RAM is read only after all of them ran.
     */
    for (GList *l = savevm_entries; l; l = l->next) {
        ret = save_section(sections, l->data, errp);
        if (ret < 0) {
            return ret;
        }
    }
    regions = ram_regions(errp);
    if (!regions) {
        return -EINVAL;
    }

    qemu_put_be32(f, MIGRATION_STREAM_MAGIC);
    qemu_put_be32(f, MIGRATION_STREAM_VERSION);
    qemu_put_byte(f, MIGRATION_REC_CONFIG);
    migration_put_name(f, current_machine_type());
    save_ram(f, regions);
    data = qemu_file_buffer_data(sections, &len);
    qemu_put_buffer(f, data, len);
    qemu_put_byte(f, MIGRATION_REC_EOF);
    ret = qemu_fflush(f);
    if (ret < 0) {
        error_setg(errp, "migration: writing the stream failed: %s",
                   g_strerror(-ret));
    }
    return ret;
}

/* Read len bytes, growing only as fast as the stream delivers them. */
static GByteArray *read_payload(QEMUFile *f, uint32_t len)
{
    GByteArray *ba = g_byte_array_new();

    while (ba->len < len && !qemu_file_get_error(f)) {
        guint have = ba->len;
        size_t n = MIN((size_t)(len - have), (size_t)(1 * MiB));

        g_byte_array_set_size(ba, have + n);
        qemu_get_buffer(f, ba->data + have, n);
    }
    return ba;
}

static int load_section(QEMUFile *f, Error **errp)
{
    char name[MIGRATION_NAME_MAX + 1];
    g_autoptr(GByteArray) payload = NULL;
    g_autoptr(QEMUFile) body = NULL;
    uint32_t instance_id, version_id, len, crc;
    SaveStateEntry *se;
    uint64_t start;
    int ret;

    if (!migration_get_name(f, name, errp)) {
        return -EINVAL;
    }
    instance_id = qemu_get_be32(f);
    version_id = qemu_get_be32(f);
    len = qemu_get_be32(f);
    if (qemu_file_get_error(f)) {
        error_setg(errp, "migration: section '%s' truncated at byte %" PRIu64,
                   name, qemu_file_tell(f));
        return -EIO;
    }
    se = find_entry(name, instance_id);
    if (!se) {
        error_setg(errp, "migration: unknown section '%s' (instance %u)",
                   name, instance_id);
        return -ENOENT;
    }
    if (se->loaded) {
        error_setg(errp, "migration: section '%s' (instance %u) appears "
                   "twice", name, instance_id);
        return -EINVAL;
    }
    se->loaded = true;
    if (len > MIGRATION_MAX_SECTION_BYTES) {
        error_setg(errp, "migration: section '%s' announces %u bytes, more "
                   "than the limit of %llu", name, len,
                   (unsigned long long)MIGRATION_MAX_SECTION_BYTES);
        return -EINVAL;
    }
    if (version_id > INT_MAX) {
        error_setg(errp, "migration: section '%s' has version %u, this side "
                   "supports %d", name, version_id, se->vmsd->version_id);
        return -EINVAL;
    }
    start = qemu_file_tell(f);
    payload = read_payload(f, len);
    crc = qemu_get_be32(f);
    if (qemu_file_get_error(f)) {
        error_setg(errp, "migration: section '%s' truncated at byte %" PRIu64,
                   name, qemu_file_tell(f));
        return -EIO;
    }
    if (crc != migration_crc32(0, payload->data, len)) {
        error_setg(errp, "migration: section '%s' (instance %u) fails its "
                   "checksum", name, instance_id);
        return -EINVAL;
    }
    trace_loadvm_section(name, instance_id, len);
    body = qemu_file_new_input_buffer(payload->data, len, start);
    ret = vmstate_load_state(body, se->vmsd, se->opaque, version_id, errp);
    if (ret < 0) {
        return ret;
    }
    if (qemu_file_remaining(body)) {
        error_setg(errp, "migration: section '%s' has %zu unexpected bytes "
                   "at byte %" PRIu64, name, qemu_file_remaining(body),
                   qemu_file_tell(body));
        return -EINVAL;
    }
    return 0;
}

static int load_header(QEMUFile *f, Error **errp)
{
    char machine[MIGRATION_NAME_MAX + 1];
    uint32_t magic = qemu_get_be32(f);
    uint32_t version = qemu_get_be32(f);

    if (qemu_file_get_error(f)) {
        error_setg(errp, "migration: stream truncated at byte %" PRIu64
                   " (header)", qemu_file_tell(f));
        return -EIO;
    }
    if (magic != MIGRATION_STREAM_MAGIC) {
        error_setg(errp, "migration: not a migration stream (magic 0x%08x)",
                   magic);
        return -EINVAL;
    }
    if (version != MIGRATION_STREAM_VERSION) {
        error_setg(errp, "migration: stream version 0x%x is not supported "
                   "(expected 0x%x)", version, MIGRATION_STREAM_VERSION);
        return -EINVAL;
    }
    if (qemu_get_byte(f) != MIGRATION_REC_CONFIG) {
        if (qemu_file_get_error(f)) {
            error_setg(errp, "migration: stream truncated at byte %" PRIu64
                       " (header)", qemu_file_tell(f));
            return -EIO;
        }
        error_setg(errp, "migration: stream lacks its configuration record");
        return -EINVAL;
    }
    if (!migration_get_name(f, machine, errp)) {
        return -EINVAL;
    }
    /* As QEMU: both sides must run the same machine type version. */
    if (strcmp(machine, current_machine_type())) {
        error_setg(errp, "migration: the stream is from machine type '%s', "
                   "this VM runs '%s'", machine, current_machine_type());
        return -EINVAL;
    }
    return 0;
}

int qemu_loadvm_state(QEMUFile *f, Error **errp)
{
    g_autoptr(GPtrArray) regions = NULL;
    g_autofree bool *ram_seen = NULL;
    bool ram_done = false;
    int ret;

    for (GList *l = savevm_entries; l; l = l->next) {
        ((SaveStateEntry *)l->data)->loaded = false;
    }
    ret = load_header(f, errp);
    if (ret < 0) {
        return ret;
    }
    regions = ram_regions(errp);
    if (!regions) {
        return -EINVAL;
    }
    ram_seen = g_new0(bool, regions->len + 1);

    for (;;) {
        int rec = qemu_get_byte(f);

        if (qemu_file_get_error(f)) {
            error_setg(errp, "migration: stream truncated at byte %" PRIu64
                       " (no end marker)", qemu_file_tell(f));
            return -EIO;
        }
        if (rec == MIGRATION_REC_EOF) {
            break;
        }
        if (rec == MIGRATION_REC_RAM && !ram_done) {
            if (!load_ram(f, regions, ram_seen, errp)) {
                return -EINVAL;
            }
            ram_done = true;
        } else if (rec == MIGRATION_REC_SECTION) {
            ret = load_section(f, errp);
            if (ret < 0) {
                return ret;
            }
        } else {
            error_setg(errp, "migration: unexpected record type 0x%02x at "
                       "byte %" PRIu64, rec, qemu_file_tell(f) - 1);
            return -EINVAL;
        }
    }

    if (!ram_done && regions->len) {
        error_setg(errp, "migration: the stream carries no RAM");
        return -EINVAL;
    }
    for (GList *l = savevm_entries; l; l = l->next) {
        SaveStateEntry *se = l->data;

        /* A device the source did not send would run on reset state. */
        if (!se->loaded) {
            error_setg(errp, "migration: section '%s' (instance %u) is "
                       "missing from the stream", se->idstr,
                       se->instance_id);
            return -EINVAL;
        }
    }
    qemu_get_byte(f);
    if (!qemu_file_get_error(f)) {
        error_setg(errp, "migration: unexpected data after the end of the "
                   "stream at byte %" PRIu64, qemu_file_tell(f) - 1);
        return -EINVAL;
    }
    return 0;
}
