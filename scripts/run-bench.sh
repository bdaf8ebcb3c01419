#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make bench: the tpm-crb benchmarks (tests/bench, docs/benchmarks.md).
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
#   1. in-process: device + swtpm backend through the MMIO ops, against
#      the same commands sent straight to a swtpm data channel;
#   2. through qtest: this emulator, Debian's QEMU 7.2 and an echo
#      floor, with emulator and swtpm CPU time per command;
#   3. callgrind: instructions in the device per command and per byte,
#      against a copy-in + copy-out baseline.
# Prints the three tables and the ratios; writes BUILDDIR/bench/ (TSV,
# callgrind dumps) and the plot BUILDDIR/bench.png and bench.svg.
#
# Usage: scripts/run-bench.sh [BUILDDIR]
# Environment: BENCH_ITERATIONS (in-process, default 1000), BENCH_ROUNDS and
# BENCH_BATCH (qtest, default 20 x 50), BENCH_CG_ITERATIONS (default 20).

set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=$(cd "${1:-build}" && pwd)
iterations=${BENCH_ITERATIONS:-1000}
rounds=${BENCH_ROUNDS:-20}
batch=${BENCH_BATCH:-50}
cg_iterations=${BENCH_CG_ITERATIONS:-20}
inproc=$builddir/tests/bench/tpm-crb-bench-inproc
qtestb=$builddir/tests/bench/tpm-crb-bench-qtest
out=$builddir/bench

for p in swtpm valgrind gnuplot python3; do
    if ! command -v "$p" >/dev/null 2>&1; then
        echo "make bench: '$p' not found (scripts/install-deps.sh bench)" >&2
        exit 1
    fi
done

ninja -C "$builddir" tests/bench/tpm-crb-bench-inproc \
    tests/bench/tpm-crb-bench-qtest qemu-system-x86_64 >/dev/null

rm -rf "$out"
mkdir -p "$out/callgrind"
uname -srm > "$out/machine.txt"
echo "nproc $(nproc)" >> "$out/machine.txt"
grep -m1 'model name' /proc/cpuinfo >> "$out/machine.txt" || true
echo "load-before $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"
echo "swtpm $(swtpm --version 2>&1 | head -1)" >> "$out/machine.txt"
echo "peer $(/usr/bin/qemu-system-x86_64 --version 2>/dev/null | head -1)" \
    >> "$out/machine.txt"
meson introspect --buildoptions "$builddir" | python3 -c '
import json, sys
opts = {o["name"]: o["value"] for o in json.load(sys.stdin)}
print("buildtype", opts.get("buildtype"), "sanitizers", opts.get("sanitizers"))
' >> "$out/machine.txt"

echo "== part 1: in-process (device + backend vs direct swtpm)," \
    "$iterations iterations"
for w in 3968 512 64; do
    "$inproc" --backend swtpm --window "$w" --iterations "$iterations" \
        --out "$out/inproc.tsv"
    "$inproc" --backend fake --fake-buffer 8192 --window "$w" \
        --iterations "$iterations" --out "$out/inproc.tsv"
done

echo "== part 2: qtest (ours, QEMU 7.2, echo floor), $rounds rounds x $batch"
"$qtestb" --ours "$builddir/qemu-system-x86_64" --rounds "$rounds" \
    --batch "$batch" --out "$out/qtest.tsv"

echo "== part 3: callgrind (instructions in the device)"
# glibc's memset/memcpy switch to "rep stosb/movsb" above a few KiB, and
# callgrind counts every iteration of a rep instruction: the tunables keep
# the vector loops for device and baseline alike, so that a count
# reflects instructions rather than bytes.
tunables=glibc.cpu.x86_rep_stosb_threshold=0x7fffffff
tunables=$tunables:glibc.cpu.x86_rep_movsb_threshold=0x7fffffff
for w in 3968 512 64; do
    for be in swtpm fake; do
        GLIBC_TUNABLES=$tunables valgrind --tool=callgrind \
            --toggle-collect=tpm_crb_mmio_write \
            --toggle-collect=tpm_crb_mmio_read \
            --toggle-collect=tpm_crb_request_completed \
            --toggle-collect=bench_copy_baseline \
            --callgrind-out-file="$out/callgrind/cg.$be.$w.%p" \
            "$inproc" --callgrind --backend "$be" --fake-buffer 8192 \
            --window "$w" --iterations "$cg_iterations" --warmup 3 \
            >"$out/callgrind/log.$be.$w" 2>&1 || {
                echo "callgrind run failed (see $out/callgrind/log.$be.$w)" >&2
                exit 1
            }
    done
done
echo "load-after $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"

python3 "$srcdir/tests/bench/bench-report.py" "$out" "$builddir"
