/*
 * A test-side reader and writer of this host's migration stream (the
 * layout of migration/savevm.h), so that tests can take a real stream
 * apart, change one thing in a device's state and put it back together
 * with correct lengths and checksums.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_MIGRATION_STREAM_H
#define TESTS_QTEST_MIGRATION_STREAM_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct MigStreamSection {
    char *name;
    uint32_t instance_id;
    uint32_t version_id;
    GByteArray *payload;
    /* Where the section record starts in the parsed stream. */
    size_t offset;
} MigStreamSection;

typedef struct MigStream {
    /* Magic, version and configuration record, as read. */
    GByteArray *head;
    /* The RAM record, type byte included, as read. */
    GByteArray *ram;
    size_t ram_offset;
    /* MigStreamSection *, in stream order. */
    GPtrArray *sections;
    size_t eof_offset;
} MigStream;

/* NULL (with a message in err) if data is not a complete valid stream. */
MigStream *mig_stream_parse(const uint8_t *data, size_t len, GError **err);
GByteArray *mig_stream_serialize(const MigStream *s);
MigStreamSection *mig_stream_find(MigStream *s, const char *name);
void mig_stream_free(MigStream *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MigStream, mig_stream_free)

uint32_t mig_stream_crc32(const uint8_t *buf, size_t len);

/*
 * The tpm-crb section's payload: the register array, then optionally the
 * tpm-crb/chunk subsection (command, response, response offset: upstream
 * QEMU's layout). The phase is derived from them on decode, as the
 * device derives it on load, and not encoded.
 */
#define CRB_MIG_NREGS 32

typedef struct CRBMigState {
    uint32_t regs[CRB_MIG_NREGS];
    bool has_chunk;
    uint32_t phase;
    GByteArray *cmd;
    GByteArray *rsp;
    uint32_t rsp_offset;
} CRBMigState;

/* Phase values as the device numbers them. */
#define CRB_MIG_PHASE_UPLOAD 1
#define CRB_MIG_PHASE_DOWNLOAD 3
#define CRB_MIG_PHASE_DRAINED 4

bool crb_mig_decode(const GByteArray *payload, CRBMigState *st,
                    GError **err);
GByteArray *crb_mig_encode(const CRBMigState *st);
void crb_mig_clear(CRBMigState *st);

#endif /* TESTS_QTEST_MIGRATION_STREAM_H */
