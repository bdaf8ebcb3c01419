#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run the test suite in a build directory and end with one summary line:
# "N passed, N failed, N skipped" (individual TAP test cases).

set -u
builddir=${1:-build}
shift 2>/dev/null || true

meson test -C "$builddir" --print-errorlogs --num-processes 2 "$@"
status=$?
# .ci/run sets TEST_SUMMARY_PREFIX so that only its own combined line
# starts with a number.
summary=$(python3 "$(dirname "$0")/test-summary.py" \
          "$builddir/meson-logs/testlog.json")
summary_status=$?
echo "${TEST_SUMMARY_PREFIX:-}$summary"
if [ $status -ne 0 ] || [ $summary_status -ne 0 ]; then
    exit 1
fi
