#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Stand-in for the emulator binary under "meson test --setup valgrind":
# libqtest and the TPM tests start QTEST_QEMU_BINARY, which points here;
# this execs the real binary under valgrind memcheck (same pid, so signals
# and /proc checks still reach it). scripts/valgrind-test.py sets
# VALGRIND_QEMU_REAL and VALGRIND_LOG_DIR and reads the logs afterwards.

if [ -z "${VALGRIND_QEMU_REAL:-}" ] || [ -z "${VALGRIND_LOG_DIR:-}" ]; then
    echo "valgrind-qemu.sh: run through scripts/valgrind-test.py" >&2
    exit 1
fi
supp=${VALGRIND_SUPP:-$(dirname "$0")/valgrind.supp}
exec valgrind --tool=memcheck --error-exitcode=66 \
    --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite \
    --suppressions="$supp" \
    --log-file="$VALGRIND_LOG_DIR/vg.%p" \
    "$VALGRIND_QEMU_REAL" "$@"
