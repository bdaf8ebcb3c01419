#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# apt-get with the project's own configuration: Debian 12 (bookworm,
# its updates and security suites), bookworm-backports (meson >= 1.5,
# python3-pycotap) and unstable's deb-src (the QEMU base). Its source
# list, package lists and download cache live under the project cache;
# the machine's /etc/apt is read (apt.conf.d) but never changed.
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Usage: scripts/apt-project.sh APT-GET-ARGS...

set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
. "$srcdir/scripts/qemu-base.sh"

dir=$TPM_CRB_CACHE/apt
mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
cat > "$dir/sources.list" <<LIST
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
deb http://deb.debian.org/debian bookworm-backports main
deb-src http://deb.debian.org/debian unstable main
LIST
cat > "$dir/apt.conf" <<CONF
Dir::Etc::SourceList "$dir/sources.list";
Dir::Etc::SourceParts "$dir/no-parts";
Dir::State::Lists "$dir/lists";
Dir::Cache "$dir/cache";
APT::Sandbox::User "root";
APT::Default-Release "bookworm";
CONF
mkdir -p "$dir/no-parts"

SUDO=""
case "${1:-}" in
update|install)
    if [ "$(id -u)" -ne 0 ]; then
        SUDO=sudo
    fi
    ;;
esac
export DEBIAN_FRONTEND=noninteractive
APT_CONFIG=$dir/apt.conf exec $SUDO env APT_CONFIG="$dir/apt.conf" \
    DEBIAN_FRONTEND=noninteractive apt-get "$@"
