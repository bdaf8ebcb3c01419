#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install the Debian 12 packages this project builds and tests with, if
# any are missing: with apt-get as root, through sudo otherwise.
#
# Usage: scripts/install-deps.sh [build|check|run|bench|fuzz]

set -e

purpose=${1:-check}

pkgs="meson ninja-build gcc pkg-config python3 libglib2.0-dev libjson-glib-dev swtpm-dev"
case "$purpose" in
build) ;;
check|run)
    pkgs="$pkgs swtpm swtpm-tools libtpms-dev tpm2-tools libtss2-tcti-cmd0 qemu-system-x86 valgrind"
    ;;
bench)
    pkgs="$pkgs swtpm swtpm-tools libtpms-dev tpm2-tools libtss2-tcti-cmd0 qemu-system-x86 valgrind gnuplot-nox"
    ;;
fuzz)
    pkgs="$pkgs swtpm swtpm-tools libtpms-dev clang libfuzzer-14-dev libclang-rt-14-dev"
    ;;
*)
    echo "install-deps: unknown purpose '$purpose'" >&2
    exit 2
    ;;
esac

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

echo "install-deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: need root or sudo to install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
