/*
 * The whole-VM migration stream: registered device sections and RAM
 * regions, written and read as one self-checking stream.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MIGRATION_SAVEVM_H
#define MIGRATION_SAVEVM_H

#include "migration/qemu-file.h"

/*
 * Stream layout (all integers big-endian):
 *   be32 magic 'QEVM', be32 MIGRATION_STREAM_VERSION
 *   0x07 config:  machine type name
 *   0x08 RAM:     be32 count, then per region: name, be64 size, pages
 *                 (be64 offset, min(4 KiB, size - offset) bytes) for each
 *                 page that is not all zero, be64 ~0, be32 CRC-32 of the
 *                 region's page records
 *   0x04 section: name, be32 instance id, be32 version, be32 length,
 *                 payload (see migration/vmstate.c), be32 CRC-32 of it
 *   ...           one section per registered description
 *   0x1f          end of stream; nothing may follow
 * A name is a length byte and 1..255 printable bytes.
 */
#define MIGRATION_STREAM_MAGIC 0x5145564d
#define MIGRATION_STREAM_VERSION 0x100
#define MIGRATION_REC_SECTION 0x04
#define MIGRATION_REC_CONFIG 0x07
#define MIGRATION_REC_RAM 0x08
#define MIGRATION_REC_EOF 0x1f
#define MIGRATION_RAM_PAGE_SIZE 4096
#define MIGRATION_RAM_REGION_END UINT64_MAX
/* No section payload may be larger, whatever the stream announces. */
#define MIGRATION_MAX_SECTION_BYTES (64 * MiB)

/* Why the VM cannot migrate now (blockers, unmigratable devices). */
bool qemu_savevm_state_blocked(Error **errp);

/*
 * Write the whole state. Every description's pre_save runs before any
 * RAM is written, so that work they finish (a TPM command completing
 * into the CRB window) is in the RAM that travels.
 */
int qemu_savevm_state(QEMUFile *f, Error **errp);

/*
 * Read a whole stream and apply it. On failure the VM's state is partly
 * overwritten and it must not run; errp names the section and the byte.
 */
int qemu_loadvm_state(QEMUFile *f, Error **errp);

#endif /* MIGRATION_SAVEVM_H */
