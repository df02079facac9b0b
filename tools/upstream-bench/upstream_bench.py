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

"""Replay nova-realtime benchmark cases against an upstream Nova install.

Run by the python of a separate virtualenv that has upstream ``nova``
installed, with ``-I`` and a working directory outside the nova-realtime
tree, so that ``import nova`` is upstream's. It only calls upstream's public
functions: nova.virt.hardware.parse_cpu_spec, numa_get_constraints and
numa_fit_instance_to_host, on upstream objects built from the same plain
data the nova-realtime bench uses.

Usage: python -I upstream_bench.py JOB.json START

JOB.json holds {"hosts": {key: host spec}, "cases": [case, ...]}; a case is
{"kind": "parse", "spec": str} or {"kind": "fit", "host": key, "guest":
{"vcpus", "memory_mb", "extra_specs"}}. Cases from index START on are run
in order and one JSON line per case is written to stdout as soon as it is
done, so the parent can enforce a timeout per case and restart after it.
The parent also sets the memory rlimit: a MemoryError here is reported as
the outcome of that case.
"""

import gc
import json
import math
import resource
import sys
import time
import tracemalloc

SLOW_NS = 50 * 1000 * 1000
# Slower calls are not repeated under tracemalloc (it slows them down).
SLOW_PEAK_US = 2 * 1000 * 1000


def _stats(samples):
    samples.sort()
    n = len(samples)

    def rank(fraction):
        return samples[max(1, math.ceil(fraction * n)) - 1]
    return {'calls': n, 'median_us': rank(0.5) / 1e3,
            'p99_us': rank(0.99) / 1e3, 'max_us': samples[-1] / 1e3}


def _call(func):
    try:
        return func()
    except MemoryError:
        # Drop the traceback (and the frames holding the huge object).
        return MemoryError()
    except Exception as e:
        return e


def time_calls(func, budget_s, min_calls, max_calls):
    """Per-call timing like the nova-realtime bench: probe, then repeat."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter_ns()
    result = _call(func)
    first = time.perf_counter_ns() - start
    rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss -
                  rss_before) * 1024
    if first >= SLOW_NS:
        out = _stats([first])
        out['rss_growth_bytes'] = rss_growth
        return result, out
    samples = []
    deadline = time.perf_counter_ns() + budget_s * 1e9
    gc.disable()
    try:
        while len(samples) < max_calls and (
                len(samples) < min_calls or
                time.perf_counter_ns() < deadline):
            start = time.perf_counter_ns()
            _call(func)
            samples.append(time.perf_counter_ns() - start)
    finally:
        gc.enable()
    return result, _stats(samples)


def peak_memory(func):
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        _call(func)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return max(0, peak - base)


def describe(result):
    if isinstance(result, BaseException):
        return type(result).__name__
    if result is None:
        return 'no fit'
    if isinstance(result, set):
        return 'ok, %d CPUs' % len(result)
    return 'fit'


def build_host(objects, spec):
    return objects.NUMATopology(cells=[
        objects.NUMACell(
            id=c['id'], cpuset=set(c['cpuset']), pcpuset=set(c['pcpuset']),
            siblings=[set(group) for group in c['siblings']],
            memory=c['memory'], cpu_usage=0,
            memory_usage=c['memory_usage'],
            mempages=[objects.NUMAPagesTopology(
                size_kb=size, total=total, used=used, reserved=0)
                for size, total, used in c['mempages']],
            pinned_cpus=set(c['pinned_cpus']),
            network_metadata=objects.NetworkMetadata(
                physnets=set(), tunneled=False),
            socket=0)
        for c in spec['cells']])


def build_guest(objects, hardware, spec):
    flavor = objects.Flavor(name='bench', vcpus=spec['vcpus'],
                            memory_mb=spec['memory_mb'],
                            extra_specs=dict(spec['extra_specs']))
    image = objects.ImageMeta.from_dict({'properties': {}})
    return hardware.numa_get_constraints(flavor, image)


def run_case(objects, hardware, hosts, case):
    if case['kind'] == 'parse':
        spec = case['spec']

        def func():
            return hardware.parse_cpu_spec(spec)
        result, stats = time_calls(func, case.get('budget_s', 0.1), 20,
                                   case.get('max_calls', 2000))
        if isinstance(result, MemoryError):
            # The peak is the address-space limit the parent set.
            stats['memory_limit_bytes'] = resource.getrlimit(
                resource.RLIMIT_AS)[0]
        elif stats['max_us'] < SLOW_PEAK_US:
            # ru_maxrss is a high-water mark, useless after a huge case;
            # tracemalloc sees this call alone.
            stats.pop('rss_growth_bytes', None)
            stats['peak_bytes'] = peak_memory(func)
    else:
        host = hosts[case['host']]
        try:
            request = build_guest(objects, hardware, case['guest'])
        except Exception as e:
            return {'outcome': 'error: %s: %s' % (type(e).__name__, e)}

        def func():
            return hardware.numa_fit_instance_to_host(host, request, None)
        result, stats = time_calls(func, case.get('budget_s', 0.04),
                                   case.get('min_calls', 30), 1000)
    return dict(stats, outcome=describe(result))


def main(argv):
    with open(argv[1]) as f:
        job = json.load(f)
    start = int(argv[2])
    from nova import objects
    from nova.virt import hardware
    objects.register_all()
    hosts = {key: build_host(objects, spec)
             for key, spec in job['hosts'].items()}
    print(json.dumps({'ready': True}), flush=True)
    for index in range(start, len(job['cases'])):
        result = run_case(objects, hardware, hosts, job['cases'][index])
        result['index'] = index
        print(json.dumps(result), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
