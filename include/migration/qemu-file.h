/*
 * QEMUFile: the byte stream migration writes and reads, over a growable
 * memory buffer or over a file descriptor (socket or regular file).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MIGRATION_QEMU_FILE_H
#define MIGRATION_QEMU_FILE_H

#include "migration/qemu-file-types.h"

/* An output stream collecting everything in memory. */
QEMUFile *qemu_file_new_output_buffer(void);
/*
 * An input stream over a copy of len bytes of data. Positions it reports
 * (qemu_file_tell) start at base, so that a nested record read out of a
 * larger stream names its bytes by their place in that stream.
 */
QEMUFile *qemu_file_new_input_buffer(const uint8_t *data, size_t len,
                                     uint64_t base);
/*
 * Streams over an open descriptor; the QEMUFile owns fd and closes it in
 * qemu_fclose(). Reads and writes block.
 */
QEMUFile *qemu_file_new_fd_output(int fd);
QEMUFile *qemu_file_new_fd_input(int fd);

/* Flushes (output), closes the descriptor if any; returns the error. */
int qemu_fclose(QEMUFile *f);
/* Writes out buffered output of a descriptor stream. */
int qemu_fflush(QEMUFile *f);

/* Bytes written to / consumed from this stream, plus the base. */
uint64_t qemu_file_tell(QEMUFile *f);
/*
 * Input buffers: bytes not yet read (SIZE_MAX for other streams). Lets a
 * reader refuse a length taken from the stream before allocating for it.
 */
size_t qemu_file_remaining(QEMUFile *f);
/* Output buffers only: the bytes written so far. */
const uint8_t *qemu_file_buffer_data(QEMUFile *f, size_t *len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(QEMUFile, qemu_fclose)

/* CRC-32 (IEEE 802.3) as the stream's section checksum. */
uint32_t migration_crc32(uint32_t crc, const uint8_t *buf, size_t len);

#endif /* MIGRATION_QEMU_FILE_H */
