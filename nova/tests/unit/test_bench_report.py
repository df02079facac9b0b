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

"""The benchmark's own arithmetic: the steadiness probe and the medians
line of the upstream fit comparison (nova/tests/bench)."""

import testtools

from nova.tests.bench import __main__ as bench
from nova.tests.bench import fit_bench
from nova.tests.bench import timing


def _case(index):
    return {'host': '16 cells x 64', 'state': 'empty', 'guest_cells': 8,
            'variant': 'prefer', 'expect': 'fit %d' % index}


class SteadinessTestCase(testtools.TestCase):

    def test_probe_times_the_calls_asked_for(self):
        probe = timing.steadiness(calls=40)
        self.assertEqual(40, probe['calls'])
        self.assertGreater(probe['cpu_median_us'], 0)
        self.assertGreaterEqual(probe['cpu_p99_us'], probe['cpu_median_us'])
        self.assertAlmostEqual(
            probe['cpu_p99_us'] / probe['cpu_median_us'], probe['ratio'])
        self.assertIn('p99 / median %.2f' % probe['ratio'],
                      timing.steadiness_text(probe))


class MediansTestCase(testtools.TestCase):

    def test_misses_with_a_median_under_the_target(self):
        target = fit_bench.TARGET_US
        records = [
            # over on p99, median under: the machine's tail
            {'p99_us': target * 1.2, 'cpu_p99_us': target * 1.3,
             'cpu_median_us': target * 0.6},
            # over on p99 and on the median: the code
            {'p99_us': target * 2, 'cpu_p99_us': target * 2,
             'cpu_median_us': target * 1.5},
            # under
            {'p99_us': target * 0.5, 'cpu_p99_us': target * 0.5,
             'cpu_median_us': target * 0.4},
            # timed out: a miss with no median
            {'failed': True, 'outcome': 'timeout'},
            # never reported: a miss too (as _fit_miss counts it)
            None,
        ]
        found = bench._medians([_case(i) for i in range(5)], records)
        self.assertEqual(4, found['misses'])
        self.assertEqual(1, found['misses_median_under_target'])
        self.assertEqual(target * 1.5, found['worst_cpu_median_us'])
        self.assertIn('fit 1', found['text'])

    def test_no_medians_recorded(self):
        # results from an older child that recorded no CPU median
        found = bench._medians([_case(0)], [{'p99_us': 1.0,
                                             'cpu_p99_us': 1.0}])
        self.assertEqual('none recorded', found['text'])
