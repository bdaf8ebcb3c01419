#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Write the hand-made seed inputs of the fuzz targets into
# tests/fuzz/corpus/<target>/ (the migration seeds come from real saves:
# FUZZ_MIGRATION_WRITE_SEEDS=DIR fuzz-migration-replay). The device seeds
# use the step encoding of tests/fuzz/fuzz-tpm-crb.c.
#
# Usage: tests/fuzz/gen-corpus.py [CORPUS_ROOT]

import os
import struct
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), 'corpus')


def u16(v):
    return struct.pack('<H', v & 0xffff)


def u32(v):
    return struct.pack('<I', v & 0xffffffff)


def u64(v):
    return struct.pack('<Q', v & 0xffffffffffffffff)


# fuzz-tpm-crb steps
def write(off, size_sel, val):
    return bytes([0 | size_sel << 4]) + u16(off) + u64(val)


def read(off, size_sel):
    return bytes([1 | size_sel << 4]) + u16(off)


def request_access():
    return bytes([5])


def relinquish():
    return bytes([5 | 0x10])


def cmd_ready():
    return bytes([6 | 1 << 5])


def go_idle():
    return bytes([6 | 2 << 5])


def cancel():
    return bytes([6 | 0x10 | 1 << 5])


def header_small(extra):
    return bytes([3, 0, extra])


def header_window(delta):
    return bytes([3, 1]) + u16(delta + 32)


def header_buffer(delta):
    return bytes([3, 2, delta + 8])


def header_tiny(size):
    return bytes([3, 3, size])


def header_two_windows(extra):
    return bytes([3, 4, extra])


def header_any(size):
    return bytes([3, 5]) + u32(size)


def start_bits(bits):
    return bytes([4 | bits << 4])


START, RETRY, NEXT = 1, 2, 4


def answer(r, rc_fail=False):
    return bytes([7, 0x80 if rc_fail else 0]) + u16(r)


def short(r, produced):
    return bytes([7, 1]) + u16(r) + u16(produced)


def bad_size(r, declared):
    return bytes([7, 2]) + u16(r) + u32(declared)


def fail():
    return bytes([7, 3]) + u16(0)


def window(off, val):
    return bytes([8]) + u16(off) + u64(val)


def reset():
    return bytes([9 | 0x80])


def cfg(chunk_off=False, cancel_answers=False, b=1, w=0):
    return bytes([(1 if chunk_off else 0) | (2 if cancel_answers else 0),
                  (b & 0xf) | (w << 4)])


DEVICE = {
    # one small command, read back, go idle
    'simple': cfg() + request_access() + cmd_ready() + header_small(2) +
    start_bits(START) + answer(20) + read(0x80, 2) + read(0x4c, 2) +
    go_idle(),
    # W = 64: three upload chunks, four download chunks, a retry
    'chunked-w64': cfg(w=2) + request_access() + cmd_ready() +
    header_two_windows(0) + start_bits(NEXT) + window(8, 0x1122334455667788) +
    start_bits(START) + answer(190) + start_bits(NEXT) * 2 +
    start_bits(RETRY) + start_bits(NEXT) * 4 + read(0x80, 3),
    # W = 3968, B = 8 KiB: a command just under B
    'chunked-b8k': cfg(b=1, w=0) + request_access() + cmd_ready() +
    header_buffer(-1) + start_bits(NEXT) + start_bits(START) +
    answer(8000) + start_bits(NEXT) * 3,
    # framing errors: S < 10, S > B, Start before all chunks arrived
    'framing': cfg(w=2) + request_access() + header_tiny(3) +
    start_bits(START) + read(0x80, 2) + header_buffer(5) +
    start_bits(NEXT) + header_two_windows(1) + start_bits(NEXT) +
    header_small(0) + start_bits(START) + read(0x44, 2),
    # malformed backend responses and a failure
    'backend-faults': cfg(w=3) + request_access() + header_small(2) +
    start_bits(START) + short(40, 12) + header_small(2) +
    start_bits(START) + bad_size(40, 0xffffffff) + header_small(2) +
    start_bits(START) + fail() + read(0x44, 2) + header_small(2) +
    start_bits(START) + answer(20),
    # stalled command: register traffic, cancel, reset
    'stall-cancel-reset': cfg(cancel_answers=True) + request_access() +
    header_small(2) + start_bits(START) + start_bits(NEXT) + go_idle() +
    cancel() + header_small(2) + start_bits(START) + reset() +
    read(0x44, 2) + relinquish() + start_bits(START),
    # chunking off: nextChunk and crbRspRetry are ignored
    'nochunk': cfg(chunk_off=True) + request_access() + header_window(40) +
    start_bits(NEXT) + start_bits(START) + header_small(1) +
    start_bits(START | NEXT | RETRY) + answer(30) + start_bits(RETRY),
    # every access size at unaligned offsets, across the window end
    'unaligned': cfg(w=4) + b''.join(
        write(off, sel, 0x0102030405060708) + read(off, sel)
        for sel in range(4) for off in (0x1, 0x3, 0x4b, 0x4d, 0x7f, 0x81,
                                        0x80 + 3965, 0xffd)),
}

QTEST = {
    'rw': b'endianness\nwritel 0xfed40008 1\nreadl 0xfed4004c\n'
          b'writeb 0x10 0x5a\nreadb 0x10\nwritew 0x11 0xffff\n'
          b'readq 0x10\nwriteq 0x100 0x1122334455667788\n',
    'buffers': b'write 0x0 4 0x01020304\nread 0x0 4\nb64write 0x20 3 AAEC\n'
               b'b64read 0x20 3\nmemset 0x40 16 0xaa\nread 0x40 16\n'
               b'write 0xfed40080 12 0x8001000000\n',
    'crb-command': b'writel 0xfed40008 1\nwritel 0xfed40040 1\n'
                   b'write 0xfed40080 12 0x80010000000c0000017b0010\n'
                   b'writel 0xfed4004c 1\nreadl 0xfed4004c\n'
                   b'readl 0xfed40044\n',
    'errors': b'\nfrobnicate\nreadl\nwritel 0x10\nread 0x0 0\n'
              b'read 0x0 0x1000001\nwrite 0x0 4 0xzz\nwrite 0x0 4 0x\n'
              b'b64write 0x0 4 !!\nmemset 0x0 0x40000001 1\n'
              b'readl 18446744073709551616\nclock_step -1\nclock_set x\n',
    'clock-irq': b'clock_step\nclock_step 1000\nclock_set 5000\n'
                 b'irq_intercept_in ioapic\nset_irq_in a b 1 2\n'
                 b'outb 0x80 1\ninb 0x80\nmodule_load a b\n',
}

QMP = {
    'negotiate': b'\x00{"execute": "qmp_capabilities"}\n'
                 b'{"execute": "query-status"}\n'
                 b'{"execute": "query-version", "id": 1}\n',
    'commands': b'\x01{"execute": "query-commands"}'
                b'{"execute": "query-machines"}{"execute": "query-name"}'
                b'{"execute": "qom-list-types", "arguments": '
                b'{"implements": "device", "abstract": true}}'
                b'{"execute": "stop"}{"execute": "cont"}'
                b'{"execute": "system_reset"}{"execute": "query-migrate"}'
                b'{"execute": "migrate_cancel"}',
    'malformed': b'\x01{"execute": 1}{"execute": "x", "bogus": 2}'
                 b'{"arguments": []}[1, 2]"str"{"execute": "quit", '
                 b'"arguments": {"x": 1}}}{{{"a":\n{"execute": "stop", '
                 b'"id": {"nested": [1, 2.5e300, null, true, "\\u0041"]}}',
    'oob': b'\x00{"execute": "qmp_capabilities", "arguments": '
           b'{"enable": ["oob"]}}{"exec-oob": "query-status"}'
           b'{"execute": "qmp_capabilities", "arguments": '
           b'{"enable": [1]}}',
}


def dump(target, seeds):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)


dump('fuzz-tpm-crb', DEVICE)
dump('fuzz-qtest', QTEST)
dump('fuzz-qmp', QMP)
