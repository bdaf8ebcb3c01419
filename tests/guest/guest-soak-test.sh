#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make check's soak of running guests under live migration (TAP): builds
# the demo guest if its inputs changed, then scripts/guest-soak.py runs
# it three times (kernel driver, chunked driver, alternating with the
# stock peer), 20 hops each.
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Usage: guest-soak-test.sh TOOLS_BUILDDIR QEMU STOCK_QEMU

set -u

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
tools=${1:?usage: guest-soak-test.sh TOOLS_BUILDDIR QEMU STOCK_QEMU}
qemu=${2:?}
stock=${3:-}

if ! sh "$srcdir/scripts/guest-image.sh" "$tools" "$tools/guest" >&2; then
    echo "1..1"
    echo "not ok 1 the demo guest could not be built (scripts/guest-image.sh)"
    exit 1
fi
exec python3 "$srcdir/scripts/guest-soak.py" --qemu "$qemu" \
    --stock "$stock" --guest "$tools/guest" --work "$tools/guest-soak" \
    --hops "${SOAK_HOPS:-20}"
