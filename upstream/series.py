#!/usr/bin/env python3
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The patch series on upstream Nova 34.0.0, applied and tested.

Everything upstream is fetched at run time into ``.upstream/`` (ignored by
git) and never committed:

``fetch``
    Downloads the nova 34.0.0 sdist from the package index (``pip
    download``) and checks it against the SHA-256 in ``SHA256SUMS``; a
    mismatch stops everything.
``prepare``
    Unpacks it into ``.upstream/base`` as one git commit ("nova 34.0.0 as
    released"), and clones that into ``.upstream/series``, where ``git am``
    applies ``patches/*.patch`` in name order.
``venv``
    Creates ``.upstream/venv`` with upstream's requirements and test
    requirements, SQLAlchemy below 2.1 (2.1's deprecations are errors under
    Nova's warnings fixture), libvirt-python and openstack-placement (for
    the functional tests). The trees are run from their own directories, so
    one environment serves both.
``test``
    Runs upstream's own suites (``--suites ci`` or ``full``) in the
    unpatched and the patched tree and prints pass/fail counts side by
    side, then this repository's real-hypervisor functional tests
    (``functional/``) against the patched tree. Exit status 1 when the
    patched side has any failure.
``bisect``
    Applies the patches one at a time and runs the ``ci`` suites after each
    (every prefix of the series must pass).
``all``
    fetch, prepare, venv and test.
"""

import argparse
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
WORK = os.environ.get('NOVA_RT_UPSTREAM_DIR', os.path.join(REPO, '.upstream'))
PATCHES = os.path.join(HERE, 'patches')
FUNCTIONAL = os.path.join(HERE, 'functional')
SUMS = os.path.join(HERE, 'SHA256SUMS')
SDIST = 'nova-34.0.0.tar.gz'
REQUIREMENT = 'nova==34.0.0'
TREE_NAME = 'nova-34.0.0'
EXTRA_REQUIREMENTS = ['SQLAlchemy<2.1', 'libvirt-python',
                      'openstack-placement>=16.0.0', 'waitress']
GIT_ID = ['-c', 'user.name=nova 34.0.0', '-c', 'user.email=nova@localhost']

UNIT = 'nova/tests/unit'
FUNC = 'nova/tests/functional'
# (test path, stestr filter) per suite. ``ci`` is the real-time and NUMA
# part CI runs on every change; ``full`` is every suite the series touches.
SUITES = {
    'ci': [
        (UNIT, r'nova\.tests\.unit\.virt\.test_hardware'),
        (UNIT, r'nova\.tests\.unit\.virt\.libvirt\.test_config'),
        (UNIT, r'nova\.tests\.unit\.api\.validation\.extra_specs'),
        (UNIT, r'nova\.tests\.unit\.scheduler\.'
               r'(filters\.test_numa_topology_filters|test_host_filters)'),
        (UNIT, r'nova\.tests\.unit\.compute\.test_claims'),
        (UNIT, r'nova\.tests\.unit\.virt\.libvirt\.test_driver\.'
               r'.*([Rr]ealtime|[Rr]eal_time|NUMA|[Nn]uma|[Mm]emtune|'
               r'[Ll]ocked|[Pp]mu|[Pp]reflight)'),
        (FUNC, r'nova\.tests\.functional\.libvirt\.test_rt_servers'),
        (FUNC, r'nova\.tests\.functional\.libvirt\.test_numa_servers'),
    ],
    'full': [
        (UNIT, r'nova\.tests\.unit\.virt\.test_hardware'),
        (UNIT, r'nova\.tests\.unit\.virt\.libvirt\.'
               r'(test_config|test_driver|test_host|test_migration)\.'),
        (UNIT, r'nova\.tests\.unit\.objects'),
        (UNIT, r'nova\.tests\.unit\.api\.validation\.extra_specs'),
        (UNIT, r'nova\.tests\.unit\.api\.openstack\.compute\.test_servers\.'),
        (UNIT, r'nova\.tests\.unit\.scheduler'),
        (UNIT, r'nova\.tests\.unit\.compute\.'
               r'(test_claims|test_resource_tracker|test_api)\.'),
        (FUNC, r'nova\.tests\.functional\.libvirt\.'
               r'(test_rt_servers|test_numa_servers|test_pci_sriov_servers)'),
    ],
}


class Failed(Exception):
    pass


def say(text):
    print('upstream: %s' % text, flush=True)


def run(cmd, cwd=None, env=None, log=None, check=True, timeout=None):
    if log is None:
        result = subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    else:
        with open(log, 'w') as out:
            result = subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    text=True)
    if check and result.returncode != 0:
        tail = result.stdout if log is None else open(log).read()
        raise Failed('%s failed (exit %d):\n%s' % (
            ' '.join(cmd), result.returncode, tail[-4000:]))
    return result


def pinned_sha256():
    with open(SUMS) as f:
        for line in f:
            fields = line.split()
            if len(fields) == 2 and fields[1] == SDIST:
                return fields[0]
    raise Failed('%s has no line for %s' % (SUMS, SDIST))


def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def base_python():
    return getattr(sys, '_base_executable', sys.executable)


def fetch():
    dist = os.path.join(WORK, 'dist')
    path = os.path.join(dist, SDIST)
    want = pinned_sha256()
    if not os.path.exists(path):
        os.makedirs(dist, exist_ok=True)
        say('downloading %s (sdist)' % REQUIREMENT)
        run([base_python(), '-m', 'pip', 'download', '-q', '--no-deps',
             '--no-binary', ':all:', '-d', dist, REQUIREMENT])
    got = sha256(path)
    if got != want:
        os.rename(path, path + '.rejected')
        raise Failed('%s has SHA-256 %s, %s pins %s: refused (moved to '
                     '%s.rejected)' % (path, got, SUMS, want, path))
    say('%s SHA-256 %s matches %s' % (SDIST, got, os.path.relpath(SUMS,
                                                                   REPO)))
    return path


def patch_files():
    return sorted(os.path.join(PATCHES, name)
                  for name in os.listdir(PATCHES) if name.endswith('.patch'))


def unpack(sdist, dest):
    if os.path.exists(dest):
        shutil.rmtree(dest)
    tmp = dest + '.tmp'
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    os.makedirs(tmp)
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp, filter='data')
    os.rename(os.path.join(tmp, TREE_NAME), dest)
    os.rmdir(tmp)
    run(['git', 'init', '-q', dest])
    with open(os.path.join(dest, '.git', 'info', 'exclude'), 'a') as f:
        f.write('.stestr/\n*.pyc\n__pycache__/\n')
    run(['git', 'add', '-A'], cwd=dest)
    run(['git'] + GIT_ID + ['commit', '-q', '-m', 'nova 34.0.0 as released'],
        cwd=dest)


def apply_series(base, dest, patches):
    if os.path.exists(dest):
        shutil.rmtree(dest)
    run(['git', 'clone', '-q', base, dest])
    for patch in patches:
        result = run(['git'] + GIT_ID + ['am', '-q', '--keep-cr', patch],
                     cwd=dest, check=False)
        if result.returncode != 0:
            run(['git', 'am', '--abort'], cwd=dest, check=False)
            raise Failed('git am %s failed:\n%s' % (
                os.path.basename(patch), result.stdout[-4000:]))


def prepare(sdist):
    base = os.path.join(WORK, 'base')
    unpack(sdist, base)
    patches = patch_files()
    apply_series(base, os.path.join(WORK, 'series'), patches)
    say('applied %d patches onto nova 34.0.0 in %s' % (
        len(patches), os.path.relpath(os.path.join(WORK, 'series'), REPO)))


def venv_python():
    return os.path.join(WORK, 'venv', 'bin', 'python')


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('PYTHON', 'VIRTUAL_ENV', 'OS_', 'TOX_'))}
    return env


def make_venv():
    venv = os.path.join(WORK, 'venv')
    stamp = os.path.join(venv, '.nova-34.0.0-ready')
    base = os.path.join(WORK, 'base')
    if os.path.exists(stamp):
        return
    if os.path.exists(venv):
        shutil.rmtree(venv)
    say('creating %s (upstream requirements; a few minutes)' %
        os.path.relpath(venv, REPO))
    run([base_python(), '-m', 'venv', venv])
    pip = [venv_python(), '-m', 'pip', 'install', '-q']
    env = clean_env()
    run(pip + ['-U', 'pip'], env=env)
    run(pip + ['-r', os.path.join(base, 'requirements.txt'),
               '-r', os.path.join(base, 'test-requirements.txt')]
        + EXTRA_REQUIREMENTS, env=env, cwd=WORK)
    # Its entry points (and version metadata); the trees themselves are
    # imported from their own directories when their tests run.
    run(pip + ['--no-deps', '-e', base], env=dict(env, PBR_VERSION='34.0.0'),
        cwd=WORK)
    open(stamp, 'w').close()


TOTALS = re.compile(r'^ - (Passed|Failed|Skipped|Expected Fail|'
                    r'Unexpected Success): (\d+)$', re.M)
STATUS = {'success': 'Passed', 'xfail': 'Passed', 'skip': 'Skipped',
          'fail': 'Failed', 'uxsuccess': 'Failed'}


def test_env():
    env = clean_env()
    env.update(OS_NOVA_DISABLE_EVENTLET_PATCHING='False',
               OS_STDOUT_CAPTURE='1', OS_STDERR_CAPTURE='1',
               OS_LOG_CAPTURE='1', OS_TEST_TIMEOUT='160',
               PYTHONDONTWRITEBYTECODE='1', LC_ALL='C.UTF-8')
    return env


def run_suites(tree, suites, label, concurrency):
    """Run ``suites`` ((test path, regex) pairs) in ``tree``.

    One stestr run per test path (test discovery imports the whole tree,
    so it is done once), then every test's status from the run's subunit
    stream is counted under the first suite whose regex matches its id.
    Returns {regex: counts}.
    """
    logs = os.path.join(WORK, 'logs')
    os.makedirs(logs, exist_ok=True)
    env = test_env()
    results = {regex: {'Passed': 0, 'Failed': 0, 'Skipped': 0,
                       'seconds': 0.0, 'failing': []}
               for _path, regex in suites}
    paths = []
    for path, _regex in suites:
        if path not in paths:
            paths.append(path)
    for path in paths:
        regexes = [regex for p, regex in suites if p == path]
        log = os.path.join(logs, '%s-%s.log' % (label, path.replace('/',
                                                                    '_')))
        stestr = [venv_python(), '-m', 'stestr', '--test-path', path]
        start = time.monotonic()
        run(stestr + ['run', '--concurrency', str(concurrency),
                      '|'.join('(?:%s)' % r for r in regexes)],
            cwd=tree, env=env, log=log, check=False)
        seconds = time.monotonic() - start
        csv = subprocess.run(
            '%s -m stestr last --subunit | %s' % (
                venv_python(), os.path.join(WORK, 'venv', 'bin',
                                            'subunit2csv')),
            shell=True, cwd=tree, env=env, capture_output=True,
            text=True).stdout
        seen = 0
        for line in csv.splitlines()[1:]:
            test_id, _sep, rest = line.partition(',')
            status = rest.split(',', 1)[0]
            test_id = test_id.split('[', 1)[0]
            regex = next((r for r in regexes if re.search(r, test_id)),
                         None)
            if regex is None or status not in STATUS:
                continue
            seen += 1
            results[regex][STATUS[status]] += 1
            if STATUS[status] == 'Failed':
                results[regex]['failing'].append(test_id)
        for regex in regexes:
            results[regex]['seconds'] = seconds / len(regexes)
            results[regex]['log'] = log
            if not seen:
                results[regex]['Failed'] += 1
                results[regex]['error'] = 'no test ran: see %s' % log
    return results


def run_functional(tree, label):
    """This repository's real-hypervisor tests against ``tree``."""
    if not os.path.isdir(FUNCTIONAL):
        return None
    logs = os.path.join(WORK, 'logs')
    os.makedirs(logs, exist_ok=True)
    log = os.path.join(logs, '%s.log' % label)
    env = clean_env()
    # The series' behaviour (hard limit, preflight fault) is expected:
    # the tests that skip on unpatched Nova fail if it is missing.
    env.update(PYTHONPATH=tree, OS_NOVA_DISABLE_EVENTLET_PATCHING='False',
               NOVA_RT_EXPECT_SERIES='1',
               NOVA_REALTIME=os.environ.get(
                   'NOVA_REALTIME',
                   os.path.join(REPO, '.venv', 'bin', 'nova-realtime')),
               LC_ALL='C.UTF-8')
    start = time.monotonic()
    run([venv_python(), '-m', 'stestr', 'run', '--concurrency', '1'],
        cwd=FUNCTIONAL, env=env, log=log, check=False)
    counts = {k: int(v) for k, v in TOTALS.findall(open(log).read())}
    counts['seconds'] = time.monotonic() - start
    if not counts.get('Passed') and not counts.get('Failed'):
        counts['Failed'] = 1
        counts['error'] = 'no totals: see %s' % log
    counts['log'] = log
    return counts


def tree_python():
    """An interpreter that imports this tree (nova-realtime)."""
    if os.environ.get('NOVA_RT_PYTHON'):
        return os.environ['NOVA_RT_PYTHON']
    if importlib.util.find_spec('nova') is not None and \
            importlib.util.find_spec('nova.virt.hardware_parse') is not None:
        return sys.executable
    return os.path.join(REPO, '.venv', 'bin', 'python')


def run_compare(tree, label):
    """This tree's rules against the patched upstream's, on the same cases.

    Every difference must be one compare.py's DESIGN table lists and the
    series does not carry; the cases compared count as passed, unexpected
    differences as failed.
    """
    logs = os.path.join(WORK, 'logs')
    os.makedirs(logs, exist_ok=True)
    log = os.path.join(logs, '%s.log' % label)
    start = time.monotonic()
    result = run([tree_python(),
                  os.path.join(REPO, 'tools', 'upstream-compare',
                               'compare.py'),
                  '--series', '--upstream-python', venv_python(),
                  '--upstream-tree', tree], log=log, check=False)
    text = open(log).read()
    total = re.search(r'^total\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)', text,
                      re.M)
    counts = {'seconds': time.monotonic() - start, 'log': log,
              'Skipped': 0}
    if total:
        cases, _agree, _design, unexpected = map(int, total.groups())
        counts.update(Passed=cases - unexpected, Failed=unexpected)
    else:
        counts.update(Passed=0, Failed=1, error='no totals: see %s' % log)
    if result.returncode and not counts['Failed']:
        counts.update(Failed=1, error='exit %d: see %s' % (
            result.returncode, log))
    return counts


def fmt(counts):
    if counts is None:
        return 'not run'
    text = '%4d passed %3d failed %3d skipped %6.0f s' % (
        counts.get('Passed', 0), counts.get('Failed', 0),
        counts.get('Skipped', 0), counts['seconds'])
    return text


def test(suites, sides, concurrency):
    trees = {'base': os.path.join(WORK, 'base'),
             'series': os.path.join(WORK, 'series')}
    by_side = {}
    for side in sides:
        say('%s: %d suites' % ('without the series' if side == 'base'
                               else 'with the series', len(SUITES[suites])))
        by_side[side] = run_suites(trees[side], SUITES[suites], side,
                                   concurrency)
    results = [(regex, {side: by_side[side][regex] for side in sides})
               for _path, regex in SUITES[suites]]
    if 'series' in sides:
        say('series: real LibvirtDriver on qemu:///system (functional/)')
        results.append(('functional/ (real hypervisor)', {
            'series': run_functional(trees['series'], 'series-realhv')}))
        say('series: the same rules in this tree and in the series '
            '(tools/upstream-compare/compare.py --series)')
        results.append(('tree vs series (compare.py --series, cases)', {
            'series': run_compare(trees['series'], 'series-compare')}))
    print()
    print('%-66s %s' % ('suite', '   '.join(
        '%-38s' % ('without the series' if s == 'base' else 'with it')
        for s in sides)))
    total = {s: {'Passed': 0, 'Failed': 0, 'Skipped': 0, 'seconds': 0.0}
             for s in sides}
    for name, row in results:
        print('%-66s %s' % (name[:66], '   '.join(
            '%-38s' % fmt(row.get(s)) for s in sides)))
        for s in sides:
            for key in total[s]:
                if row.get(s):
                    total[s][key] += row[s].get(key, 0)
    print('%-66s %s' % ('total', '   '.join('%-38s' % fmt(total[s])
                                             for s in sides)))
    failed = False
    for name, row in results:
        for side, counts in row.items():
            if counts and counts.get('Failed'):
                if side == 'series':
                    failed = True
                print('\n%s, %s: %s' % (
                    'with the series' if side == 'series' else 'without',
                    name, counts.get('error', 'log: %s' % counts['log'])))
                for test_id in counts.get('failing', [])[:50]:
                    print('  FAILED %s' % test_id)
    # The closing line CI reads.
    if 'series' in sides:
        print('\n%d passed, %d failed' % (total['series']['Passed'],
                                          total['series']['Failed']))
    return 1 if failed else 0


def bisect(sdist, concurrency):
    base = os.path.join(WORK, 'base')
    unpack(sdist, base)
    make_venv()
    patches = patch_files()
    status = 0
    for count in range(1, len(patches) + 1):
        dest = os.path.join(WORK, 'series')
        apply_series(base, dest, patches[:count])
        say('after %s' % os.path.basename(patches[count - 1]))
        found = run_suites(dest, SUITES['ci'], 'bisect-%02d' % count,
                           concurrency)
        for _path, regex in SUITES['ci']:
            counts = found[regex]
            print('  %-60s %s' % (regex[:60], fmt(counts)))
            if counts.get('Failed'):
                status = 1
                for test_id in counts.get('failing', [])[:20]:
                    print('    FAILED %s' % test_id)
    print('\n%s' % ('every prefix passes' if status == 0 else
                    'a prefix of the series fails'))
    return status


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Apply upstream/patches onto nova 34.0.0 and run '
                    "upstream's tests without and with them.")
    parser.add_argument('step', choices=['fetch', 'prepare', 'venv', 'test',
                                         'bisect', 'all'])
    parser.add_argument('--suites', choices=sorted(SUITES), default='full')
    parser.add_argument('--side', choices=['base', 'series', 'both'],
                        default='both')
    parser.add_argument('--concurrency', type=int,
                        default=min(os.cpu_count() or 1, 4))
    args = parser.parse_args(argv)
    sides = ['base', 'series'] if args.side == 'both' else [args.side]
    try:
        if args.step == 'fetch':
            fetch()
            return 0
        if args.step in ('prepare', 'all'):
            prepare(fetch())
        if args.step == 'venv' and not os.path.isdir(
                os.path.join(WORK, 'base')):
            prepare(fetch())
        if args.step in ('venv', 'all'):
            make_venv()
        if args.step in ('test', 'all'):
            return test(args.suites, sides, args.concurrency)
        if args.step == 'bisect':
            return bisect(fetch(), args.concurrency)
    except Failed as e:
        print('ERROR: %s' % e, file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
