#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench-report.py: turn the raw results of scripts/run-bench.sh (BENCHDIR:
# inproc.tsv, qtest.tsv, callgrind/cg.*) into the three tables, the ratios
# and the targets, and draw BUILDDIR/bench.png and bench.svg with gnuplot.
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Usage: bench-report.py BENCHDIR BUILDDIR

import glob
import os
import re
import subprocess
import sys

TARGET_INPROC = 1.25     # device / direct swtpm, 4 KiB command, W = 3968
TARGET_QTEST_CPU = 0.5   # ours / QEMU 7.2 emulator CPU per GetRandom
TARGET_QTEST_WALL = 1.2  # ours wall / (echo floor + swtpm CPU)
TARGET_BYTES = 2.0       # device instructions per byte / copy baseline
DEFAULT_WINDOW = 3968


def verdict(ok):
    return "MET" if ok else "MISSED"


def read_tsv(path):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            rows.append(line.rstrip("\n").split("\t"))
    return rows


def part1(bench):
    rows = read_tsv(os.path.join(bench, "inproc.tsv"))
    print("\n== 1. In-process: tpm-crb + swtpm backend (MMIO ops) vs the "
          "same command straight to swtpm's data channel")
    print("   median latency per command, microseconds; B = 4096 (swtpm "
          "0.7.1) or 8192 (fake)")
    hdr = ("backend", "window", "command", "cmd B", "rsp B", "chunks",
           "device us", "direct us", "ratio")
    print("   %-6s %6s %-11s %6s %6s %7s %10s %10s %7s" % hdr)
    result = None
    for r in rows:
        _, be, w, name, clen, rlen, cin, cout, dev, dire, ratio, n = r
        print("   %-6s %6s %-11s %6s %6s %3s/%-3s %10s %10s %6.2fx" %
              (be, w, name, clen, rlen, cin, cout, dev, dire, float(ratio)))
        if be == "swtpm" and name == "Framed4K" and int(w) == DEFAULT_WINDOW:
            result = float(ratio)
    if result is not None:
        print("   target: 4 KiB command at W=%d at most %.2fx direct swtpm: "
              "%.2fx -> %s" % (DEFAULT_WINDOW, TARGET_INPROC, result,
                                verdict(result <= TARGET_INPROC)))
    return rows


def part2(bench):
    rows = read_tsv(os.path.join(bench, "qtest.tsv"))
    print("\n== 2. Through qtest: per command, median wall latency, the "
          "emulator's CPU (all threads), swtpm's CPU, lines")
    print("   %-9s %-11s %6s %10s %12s %10s %7s" %
          ("target", "command", "rsp B", "wall us", "emu CPU us",
           "swtpm us", "lines"))
    by = {}
    for r in rows:
        _, tgt, name, clen, rlen, wall, cpu, tcpu, lines, n = r
        by[(tgt, name)] = (float(wall), float(cpu), float(tcpu),
                           float(lines))
        print("   %-9s %-11s %6s %10s %12s %10s %7s" %
              (tgt, name, rlen, wall, cpu, tcpu, lines))
    names = []
    for r in rows:
        if r[2] not in names:
            names.append(r[2])
    out = {}
    for name in names:
        ours = by.get(("ours", name))
        peer = by.get(("qemu-7.2", name))
        echo = by.get(("echo", name))
        if not ours:
            continue
        line = "   %-11s" % name
        if peer:
            line += " CPU ours/7.2 = %.2fx" % (ours[1] / peer[1])
            out.setdefault("cpu", {})[name] = ours[1] / peer[1]
        if echo:
            floor = echo[0] + ours[2]
            line += "; wall ours/(echo %.1f + swtpm %.1f) = %.2fx" % (
                echo[0], ours[2], ours[0] / floor)
            out.setdefault("wall", {})[name] = ours[0] / floor
            if peer:
                line += "; 7.2: %.2fx" % (peer[0] / (echo[0] + peer[2]))
        print(line)
    if "cpu" in out and "GetRandom" in out["cpu"]:
        v = out["cpu"]["GetRandom"]
        print("   target: emulator CPU per GetRandom at most %.2fx QEMU "
              "7.2's: %.2fx -> %s" % (TARGET_QTEST_CPU, v,
                                      verdict(v <= TARGET_QTEST_CPU)))
    elif "cpu" not in out:
        print("   target (CPU vs QEMU 7.2): not measured, no peer binary")
    if "wall" in out and "GetRandom" in out["wall"]:
        v = out["wall"]["GetRandom"]
        print("   target: GetRandom wall latency within %.2fx of echo floor "
              "+ swtpm CPU: %.2fx -> %s" % (TARGET_QTEST_WALL, v,
                                            verdict(v <= TARGET_QTEST_WALL)))
    return rows


def cg_dumps(bench):
    res = {}
    for path in glob.glob(os.path.join(bench, "callgrind", "cg.*")):
        desc = total = None
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith("desc: Trigger: Client Request: "):
                    desc = line.split("Client Request: ", 1)[1].strip()
                elif line.startswith("totals:"):
                    total = int(line.split()[1])
        if desc and total is not None and desc.split()[0] in (
                "device", "baseline"):
            kind, be, w, name, clen, rlen, cin, n = desc.split()
            key = (be, int(w), name)
            res.setdefault(key, {"clen": int(clen), "rlen": int(rlen),
                                 "chunks": int(cin)})
            res[key][kind] = total / int(n)
    return res


def part3(bench):
    res = cg_dumps(bench)
    print("\n== 3. Instructions (callgrind Ir) in the device per command, "
          "against copying the same bytes once in and once out")
    print("   %-6s %6s %-11s %7s %11s %9s %9s %9s %7s" %
          ("backend", "window", "command", "bytes", "device Ir",
           "base Ir", "dev Ir/B", "base Ir/B", "ratio"))
    rows = []
    for key in sorted(res, key=lambda k: (k[0], -k[1], res[k]["clen"])):
        d = res[key]
        if "device" not in d or "baseline" not in d:
            continue
        nbytes = d["clen"] + d["rlen"]
        ratio = d["device"] / d["baseline"]
        rows.append((key, d, nbytes, ratio))
        print("   %-6s %6d %-11s %7d %11.0f %9.0f %9.2f %9.2f %6.1fx" %
              (key[0], key[1], key[2], nbytes, d["device"], d["baseline"],
               d["device"] / nbytes, d["baseline"] / nbytes, ratio))

    # Marginal cost per byte: the slope between the 1 KiB and 4 KiB framed
    # commands (same response), i.e. with the fixed per-command cost out.
    print("   marginal instructions per command byte (Framed4K - Framed1K) "
          "/ 3072:")
    margin = {}
    for w in sorted({k[1] for k in res}, reverse=True):
        a = res.get(("swtpm", w, "Framed1K"))
        b = res.get(("swtpm", w, "Framed4K"))
        if not a or not b or "device" not in a or "device" not in b:
            continue
        dev = (b["device"] - a["device"]) / 3072
        base = (b["baseline"] - a["baseline"]) / 3072
        margin[w] = dev / base
        print("   W=%-5d device %.3f Ir/B, baseline %.3f Ir/B, ratio %.2fx" %
              (w, dev, base, dev / base))
    big = [r for r in rows if r[0][1] == DEFAULT_WINDOW and r[2] >= 4096]
    for key, d, nbytes, ratio in big:
        print("   target: %s (%d bytes moved) at W=%d: device/baseline per "
              "byte %.2fx (at most %.1fx) -> %s" %
              (key[2], nbytes, key[1], ratio, TARGET_BYTES,
               verdict(ratio <= TARGET_BYTES)))
    if DEFAULT_WINDOW in margin:
        m = margin[DEFAULT_WINDOW]
        print("   target, marginal per byte at W=%d: %.2fx -> %s" %
              (DEFAULT_WINDOW, m, verdict(m <= TARGET_BYTES)))
    small = [r for r in rows if r[0][2] == "GetRandom"]
    for key, d, nbytes, ratio in small:
        print("   target, whole GetRandom (%d bytes) at W=%d: %.1fx -> %s" %
              (nbytes, key[1], ratio, verdict(ratio <= TARGET_BYTES)))
    return rows


def plot(bench, builddir, inproc, qtest):
    dat1 = os.path.join(bench, "inproc.dat")
    with open(dat1, "w") as f:
        for r in inproc:
            _, be, w, name, clen, rlen, cin, cout, dev, dire, ratio, n = r
            f.write('"%s W=%s" %s %s\n' % (name, w, dev, dire))
    dat2 = os.path.join(bench, "qtest.dat")
    names, by = [], {}
    for r in qtest:
        if r[2] not in names:
            names.append(r[2])
        by[(r[1], r[2])] = r[6]
    with open(dat2, "w") as f:
        for name in names:
            f.write('"%s" %s %s %s\n' % (name, by.get(("ours", name), "0"),
                                       by.get(("qemu-7.2", name), "0"),
                                       by.get(("echo", name), "0")))
    script = os.path.join(bench, "bench.gnuplot")
    body = """
set multiplot layout 2,1
set termoption noenhanced
set yrange [0:*]
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
set grid ytics
set xtics rotate by -35 font ",8"
set ylabel "median latency (us)"
set title "1. In-process: tpm-crb + swtpm backend vs direct swtpm data channel"
plot "{d1}" using 2:xtic(1) title "device + backend", "" using 3 title "direct"
set ylabel "emulator CPU per command (us)"
set title "2. Through qtest: emulator CPU time per command (all threads)"
plot "{d2}" using 2:xtic(1) title "this emulator", \\
     "" using 3 title "QEMU 7.2 (tcg -S)", "" using 4 title "echo floor"
unset multiplot
""".format(d1=dat1, d2=dat2)
    with open(script, "w") as f:
        f.write('set terminal pngcairo size 1100,900\nset output "%s"\n' %
                os.path.join(builddir, "bench.png"))
        f.write(body)
        f.write('set terminal svg size 1100,900\nset output "%s"\n' %
                os.path.join(builddir, "bench.svg"))
        f.write(body)
    r = subprocess.run(["gnuplot", script], capture_output=True, text=True)
    if r.returncode != 0:
        print("gnuplot failed:\n" + r.stderr, file=sys.stderr)
        return False
    print("\nplot: %s, %s" % (os.path.join(builddir, "bench.png"),
                              os.path.join(builddir, "bench.svg")))
    return True


def main():
    if len(sys.argv) != 3:
        print("usage: bench-report.py BENCHDIR BUILDDIR", file=sys.stderr)
        return 2
    bench, builddir = sys.argv[1], sys.argv[2]
    try:
        with open(os.path.join(bench, "machine.txt")) as f:
            print("== machine\n   " + f.read().strip().replace("\n", "\n   "))
    except OSError:
        pass
    inproc = part1(bench)
    qtest = part2(bench)
    part3(bench)
    return 0 if plot(bench, builddir, inproc, qtest) else 1


if __name__ == "__main__":
    sys.exit(main())
