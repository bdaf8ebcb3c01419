#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make run-bridge: a real tpm2-tools session on the host through the
# tpm-crb device's chunked interface over qtest, in the patched QEMU
# 10.2.2 (the main job, make run, does it in a guest: run-main.sh).
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Starts swtpm and the emulator (through tpm-crb-bridge's background
# session) with a small CRB window, runs contrib/tpm-crb-bridge/workload.sh
# (primary key, RSA-3072 signing key created/loaded/used, signature
# verified, PCRs extended and read, 2 KiB NV index written and read back,
# capabilities), prints what crossed the interface, a verdict, and stops
# everything it started.
#
# Usage: scripts/run-bridge.sh [TOOLS_BUILDDIR [QEMU]]   (the tools' build
# folder, default build/tools, and the patched QEMU, default
# build/qemu-system-x86_64; TPM_CRB_BRIDGE_WINDOW=N to change the window,
# default 64 bytes)

set -u

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=$(cd "${1:-build/tools}" && pwd) || exit 1
bridge=$builddir/contrib/tpm-crb-bridge
emulator=${2:-build/qemu-system-x86_64}
window=${TPM_CRB_BRIDGE_WINDOW:-64}

for f in "$bridge" "$emulator"; do
    if [ ! -x "$f" ]; then
        echo "make run-bridge: $f is missing; build first (make)" >&2
        exit 1
    fi
done
for p in swtpm tpm2_getcap timeout; do
    if ! command -v "$p" >/dev/null 2>&1; then
        echo "make run-bridge: '$p' not found (scripts/install-deps.sh run)" >&2
        exit 1
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/tpm-crb-run-XXXXXX") || exit 1
session=$work/session
stats=$work/stats.tsv

cleanup() {
    "$bridge" --session "$session" --stop >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

TPM2TOOLS_TCTI="cmd:$bridge --session $session --emulator $emulator"
TPM2TOOLS_TCTI="$TPM2TOOLS_TCTI --window $window --stats $stats"
TPM2TOOLS_TCTI="$TPM2TOOLS_TCTI --idle-timeout 120"
export TPM2TOOLS_TCTI

echo "== tpm-crb: tpm2-tools through the CRB interface, window $window bytes"
if ! "$bridge" --session "$session" --emulator "$emulator" \
        --window "$window" --idle-timeout 120 --start; then
    echo "VERDICT: FAIL - could not start swtpm and the emulator" \
         "(logs in $session)"
    trap - EXIT
    exit 1
fi
"$bridge" --session "$session" --status
echo

timeout 900 sh "$srcdir/contrib/tpm-crb-bridge/workload.sh" "$work/wl" \
    >"$work/transcript.txt"
wl=$?

echo "-- tpm2-tools steps"
sed -n -e 's/^== \(.*\): exit 0$/   ok      \1/p' \
    -e 's/^== \(.*\): exit \([1-9][0-9]*\)$/   FAILED  \1 (exit \2)/p' \
    "$work/transcript.txt"
echo
echo "-- PCR 16 after reset, extend and event (sha256):"
sed -n '/^== pcrread/,/^==/p' "$work/transcript.txt" |
    sed -n '/sha256:/,$p' | sed -n '2p' | sed 's/^ */   /'
echo

echo "-- what crossed the interface (bytes and chunks per command)"
"$bridge" --report "$stats" --expect-multichunk
rep=$?
echo

if [ $wl -eq 0 ] && [ $rep -eq 0 ]; then
    # stats fields: 5 chunks in, 6 chunks out, 11 origin (tool|bridge)
    tools=$(awk -F '\t' '$11 != "bridge"' "$stats" | grep -c .)
    own=$(awk -F '\t' '$11 == "bridge"' "$stats" | grep -c .)
    both=$(awk -F '\t' '$5 > 1 && $6 > 1' "$stats" | grep -c .)
    echo "VERDICT: PASS - $tools TPM commands from tpm2-tools (and $own" \
         "clean-up commands from the bridge) went through a $window-byte" \
         "CRB window; $both of them took more than one chunk each way"
    exit 0
fi
if [ $wl -ne 0 ]; then
    echo "VERDICT: FAIL - the tpm2-tools session failed (see above)"
else
    echo "VERDICT: FAIL - no command took more than one chunk each way"
fi
exit 1
