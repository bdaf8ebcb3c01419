#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The demo guest's TPM workload, in phases (guest/init passes them from
# the kernel command line):
#
#   kernel   tpm2-tools through /dev/tpmrm0: the kernel's own tpm_crb
#            driver, which knows nothing of chunking
#   unbind   the kernel driver lets go of the device
#   firmware PCR 0 and the owner hierarchy as the firmware left them
#   chunked  the same tools as in "kernel" through
#            the project's driver: tpm-crb-bridge --devmem /dev/mem as
#            the tss2 cmd TCTI, chunking where a command or a response
#            is larger than the window
#   big      a 4096-byte command (swtpm's whole buffer) through the
#            project's driver
#   bench-kernel, bench-chunked
#            tpm-crb-bench through /dev/tpmrm0 or through the project's
#            driver, TPMDEMO_COUNT commands each (make bench)
#
# Everything the host checks is on lines starting with "@@":
#   @@ phase NAME                      a phase starts
#   @@ step PHASE NAME RC              a tool ran and exited with RC
#   @@ pcr PHASE N HEX                 PCR N (SHA-256) as pcrread read it
#   @@ cmd PHASE CC NAME IN OUT CHUNKS_IN CHUNKS_OUT RC ORIGIN
#                                      one command through the project's
#                                      driver (its stats; ORIGIN: tool,
#                                      or bridge for its own clean-up)
#   @@ bench PHASE NAME SIZE CHUNKS_IN CHUNKS_OUT COUNT MIN MEDIAN MAX
#   @@ phase-end NAME FAILED
#
# Copyright (c) 2026 The tpm-crb-chunk authors

set -u
cd /tmp || exit 1

# Deterministic inputs
awk 'BEGIN { for (i = 0; i < 1500; i++) printf "%c", 97 + i % 23 }' \
    >msg.dat
awk 'BEGIN { for (i = 0; i < 64; i++) printf "%c", 65 + i % 26 }' >nv.dat
NV=0x1500020
DIGEST=0101010101010101010101010101010101010101010101010101010101010101

# step PHASE NAME COMMAND...
step() {
    ph=$1
    name=$2
    shift 2
    "$@" >"$name.out" 2>"$name.err"
    rc=$?
    echo "@@ step $ph $name $rc"
    if [ $rc -ne 0 ]; then
        failed=$((failed + 1))
        sed "s/^/@@ err $ph $name: /" "$name.err" | head -n 5
    fi
}

tools() {
    ph=$1
    step "$ph" getcap-startup tpm2 getcap properties-variable
    step "$ph" pcrread tpm2 pcrread sha256:0,10
    sed -n 's/^ *\([0-9]*\) *: 0x\([0-9A-F]*\)$/@@ pcr '"$ph"' \1 \2/p' \
        pcrread.out
    step "$ph" pcrextend tpm2 pcrextend "10:sha256=$DIGEST"
    step "$ph" getrandom tpm2 getrandom --hex 32
    step "$ph" createprimary tpm2 createprimary -C o -G ecc -c primary.ctx
    step "$ph" create tpm2 create -C primary.ctx -G ecc -u key.pub \
        -r key.priv
    step "$ph" load tpm2 load -C primary.ctx -u key.pub -r key.priv \
        -c key.ctx
    step "$ph" sign tpm2 sign -c key.ctx -g sha256 -o sig.bin msg.dat
    step "$ph" verifysignature tpm2 verifysignature -c key.ctx -g sha256 \
        -m msg.dat -s sig.bin
    step "$ph" nvdefine tpm2 nvdefine "$NV" -C o -s 64 \
        -a "ownerread|ownerwrite"
    step "$ph" nvwrite tpm2 nvwrite "$NV" -C o -i nv.dat
    step "$ph" nvread tpm2 nvread "$NV" -C o -s 64 -o nv.out
    step "$ph" nvread-cmp cmp nv.dat nv.out
    step "$ph" nvundefine tpm2 nvundefine "$NV" -C o
    rm -f ./*.ctx key.pub key.priv sig.bin nv.out
}

# The project's driver's statistics, a line per command
stats() {
    ph=$1
    [ -f "stats-$ph.tsv" ] || return 0
    awk -F '\t' -v ph="$ph" '{ print "@@ cmd", ph, $1, $2, $3, $4, $5, \
        $6, $8, $11 }' "stats-$ph.tsv"
}

unbind_kernel_driver() {
    for d in /sys/bus/acpi/drivers/tpm_crb/MSFT0101:*; do
        [ -e "$d" ] || continue
        echo "${d##*/}" >/sys/bus/acpi/drivers/tpm_crb/unbind &&
            echo "@@ unbound ${d##*/}"
    done
}

bridge() {
    echo "tpm-crb-bridge --devmem /dev/mem --stats /tmp/stats-$1.tsv"
}

# The host splits the device's trace by these markers' arrival times: a
# pause on each side keeps every command clear of them.
mark() {
    sleep 0.1
    echo "@@ $*"
    sleep 0.1
}

# A soak under live migration (scripts/guest-soak.py): rounds of
# commands until the host, done migrating, writes "stop" to the console.
# kernel: the kernel driver, with createprimary RSA 2048 (slow in swtpm);
# fast: the kernel driver, fast commands only; idle: none (a baseline
# for migration downtime); chunked: the chunked
# driver, TPM2_Hash of 1 KiB whose digest the host checks, and a PCR read
# whose response takes several chunks. The console may lose bytes at a
# hop, so the results are kept here and printed once more at the end.
soak_step() {
    name=$1
    shift
    "$@" >"$name.out" 2>"$name.err"
    rc=$?
    echo "@@ soak step $name $rc"
    echo "$n $name $rc" >>soak.results
    if [ $rc -ne 0 ]; then
        failed=$((failed + 1))
        sed "s/^/@@ err soak $name: /" "$name.err" | head -n 3
    fi
}

soak() {
    kind=$1
    awk 'BEGIN { for (i = 0; i < 1024; i++) printf "%c", 97 + i % 23 }' \
        >hash1k.dat
    : >host.in
    : >soak.results
    : >soak.hashes
    cat /dev/ttyS0 >host.in 2>/dev/null &
    reader=$!
    echo "@@ soak begin $kind"
    n=0
    while ! grep -q stop host.in; do
        n=$((n + 1))
        echo "@@ soak round $n"
        case $kind in
        kernel | fast)
            soak_step pcrextend tpm2 pcrextend "16:sha256=$DIGEST"
            soak_step getrandom tpm2 getrandom --hex 32
            if [ "$kind" = kernel ]; then
                soak_step createprimary tpm2 createprimary -C o \
                    -G rsa2048 -c primary.ctx
            fi
            ;;
        idle)
            sleep 0.2
            ;;
        chunked)
            soak_step hash tpm2 hash -g sha256 --hex hash1k.dat
            if [ "$rc" -eq 0 ]; then
                # tpm2 hash --hex ends without a newline
                echo "$(head -n 1 hash.out)" >>soak.hashes
            fi
            soak_step getrandom tpm2 getrandom --hex 32
            soak_step pcrread8 tpm2 pcrread sha256:0,1,2,3,4,5,6,7
            ;;
        esac
    done
    kill "$reader" 2>/dev/null
    soak_step pcrread tpm2 pcrread sha256:16
    sed -n 's/^ *16 *: 0x\([0-9A-F]*\)$/@@ soak pcr16 \1/p' pcrread.out
    awk '{ t[$2] += 1; if ($3 != 0) { f[$2] += 1;
               print "@@ soak failed", $1, $2, $3 } }
         END { for (k in t) print "@@ soak total", k, t[k] - f[k], f[k] + 0 }' \
        soak.results
    sort soak.hashes | uniq -c | awk '{ print "@@ soak hashes", $2, $1 }'
    echo "@@ soak end $n"
}

failed=0
for ph in "$@"; do
    mark phase "$ph"
    before=$failed
    case $ph in
    kernel)
        export TPM2TOOLS_TCTI=device:/dev/tpmrm0
        tools kernel
        ;;
    unbind)
        # The kernel driver lets go of the device (it sends
        # TPM2_Shutdown as it does); /dev/mem may then map the page.
        unbind_kernel_driver
        ;;
    firmware)
        # What the firmware left: PCR 0, and whether the owner
        # hierarchy still answers (SeaBIOS disables it when it cannot
        # measure the boot)
        TPM2TOOLS_TCTI="cmd:$(bridge firmware)"
        export TPM2TOOLS_TCTI
        step firmware pcrread-0 tpm2 pcrread sha256:0
        step firmware createprimary-owner tpm2 createprimary -C o \
            -G ecc -c primary.ctx
        stats firmware
        ;;
    chunked)
        tpm-crb-bridge --devmem /dev/mem --status | sed 's/^/@@ device /'
        TPM2TOOLS_TCTI="cmd:$(bridge chunked)"
        export TPM2TOOLS_TCTI
        tools chunked
        stats chunked
        ;;
    bench-kernel)
        tpm-crb-bench --device /dev/tpmrm0 --count "$TPMDEMO_COUNT" \
            getrandom getrandom pcrextend hash1k padded:1024 padded:2048 \
            padded:3072 | sed 's/^BENCH /@@ bench kernel /'
        ;;
    bench-chunked)
        sizes="padded:1024 padded:2048 padded:3072"
        # swtpm takes 4096 bytes; a window that is all there is, without
        # chunking, does not
        if tpm-crb-bench --devmem /dev/mem --count 1 padded:4096 \
                >/dev/null 2>&1; then
            sizes="$sizes padded:4096"
        fi
        # shellcheck disable=SC2086
        tpm-crb-bench --devmem /dev/mem --count "$TPMDEMO_COUNT" \
            getrandom getrandom pcrextend hash1k $sizes floor |
            sed 's/^BENCH /@@ bench chunked /'
        ;;
    soak-kernel | soak-fast | soak-idle)
        export TPM2TOOLS_TCTI=device:/dev/tpmrm0
        soak "${ph#soak-}"
        ;;
    soak-chunked)
        TPM2TOOLS_TCTI="cmd:tpm-crb-bridge --devmem /dev/mem"
        export TPM2TOOLS_TCTI
        soak chunked
        ;;
    big)
        # TPM2_GetRandom(16) padded to 4096 bytes: the TPM reads it
        # all and answers that the parameters are the wrong size.
        {
            printf '\200\001\000\000\020\000\000\000\001\173\000\020'
            head -c 4084 /dev/zero
        } >big.bin
        tpm-crb-bridge --devmem /dev/mem --stats /tmp/stats-big.tsv \
            <big.bin >big.rsp
        echo "@@ step big raw-4096 $?"
        stats big
        ;;
    esac
    mark phase-end "$ph" $((failed - before))
done
[ "$failed" -eq 0 ]
