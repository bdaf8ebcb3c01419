#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The "upstream QEMU 11.1" migration peer: Debian's qemu-system-x86 from
# trixie-backports (1:11.1.3+ds-2~bpo13+1 or a newer 11.1.x), installed in
# a trixie chroot and run from there, so that it can be migrated to and
# from our QEMU on the same machine (docs/specs/tpm-crb-migration.rst).
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Usage: scripts/upstream-peer.sh setup     create the chroot (idempotent)
#        scripts/upstream-peer.sh run ARGS  exec the peer's
#                                           qemu-system-x86_64 ARGS
#        scripts/upstream-peer.sh version   print the peer's --version line
#
# run: the chroot gets /tmp, /var/tmp, /dev, /proc and /sys of the host
# bind-mounted in a private mount namespace (unshare -m), so unix sockets
# (QMP, qtest, migration, swtpm) under /tmp or /var/tmp work from both
# sides and no mount outlives the run. QEMU is exec'd: signals reach it.
#
# Environment: TPM_CRB_UPSTREAM_ROOT (default
# /var/cache/tpm-crb-chunk/trixie), TPM_CRB_UPSTREAM_MIRROR (default
# http://deb.debian.org/debian, the mirror of this machine's
# /etc/apt/sources.list.d/debian.sources).

set -eu

root=${TPM_CRB_UPSTREAM_ROOT:-/var/cache/tpm-crb-chunk/trixie}
mirror=${TPM_CRB_UPSTREAM_MIRROR:-http://deb.debian.org/debian}
stamp=$root/.tpm-crb-upstream-peer.done
qemu=/usr/bin/qemu-system-x86_64

die() {
    echo "upstream-peer.sh: $*" >&2
    exit 1
}

usage() {
    sed -n 's/^# Usage: /Usage: /p; s/^#        /       /p' "$0" >&2
    exit 2
}

need_root() {
    [ "$(id -u)" = 0 ] || die "$1 needs root (debootstrap, chroot, mount)"
}

need_setup() {
    [ -e "$stamp" ] || die "no peer at $root: run '$0 setup' first"
}

# In a new private mount namespace: bind the host's /tmp, /var/tmp,
# /dev, /proc and /sys into the chroot, then exec "$@" in it.
# Runs as: unshare -m --propagation private -- bash $0 __inchroot CMD...
in_chroot() {
    local d
    for d in dev proc sys tmp var/tmp; do
        mkdir -p "$root/$d"
        mount --rbind "/$d" "$root/$d"
    done
    exec chroot "$root" "$@"
}

setup() {
    need_root setup
    if [ -e "$stamp" ]; then
        echo "peer already set up at $root"
        version_pkg
        return 0
    fi
    local t0=$SECONDS
    if ! command -v debootstrap >/dev/null 2>&1; then
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y \
            --no-install-recommends debootstrap
    fi
    # A half-made chroot (debootstrap interrupted) is started over.
    if [ -d "$root" ] && { [ -d "$root/debootstrap" ] ||
                           [ ! -x "$root/usr/bin/apt-get" ]; }; then
        if grep -q " $root" /proc/self/mountinfo; then
            die "$root has mounts under it; not removing it"
        fi
        echo "removing incomplete chroot $root"
        rm -rf --one-file-system "$root"
    fi
    if [ ! -d "$root" ]; then
        mkdir -p "$(dirname "$root")"
        debootstrap --variant=minbase trixie "$root" "$mirror"
    fi
    cat > "$root/etc/apt/sources.list" <<LIST
deb $mirror trixie main
deb $mirror trixie-updates main
deb $mirror trixie-backports main
LIST
    rm -f "$root/etc/apt/sources.list.d/debian.sources"
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
        > "$root/etc/apt/apt.conf.d/90tpm-crb-no-recommends"
    # No service starts inside the chroot.
    printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    cp -L /etc/resolv.conf "$root/etc/resolv.conf"
    unshare -m --propagation private -- bash "$0" __inchroot \
        /usr/bin/env DEBIAN_FRONTEND=noninteractive /bin/sh -ec '
            apt-get update
            apt-get install -y --no-install-recommends -t trixie-backports \
                qemu-system-x86 seabios ipxe-qemu
            apt-get clean'
    local v
    v=$(chroot "$root" dpkg-query -W -f '${Version}' qemu-system-x86)
    case "$v" in
    1:11.1.*) ;;
    *) die "installed qemu-system-x86 $v is not an 11.1.x" ;;
    esac
    date -u +%FT%TZ > "$stamp"
    echo "peer set up in $((SECONDS - t0)) s"
    version_pkg
}

version_pkg() {
    echo "qemu-system-x86 $(chroot "$root" dpkg-query -W -f '${Version}' \
        qemu-system-x86)"
}

case "${1:-}" in
setup)
    setup
    ;;
run)
    shift
    need_root run
    need_setup
    exec unshare -m --propagation private -- bash "$0" __inchroot "$qemu" "$@"
    ;;
version)
    need_root version
    need_setup
    out=$(unshare -m --propagation private -- bash "$0" __inchroot \
        "$qemu" --version)
    echo "${out%%$'\n'*}"
    ;;
__inchroot)
    shift
    in_chroot "$@"
    ;;
*)
    usage
    ;;
esac
