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

Usage: python -I upstream_bench.py JOB.json START [TREE]

TREE, when given, is a Nova source tree (the directory holding the ``nova``
package, e.g. upstream/series.py's ``.upstream/series``) imported instead
of the virtualenv's own ``nova``: that is how the patched and the unpatched
upstream are run by the same python.

JOB.json holds {"hosts": {key: host spec}, "scale_hosts": [host spec, ...],
"cases": [case, ...]}; a case is {"kind": "parse", "spec": str}, {"kind":
"fit", "host": key, "guest": {"vcpus", "memory_mb", "extra_specs"}} or
{"kind": "scale", "guest": ...}: the guest as one RequestSpec through
NUMATopologyFilter.host_passes for each of the scale hosts, as HostState
objects. Cases from index START on are run in order and one JSON line per
case is written to stdout as soon as it is done, so the parent can enforce
a timeout per case and restart after it. The parent also sets the memory
rlimit: a MemoryError here is reported as the outcome of that case.
"""

import gc
import hashlib
import json
import math
import resource
import sys
import time
import tracemalloc

SLOW_NS = 50 * 1000 * 1000
# Slower calls are not repeated under tracemalloc (it slows them down).
SLOW_PEAK_US = 2 * 1000 * 1000


def _rank(samples, fraction):
    return samples[max(1, math.ceil(fraction * len(samples))) - 1]


def _stats(samples, cpu_samples):
    samples.sort()
    cpu_samples.sort()
    return {'calls': len(samples), 'median_us': _rank(samples, 0.5) / 1e3,
            'p99_us': _rank(samples, 0.99) / 1e3,
            'max_us': samples[-1] / 1e3,
            'cpu_median_us': _rank(cpu_samples, 0.5) / 1e3,
            'cpu_p99_us': _rank(cpu_samples, 0.99) / 1e3}


def _call(func, *args):
    try:
        return func(*args)
    except MemoryError:
        # Drop the traceback (and the frames holding the huge object).
        return MemoryError()
    except Exception as e:
        return e


def time_calls(func, budget_s, min_calls, max_calls, prepare=None):
    """Per-call timing like the nova-realtime bench: probe, then repeat.

    With ``prepare``, each call is func(prepare()), prepare not timed.
    """
    args = (prepare(),) if prepare else ()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_start = time.thread_time_ns()
    start = time.perf_counter_ns()
    result = _call(func, *args)
    first = time.perf_counter_ns() - start
    first_cpu = time.thread_time_ns() - cpu_start
    rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss -
                  rss_before) * 1024
    if first >= SLOW_NS:
        out = _stats([first], [first_cpu])
        out['rss_growth_bytes'] = rss_growth
        return result, out
    samples = []
    cpu_samples = []
    deadline = time.perf_counter_ns() + budget_s * 1e9
    gc.disable()
    try:
        while len(samples) < max_calls and (
                len(samples) < min_calls or
                time.perf_counter_ns() < deadline):
            args = (prepare(),) if prepare else ()
            cpu_start = time.thread_time_ns()
            start = time.perf_counter_ns()
            _call(func, *args)
            samples.append(time.perf_counter_ns() - start)
            cpu_samples.append(time.thread_time_ns() - cpu_start)
    finally:
        gc.enable()
    return result, _stats(samples, cpu_samples)


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


def fitted_cells(result):
    """What a fit chose, as plain data both sides can be compared on."""
    if result is None or isinstance(result, BaseException):
        return None
    return [[cell.id, sorted(cell.cpu_pinning.items())
             if cell.cpu_pinning else [],
             sorted(cell.cpuset_reserved or []),
             cell.pagesize if 'pagesize' in cell else None]
            for cell in result.cells]


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

        # Each call gets a fresh copy (not timed): unpatched upstream
        # writes the fit into the request it is given.
        def func(copy):
            return hardware.numa_fit_instance_to_host(host, copy, None)
        result, stats = time_calls(func, case.get('budget_s', 0.04),
                                   case.get('min_calls', 30), 1000,
                                   prepare=request.obj_clone)
        stats['fitted'] = fitted_cells(result)
    return dict(stats, outcome=describe(result))


def build_host_state(objects, stats, host_manager, index, spec):
    topology = build_host(objects, spec)
    state = host_manager.HostState('host%d' % index, 'node%d' % index,
                                   'cell1')
    state.numa_topology = topology
    state.pci_stats = stats.PciDeviceStats(topology)
    state.cpu_allocation_ratio = 16.0
    state.ram_allocation_ratio = 1.5
    state.allocation_candidates = [{'mappings': {}}]
    return state


def run_scale(objects, hardware, host_specs, case):
    """The guest through NUMATopologyFilter.host_passes for every host."""
    from nova.pci import stats
    from nova.scheduler.filters import numa_topology_filter
    from nova.scheduler import host_manager
    start = time.perf_counter()
    states = [build_host_state(objects, stats, host_manager, index, spec)
              for index, spec in enumerate(host_specs)]
    build_s = time.perf_counter() - start
    guest = case['guest']
    flavor = objects.Flavor(name='bench', vcpus=guest['vcpus'],
                            memory_mb=guest['memory_mb'],
                            extra_specs=dict(guest['extra_specs']))
    image = objects.ImageMeta.from_dict({'properties': {}})
    spec_obj = objects.RequestSpec(
        flavor=flavor, image=image,
        numa_topology=hardware.numa_get_constraints(flavor, image),
        pci_requests=objects.InstancePCIRequests(requests=[]),
        instance_uuid='9cc4d6fd-8e8e-4a61-8d1e-34b9a0c4d0f4')
    filt = numa_topology_filter.NUMATopologyFilter()
    samples = []
    cpu_samples = []
    passed = []
    gc.disable()
    try:
        total_cpu_start = time.thread_time_ns()
        total_start = time.perf_counter_ns()
        for state in states:
            cpu_start = time.thread_time_ns()
            start = time.perf_counter_ns()
            passed.append(bool(filt.host_passes(state, spec_obj)))
            samples.append(time.perf_counter_ns() - start)
            cpu_samples.append(time.thread_time_ns() - cpu_start)
        total_ns = time.perf_counter_ns() - total_start
        total_cpu_ns = time.thread_time_ns() - total_cpu_start
    finally:
        gc.enable()
    digest = hashlib.sha256(bytes(passed)).hexdigest()[:16]
    return dict(_stats(samples, cpu_samples), hosts=len(states),
                passed=sum(passed), passed_digest=digest, build_s=build_s,
                total_ms=total_ns / 1e6, total_cpu_ms=total_cpu_ns / 1e6,
                outcome='%d of %d passed' % (sum(passed), len(states)))


def main(argv):
    with open(argv[1]) as f:
        job = json.load(f)
    start = int(argv[2])
    if len(argv) > 3:
        sys.path.insert(0, argv[3])
    from nova import objects
    from nova.virt import hardware
    objects.register_all()
    hosts = {key: build_host(objects, spec)
             for key, spec in job['hosts'].items()}
    print(json.dumps({'ready': True}), flush=True)
    for index in range(start, len(job['cases'])):
        case = job['cases'][index]
        if case['kind'] == 'scale':
            result = run_scale(objects, hardware, job['scale_hosts'], case)
        else:
            result = run_case(objects, hardware, hosts, case)
        result['index'] = index
        print(json.dumps(result), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
