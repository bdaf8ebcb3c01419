#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make check: QEMU's own TPM tests against the patched QEMU
# (scripts/run-qemu-tests.sh), then this tree's suite on the lean host
# (scripts/run-tests.sh), and one closing line over both:
# "N passed, N failed, N skipped".
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Usage: scripts/check.sh BUILD LEAN_BUILD

set -u

build=${1:-build}
lean=${2:-$build/lean}
here=$(dirname "$0")
logs=$build/src/qemu/build/meson-logs

status=0
rm -f "$logs/qemu-tpm.json" "$logs/qemu-acpi-tpm2-tis.json" \
          "$logs/qemu-acpi-tpm12-tis.json"
sh "$here/run-qemu-tests.sh" "$build" || status=1
TEST_SUMMARY_PREFIX="lean host: " sh "$here/run-tests.sh" "$lean" || status=1

# A log that is missing counts as a failure (test-summary.py).
summary=$(python3 "$here/test-summary.py" --per-log \
          "$logs/qemu-tpm.json" "$logs/qemu-acpi-tpm2-tis.json" \
          "$logs/qemu-acpi-tpm12-tis.json" \
          "$lean/meson-logs/testlog.json") || status=1
echo "${TEST_SUMMARY_PREFIX:-}$summary"
exit $status
