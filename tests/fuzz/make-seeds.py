#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The hand-written seeds of the tpm-crb-chunks fuzz target
# (tests/qtest/fuzz/tpm_crb_fuzz.c), in its step language, written to
# tests/fuzz/corpus/tpm-crb-chunks/seed-*. The rest of that corpus, and
# generic-fuzz-tpm-crb's, is what fuzzing found (scripts/check-fuzz.sh
# --merge keeps the inputs that add coverage).
#
# Copyright (c) 2026 The tpm-crb-chunk authors

import os
import struct

(LOCALITY, CTRL_REQ, WINDOW, HEADER, NEXT_CHUNK, START, RETRY, CANCEL,
 REGISTER, REPLY, WAIT) = range(11)
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
    'register-writes': bytes([REGISTER, 0x40, 0, 0, 0, 2, 2,
                              REGISTER, 0x08, 0, 0, 0, 1, 2,
                              REGISTER, 0x4c, 0, 0, 0, 6, 0]),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       'corpus', 'tpm-crb-chunks')
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, 'seed-' + name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
