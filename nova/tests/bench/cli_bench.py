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
import time

TARGET_S = 0.35
TARGET_RSS_BYTES = 80 << 20

PLAN_ARGS = ['-m', 'nova.cmd.realtime', 'plan', '--vcpus', '4', '--ram',
             '1024', '--property', 'hw:cpu_policy=dedicated', '--property',
             'hw:cpu_realtime=yes', '--connection', 'test:///default']

# The tree holding the nova package (so ``-m nova.cmd.realtime`` finds it).
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))


def _wall(args, runs, root=REPO_ROOT, rss=None):
    """Wall times of ``runs`` processes; their peak RSS appended to rss.

    Each child is reaped with os.wait4, whose rusage is that process's own
    (RUSAGE_CHILDREN would mix every child so far).
    """
    times = []
    failure = None
    for _ in range(runs):
        with tempfile.TemporaryFile(mode='w+') as err:
            start = time.perf_counter()
            proc = subprocess.Popen([sys.executable] + args, cwd=root,
                                    stdout=subprocess.DEVNULL, stderr=err)
            _pid, status, usage = os.wait4(proc.pid, 0)
            times.append(time.perf_counter() - start)
            proc.returncode = os.waitstatus_to_exitcode(status)
            if rss is not None:
                rss.append(usage.ru_maxrss * 1024)
            if proc.returncode != 0:
                err.seek(0)
                tail = err.read().strip().splitlines()[-5:]
                failure = 'exit %d: %s' % (proc.returncode,
                                           ' | '.join(tail))
                break
    return times, failure


def run(runs=5, ref_root=None, ref=None):
    """Whole-process plan, here and (``ref_root``) in the release's tree.

    Peak RSS is the largest of a command's runs (ru_maxrss of each).
    """
    results = []
    jobs = [('python -c pass', ['-c', 'pass'], REPO_ROOT),
            ('nova-realtime plan (test:///default)', PLAN_ARGS, REPO_ROOT)]
    if ref_root:
        jobs.append(('plan, release %s' % ref[:12], PLAN_ARGS, ref_root))
    for label, args, root in jobs:
        rss = []
        try:
            times, failure = _wall(args, runs, root, rss)
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
            'error': failure,
        })
    return results


HEADERS = ['command', '>runs', '>median s', '>min s', '>max s',
           '>peak RSS MiB', '>median vs release', 'target', 'verdict']


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
        ratio = '-'
        if is_plan and ref and ref['median_s'] and r['median_s']:
            ratio = '%.2f' % (r['median_s'] / ref['median_s'])
        rss = r.get('peak_rss_bytes')
        yield [r['command'], r['runs'], _s(r['median_s']), _s(r['min_s']),
               _s(r['max_s']), '-' if rss is None else '%.1f' % (rss / 2**20),
               ratio, '<= %.2f s, %d MiB' % (TARGET_S, TARGET_RSS_BYTES >> 20)
               if is_plan else '-', verdict]
