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

"""Section 3: whole-process wall time of ``nova-realtime plan``.

What an operator waits for: interpreter start, imports, oslo.config, a
libvirt connection to the embedded test driver, validation, fit and XML.
``python -c pass`` is timed the same way for scale.
"""

import os
import statistics
import subprocess
import sys
import tempfile

TARGET_S = 0.35
TARGET_RSS_BYTES = 80 << 20

PLAN_ARGS = ['-m', 'nova.cmd.realtime', 'plan', '--vcpus', '4', '--ram',
             '1024', '--property', 'hw:cpu_policy=dedicated', '--property',
             'hw:cpu_realtime=yes', '--connection', 'test:///default']

# The tree holding the nova package (so ``-m nova.cmd.realtime`` finds it).
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))


# Run by ``python -S -c`` between the bench and each measured process: it
# starts the command with posix_spawn and reaps it with os.wait4 (argv:
# result file, timeout s, address-space limit bytes or 0, the command).
# The rusage of a process counts the resident set of whatever it was
# forked from up to its exec (Linux carries the old memory's high-water
# mark into ru_maxrss at exec), so a command spawned straight from the
# bench, which holds the fit section's host topologies (90 MiB and more),
# reported the bench's size: "python -c pass" at 92 MiB. Spawned from this
# small launcher, only the launcher's few MiB can leak into the number.
LAUNCHER = r"""
import os, sys, time
out, timeout, limit = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
argv = sys.argv[4:]
if limit:
    import resource
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        pass
start = time.perf_counter()
pid = os.posix_spawn(argv[0], argv, os.environ)
deadline = start + timeout
while True:
    done, status, usage = os.wait4(pid, os.WNOHANG)
    if done:
        break
    if time.perf_counter() > deadline:
        os.kill(pid, 9)
        done, status, usage = os.wait4(pid, 0)
        break
    time.sleep(0.001)
wall = time.perf_counter() - start
with open(out, "w") as f:
    f.write("%d %r %d %r" % (os.waitstatus_to_exitcode(status), wall,
                             usage.ru_maxrss * 1024,
                             usage.ru_utime + usage.ru_stime))
"""


def spawn(args, root=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=None,
          timeout=600.0, address_space=0, env=None):
    """Run ``python args`` in ``root`` through LAUNCHER.

    Returns (exit status, wall seconds of the command alone, its peak RSS
    in bytes, its CPU seconds: user + system, which other load on the
    machine inflates less than the wall time).
    """
    with tempfile.NamedTemporaryFile(mode='r') as result:
        subprocess.run([sys.executable, '-S', '-c', LAUNCHER, result.name,
                        str(timeout), str(address_space), sys.executable] +
                       list(args), cwd=root, stdout=stdout, stderr=stderr,
                       check=True, env=env)
        status, wall, rss, cpu = result.read().split()
    return int(status), float(wall), int(rss), float(cpu)


def _wall(args, runs, root=REPO_ROOT, rss=None, cpu=None, env=None):
    """Wall times of ``runs`` processes; their peak RSS appended to rss,
    their CPU seconds to cpu.

    Each command runs under LAUNCHER (see there why not straight from
    here), which reaps it with os.wait4: the rusage is that process's own.
    """
    times = []
    failure = None
    for _ in range(runs):
        with tempfile.TemporaryFile(mode='w+') as err:
            status, wall, peak, seconds = spawn(args, root, stderr=err,
                                                env=env)
            times.append(wall)
            if rss is not None:
                rss.append(peak)
            if cpu is not None:
                cpu.append(seconds)
            if status != 0:
                err.seek(0)
                tail = err.read().strip().splitlines()[-5:]
                failure = 'exit %d: %s' % (status, ' | '.join(tail))
                break
    return times, failure


def bytecode_env(cache_dir):
    """os.environ for commands that read and write compiled bytecode.

    An installed nova-realtime runs from compiled bytecode (pip compiles
    on install). A tree run with PYTHONDONTWRITEBYTECODE (as some shells
    and CI set) compiles every module of its own on every run instead,
    some 0.1 s that no operator pays; so the children write their
    bytecode, under PYTHONPYCACHEPREFIX ``cache_dir`` (nothing is written
    into the trees), and an untimed first run of each command fills it.
    """
    env = dict(os.environ, PYTHONPYCACHEPREFIX=cache_dir)
    env.pop('PYTHONDONTWRITEBYTECODE', None)
    return env


def run(runs=5, ref_root=None, ref=None):
    """Whole-process plan, here and (``ref_root``) in the release's tree.

    Peak RSS is the largest of a command's runs (ru_maxrss of each); CPU
    is user + system time, the median of the runs. Each command runs once
    untimed first (bytecode_env).
    """
    with tempfile.TemporaryDirectory(prefix='nova-rt-bench-pyc-') as cache:
        return _run(runs, ref_root, ref, bytecode_env(cache))


def _run(runs, ref_root, ref, env):
    results = []
    jobs = [('python -c pass', ['-c', 'pass'], REPO_ROOT),
            ('nova-realtime plan (test:///default)', PLAN_ARGS, REPO_ROOT)]
    if ref_root:
        jobs.append(('plan, release %s' % ref[:12], PLAN_ARGS, ref_root))
    for label, args, root in jobs:
        rss = []
        cpu = []
        try:
            _wall(args, 1, root, env=env)
            times, failure = _wall(args, runs, root, rss, cpu, env=env)
        except (OSError, subprocess.TimeoutExpired) as e:
            times, failure = [], '%s: %s' % (type(e).__name__, e)
        results.append({
            'peak_rss_bytes': max(rss) if rss else None,
            'command': label,
            'argv': ['python'] + args,
            'runs': len(times),
            'median_s': statistics.median(times) if times else None,
            'min_s': min(times) if times else None,
            'max_s': max(times) if times else None,
            'cpu_median_s': statistics.median(cpu) if cpu else None,
            'error': failure,
        })
    return results


HEADERS = ['command', '>runs', '>median s', '>min s', '>max s',
           '>CPU median s', '>peak RSS MiB', '>median vs release',
           '>CPU vs release', 'target', 'verdict']


def _s(value):
    return '-' if value is None else '%.3f' % value


def rows(results):
    ref = next((r for r in results if r['command'].startswith('plan, '
                                                              'release')),
               None)
    for r in results:
        is_plan = 'plan' in r['command']
        if r['error']:
            verdict = 'ERROR'
        elif is_plan:
            verdict = 'PASS' if r['median_s'] <= TARGET_S and \
                (r['peak_rss_bytes'] or 0) <= TARGET_RSS_BYTES else 'MISS'
        else:
            verdict = '(baseline)'
        ratio = cpu_ratio = '-'
        if is_plan and ref and ref['median_s'] and r['median_s']:
            ratio = '%.2f' % (r['median_s'] / ref['median_s'])
        if is_plan and ref and ref.get('cpu_median_s') and \
                r.get('cpu_median_s'):
            cpu_ratio = '%.2f' % (r['cpu_median_s'] / ref['cpu_median_s'])
        rss = r.get('peak_rss_bytes')
        yield [r['command'], r['runs'], _s(r['median_s']), _s(r['min_s']),
               _s(r['max_s']), _s(r.get('cpu_median_s')),
               '-' if rss is None else '%.1f' % (rss / 2**20),
               ratio, cpu_ratio,
               '<= %.2f s, %d MiB' % (TARGET_S, TARGET_RSS_BYTES >> 20)
               if is_plan else '-', verdict]
