#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install the Debian 12 packages this project builds and tests with, if
# any are missing: with apt-get as root, through sudo otherwise. meson
# (>= 1.5, QEMU 10.2 needs it) and python3-pycotap come from
# bookworm-backports through the project's own apt configuration
# (scripts/apt-project.sh); the machine's /etc/apt is not changed.
#
# Usage: scripts/install-deps.sh [build|check|run|series]

set -e

srcdir=$(cd "$(dirname "$0")/.." && pwd)
purpose=${1:-check}

# QEMU 10.2.2 (x86_64-softmmu, TCG, KVM, TPM) and the tools.
pkgs="make gcc pkg-config python3 python3-venv ninja-build git xz-utils
      dpkg-dev ccache flex bison libglib2.0-dev libpixman-1-dev libfdt-dev
      zlib1g-dev"
# What the binary and the tests run with: firmware (seabios, ipxe-qemu,
# qemu-system-data through qemu-system-x86, which is also Debian's QEMU
# 7.2 peer), swtpm and tpm2-tools.
run="swtpm swtpm-tools libtpms-dev tpm2-tools libtss2-tcti-cmd0
     libtss2-tcti-device0 qemu-system-data seabios
     ipxe-qemu qemu-system-x86"
case "$purpose" in
build) pkgs="$pkgs seabios ipxe-qemu qemu-system-x86" ;;
check|run) pkgs="$pkgs $run" ;;
series) pkgs="$pkgs $run python3-sphinx python3-sphinx-rtd-theme" ;;
fuzz) pkgs="$pkgs $run clang libfuzzer-14-dev llvm-14" ;;
bench) pkgs="$pkgs $run gnuplot-nox linux-perf" ;;
ci) pkgs="$pkgs $run clang libfuzzer-14-dev llvm-14" ;;
*)
    echo "install-deps: unknown purpose '$purpose'" >&2
    exit 2
    ;;
esac

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"
}

missing=""
for p in $pkgs; do
    installed "$p" || missing="$missing $p"
done
backports=""
if ! installed meson ||
   ! dpkg --compare-versions "$(dpkg-query -W -f='${Version}' meson)" ge 1.5; then
    backports="meson"
fi
installed python3-pycotap || backports="$backports python3-pycotap"

if [ -z "$missing" ] && [ -z "$backports" ]; then
    exit 0
fi

echo "install-deps: installing:$missing $backports"
apt="sh $srcdir/scripts/apt-project.sh"
$apt update -q
# shellcheck disable=SC2086
[ -z "$missing" ] || $apt install -y -q --no-install-recommends $missing
# shellcheck disable=SC2086
[ -z "$backports" ] ||
    $apt install -y -q --no-install-recommends -t bookworm-backports $backports
