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

"""Timing and table helpers shared by the benchmark sections.

Numbers are printed, never asserted: a loaded CI machine must not turn a
benchmark into a flaky test. Each call is timed on its own with
perf_counter_ns, so the median, p99 and max describe single calls rather
than an average that hides outliers.
"""

import gc
import math
import time
import tracemalloc


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an already sorted, non-empty list."""
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def time_calls(func, budget_s=0.2, min_calls=20, max_calls=2000,
               slow_s=0.05):
    """Call ``func()`` repeatedly; return per-call stats in microseconds.

    One warm-up call comes first (caches, lazy imports). If it takes longer
    than ``slow_s`` it is the only sample: repeating a pathological call
    would only make the benchmark slow. Otherwise calls repeat until
    ``budget_s`` is used up, between ``min_calls`` and ``max_calls`` times.
    Garbage collection is paused while timing so it lands on no single call.
    Returns a dict: calls, median_us, p99_us, max_us (wall time),
    cpu_median_us, cpu_p99_us (the thread's CPU time, which a loaded machine
    inflates less: time spent descheduled is not counted, though contention
    for caches and the hypervisor's own load still stretch it; see
    steadiness), and
    ``result`` (what the warm-up call returned or, when it raised, the
    exception).
    """
    cpu_start = time.thread_time_ns()
    start = time.perf_counter_ns()
    try:
        result = func()
    except Exception as e:  # reported, not hidden: hostile input is the point
        result = e
    first = time.perf_counter_ns() - start
    samples = [first]
    cpu_samples = [time.thread_time_ns() - cpu_start]
    if first < slow_s * 1e9:
        samples = []
        cpu_samples = []
        deadline = time.perf_counter_ns() + budget_s * 1e9
        enabled = gc.isenabled()
        gc.disable()
        try:
            while len(samples) < max_calls and (
                    len(samples) < min_calls or
                    time.perf_counter_ns() < deadline):
                cpu_start = time.thread_time_ns()
                start = time.perf_counter_ns()
                try:
                    func()
                except Exception:
                    pass
                samples.append(time.perf_counter_ns() - start)
                cpu_samples.append(time.thread_time_ns() - cpu_start)
        finally:
            if enabled:
                gc.enable()
    samples.sort()
    cpu_samples.sort()
    return {
        'calls': len(samples),
        'median_us': percentile(samples, 0.5) / 1e3,
        'p99_us': percentile(samples, 0.99) / 1e3,
        'max_us': samples[-1] / 1e3,
        'cpu_median_us': percentile(cpu_samples, 0.5) / 1e3,
        'cpu_p99_us': percentile(cpu_samples, 0.99) / 1e3,
        'result': result,
    }


# The steadiness probe: a fixed pure-Python workload (set and dict work,
# allocation) of a few hundred microseconds, about what one many-cell fit
# costs, timed call by call like the cases.
STEADY_CALLS = 500


def _steady_work():
    seen = set()
    counts = {}
    for i in range(1500):
        key = (i * 7919) % 1021
        if key in seen:
            counts[key] = counts.get(key, 0) + 1
        else:
            seen.add(key)
    return len(seen), sorted(counts.items())[:3]


def steadiness(calls=STEADY_CALLS):
    """How steady this machine's CPU time per call is, right now.

    The same workload ``calls`` times: its thread CPU time per call should
    not vary, so its p99 / median says how much the machine (another
    guest of the hypervisor, cache and memory bandwidth contention, the
    kernel) stretches a call's tail on its own. A case whose median is
    well under its target but whose p99 is over it, while this ratio is
    high, is slowed by the machine rather than by its code.
    Returns a dict: calls, cpu_median_us, cpu_p99_us, ratio.
    """
    stats = time_calls(_steady_work, budget_s=0, min_calls=calls,
                       max_calls=calls)
    return {'calls': stats['calls'], 'cpu_median_us': stats['cpu_median_us'],
            'cpu_p99_us': stats['cpu_p99_us'],
            'ratio': stats['cpu_p99_us'] / max(stats['cpu_median_us'],
                                               1e-3)}


def steadiness_text(probe):
    return ('%.0f us median, %.0f us p99 thread CPU time per call of a fixed '
            'workload (%d calls): p99 / median %.2f' % (
                probe['cpu_median_us'], probe['cpu_p99_us'],
                probe['calls'], probe['ratio']))


def peak_memory(func):
    """Peak bytes tracemalloc sees allocated during one ``func()`` call."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        try:
            func()
        except Exception:
            pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return max(0, peak - base)


def verdict(value, target):
    """PASS when ``value`` (a number) is within ``target``, else MISS."""
    if value is None:
        return 'n/a'
    return 'PASS' if value <= target else 'MISS'


def fmt_us(value):
    if value is None:
        return '-'
    if value >= 1e6:
        return '%.2f s' % (value / 1e6)
    if value >= 1e4:
        return '%.1f ms' % (value / 1e3)
    return '%.1f' % value


def fmt_bytes(value):
    if value is None:
        return '-'
    if value >= 1 << 20:
        return '%.1f MiB' % (value / (1 << 20))
    if value >= 1 << 10:
        return '%.1f KiB' % (value / (1 << 10))
    return '%d B' % value


def table(headers, rows, out):
    """Write rows as a plain table with columns aligned by width.

    Columns whose header starts with '>' are right aligned (numbers); the
    '>' is not printed.
    """
    right = [h.startswith('>') for h in headers]
    names = [h.lstrip('>') for h in headers]
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(n)] + [len(r[i]) for r in cells])
              for i, n in enumerate(names)]

    def line(values):
        parts = []
        for value, width, is_right in zip(values, widths, right):
            parts.append(value.rjust(width) if is_right
                         else value.ljust(width))
        return '  '.join(parts).rstrip()

    out.write(line(names) + '\n')
    out.write(line(['-' * w for w in widths]) + '\n')
    for row in cells:
        out.write(line(row) + '\n')
    out.write('\n')
