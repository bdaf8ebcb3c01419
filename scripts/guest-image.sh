#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The demo guest, built from Debian packages: the kernel that
# linux-image-amd64 depends on (tpm_crb built in) and an initramfs with
# busybox-static, tpm2-tools and its libraries (the device and cmd TCTIs
# included), the project's tpm-crb-bridge (the reference driver with its
# /dev/mem accessor), tpm-crb-bench, and guest/init + guest/workload.sh.
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Usage: scripts/guest-image.sh TOOLS_BUILDDIR OUTDIR
# Writes OUTDIR/vmlinuz and OUTDIR/initramfs.gz, and OUTDIR/inputs (what
# they were made from); does nothing when the inputs are unchanged. The
# packages are kept in the project cache ($TPM_CRB_CACHE/guest-debs).

set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
tools=$(cd "${1:?usage: guest-image.sh TOOLS_BUILDDIR OUTDIR}" && pwd)
out=${2:?usage: guest-image.sh TOOLS_BUILDDIR OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
. "$srcdir/scripts/qemu-base.sh"
apt="sh $srcdir/scripts/apt-project.sh"
debs=$TPM_CRB_CACHE/guest-debs
bridge=$tools/contrib/tpm-crb-bridge
bench=$tools/contrib/tpm-crb-bench
tpm2=/usr/bin/tpm2
tctis="libtss2-tcti-device.so.0 libtss2-tcti-cmd.so.0"
libdir=/usr/lib/x86_64-linux-gnu

log() { echo "guest-image: $*" >&2; }

for f in "$bridge" "$bench" "$tpm2"; do
    [ -x "$f" ] || { log "$f is missing"; exit 1; }
done
mkdir -p "$debs"

# The packages, by name; the kernel is the one the metapackage names.
fetch() {
    (cd "$debs" && $apt -q download "$@" >/dev/null) || {
        log "apt-get download $* failed; updating the package lists"
        $apt -q update >/dev/null
        (cd "$debs" && $apt -q download "$@" >/dev/null)
    }
}
newest() { ls -t "$debs"/"$1"_*.deb 2>/dev/null | head -n 1; }
if [ -z "$(newest linux-image-amd64)" ] || [ -z "$(newest busybox-static)" ]
then
    fetch linux-image-amd64 busybox-static
fi
meta=$(newest linux-image-amd64)
kpkg=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' |
       sed -n 's/^ *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -n 1)
[ -n "$kpkg" ] || { log "$meta names no kernel package"; exit 1; }
[ -n "$(newest "$kpkg")" ] || fetch "$kpkg"
kdeb=$(newest "$kpkg")
bdeb=$(newest busybox-static)

# The libraries a binary needs, the dynamic loader included.
libs_of() {
    ldd "$@" | sed -n -e 's/.*=> \(\/[^ ]*\) .*/\1/p' \
        -e 's/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'
}
tcti_paths=
for t in $tctis; do
    tcti_paths="$tcti_paths $libdir/$t"
done
# shellcheck disable=SC2086
libs=$(libs_of "$tpm2" "$bridge" "$bench" $tcti_paths | sort -u)

inputs=$(
    for f in "$kdeb" "$bdeb"; do basename "$f"; done
    # shellcheck disable=SC2086
    sha256sum "$srcdir/scripts/guest-image.sh" "$srcdir/guest/init" \
        "$srcdir/guest/workload.sh" "$bridge" "$bench" \
        "$tpm2" $tcti_paths $libs | sed "s|$srcdir/||"
)
if [ -f "$out/inputs" ] && [ -f "$out/initramfs.gz" ] &&
   [ -f "$out/vmlinuz" ] && [ "$(cat "$out/inputs")" = "$inputs" ]; then
    log "up to date: $out"
    exit 0
fi

log "building from $(basename "$kdeb") and $(basename "$bdeb")"
stage=$out/stage
rm -rf "$stage" "$out/root"
mkdir -p "$stage" "$out/root"
dpkg-deb --fsys-tarfile "$kdeb" |
    tar -x -C "$stage" --wildcards './boot/vmlinuz-*'
cp "$stage"/boot/vmlinuz-* "$out/vmlinuz"
dpkg-deb -x "$bdeb" "$stage/busybox"

root=$out/root
mkdir -p "$root/bin" "$root/usr/bin" "$root/proc" "$root/sys" "$root/dev" \
    "$root/tmp" "$root/etc" "$root$libdir"
cp "$stage/busybox/bin/busybox" "$root/bin/busybox"
cp "$srcdir/guest/init" "$root/init"
cp "$srcdir/guest/workload.sh" "$root/workload.sh"
chmod 755 "$root/init"
cp "$tpm2" "$root/usr/bin/tpm2"
cp "$bridge" "$root/usr/bin/tpm-crb-bridge"
cp "$bench" "$root/usr/bin/tpm-crb-bench"
for l in $libs $tcti_paths; do
    case $l in
    /lib64/*) mkdir -p "$root/lib64"; cp -L "$l" "$root/lib64/" ;;
    *) cp -L "$l" "$root$libdir/" ;;
    esac
done
# /lib/x86_64-linux-gnu is /usr/lib/x86_64-linux-gnu, as on Debian 12
mkdir -p "$root/lib"
ln -s "..$libdir" "$root/lib/x86_64-linux-gnu"

(cd "$root" && find . | "$stage/busybox/bin/busybox" cpio -o -H newc) |
    gzip -1 >"$out/initramfs.gz.new"
mv "$out/initramfs.gz.new" "$out/initramfs.gz"
rm -rf "$stage"
echo "$inputs" >"$out/inputs"
log "wrote $out/vmlinuz and $out/initramfs.gz" \
    "($(du -k "$out/initramfs.gz" | cut -f1) KiB)"
