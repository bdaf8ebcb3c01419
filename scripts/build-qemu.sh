#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build QEMU 10.2.2 for x86_64, with this project's series (patched) or
# without it (stock, the peer of the same base).
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Usage: scripts/build-qemu.sh patched|stock|asan|fuzz [BUILD]
#
#   $BUILD/src/qemu       git repository: the pristine base as commit
#                         "base", the series on top (patched builds);
#                         QEMU's build folders inside it, build/ and
#                         build-san/: clang, --enable-asan --enable-ubsan
#                         --enable-fuzzing, hw/tpm/tpm_crb.c instrumented
#                         for coverage; "asan" builds qemu-system-x86_64
#                         there for the sanitized tests, "fuzz" builds
#                         qemu-fuzz-x86_64, from the same objects)
#   $BUILD/src/stock      a worktree of it at "base", built in build/
#   $BUILD/qemu-system-x86_64 -> the patched binary
#   $BUILD/stock/qemu-system-x86_64 -> the stock binary
#
# Both trees build at the same place relative to their sources, so that
# ccache (CCACHE_BASEDIR) serves the stock build from the patched one's
# objects wherever the series did not touch a file's inputs.
#
# The series is applied again only when patches/ or the tree files it
# names change; the worktree moves to the new commit with git checkout,
# which touches only the files that differ, so ninja rebuilds only what
# they feed. ccache (via /usr/lib/ccache) makes rebuilds cheap.

set -eu

kind=${1:?usage: build-qemu.sh patched|stock|asan|fuzz [BUILD]}
srcdir=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
. "$srcdir/scripts/qemu-base.sh"

log() { echo "build-qemu: $*" >&2; }

if [ -d /usr/lib/ccache ]; then
    PATH=/usr/lib/ccache:$PATH
    CCACHE_BASEDIR=$build/src
    CCACHE_NOHASHDIR=1
    export PATH CCACHE_BASEDIR CCACHE_NOHASHDIR
fi

base=$(sh "$srcdir/scripts/fetch-qemu.sh")
repo=$build/src/qemu

# The pristine base as a git repository (commit tagged "base").
if ! git -C "$repo" rev-parse -q --verify base >/dev/null 2>&1; then
    log "making a git repository of the pristine base in $repo"
    rm -rf "$build/src"
    mkdir -p "$build/src"
    cp -a "$base" "$repo"
    rm -f "$repo/.tpm-crb-extracted"
    (
        cd "$repo"
        git init -q
        git config user.name "The tpm-crb-chunk authors"
        git config user.email "tpm-crb-chunk@invalid"
        git config core.autocrlf false
        # Debian's quilt state is not part of QEMU.
        printf '/.pc/\n' >> .git/info/exclude
        git add -A -f .
        GIT_AUTHOR_DATE="2026-03-19T00:00:00Z" \
        GIT_COMMITTER_DATE="2026-03-19T00:00:00Z" \
            git commit -q -m "QEMU $QEMU_BASE_UPSTREAM as Debian ships it ($QEMU_BASE_VERSION)"
        git tag base
    )
fi

configure_qemu() {
    # $1: source tree, $2: build folder, $3...: extra options
    src=$1
    out=$2
    shift 2
    # Options in effect, so that a change reconfigures.
    want="$QEMU_CONFIGURE_ARGS $*"
    if [ -f "$out/build.ninja" ] && [ -f "$out/.tpm-crb-options" ] &&
       [ "$(cat "$out/.tpm-crb-options")" = "$want" ]; then
        return 0
    fi
    log "configuring $out"
    rm -rf "$out"
    mkdir -p "$out"
    # shellcheck disable=SC2086
    (cd "$out" && "$src/configure" $QEMU_CONFIGURE_ARGS \
        "$@" > configure.log 2>&1) || {
        tail -n 30 "$out/configure.log" >&2
        log "configure failed (full log: $out/configure.log)"
        exit 1
    }
    echo "$want" > "$out/.tpm-crb-options"
}

# Apply patches/series on top of "base"; echo the resulting commit.
apply_series() {
    stamp=$build/src/series.stamp
    inputs=$(cd "$srcdir" && python3 scripts/series.py inputs | sort |
             xargs sha256sum | sha256sum | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(sed -n 1p "$stamp")" = "$inputs" ] &&
       git -C "$repo" rev-parse -q --verify "$(sed -n 2p "$stamp")" \
           >/dev/null; then
        sed -n 2p "$stamp"
        return 0
    fi
    work=$build/src/apply
    if [ ! -d "$work" ]; then
        git -C "$repo" worktree add -q --detach "$work" base >&2
    fi
    git -C "$work" checkout -q -f --detach base
    git -C "$work" clean -q -f -d -x
    python3 "$srcdir/scripts/series.py" apply "$work" >&2
    head=$(git -C "$work" rev-parse HEAD)
    printf '%s\n%s\n' "$inputs" "$head" > "$stamp"
    echo "$head"
}

case "$kind" in
patched|asan|fuzz)
    head=$(apply_series)
    if [ "$(git -C "$repo" rev-parse HEAD)" != "$head" ]; then
        log "moving $repo to the series ($head)"
        git -C "$repo" checkout -q -f --detach "$head"
    fi
    if [ "$kind" != patched ]; then
        # One sanitized build for the tests and the fuzzers: a cold CI
        # compiles QEMU three times, not four. Source-based coverage of
        # the device alone (-fprofile-list), so that the rest runs at
        # full speed.
        out=$repo/build-san
        cov="-fprofile-instr-generate -fcoverage-mapping"
        cov="$cov -fprofile-list=$srcdir/scripts/fuzz-coverage.list"
        configure_qemu "$repo" "$out" --cc=clang --cxx=clang++ \
            --enable-fuzzing --enable-asan --enable-ubsan \
            "--extra-cflags=$cov" --extra-ldflags=-fprofile-instr-generate
    else
        out=$repo/build
        configure_qemu "$repo" "$out"
    fi
    ;;
stock)
    src=$build/src/stock
    if [ ! -d "$src" ]; then
        git -C "$repo" worktree add -q --detach "$src" base >&2
    fi
    out=$src/build
    configure_qemu "$src" "$out"
    ;;
*)
    log "unknown kind '$kind' (patched, stock, asan or fuzz)"
    exit 2
    ;;
esac

log "building $out"
t0=$(date +%s)
target=qemu-system-x86_64
[ "$kind" != fuzz ] || target=qemu-fuzz-x86_64
ninja -C "$out" "$target" > "$out/ninja.log" 2>&1 || {
    grep -E 'error|FAILED' "$out/ninja.log" | head -n 30 >&2
    log "build failed (full log: $out/ninja.log)"
    exit 1
}
log "built $out/$target in $(( $(date +%s) - t0 )) s"
# An uninstalled binary looks for its firmware path under qemu-bundle/
# beside itself: point it at Debian's folders.
for d in $FIRMWARE_PATH; do
    mkdir -p "$out/qemu-bundle$(dirname "$d")"
    ln -sfn "$d" "$out/qemu-bundle$d"
done

case "$kind" in
patched)
    ln -sfn src/qemu/build/qemu-system-x86_64 "$build/qemu-system-x86_64"
    ;;
stock)
    mkdir -p "$build/stock"
    ln -sfn ../src/stock/build/qemu-system-x86_64 \
        "$build/stock/qemu-system-x86_64"
    ;;
esac
