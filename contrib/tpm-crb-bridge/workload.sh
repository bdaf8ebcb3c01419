#!/bin/sh
# A real tpm2-tools session, used by `make run-bridge` and by the
# differential test: capabilities, random bytes, a primary key, an
# RSA-3072 signing key created, loaded, used to sign a file and verified,
# PCR reset/extend/event/read, and a 2 KiB NV index written and read back.
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Usage: TPM2TOOLS_TCTI=... workload.sh WORKDIR
#
# Prints a transcript on stdout: for each step "== NAME: exit N" and the
# tool's output. Steps marked "masked" print key material or random bytes;
# there every run of 16 or more hex digits reads "<hex>", so that two runs
# against different TPMs give the same transcript when they behave the
# same. Exits 1 if any step failed (their stderr goes to stderr).

set -u

work=${1:?usage: workload.sh WORKDIR}
mkdir -p "$work" && cd "$work" || exit 1
: "${TPM2TOOLS_TCTI:?set TPM2TOOLS_TCTI}"
export TPM2TOOLS_TCTI

failed=0

# step NAME exact|masked|quiet COMMAND...
step() {
    name=$1
    mode=$2
    shift 2
    "$@" >"$name.out" 2>"$name.err"
    rc=$?
    echo "== $name: exit $rc"
    case $mode in
    exact) cat "$name.out" ;;
    masked) sed -E 's/[0-9a-fA-F]{16,}/<hex>/g' "$name.out" ;;
    esac
    # Some tools (tpm2_getrandom --hex) end without a newline.
    if [ "$mode" != quiet ] && [ -n "$(tail -c 1 "$name.out")" ]; then
        echo
    fi
    if [ $rc -ne 0 ]; then
        failed=1
        echo "workload: step $name failed (exit $rc):" >&2
        sed 's/^/    /' "$name.err" >&2
    fi
}

# Without a resource manager (the swtpm TCTI, /dev/tpm0) every tool leaves
# the objects it loaded in the TPM's three object slots: hence the
# flushcontext steps. (The bridge also flushes when a tool disconnects.)

# Deterministic inputs: same bytes on every run.
awk 'BEGIN { for (i = 0; i < 2048; i++) printf "%c", 65 + i % 26 }' \
    >nv.dat
awk 'BEGIN { for (i = 0; i < 1500; i++) printf "%c", 97 + i % 23 }' \
    >msg.dat
nv=0x1500016

# A TPM reused from an earlier, interrupted run may still hold the index.
tpm2_nvundefine -C o $nv >/dev/null 2>&1

step getcap-algorithms exact tpm2_getcap algorithms
step getcap-commands exact tpm2_getcap commands
step getcap-properties-fixed exact tpm2_getcap properties-fixed
step getrandom masked tpm2_getrandom --hex 32

step createprimary masked \
    tpm2_createprimary -C o -g sha256 -G rsa2048 -c primary.ctx
step flush-1 exact tpm2_flushcontext -t
step create-rsa3072 masked \
    tpm2_create -C primary.ctx -G rsa3072 -g sha256 -u key.pub -r key.priv
step flush-2 exact tpm2_flushcontext -t
step load masked \
    tpm2_load -C primary.ctx -u key.pub -r key.priv -c key.ctx
step flush-3 exact tpm2_flushcontext -t
step readpublic masked tpm2_readpublic -c key.ctx
step flush-4 exact tpm2_flushcontext -t
step sign exact tpm2_sign -c key.ctx -g sha256 -s rsassa -o sig.bin msg.dat
step flush-5 exact tpm2_flushcontext -t
step verify exact \
    tpm2_verifysignature -c key.ctx -g sha256 -m msg.dat -s sig.bin
step flush-6 exact tpm2_flushcontext -t

step pcrreset exact tpm2_pcrreset 16
step pcrextend exact tpm2_pcrextend \
    16:sha256=0x7f83b1657ff1fc53b92dc18148a1d65dfc2d4b1fa3d677284addd200126d9069
step pcrevent exact tpm2_pcrevent 16 msg.dat
step pcrread exact tpm2_pcrread sha1:16+sha256:16,23

step nvdefine exact tpm2_nvdefine $nv -C o -s 2048 \
    -a "ownerread|ownerwrite|authread|authwrite"
step nvwrite exact tpm2_nvwrite $nv -C o -i nv.dat
step nvread exact tpm2_nvread $nv -C o -s 2048 -o nvread.dat
step nvcompare exact cmp nv.dat nvread.dat
step nvreadpublic exact tpm2_nvreadpublic $nv
step nvundefine exact tpm2_nvundefine $nv -C o

step handles-transient exact tpm2_getcap handles-transient

exit $failed
