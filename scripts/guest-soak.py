#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Running guests, live-migrated: the demo guest runs TPM commands in a
# loop (guest/workload.sh, phases soak-kernel and soak-chunked) while this
# script migrates it, at random moments, to a fresh QEMU with a fresh
# swtpm (the TPM state travels in the stream), hop after hop. Then it asks
# the guest to stop, and checks what the guest saw: every command
# succeeded, PCR 16 equals the hash chain of the extends computed here,
# every TPM2_Hash digest equals the one computed here.
#
# Runs (TAP, one test each):
#   kernel   the kernel's tpm_crb driver, chunking on, full window:
#            pcrextend, getrandom, createprimary RSA 2048
#   chunked  the chunked driver over /dev/mem at a 64-byte window:
#            TPM2_Hash of 1 KiB, getrandom, createprimary (its response
#            read in several chunks)
#   stock    the kernel driver, alternating this QEMU and the stock peer
#            on pc-q35-10.2, chunking off, fast commands only: a loss on
#            a hop from stock is printed as a figure (stock loses a
#            response that completes at the switchover); a loss on a hop
#            from this QEMU fails
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Usage: guest-soak.py --qemu QEMU [--stock STOCK] --guest DIR --work DIR
#        [--hops N] [--seed S] [--runs kernel,chunked,stock]

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

MACHINE = 'pc-q35-10.2'
CHUNK_ON = ['-global', 'tpm-crb.cap-chunk=on',
            '-global', 'tpm-crb.x-allow-chunk-migration=on']
# The stock peer has no chunking properties: both sides run with the
# machine's defaults, chunking off on pc-q35-10.2.
NO_CHUNK = []
DIGEST = '01' * 32
HOP_TIMEOUT_S = 60
ROUND_RE = re.compile(r'^@@ soak round (\d+)$')
TOTAL_RE = re.compile(r'^@@ soak total (\S+) (\d+) (\d+)$')
FAILED_RE = re.compile(r'^@@ soak failed (\d+) (\S+) (\d+)$')
HASHES_RE = re.compile(r'^@@ soak hashes ([0-9a-f]{64}) (\d+)$')
PCR16_RE = re.compile(r'^@@ soak pcr16 ([0-9A-F]{64})$')
END_RE = re.compile(r'^@@ soak end (\d+)$')
RUN_TIMEOUT_S = 600


def say(text=''):
    print(text, flush=True)


class Peer:
    """One QEMU process, its swtpm, its serial and QMP sockets."""

    def __init__(self, work, n, qemu, opts, append, guest, incoming,
                 trace=()):
        self.dir = os.path.join(work, 'vm%02d' % n)
        self.name = os.path.basename(qemu.rstrip('/'))
        self.qemu = qemu
        os.makedirs(self.dir)
        tpm = os.path.join(self.dir, 'tpm')
        os.makedirs(tpm)
        ctrl = os.path.join(tpm, 'ctrl.sock')
        self.swtpm = subprocess.Popen(
            ['swtpm', 'socket', '--tpm2', '--tpmstate', 'dir=' + tpm,
             '--ctrl', 'type=unixio,path=' + ctrl,
             '--log', 'file=%s/swtpm.log' % tpm],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wait_path(ctrl, self.swtpm)
        self.serial_path = os.path.join(self.dir, 'serial.sock')
        self.qmp_path = os.path.join(self.dir, 'qmp.sock')
        self.mig_path = os.path.join(self.dir, 'mig.sock')
        args = [qemu, '-M', MACHINE, '-accel', 'tcg',
                '-m', '512', '-nodefaults',
                '-display', 'none', '-no-reboot',
                '-chardev', 'socket,id=ser0,path=%s,server=on,wait=off'
                % self.serial_path,
                '-serial', 'chardev:ser0',
                '-qmp', 'unix:%s,server=on,wait=off' % self.qmp_path,
                '-chardev', 'socket,id=chrtpm,path=' + ctrl,
                '-tpmdev', 'emulator,id=tpm0,chardev=chrtpm',
                '-device', 'tpm-crb,tpmdev=tpm0'] + opts + [
                '-kernel', os.path.join(guest, 'vmlinuz'),
                '-initrd', os.path.join(guest, 'initramfs.gz'),
                '-append', append]
        if incoming:
            args += ['-incoming', 'unix:' + self.mig_path]
        if trace:
            args += ['-msg', 'timestamp=on',
                     '-D', os.path.join(self.dir, 'trace.log')]
            for e in trace:
                args += ['-trace', e]
        self.log = open(os.path.join(self.dir, 'qemu.log'), 'w')
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_path(self.serial_path, self.proc)
        wait_path(self.qmp_path, self.proc)
        self.serial = connect(self.serial_path)
        self.serial.setblocking(False)
        self.qmp = connect(self.qmp_path).makefile('rw')
        self.qmp_read()
        self.cmd('qmp_capabilities')

    def qmp_read(self):
        line = self.qmp.readline()
        if not line:
            raise RuntimeError('%s closed QMP (see %s)' %
                               (self.name, self.dir))
        return json.loads(line)

    def cmd(self, name, **args):
        self.qmp.write(json.dumps({'execute': name, 'arguments': args}) +
                       '\n')
        self.qmp.flush()
        while True:
            r = self.qmp_read()
            if 'return' in r:
                return r['return']
            if 'error' in r:
                raise RuntimeError('%s: %s' % (name, r['error']['desc']))

    def read_serial(self):
        try:
            data = self.serial.recv(65536)
        except BlockingIOError:
            return b''
        return data

    def close(self):
        for f in (self.qmp, self.serial):
            try:
                f.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.swtpm.send_signal(signal.SIGTERM)
        try:
            self.swtpm.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.swtpm.kill()
        self.log.close()


def wait_path(path, proc):
    deadline = time.time() + 10
    while not os.path.exists(path):
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError('%s did not appear' % path)
        time.sleep(0.02)


def connect(path):
    # The path exists once bound, a moment before QEMU listens on it.
    deadline = time.time() + 10
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except ConnectionRefusedError:
            s.close()
            if time.time() > deadline:
                raise
            time.sleep(0.02)


class Console:
    """The guest's serial output, in order, across hops."""

    def __init__(self, path):
        self.out = open(path, 'w')
        self.buf = b''
        self.lines = []

    def feed(self, data):
        self.buf += data
        while b'\n' in self.buf:
            line, self.buf = self.buf.split(b'\n', 1)
            text = line.decode('utf-8', 'replace').rstrip('\r')
            self.out.write(text + '\n')
            self.out.flush()
            self.lines.append(text)

    def last_round(self):
        for line in reversed(self.lines):
            m = ROUND_RE.match(line)
            if m:
                return int(m.group(1))
        return 0

    def pump(self, peer, seconds):
        end = time.time() + seconds
        while True:
            data = peer.read_serial()
            if data:
                self.feed(data)
                continue
            if time.time() >= end:
                return
            time.sleep(0.02)


def wait_migration(peer):
    deadline = time.time() + HOP_TIMEOUT_S
    while time.time() < deadline:
        r = peer.cmd('query-migrate')
        st = r.get('status')
        if st in ('completed', 'failed', 'cancelled'):
            return st, r
        time.sleep(0.05)
    raise RuntimeError('the migration did not end in %d s' % HOP_TIMEOUT_S)


def run(o, kind, work):
    phase = {'kernel': 'kernel', 'chunked': 'chunked',
             'stock': 'fast'}[kind]
    opts = NO_CHUNK if kind == 'stock' else CHUNK_ON
    if kind == 'chunked':
        opts = opts + ['-global', 'tpm-crb.x-data-buffer-size=64']
    binaries = [o.qemu, o.stock] if kind == 'stock' else [o.qemu]
    return soak(binaries, phase, opts, o.guest, work, o.hops,
                random.Random('%s-%d' % (kind, o.seed)))


def soak(binaries, phase, opts, guest, work, n_hops, rng, trace=()):
    """
    Boot the guest on binaries[0] with its soak phase (kernel, fast,
    chunked, idle), migrate it n_hops times, each to the next of
    binaries (round robin), at moments drawn from rng; then stop it.
    trace: QEMU trace events, logged with timestamps to each peer's
    trace.log. Returns the console lines, the hops and the seconds.
    """
    append = 'console=ttyS0 panic=-1 quiet tpmdemo=soak-' + phase
    if phase == 'chunked':
        append += ' initcall_blacklist=crb_acpi_driver_init'
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    console = Console(os.path.join(work, 'console.txt'))
    t0 = time.time()
    peers = []
    # (source, destination, downtime ms, hop ms, the guest's round then,
    # the source's directory)
    hops = []
    cur = Peer(work, 0, binaries[0], opts, append, guest, False, trace)
    peers.append(cur)
    try:
        # Wait for the loop to start, then hop.
        while not any(l.startswith('@@ soak begin') for l in console.lines):
            if time.time() - t0 > RUN_TIMEOUT_S or cur.proc.poll() is not None:
                raise RuntimeError('the guest did not start its loop')
            console.pump(cur, 0.2)
        n = 0
        while n < n_hops:
            console.pump(cur, rng.uniform(0.3, 2.0))
            nxt_bin = binaries[(n + 1) % len(binaries)]
            nxt = Peer(work, n + 1, nxt_bin, opts, append, guest, True,
                       trace)
            peers.append(nxt)
            t = time.time()
            cur.cmd('migrate', uri='unix:' + nxt.mig_path)
            st, info = wait_migration(cur)
            if st != 'completed':
                raise RuntimeError('hop %d (%s): migration %s: %s' %
                                   (n + 1, cur.qemu, st,
                                    info.get('error-desc', '')))
            console.pump(cur, 0.1)
            # The guest's lines from here on are printed on the
            # destination: a command that lost its response at this hop
            # fails after this mark.
            hops.append((cur.qemu, nxt.qemu, info.get('downtime', 0),
                         int((time.time() - t) * 1000),
                         console.last_round(), cur.dir))
            cur.close()
            cur = nxt
            n += 1
        cur.serial.sendall(b'stop\n')
        deadline = time.time() + RUN_TIMEOUT_S
        while not any(l.startswith('@@ guest done') for l in console.lines):
            if time.time() > deadline:
                raise RuntimeError('the guest did not finish')
            if cur.proc.poll() is not None:
                console.pump(cur, 0.2)
                break
            console.pump(cur, 0.2)
    finally:
        for p in peers:
            p.close()
    return console.lines, hops, time.time() - t0


def chain(n):
    pcr = bytes(32)
    for _ in range(n):
        pcr = hashlib.sha256(pcr + bytes.fromhex(DIGEST)).digest()
    return pcr.hex().upper()


def check(kind, lines, hops, o):
    """What the guest saw; returns (ok, report lines)."""
    def matches(rx):
        return [m for m in (rx.match(l) for l in lines) if m]

    totals = {m.group(1): (int(m.group(2)), int(m.group(3)))
              for m in matches(TOTAL_RE)}
    failures = [(int(m.group(1)), m.group(2), int(m.group(3)))
                for m in matches(FAILED_RE)]
    hashes = [(m.group(1), int(m.group(2))) for m in matches(HASHES_RE)]
    pcr16 = [m.group(1) for m in matches(PCR16_RE)]
    end = matches(END_RE)
    errs = [l for l in lines if l.startswith('@@ err ')]
    rounds = int(end[-1].group(1)) if end else 0
    report = ['%d hops, %d rounds: %s' % (
        len(hops), rounds,
        ', '.join('%s %d ok %d failed' % (k, v[0], v[1])
                  for k, v in sorted(totals.items())))]
    if hops:
        downtimes = sorted(h[2] for h in hops)
        report.append('downtime per hop: median %d ms, max %d ms'
                      % (downtimes[len(downtimes) // 2], downtimes[-1]))
    report += errs[:6]
    ok = True
    if len(hops) < o.hops:
        ok = False
        report.append('only %d hops' % len(hops))
    if not end or not totals:
        ok = False
        report.append('the guest did not report its results')
    if kind == 'stock':
        # A failed command is charged to the last hop at or before its
        # round: the hop that moved the guest while it ran.
        by_source = {o.qemu: 0, o.stock: 0}
        for rnd, name, rc in failures:
            before = [h for h in hops if h[4] <= rnd]
            src = before[-1][0] if before else o.qemu
            by_source[src] += 1
            report.append('round %d: %s failed (rc %d) after a hop from %s'
                          % (rnd, name, rc,
                             'the stock peer' if src == o.stock
                             else 'this QEMU'))
        from_patched = sum(1 for h in hops if h[0] == o.qemu)
        report.append('%d hops from this QEMU, %d from the stock peer'
                      % (from_patched, len(hops) - from_patched))
        report.append('figure: %d failed commands after hops from the '
                      'stock peer (it loses a response at the switchover)'
                      % by_source[o.stock])
        report.append('%d failed commands after hops from this QEMU'
                      % by_source[o.qemu])
        if by_source[o.qemu]:
            ok = False
    elif failures or any(v[1] for v in totals.values()):
        ok = False
    if kind in ('kernel', 'stock'):
        extends = totals.get('pcrextend', (0, 0))[0]
        want = chain(extends)
        got = pcr16[-1] if pcr16 else '(none)'
        report.append('PCR 16 after %d extends: %s, computed %s' %
                      (extends, got, want))
        # A lost response on a hop from stock may hide an extend that
        # was done; only then may PCR 16 differ.
        lost = sum(1 for f in failures if f[1] == 'pcrextend')
        if got != want and not (kind == 'stock' and lost):
            ok = False
    if kind == 'chunked':
        want = hashlib.sha256(hash_input()).hexdigest()
        good = sum(c for d, c in hashes if d == want)
        bad = sum(c for d, c in hashes if d != want)
        report.append('TPM2_Hash of 1 KiB: %d digests equal %s computed '
                      'here, %d differ' % (good, want[:16], bad))
        if bad or good != totals.get('hash', (0, 0))[0] or not good:
            ok = False
    return ok, report


def hash_input():
    return bytes((97 + i % 23) for i in range(1024))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--qemu', required=True)
    ap.add_argument('--stock', default='')
    ap.add_argument('--guest', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--hops', type=int, default=20)
    ap.add_argument('--seed', type=int,
                    default=int(os.environ.get('SOAK_SEED', '0')) or
                    int(time.time()))
    ap.add_argument('--runs', default='kernel,chunked,stock')
    o = ap.parse_args()
    o.qemu = os.path.abspath(o.qemu)
    if o.stock:
        o.stock = os.path.abspath(o.stock)
    runs = o.runs.split(',')
    say('1..%d' % len(runs))
    say('# seed %d (SOAK_SEED=%d reproduces the hop times)' % (o.seed,
                                                               o.seed))
    all_ok = True
    for i, kind in enumerate(runs, 1):
        name = 'soak %s: %d live migrations of a running guest' % (kind,
                                                                  o.hops)
        if kind == 'stock' and not (o.stock and os.access(o.stock,
                                                          os.X_OK)):
            say('ok %d %s # SKIP no stock peer (make stock)' % (i, name))
            continue
        try:
            lines, hops, secs = run(o, kind, os.path.join(o.work, kind))
            ok, report = check(kind, lines, hops, o)
        except (RuntimeError, OSError) as e:
            ok, report, secs = False, ['error: %s' % e], 0
        for r in report:
            say('# %s: %s' % (kind, r))
        say('# %s: %.0f s' % (kind, secs))
        say('%s %d %s' % ('ok' if ok else 'not ok', i, name))
        all_ok = all_ok and ok
    return 0 if all_ok else 1


if __name__ == '__main__':
    sys.exit(main())
