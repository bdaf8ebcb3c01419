#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fetch the pinned QEMU base, Debian's source package qemu 1:10.2.2+ds-1,
# into a cache outside the work tree, and extract it with Debian's
# patches applied. Prints the path of the extracted tree on stdout.
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Order of sources, first that works wins:
#   1. apt-get source from unstable's deb-src index (apt checks the
#      Release signature and the files' checksums);
#   2. the same three files from the archive's pool by name, checked
#      against the .dsc's checksums (what dget does);
#   3. the fallback copy in ../shared/qemu-base (said so on stderr).
# Whatever the source, the three files must match the SHA-256 sums
# pinned below; any other version is refused.
#
# The apt configuration used here is the project's own (written under
# the cache): the machine's /etc/apt is never changed.
#
# Environment: TPM_CRB_CACHE (default ~/.cache/tpm-crb-chunk),
# QEMU_BASE_FALLBACK (default: ../shared/qemu-base beside the tree).

set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
. "$srcdir/scripts/qemu-base.sh"

log() { echo "fetch-qemu: $*" >&2; }

check_sums() {
    # $1: folder holding the three files
    (cd "$1" && printf '%s\n' "$QEMU_BASE_SHA256" | sha256sum -c --quiet -)
}

# The three files from the archive's pool by name; each is checked
# against the .dsc's Checksums-Sha256 (as dget would), and then all of
# them against the pinned sums.
fetch_pool() {
    python3 - "$1" "$QEMU_BASE_POOL" $QEMU_BASE_FILES <<'PY' >&2
import hashlib, os, re, sys, urllib.request
dest, pool, dsc, *rest = sys.argv[1:]
def get(name):
    with urllib.request.urlopen(pool + '/' + name, timeout=120) as r, \
         open(os.path.join(dest, name), 'wb') as f:
        f.write(r.read())
get(dsc)
text = open(os.path.join(dest, dsc)).read()
block = text.split('Checksums-Sha256:', 1)[1]
sums = dict((n, h) for h, _, n in re.findall(r'^ (\w{64}) (\d+) (\S+)$',
                                             block, re.M))
for name in rest:
    get(name)
    h = hashlib.sha256(open(os.path.join(dest, name), 'rb').read())
    if sums.get(name) != h.hexdigest():
        sys.exit('%s does not match the .dsc' % name)
PY
}

mkdir -p "$QEMU_CACHE"
tree=$QEMU_CACHE/$QEMU_BASE_TREE
if [ -f "$tree/.tpm-crb-extracted" ]; then
    echo "$tree"
    exit 0
fi

files=$QEMU_CACHE/files
mkdir -p "$files"
if ! check_sums "$files" >/dev/null 2>&1; then
    rm -rf "$files"
    mkdir -p "$files"
    sh "$srcdir/scripts/apt-project.sh" update >&2 || true
    if (cd "$files" && sh "$srcdir/scripts/apt-project.sh" \
            source --download-only "qemu=$QEMU_BASE_VERSION" >&2) &&
       check_sums "$files"; then
        log "fetched qemu $QEMU_BASE_VERSION with apt-get source"
    else
        log "apt-get source failed; trying the archive's pool by name"
        rm -rf "$files"
        mkdir -p "$files"
        if fetch_pool "$files" && check_sums "$files"; then
            log "fetched qemu $QEMU_BASE_VERSION from the pool by name"
        else
            fallback=${QEMU_BASE_FALLBACK:-$srcdir/../shared/qemu-base}
            log "the archive did not serve qemu $QEMU_BASE_VERSION;" \
                "using the fallback copy in $fallback"
            rm -rf "$files"
            mkdir -p "$files"
            for f in $QEMU_BASE_FILES; do
                cp "$fallback/$f" "$files/" || {
                    log "no usable copy of $f: cannot fetch the base"
                    exit 1
                }
            done
            if ! check_sums "$files"; then
                log "the fallback copy does not match the pinned sums"
                exit 1
            fi
        fi
    fi
fi

# The .dsc must name exactly this version and these tarballs.
if ! grep -q "^Version: $QEMU_BASE_VERSION\$" "$files/$QEMU_BASE_DSC"; then
    log "$QEMU_BASE_DSC is not version $QEMU_BASE_VERSION: refused"
    exit 1
fi

rm -rf "$tree" "$tree.tmp"
# dpkg-source applies Debian's quilt series (debian/patches): they let
# the +ds tarball, stripped of prebuilt firmware, configure and build.
(cd "$QEMU_CACHE" &&
 dpkg-source -x "$files/$QEMU_BASE_DSC" "$tree.tmp" >&2)
mv "$tree.tmp" "$tree"
touch "$tree/.tpm-crb-extracted"
log "extracted into $tree"
echo "$tree"
