#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The hand-written seeds of the tpm-crb-chunks fuzz target
# (tests/qtest/fuzz/tpm_crb_fuzz.c), in its step language, written to
# tests/fuzz/corpus/tpm-crb-chunks/seed-*, and a few for
# generic-fuzz-tpm-crb. The rest of both corpora is what fuzzing found
# (FUZZ_MERGE=1 scripts/check-fuzz.sh keeps the inputs that add coverage).
#
# Copyright (c) 2026 The tpm-crb-chunk authors

import os
import struct

(LOCALITY, CTRL_REQ, WINDOW, HEADER, NEXT_CHUNK, START, RETRY, CANCEL,
 REGISTER, REPLY, WAIT, MIGRATE, READ, RESTART, MIGRATE_TO) = range(15)
W = 64


def locality():
    return bytes([LOCALITY, 0])


def cmd_ready():
    return bytes([CTRL_REQ, 0])


def header(size, cc=0x7b):
    return bytes([HEADER]) + struct.pack('>H', size) + bytes([cc])


def window(off, data):
    return bytes([WINDOW, off, len(data)]) + data


def body(n, fill=0x5a):
    return bytes([fill]) * n


def upload(size):
    """A command of size bytes in W-byte pieces, then Start."""
    out = header(size) + window(10, body(min(W, size) - 10))
    sent = min(W, size)
    while sent < size:
        out += bytes([NEXT_CHUNK])
        n = min(W, size - sent)
        out += window(0, body(n, sent & 0xff))
        sent += n
    return out + bytes([START, WAIT])


def download(chunks):
    return bytes([NEXT_CHUNK]) * chunks


def migrate(at=0, flip=0):
    return bytes([MIGRATE]) + struct.pack('>HB', at, flip)


# The device's section as vmstate_save_state() writes it: the registers
# (32 x 4 bytes), then the subsection: its marker, name length, name
# "tpm-crb/chunk" and version (19 bytes), the command (length, bytes),
# the response (length, bytes) and the response offset.
AT_COMMAND_LEN = 128 + 19


def migrate_set(at, value):
    """Save, set the four bytes at at to value, load back."""
    return bytes([MIGRATE]) + struct.pack('>HBI', 0x8000 | at, 0, value)


def restart(buffer, fails=False):
    """The TPM restarts with a buffer of buffer bytes, or fails to."""
    return bytes([RESTART]) + struct.pack('>HB', buffer, fails)


def migrate_to(buffer, at=0, flip=0):
    """Save, change a byte, load into a TPM of buffer bytes."""
    return bytes([MIGRATE_TO]) + struct.pack('>HHB', buffer, at, flip)


def upload_zeros(pieces, second=b''):
    """A command of 200 bytes, code 0, its first pieces of zeros (the
    second starting with second), without Start."""
    first = b'\x80\x01' + struct.pack('>I', 200) + bytes(W - 6)
    out = locality() + cmd_ready() + window(0, first)
    for k in range(1, pieces):
        piece = second + bytes(W - len(second)) if k == 1 else bytes(W)
        out += bytes([NEXT_CHUNK]) + window(0, piece)
    return out + bytes([NEXT_CHUNK])


def mid_download(size):
    """A response of size bytes (echoed), its first chunk read."""
    return locality() + cmd_ready() + upload(size) + download(1)


def upload_part(size, pieces):
    """The first pieces of a command of size bytes, without Start."""
    out = header(size) + window(10, body(W - 10))
    for k in range(1, pieces):
        out += bytes([NEXT_CHUNK]) + window(0, body(W, k))
    return out + bytes([NEXT_CHUNK])


SEEDS = {
    'one-chunk': locality() + cmd_ready() + upload(12),
    'upload-200-echo': locality() + cmd_ready() + upload(200) +
    download(3) + bytes([RETRY]) + download(4),
    'sized-300': bytes([REPLY, 1]) + struct.pack('>H', 300) + locality() +
    cmd_ready() + upload(20) + download(2) + bytes([RETRY, NEXT_CHUNK]),
    'sized-too-big': bytes([REPLY, 1]) + struct.pack('>H', 4100) +
    locality() + cmd_ready() + upload(20) + locality() + cmd_ready() +
    upload(20),
    'fixed-reply': bytes([REPLY, 2, 20]) + bytes(range(0x80, 0x80 + 30)) +
    locality() + cmd_ready() + upload(40),
    'framing-short': locality() + cmd_ready() + header(5) +
    bytes([NEXT_CHUNK, START, WAIT]),
    'framing-over-b': locality() + cmd_ready() + header(5000) +
    bytes([NEXT_CHUNK]),
    'start-early': locality() + cmd_ready() + header(300) +
    bytes([NEXT_CHUNK, START, WAIT]),
    'discard-upload': locality() + cmd_ready() + header(300) +
    bytes([NEXT_CHUNK, CTRL_REQ, 1, CTRL_REQ, 0]) + upload(12),
    'cancel-and-relinquish': locality() + cmd_ready() + upload(100) +
    bytes([CANCEL, LOCALITY, 1, RETRY, NEXT_CHUNK]),
    'migrate-mid-upload': locality() + cmd_ready() + upload_part(200, 2) +
    migrate() + window(0, body(64, 2)) + bytes([NEXT_CHUNK]) +
    window(0, body(8, 3)) + bytes([START, WAIT]),
    'migrate-mid-download': locality() + cmd_ready() + upload(200) +
    download(1) + migrate() + download(3) + bytes([RETRY]),
    'migrate-flipped': locality() + cmd_ready() + upload_part(200, 1) +
    migrate(140, 0xff) + migrate(131, 0x01),
    # An incoming state with a field of any value (SPEC §5's refusals)
    'migrate-set-offset-past-end': mid_download(200) +
    migrate_set(AT_COMMAND_LEN + 8 + 200, 0x10000),
    'migrate-set-offset-unaligned': mid_download(200) +
    migrate_set(AT_COMMAND_LEN + 8 + 200, 3),
    'migrate-set-response-short': mid_download(200) +
    migrate_set(AT_COMMAND_LEN + 4, 4),
    'migrate-set-command-short': locality() + cmd_ready() +
    upload_part(200, 2) + migrate_set(AT_COMMAND_LEN, 4),
    # The response's length 0: its first bytes become the offset
    'migrate-set-response-empty': mid_download(200) +
    migrate_set(AT_COMMAND_LEN + 4, 0),
    # The command's length 2: the response's length is read from it
    'migrate-set-command-2': locality() + cmd_ready() +
    upload_part(200, 2) + migrate_set(AT_COMMAND_LEN, 2),
    # The command's length 6: the response's length (0) and offset (0)
    # are read from the zeros after it, and the command is short
    'migrate-set-command-6': upload_zeros(2) +
    migrate_set(AT_COMMAND_LEN, 6),
    # The command's length 64: a response of 4 bytes is read after it,
    # which the upload discards
    'migrate-set-upload-response': upload_zeros(2, b'\0\0\0\x04') +
    migrate_set(AT_COMMAND_LEN, 64),
    # A TPM of 48 bytes: no chunking; one command fits, a larger one is
    # refused by the device, nextChunk is ignored
    'restart-48': restart(48) + locality() + cmd_ready() + upload(40) +
    header(60) + bytes([NEXT_CHUNK, START, WAIT, RETRY]) + restart(4096),
    # Regressions: LOC_STATE read while the TPM is not running (swtpm
    # answers CMD_GET_TPMESTABLISHED with the result alone, patch 7), and
    # the device's own 10-byte answer with a TPM buffer below a header
    'restart-fails': restart(4096, True) + bytes([READ, 0, 2]) +
    locality() + cmd_ready() + upload(100) + download(1) + restart(4096),
    'restart-0': restart(0) + locality() + cmd_ready() + upload(12),
    # The destination's TPM has a smaller buffer than the transfer
    'migrate-to-smaller-upload': locality() + cmd_ready() +
    upload_part(200, 2) + migrate_to(100),
    'migrate-to-smaller-response': mid_download(200) + migrate_to(150),
    'migrate-to-larger': mid_download(200) + migrate_to(4000) +
    download(3),
    'register-writes': bytes([REGISTER, 0x40, 0, 0, 0, 2, 2,
                              REGISTER, 0x08, 0, 0, 0, 1, 2,
                              REGISTER, 0x4c, 0, 0, 0, 6, 0]),
}


# generic-fuzz (QEMU's tests/qtest/fuzz/generic_fuzz.c): operations
# separated by "FUZZ", each an opcode byte and its arguments; a write is
# size (0 byte .. 3 quad), region, offset, value (struct layout, padded).
G_READ, G_WRITE = 2, 3


def g_write(off, val, size=2):
    return b'FUZZ' + bytes([G_WRITE]) + struct.pack('<BBxxIQ', size, 0, off,
                                                    val)


def g_read(off, size=2):
    return b'FUZZ' + bytes([G_READ]) + struct.pack('<BBxxI', size, 0, off)


GENERIC_SEEDS = {
    'locality-cmdready-start': g_write(0x08, 1) + g_write(0x40, 1) +
    g_write(0x4c, 1) + g_read(0x4c) + g_read(0x44),
    'nextchunk-retry-cancel': g_write(0x08, 1) + g_write(0x40, 1) +
    g_write(0x4c, 2) + g_write(0x4c, 4) + g_write(0x48, 1) +
    g_write(0x40, 2) + g_write(0x08, 2),
}


def write_seeds(target, seeds):
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       'corpus', target)
    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(out, 'seed-' + name), 'wb') as f:
            f.write(data)


def main():
    write_seeds('tpm-crb-chunks', SEEDS)
    write_seeds('generic-fuzz-tpm-crb', GENERIC_SEEDS)


if __name__ == '__main__':
    main()
