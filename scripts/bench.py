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
#   profile    the same commands through qtest, a batch of each on each
#              QEMU under perf record (DWARF call chains if this perf
#              can): the share of the samples in the device and backend
#              (tpm_crb_*, tpm_emulator_*, tpm_backend_*, tpm_util_*),
#              in qtest and its socket, the top symbols; without a perf
#              that can attach, the report says why and the part skips;
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
#   downtime   live-migration downtime (query-migrate) of a running
#              guest (scripts/guest-soak.py), --hops migrations each:
#              idle, patched and stock; a chunked transfer in flight
#              (the chunked driver at a 64-byte window, patched); TPM
#              commands with createprimary RSA 2048 (both), and on the
#              patched QEMU, from its trace, how long a command caught
#              at the stop still had to run;
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
#        [--profile-count N] commands per batch under perf in profile
#        [--perf PERF]       the perf binary (perf)
#        [--big-count N]     exchanges (and floors) per batch in qtest-big
#        [--mem-count N]     random commands per QEMU in memory
#        [--seed N]          the memory part's generator
#        [--rounds-guest N]  boots of each in kernel and chunks
#        [--count N]         commands per size in a guest
# --stock is needed by qtest, profile, memory, kernel and chunks, --guest
# by kernel and chunks. From make: make bench BENCH_ARGS='--only memory
# --out /tmp/b'.

import argparse
import importlib.util
import itertools
import os
import platform
import random
import shutil
import signal
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
spec = importlib.util.spec_from_file_location(
    'guest_soak', os.path.join(HERE, 'guest-soak.py'))
gs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gs)

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


# Part profile: perf on each emulator while it runs a batch of each
# command of QTEST_COMMANDS, as in part qtest.
PROFILE_FREQ = 4999
# User stack copied per sample, for perf's DWARF unwinding
PROFILE_STACK = 8192
PROFILE_WARMUP = 50
# Turns the two QEMUs take under perf, for each command
PROFILE_BLOCKS = 20
# Bound on perf record's exit after SIGINT, and on perf report/script
PERF_TIMEOUT = 120
# Time for perf record to attach before the batch starts
PERF_SETTLE = 0.5
# What the series changes (hw/tpm/tpm_crb.c, backends/tpm/) and the tpm
# helpers on the same path; qtest and the chardev socket it reads
DEVICE_SYMS = ('tpm_crb_', 'tpm_emulator_', 'tpm_backend_', 'tpm_util_')
# In a call chain, also what the backend hands a command to its worker
# thread with: stock's tpm_crb_mmio_write and tpm_backend_deliver_request
# reach it by tail calls, which leave no frame of theirs (and nothing else
# in these VMs uses the thread pool)
DEVICE_CHAIN = DEVICE_SYMS + ('thread_pool_submit_aio',)
QTEST_SYMS = ('qtest_', 'tcp_chr_', 'qemu_chr_', 'qio_channel_',
              'io_channel_', 'io_watch_poll_')
LOOP_SYMS = ('main_loop_wait',)
PROFILE_CLASSES = ('device', 'qtest', 'loop', 'other')
# The device and backend's samples by what they were doing: a frame of
# the chain starting so
DEVICE_PARTS = (('read', 'qio_channel_read'), ('write', 'qio_channel_write'),
                ('submit', 'thread_pool_submit_aio'))
# Where a whole chain ends: the main thread's and the others' first frame
CHAIN_ROOTS = ('_start', 'clone3', 'clone')


class PerfError(Exception):
    """perf could not profile; the reason goes into the report."""


def perf_said(log):
    """perf's last lines of output, as a reason."""
    try:
        with open(log) as f:
            lines = [x.strip() for x in f if x.strip()]
    except OSError:
        return 'no output'
    return ' / '.join(lines[-3:]) or 'no output'


class PerfRecord:
    """
    perf record on vm's emulator (all its threads) into data, from now
    until stop(); kill() ends it if stop() did not.
    """

    def __init__(self, o, vm, data, callgraph):
        args = [o.perf, 'record', '-F', str(PROFILE_FREQ)]
        if callgraph:
            args += ['--call-graph', 'dwarf,%d' % PROFILE_STACK]
        args += ['-p', str(vm.proc.pid), '-o', data]
        self.data, self.log = data, data + '.record.log'
        with open(self.log, 'w') as f:
            try:
                self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                             stdout=f,
                                             stderr=subprocess.STDOUT)
            except OSError as e:
                raise PerfError('%s: %s' % (o.perf, e.strerror))

    def check(self):
        if self.proc.poll() is not None:
            raise PerfError('perf record exited with %d: %s'
                            % (self.proc.returncode, perf_said(self.log)))

    def stop(self):
        self.check()
        self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=PERF_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise PerfError('perf record still running %d s after SIGINT'
                            % PERF_TIMEOUT)
        # perf record ends by raising the SIGINT it caught
        if rc not in (0, -signal.SIGINT) or not os.path.exists(self.data):
            raise PerfError('perf record exited with %d: %s'
                            % (rc, perf_said(self.log)))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def perf_run(o, args, out):
    """perf args into the file out (its errors into out.log)."""
    with open(out, 'w') as f, open(out + '.log', 'w') as err:
        try:
            rc = subprocess.run([o.perf] + args, stdin=subprocess.DEVNULL,
                                stdout=f, stderr=err,
                                timeout=PERF_TIMEOUT).returncode
        except subprocess.TimeoutExpired:
            raise PerfError('perf %s took more than %d s'
                            % (args[0], PERF_TIMEOUT))
    if rc != 0:
        raise PerfError('perf %s exited with %d: %s'
                        % (args[0], rc, perf_said(out + '.log')))


PERF_REPORT = ['--stdio', '--no-children', '--sort', 'dso,sym', '-g',
               'none', '-n', '-t', '|']
PERF_SCRIPT = ['-F', 'tid,ip,sym']


def perf_self(o, data):
    """
    perf report's self samples: the event, the lost samples and
    (samples, dso, symbol) by symbol, most first.
    """
    out = data + '.report.txt'
    perf_run(o, ['report', '-i', data] + PERF_REPORT, out)
    got = {'event': '?', 'lost': 0, 'syms': []}
    with open(out) as f:
        for line in f:
            if line.startswith('# Samples:') and ' of event ' in line:
                got['event'] = line.split(' of event ')[1].strip().strip(
                    "'")
            elif line.startswith('# Total Lost Samples:'):
                got['lost'] = int(line.split(':')[1])
            elif not line.startswith('#') and line.count('|') >= 3:
                _, n, dso, sym = [x.strip() for x in line.split('|', 3)]
                if n.isdigit():
                    got['syms'].append((int(n), dso, sym[4:] if
                                        sym[:1] == '[' else sym))
    got['syms'].sort(key=lambda x: -x[0])
    return got


def profile_class(frames):
    """
    Where a sample's call chain (innermost first) belongs, and for the
    device and backend's, what they were doing (else None).
    """
    if any(f.startswith(DEVICE_CHAIN) for f in frames):
        for part, prefix in DEVICE_PARTS:
            if any(f.startswith(prefix) for f in frames):
                return 'device', part
        return 'device', 'rest'
    for cls, prefixes in (('qtest', QTEST_SYMS), ('loop', LOOP_SYMS)):
        if any(f.startswith(prefixes) for f in frames):
            return cls, None
    return 'other', None


def perf_chains(o, data):
    """
    Samples by class of their call chain (perf script; without call
    chains, of the leaf alone), the device and backend's by what they
    were doing, and how many chains were unwound to the thread's first
    function.
    """
    out = data + '.script.txt'
    perf_run(o, ['script', '-i', data] + PERF_SCRIPT, out)
    counts = dict.fromkeys(PROFILE_CLASSES, 0)
    parts = dict.fromkeys([x for x, _ in DEVICE_PARTS] + ['rest'], 0)
    whole = 0
    frames = []
    with open(out) as f:
        # A sample with a chain: its header line (the tid), a frame a line
        # (tab, ip, symbol), a blank line; without: tid, ip, symbol
        for line in itertools.chain(f, ['']):
            if line.startswith('\t'):
                fields = line.split(None, 1)
                frames.append(fields[1] if len(fields) > 1 else '[unknown]')
                continue
            if frames:
                frames = [x.replace(' (inlined)', '').strip()
                          for x in frames]
                cls, part = profile_class(frames)
                counts[cls] += 1
                if part:
                    parts[part] += 1
                whole += frames[-1] in CHAIN_ROOTS
            fields = line.split(None, 2)
            frames = fields[2:]
    return counts, parts, whole


def bench_profile(o):
    """
    profile: patched and stock on their own swtpm, as in part qtest; for
    each command, perf record on both at once while they take turns in
    blocks of commands (the order alternating by block), so that what
    else the machine does weighs on both alike; each perf sees its own
    QEMU only, idle while the other works. A perf that cannot run makes
    a report of why, not a failure.
    """
    def skip(reason):
        print('bench: profile: skipped: ' + reason, flush=True)
        return {'skipped': reason}

    def record(vm, data, callgraph):
        perf = PerfRecord(o, vm, data, callgraph)
        perfs.append(perf)
        return perf

    if not shutil.which(o.perf):
        return skip('%s not found (Debian: linux-perf)' % o.perf)
    vms, runs, perfs = {}, {}, []
    per = -(-o.profile_count // PROFILE_BLOCKS)
    nochain = None
    try:
        vms['patched'] = QtestVM('profile-patched', o.qemu, o.work)
        vms['stock'] = QtestVM('profile-stock', o.stock, o.work)
        # DWARF call chains if this perf can, else none
        try:
            probe = record(vms['patched'], os.path.join(
                vms['patched'].dir, 'probe.data'), True)
            time.sleep(PERF_SETTLE)
            probe.stop()
        except PerfError as err:
            nochain = str(err)
        for name, command in QTEST_COMMANDS:
            got = {}
            for v, vm in vms.items():
                for _ in range(PROFILE_WARMUP):
                    vm.transact(command)
                got[v] = {'data': os.path.join(vm.dir, name + '.data')}
                got[v]['perf'] = record(vm, got[v]['data'], not nochain)
            time.sleep(PERF_SETTLE)
            for v, vm in vms.items():
                got[v]['perf'].check()
                got[v]['cpu'] = vm.cpu_seconds()
            for b in range(PROFILE_BLOCKS):
                for v in (('patched', 'stock') if b % 2 == 0 else
                          ('stock', 'patched')):
                    for _ in range(per):
                        rc = vms[v].transact(command)
                        if rc != 0:
                            raise RuntimeError('%s: %s answered 0x%x' %
                                               (v, name, rc))
            for v, vm in vms.items():
                got[v]['cpu'] = vm.cpu_seconds() - got[v]['cpu']
            for v in vms:
                got[v]['perf'].stop()
            for v, g in got.items():
                e = perf_self(o, g['data'])
                e['total'] = sum(n for n, _, _ in e['syms'])
                if not e['total']:
                    raise PerfError('no samples in %s (%s)' %
                                    (g['data'], e['event']))
                e['classes'], e['parts'], e['whole'] = perf_chains(
                    o, g['data'])
                e['cpu'] = g['cpu'] / (per * PROFILE_BLOCKS)
                e['data'] = g['data']
                runs[(name, v)] = e
    except PerfError as err:
        return skip(str(err))
    finally:
        for perf in perfs:
            perf.kill()
        for vm in vms.values():
            vm.stop()
    return {'skipped': None, 'callgraph': not nochain, 'nochain': nochain,
            'runs': runs, 'count': per * PROFILE_BLOCKS}


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
                'big-%d' % w, o.qemu, o.work, machine='q35',
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
            vms[v] = vm = QtestVM('mem-' + v, qemu, o.work,
                                  props=',cap-chunk=on' if v == 'patched'
                                  else '')
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
                trace=False, chunking=qemu == o.qemu)
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


STOP_EVENTS = ('tpm_crb_stop_wait', 'tpm_crb_request_completed')


def trace_times(path):
    """(seconds, event) of the trace events in a peer's trace.log."""
    out = []
    try:
        f = open(path)
    except OSError:
        return out
    with f:
        for line in f:
            m = gr.TRACE_RE.match(line.strip())
            if m:
                t = time.mktime(time.strptime(m.group(1)[:19],
                                              '%Y-%m-%dT%H:%M:%S'))
                frac = m.group(1)[19:].rstrip('Z')
                out.append((t + (float(frac) if frac else 0.0),
                            m.group(2)))
    return out


def caught_remaining(hop):
    """
    On a patched source: the ms between the stop handler starting to
    wait for a command and its completion, or None if the stop found no
    command executing.
    """
    events = trace_times(os.path.join(hop[5], 'trace.log'))
    for i, (t, name) in enumerate(events):
        if name == 'tpm_crb_stop_wait':
            for t2, name2 in events[i + 1:]:
                if name2 == 'tpm_crb_request_completed':
                    return (t2 - t) * 1000
    return None


def bench_downtime(o):
    """Part: live-migration downtime of a running guest, hop by hop."""
    res = {}
    cases = [('idle', 'patched', [o.qemu], 'idle', gs.CHUNK_ON),
             ('idle', 'stock', [o.stock], 'idle', gs.NO_CHUNK),
             ('in-flight', 'patched', [o.qemu], 'chunked',
              gs.CHUNK_ON + ['-global', 'tpm-crb.x-data-buffer-size=64']),
             ('executing', 'patched', [o.qemu], 'kernel', gs.CHUNK_ON),
             ('executing', 'stock', [o.stock], 'kernel', gs.NO_CHUNK)]
    for case, v, binaries, phase, opts in cases:
        work = os.path.join(o.work, 'downtime-%s-%s' % (case, v))
        trace = STOP_EVENTS if v == 'patched' else ()
        _, hops, _ = gs.soak(binaries, phase, opts, o.guest, work, o.hops,
                             random.Random('%s-%s-%d' % (case, v, o.seed)),
                             trace)
        res[(case, v)] = [(h[2], caught_remaining(h) if trace else None)
                          for h in hops]
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


def report_qtest(o, q, w, prof=None):
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
    misses, missed = [], []
    for name, _ in QTEST_COMMANDS:
        p, s = q[(name, 'patched')], q[(name, 'stock')]
        lr = [a / b for a, b in zip(p['lat'], s['lat'])]
        med = statistics.median(lr)
        if med > TARGET_RATIO:
            missed.append(name)
            misses.append('%s by %.1f %% (%s)' % (
                name, 100 * (med / TARGET_RATIO - 1),
                'its rounds span 1.0, so %d rounds do not tell it from '
                'noise' % len(lr) if min(lr) < 1.0 < max(lr) else
                'every round above 1.0'))
    if misses:
        if prof is None:
            why = ('No profile was taken in this run (part profile, '
                   '`--only qtest,profile`).')
        elif prof['skipped']:
            why = 'No profile: %s (section 1b).' % prof['skipped'].rstrip(
                '.')
        else:
            why = ('The profile of section 1b (+-: 2 sigma of its sample '
                   'counts alone): %s' % profile_verdicts(prof, missed, q))
        w('Against the target of %.2f, the median latency ratio misses for '
          '%s. %s\n' % (TARGET_RATIO, '; '.join(misses), why))
    else:
        w('Every median latency ratio is within the target of %.2f.\n'
          % TARGET_RATIO)


def profile_shares(e):
    """
    Shares of e's samples: of the device and backend's symbols
    themselves (self), and of each class of call chain.
    """
    sh = {'device_self': sum(n for n, _, s in e['syms']
                             if s.startswith(DEVICE_SYMS)) / e['total']}
    chains = sum(e['classes'].values()) or float('nan')
    for c in PROFILE_CLASSES:
        sh[c] = e['classes'][c] / chains
    return sh


def profile_device(p, name, v):
    """
    The device and backend's share of a profile (with their callees
    when there are call chains), its CPU time per command in us and
    that time's 2 sigma from the sample count.
    """
    e = p['runs'][(name, v)]
    if p['callgraph']:
        k, n = e['classes']['device'], sum(e['classes'].values())
    else:
        k = sum(x for x, _, s in e['syms'] if s.startswith(DEVICE_SYMS))
        n = e['total']
    us = 1e6 * e['cpu']
    return k / n, us * k / n, 2 * us * k ** 0.5 / n


def profile_figures(p, name):
    """
    name's device and backend, patched against stock, in words; and the
    most (2 sigma) that the patched QEMU's may cost more, in us.
    """
    sp, up, ep = profile_device(p, name, 'patched')
    ss, us, es = profile_device(p, name, 'stock')
    d, e = up - us, (ep ** 2 + es ** 2) ** 0.5
    cp = 1e6 * p['runs'][(name, 'patched')]['cpu']
    cs = 1e6 * p['runs'][(name, 'stock')]['cpu']
    return ('for %s the device and backend%s account for %.1f %% of the '
            'patched emulator\'s samples against %.1f %% of stock\'s, '
            '%.1f against %.1f us of CPU per command (%+.1f +- %.1f us; '
            'the whole emulator %.0f against %.0f us)'
            % (name, ' with their callees' if p['callgraph'] else '',
               100 * sp, 100 * ss, up, us, d, e, cp, cs), d + e)


def profile_verdicts(p, names, q=None):
    """
    What the profile says of these commands; with section 1's results,
    whether the series' code can make their latencies' difference.
    """
    said, below, enough = [], [], []
    for name in names:
        text, most = profile_figures(p, name)
        if q is not None:
            lat = 1e6 * (statistics.median(q[(name, 'patched')]['lat']) -
                         statistics.median(q[(name, 'stock')]['lat']))
            if lat <= 0:
                text += ('; its median latency in section 1 is not the '
                         'higher one (%+.1f us)' % lat)
            elif most <= 0:
                text += (': none of the %.1f us by which the median '
                         'latencies differ' % lat)
                below.append(name)
            elif most < lat:
                text += (': at most %.1f of the %.1f us by which the median '
                         'latencies differ' % (most, lat))
                below.append(name)
            else:
                text += (': as much as the %.1f us by which the median '
                         'latencies differ' % lat)
                enough.append(name)
        said.append(text)
    s = '; '.join(said) + '.'
    if below:
        s += (' So for %s the difference cannot be CPU time of the code '
              'the series changes (tpm_crb, the tpm backend): it is in '
              'what both QEMUs share (the client, qtest, the sockets, the '
              'scheduler, swtpm) or noise, unless the series\' code spends '
              'it waiting off the CPU, which no sample sees.'
              % ' and '.join(below))
    if enough:
        s += (' For %s the profile cannot rule the series out.'
              % ' and '.join(enough))
    return s


def short_sym(dso, sym):
    if dso.startswith('qemu-system'):
        return sym
    return '%s [%s]' % (sym, 'kernel' if dso.startswith('[kernel')
                        else dso)


def report_profile(o, p, w, q=None):
    w('## 1b. Where the emulator\'s time goes (perf)\n')
    if p['skipped']:
        w('Not profiled: %s. The part skips rather than fails the bench; '
          'it needs perf (Debian: linux-perf) allowed to attach to the '
          'emulator: as root, with CAP_PERFMON, or with '
          'kernel.perf_event_paranoid at 2 or less (Debian\'s default, 3, '
          'forbids it to other users).\n' % p['skipped'].rstrip('.'))
        return
    runs = p['runs']
    first = runs[(QTEST_COMMANDS[0][0], 'patched')]
    rec = 'perf record -F %d%s -p PID -o FILE' % (
        PROFILE_FREQ, ' --call-graph dwarf,%d' % PROFILE_STACK
        if p['callgraph'] else '')
    w('Each QEMU on its own swtpm through qtest, as in section 1; for '
      'each command, after %d unmeasured, %d more on each under `%s` (PID: '
      'the emulator, all its threads; FILE: %s/qtest-profile-QEMU/'
      'COMMAND.data), both QEMUs under perf at once and taking turns in '
      '%d blocks (the order alternating by block), so that the rest of '
      'the machine weighs on both alike; each perf samples its own QEMU, '
      'idle while the other works. Then `perf report -i FILE %s` for the '
      'self samples (the total, the top symbols, those of the device and '
      'backend: %s) and `perf script -i FILE %s` for the call chains%s. '
      'CPU per command: the emulator\'s, from /proc/PID/stat over the '
      'turns, under perf: '
      'with perf\'s own cost per sample%s, the same on both, so the us '
      'derived from it are upper bounds. On-CPU time only: swtpm\'s time '
      'and the emulator\'s waits are not in the samples.\n'
      % (PROFILE_WARMUP, p['count'], rec, o.work, PROFILE_BLOCKS,
         ' '.join("'|'" if a == '|' else a for a in PERF_REPORT),
         ', '.join(x + '*' for x in DEVICE_SYMS), ' '.join(PERF_SCRIPT),
         '' if p['callgraph'] else
         ' (none here: with --call-graph dwarf, %s; each sample is classed '
         'by its leaf symbol alone)' % p['nochain'].rstrip('.'),
         ' (the stack copied)' if p['callgraph'] else ''))
    w('A sample is the device and backend\'s when a frame of its chain is '
      'one of theirs (their code and what it calls, the backend\'s socket '
      'I/O to swtpm included) or thread_pool_submit_aio (the hand-over to '
      'the worker thread, which stock\'s tpm_crb_mmio_write and '
      'tpm_backend_deliver_request reach by tail calls, leaving no frame '
      'of theirs); else qtest\'s when one is %s (qtest and '
      'its chardev socket); else the main loop\'s when it is under %s '
      '(polling, timers, bottom halves); else other (the thread pool\'s '
      'own work and waits, ...).%s\n'
      % (', '.join(x + '*' for x in QTEST_SYMS), LOOP_SYMS[0],
         ' %.0f %% of the chains were unwound to their thread\'s first '
         'function (%d bytes of stack per sample); one cut short loses '
         'its outermost frames.' % (
             100 * sum(e['whole'] for e in runs.values()) /
             sum(sum(e['classes'].values()) for e in runs.values()),
             PROFILE_STACK) if p['callgraph'] else ''))
    if first['event'].startswith('cpu-clock'):
        w('The event is %s: this machine offers perf no hardware '
          'counters, so it samples on a timer, and time the kernel spends '
          'with interrupts masked is charged to where it unmasks them '
          '(finish_task_switch, _raw_spin_unlock_irqrestore): the context '
          'switches and wake-ups of each round trip on the sockets.\n'
          % first['event'])
    else:
        w('The event is %s%s.\n' % (
            first['event'], ' (user space only: the kernel\'s time is not '
            'sampled)' if first['event'].endswith(':u') else ''))
    w('| command | QEMU | samples (lost) | CPU per command (us) | '
      'device + backend, self | device + backend, %s | qtest + chardev | '
      'main loop | other |' % ('with callees' if p['callgraph'] else
                               'by leaf (no chains)'))
    w('|---|---|---|---|---|---|---|---|---|')
    for name, _ in QTEST_COMMANDS:
        for v in ('patched', 'stock'):
            e = runs[(name, v)]
            sh = profile_shares(e)
            cpu = 1e6 * e['cpu']
            w('| %s | %s | %d (%d) | %.0f | %.2f %% | %.1f %% (%.1f us) | '
              '%.1f %% | %.1f %% | %.1f %% |'
              % (name, v, e['total'], e['lost'], cpu,
                 100 * sh['device_self'], 100 * sh['device'],
                 sh['device'] * cpu, 100 * sh['qtest'], 100 * sh['loop'],
                 100 * sh['other']))
    w('')
    if p['callgraph']:
        w('The device and backend\'s samples by what their chain was '
          'doing (a frame starting %s), in us of CPU per command:\n'
          % ', '.join(x for _, x in DEVICE_PARTS))
        w('| command | QEMU | reading from swtpm\'s sockets | writing to '
          'them | handing the command to the worker thread | the rest | '
          'all |')
        w('|---|---|---|---|---|---|---|')
        for name, _ in QTEST_COMMANDS:
            for v in ('patched', 'stock'):
                e = runs[(name, v)]
                us = 1e6 * e['cpu'] / sum(e['classes'].values())
                cells = [e['parts'][x] * us for x, _ in DEVICE_PARTS]
                cells.append(e['parts']['rest'] * us)
                w('| %s | %s | %s | %.1f |' % (
                    name, v, ' | '.join('%.1f' % x for x in cells),
                    e['classes']['device'] * us))
        w('')
    top = 8
    w('The top %d symbols by self samples (%% of the emulator\'s):\n' % top)
    w('| command | # | patched | % | stock | % |')
    w('|---|---|---|---|---|---|')
    for name, _ in QTEST_COMMANDS:
        ep, es = runs[(name, 'patched')], runs[(name, 'stock')]
        for i in range(top):
            cells = []
            for e in (ep, es):
                if i < len(e['syms']):
                    n, dso, sym = e['syms'][i]
                    cells += ['`%s`' % short_sym(dso, sym),
                              '%.1f' % (100 * n / e['total'])]
                else:
                    cells += ['', '']
            w('| %s | %d | %s |' % (name if i == 0 else '', i + 1,
                                    ' | '.join(cells)))
    w('')
    w('Per command (+-: 2 sigma of the sample counts alone; from one '
      'run to another the figures move more): %s%s\n'
      % (profile_verdicts(p, [name for name, _ in QTEST_COMMANDS]),
         ' Section 1 says what that means for the ratios that miss the '
         'target.' if q is not None and any(
             statistics.median(a / b for a, b in zip(
                 q[(name, 'patched')]['lat'], q[(name, 'stock')]['lat']))
             > TARGET_RATIO for name, _ in QTEST_COMMANDS) else ''))


def report_kernel(o, k, w):
    w('## 2. No regression, in a guest, through the kernel driver\n')
    w('%d boots of each, alternating; in each, tpm-crb-bench on '
      '/dev/tpmrm0 runs %d of each command (after a warm-up) and reports '
      'the median; q35 (pc-q35-10.2) for both, cap-chunk=on for the patched '
      'QEMU (chunking offered, unused by the kernel).\n'
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


def report_downtime(o, d, w):
    w('## 6. Live-migration downtime\n')
    w('A Debian 12 guest (TCG, 512 MiB) live-migrated %d times per row '
      'to a fresh QEMU with its own swtpm, at random moments '
      '(`scripts/guest-soak.py`); the downtime is QEMU\'s own '
      '(`query-migrate`). Targets: idle and in flight within 1.05x of '
      'stock\'s idle or 2 ms above it, whichever is larger; with a '
      'command executing, no more than the time the command still had '
      'to run above idle.\n' % o.hops)
    base = statistics.median(x for x, _ in d[('idle', 'stock')])
    bound = max(base * 1.05, base + 2)
    w('| guest | QEMU | hops | downtime median (ms) | min | max | '
      'verdict |')
    w('|---|---|---|---|---|---|---|')
    rows = (('idle', 'patched'), ('idle', 'stock'),
            ('in-flight', 'patched'), ('executing', 'patched'),
            ('executing', 'stock'))
    what = {'idle': 'idle', 'in-flight': 'chunked transfers at W = 64',
            'executing': 'kernel driver, createprimary RSA 2048'}
    for key in rows:
        xs = [x for x, _ in d[key]]
        med = statistics.median(xs)
        if key == ('idle', 'stock'):
            verdict = 'the reference'
        elif key[0] in ('idle', 'in-flight'):
            verdict = '%s (bound %.0f ms)' % (
                'met' if med <= bound else 'MISSED', bound)
        else:
            verdict = ''
        w('| %s | %s | %d | %.0f | %d | %d | %s |' % (
            what[key[0]], key[1], len(xs), med, min(xs), max(xs), verdict))
    caught = [(x, r) for x, r in d[('executing', 'patched')]
              if r is not None]
    base_p = statistics.median(x for x, _ in d[('idle', 'patched')])
    w('')
    w('With a command executing, the patched QEMU caught %d of %d stops '
      'with a command executing (trace `tpm_crb_stop_wait`); for each, '
      'the downtime, the time the command still had to run, and the '
      'excess over patched idle (%.0f ms) beyond that time:\n'
      % (len(caught), len(d[('executing', 'patched')]), base_p))
    if caught:
        w('| downtime (ms) | command still running (ms) | excess (ms) | '
          'verdict |')
        w('|---|---|---|---|')
        for x, r in caught:
            excess = x - base_p - r
            w('| %d | %.1f | %.1f | %s |' % (
                x, r, excess, 'met' if excess <= 2 else 'MISSED'))
        w('')
    w('Under TCG a hop\'s downtime is mostly the guest\'s RAM dirtied '
      'since the last pass (a guest busy with MMIO dirties more) and the '
      'load on the two cores; the device\'s own state is a few KiB. '
      'Compare the minimum and maximum before reading a verdict.\n')
    w('Stock does not wait for the command at the stop: its downtime '
      'stays low, and the command\'s response is lost when it completes '
      'after RAM was sent (section of `docs/specs/tpm-crb-migration.rst`, '
      '"A command in flight").\n')


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
    w('The patched QEMU (q35, cap-chunk=on) on FakeSwtpm, a fake '
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
PARTS = ['qtest', 'profile', 'qtest-big', 'memory', 'kernel', 'chunks',
         'downtime']
NEEDS = {'qtest': ['stock'], 'profile': ['stock'], 'qtest-big': [],
         'memory': ['stock'], 'kernel': ['stock', 'guest'],
         'chunks': ['stock', 'guest'], 'downtime': ['stock', 'guest']}
SECTIONS = [('qtest', report_qtest), ('profile', report_profile),
            ('kernel', report_kernel),
            ('chunks', report_chunks), ('qtest-big', report_big),
            ('memory', report_memory), ('downtime', report_downtime)]


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
    # Sections 1 and 1b each use the other's results when both ran
    other = {'qtest': 'profile', 'profile': 'qtest'}
    for part, section in SECTIONS:
        if part in results:
            section(o, results[part], w, *([results.get(other[part])]
                                           if part in other else []))
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
    ap.add_argument('--profile-count', type=int, default=2000)
    ap.add_argument('--perf', default='perf')
    ap.add_argument('--big-count', type=int, default=40)
    ap.add_argument('--mem-count', type=int, default=10000)
    ap.add_argument('--seed', type=int, default=16)
    ap.add_argument('--count', type=int, default=200)
    ap.add_argument('--hops', type=int, default=10)
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
           'profile': ('qtest under perf, patched and stock', bench_profile),
           'qtest-big': ('qtest, 4 to 64 KiB on a fake swtpm at windows '
                         'of 3968 and 512', bench_qtest_big),
           'memory': ('qtest, memory over %d random commands each'
                      % o.mem_count, bench_memory),
           'kernel': ('guest, kernel driver', bench_guest_kernel),
           'chunks': ('guest, chunked driver at three windows',
                      bench_chunks),
           'downtime': ('guest, live-migration downtime, %d hops a case'
                        % o.hops, bench_downtime)}
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
