#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Test wrapper for sanitizer builds (meson test setup "sanitizers"): runs
# one test program with AddressSanitizer, LeakSanitizer and UBSan set to
# write their reports to files in a fresh directory, then fails the test
# if any process it started (the test itself, or the emulator it spawned
# with stderr sent to /dev/null) left a report there.
#
# Usage: sanitizer-test.py PROGRAM [ARGS...]
#
# Environment: SANITIZER_LOG_ROOT (default: $MESON_BUILD_ROOT or the
# current directory, + /meson-logs/sanitizers) is where the per-run
# directories go; they are removed when nothing was reported.
# LSAN_SUPPRESSIONS_FILE, when set, names a LeakSanitizer suppression list.

import os
import shutil
import subprocess
import sys
import tempfile

# Exit status of a process that a sanitizer stopped: distinct from the
# emulator's own 1 (error) so that a test expecting "exit 1" cannot
# mistake a sanitizer abort for the error it wanted.
SANITIZER_EXITCODE = 66


def merge_options(name, defaults):
    """Our settings first, then whatever the caller already set."""
    given = os.environ.get(name, '')
    return ':'.join([defaults] + ([given] if given else []))


def main(argv):
    if not argv:
        print('usage: sanitizer-test.py PROGRAM [ARGS...]', file=sys.stderr)
        return 2
    root = os.environ.get('SANITIZER_LOG_ROOT') or os.path.join(
        os.environ.get('MESON_BUILD_ROOT', os.getcwd()), 'meson-logs',
        'sanitizers')
    os.makedirs(root, exist_ok=True)
    name = os.path.basename(argv[0])
    logdir = tempfile.mkdtemp(prefix=name + '-', dir=root)
    prefix = os.path.join(logdir, 'report')

    common = ('log_path=%s:exitcode=%d:print_summary=1'
              % (prefix, SANITIZER_EXITCODE))
    env = dict(os.environ)
    env['ASAN_OPTIONS'] = merge_options(
        'ASAN_OPTIONS',
        common + ':detect_leaks=1:halt_on_error=1:abort_on_error=0'
        ':detect_stack_use_after_return=1:strict_string_checks=1'
        ':check_initialization_order=1')
    env['UBSAN_OPTIONS'] = merge_options(
        'UBSAN_OPTIONS', common + ':halt_on_error=1:print_stacktrace=1')
    lsan = common + ':report_objects=1'
    supp = os.environ.get('LSAN_SUPPRESSIONS_FILE')
    if supp:
        lsan += ':suppressions=' + supp
    env['LSAN_OPTIONS'] = merge_options('LSAN_OPTIONS', lsan)
    # libqtest checks "<prefix>.<pid>" when it reaps the emulator, so the
    # failing test case is named, not just the program.
    env['QTEST_SANITIZER_LOG'] = prefix

    try:
        status = subprocess.call(argv, env=env)
    except OSError as e:
        print('sanitizer-test: cannot run %s: %s' % (argv[0], e),
              file=sys.stderr)
        return 1

    reports = sorted(f for f in os.listdir(logdir)
                     if f.startswith('report.'))
    if not reports:
        shutil.rmtree(logdir, ignore_errors=True)
        return status
    sys.stdout.flush()
    for f in reports:
        path = os.path.join(logdir, f)
        if f.endswith('.reported'):
            print('sanitizer-test: %s (already shown by the test)' % path,
                  file=sys.stderr)
            continue
        print('sanitizer-test: report in %s:' % path, file=sys.stderr)
        with open(path, encoding='utf-8', errors='replace') as fp:
            sys.stderr.write(fp.read())
    print('sanitizer-test: %s: %d sanitizer report(s) in %s'
          % (name, len(reports), logdir), file=sys.stderr)
    return status if status else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
