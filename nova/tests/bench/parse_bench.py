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

"""Section 1: hostile CPU masks through parse_cpu_spec.

The inputs are what a careless or hostile operator or tenant could write in
hw:cpu_realtime_mask, hw:numa_cpus.N or [compute] cpu_dedicated_set. A
parser that builds ``set(range(...))`` before checking bounds turns
``^0-999999999`` into gigabytes; the target is < 1 ms and little memory for
every one of them, whether it parses or is refused.
"""

from nova.tests.bench import timing

TARGET_US = 1000.0


def _ranges_255():
    """A 255-character list of small ranges: '0-1,3-4,6-7,...'."""
    parts = []
    cpu = 0
    while True:
        part = '%d-%d' % (cpu, cpu + 1)
        text = ','.join(parts + [part])
        if len(text) > 255:
            break
        parts.append(part)
        cpu += 3
    text = ','.join(parts)
    # Empty elements are skipped by the grammar: pad to exactly 255.
    return text + ',' * (255 - len(text))


# (label, spec). Labels are what the tables print; the spec is sent as is.
CASES = [
    ('^0-999999999', '^0-999999999'),
    ('0-4095', '0-4095'),
    ('0-999999999999999999999', '0-999999999999999999999'),
    ('255-char list of ranges', _ranges_255()),
    ("'1,' * 127", '1,' * 127),
    ("'a' * 255", 'a' * 255),
    ('nested junk ^^0-3,(0-3),0--3', '^^0-3,(0-3),0--3'),
    ('0-3-5', '0-3-5'),
    ('empty parts ,,,,', ',,,,'),
    ("'9' * 255", '9' * 255),
    ("'0-4095,' * 512 (4096 chars)", '0-4095,' * 512),
    ("'^0-4095,' * 455 (4095 chars)", '^0-4095,' * 455),
    ('non-ASCII digits', '\u0660-\u0663'),
    ('negative -5', '-5'),
    ("'0' * 10000 (10000 chars)", '0' * 10000),
]


def describe(result):
    """Short text for what a parse returned or raised."""
    if isinstance(result, BaseException):
        return type(result).__name__
    return 'ok, %d CPUs' % len(result)


def run(parse, quick=False):
    """Time and measure ``parse`` on every case; a list of result dicts."""
    budget = 0.02 if quick else 0.1
    results = []
    for label, spec in CASES:
        stats = timing.time_calls(lambda: parse(spec), budget_s=budget,
                                  max_calls=500 if quick else 2000)
        results.append({
            'case': label,
            'length': len(spec),
            'outcome': describe(stats.pop('result')),
            'peak_bytes': timing.peak_memory(lambda: parse(spec)),
            **stats,
        })
    return results


HEADERS = ['case', '>len', 'outcome', '>calls', '>median us', 'median',
           '>p99 us', 'p99', '>max us', 'max', '>peak mem', 'target']


# The target covers what a tenant can send: image property values are at
# most 255 characters. Longer specs (a big host's [compute]
# cpu_dedicated_set) are timed and shown without a verdict.
TARGET_MAX_LENGTH = 255


def rows(results):
    for r in results:
        in_scope = r['length'] <= TARGET_MAX_LENGTH

        def verdict(value):
            return timing.verdict(value, TARGET_US) if in_scope else '-'
        yield [r['case'], r['length'], r['outcome'], r['calls'],
               timing.fmt_us(r['median_us']), verdict(r['median_us']),
               timing.fmt_us(r['p99_us']), verdict(r['p99_us']),
               timing.fmt_us(r['max_us']), verdict(r['max_us']),
               timing.fmt_bytes(r['peak_bytes']),
               '< 1 ms' if in_scope else 'none (> 255 chars)']
