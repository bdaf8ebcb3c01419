#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make bench: what the series costs on the same QEMU, and what a chunk
# costs. Patched and stock QEMU 10.2.2 (same source, same configuration,
# each with its own swtpm) are driven alternately in one run. The parts,
# by the name --only knows them by, in the order they run:
#
#   qtest      through qtest, by this script: wall latency per command and
#              the emulator's CPU time (all its threads, /proc/PID/stat)
#              for TPM2_GetRandom, TPM2_PCR_Extend and a 1 KiB TPM2_Hash;
#   qtest-big  through qtest, on the patched QEMU with FakeSwtpm (a fake
#              swtpm in this process whose buffer is 64 KiB, which swtpm's
#              4 KiB cannot reach): commands and responses of 4, 8 and
#              64 KiB, chunked at windows of 3968 and 512 bytes, against
#              the floor (the same bytes moved once through the window
#              and one MMIO write per chunk); cost per extra chunk and per
#              KiB;
#   memory     through qtest, each QEMU on its own swtpm: 10,000 random
#              commands from a seeded generator (chunked on the patched
#              QEMU above the window), the emulator's VmHWM, VmRSS and
#              RssAnon (/proc/PID/status) after the first and the last;
#   kernel     in a guest (scripts/guest-run.py), through the kernel's
#              tpm_crb driver: tpm-crb-bench on /dev/tpmrm0, boots
#              alternating;
#   chunks     in a guest, through the chunked driver (tpm-crb-bench
#              --devmem) at windows of 64, 512 and 3968 bytes, commands of
#              1 to 4 KiB, and the floor of a chunk (a window's worth of
#              bytes written and one MMIO exit); stock QEMU's unchunked
#              latency as the reference.
#
# Writes docs/benchmarks.md (tables, the machine, the noise: min, median
# and max over the alternations) and docs/benchmarks-chunks.{png,svg}.
# With --only, just those parts run and the report has just their
# sections; it must then go elsewhere than docs/ (--out), so that only a
# full run rewrites docs/benchmarks.md.
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
# Usage: scripts/bench.py --qemu Q [--stock S] [--guest DIR] --work DIR
#        [--only PART,...] [--out DIR]
#        [--rounds N]        rounds of the qtest parts (qtest, qtest-big)
#        [--qtest-count N]   commands per batch in qtest
#        [--big-count N]     exchanges (and floors) per batch in qtest-big
#        [--mem-count N]     random commands per QEMU in memory
#        [--seed N]          the memory part's generator
#        [--rounds-guest N]  boots of each in kernel and chunks
#        [--count N]         commands per size in a guest
# --stock is needed by qtest, memory, kernel and chunks, --guest by
# kernel and chunks. From make: make bench BENCH_ARGS='--only memory
# --out /tmp/b'.

import argparse
import importlib.util
import os
import platform
import random
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    'guest_run', os.path.join(HERE, 'guest-run.py'))
gr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gr)

CRB = 0xfed40000
LOC_CTRL, INTF_ID, CTRL_REQ, CTRL_STS = 0x08, 0x30, 0x40, 0x44
CTRL_CANCEL, CTRL_START, CTRL_CMD_SIZE = 0x48, 0x4c, 0x58
WINDOW = 0x80
# CTRL_START bits (PTP v1.07), INTF_ID.CapCRBChunk
START, NEXT_CHUNK = 1, 4
CAP_CRB_CHUNK = 1 << 10
# Bound on one command's completion (an RSA key in swtpm takes seconds)
START_TIMEOUT = 60
# Bound on any one qtest reply
QTEST_TIMEOUT = 60

STARTUP = bytes.fromhex('80010000000c000001440000')
GETRANDOM = bytes.fromhex('80010000000c0000017b0010')
EXTEND = (bytes.fromhex('80020000004100000182'   # header
                        '00000010'               # PCR 16
                        '00000009'               # password session
                        '400000090000000000'
                        '00000001000b') +        # one SHA-256 digest
          b'\x5a' * 32)


def hash1k():
    body = b'\x33' * 1024
    n = 10 + 2 + 1024 + 2 + 4
    return (b'\x80\x01' + n.to_bytes(4, 'big') + (0x17d).to_bytes(4, 'big') +
            (1024).to_bytes(2, 'big') + body + b'\x00\x0b' +
            (0x40000007).to_bytes(4, 'big'))


QTEST_COMMANDS = [('getrandom', GETRANDOM), ('pcrextend', EXTEND),
                  ('hash1k', hash1k())]


def be32(b):
    return int.from_bytes(b[:4], 'big')


class Swtpm:
    """swtpm 0.7.1 on its own state directory under d."""

    def __init__(self, d):
        self.proc, self.path = gr.start_swtpm(os.path.join(d, 'tpm'))

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=10)


# swtpm's control protocol (QEMU's backends/tpm/tpm_ioctl.h)
CMD_GET_CAPABILITY, CMD_INIT, CMD_SHUTDOWN = 0x01, 0x02, 0x03
CMD_GET_TPMESTABLISHED, CMD_SET_LOCALITY = 0x04, 0x05
CMD_CANCEL_TPM_CMD, CMD_RESET_TPMESTABLISHED = 0x09, 0x0b
CMD_STOP, CMD_GET_CONFIG = 0x0e, 0x0f
CMD_SET_DATAFD, CMD_SET_BUFFERSIZE = 0x10, 0x11
PTM_CAPS = (1 << 0 | 1 << 1 | 1 << 2 | 1 << 3 |  # INIT SHUTDOWN EST LOCALITY
            1 << 5 | 1 << 7 | 1 << 10 |          # CANCEL RESET_EST STOP
            1 << 11 | 1 << 12 | 1 << 13)         # CONFIG DATAFD BUFFERSIZE
# Request bytes after the code, as QEMU's emulator backend sends them
PTM_REQ_SIZE = {CMD_INIT: 4, CMD_SET_LOCALITY: 4,
                CMD_RESET_TPMESTABLISHED: 4, CMD_SET_BUFFERSIZE: 4}
PTM_BAD_PARAMETER, PTM_BAD_ORDINAL, PTM_BAD_LOCALITY = 0x03, 0x0a, 0x3d
PTM_MIN_BUFFER = 128


def recv_exact(s, n):
    """n bytes from socket s, or None at end of file."""
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = s.recv_into(view[got:])
        if not k:
            return None
        got += k
    return bytes(buf)


class FakeSwtpm:
    """
    A stand-in for swtpm in this process, for buffers that swtpm (4 KiB)
    cannot offer; as tests/qtest/tpm-crb-emu.c does in C. One thread
    serves the control socket QEMU's emulator backend connects to (the
    commands it sends: capabilities, the data channel by SCM_RIGHTS, stop,
    buffer size, init, locality...), another the data channel, where a
    command of N bytes gets a response of N bytes (tag 0x8001, size N,
    rc 0, then a pattern). Never a TPM: only a transport's other end.
    """

    def __init__(self, d, max_size=64 * 1024):
        self.path = os.path.join(d, 'fake-swtpm.sock')
        self.max_size = self.cur_size = max_size
        self.running = False
        self.commands = 0
        self.error = None
        self.conns = []
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(1)
        self.listener.settimeout(30)
        threading.Thread(target=self._guard, args=(self._serve_ctrl,),
                         daemon=True).start()

    @staticmethod
    def response(n):
        """The response to a command of n bytes."""
        return (b'\x80\x01' + n.to_bytes(4, 'big') + bytes(4) +
                bytes((i * 31 + (i >> 8) + 7) & 0xff for i in range(10, n)))

    def _guard(self, fn, *args):
        try:
            fn(*args)
        except Exception as e:  # reported by check(), the VM sees EOF
            self.error = '%s: %r' % (fn.__name__, e)
        finally:
            for c in self.conns:
                c.close()

    def _serve_ctrl(self):
        conn, _ = self.listener.accept()
        self.conns.append(conn)
        buf = b''
        fds = []
        while True:
            while len(buf) < 4 or \
                    len(buf) < 4 + PTM_REQ_SIZE.get(be32(buf), 0):
                data, new, _, _ = socket.recv_fds(conn, 4096, 1)
                if not data:
                    return
                buf += data
                fds += new
            code = be32(buf)
            n = 4 + PTM_REQ_SIZE.get(code, 0)
            req, buf = buf[4:n], buf[n:]
            conn.sendall(self._ctrl(code, req, fds))

    def _ctrl(self, code, req, fds):
        ok = bytes(4)
        if code == CMD_GET_CAPABILITY:
            return struct.pack('>II', 0, PTM_CAPS)
        if code == CMD_INIT:
            self.running = True
            return ok
        if code in (CMD_SHUTDOWN, CMD_STOP):
            self.running = False
            return ok
        if code == CMD_GET_TPMESTABLISHED:
            return struct.pack('>IB3x', 0, 0)
        if code == CMD_SET_LOCALITY:
            return ok if req[0] <= 4 else struct.pack('>I', PTM_BAD_LOCALITY)
        if code in (CMD_CANCEL_TPM_CMD, CMD_RESET_TPMESTABLISHED):
            return ok   # nothing is ever held; no established bit
        if code == CMD_GET_CONFIG:
            return struct.pack('>II', 0, 0)
        if code == CMD_SET_DATAFD:
            if not fds:
                return struct.pack('>I', PTM_BAD_PARAMETER)
            data = socket.socket(fileno=fds.pop(0))
            self.conns.append(data)
            threading.Thread(target=self._guard,
                             args=(self._serve_data, data),
                             daemon=True).start()
            return ok
        if code == CMD_SET_BUFFERSIZE:
            wanted = be32(req)
            if wanted:
                if self.running:
                    return struct.pack('>I', PTM_BAD_ORDINAL)
                self.cur_size = min(max(wanted, PTM_MIN_BUFFER),
                                    self.max_size)
            return struct.pack('>IIII', 0, self.cur_size, PTM_MIN_BUFFER,
                               self.max_size)
        return struct.pack('>I', PTM_BAD_ORDINAL)

    def _serve_data(self, s):
        cache = {}
        while True:
            head = recv_exact(s, 10)
            if head is None:
                return
            n = be32(head[2:])
            if n < 10 or n > self.cur_size:
                raise RuntimeError('command of %d bytes, buffer %d' %
                                   (n, self.cur_size))
            if n > 10 and recv_exact(s, n - 10) is None:
                return
            if n not in cache:
                cache[n] = self.response(n)
            s.sendall(cache[n])
            self.commands += 1

    def check(self):
        if self.error:
            raise RuntimeError('fake swtpm: ' + self.error)

    def stop(self):
        self.listener.close()
        for c in self.conns:
            c.close()


class QtestVM:
    """
    A QEMU under qtest with tpm-crb on its own TPM: backend(directory)
    gives an object with the control socket's path and stop() (Swtpm, a
    real one, by default). A guest driver's view of the CRB: exchange()
    sends a command and reads its response, a window at a time when they
    are larger than the window (SPEC.md §4).
    """

    def __init__(self, name, qemu, work, backend=Swtpm, machine='q35',
                 props=''):
        self.name = name
        self.dir = d = os.path.join(work, 'qtest-' + name)
        subprocess.run(['rm', '-rf', d])
        os.makedirs(d)
        self.tpm = self.proc = self.sock = None
        self.log = open(os.path.join(d, 'qemu.log'), 'w')
        try:
            self.tpm = backend(d)
            self._start(qemu, machine, props)
        except BaseException:
            self.stop()
            raise

    def _start(self, qemu, machine, props):
        sock = os.path.join(self.dir, 'qtest.sock')
        self.proc = subprocess.Popen(
            [qemu, '-M', machine, '-accel', 'qtest', '-nodefaults',
             '-display', 'none',
             '-qtest', 'unix:%s,server=on,wait=on' % sock,
             '-qtest-log', 'none',
             '-chardev', 'socket,id=chrtpm,path=' + self.tpm.path,
             '-tpmdev', 'emulator,id=tpm0,chardev=chrtpm',
             '-device', 'tpm-crb,tpmdev=tpm0' + props],
            stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while self.sock is None:
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError('%s: QEMU did not start (see %s)' %
                                   (self.name, self.log.name))
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sock)
                self.sock = s
            except OSError:
                s.close()
                time.sleep(0.02)
        self.sock.settimeout(QTEST_TIMEOUT)
        # Buffered: an unbuffered readline costs a recv per byte
        self.f = self.sock.makefile('rb')
        self.window = self.readl(CTRL_CMD_SIZE)
        self.chunking = bool(self.readl(INTF_ID) & CAP_CRB_CHUNK)
        self.transact(STARTUP)

    def cmd(self, line):
        self.sock.sendall(line.encode() + b'\n')
        while True:
            reply = self.f.readline().decode().strip()
            if not reply:
                raise RuntimeError('%s: qtest closed (see %s)' %
                                   (self.name, self.log.name))
            if reply.startswith(('OK', 'FAIL', 'ERR')):
                if not reply.startswith('OK'):
                    raise RuntimeError('%s: %s: %s' % (self.name, line[:40],
                                                       reply))
                return reply
            # asynchronous IRQ notes and the like

    def writel(self, off, val):
        self.cmd('writel 0x%x 0x%x' % (CRB + off, val))

    def readl(self, off):
        return int(self.cmd('readl 0x%x' % (CRB + off)).split()[1], 16)

    def write_window(self, data):
        self.cmd('write 0x%x 0x%x 0x%s' % (CRB + WINDOW, len(data),
                                            data.hex()))

    def read_window(self, n):
        return bytes.fromhex(self.cmd('read 0x%x 0x%x' %
                                      (CRB + WINDOW, n)).split()[1][2:])

    def send(self, command):
        """The command into the window: each piece but the last followed
        by nextChunk, the last by Start."""
        w = self.window
        if len(command) > w and not self.chunking:
            raise RuntimeError('%s: %d bytes, window %d, no CapCRBChunk' %
                               (self.name, len(command), w))
        for off in range(0, len(command), w):
            self.write_window(command[off:off + w])
            self.writel(CTRL_START,
                        START if off + w >= len(command) else NEXT_CHUNK)

    def wait_start(self):
        deadline = time.monotonic() + START_TIMEOUT
        while self.readl(CTRL_START) & START:
            if time.monotonic() > deadline:
                raise RuntimeError('%s: Start still set after %d s' %
                                   (self.name, START_TIMEOUT))

    def receive(self):
        """The response: its header, its first piece, then nextChunk and
        the next piece until the declared size has been read."""
        head = self.read_window(10)
        size = be32(head[2:])
        if size < 10:
            return head
        pieces = [self.read_window(min(self.window, size))]
        got = len(pieces[0])
        while got < size:
            self.writel(CTRL_START, NEXT_CHUNK)
            pieces.append(self.read_window(min(self.window, size - got)))
            got += len(pieces[-1])
        return b''.join(pieces)

    def exchange(self, command):
        self.writel(LOC_CTRL, 1)
        self.writel(CTRL_REQ, 1)
        self.send(command)
        self.wait_start()
        rsp = self.receive()
        self.writel(CTRL_REQ, 2)
        return rsp

    def transact(self, command):
        return be32(self.exchange(command)[6:])

    def floor(self, command, rsp_size):
        """
        The least an exchange of these sizes costs through qtest: each
        window's worth of the command written into the window and each of
        the response read from it, once, with one MMIO write per piece
        (CTRL_CANCEL = 0, which the device ignores), as tpm-crb-bench's
        floor.
        """
        w = self.window
        for off in range(0, len(command), w):
            self.write_window(command[off:off + w])
            self.writel(CTRL_CANCEL, 0)
        for off in range(0, rsp_size, w):
            self.read_window(min(w, rsp_size - off))
            self.writel(CTRL_CANCEL, 0)

    def tpm_sts(self):
        return self.readl(CTRL_STS) & 1

    def cpu_seconds(self):
        with open('/proc/%d/stat' % self.proc.pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        # utime and stime: fields 14 and 15 of stat, all threads
        return (int(fields[11]) + int(fields[12])) / os.sysconf(
            'SC_CLK_TCK')

    def memory(self):
        """VmHWM, VmRSS and RssAnon of the emulator, in KiB."""
        got = {}
        with open('/proc/%d/status' % self.proc.pid) as f:
            for line in f:
                key, _, val = line.partition(':')
                if key in ('VmHWM', 'VmRSS', 'RssAnon'):
                    got[key] = int(val.split()[0])
        return got

    def stop(self):
        if self.sock:
            self.sock.close()
        if self.proc:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.tpm:
            self.tpm.stop()
        self.log.close()


def spread(values):
    return min(values), statistics.median(values), max(values)


def bench_qtest(o):
    """Part 1: alternating batches; per round a patched/stock ratio."""
    vms = {}
    res = {(n, v): {'lat': [], 'cpu': []} for n, _ in QTEST_COMMANDS
           for v in ('patched', 'stock')}
    try:
        vms['patched'] = QtestVM('patched', o.qemu, o.work)
        vms['stock'] = QtestVM('stock', o.stock, o.work)
        for r in range(o.rounds):
            order = ['patched', 'stock'] if r % 2 == 0 else ['stock',
                                                              'patched']
            for name, command in QTEST_COMMANDS:
                for v in order:
                    vm = vms[v]
                    lat = []
                    c0 = vm.cpu_seconds()
                    for _ in range(o.qtest_count):
                        t0 = time.perf_counter()
                        rc = vm.transact(command)
                        lat.append(time.perf_counter() - t0)
                        if rc != 0:
                            raise RuntimeError('%s: %s answered 0x%x' %
                                               (v, name, rc))
                    cpu = (vm.cpu_seconds() - c0) / o.qtest_count
                    res[(name, v)]['lat'].append(statistics.median(lat))
                    res[(name, v)]['cpu'].append(cpu)
    finally:
        for vm in vms.values():
            vm.stop()
    return res


BIG_SIZES = (4096, 8192, 65536)
BIG_WINDOWS = (gr.W_FULL, 512)
BIG_BUFFER = 64 * 1024
# B of swtpm 0.7.1 (what CMD_SET_BUFFERSIZE reports)
SWTPM_BUFFER = 4096


def n_chunks(n, w):
    return -(-n // w)


def big_command(n):
    """n bytes for the fake: tag 0x8001, size n, TPM2_Hash's code, a
    pattern (the fake reads the header alone)."""
    return (b'\x80\x01' + n.to_bytes(4, 'big') + (0x17d).to_bytes(4, 'big') +
            bytes((i * 13 + (i >> 9)) & 0xff for i in range(10, n)))


def bench_qtest_big(o):
    """
    qtest-big: the patched QEMU on FakeSwtpm (B = 64 KiB), one VM per
    window, the windows alternating by round; within a batch an exchange
    and its floor alternate, command by command. Per round and size the
    median of each.
    """
    vms, res = {}, {}
    cmds = {n: big_command(n) for n in BIG_SIZES}
    rsps = {n: FakeSwtpm.response(n) for n in BIG_SIZES}
    try:
        for w in BIG_WINDOWS:
            props = ',cap-chunk=on'
            if w != gr.W_FULL:
                props += ',x-data-buffer-size=%d' % w
            vms[w] = vm = QtestVM(
                'big-%d' % w, o.qemu, o.work, machine='pc-q35-11.1',
                props=props,
                backend=lambda d: FakeSwtpm(d, BIG_BUFFER))
            if vm.window != w or not vm.chunking:
                raise RuntimeError('%s: window %d, CapCRBChunk %d' %
                                   (vm.name, vm.window, vm.chunking))
        for r in range(o.rounds):
            for w in (BIG_WINDOWS if r % 2 == 0 else BIG_WINDOWS[::-1]):
                vm = vms[w]
                for n in BIG_SIZES:
                    lat, fl = [], []
                    for _ in range(o.big_count):
                        t0 = time.perf_counter()
                        rsp = vm.exchange(cmds[n])
                        t1 = time.perf_counter()
                        vm.floor(cmds[n], n)
                        fl.append(time.perf_counter() - t1)
                        lat.append(t1 - t0)
                        if rsp != rsps[n]:
                            vm.tpm.check()
                            raise RuntimeError(
                                '%s: %d bytes answered with %d (tpmSts %d)'
                                % (vm.name, n, len(rsp), vm.tpm_sts()))
                    e = res.setdefault((w, n), {'xfer': [], 'floor': []})
                    e['xfer'].append(statistics.median(lat))
                    e['floor'].append(statistics.median(fl))
        for vm in vms.values():
            vm.tpm.check()
    finally:
        for vm in vms.values():
            vm.stop()
    return res


def random_command(rng, most):
    """
    A TPM2_GetRandom of 1 to 64 bytes (half the time), or a TPM2_GetRandom
    padded with random bytes to 12..most bytes, which the TPM reads whole
    and mostly answers with an error.
    """
    if rng.random() < 0.5:
        return GETRANDOM[:10] + rng.randint(1, 64).to_bytes(2, 'big')
    n = rng.randint(12, most)
    return (b'\x80\x01' + n.to_bytes(4, 'big') + (0x17b).to_bytes(4, 'big') +
            rng.randbytes(n - 10))


def bench_memory(o):
    """
    memory: patched and stock, each on its own swtpm, the same seeded
    generator each; commands up to B on the patched QEMU (above the window
    chunked), up to the window on stock. /proc/PID/status after the first
    command, after each tenth of the run, and at the end.
    """
    vms, res = {}, {}
    blocks = 10
    try:
        for v, qemu in (('patched', o.qemu), ('stock', o.stock)):
            vms[v] = vm = QtestVM('mem-' + v, qemu, o.work)
            most = SWTPM_BUFFER if vm.chunking else vm.window
            if vm.transact(GETRANDOM) != 0:
                raise RuntimeError('%s: the first command failed' % v)
            res[v] = {'most': most, 'window': vm.window,
                      'first': vm.memory(), 'rss': [], 'rc': {},
                      'chunked': 0, 'seconds': 0.0,
                      'rng': random.Random(o.seed)}
            res[v]['rss'].append(res[v]['first']['VmRSS'])
        done = 0
        for b in range(blocks):
            k = o.mem_count * (b + 1) // blocks - done
            done += k
            for v in (('patched', 'stock') if b % 2 == 0 else
                      ('stock', 'patched')):
                vm, e = vms[v], res[v]
                t0 = time.perf_counter()
                for _ in range(k):
                    command = random_command(e['rng'], e['most'])
                    rc = vm.transact(command)
                    e['rc'][rc] = e['rc'].get(rc, 0) + 1
                    e['chunked'] += len(command) > vm.window
                e['seconds'] += time.perf_counter() - t0
                e['rss'].append(vm.memory()['VmRSS'])
        for v, vm in vms.items():
            res[v]['last'] = vm.memory()
            res[v]['tpm_sts'] = vm.tpm_sts()
            del res[v]['rng']
    finally:
        for vm in vms.values():
            vm.stop()
    return res


def bench_boot(o, name, qemu, window, firmware, phase, no_kernel_driver):
    """
    Boot the guest for one tpm-crb-bench phase; its @@ bench rows, the
    first (a getrandom, the warm-up) left out.
    """
    b = gr.Boot(name, qemu, window, firmware, [phase], no_kernel_driver,
                trace=False)
    b.extra_append = ['tpmdemo.count=%d' % o.count]
    gr.run_boot(b, o.guest, o.work)
    rows = gr.guest_records(b, 'bench')
    if not rows:
        raise RuntimeError('%s: no bench output (%s)' % (name, b.error))
    return rows[1:]


def bench_guest_kernel(o):
    """Part 2: boots alternating, tpm-crb-bench on /dev/tpmrm0."""
    res = {}
    for r in range(o.rounds_guest):
        for v, qemu in (('patched', o.qemu), ('stock', o.stock)):
            for f in bench_boot(o, 'bench-kernel-%s-%d' % (v, r), qemu,
                                gr.W_FULL, gr.SEABIOS, 'bench-kernel',
                                False):
                res.setdefault((f[1], v), []).append(int(f[7]))
    return res


def bench_chunks(o):
    """Part 3: the chunked driver at three windows, stock as reference."""
    res = {}
    runs = [('patched', o.qemu, w) for w in (64, 512, gr.W_FULL)]
    runs.append(('stock', o.stock, gr.W_FULL))
    for r in range(o.rounds_guest):
        for v, qemu, w in runs:
            for f in bench_boot(o, 'bench-chunks-%s-%d-%d' % (v, w, r), qemu,
                                w, gr.QBOOT, 'bench-chunked', True):
                e = res.setdefault((v, w, f[1]), {'size': int(f[2]),
                                                  'cin': int(f[3]),
                                                  'med': []})
                e['med'].append(int(f[7]))
    return res


def fit(points):
    """Least squares slope of (x, y) points."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return (sum((x - mx) * (y - my) for x, y in points) / sxx
            if sxx else float('nan'))


def fmt_spread(vals, scale=1.0, digits=1):
    lo, med, hi = spread([v * scale for v in vals])
    return '%.*f (%.*f..%.*f)' % (digits, med, digits, lo, digits, hi)


def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def fit2(points):
    """
    Least squares y = a + b x + c z over (x, z, y) points: (b, c), or
    NaNs when x and z do not vary independently.
    """
    n = len(points)
    mx = sum(p[0] for p in points) / n
    mz = sum(p[1] for p in points) / n
    my = sum(p[2] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    szz = sum((p[1] - mz) ** 2 for p in points)
    sxz = sum((p[0] - mx) * (p[1] - mz) for p in points)
    sxy = sum((p[0] - mx) * (p[2] - my) for p in points)
    szy = sum((p[1] - mz) * (p[2] - my) for p in points)
    det = sxx * szz - sxz * sxz
    if abs(det) < 1e-9 * max(sxx * szz, 1e-30):
        return float('nan'), float('nan')
    return (szz * sxy - sxz * szy) / det, (sxx * szy - sxz * sxy) / det


# Issue 16: patched/stock for unchunked commands
TARGET_RATIO = 1.02


def report_qtest(o, q, w):
    w('## 1. No regression, through qtest\n')
    w('%d rounds; in each, for each command, %d commands on one QEMU then '
      '%d on the other (the order alternating by round), driven by the '
      'same Python client over the qtest socket (its own cost is in the '
      'latency and the same for both). CPU time is the emulator\'s, all '
      'threads (utime + stime from /proc/PID/stat), per command. Ratio: '
      'patched/stock per round.\n' % (o.rounds, o.qtest_count,
                                      o.qtest_count))
    tick = 1000.0 / os.sysconf('SC_CLK_TCK')
    batch = statistics.median(c for n, _ in QTEST_COMMANDS
                              for c in q[(n, 'stock')]['cpu']) * \
        o.qtest_count * 1000
    w('The kernel counts CPU time in ticks of %.0f ms; a batch uses about '
      '%.0f ms of it, so one round\'s CPU ratio is good to about +-%.0f %% '
      'and the latency ratio is the finer figure.\n'
      % (tick, batch, 100 * tick / batch if batch else float('nan')))
    w('| command | latency patched (us) | latency stock (us) | ratio | '
      'CPU patched (us) | CPU stock (us) | ratio |')
    w('|---|---|---|---|---|---|---|')
    for name, _ in QTEST_COMMANDS:
        p, s = q[(name, 'patched')], q[(name, 'stock')]
        lr = [a / b for a, b in zip(p['lat'], s['lat'])]
        cr = [a / b for a, b in zip(p['cpu'], s['cpu']) if b > 0]
        w('| %s | %s | %s | %s | %s | %s | %s |' % (
            name, fmt_spread(p['lat'], 1e6), fmt_spread(s['lat'], 1e6),
            fmt_spread(lr, 1, 3), fmt_spread(p['cpu'], 1e6),
            fmt_spread(s['cpu'], 1e6),
            fmt_spread(cr, 1, 3) if cr else 'n/a'))
    w('')
    misses = []
    for name, _ in QTEST_COMMANDS:
        p, s = q[(name, 'patched')], q[(name, 'stock')]
        lr = [a / b for a, b in zip(p['lat'], s['lat'])]
        med = statistics.median(lr)
        if med > TARGET_RATIO:
            misses.append('%s by %.1f %% (%s)' % (
                name, 100 * (med / TARGET_RATIO - 1),
                'its rounds span 1.0, so %d rounds do not tell it from '
                'noise' % len(lr) if min(lr) < 1.0 < max(lr) else
                'every round above 1.0'))
    if misses:
        w('Against the target of %.2f, the median latency ratio misses for '
          '%s. No profile was taken in this run.\n'
          % (TARGET_RATIO, '; '.join(misses)))
    else:
        w('Every median latency ratio is within the target of %.2f.\n'
          % TARGET_RATIO)


def report_kernel(o, k, w):
    w('## 2. No regression, in a guest, through the kernel driver\n')
    w('%d boots of each, alternating; in each, tpm-crb-bench on '
      '/dev/tpmrm0 runs %d of each command (after a warm-up) and reports '
      'the median; pc-q35-11.1 for the patched QEMU (chunking offered, '
      'unused by the kernel), pc-q35-10.2 for stock (its q35).\n'
      % (o.rounds_guest, o.count))
    w('| command | bytes | patched (us) | stock (us) | ratio |')
    w('|---|---|---|---|---|')
    for name in ('getrandom', 'pcrextend', 'hash1k', 'padded:1024',
                 'padded:2048', 'padded:3072'):
        p, s = k.get((name, 'patched')), k.get((name, 'stock'))
        if not p or not s:
            continue
        r = [a / b for a, b in zip(p, s)]
        size = 12 if name == 'getrandom' else (65 if name == 'pcrextend'
                                               else (1042 if name ==
                                                     'hash1k' else
                                                     int(name[7:])))
        w('| %s | %d | %s | %s | %s |' % (name, size, fmt_spread(p, 1, 0),
                                          fmt_spread(s, 1, 0),
                                          fmt_spread(r, 1, 3)))
    w('')


def report_chunks(o, c, w):
    w('## 3. What a chunk costs\n')
    w('Through the chunked driver (tpm-crb-bench --devmem, qboot, kernel '
      'driver kept out), %d commands per size; padded:N is a '
      'TPM2_GetRandom padded to N bytes, which the TPM reads whole and '
      'answers with TPM_RC_SIZE (10 bytes back, one chunk). floor: a '
      'window\'s worth of bytes written into the window and one MMIO '
      'write, the least a chunk can cost.\n' % o.count)
    w('| QEMU | window | command | bytes | chunks in | latency (us) |')
    w('|---|---|---|---|---|---|')
    for key in sorted(c, key=lambda x: (x[0] != 'patched', x[1],
                                        c[x]['size'])):
        e = c[key]
        w('| %s | %d | %s | %d | %d | %s |' % (key[0], key[1], key[2],
                                               e['size'], e['cin'],
                                               fmt_spread(e['med'], 1, 0)))
    w('')
    w('Cost per extra chunk (slope of the median latency of padded:1024 '
      '.. padded:4096 against their chunk count) and per KiB (slope '
      'against size):\n')
    w('| window | per extra chunk (us) | per KiB (us) | floor per chunk '
      '(us) |')
    w('|---|---|---|---|')
    for win in (64, 512, gr.W_FULL):
        pts_c, pts_k = [], []
        for key, e in c.items():
            if key[0] == 'patched' and key[1] == win and \
                    key[2].startswith('padded:'):
                med = statistics.median(e['med'])
                pts_c.append((e['cin'], med))
                pts_k.append((e['size'] / 1024, med))
        fl = c.get(('patched', win, 'floor'))
        # A slope against chunks needs the count to vary (not at 3968)
        per_chunk = ('%.1f' % fit(pts_c)
                     if len({x for x, _ in pts_c}) >= 3 else 'n/a')
        w('| %d | %s | %.1f | %s |' % (
            win, per_chunk, fit(pts_k),
            fmt_spread(fl['med'], 1, 0) if fl else 'n/a'))
    w('')
    w('The driver polls Start with a back-off (20 us, doubling, up to '
      '2 ms), so a latency lands on a step of that schedule: two sizes '
      'close together can fall either side of one (4096 bytes at a '
      '3968-byte window, say).\n')
    w('![latency against command size](benchmarks-chunks.png)\n')


def report_big(o, b, w):
    w('## 4. Commands and responses of 4, 8 and 64 KiB, through qtest\n')
    w('The patched QEMU (pc-q35-11.1, cap-chunk=on) on FakeSwtpm, a fake '
      'swtpm in bench.py with a buffer of %d KiB (swtpm\'s is 4 KiB), at '
      'windows of %s bytes (x-data-buffer-size), one QEMU each. A command '
      'of N bytes is answered with N bytes, so an exchange moves N bytes '
      'each way: the command a window\'s worth at a time with nextChunk '
      'between the pieces and Start after the last, then the response '
      'read a window at a time with nextChunk between (SPEC.md §4); one '
      'qtest write or read per piece. floor: the same bytes moved once '
      'through the window, the same way, with one MMIO write per piece '
      '(CTRL_CANCEL = 0, which the device ignores): what the client and '
      'qtest cost without the device doing anything. %d rounds, the '
      'windows alternating; per round and size the median of %d '
      'exchanges, each followed by its floor. The exchange includes the '
      'fake\'s own time (Python, in this process) and a few fixed '
      'accesses (locality, cmdReady, polling Start, goIdle).\n'
      % (BIG_BUFFER // 1024, ' and '.join(str(x) for x in BIG_WINDOWS),
         o.rounds, o.big_count))
    w('| window | bytes each way | chunks (up + down) | exchange (us) | '
      'floor (us) | exchange - floor (us) |')
    w('|---|---|---|---|---|---|')
    for win in BIG_WINDOWS:
        for n in BIG_SIZES:
            e = b[(win, n)]
            d = [x - f for x, f in zip(e['xfer'], e['floor'])]
            w('| %d | %d | %d | %s | %s | %s |' % (
                win, n, 2 * n_chunks(n, win), fmt_spread(e['xfer'], 1e6, 0),
                fmt_spread(e['floor'], 1e6, 0), fmt_spread(d, 1e6, 0)))
    w('')
    w('Cost per extra chunk: the slope of the latency against the chunk '
      'count (both directions), per round; per KiB: against the KiB moved '
      '(both directions). At one window the chunk count grows with the '
      'size, so the two slopes are one cost seen two ways; over both '
      'windows a fit latency = a + c * chunks + k * KiB separates what a '
      'chunk costs (c) from what a KiB costs (k).\n')
    w('| window | per extra chunk (us) | floor per chunk (us) | per KiB '
      '(us) | floor per KiB (us) |')
    w('|---|---|---|---|---|')
    rounds = range(len(b[(BIG_WINDOWS[0], BIG_SIZES[0])]['xfer']))

    def slopes(kind, win, x):
        return [fit([(x(n, win), b[(win, n)][kind][r] * 1e6)
                     for n in BIG_SIZES]) for r in rounds]

    def chunks_of(n, win):
        return 2 * n_chunks(n, win)

    def kib_of(n, win):
        return 2 * n / 1024

    for win in BIG_WINDOWS:
        w('| %d | %s | %s | %s | %s |' % (
            win, fmt_spread(slopes('xfer', win, chunks_of)),
            fmt_spread(slopes('floor', win, chunks_of)),
            fmt_spread(slopes('xfer', win, kib_of)),
            fmt_spread(slopes('floor', win, kib_of))))
    joint = {}
    for kind in ('xfer', 'floor'):
        joint[kind] = [fit2([(chunks_of(n, win), kib_of(n, win),
                              b[(win, n)][kind][r] * 1e6)
                             for win in BIG_WINDOWS for n in BIG_SIZES])
                       for r in rounds]
    w('| both, fit | %s | %s | %s | %s |' % (
        fmt_spread([c for c, _ in joint['xfer']]),
        fmt_spread([c for c, _ in joint['floor']]),
        fmt_spread([k for _, k in joint['xfer']]),
        fmt_spread([k for _, k in joint['floor']])))
    w('')
    own = [x[0] - f[0] for x, f in zip(joint['xfer'], joint['floor'])]
    w('Through qtest every access is a round trip on a socket, so the '
      'floor is most of a chunk\'s cost. What the device adds to a chunk '
      'beyond it (the fit\'s c, exchange minus floor, per round): %s us.\n'
      % fmt_spread(own))


def report_memory(o, m, w):
    p, s = m['patched'], m['stock']
    w('## 5. Memory over {:,} random commands\n'.format(o.mem_count))
    w('Each QEMU on its own swtpm (B = %d bytes), driven through qtest by '
      'the same seeded generator (random.Random(%d)): half TPM2_GetRandom '
      'of 1 to 64 bytes, half a TPM2_GetRandom padded with random bytes '
      'to a random size, which the TPM reads whole and mostly answers '
      'with an error: 12..%d bytes on the patched QEMU (those above the '
      '%d-byte window sent in chunks), 12..%d on stock. %s commands on '
      'each after a first one, in 10 blocks alternating between the two. '
      'From /proc/PID/status of the emulator after the first command and '
      'after the last (VmHWM: the peak RSS), and VmRSS after each block '
      '(its range is the noise; pages are 4 KiB).\n'
      % (SWTPM_BUFFER, o.seed, p['most'], p['window'], s['most'],
         '{:,}'.format(o.mem_count)))
    w('| QEMU | chunked | answers rc 0 / error | per command (us) | '
      'VmHWM first (KiB) | VmHWM last (KiB) | VmHWM growth (KiB) | '
      'VmRSS over the run (KiB) | RssAnon first -> last (KiB) |')
    w('|---|---|---|---|---|---|---|---|---|')
    for v, e in (('patched', p), ('stock', s)):
        ok = e['rc'].get(0, 0)
        w('| %s | %d | %d / %d | %.0f | %d | %d | %+d | %d..%d | %d -> %d |'
          % (v, e['chunked'], ok, sum(e['rc'].values()) - ok,
             1e6 * e['seconds'] / o.mem_count, e['first']['VmHWM'],
             e['last']['VmHWM'], e['last']['VmHWM'] - e['first']['VmHWM'],
             min(e['rss']), max(e['rss']), e['first']['RssAnon'],
             e['last']['RssAnon']))
    w('')
    errors = sorted({rc for e in (p, s) for rc in e['rc'] if rc})
    w('Peak RSS, patched - stock: %+d KiB. Growth during the run (VmHWM, '
      'last - first): patched %+d KiB, stock %+d KiB; RssAnon patched %+d '
      'KiB, stock %+d KiB; against the %d bytes per direction that the '
      'device may buffer. tpmSts at the end: patched %d, stock %d. Error '
      'codes seen: %s.\n'
      % (p['last']['VmHWM'] - s['last']['VmHWM'],
         p['last']['VmHWM'] - p['first']['VmHWM'],
         s['last']['VmHWM'] - s['first']['VmHWM'],
         p['last']['RssAnon'] - p['first']['RssAnon'],
         s['last']['RssAnon'] - s['first']['RssAnon'], SWTPM_BUFFER,
         p['tpm_sts'], s['tpm_sts'],
         ', '.join('0x%x' % rc for rc in errors) or 'none'))


# What each part needs beyond --qemu and --work, and its report section
PARTS = ['qtest', 'qtest-big', 'memory', 'kernel', 'chunks']
NEEDS = {'qtest': ['stock'], 'qtest-big': [], 'memory': ['stock'],
         'kernel': ['stock', 'guest'], 'chunks': ['stock', 'guest']}
SECTIONS = [('qtest', report_qtest), ('kernel', report_kernel),
            ('chunks', report_chunks), ('qtest-big', report_big),
            ('memory', report_memory)]


def alone(o, part):
    """The command that runs one part by itself."""
    args = ['scripts/bench.py', '--qemu', o.qemu]
    for need in NEEDS[part]:
        args += ['--' + need, getattr(o, need)]
    return ' '.join(args + ['--work', o.work, '--only', part,
                            '--out', 'DIR'])


def write_report(o, results, secs, seconds):
    out = []
    w = out.append
    w('# Benchmarks: the series against stock QEMU 10.2.2\n')
    w('Written by `make bench` (`scripts/bench.py`) on %s, in %.0f s.'
      % (time.strftime('%Y-%m-%d'), seconds))
    w('Machine: %s, %d cores, Linux %s; guests under TCG (Debian 12 '
      'kernel, 512 MiB). Each side has its own swtpm 0.7.1. Figures are '
      'medians; in brackets the minimum and maximum over the '
      'alternations (noise).\n' % (cpu_model(), os.cpu_count(),
                                   platform.release()))
    if o.only:
        w('A partial run (`--only %s`): `make bench` runs every part and '
          'writes them all to docs/.\n' % ','.join(o.only))
    for part, section in SECTIONS:
        if part in results:
            section(o, results[part], w)
            w('This part: %.0f s of the run; alone, `%s`.\n'
              % (secs[part], alone(o, part)))
    w('Reproduce: `make bench` (%.0f s here).' % seconds)
    with open(os.path.join(o.out, 'benchmarks.md'), 'w') as f:
        f.write('\n'.join(out) + '\n')


def plot(o, c):
    data = os.path.join(o.work, 'chunks.dat')
    series = [('patched', 64), ('patched', 512), ('patched', gr.W_FULL),
              ('stock', gr.W_FULL)]
    with open(data, 'w') as f:
        for v, win in series:
            f.write('# %s %d\n' % (v, win))
            rows = sorted((e['size'], statistics.median(e['med']))
                          for key, e in c.items()
                          if key[0] == v and key[1] == win and
                          key[2].startswith('padded:'))
            for size, med in rows:
                f.write('%d %d\n' % (size, med))
            f.write('\n\n')
    titles = ['window 64 (patched)', 'window 512 (patched)',
              'window 3968 (patched)', 'stock QEMU, unchunked']
    for term, ext in (('png size 800,500', 'png'),
                      ('svg size 800,500', 'svg')):
        script = ['set terminal %s' % term,
                  "set output '%s'" % os.path.join(
                      o.out, 'benchmarks-chunks.' + ext),
                  "set xlabel 'command size (bytes)'",
                  "set ylabel 'latency (us, median)'",
                  'set key left top', 'set grid']
        plots = ["'%s' index %d with linespoints title '%s'" %
                 (data, i, t) for i, t in enumerate(titles)]
        script.append('plot ' + ', '.join(plots))
        subprocess.run(['gnuplot'], input='\n'.join(script), text=True,
                       check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--qemu', required=True)
    ap.add_argument('--stock')
    ap.add_argument('--guest')
    ap.add_argument('--work', required=True)
    ap.add_argument('--out')
    ap.add_argument('--only', help='comma-separated parts: ' +
                    ','.join(PARTS))
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--rounds-guest', type=int, default=3)
    ap.add_argument('--qtest-count', type=int, default=500)
    ap.add_argument('--big-count', type=int, default=40)
    ap.add_argument('--mem-count', type=int, default=10000)
    ap.add_argument('--seed', type=int, default=16)
    ap.add_argument('--count', type=int, default=200)
    o = ap.parse_args()
    docs = os.path.realpath(os.path.join(HERE, '..', 'docs'))
    if o.only:
        o.only = o.only.split(',')
        bad = [p for p in o.only if p not in PARTS]
        if bad:
            ap.error('unknown part %s (parts: %s)' % (','.join(bad),
                                                      ','.join(PARTS)))
        if not o.out or os.path.realpath(o.out) == docs:
            ap.error('--only writes a partial report: give --out, not '
                     'docs/ (a full run rewrites docs/benchmarks.md)')
    o.out = o.out or docs
    parts = [p for p in PARTS if not o.only or p in o.only]
    for p in parts:
        for need in NEEDS[p]:
            if not getattr(o, need):
                ap.error('part %s needs --%s' % (p, need))
    os.makedirs(o.work, exist_ok=True)
    os.makedirs(o.out, exist_ok=True)
    run = {'qtest': ('qtest, patched and stock alternating', bench_qtest),
           'qtest-big': ('qtest, 4 to 64 KiB on a fake swtpm at windows '
                         'of 3968 and 512', bench_qtest_big),
           'memory': ('qtest, memory over %d random commands each'
                      % o.mem_count, bench_memory),
           'kernel': ('guest, kernel driver', bench_guest_kernel),
           'chunks': ('guest, chunked driver at three windows',
                      bench_chunks)}
    results, secs = {}, {}
    t0 = time.time()
    for p in parts:
        what, fn = run[p]
        print('bench: %s: %s' % (p, what), flush=True)
        t = time.time()
        results[p] = fn(o)
        secs[p] = time.time() - t
        print('bench: %s: %.0f s' % (p, secs[p]), flush=True)
    if 'chunks' in results:
        plot(o, results['chunks'])
    write_report(o, results, secs, time.time() - t0)
    print('bench: wrote %s/benchmarks.md%s in %.0f s'
          % (o.out, ' and benchmarks-chunks.png/svg'
             if 'chunks' in results else '', time.time() - t0))
    return 0


if __name__ == '__main__':
    sys.exit(main())
