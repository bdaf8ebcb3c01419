#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Count TAP test cases across a meson test log and print
# "N passed, N failed, N skipped". A test program that failed without a
# TAP failure of its own (crash, timeout, bad exit) counts as one failure.
# Exit status 1 if anything failed.

import json
import re
import sys

OK = re.compile(r'^ok\s+\d+')
NOT_OK = re.compile(r'^not ok\s+\d+')
SKIP = re.compile(r'#\s*skip', re.IGNORECASE)
TODO = re.compile(r'#\s*todo', re.IGNORECASE)


def main(path):
    passed = failed = skipped = 0
    with open(path, encoding='utf-8') as f:
        for line in f:
            if not line.strip():
                continue
            t = json.loads(line)
            p = fl = s = 0
            for out in (t.get('stdo') or '').splitlines():
                out = out.strip()
                if NOT_OK.match(out):
                    if TODO.search(out):
                        continue
                    fl += 1
                elif OK.match(out):
                    if SKIP.search(out):
                        s += 1
                    else:
                        p += 1
            result = t.get('result', '')
            if result in ('FAIL', 'TIMEOUT', 'ERROR', 'UNEXPECTEDPASS') \
                    and fl == 0:
                fl = 1
                print('failed without a TAP failure: %s (%s)'
                      % (t.get('name'), result), file=sys.stderr)
            if result == 'SKIP' and p + fl + s == 0:
                s = 1
            passed += p
            failed += fl
            skipped += s
    print('%d passed, %d failed, %d skipped' % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
