#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The static migration check of SPEC §5: QEMU's own
# scripts/vmstate-static-checker.py on -dump-vmstate of the stock peer
# (source) and the patched QEMU (destination), for each machine type that
# both have. It must report nothing that it does not already report when
# stock is compared with itself (QEMU 10.2.2's checker has complaints of
# its own about sd-card, with or without the series). TAP on stdout.
#
# Only this direction: the checker judges a newer destination. The other
# way it reports the tpm-crb/chunk subsection as missing in stock, which
# it cannot see is never sent on these machine types
# (x-allow-chunk-migration=off there); real migrations prove that way.
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Usage: vmstate-static-check.py CHECKER STOCK_QEMU PATCHED_QEMU MACHINE...

import os
import subprocess
import sys
import tempfile


def dump(qemu, machine, path):
    subprocess.run([qemu, '-M', machine, '-nodefaults', '-display', 'none',
                    '-dump-vmstate', path], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   timeout=120)


def check(checker, src, dst):
    r = subprocess.run([sys.executable, checker, '-s', src, '-d', dst],
                       capture_output=True, text=True, timeout=120)
    return r.returncode, sorted((r.stdout + r.stderr).splitlines())


def main(argv):
    checker, stock, patched, machines = argv[0], argv[1], argv[2], argv[3:]
    if not os.access(stock, os.X_OK):
        print('1..0 # SKIP no stock QEMU at %s (make stock)' % stock)
        return 0
    print('1..%d' % len(machines))
    n = 0
    status = 0
    with tempfile.TemporaryDirectory() as tmp:
        for m in machines:
            s = os.path.join(tmp, 'stock-%s.json' % m)
            p = os.path.join(tmp, 'patched-%s.json' % m)
            dump(stock, m, s)
            dump(patched, m, p)
            base_rc, base = check(checker, s, s)
            n += 1
            rc, out = check(checker, s, p)
            new = [line for line in out if line not in base]
            if rc == base_rc and not new:
                print('ok %d %s stock -> patched' % (n, m))
            else:
                status = 1
                print('not ok %d %s stock -> patched (exit %d, stock '
                      'itself %d)' % (n, m, rc, base_rc))
                for line in new:
                    print('# %s' % line)
    return status


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
