#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make check: the TPM tests through QEMU's meson harness against the
# patched QEMU (scripts/run-qemu-tests.sh: QEMU's own and the series'),
# then the tools' tests (the reference driver and the tpm2-tools bridge,
# build/tools), and one closing line over all of them:
# "N passed, N failed, N skipped".
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Usage: scripts/check.sh BUILD

set -u

build=${1:-build}
here=$(dirname "$0")
logs=$build/src/qemu/build/meson-logs
tools=$build/tools

status=0
rm -f "$logs"/qemu-tpm*.json "$logs"/qemu-acpi-*.json
sh "$here/run-qemu-tests.sh" "$build" || status=1
meson test -C "$tools" --print-errorlogs || status=1

# A log that is missing counts as a failure (test-summary.py).
summary=$(python3 "$here/test-summary.py" --per-log \
          "$logs/qemu-tpm.json" "$logs/qemu-tpm-stock.json" \
          "$logs/qemu-acpi-tpm2-tis.json" \
          "$logs/qemu-acpi-tpm12-tis.json" \
          "$tools/meson-logs/testlog.json") || status=1
echo "${TEST_SUMMARY_PREFIX:-}$summary"
exit $status
