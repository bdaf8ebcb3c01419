/*
 * A test-side view of the tpm-crb device's state in a real QEMU
 * migration stream (a file: stream), so that tests can take it out,
 * check it against the device's rules, change one thing and put it back.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The stream is not parsed as a whole (RAM sections have formats of
 * their own): the tpm-crb section is found by its header, a
 * QEMU_VM_SECTION_FULL record named "tpm-crb" with instance 0 and
 * version 0, and its payload is parsed field by field up to the section
 * footer. Everything before and after is kept as it was.
 */

#ifndef TESTS_QTEST_MIGRATION_STREAM_H
#define TESTS_QTEST_MIGRATION_STREAM_H

typedef struct MigStream {
    /* The stream up to the tpm-crb section's payload */
    GByteArray *prefix;
    /* The payload: the register array and any subsection */
    GByteArray *payload;
    /* From the section footer to the end of the stream */
    GByteArray *suffix;
    /* Offsets in the parsed stream: the section record, its payload */
    size_t section_offset;
    size_t payload_offset;
} MigStream;

/* NULL (with a message in err) if the tpm-crb section is not there. */
MigStream *mig_stream_parse(const uint8_t *data, size_t len, GError **err);
GByteArray *mig_stream_serialize(const MigStream *s);
void mig_stream_free(MigStream *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MigStream, mig_stream_free)

/*
 * The tpm-crb section's payload: the register array, then optionally the
 * tpm-crb/chunk subsection (command, response, response offset, as
 * QEMU 11.1 lays it out). The phase is derived from them on decode, as the
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
