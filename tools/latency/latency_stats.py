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

"""Pure parts of the latency benchmark: console parsing and statistics.

No I/O and nothing beyond the standard library, so unit tests can load this
file directly (tools/ is not a package).

The guest (guest-init.sh) prints, on its serial console::

    NOVA-RT-LATENCY INFO key=value ...
    NOVA-RT-LATENCY BEGIN
    <cyclictest -q -h N output, rows of empty buckets left out>
    NOVA-RT-LATENCY END rc=0

cyclictest's histogram has one row per 1 us bucket, ``NNNNNN CCCCCC`` (bucket,
then one count column per measuring thread), then ``# Total:``, ``# Min
Latencies:``, ``# Avg Latencies:``, ``# Max Latencies:`` and ``# Histogram
Overflows:`` lines with one column per thread. Samples at or beyond N us are
counted only as overflows; "Total" excludes them.
"""

import math
import re
import statistics

BEGIN = 'NOVA-RT-LATENCY BEGIN'
END = 'NOVA-RT-LATENCY END'
INFO = 'NOVA-RT-LATENCY INFO'

PERCENTILES = (('p50', 50.0), ('p99', 99.0), ('p99.9', 99.9))
METRICS = ('p50', 'p99', 'p99.9', 'max')

_ROW = re.compile(r'^(\d+)((?:\s+\d+)+)\s*$')
_SUMMARY = re.compile(r'^#\s*([A-Za-z ]+?):\s*((?:\d+\s*)*)$')


class ConsoleLogError(ValueError):
    """The console log holds no complete cyclictest histogram."""


class Histogram(object):
    """cyclictest latencies: counts per 1 us bucket plus overflows.

    ``buckets`` maps a bucket (us) to its count, summed over threads;
    ``limit`` is the first latency (us) that only counts as an overflow, when
    known; ``reported`` holds cyclictest's own summary lines (lists, one
    value per thread).
    """

    def __init__(self, buckets=None, overflows=0, limit=None, reported=None):
        self.buckets = {b: c for b, c in (buckets or {}).items() if c}
        self.overflows = overflows
        self.limit = limit
        self.reported = dict(reported or {})

    @property
    def in_range(self):
        return sum(self.buckets.values())

    @property
    def count(self):
        """Every sample, overflows included."""
        return self.in_range + self.overflows

    @property
    def max_us(self):
        """The largest latency: cyclictest's own max when it reported one
        (exact even for overflows), else the highest non-empty bucket.
        """
        reported = self.reported.get('Max Latencies')
        if reported:
            return max(reported)
        return max(self.buckets) if self.buckets else None

    def percentile(self, q):
        """Nearest-rank percentile ``q`` (0-100] in us, and whether it fell
        among the overflows (then the value is ``limit``, a lower bound).
        """
        if not 0 < q <= 100:
            raise ValueError('percentile %r is not in (0, 100]' % (q,))
        total = self.count
        if total == 0:
            raise ValueError('empty histogram has no percentiles')
        rank = max(1, int(math.ceil(q / 100.0 * total - 1e-9)))
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen >= rank:
                return bucket, False
        return self.limit, True

    def merged(self, other):
        buckets = dict(self.buckets)
        for bucket, count in other.buckets.items():
            buckets[bucket] = buckets.get(bucket, 0) + count
        limits = [x for x in (self.limit, other.limit) if x is not None]
        return Histogram(buckets, self.overflows + other.overflows,
                         min(limits) if limits else None)


def parse_histogram(lines, limit=None):
    """A Histogram from cyclictest ``-h`` output lines.

    Missing bucket rows count as zero (the guest leaves them out). Raises
    ConsoleLogError when there is no ``# Histogram`` header.
    """
    buckets = {}
    reported = {}
    seen_header = False
    for raw in lines:
        line = raw.strip()
        if line == '# Histogram':
            seen_header = True
            continue
        row = _ROW.match(line)
        if row and seen_header:
            counts = [int(x) for x in row.group(2).split()]
            bucket = int(row.group(1))
            buckets[bucket] = buckets.get(bucket, 0) + sum(counts)
            continue
        summary = _SUMMARY.match(line)
        if summary and summary.group(2).strip():
            reported[summary.group(1).strip()] = [
                int(x) for x in summary.group(2).split()]
    if not seen_header:
        raise ConsoleLogError('no "# Histogram" header in cyclictest output '
                              '(was cyclictest run with -h N?)')
    overflows = sum(reported.get('Histogram Overflows', [0]))
    return Histogram(buckets, overflows, limit, reported)


def parse_console(text):
    """Parse a guest console log.

    Returns a dict: ``info`` (the key=value pairs of the INFO lines, values
    as strings), ``rc`` (cyclictest's exit status) and ``histogram``. The
    histogram's ``limit`` is the guest's bucket count (``buckets`` info).
    Raises ConsoleLogError, saying what is missing, for an incomplete log.
    """
    lines = text.replace('\r', '').split('\n')
    info = {}
    begin = end = None
    rc = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(INFO):
            for pair in stripped[len(INFO):].split():
                key, _sep, value = pair.partition('=')
                info[key] = value
        elif stripped == BEGIN:
            begin = index
        elif stripped.startswith(END) and begin is not None:
            end = index
            match = re.search(r'rc=(-?\d+)', stripped)
            rc = int(match.group(1)) if match else None
    if begin is None:
        raise ConsoleLogError('no "%s" marker: the guest never started '
                              'cyclictest (did it boot?)' % BEGIN)
    if end is None:
        raise ConsoleLogError('no "%s" marker after "%s": cyclictest or the '
                              'guest stopped early' % (END, BEGIN))
    if rc:
        raise ConsoleLogError('cyclictest exited with status %d: %s' % (
            rc, ' | '.join(x.strip() for x in lines[begin + 1:end]
                           if x.strip() and not _ROW.match(x.strip()))[:300]))
    limit = int(info['buckets']) if info.get('buckets', '').isdigit() \
        else None
    histogram = parse_histogram(lines[begin + 1:end], limit)
    if histogram.count == 0:
        raise ConsoleLogError('cyclictest recorded no samples')
    return {'info': info, 'rc': rc, 'histogram': histogram}


def run_stats(histogram):
    """Per-run numbers for the JSON: percentiles, max, counts."""
    stats = {'samples': histogram.count, 'overflows': histogram.overflows,
             'max': histogram.max_us, 'overflow_metrics': []}
    for name, q in PERCENTILES:
        value, overflowed = histogram.percentile(q)
        stats[name] = value
        if overflowed:
            stats['overflow_metrics'].append(name)
    return stats


def summarize(runs):
    """Medians across runs per flavor, and the ratio non-RT / RT.

    ``runs``: dicts with ``flavor`` ('rt' or 'nonrt') and the keys of
    run_stats(). Returns {'rt': {metric: median}, 'nonrt': {...},
    'ratio': {metric: nonrt / rt or None}, 'runs': {'rt': n, 'nonrt': n},
    'overflows': {'rt': total, 'nonrt': total}}.
    """
    result = {'ratio': {}, 'runs': {}, 'overflows': {}}
    for flavor in ('rt', 'nonrt'):
        mine = [run for run in runs if run['flavor'] == flavor]
        result['runs'][flavor] = len(mine)
        result['overflows'][flavor] = sum(run['overflows'] for run in mine)
        result[flavor] = {
            metric: (statistics.median(run[metric] for run in mine)
                     if mine else None)
            for metric in METRICS}
    for metric in METRICS:
        result['ratio'][metric] = ratio(result['nonrt'][metric],
                                        result['rt'][metric])
    return result


def ratio(numerator, denominator):
    """numerator / denominator, or None when either is unknown or the
    denominator is 0.
    """
    if numerator is None or not denominator:
        return None
    return float(numerator) / denominator


def format_table(summary, target=10.0):
    """The summary as a fixed-width text table."""
    lines = ['%-10s %14s %16s %11s  %s' % (
        'latency', 'RT median', 'non-RT median', 'non-RT/RT',
        'target >=%gx' % target)]
    for metric in METRICS:
        rt, nonrt = summary['rt'][metric], summary['nonrt'][metric]
        value = summary['ratio'][metric]
        verdict = ''
        if metric in ('p99.9', 'max') and value is not None:
            verdict = 'met' if value >= target else 'NOT met'
        lines.append('%-10s %14s %16s %11s  %s' % (
            metric, _us(rt), _us(nonrt),
            '-' if value is None else '%.1fx' % value, verdict))
    lines.append('%-10s %14d %16d' % ('overflows', summary['overflows']['rt'],
                                      summary['overflows']['nonrt']))
    lines.append('%-10s %14d %16d' % ('runs', summary['runs']['rt'],
                                      summary['runs']['nonrt']))
    return '\n'.join(lines)


def _us(value):
    if value is None:
        return '-'
    if value == int(value):
        return '%d us' % value
    return '%.1f us' % value
