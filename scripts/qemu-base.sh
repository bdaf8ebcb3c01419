# SPDX-License-Identifier: GPL-2.0-or-later
#
# The pinned QEMU base, sourced by the build scripts.
#
# Copyright (c) 2026 The tpm-crb-chunk authors

QEMU_BASE_VERSION=1:10.2.2+ds-1
QEMU_BASE_UPSTREAM=10.2.2
QEMU_BASE_DSC=qemu_10.2.2+ds-1.dsc
QEMU_BASE_FILES="qemu_10.2.2+ds-1.dsc qemu_10.2.2+ds.orig.tar.xz qemu_10.2.2+ds-1.debian.tar.xz"
QEMU_BASE_SHA256="f1684b3aa5ec500c3389d346c6501dee45041ea91656c6556d4da9023b7987dd  qemu_10.2.2+ds-1.dsc
be05230fe47a6937cd29f28f562932c8125f9c93c2a82c625198f7a4aa601dfb  qemu_10.2.2+ds.orig.tar.xz
ddf75aceab4f8f77374f3cb34fc97b41514895aeb293ce8b2ddd5e072bb0f5c0  qemu_10.2.2+ds-1.debian.tar.xz"
QEMU_BASE_POOL=http://deb.debian.org/debian/pool/main/q/qemu
QEMU_BASE_TREE=qemu-10.2.2+ds

# Outside the work tree, shared by every checkout on the machine.
TPM_CRB_CACHE=${TPM_CRB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tpm-crb-chunk}
QEMU_CACHE=$TPM_CRB_CACHE/qemu-base

# Debian's seabios, ipxe-qemu and qemu-system-data (via qemu-system-x86).
FIRMWARE_PATH="/usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu"

# How every QEMU of this project is configured: x86_64 with TCG and KVM,
# the TPM devices, pixman and fdt (enough for a real guest); no download,
# no firmware blobs of its own (the +ds tarball has none), Debian's
# firmware found without -L. The default prefix (/usr/local) keeps the
# firmware paths absolute for an uninstalled binary.
QEMU_CONFIGURE_ARGS="--python=/usr/bin/python3 --target-list=x86_64-softmmu
    --enable-tcg --enable-kvm --enable-tpm --enable-pixman --enable-fdt=system
    --disable-slirp --disable-rust --disable-download --disable-install-blobs
    --disable-tools --disable-guest-agent --disable-xkbcommon
    --firmwarepath=$(echo $FIRMWARE_PATH | tr ' ' :)"
