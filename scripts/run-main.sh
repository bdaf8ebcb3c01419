#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The main job (make run): a Linux guest in the patched QEMU 10.2.2 with
# a tpm-crb device and a real swtpm, booted twice (scripts/guest-run.py):
#
#   1. q35 with cap-chunk=on (chunking offered), SeaBIOS, the full 3968-byte
#      window: the kernel's own tpm_crb driver binds and runs a
#      tpm2-tools workload through /dev/tpmrm0; then it is unbound and the
#      same workload runs through the project's chunked driver
#      (tpm-crb-bridge --devmem), plus a 4096-byte command in two chunks;
#   2. x-data-buffer-size=64, the kernel driver kept out, qboot (SeaBIOS
#      cannot measure the boot through 64 bytes and would disable the
#      owner hierarchy): the workload through the chunked driver.
#
# Per command it prints the size and chunks each way and the result, then
# a summary and one VERDICT line; it exits non-zero on any failure.
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Usage: scripts/run-main.sh [BUILD]   (default build: BUILD/tools and
# BUILD/qemu-system-x86_64; the guest image goes to BUILD/guest)

set -u

srcdir=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd) || exit 1
qemu=$build/qemu-system-x86_64

for f in "$build/tools/contrib/tpm-crb-bridge" "$qemu"; do
    if [ ! -x "$f" ]; then
        echo "make run: $f is missing; build first (make)" >&2
        exit 1
    fi
done
if ! sh "$srcdir/scripts/guest-image.sh" "$build/tools" "$build/guest"; then
    echo "VERDICT: FAIL - the guest image could not be built"
    exit 1
fi
exec python3 "$srcdir/scripts/guest-run.py" run --qemu "$qemu" \
    --guest "$build/guest" --work "$build/guest-run"
