#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make check-series: what a reviewer runs first on the series.
#   1. every prefix of the series builds (qemu-system-x86_64 and the TPM
#      qtests it has), in a worktree of its own;
#   2. QEMU's scripts/checkpatch.pl --no-signoff passes on every patch
#      of build/series (the sender adds a Signed-off-by);
#   3. QEMU's documentation builds with the series (sphinx).
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Usage: scripts/check-series.sh [BUILD]

set -u

build=$(cd "${1:-build}" && pwd) || exit 1
. "$(dirname "$0")/qemu-base.sh"
repo=$build/src/qemu
tree=$build/src/prefix
status=0
log() { echo "check-series: $*"; }

if [ -d /usr/lib/ccache ]; then
    PATH=/usr/lib/ccache:$PATH
    CCACHE_BASEDIR=$build/src
    CCACHE_NOHASHDIR=1
    export PATH CCACHE_BASEDIR CCACHE_NOHASHDIR
fi

# 1. Every prefix builds.
if [ ! -d "$tree" ]; then
    git -C "$repo" worktree add -q --detach "$tree" base
fi
for rev in $(git -C "$repo" rev-list --reverse base..HEAD); do
    subject=$(git -C "$repo" log -1 --format=%s "$rev")
    git -C "$tree" checkout -q -f --detach "$rev"
    if [ ! -f "$tree/build/build.ninja" ]; then
        mkdir -p "$tree/build"
        # shellcheck disable=SC2086
        (cd "$tree/build" && ../configure $QEMU_CONFIGURE_ARGS \
            > configure.log 2>&1) || {
            tail -n 20 "$tree/build/configure.log"
            log "FAIL: configure"
            exit 1
        }
    fi
    # The binary, and the TPM tests that this prefix has (build.ninja
    # regenerated first: the list is this prefix's).
    ninja -C "$tree/build" build.ninja > /dev/null 2>&1
    tests=$(ninja -C "$tree/build" -t targets all 2>/dev/null |
            sed -n 's|^\(tests/qtest/tpm-[a-z0-9-]*-test\): .*|\1|p' |
            sort -u)
    # shellcheck disable=SC2086
    if ninja -C "$tree/build" qemu-system-x86_64 $tests \
            > "$tree/build/ninja.log" 2>&1; then
        log "builds: $subject"
    else
        grep -E 'error|FAILED' "$tree/build/ninja.log" | head -n 20
        log "FAIL: does not build: $subject"
        status=1
    fi
done

# 2. checkpatch on every patch.
for p in "$build"/series/0*.patch; do
    case "$p" in
    *0000-cover-letter.patch) continue ;;
    esac
    out=$("$repo/scripts/checkpatch.pl" --no-signoff "$p" 2>&1)
    rc=$?
    name=$(basename "$p")
    if [ $rc -ne 0 ]; then
        echo "$out"
        log "FAIL: checkpatch: $name"
        status=1
    elif echo "$out" | grep -q '^WARNING'; then
        echo "$out" | grep -A3 '^WARNING'
        log "checkpatch: $name: warnings (named in the cover letter)"
    else
        log "checkpatch: $name: clean"
    fi
done

# 2b. The mails apply with git am onto a fresh extraction of the same
# Debian source, and give exactly the tree that was built above.
am=$build/src/am
rm -rf "$am"
cp -a "$(sh "$(dirname "$0")/fetch-qemu.sh")" "$am"
rm -f "$am/.tpm-crb-extracted"
(
    cd "$am" && git init -q && printf '/.pc/\n' >> .git/info/exclude &&
    git add -A -f . && git -c user.name=base -c user.email=base@invalid \
        commit -q -m base &&
    ls "$build"/series/0*.patch | grep -v 0000-cover-letter |
        xargs git -c user.name=am -c user.email=am@invalid am -q
) || { log "FAIL: the series does not apply with git am"; status=1; }
if [ "$(git -C "$am" rev-parse HEAD^{tree} 2>/dev/null)" = \
     "$(git -C "$repo" rev-parse HEAD^{tree})" ]; then
    log "git am onto a fresh extraction: applies, same tree as built"
else
    log "FAIL: git am onto a fresh extraction gives another tree"
    status=1
fi
rm -rf "$am"

# 3. QEMU's docs with the series.
docs=$repo/build-docs
if [ ! -f "$docs/build.ninja" ]; then
    mkdir -p "$docs"
    # shellcheck disable=SC2086
    (cd "$docs" && ../configure $QEMU_CONFIGURE_ARGS --enable-docs \
        > configure.log 2>&1) || {
        tail -n 20 "$docs/configure.log"
        log "FAIL: configure with --enable-docs"
        exit 1
    }
fi
if ninja -C "$docs" html > "$docs/ninja.log" 2>&1; then
    log "docs build"
else
    tail -n 30 "$docs/ninja.log"
    log "FAIL: docs"
    status=1
fi

[ $status -eq 0 ] && log "passed" || log "FAILED"
exit $status
