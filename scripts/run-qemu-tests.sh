#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The TPM tests, run through QEMU's meson harness against the patched
# binary: QEMU's own (tpm-crb-test, tpm-crb-swtpm-test, tpm-tis-test,
# tpm-tis-swtpm-test, device-introspect-test, qom-test, the TPM cases of
# bios-tables-test, the unit test test-vmstate) and the ones the series
# adds (tpm-crb-abi-test, the chunking tests and the fault tests,
# tpm-crb-*-test).
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Usage: scripts/run-qemu-tests.sh [--sanitizers] [BUILD]
# Logs: BUILD/src/qemu/build/meson-logs/qemu-tpm.json,
# qemu-tpm-stock.json and qemu-acpi-{tpm2-tis,tpm12-tis}.json
#
# --sanitizers: the same tests (not those against the stock peer) in the
# --enable-asan --enable-ubsan build (clang, BUILD/src/qemu/build-san,
# made by scripts/build-qemu.sh asan; the fuzzers are built there too),
# every test program and QEMU under test sanitized, leaks included; the
# sanitizers write their reports to build-san/sanitizer-logs/, and any
# report fails the run. Logs:
# BUILD/src/qemu/build-san/meson-logs/qemu-tpm-asan.json,
# qemu-acpi-*-asan.json and sanitizer-reports.json.

set -u

sanitizers=
if [ "${1:-}" = --sanitizers ]; then
    sanitizers=1
    shift
fi
build=${1:-build}
if [ -n "$sanitizers" ]; then
    qb=$(cd "$build/src/qemu/build-san" && pwd) || exit 1
    sfx=-asan
    reports=$qb/sanitizer-logs
    rm -rf "$reports"
    mkdir -p "$reports"
    # Stop at the first report, keep going in the other processes, and
    # leave one file per process: QEMU's stderr is not always shown.
    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
    ASAN_OPTIONS=$ASAN_OPTIONS:log_path=$reports/asan
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    UBSAN_OPTIONS=$UBSAN_OPTIONS:log_path=$reports/ubsan
    LSAN_OPTIONS=suppressions=$(cd "$(dirname "$0")" && pwd)/lsan.supp
    # The build counts the device's lines (for the fuzzers' figures):
    # one pool, merged online, not a default.profraw in each folder.
    mkdir -p "$qb/coverage"
    LLVM_PROFILE_FILE=$qb/coverage/qemu-%2m.profraw
    export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS LLVM_PROFILE_FILE
    # Sanitized QEMU starts and runs two to three times slower.
    slow="--timeout-multiplier 3"
else
    slow=
    qb=$(cd "$build/src/qemu/build" && pwd) || exit 1
    sfx=
fi
meson=$qb/pyvenv/bin/meson
# QEMU's own, then the series' (tpm-crb-abi-test and the chunking tests)
tests="tpm-crb-test tpm-crb-swtpm-test tpm-tis-test tpm-tis-swtpm-test
       device-introspect-test qom-test
       tpm-crb-abi-test tpm-crb-regs-test tpm-crb-chunk-test
       tpm-crb-chunk-swtpm-test tpm-crb-diff-test tpm-crb-random-test
       tpm-crb-memory-test tpm-crb-migration-test tpm-crb-switchover-test
       tpm-crb-fault-test"
# One case per run: GLib prints a TAP plan per -p.
acpi_cases="tpm2-tis tpm12-tis"

# test-vmstate: the unit test of the migration field types, which the
# series extends (VMSTATE_GBYTEARRAY).
units="test-vmstate"

targets=""
names=""
for t in $tests; do
    targets="$targets tests/qtest/$t"
    names="$names qtest-x86_64/$t"
done
for t in $units; do
    targets="$targets tests/unit/$t"
    names="$names $t"
done
echo "qemu-tests: building$targets tests/qtest/bios-tables-test"
# shellcheck disable=SC2086
if ! ninja -C "$qb" $targets tests/qtest/bios-tables-test \
        > "$qb/ninja-tests.log" 2>&1; then
    tail -n 30 "$qb/ninja-tests.log" >&2
    echo "qemu-tests: build failed" >&2
    exit 1
fi

# The differential and cross-version tests compare with the stock peer
# (make stock), in the sanitized run too (only this QEMU is sanitized).
if [ -x "$build/stock/qemu-system-x86_64" ]; then
    TPM_CRB_STOCK_QEMU=$(cd "$build/stock" && pwd)/qemu-system-x86_64
    export TPM_CRB_STOCK_QEMU
fi

status=0
# shellcheck disable=SC2086
(cd "$qb" && "$meson" test --no-rebuild --print-errorlogs \
    --num-processes 2 --logbase "qemu-tpm$sfx" $slow $names) || status=1
# bios-tables-test tries KVM first. Where KVM has no SMM (nested
# virtualisation, as on this project's machines) the tables differ from
# QEMU's expected ones, which are those of a machine with SMM, as under
# TCG; stock QEMU fails the same way. So these cases run with /dev/kvm
# hidden in a mount namespace of their own, under TCG, as on a host
# without KVM.
without_kvm() {
    if [ -e /dev/kvm ]; then
        for u in "" "-r"; do
            # shellcheck disable=SC2086
            if unshare $u -m --propagation private true 2>/dev/null; then
                # shellcheck disable=SC2086,SC2016
                unshare $u -m --propagation private sh -c \
                    'mount --bind /dev/null /dev/kvm && exec "$@"' sh "$@"
                return
            fi
        done
        echo "qemu-tests: cannot hide /dev/kvm; running with it" >&2
    fi
    "$@"
}
# The same device tests against the stock peer: every register and
# access rule must hold there too, and what needs the series' properties
# or chunking skips with its reason (QTEST_QEMU_PEER).
if [ -z "$sanitizers" ] && [ -n "${TPM_CRB_STOCK_QEMU:-}" ]; then
    (cd "$qb" && "$meson" test --no-rebuild --print-errorlogs \
        --logbase qemu-tpm-stock \
        --wrapper "env QTEST_QEMU_BINARY=$TPM_CRB_STOCK_QEMU QTEST_QEMU_PEER=1" \
        qtest-x86_64/tpm-crb-test qtest-x86_64/tpm-crb-swtpm-test \
        qtest-x86_64/tpm-crb-regs-test qtest-x86_64/tpm-crb-chunk-test) ||
        status=1
    # meson names a log after its wrapper too
    mv "$qb/meson-logs/qemu-tpm-stock-env.json" \
       "$qb/meson-logs/qemu-tpm-stock.json"
fi
for c in $acpi_cases; do
    (cd "$qb" && without_kvm "$meson" test --no-rebuild --print-errorlogs \
        --logbase "qemu-acpi-$c$sfx" qtest-x86_64/bios-tables-test \
        --test-args "-p /x86_64/acpi/q35/$c") || status=1
done
if [ -n "$sanitizers" ]; then
    # A sanitizer's report fails the run even where the test passed.
    # (Every QEMU process also notes that ASan does not fully follow its
    # coroutines' stack switches; that note alone is not a report.)
    found=$(grep -l -E 'ERROR: [A-Za-z]+Sanitizer|runtime error:|^SUMMARY: ' \
            -r "$reports" | sort)
    if [ -n "$found" ]; then
        echo "qemu-tests: sanitizer reports:" >&2
        for f in $found; do
            echo "== $f" >&2
            head -n 40 "$f" >&2
        done
        status=1
        tap="not ok 1 no sanitizer report ($(echo "$found" | wc -l) reports)"
        result=FAIL
    else
        echo "qemu-tests: no sanitizer report (ASan, UBSan, LSan)"
        tap="ok 1 no sanitizer report in $(ls "$reports" | wc -l) processes"
        result=OK
    fi
    # For test-summary.py, as one more test log
    printf '{"name": "sanitizer-reports", "result": "%s", "stdout": "%s"}\n' \
        "$result" "$tap" > "$qb/meson-logs/sanitizer-reports.json"
fi
exit $status
