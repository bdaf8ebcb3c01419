#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Test wrapper for "meson test --setup valgrind" (make check-valgrind):
# a qtest program runs natively, but the emulator it starts
# (QTEST_QEMU_BINARY) runs under valgrind memcheck through
# scripts/valgrind-qemu.sh; a program with no emulator (unit tests, fuzz
# corpus replays) runs under valgrind itself. Afterwards every valgrind log is read; any
# memory error or definite leak fails the test, and the figures are
# printed to stderr (the meson log).
#
# A test that runs a different emulator (QTEST_QEMU_PEER, Debian's QEMU)
# is run unchanged.
#
# Usage: valgrind-test.py PROGRAM [ARGS...]

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ERRORS = re.compile(r'ERROR SUMMARY: (\d+) errors')
DEFINITE = re.compile(r'definitely lost: ([\d,]+) bytes')


def main(argv):
    if not argv:
        print('usage: valgrind-test.py PROGRAM [ARGS...]', file=sys.stderr)
        return 2
    env = dict(os.environ)
    real = env.get('QTEST_QEMU_BINARY')
    peer = env.get('QTEST_QEMU_PEER', '') not in ('', '0')
    if peer:
        return subprocess.call(argv, env=env)
    if shutil.which('valgrind') is None:
        print('valgrind-test: valgrind not installed', file=sys.stderr)
        return 77

    root = os.path.join(env.get('MESON_BUILD_ROOT', os.getcwd()),
                        'meson-logs', 'valgrind')
    os.makedirs(root, exist_ok=True)
    logdir = tempfile.mkdtemp(prefix=os.path.basename(argv[0]) + '-',
                              dir=root)
    env['VALGRIND_LOG_DIR'] = logdir
    env['VALGRIND_SUPP'] = os.path.join(HERE, 'valgrind.supp')
    if not real:
        # No emulator to wrap (unit tests, fuzz corpus replays): the
        # program itself runs in-process code, so it runs under valgrind.
        env['VALGRIND_QEMU_REAL'] = argv[0]
        return finish([os.path.join(HERE, 'valgrind-qemu.sh')] + argv[1:],
                      env, logdir, argv[0])
    env['VALGRIND_QEMU_REAL'] = real
    # libqtest wants the binary named *-system-<arch>: a link with the
    # real binary's name, in the per-run directory.
    stand_in = os.path.join(logdir, 'bin', os.path.basename(real))
    os.makedirs(os.path.dirname(stand_in))
    os.symlink(os.path.join(HERE, 'valgrind-qemu.sh'), stand_in)
    env['QTEST_QEMU_BINARY'] = stand_in
    # Replies take longer under valgrind.
    env.setdefault('QTEST_TIMEOUT', '600')
    return finish(argv, env, logdir, argv[0])


def finish(argv, env, logdir, name):
    """Run argv, then read every valgrind log written to logdir."""
    status = subprocess.call(argv, env=env)

    bad = []
    runs = 0
    for f in sorted(os.listdir(logdir)):
        path = os.path.join(logdir, f)
        if not f.startswith('vg.'):
            continue
        with open(path, encoding='utf-8', errors='replace') as fp:
            text = fp.read()
        runs += 1
        errs = sum(int(n) for n in ERRORS.findall(text))
        lost = sum(int(n.replace(',', '')) for n in DEFINITE.findall(text))
        if errs or lost:
            bad.append((path, errs, lost, text))
    print('valgrind-test: %s: %d process(es) under valgrind, %d with '
          'errors or definite leaks (logs: %s)'
          % (os.path.basename(name), runs, len(bad), logdir),
          file=sys.stderr)
    for path, errs, lost, text in bad:
        print('valgrind-test: %s: %d errors, %d bytes definitely lost:\n%s'
              % (path, errs, lost, text), file=sys.stderr)
    if bad:
        return status if status else 1
    return status


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
