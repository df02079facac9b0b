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
import time

TARGET_S = 1.0

PLAN_ARGS = ['-m', 'nova.cmd.realtime', 'plan', '--vcpus', '4', '--ram',
             '1024', '--property', 'hw:cpu_policy=dedicated', '--property',
             'hw:cpu_realtime=yes', '--connection', 'test:///default']

# The tree holding the nova package (so ``-m nova.cmd.realtime`` finds it).
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))


def _wall(args, runs):
    times = []
    failure = None
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable] + args, cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=120)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-5:]
            failure = 'exit %d: %s' % (proc.returncode, ' | '.join(tail))
            break
    return times, failure


def run(runs=5):
    results = []
    for label, args in (('python -c pass', ['-c', 'pass']),
                        ('nova-realtime plan (test:///default)', PLAN_ARGS)):
        try:
            times, failure = _wall(args, runs)
        except (OSError, subprocess.TimeoutExpired) as e:
            times, failure = [], '%s: %s' % (type(e).__name__, e)
        results.append({
            'command': label,
            'argv': ['python'] + args,
            'runs': len(times),
            'median_s': statistics.median(times) if times else None,
            'min_s': min(times) if times else None,
            'max_s': max(times) if times else None,
            'error': failure,
        })
    return results


HEADERS = ['command', '>runs', '>median s', '>min s', '>max s', 'target',
           'verdict']


def _s(value):
    return '-' if value is None else '%.3f' % value


def rows(results):
    for r in results:
        is_plan = r['command'].startswith('nova-realtime')
        if r['error']:
            verdict = 'ERROR'
        elif is_plan:
            verdict = 'PASS' if r['median_s'] <= TARGET_S else 'MISS'
        else:
            verdict = '(baseline)'
        yield [r['command'], r['runs'], _s(r['median_s']), _s(r['min_s']),
               _s(r['max_s']), '<= 1 s' if is_plan else '-', verdict]
