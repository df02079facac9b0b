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

"""Section 2c: the fit cases and the scale request on an older tree.

The same plain-data hosts and guests (this tree's fit_bench builds them;
the nearly-full hosts are carried as specs) are fitted by the old tree's
``numa_fit_instance_to_host`` in a subprocess whose ``nova`` is that tree,
exported with ``git archive``; this tree's fit_bench.py and timing.py are
loaded from their files there, so both sides run the same timing code.

The default ref is the last release (ref_tree.default_ref(): the last
tag, else ref_tree.RELEASE_COMMIT, made importable by ref_tree's shim), so
a regression against what was released shows as a ratio above 1.
FIT_REF_COMMIT (c828c70), the newest commit before the NUMA fit built its
result with the public object constructors (b33ddc6) that imports without
the shim, was the default before; ``--fit-ref c828c70`` still times it.
"""

import json
import os
import subprocess
import sys

from nova.tests.bench import ref_tree
from nova.tests.bench import timing

FIT_REF_COMMIT = 'c828c70'

_CHILD = r'''
import importlib.util, json, sys
old, cur = sys.argv[1], sys.argv[2]
sys.path.insert(0, old)
import nova
assert nova.__file__.startswith(old), nova.__file__
from nova import objects
objects.register_all()


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


load('nova.tests.bench.timing', cur + '/nova/tests/bench/timing.py')
fb = load('ref_fit_bench', cur + '/nova/tests/bench/fit_bench.py')
job = json.load(sys.stdin)
out = {}
if job['cases']:
    out['fit'] = fb.run(job['hosts'], job['cases'], quick=job['quick'])
if job['scale']:
    out['scale'] = fb.run_scale(job['scale'])
print(json.dumps(out, default=str))
'''


def run_ref(ref, hosts, cases, scale_count, quick=False, timeout=1800):
    """{'fit': results, 'scale': result} of ``ref``'s fit."""
    tmp = ref_tree.export(ref)
    try:
        proc = subprocess.run(
            [sys.executable, '-c', _CHILD, tmp.name, ref_tree.REPO_ROOT],
            input=json.dumps({'hosts': hosts, 'cases': cases,
                              'scale': scale_count, 'quick': quick}),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=tmp.name, timeout=timeout,
            env=dict(os.environ, PYTHONPATH=tmp.name))
    finally:
        tmp.cleanup()
    if proc.returncode:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _ratio(ours, theirs):
    if not ours or not theirs:
        return '-'
    return '%.2f' % (ours / theirs)


def report(out, ref, ours_fit, ours_scale, theirs):
    """Print ours beside ``ref`` with ratios (ours / ref: < 1 is faster)."""
    rows = []
    if ours_fit and theirs.get('fit'):
        pairs = [(a, b) for a, b in zip(ours_fit, theirs['fit'])
                 if a.get('cpu_p99_us') and b.get('cpu_p99_us')]
        ratios = sorted(a['cpu_median_us'] / b['cpu_median_us']
                        for a, b in pairs)
        worst_ours = max(a['cpu_p99_us'] for a, _b in pairs)
        worst_theirs = max(b['cpu_p99_us'] for _a, b in pairs)
        same = sum(a['outcome'] == b['outcome'] for a, b in pairs)
        rows.append(['fit cases: worst CPU p99 us', '%.1f' % worst_ours,
                     '%.1f' % worst_theirs,
                     _ratio(worst_ours, worst_theirs)])
        rows.append(['fit cases: sum of CPU medians ms',
                     '%.2f' % (sum(a['cpu_median_us'] for a, _b in pairs)
                               / 1e3),
                     '%.2f' % (sum(b['cpu_median_us'] for _a, b in pairs)
                               / 1e3),
                     _ratio(sum(a['cpu_median_us'] for a, _b in pairs),
                            sum(b['cpu_median_us'] for _a, b in pairs))])
        rows.append(['fit cases: median per-case CPU ratio', '', '',
                     '%.2f' % timing.percentile(ratios, 0.5)])
        rows.append(['fit cases: same outcome', str(same), str(len(pairs)),
                     ''])
    if ours_scale and theirs.get('scale'):
        a, b = ours_scale, theirs['scale']
        rows.append(['%d hosts: total ms' % a['hosts'],
                     '%.1f' % a['total_ms'], '%.1f' % b['total_ms'],
                     _ratio(a['total_ms'], b['total_ms'])])
        if a.get('cpu_total_ms') and b.get('cpu_total_ms'):
            rows.append(['%d hosts: total CPU ms' % a['hosts'],
                         '%.1f' % a['cpu_total_ms'],
                         '%.1f' % b['cpu_total_ms'],
                         _ratio(a['cpu_total_ms'], b['cpu_total_ms'])])
        rows.append(['%d hosts: per host CPU p99 us' % a['hosts'],
                     '%.1f' % a['cpu_p99_us'], '%.1f' % b['cpu_p99_us'],
                     _ratio(a['cpu_p99_us'], b['cpu_p99_us'])])
    timing.table(['measure', '>this tree', '>%s' % ref[:12], '>ratio'],
                 rows, out)
