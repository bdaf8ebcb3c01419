#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Interop check of our tpm-crb against upstream QEMU 11.1 (docs/specs/tpm-crb-migration.rst).

Usage: scripts/upstream-interop.py OUR_BINARY [-L FIRMWARE_DIR]

The peer is Debian's QEMU 11.1 in the trixie chroot of
scripts/upstream-peer.sh (run 'upstream-peer.sh setup' first). Both QEMUs
run machine pc-q35-10.2 under '-accel qtest', each with its own swtpm
(a migration's destination gets a fresh one, which receives the TPM state
through the stream); the harness drives the CRB registers and the data
window with qtest's text protocol, as a guest driver would, and QMP for
the migrations. Checks:

  regs-*      every 32-bit register at 0xFED40000..0xFED4007C after reset,
              ours and upstream side by side: equal, and the expected
              INTF_ID / CTRL_STS;
  baseline-*  the sequences below without migration on each binary;
  mig-*       migrations ours -> upstream and upstream -> ours (unix
              socket, destination '-incoming defer' + migrate-incoming):
              idle, mid-upload (first chunk of a 4000-byte and of a
              5000-byte command, then nextChunk; the destination writes the
              rest and Start), drained (a completed GetRandom read whole;
              the destination gets it again with crbRspRetry); with chunking
              opted in on both sides, and idle / drained with the default
              properties. The destination must be running and its TPM must
              answer a further command.

One line per check, 'ok NAME' or 'FAIL NAME: why', then 'N passed, N
failed'. Logs of every QEMU and swtpm are under /var/tmp/tpm-crb-interop/.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

LOGROOT = "/var/tmp/tpm-crb-interop"
PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    "upstream-peer.sh")
MACHINE = "pc-q35-10.2"
CHUNK_GLOBALS = ["-global", "tpm-crb.cap-chunk=on",
                 "-global", "tpm-crb.x-allow-chunk-migration=on"]

BASE = 0xFED40000
LOC_STATE, LOC_CTRL, LOC_STS = 0x00, 0x08, 0x0C
INTF_ID, CTRL_REQ, CTRL_STS, CTRL_CANCEL, CTRL_START = \
    0x30, 0x40, 0x44, 0x48, 0x4C
WINDOW = 0x80
W = 0x1000 - 0x80            # the data window, 3968 bytes
REG_NAMES = {0x00: "LOC_STATE", 0x08: "LOC_CTRL", 0x0C: "LOC_STS",
             0x30: "INTF_ID", 0x34: "INTF_ID2", 0x38: "CTRL_EXT",
             0x3C: "CTRL_EXT2", 0x40: "CTRL_REQ", 0x44: "CTRL_STS",
             0x48: "CTRL_CANCEL", 0x4C: "CTRL_START", 0x50: "INT_ENABLE",
             0x54: "INT_STS", 0x58: "CMD_SIZE", 0x5C: "CMD_LADDR",
             0x60: "CMD_HADDR", 0x64: "RSP_SIZE", 0x68: "RSP_ADDR",
             0x6C: "RSP_ADDR_HI"}

TIMEOUT = 20.0               # any single wait
GET_RANDOM_16 = bytes.fromhex("80010000000c0000017b0010")
STARTUP_CLEAR = bytes.fromhex("80010000000c000001440000")


def get_random_shaped(size):
    """A TPM2_GetRandom header declaring SIZE bytes, then filler."""
    hdr = struct.pack(">HII", 0x8001, size, 0x17B)
    return hdr + bytes((i * 7 + 3) & 0xFF for i in range(size - len(hdr)))


def rsp_hdr(rsp):
    if len(rsp) < 10:
        return "short response %s" % rsp.hex()
    tag, size, rc = struct.unpack(">HII", rsp[:10])
    return "tag 0x%04x size %d rc 0x%x" % (tag, size, rc)


class Failure(Exception):
    pass


def deadline_loop(what, timeout=TIMEOUT, step=0.02):
    """Yield until the caller breaks; raise Failure after TIMEOUT s."""
    end = time.monotonic() + timeout
    while True:
        yield
        if time.monotonic() > end:
            raise Failure("timeout (%gs) waiting for %s" % (timeout, what))
        time.sleep(step)


class Procs:
    """Every process started, killed at the end of each case."""

    def __init__(self):
        self.procs = []

    def start(self, argv, log):
        f = open(log, "ab")
        f.write(("+ %s\n" % " ".join(argv)).encode())
        f.flush()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f,
                             stderr=subprocess.STDOUT)
        f.close()
        self.procs.append(p)
        return p

    def kill_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        self.procs = []


def log_tail(path, n=6):
    try:
        with open(path, errors="replace") as f:
            lines = [l.rstrip() for l in f if not l.startswith("+ ")]
        return " | ".join(lines[-n:])
    except OSError:
        return ""


class Swtpm:
    def __init__(self, procs, d, name, startup):
        self.dir = os.path.join(d, name)
        os.makedirs(self.dir)
        self.ctrl = os.path.join(self.dir, "ctrl.sock")
        self.log = os.path.join(d, name + ".log")
        flags = "not-need-init,startup-clear" if startup else "not-need-init"
        self.proc = procs.start(
            ["swtpm", "socket", "--tpm2",
             "--tpmstate", "dir=" + self.dir,
             "--ctrl", "type=unixio,path=" + self.ctrl,
             "--flags", flags,
             "--log", "file=%s,level=5" % (self.log + ".swtpm")],
            self.log)
        for _ in deadline_loop("swtpm ctrl socket " + self.ctrl):
            if os.path.exists(self.ctrl):
                break
            if self.proc.poll() is not None:
                raise Failure("swtpm exited: " + log_tail(self.log))


class Qemu:
    """One QEMU (ours or upstream) with qtest and QMP sockets."""

    def __init__(self, h, procs, d, name, kind, chunk, incoming=False,
                 startup=True):
        self.name, self.kind = name, kind
        self.log = os.path.join(d, name + ".log")
        self.tpm = Swtpm(procs, d, name + "-swtpm", startup)
        qtest_path = os.path.join(d, name + ".qtest")
        self.qmp_path = os.path.join(d, name + ".qmp")
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(qtest_path)
        lsock.listen(1)
        lsock.settimeout(TIMEOUT)
        args = ["-machine", MACHINE, "-accel", "qtest",
                "-qtest", "unix:" + qtest_path,
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
                "-nodefaults", "-display", "none",
                "-chardev", "socket,id=chrtpm,path=" + self.tpm.ctrl,
                "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
                "-device", "tpm-crb,tpmdev=tpm0"]
        if chunk:
            args += CHUNK_GLOBALS
        if incoming:
            args += ["-incoming", "defer"]
        if kind == "ours":
            argv = [h.ours] + h.ours_extra + args
        else:
            argv = ["bash", PEER, "run"] + args
        self.proc = procs.start(argv, self.log)
        try:
            self.qt, _ = lsock.accept()
        except socket.timeout:
            raise Failure("%s: no qtest connection: %s"
                          % (name, log_tail(self.log)))
        finally:
            lsock.close()
        self.qt.settimeout(TIMEOUT)
        self.qtbuf = b""
        for _ in deadline_loop(name + " QMP socket"):
            if os.path.exists(self.qmp_path):
                try:
                    self.qm = socket.socket(socket.AF_UNIX,
                                            socket.SOCK_STREAM)
                    self.qm.settimeout(TIMEOUT)
                    self.qm.connect(self.qmp_path)
                    break
                except OSError:
                    self.qm.close()
            self.check_alive()
        self.qmbuf = b""
        self.qmp_line()                       # greeting
        self.qmp("qmp_capabilities")

    def check_alive(self):
        if self.proc.poll() is not None:
            raise Failure("%s exited (%d): %s" % (self.name,
                          self.proc.returncode, log_tail(self.log)))

    # qtest
    def qtest(self, cmd):
        self.qt.sendall(cmd.encode() + b"\n")
        while True:
            while b"\n" not in self.qtbuf:
                try:
                    data = self.qt.recv(65536)
                except socket.timeout:
                    raise Failure("%s: qtest '%s' timed out"
                                  % (self.name, cmd[:40]))
                if not data:
                    raise Failure("%s: qtest closed on '%s': %s" %
                                  (self.name, cmd[:40], log_tail(self.log)))
                self.qtbuf += data
            line, self.qtbuf = self.qtbuf.split(b"\n", 1)
            line = line.decode()
            if line.startswith("IRQ"):
                continue
            if not line.startswith("OK"):
                raise Failure("%s: qtest '%s': %s" % (self.name, cmd[:40],
                                                      line))
            return line[3:]

    def readl(self, off):
        return int(self.qtest("readl 0x%x" % (BASE + off)), 16)

    def writel(self, off, val):
        self.qtest("writel 0x%x 0x%x" % (BASE + off, val))

    def read(self, off, n):
        return bytes.fromhex(self.qtest("read 0x%x %d" % (BASE + off, n))[2:])

    def write(self, off, data):
        self.qtest("write 0x%x %d 0x%s" % (BASE + off, len(data), data.hex()))

    def regs(self):
        return [self.readl(off) for off in range(0, 0x80, 4)]

    # QMP
    def qmp_line(self):
        while b"\n" not in self.qmbuf:
            try:
                data = self.qm.recv(65536)
            except socket.timeout:
                raise Failure("%s: QMP timed out" % self.name)
            if not data:
                raise Failure("%s: QMP closed: %s" % (self.name,
                                                      log_tail(self.log)))
            self.qmbuf += data
        line, self.qmbuf = self.qmbuf.split(b"\n", 1)
        return json.loads(line)

    def qmp(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.qm.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self.qmp_line()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise Failure("%s: QMP %s: %s" % (self.name, cmd,
                                                  r["error"]["desc"]))

    def status(self):
        return self.qmp("query-status")["status"]

    # TPM driver steps
    def open_locality(self):
        self.writel(LOC_CTRL, 1)                     # requestAccess
        for _ in deadline_loop(self.name + " locality granted"):
            if self.readl(LOC_STS) & 1:
                break
        self.writel(CTRL_REQ, 1)                     # cmdReady
        for _ in deadline_loop(self.name + " cmdReady"):
            if not self.readl(CTRL_REQ) & 1:
                break

    def wait_start_clear(self):
        for _ in deadline_loop(self.name + " CTRL_START.Start = 0"):
            if not self.readl(CTRL_START) & 1:
                break
            self.check_alive()

    def read_response(self):
        hdr = self.read(WINDOW, 10)
        size = struct.unpack(">I", hdr[2:6])[0]
        if 10 < size <= W:
            return self.read(WINDOW, size)
        return hdr

    def command(self, cmd):
        self.write(WINDOW, cmd)
        self.writel(CTRL_START, 1)
        self.wait_start_clear()
        return self.read_response()


def check_get_random(rsp):
    if rsp[:10] != bytes.fromhex("80010000001c00000000") or len(rsp) != 28:
        raise Failure("GetRandom(16) answered %s" % rsp_hdr(rsp))


class Harness:
    def __init__(self, ours, ours_extra):
        self.ours = ours
        self.ours_extra = ours_extra
        self.passed = self.failed = 0
        self.n = 0
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.root = os.path.join(LOGROOT, "r-" + stamp)
        os.makedirs(self.root)
        self.baselines = {}

    def case_dir(self, name):
        self.n += 1
        # Short: a unix socket's path has at most 107 bytes.
        d = os.path.join(self.root, "%02d" % self.n)
        os.makedirs(d)
        with open(os.path.join(d, "name"), "w") as f:
            f.write(name + "\n")
        return d

    def result(self, name, why=None):
        if why is None:
            self.passed += 1
            print("ok %s" % name, flush=True)
        else:
            self.failed += 1
            print("FAIL %s: %s" % (name, why), flush=True)

    def run_case(self, name, fn, *args):
        procs = Procs()
        d = self.case_dir(name)
        try:
            fn(procs, d, *args)
        except Failure as e:
            self.result(name, "%s (logs: %s)" % (e, d))
        except Exception as e:                      # harness bug
            self.result(name, "%s: %s (logs: %s)" % (type(e).__name__, e, d))
        else:
            self.result(name)
        finally:
            procs.kill_all()

    # a. registers
    def case_regs(self, procs, d, chunk):
        ours = Qemu(self, procs, d, "ours", "ours", chunk)
        up = Qemu(self, procs, d, "upstream", "upstream", chunk)
        r_ours, r_up = ours.regs(), up.regs()
        label = "chunk" if chunk else "default"
        print("# registers (%s): offset name ours upstream" % label)
        diffs = []
        for i, (a, b) in enumerate(zip(r_ours, r_up)):
            off = i * 4
            mark = "" if a == b else "   <-- differs"
            if a != b:
                diffs.append("0x%02x %s ours 0x%08x upstream 0x%08x"
                             % (off, REG_NAMES.get(off, ""), a, b))
            if a or b or off in REG_NAMES:
                print("#   0x%02x %-12s 0x%08x 0x%08x%s"
                      % (off, REG_NAMES.get(off, ""), a, b, mark))
        if diffs:
            raise Failure("; ".join(diffs))
        want = 0x00025C11 if chunk else 0x00025811
        if r_ours[INTF_ID // 4] != want:
            raise Failure("INTF_ID 0x%08x, expected 0x%08x"
                          % (r_ours[INTF_ID // 4], want))
        if r_ours[CTRL_STS // 4] != 0x2:
            raise Failure("CTRL_STS 0x%x, expected 0x2"
                          % r_ours[CTRL_STS // 4])

    # b. the sequences
    def startup(self, q):
        """TPM2_Startup(SU_CLEAR): QEMU's CMD_INIT undoes swtpm's own."""
        q.open_locality()
        rsp = q.command(STARTUP_CLEAR)
        if rsp[:10] != bytes.fromhex("80010000000a00000000"):
            raise Failure("TPM2_Startup answered %s" % rsp_hdr(rsp))

    def seq_prepare(self, q, state, size=None):
        """Bring Q into STATE; return what the rest needs."""
        self.startup(q)
        if state == "idle":
            return None
        if state == "upload":
            cmd = get_random_shaped(size)
            q.write(WINDOW, cmd[:W])
            q.writel(CTRL_START, 4)                 # nextChunk
            if q.readl(CTRL_START) & 1:
                raise Failure("Start set after nextChunk")
            return cmd
        if state == "drained":
            rsp = q.command(GET_RANDOM_16)
            check_get_random(rsp)
            return rsp
        raise AssertionError(state)

    def seq_finish(self, q, state, data, chunk):
        """Run the rest on Q; return a result to compare with baselines."""
        if state == "idle":
            q.open_locality()
            return None
        if state == "upload":
            q.write(WINDOW, data[W:])
            q.writel(CTRL_START, 1)                 # Start
            q.wait_start_clear()
            return q.read_response()
        if state == "drained":
            if chunk:
                q.write(WINDOW, bytes(64))          # a guest overwrote it
                q.writel(CTRL_START, 2)             # crbRspRetry
            got = q.read(WINDOW, len(data))
            if got != data:
                raise Failure("window holds %s, not the response %s"
                              % (got[:32].hex(), data[:32].hex()))
            return got
        raise AssertionError(state)

    def case_baseline(self, procs, d, kind, state, size, chunk):
        q = Qemu(self, procs, d, kind, kind, chunk)
        data = self.seq_prepare(q, state, size)
        res = self.seq_finish(q, state, data, chunk)
        check_get_random(q.command(GET_RANDOM_16))
        if res is not None and state == "upload":
            self.baselines[(kind, size)] = res[:10]
            print("# %s %s-%d without migration: %s"
                  % (kind, state, size, rsp_hdr(res)))

    def case_same_behaviour(self, procs, d, size):
        a, b = self.baselines.get(("ours", size)), \
            self.baselines.get(("upstream", size))
        if a is None or b is None:
            raise Failure("a baseline is missing")
        if a != b:
            raise Failure("ours answers %s, upstream %s"
                          % (rsp_hdr(a), rsp_hdr(b)))

    @staticmethod
    def src_state(src):
        """What became of the source after a failed migration."""
        if src.proc.poll() is not None:
            return "exited"
        try:
            return "alive, status " + src.status()
        except Failure as e:
            return "alive, %s" % e

    def migrate(self, src, dst, d):
        sock = os.path.join(d, "mig.sock")
        dst.qmp("migrate-incoming", uri="unix:" + sock)
        for _ in deadline_loop("migration socket"):
            if os.path.exists(sock):
                break
            dst.check_alive()
        src.qmp("migrate", uri="unix:" + sock)
        for _ in deadline_loop("migration to complete", step=0.1):
            st = src.qmp("query-migrate")
            if st.get("status") == "completed":
                break
            if st.get("status") in ("failed", "cancelled"):
                dst_state = "source %s; destination " % self.src_state(src) + (
                    "alive" if dst.proc.poll() is None else
                    "exited: " + log_tail(dst.log, 3))
                raise Failure("migrate %s: %s; %s" % (
                    st["status"], st.get("error-desc", "?"), dst_state))
            if dst.proc.poll() is not None:
                raise Failure("destination exited: " + log_tail(dst.log, 3))
        for _ in deadline_loop("destination to run", step=0.1):
            try:
                dst.check_alive()
            except Failure as e:
                raise Failure("%s; source %s" % (e, self.src_state(src)))
            status = dst.status()
            if status == "running":
                break
            if status in ("paused", "postmigrate", "prelaunch"):
                dst.qmp("cont")
        if src.proc.poll() is not None:
            raise Failure("source exited: " + log_tail(src.log, 3))

    def case_migrate(self, procs, d, src_kind, dst_kind, state, size, chunk):
        src = Qemu(self, procs, d, "src-" + src_kind, src_kind, chunk)
        data = self.seq_prepare(src, state, size)
        regs_before = src.regs()
        dst = Qemu(self, procs, d, "dst-" + dst_kind, dst_kind, chunk,
                   incoming=True, startup=False)
        self.migrate(src, dst, d)
        regs_after = dst.regs()
        diffs = ["0x%02x %08x->%08x" % (i * 4, a, b)
                 for i, (a, b) in enumerate(zip(regs_before, regs_after))
                 if a != b]
        if diffs:
            raise Failure("registers changed across migration: "
                          + ", ".join(diffs))
        res = self.seq_finish(dst, state, data, chunk)
        if state == "upload":
            want = self.baselines.get((dst_kind, size))
            if res[:10] == bytes.fromhex("80010000000a00000142") and \
                    want != res[:10]:
                raise Failure("the destination answered 0x142 (the upload "
                              "was lost); without migration %s"
                              % (rsp_hdr(want) if want else "?"))
            if want is not None and res[:10] != want:
                raise Failure("answered %s, without migration %s"
                              % (rsp_hdr(res), rsp_hdr(want)))
            print("# %s->%s %s-%d: %s" % (src_kind, dst_kind, state, size,
                                          rsp_hdr(res)))
        check_get_random(dst.command(GET_RANDOM_16))

    def main(self):
        print("# ours: %s" % self.ours)
        print("# peer: %s" % subprocess.run(
            ["bash", PEER, "version"], capture_output=True, text=True,
            timeout=60).stdout.strip())
        print("# swtpm: %s" % subprocess.run(
            ["swtpm", "--version"], capture_output=True, text=True,
            timeout=60).stdout.strip())
        print("# logs: %s" % self.root)
        self.run_case("regs-default", self.case_regs, False)
        self.run_case("regs-chunk", self.case_regs, True)

        seqs = [("idle", None), ("upload", 4000), ("upload", 5000),
                ("drained", None)]
        for kind in ("ours", "upstream"):
            for state, size in seqs[1:]:
                name = "baseline-%s-%s%s-chunk" % (
                    kind, state, "-%d" % size if size else "")
                self.run_case(name, self.case_baseline, kind, state, size,
                              True)
            self.run_case("baseline-%s-drained-default" % kind,
                          self.case_baseline, kind, "drained", None, False)
        for size in (4000, 5000):
            self.run_case("same-behaviour-upload-%d" % size,
                          self.case_same_behaviour, size)

        for src, dst in (("ours", "upstream"), ("upstream", "ours")):
            for state, size in seqs:
                name = "mig-%s-to-%s-%s%s-chunk" % (
                    src, dst, state, "-%d" % size if size else "")
                self.run_case(name, self.case_migrate, src, dst, state,
                              size, True)
            for state in ("idle", "drained"):
                name = "mig-%s-to-%s-%s-default" % (src, dst, state)
                self.run_case(name, self.case_migrate, src, dst, state,
                              None, False)
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 0 if self.failed == 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ours", help="our qemu-system-x86_64")
    ap.add_argument("-L", dest="firmware",
                    help="firmware directory for our QEMU")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("upstream-interop.py: needs root (the peer's chroot)")
    for tool in ("swtpm",):
        if not shutil.which(tool):
            sys.exit("upstream-interop.py: %s not found" % tool)
    extra = ["-L", a.firmware] if a.firmware else []
    # A hard bound on the whole run, on top of each wait's own.
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(
        Failure("the whole run exceeded 20 minutes")))
    signal.alarm(1200)
    return Harness(os.path.abspath(a.ours), extra).main()


if __name__ == "__main__":
    sys.exit(main())
