#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The patch series: patches/series lists, one commit per line, a patch
# file (a mail as git format-patch writes it: the commit message and the
# change to QEMU's own files) followed by the tree files that the commit
# adds or replaces. Lines starting with '#' are comments.
#
# Copyright (c) 2026 The tpm-crb-chunk authors
#
#   series.py inputs            every file the series is made of
#   series.py apply WORKTREE    apply it as commits on WORKTREE's HEAD
#   series.py export DEVTREE    write patches/ from DEVTREE's commits
#                               base..HEAD (the tree files left out)
#   series.py mail REPO OUTDIR  the series as mails with a cover letter

import os
import shutil
import subprocess
import sys

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATCHES = os.path.join(SRC, 'patches')

# Fixed identity and dates: the same inputs give the same commits.
GIT_ENV = {
    'GIT_COMMITTER_NAME': 'The tpm-crb-chunk authors',
    'GIT_COMMITTER_EMAIL': 'tpm-crb-chunk@invalid',
    'GIT_COMMITTER_DATE': '2026-12-01T00:00:00Z',
}


def die(msg):
    sys.stderr.write('series: %s\n' % msg)
    sys.exit(1)


def read_series():
    entries = []
    with open(os.path.join(PATCHES, 'series')) as f:
        text = f.read().replace('\\\n', ' ')
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split('#', 1)[0].split()
        if not words:
            continue
        patch, files = words[0], words[1:]
        if not os.path.isfile(os.path.join(PATCHES, patch)):
            die('patches/series:%d: no such patch %s' % (n, patch))
        for path in files:
            if not os.path.isfile(os.path.join(SRC, path)):
                die('patches/series:%d: no such tree file %s' % (n, path))
        entries.append((patch, files))
    return entries


def git(tree, *args, **kw):
    env = dict(os.environ, **GIT_ENV)
    return subprocess.run(['git', '-C', tree] + list(args), env=env,
                          check=True, **kw)


def cmd_inputs():
    print(os.path.join(PATCHES, 'series'))
    for patch, files in read_series():
        print(os.path.join(PATCHES, patch))
        for path in files:
            print(os.path.join(SRC, path))


def cmd_apply(tree):
    for patch, files in read_series():
        try:
            git(tree, 'am', '-q', '--keep-cr', '--committer-date-is-author-date',
                os.path.join(PATCHES, patch))
        except subprocess.CalledProcessError:
            git(tree, 'am', '--abort')
            die('%s does not apply' % patch)
        if files:
            for path in files:
                dst = os.path.join(tree, path)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copyfile(os.path.join(SRC, path), dst)
            git(tree, 'add', '--', *files)
            git(tree, 'commit', '-q', '--amend', '--no-edit',
                '--allow-empty')
        sys.stderr.write('series: applied %s%s\n' %
                         (patch, ' + %d tree files' % len(files)
                          if files else ''))


def cmd_export(tree):
    entries = read_series()
    revs = git(tree, 'rev-list', '--reverse', 'base..HEAD',
               capture_output=True, text=True).stdout.split()
    if len(revs) != len(entries):
        die('%s has %d commits on base, patches/series lists %d' %
            (tree, len(revs), len(entries)))
    for rev, (patch, files) in zip(revs, entries):
        excl = [':(exclude)' + p for p in files]
        out = git(tree, 'format-patch', '--stdout', '--no-signature',
                  '--zero-commit', '-1', rev, '--', '.', *excl,
                  capture_output=True, text=True).stdout
        with open(os.path.join(PATCHES, patch), 'w') as f:
            f.write(out)
        sys.stderr.write('series: wrote patches/%s\n' % patch)


def cmd_mail(repo, outdir):
    outdir = os.path.abspath(outdir)
    if os.path.isdir(outdir):
        shutil.rmtree(outdir)
    git(repo, 'format-patch', '-q', '--cover-letter', '--no-signature',
        '--zero-commit', '-o', outdir, 'base..HEAD')
    with open(os.path.join(PATCHES, 'cover-letter')) as f:
        subject, _, blurb = f.read().partition('\n')
    cover = os.path.join(outdir, '0000-cover-letter.patch')
    with open(cover) as f:
        text = f.read()
    text = text.replace('*** SUBJECT HERE ***', subject.strip())
    text = text.replace('*** BLURB HERE ***', blurb.strip())
    with open(cover, 'w') as f:
        f.write(text)
    sign_mails(outdir)
    for name in sorted(os.listdir(outdir)):
        print(os.path.join(outdir, name))


def git_identity():
    """'Name <email>' from git's user.name and user.email, or None."""
    values = []
    for key in ('user.name', 'user.email'):
        r = subprocess.run(['git', '-C', SRC, 'config', key],
                           capture_output=True, text=True)
        values.append(r.stdout.strip())
    if not all(values):
        return None
    return '%s <%s>' % tuple(values)


def sign_mails(outdir):
    """
    The mails go out from whoever runs this, with their Signed-off-by
    (git's user.name and user.email); without an identity they stay
    unsigned, and this says so.
    """
    ident = git_identity()
    if not ident:
        sys.stderr.write('series: git user.name or user.email is not set: '
                         'the mails are not signed\n')
        return
    for name in sorted(os.listdir(outdir)):
        path = os.path.join(outdir, name)
        with open(path) as f:
            head, sep, rest = f.read().partition('\n---\n')
        lines = head.split('\n')
        for i, line in enumerate(lines):
            if line.startswith('From: '):
                lines[i] = 'From: ' + ident
                break
        head = '\n'.join(lines)
        if not name.startswith('0000-'):
            head = head.rstrip('\n') + '\n\nSigned-off-by: ' + ident
        with open(path, 'w') as f:
            f.write(head + sep + rest)
    sys.stderr.write('series: mails from and signed off by %s\n' % ident)


def main(argv):
    if len(argv) >= 1 and argv[0] == 'inputs':
        cmd_inputs()
    elif len(argv) == 2 and argv[0] == 'apply':
        cmd_apply(argv[1])
    elif len(argv) == 2 and argv[0] == 'export':
        cmd_export(argv[1])
    elif len(argv) == 3 and argv[0] == 'mail':
        cmd_mail(argv[1], argv[2])
    else:
        die('usage: series.py inputs | apply TREE | export TREE | '
            'mail REPO OUTDIR')


if __name__ == '__main__':
    main(sys.argv[1:])
