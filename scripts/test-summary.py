#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Count TAP test cases across one or more meson test logs
# (meson-logs/testlog.json) and print one line for all of them:
# "N passed, N failed, N skipped". A test program that failed without a
# TAP failure of its own (crash, timeout, bad exit, sanitizer report)
# counts as one failure; so does a log that is missing or unreadable, so
# that a suite which never ran cannot look green. Exit status 1 if
# anything failed.
#
# Usage: test-summary.py [--per-log] TESTLOG.json [TESTLOG.json ...]

import json
import re
import sys

OK = re.compile(r'^ok\s+\d+')
NOT_OK = re.compile(r'^not ok\s+\d+')
SKIP = re.compile(r'#\s*skip', re.IGNORECASE)
TODO = re.compile(r'#\s*todo', re.IGNORECASE)


def count_test(t):
    """Return (passed, failed, skipped) for one test program's record."""
    p = fl = s = 0
    for out in (t.get('stdout') or t.get('stdo') or '').splitlines():
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
    if result in ('FAIL', 'TIMEOUT', 'ERROR', 'UNEXPECTEDPASS') and fl == 0:
        fl = 1
        print('failed without a TAP failure: %s (%s)'
              % (t.get('name'), result), file=sys.stderr)
    if result == 'SKIP' and p + fl + s == 0:
        s = 1
    return p, fl, s


def count_log(path):
    passed = failed = skipped = 0
    try:
        with open(path, encoding='utf-8') as f:
            for line in f:
                if not line.strip():
                    continue
                p, fl, s = count_test(json.loads(line))
                passed += p
                failed += fl
                skipped += s
    except (OSError, ValueError) as e:
        print('test-summary: %s: %s' % (path, e), file=sys.stderr)
        return 0, 1, 0
    return passed, failed, skipped


def main(argv):
    per_log = False
    if argv and argv[0] == '--per-log':
        per_log = True
        argv = argv[1:]
    if not argv:
        print('usage: test-summary.py [--per-log] TESTLOG.json...',
              file=sys.stderr)
        return 2
    total = [0, 0, 0]
    for path in argv:
        counts = count_log(path)
        if per_log:
            print('%s: %d passed, %d failed, %d skipped'
                  % ((path,) + counts), file=sys.stderr)
        total = [a + b for a, b in zip(total, counts)]
    print('%d passed, %d failed, %d skipped' % tuple(total))
    return 1 if total[1] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
