#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make check-fuzz: QEMU's fuzzing framework (libFuzzer, ASan) on the
# series' two tpm-crb targets, built by scripts/build-qemu.sh fuzz:
# generic-fuzz-tpm-crb (QEMU's generic fuzzer, a real swtpm) and
# tpm-crb-chunks (driver steps against a TPM that answers with any size,
# tests/qtest/fuzz/tpm_crb_fuzz.c). For each: the seed corpus in the tree
# (tests/fuzz/corpus/TARGET) is replayed, then fuzzed for FUZZ_SECONDS
# (default 30); then the coverage of hw/tpm/tpm_crb.c by everything run
# (llvm-cov: lines, branches). A crash, a leak or an assertion fails.
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Usage: scripts/check-fuzz.sh [BUILD]
#   FUZZ_SECONDS=N   how long each target is fuzzed
#   FUZZ_MERGE=1     afterwards, merge what was found into the tree's
#                    corpus (keeping only inputs that add coverage)
#   FUZZ_TARGETS="T ..."  only these targets
#   FUZZ_OUT=DIR     write there instead of BUILD/fuzz
# Output: BUILD/fuzz/TARGET/ (the run's corpus, crashes, logs),
# BUILD/fuzz/summary.txt, BUILD/fuzz/testlog.json (for test-summary.py)

set -u

srcdir=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd) || exit 1
fuzz=$build/src/qemu/build-san/qemu-fuzz-x86_64
seconds=${FUZZ_SECONDS:-30}
out=${FUZZ_OUT:-$build/fuzz}
targets=${FUZZ_TARGETS:-tpm-crb-chunks generic-fuzz-tpm-crb}

if [ ! -x "$fuzz" ]; then
    echo "check-fuzz: $fuzz is missing (scripts/build-qemu.sh fuzz)" >&2
    exit 1
fi
rm -rf "$out"
mkdir -p "$out"
status=0
: > "$out/summary.txt"
: > "$out/testlog.json"

# One record per target for test-summary.py: NAME RESULT TAP-LINES
record() {
    printf '{"name": "fuzz/%s", "result": "%s", "stdout": "%s"}\n' \
        "$1" "$2" "$3" >> "$out/testlog.json"
}

for t in $targets; do
    seeds=$srcdir/tests/fuzz/corpus/$t
    work=$out/$t
    mkdir -p "$work/corpus" "$work/crashes" "$work/profiles"
    # Each process writes its own profile; they are merged below.
    LLVM_PROFILE_FILE=$work/profiles/%p.profraw
    export LLVM_PROFILE_FILE

    echo "check-fuzz: $t: replaying $(ls "$seeds" | wc -l) seeds"
    if ! "$fuzz" --fuzz-target="$t" -runs=0 -timeout=10 \
            -artifact_prefix="$work/crashes/" "$seeds" \
            > "$work/replay.log" 2>&1; then
        tail -n 40 "$work/replay.log" >&2
        echo "check-fuzz: $t: a seed fails (log: $work/replay.log)" >&2
        status=1
        record "$t" FAIL "not ok 1 $t: the seed corpus replays"
        continue
    fi
    echo "check-fuzz: $t: fuzzing for $seconds s"
    # swtpm 0.7.1 keeps a descriptor per CMD_INIT, one per input of the
    # generic target (a reset each): at this machine's limit one fuzzer
    # process with a real swtpm takes about 20,000 inputs. So that target
    # runs as processes of 15,000 inputs each, a fresh swtpm each, until
    # the time is up; they share the corpus.
    runs=-1
    [ "$t" != generic-fuzz-tpm-crb ] || runs=15000
    start=$(date +%s)
    rc=0
    : > "$work/fuzz.log"
    while [ $rc -eq 0 ]; do
        left=$(( seconds - ($(date +%s) - start) ))
        [ $left -gt 0 ] || break
        "$fuzz" --fuzz-target="$t" -max_total_time="$left" -timeout=10 \
            -runs="$runs" -print_final_stats=1 \
            -artifact_prefix="$work/crashes/" \
            "$work/corpus" "$seeds" >> "$work/fuzz.log" 2>&1
        rc=$?
        [ "$runs" -gt 0 ] || break
    done
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
            "$work/fuzz.log" | awk '{ n += $1 } END { print n }')
    crashes=$(ls "$work/crashes" | wc -l)
    verdict="ok 2 $t: $seconds s of fuzzing without a crash"
    if [ $rc -ne 0 ] || [ "$crashes" -ne 0 ]; then
        grep -E -A30 'ERROR:|==[0-9]+==|assert' "$work/fuzz.log" |
            head -n 60 >&2
        echo "check-fuzz: $t: exit $rc, $crashes crash inputs in" \
             "$work/crashes" >&2
        status=1
        verdict="not ok 2 $t: $crashes crashes in $seconds s of fuzzing"
    fi
    case $verdict in
    ok*) record "$t" OK "ok 1 $t: the seed corpus replays\\n$verdict" ;;
    *) record "$t" FAIL "ok 1 $t: the seed corpus replays\\n$verdict" ;;
    esac

    # Coverage of the device by the seeds and everything found
    profiles=$(find "$work/profiles" -name '*.profraw' -size +0)
    cov="no profile"
    if [ -n "$profiles" ]; then
        # shellcheck disable=SC2086
        llvm-profdata-14 merge -sparse $profiles -o "$work/tpm_crb.profdata"
        # Only the device is instrumented (scripts/fuzz-coverage.list)
        llvm-cov-14 report "$fuzz" -instr-profile="$work/tpm_crb.profdata" \
            > "$work/coverage.txt" 2>&1
        # Filename Regions Missed Cover Functions Missed Executed Lines
        # Missed Cover Branches Missed Cover
        cov=$(awk '$1 ~ /tpm_crb\.c$/ {
                  printf "lines %s, branches %s, functions %s", $10, $13, $7
              }' "$work/coverage.txt")
    fi
    line="$t: ${execs:-?} executions in $seconds s, $crashes crashes;"
    line="$line coverage of hw/tpm/tpm_crb.c: ${cov:-see $work/coverage.txt}"
    echo "check-fuzz: $line"
    echo "$line" >> "$out/summary.txt"

    if [ -n "${FUZZ_MERGE:-}" ] && [ $status -eq 0 ]; then
        mkdir -p "$work/merged"
        "$fuzz" --fuzz-target="$t" -merge=1 -timeout=10 "$work/merged" \
            "$seeds" "$work/corpus" > "$work/merge.log" 2>&1 &&
            for f in "$work/merged"/*; do
                [ -e "$seeds/$(basename "$f")" ] || cp "$f" "$seeds/"
            done
        echo "check-fuzz: $t: corpus now $(ls "$seeds" | wc -l) inputs"
    fi
done
exit $status
