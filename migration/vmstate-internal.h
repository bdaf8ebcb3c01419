/*
 * Migration engine internals shared by the VMState walker, the field
 * types and the section layer.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MIGRATION_VMSTATE_INTERNAL_H
#define MIGRATION_VMSTATE_INTERNAL_H

#include "qapi/error.h"
#include "migration/qemu-file.h"

/*
 * No single field may claim more than this, whatever the stream says;
 * the swtpm state blobs, the largest fields here, are far smaller.
 */
#define VMSTATE_MAX_FIELD_BYTES (64 * MiB)

/* Stream markers inside a section's payload. */
#define VMSTATE_SUBSECTION_MARK 0x05
#define VMSTATE_SUBSECTIONS_END 0x1f

/* Names in the stream: a length byte, then 1..255 printable bytes. */
#define MIGRATION_NAME_MAX 255
void migration_put_name(QEMUFile *f, const char *name);
/* name must hold MIGRATION_NAME_MAX + 1 bytes. */
bool migration_get_name(QEMUFile *f, char *name, Error **errp);

/* How many bytes a field being loaded may still claim. */
static inline size_t vmstate_load_limit(QEMUFile *f)
{
    return MIN(qemu_file_remaining(f), VMSTATE_MAX_FIELD_BYTES);
}

#endif /* MIGRATION_VMSTATE_INTERNAL_H */
