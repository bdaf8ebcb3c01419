#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run the libFuzzer targets of a -Dfuzzing=true build: for each target,
# replay the committed corpus (tests/fuzz/corpus/<target>), then fuzz for
# a bounded time starting from it. Prints TAP (one case per replay and
# per run, with libFuzzer's executions and cov:/ft: figures); a crash,
# leak, timeout or out-of-memory fails the case and leaves the input in
# BUILD/fuzz/<target>/artifacts/. New inputs go to BUILD/fuzz/<target>/
# corpus/, never into the source tree. Full libFuzzer output:
# BUILD/fuzz/<target>/fuzz.log.
#
# Usage: run-fuzz.py BUILD [--seconds N] [--only TARGET]...
# (N defaults to $FUZZ_SECONDS, else 30; 0 replays only.)

import argparse
import os
import re
import subprocess
import sys
import time

TARGETS = ['fuzz-tpm-crb', 'fuzz-migration', 'fuzz-qtest', 'fuzz-qmp']
SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATS = re.compile(r'^#(\d+)\s+(?:DONE|INITED)\s+cov: (\d+) ft: (\d+) '
                   r'corp: (\d+)/(\S+)')
EXECS = re.compile(r'stat::number_of_executed_units: (\d+)')


def fuzzer_env():
    """libFuzzer's own crash handling, not the test wrappers' log files."""
    env = dict(os.environ)
    for k in ('ASAN_OPTIONS', 'LSAN_OPTIONS', 'UBSAN_OPTIONS',
              'QTEST_SANITIZER_LOG'):
        env.pop(k, None)
    env['UBSAN_OPTIONS'] = 'halt_on_error=1:print_stacktrace=1'
    return env


def run(cmd, log, timeout):
    with open(log, 'ab') as f:
        f.write(('\n$ %s\n' % ' '.join(cmd)).encode())
        f.flush()
        try:
            p = subprocess.run(cmd, stdout=f, stderr=f, timeout=timeout,
                               env=fuzzer_env())
            status = p.returncode
        except subprocess.TimeoutExpired:
            status = 'timeout'
    with open(log, encoding='utf-8', errors='replace') as f:
        text = f.read()
    return status, text[text.rfind('\n$ '):]


def figures(text):
    last = None
    for line in text.splitlines():
        m = STATS.match(line)
        if m:
            last = m
    execs = EXECS.findall(text)
    if not last:
        return 'no statistics'
    return ('%s execs, cov: %s ft: %s corp: %s/%s'
            % (execs[-1] if execs else last.group(1), last.group(2),
               last.group(3), last.group(4), last.group(5)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('build')
    ap.add_argument('--seconds', type=int,
                    default=int(os.environ.get('FUZZ_SECONDS', '30')))
    ap.add_argument('--only', action='append')
    args = ap.parse_args()

    targets = args.only or TARGETS
    print('1..%d' % (len(targets) * (2 if args.seconds else 1)))
    n = 0
    failed = 0
    for t in targets:
        binary = os.path.join(args.build, 'tests', 'fuzz', t)
        corpus = os.path.join(SRC, 'tests', 'fuzz', 'corpus', t)
        work = os.path.join(args.build, 'fuzz', t)
        new = os.path.join(work, 'corpus')
        arts = os.path.join(work, 'artifacts')
        log = os.path.join(work, 'fuzz.log')
        os.makedirs(new, exist_ok=True)
        os.makedirs(arts, exist_ok=True)
        common = ['-artifact_prefix=%s/' % arts, '-timeout=25',
                  '-rss_limit_mb=2048', '-print_final_stats=1']

        n += 1
        if not os.path.exists(binary):
            print('not ok %d - %s replay # %s not built (-Dfuzzing=true)'
                  % (n, t, binary))
            failed += 1
            continue
        t0 = time.time()
        status, text = run([binary, '-runs=0'] + common + [corpus], log, 600)
        ok = status == 0
        failed += not ok
        print('%s %d - %s replay of %s: %s (%.1f s)'
              % ('ok' if ok else 'not ok', n, t, os.path.relpath(corpus, SRC),
                 figures(text), time.time() - t0))
        if not ok:
            sys.stdout.write(''.join('# ' + l + '\n'
                                     for l in text.splitlines()[-30:]))
        if not args.seconds:
            continue

        n += 1
        t0 = time.time()
        status, text = run([binary, '-max_total_time=%d' % args.seconds]
                           + common + [new, corpus], log,
                           args.seconds + 120)
        ok = status == 0
        failed += not ok
        print('%s %d - %s fuzzed for %d s: %s (%.0f s)'
              % ('ok' if ok else 'not ok', n, t, args.seconds,
                 figures(text), time.time() - t0))
        if not ok:
            sys.stdout.write(''.join('# ' + l + '\n'
                                     for l in text.splitlines()[-40:]))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
