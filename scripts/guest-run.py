#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Boot the demo guest (scripts/guest-image.sh) in a QEMU with a tpm-crb
# device and a real swtpm, run guest/workload.sh's phases in it, and check
# what happened from both ends: the guest's own report on its serial
# console, and the device's trace points (tpm_crb_upload, _deliver,
# _request_completed, _download, _framing_error), split into the guest's
# phases by the arrival times of its markers.
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
#   guest-run.py run   --qemu Q --guest DIR --work DIR
#       make run: two boots of the patched QEMU, tables, one VERDICT line
#   guest-run.py check --qemu Q --stock S --guest DIR --work DIR
#       make check: the same boots plus SeaBIOS at a 64-byte window and
#       the stock peer; TAP on stdout

import argparse
import copy
import datetime
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

BOOT_TIMEOUT_S = 120
W_FULL = 3968
SEABIOS = None                       # QEMU's default firmware
QBOOT = '/usr/share/qemu/qboot.rom'  # Debian's qemu-system-data
TRACE_EVENTS = ['tpm_crb_upload', 'tpm_crb_deliver',
                'tpm_crb_request_completed', 'tpm_crb_download',
                'tpm_crb_framing_error']
TPM_RC_RETRY = 0x922

# The commands the workload sends (TPM 2.0 Part 2, TPM_CC)
CC_NAMES = {
    0x121: 'HierarchyControl', 0x12a: 'NV_DefineSpace',
    0x131: 'CreatePrimary', 0x137: 'NV_Write', 0x13e: 'SequenceComplete',
    0x143: 'SelfTest', 0x144: 'Startup', 0x145: 'Shutdown',
    0x14e: 'NV_Read', 0x153: 'Create', 0x157: 'Load',
    0x15c: 'SequenceUpdate', 0x15d: 'Sign', 0x161: 'ContextLoad',
    0x162: 'ContextSave', 0x165: 'FlushContext', 0x169: 'NV_ReadPublic',
    0x173: 'ReadPublic', 0x176: 'StartAuthSession',
    0x177: 'VerifySignature', 0x17a: 'GetCapability', 0x17b: 'GetRandom',
    0x17e: 'PCR_Read', 0x182: 'PCR_Extend', 0x186: 'HashSequenceStart',
    0x122: 'NV_UndefineSpace', 0x129: 'HierarchyChangeAuth',
    0x146: 'StirRandom',
}


# In check mode the report goes out as TAP comments
SAY_PREFIX = ''


def say(text=''):
    print((SAY_PREFIX + text).rstrip())


def cc_name(cc):
    return CC_NAMES.get(cc, 'cc 0x%x' % cc) if cc is not None else '?'


class Boot:
    """One boot: its settings, then what it produced."""

    def __init__(self, name, qemu, window, firmware, phases, no_kernel_driver,
                 trace=True, chunking=True):
        self.name = name
        self.qemu = qemu
        self.chunking = chunking   # opt in (cap-chunk=on); not on stock
        self.window = window
        self.firmware = firmware
        self.phases = phases
        self.no_kernel_driver = no_kernel_driver
        self.trace = trace
        self.extra_append = []   # more kernel command line
        self.lines = []          # (time, text) from the serial console
        self.commands = []       # the device's view, from its trace
        self.exit_status = None
        self.seconds = None
        self.error = None

    def describe(self):
        fw = 'qboot' if self.firmware else 'SeaBIOS'
        drv = ('kernel driver kept out' if self.no_kernel_driver
               else 'kernel tpm_crb driver')
        return '%s: %s, %s, window %d, %s' % (
            self.name, os.path.basename(self.qemu), fw, self.window, drv)


def start_swtpm(d):
    os.makedirs(d)
    ctrl = os.path.join(d, 'ctrl.sock')
    log = open(os.path.join(d, 'swtpm.out'), 'w')
    # No --flags startup-clear: SeaBIOS sends TPM2_Startup, and so does
    # the bridge where there is no firmware to do it.
    p = subprocess.Popen(['swtpm', 'socket', '--tpm2',
                          '--tpmstate', 'dir=' + d,
                          '--ctrl', 'type=unixio,path=' + ctrl,
                          '--log', 'file=%s/swtpm.log' % d],
                         stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT)
    deadline = time.time() + 10
    while not os.path.exists(ctrl):
        if p.poll() is not None or time.time() > deadline:
            raise RuntimeError('swtpm did not start (see %s)' % d)
        time.sleep(0.02)
    return p, ctrl


def run_boot(boot, guest, work):
    d = os.path.join(work, boot.name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    swtpm, ctrl = start_swtpm(os.path.join(d, 'tpm'))
    serial = os.path.join(d, 'serial.sock')
    append = ['console=ttyS0', 'panic=-1', 'quiet',
              'tpmdemo=' + ','.join(boot.phases)]
    if boot.no_kernel_driver:
        append.append('initcall_blacklist=crb_acpi_driver_init')
    append += boot.extra_append
    dev = 'tpm-crb,tpmdev=tpm0'
    if boot.chunking:
        dev += ',cap-chunk=on'
    if boot.window != W_FULL:
        dev += ',x-data-buffer-size=%d' % boot.window
    args = [boot.qemu, '-M', 'q35', '-m', '512', '-nodefaults',
            '-display', 'none', '-no-reboot',
            '-chardev', 'socket,id=ser0,path=%s,server=on,wait=on' % serial,
            '-serial', 'chardev:ser0',
            '-chardev', 'socket,id=chrtpm,path=' + ctrl,
            '-tpmdev', 'emulator,id=tpm0,chardev=chrtpm',
            '-device', dev,
            '-kernel', os.path.join(guest, 'vmlinuz'),
            '-initrd', os.path.join(guest, 'initramfs.gz'),
            '-append', ' '.join(append)]
    if boot.firmware:
        args += ['-bios', boot.firmware]
    if boot.trace:
        args += ['-msg', 'timestamp=on', '-D', os.path.join(d, 'trace.log')]
        for e in TRACE_EVENTS:
            args += ['-trace', e]
    log = open(os.path.join(d, 'qemu.log'), 'w')
    t0 = time.time()
    qemu = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT)
    console = open(os.path.join(d, 'console.txt'), 'w')
    try:
        sock = None
        while sock is None:
            if qemu.poll() is not None or time.time() - t0 > 10:
                raise RuntimeError('QEMU did not open its serial socket')
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(serial)
            except OSError:
                sock = None
                time.sleep(0.02)
        sock.settimeout(1.0)
        buf = b''
        while True:
            if time.time() - t0 > BOOT_TIMEOUT_S:
                raise RuntimeError('the guest did not finish in %d s'
                                   % BOOT_TIMEOUT_S)
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            now = time.time()
            if not data:
                break
            buf += data
            while b'\n' in buf:
                line, buf = buf.split(b'\n', 1)
                text = line.decode('utf-8', 'replace').rstrip('\r')
                console.write(text + '\n')
                boot.lines.append((now, text))
        boot.exit_status = qemu.wait(timeout=30)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        boot.error = str(e)
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        swtpm.send_signal(signal.SIGTERM)
        try:
            swtpm.wait(timeout=10)
        except subprocess.TimeoutExpired:
            swtpm.kill()
        console.close()
        log.close()
    boot.seconds = time.time() - t0
    if boot.trace:
        boot.commands = parse_trace(os.path.join(d, 'trace.log'))
        assign_phases(boot)
    return boot


TRACE_RE = re.compile(r'^(\S+Z) (tpm_crb_\w+) (.*)$')


def parse_trace(path):
    """The device's commands: size and chunks each way, response code."""
    cmds = []
    cur = None
    try:
        f = open(path)
    except FileNotFoundError:
        return cmds
    for line in f:
        m = TRACE_RE.match(line.strip())
        if not m:
            continue
        when = datetime.datetime.strptime(
            m.group(1), '%Y-%m-%dT%H:%M:%S.%fZ').replace(
            tzinfo=datetime.timezone.utc).timestamp()
        ev, rest = m.group(2), m.group(3)
        if ev == 'tpm_crb_upload':
            if cur is None or cur.get('done'):
                cur = {'time': when, 'cc': None, 'in': 0, 'chunks_in': 0,
                       'out': 0, 'chunks_out': 0, 'rc': None}
                cmds.append(cur)
            cur['chunks_in'] += 1
        elif ev == 'tpm_crb_deliver':
            v = re.match(r'command 0x([0-9a-f]+) of (\d+) bytes', rest)
            cur['cc'] = int(v.group(1), 16)
            cur['in'] = int(v.group(2))
            cur['time'] = when
        elif ev == 'tpm_crb_request_completed':
            v = re.match(r'ret (-?\d+) response (\d+) bytes rc 0x([0-9a-f]+)',
                         rest)
            cur['out'] = int(v.group(2))
            cur['rc'] = int(v.group(3), 16) if v.group(1) == '0' else None
            cur['done'] = True
        elif ev == 'tpm_crb_framing_error':
            cur['rc'] = 0x142
            cur['framing'] = rest
            cur['out'] = 10
            cur['done'] = True
        elif ev == 'tpm_crb_download':
            cur['chunks_out'] += 1
    return cmds


def markers(boot):
    """{phase: (start, end)} from the guest's @@ phase lines."""
    spans = {}
    for t, text in boot.lines:
        m = re.match(r'^@@ phase (\S+)$', text)
        if m:
            spans[m.group(1)] = [t, None]
        m = re.match(r'^@@ phase-end (\S+) ', text)
        if m and m.group(1) in spans:
            spans[m.group(1)][1] = t
    return spans


def assign_phases(boot):
    spans = markers(boot)
    for c in boot.commands:
        c['phase'] = 'boot'
        for ph, (start, end) in spans.items():
            if start <= c['time'] and (end is None or c['time'] <= end):
                c['phase'] = ph


def guest_records(boot, kind):
    """The guest's @@ KIND lines, split into fields."""
    out = []
    for _, text in boot.lines:
        if text.startswith('@@ %s ' % kind):
            out.append(text.split()[2:])
    return out


def steps(boot, phase):
    return [(f[1], int(f[2])) for f in guest_records(boot, 'step')
            if f[0] == phase]


def driver_cmds(boot, phase):
    """The project's driver's own statistics for a phase."""
    out = []
    for f in guest_records(boot, 'cmd'):
        if f[0] != phase:
            continue
        out.append({'cc': int(f[1], 16), 'name': f[2], 'in': int(f[3]),
                    'out': int(f[4]), 'chunks_in': int(f[5]),
                    'chunks_out': int(f[6]),
                    'rc': int(f[7], 16) if f[7] != 'error' else None,
                    'origin': f[8]})
    return out


def pcrs(boot, phase):
    return {int(f[1]): f[2] for f in guest_records(boot, 'pcr')
            if f[0] == phase}


def device_cmds(boot, phase):
    return [c for c in boot.commands if c['phase'] == phase]


def n_chunks(size, w):
    return max(1, -(-size // w))


# Checks: each returns a list of failures (empty: it holds)

def check_boot_ran(boot):
    bad = []
    if boot.error:
        bad.append(boot.error)
    if not any(t.startswith('@@ guest done') for _, t in boot.lines):
        bad.append('the guest did not reach the end of its workload')
    if boot.exit_status not in (0, None) and not boot.error:
        bad.append('QEMU exited with status %s' % boot.exit_status)
    return bad


def check_steps_ok(boot, phase, expect_fail=()):
    bad = []
    got = steps(boot, phase)
    if not got:
        bad.append('%s: no tool ran' % phase)
    for name, rc in got:
        if (rc != 0) != (name in expect_fail):
            bad.append('%s: %s exited with %d' % (phase, name, rc))
    return bad


def check_kernel_bind(boot):
    bad = []
    nodes = [f[0] for f in guest_records(boot, 'node')]
    for n in ('/dev/tpm0', '/dev/tpmrm0'):
        if n not in nodes:
            bad.append('the kernel driver did not create %s' % n)
    for _, t in boot.lines:
        if t.startswith('@@ dmesg') and re.search(
                r'tpm_crb.*(error|fail|probe of)', t, re.I):
            bad.append('kernel: ' + t[len('@@ dmesg '):])
    return bad


def check_unchunked(boot, phase):
    """Every command of the phase took one chunk each way (device)."""
    cmds = device_cmds(boot, phase)
    bad = [] if cmds else ['%s: the device saw no command' % phase]
    for c in cmds:
        if c['chunks_in'] != 1 or c['chunks_out'] != 1:
            bad.append('%s: %s took %d/%d chunks' % (
                phase, cc_name(c['cc']), c['chunks_in'], c['chunks_out']))
        if c['rc'] is None:
            bad.append('%s: %s failed in the device' % (phase,
                                                         cc_name(c['cc'])))
    return bad


def check_chunked(boot, phase, want_multi=True):
    """
    The driver's statistics agree with the device's trace command for
    command (code, sizes, chunks each way, response code), and both
    chunk counts are what the sizes need at this window.
    """
    mine = driver_cmds(boot, phase)
    dev = device_cmds(boot, phase)
    bad = []
    if not mine:
        return ['%s: the driver reported no command' % phase]
    if boot.trace:
        if len(mine) != len(dev):
            bad.append('%s: the driver sent %d commands, the device saw %d'
                       % (phase, len(mine), len(dev)))
        for a, b in zip(mine, dev):
            for k in ('cc', 'in', 'out', 'chunks_in', 'chunks_out', 'rc'):
                if a[k] != b[k]:
                    bad.append('%s: %s: %s is %s for the driver, %s for the '
                               'device' % (phase, a['name'], k, a[k], b[k]))
                    break
    for a in mine:
        if a['rc'] is None:
            bad.append('%s: %s failed in the driver' % (phase, a['name']))
            continue
        want = (n_chunks(a['in'], boot.window),
                n_chunks(a['out'], boot.window))
        if (a['chunks_in'], a['chunks_out']) != want:
            bad.append('%s: %s (%d/%d bytes) took %d/%d chunks, not %d/%d'
                       % (phase, a['name'], a['in'], a['out'],
                          a['chunks_in'], a['chunks_out'], *want))
    if want_multi and not any(a['chunks_in'] > 1 for a in mine):
        bad.append('%s: no command took more than one chunk in' % phase)
    if want_multi and not any(a['chunks_out'] > 1 for a in mine):
        bad.append('%s: no response took more than one chunk' % phase)
    return bad


def check_big(boot):
    mine = [a for a in driver_cmds(boot, 'big') if a['origin'] == 'tool']
    bad = check_steps_ok(boot, 'big') + check_chunked(boot, 'big', False)
    if len(mine) != 1 or mine[0]['in'] != 4096:
        return bad + ['big: no 4096-byte command went through']
    a = mine[0]
    if a['chunks_in'] != n_chunks(4096, boot.window) or a['chunks_in'] < 2:
        bad.append('big: 4096 bytes took %d chunks' % a['chunks_in'])
    # The TPM itself read it all: TPM_RC_SIZE, not the device's framing
    # error (0x142) or a failure
    if a['rc'] != 0x95:
        bad.append('big: response code 0x%x, not TPM_RC_SIZE (0x95)'
                   % (a['rc'] or 0))
    return bad


# Reporting

def table(title, rows, source):
    say('-- %s (%s)' % (title, source))
    say('   %-18s %6s %6s %6s %6s  %s' % ('command', 'in', 'chunks', 'out',
                                           'chunks', 'result'))
    for r in rows:
        rc = r['rc']
        res = 'error' if rc is None else ('0x%x' % rc if rc else 'success')
        name = r.get('name') or cc_name(r['cc'])
        if r.get('origin') == 'bridge':
            name += '*'
        say('   %-18s %6d %6d %6d %6d  %s' % (name, r['in'], r['chunks_in'],
                                               r['out'], r['chunks_out'],
                                               res))


def report_boot(boot):
    say('== boot %s (%.1f s)' % (boot.describe(), boot.seconds))
    for _, t in boot.lines:
        if t.startswith('@@ dmesg') and 'tpm' in t.lower():
            say('   kernel:' + t[len('@@ dmesg'):])
        if t.startswith('@@ node '):
            say('   device node: ' + t[len('@@ node '):])
        if t.startswith('@@ device '):
            say('   ' + t[len('@@ device '):])
    fw = device_cmds(boot, 'boot')
    if fw:
        say('   before the workload (firmware, kernel probe): %d commands:'
              ' %s' % (len(fw), ', '.join(sorted({cc_name(c['cc'])
                                                  for c in fw}))))
    for ph in boot.phases:
        st = steps(boot, ph)
        if ph == 'kernel':
            table('kernel: tpm2-tools through /dev/tpmrm0',
                  device_cmds(boot, ph), 'the device\'s trace')
        elif ph == 'unbind':
            say('-- unbind: the kernel driver let go of the device, sending '
                '%s (the device\'s trace)' % (', '.join(
                    cc_name(c['cc']) for c in device_cmds(boot, ph))
                    or 'nothing'))
        elif driver_cmds(boot, ph):
            table('%s: through the project\'s driver (/dev/mem)' % ph,
                  driver_cmds(boot, ph), 'the driver\'s statistics, '
                  'matched against the device\'s trace; * its clean-up')
        if st:
            say('   tools: ' + ', '.join('%s %s' % (n, 'ok' if rc == 0
                                                     else 'exit %d' % rc)
                                         for n, rc in st))
    say()


def boots_for(qemu, window_small=64):
    return [
        Boot('1', qemu, W_FULL, SEABIOS,
             ['kernel', 'unbind', 'chunked', 'big'], False),
        Boot('2', qemu, window_small, QBOOT, ['chunked', 'big'], True),
    ]


def checks_for_boot1(b):
    return [
        ('boot ran', check_boot_ran(b)),
        ('kernel driver binds', check_kernel_bind(b)),
        ('kernel driver workload', check_steps_ok(b, 'kernel')),
        ('kernel driver: one chunk each way',
         check_unchunked(b, 'kernel')),
        ('chunked driver workload', check_steps_ok(b, 'chunked')),
        ('chunked driver: chunks and responses',
         check_chunked(b, 'chunked', False)),
        ('4096-byte command in two chunks', check_big(b)),
    ]


def checks_for_boot2(b):
    return [
        ('boot ran', check_boot_ran(b)),
        ('chunked driver workload at W=%d' % b.window,
         check_steps_ok(b, 'chunked')),
        ('chunked driver: chunks and responses at W=%d' % b.window,
         check_chunked(b, 'chunked', True)),
        ('4096-byte command at W=%d' % b.window, check_big(b)),
    ]


def summarize(results):
    failed = [(n, bad) for n, bad in results if bad]
    for n, bad in failed:
        for why in bad:
            print('FAILED: %s: %s' % (n, why))
    return not failed


def cmd_run(o):
    b1, b2 = boots_for(o.qemu)
    results = []
    for b, checks in ((b1, checks_for_boot1), (b2, checks_for_boot2)):
        run_boot(b, o.guest, o.work)
        report_boot(b)
        results += [('boot %s: %s' % (b.name, n), bad)
                    for n, bad in checks(b)]
    total = [c for b in (b1, b2) for ph in ('chunked', 'big')
             for c in driver_cmds(b, ph)]
    multi = [c for c in total if c['chunks_in'] > 1 or c['chunks_out'] > 1]
    print('SUMMARY: %d commands through the kernel driver, %d through the '
          'chunked driver (%d of them in more than one chunk, at most %d in '
          'and %d out); %d checks, %d failed' % (
              len(device_cmds(b1, 'kernel')), len(total), len(multi),
              max(c['chunks_in'] for c in total) if total else 0,
              max(c['chunks_out'] for c in total) if total else 0,
              len(results), sum(1 for _, bad in results if bad)))
    ok = summarize(results)
    print('VERDICT: %s - a Linux guest, twice: its own tpm_crb driver and '
          'the chunked driver on tpm-crb with a real swtpm' %
          ('PASS' if ok else 'FAIL'))
    return 0 if ok else 1


def tap(results):
    print('1..%d' % len(results))
    for i, (name, bad) in enumerate(results, 1):
        if bad is None:
            print('ok %d %s # SKIP' % (i, name))
            continue
        print('%s %d %s' % ('not ok' if bad else 'ok', i, name))
        for why in bad:
            print('# %s' % why)


def seabios_small_window(b):
    """
    SeaBIOS at a 64-byte window: its own size check refuses its
    measurements (PCR_Extend of every bank does not fit), so it
    disables the hierarchies (HierarchyControl) and the owner hierarchy
    answers TPM_RC_HIERARCHY (0x185) to the guest.
    """
    bad = check_boot_ran(b)
    fw = [cc_name(c['cc']) for c in device_cmds(b, 'boot')]
    if 'PCR_Extend' in fw:
        bad.append('SeaBIOS extended a PCR through a 64-byte window')
    if 'HierarchyControl' not in fw:
        bad.append('SeaBIOS did not disable the hierarchies (%s)' % fw)
    st = dict(steps(b, 'firmware'))
    rcs = [a['rc'] for a in driver_cmds(b, 'firmware')
           if a['name'] == 'CreatePrimary']
    if st.get('pcrread-0') != 0:
        bad.append('PCR 0 could not be read')
    if rcs != [0x185]:
        bad.append('CreatePrimary(owner) answered %s, not 0x185' % rcs)
    return bad


def cmd_check(o):
    results = []
    b1, b2 = boots_for(o.qemu)
    b3 = Boot('3', o.qemu, 64, SEABIOS, ['firmware'], True)
    for b in (b1, b2, b3):
        run_boot(b, o.guest, o.work)
        report_boot(b)
    results += [('patched boot 1: ' + n, bad)
                for n, bad in checks_for_boot1(b1)]
    results += [('patched boot 2: ' + n, bad)
                for n, bad in checks_for_boot2(b2)]
    results.append(('SeaBIOS at W=64 refuses its measurements and disables '
                    'the owner hierarchy', seabios_small_window(b3)))
    if not o.stock or not os.access(o.stock, os.X_OK):
        results.append(('stock QEMU: the same workload (no stock peer: '
                        'make stock)', None))
    else:
        s = Boot('stock', o.stock, W_FULL, SEABIOS,
                 ['kernel', 'unbind', 'chunked'], False, trace=False,
                 chunking=False)
        run_boot(s, o.guest, o.work)
        report_boot(s)
        results.append(('stock boot: ran, kernel driver binds',
                        check_boot_ran(s) + check_kernel_bind(s)))
        results.append(('stock and patched: the same tool results',
                        compare_steps(b1, s)))
        results.append(('stock and patched: the same response codes '
                        'through the project\'s driver',
                        compare_rcs(b1, s)))
        results.append(('stock and patched: the same PCR 0 after SeaBIOS',
                        compare_pcr0(b1, s)))
    results += self_check(b1)
    tap(results)
    return 0 if all(not bad for _, bad in results) else 1


def self_check(b1):
    """
    The checks catch what they are there for: each deliberate fault below,
    put into a copy of boot 1's real record, must make its check fail.
    """
    def caught(name, fault, check):
        b = copy.deepcopy(b1)
        if not fault(b):
            return ('self-check: %s (nothing to break)' % name,
                    ['boot 1 has no record to put the fault in'])
        return ('self-check: %s is caught' % name,
                [] if check(b) else ['the check passed anyway'])

    def broken_chunk(b):
        # the device took one chunk more than the driver wrote
        for c in b.commands:
            if c['phase'] == 'chunked':
                c['chunks_in'] += 1
                return True
        return False

    def broken_response(b):
        # a response code that the driver saw differs from the TPM's
        for c in b.commands:
            if c['phase'] == 'chunked' and c['rc'] == 0:
                c['rc'] = 0x101
                return True
        return False

    def broken_bind(b):
        n = len(b.lines)
        b.lines = [(t, x) for t, x in b.lines if x != '@@ node /dev/tpmrm0']
        return len(b.lines) < n

    return [
        caught('a broken chunk', broken_chunk,
               lambda b: check_chunked(b, 'chunked', False)),
        caught('a broken response', broken_response,
               lambda b: check_chunked(b, 'chunked', False)),
        caught('a failed kernel driver bind', broken_bind,
               check_kernel_bind),
    ]


def compare_steps(a, b):
    bad = []
    for ph in ('kernel', 'chunked'):
        if steps(a, ph) != steps(b, ph):
            bad.append('%s: %s vs %s' % (ph, steps(a, ph), steps(b, ph)))
    return bad


def compare_rcs(a, b):
    # TPM_RC_RETRY comes and goes with the TPM's key generation
    def rcs(boot):
        return [(c['cc'], c['rc']) for c in driver_cmds(boot, 'chunked')
                if c['rc'] != TPM_RC_RETRY]
    ra, rb = rcs(a), rcs(b)
    if not ra:
        return ['no command through the project\'s driver']
    return [] if ra == rb else ['%d commands vs %d; first difference at %d'
                                % (len(ra), len(rb),
                                   next((i for i, (x, y) in
                                         enumerate(zip(ra, rb)) if x != y),
                                        min(len(ra), len(rb))))]


def compare_pcr0(a, b):
    pa, pb = pcrs(a, 'kernel').get(0), pcrs(b, 'kernel').get(0)
    if not pa:
        return ['PCR 0 was not read']
    if set(pa) == {'0'}:
        return ['PCR 0 is all zeros: SeaBIOS measured nothing']
    return [] if pa == pb else ['PCR 0: %s vs %s' % (pa, pb)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['run', 'check'])
    ap.add_argument('--qemu', required=True)
    ap.add_argument('--stock')
    ap.add_argument('--guest', required=True)
    ap.add_argument('--work', required=True)
    o = ap.parse_args()
    for f in ('vmlinuz', 'initramfs.gz'):
        if not os.path.exists(os.path.join(o.guest, f)):
            print('guest-run: %s/%s is missing (scripts/guest-image.sh)'
                  % (o.guest, f), file=sys.stderr)
            return 2
    os.makedirs(o.work, exist_ok=True)
    if o.mode == 'run':
        return cmd_run(o)
    global SAY_PREFIX
    SAY_PREFIX = '# '
    return cmd_check(o)


if __name__ == '__main__':
    sys.exit(main())
