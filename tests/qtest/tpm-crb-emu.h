/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * tpm-emu: an in-process fake of swtpm for transport tests. A thread
 * listens on a unix control socket, speaks swtpm's control protocol
 * (swtpm/tpm_ioctl.h) and answers TPM commands on the data channel that
 * the client hands over with CMD_SET_DATAFD, following a script: echo,
 * a fixed response, a response of a chosen size, failure, a short
 * response, or a stall until released or cancelled.
 *
 * It reaches what a real swtpm cannot (8 KiB and 64 KiB buffers, broken
 * responses) and counts what it was asked; it never stands in for a real
 * swtpm where real TPM behaviour is tested.
 */

#ifndef TESTS_QTEST_TPM_EMU_H
#define TESTS_QTEST_TPM_EMU_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum TPMEmuReply {
    /* Answer with the command's own bytes (a well-formed response). */
    TPM_EMU_REPLY_ECHO,
    /* Answer with the bytes given to tpm_emu_set_response(). */
    TPM_EMU_REPLY_FIXED,
    /*
     * Answer with tpm_emu_set_response_size() bytes: tag 0x8001, that
     * size, rc 0, then tpm_emu_pattern_byte(i) for byte i >= 10.
     */
    TPM_EMU_REPLY_SIZED,
    /* Close the data channel without answering (backend sees EOF). */
    TPM_EMU_REPLY_FAIL,
    /*
     * Send the first tpm_emu_set_short_len() bytes of the SIZED response
     * (whose header declares more), then close the data channel.
     */
    TPM_EMU_REPLY_SHORT,
    /*
     * Hold the command: answer (as tpm_emu_set_stall_reply() says, ECHO
     * unless set) only on tpm_emu_release(), or with TPM_RC_CANCELED on
     * CMD_CANCEL_TPM_CMD.
     */
    TPM_EMU_REPLY_STALL,
} TPMEmuReply;

typedef struct TPMEmu TPMEmu;

/*
 * Start a fake TPM whose buffer size (what CMD_SET_BUFFERSIZE reports and
 * the most it accepts) is buffer_size. The control socket is created in
 * a fresh temporary directory.
 */
TPMEmu *tpm_emu_start(uint32_t buffer_size, GError **errp);
/* Stop the thread, close everything, remove the socket and directory. */
void tpm_emu_stop(TPMEmu *emu);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TPMEmu, tpm_emu_stop)

const char *tpm_emu_socket_path(TPMEmu *emu);

void tpm_emu_set_reply(TPMEmu *emu, TPMEmuReply reply);
void tpm_emu_set_stall_reply(TPMEmu *emu, TPMEmuReply reply);
void tpm_emu_set_response(TPMEmu *emu, const void *buf, size_t len);
void tpm_emu_set_response_size(TPMEmu *emu, uint32_t size);
void tpm_emu_set_short_len(TPMEmu *emu, uint32_t len);
/*
 * From now on the TPM's buffer is buffer_size bytes, as if started with
 * it: a TPM built otherwise, as a migration's destination may have.
 */
void tpm_emu_set_buffer_size(TPMEmu *emu, uint32_t buffer_size);
/*
 * Whether CMD_INIT fails (TPM_FAIL), as a TPM that cannot start; the data
 * channel answers as scripted all the same.
 */
void tpm_emu_set_init_failure(TPMEmu *emu, bool fail);
/* The byte a SIZED response carries at offset i (i >= 10). */
uint8_t tpm_emu_pattern_byte(uint32_t i);

/* STALL: wait (up to timeout_ms) until a command is being held. */
bool tpm_emu_wait_held(TPMEmu *emu, unsigned timeout_ms);
/* STALL: answer the held command now. */
void tpm_emu_release(TPMEmu *emu);

/* TPM commands received on the data channel. */
unsigned tpm_emu_command_count(TPMEmu *emu);
/* Control commands received, by code (CMD_INIT, CMD_CANCEL_TPM_CMD...). */
unsigned tpm_emu_ctrl_count(TPMEmu *emu, uint32_t cmd);
/* A copy of the last TPM command received (empty before the first). */
GByteArray *tpm_emu_last_command(TPMEmu *emu);
/* The buffer size currently in use (after CMD_SET_BUFFERSIZE). */
uint32_t tpm_emu_buffer_size(TPMEmu *emu);
/* The last locality set with CMD_SET_LOCALITY. */
uint8_t tpm_emu_locality(TPMEmu *emu);

#endif /* TESTS_QTEST_TPM_EMU_H */
