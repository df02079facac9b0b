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

"""nova.virt.cpu_topology: guest sockets/cores/threads from flavor + image."""

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nova import exception
from nova import test
from nova.virt import cpu_topology as ct

T = ct.Topology


def best(vcpus, specs=None, props=None, cells=None):
    return ct.get_best_topology(vcpus, specs or {}, props or {}, cells)


class TestDefaults(test.TestCase):

    def test_upstream_order_without_preferences(self):
        # Most sockets*cores first, then most sockets: one socket per vCPU.
        self.assertEqual(T(4, 1, 1), best(4))
        self.assertEqual(T(1, 1, 1), best(1))

    def test_possible_order(self):
        self.assertEqual(
            [T(4, 1, 1), T(2, 2, 1), T(1, 4, 1), T(2, 1, 2), T(1, 2, 2),
             T(1, 1, 4)],
            ct.possible_topologies(4, T(8, 8, 8)))

    def test_large_vcpu_count_is_cheap(self):
        topologies = ct.possible_topologies(4096, T(4096, 4096, 4096))
        self.assertEqual(T(4096, 1, 1), topologies[0])
        self.assertTrue(all(t.vcpus == 4096 for t in topologies))


class TestFlavor(test.TestCase):

    def test_preferred_sockets(self):
        self.assertEqual(T(1, 4, 1), best(4, {'hw:cpu_sockets': '1'}))

    def test_preferred_threads(self):
        self.assertEqual(T(2, 1, 2), best(4, {'hw:cpu_threads': '2'}))

    def test_full_preference(self):
        self.assertEqual(T(1, 2, 2), best(4, {
            'hw:cpu_sockets': '1', 'hw:cpu_cores': '2',
            'hw:cpu_threads': '2'}))

    def test_impossible_preference_is_only_a_preference(self):
        # Upstream: preferences rank, they do not filter.
        self.assertEqual(T(4, 1, 1), best(4, {'hw:cpu_sockets': '3'}))

    def test_maximum_limits(self):
        self.assertEqual(T(2, 2, 1), best(4, {'hw:cpu_max_sockets': '2'}))
        self.assertEqual(T(1, 2, 2), best(4, {
            'hw:cpu_max_sockets': '1', 'hw:cpu_max_cores': '2'}))

    def test_no_topology_within_limits(self):
        exc = self.assertRaises(
            exception.InvalidProperty, best, 7,
            {'hw:cpu_max_sockets': '2', 'hw:cpu_max_cores': '2',
             'hw:cpu_max_threads': '2'})
        self.assertEqual('hw:cpu_max_sockets', exc.kwargs['name'])
        self.assertIn('must equal 7', str(exc))
        self.assertIn('raise a limit', str(exc))

    def test_preferred_above_own_maximum(self):
        exc = self.assertRaises(
            exception.InvalidProperty, best, 4,
            {'hw:cpu_sockets': '4', 'hw:cpu_max_sockets': '2'})
        self.assertEqual('hw:cpu_sockets', exc.kwargs['name'])
        self.assertIn("hw:cpu_sockets='4'", str(exc))
        self.assertIn('hw:cpu_max_sockets=2', str(exc))

    def test_bad_values(self):
        for value in ('0', '-1', 'two', '1.5', '4097', '9' * 30):
            exc = self.assertRaises(exception.InvalidProperty, best, 4,
                                    {'hw:cpu_cores': value})
            self.assertEqual('hw:cpu_cores', exc.kwargs['name'])


class TestImage(test.TestCase):

    def test_image_preferences_replace_the_flavor_s(self):
        self.assertEqual(T(2, 1, 2), best(
            4, {'hw:cpu_sockets': '1', 'hw:cpu_cores': '4'},
            {'hw_cpu_threads': 2}))

    def test_image_may_lower_the_flavor_maximum(self):
        self.assertEqual(T(1, 4, 1), best(
            4, {'hw:cpu_max_sockets': '2'}, {'hw_cpu_max_sockets': 1}))

    def test_image_maximum_above_flavor_maximum_conflicts(self):
        exc = self.assertRaises(
            exception.PropertyConflict, best, 4,
            {'hw:cpu_max_sockets': '2'}, {'hw_cpu_max_sockets': '4'})
        self.assertEqual('hw:cpu_max_sockets', exc.kwargs['flavor_key'])
        self.assertEqual('hw_cpu_max_sockets', exc.kwargs['image_key'])
        self.assertIn('at most 2', str(exc))

    def test_image_preference_above_flavor_maximum_conflicts(self):
        exc = self.assertRaises(
            exception.PropertyConflict, best, 4,
            {'hw:cpu_max_threads': '1'}, {'hw_cpu_threads': '2'})
        self.assertEqual('hw_cpu_threads', exc.kwargs['image_key'])
        self.assertEqual('hw:cpu_max_threads', exc.kwargs['flavor_key'])

    def test_image_preference_above_image_maximum(self):
        exc = self.assertRaises(
            exception.ImageMetaPropInvalid, best, 4, {},
            {'hw_cpu_cores': 4, 'hw_cpu_max_cores': 2})
        self.assertEqual('hw_cpu_cores', exc.kwargs['name'])

    def test_flavor_preference_dropped_under_a_lower_image_maximum(self):
        # Upstream: the image lowered the limit below the flavor's wish.
        self.assertEqual(T(2, 2, 1), best(
            4, {'hw:cpu_sockets': '4'}, {'hw_cpu_max_sockets': 2}))

    def test_bad_image_value(self):
        exc = self.assertRaises(exception.ImageMetaPropInvalid, best, 4, {},
                                {'hw_cpu_max_threads': 0})
        self.assertEqual('hw_cpu_max_threads', exc.kwargs['name'])


class TestNUMA(test.TestCase):

    def test_cores_never_span_cells(self):
        cells = [{0, 1, 2}, {3, 4, 5}]
        # threads=2 would put vCPUs 2 and 3 in one core: dropped.
        self.assertEqual(T(6, 1, 1), best(6, {'hw:cpu_threads': '2'},
                                          cells=cells))
        self.assertFalse(ct.cores_within_cells(T(3, 1, 2), cells))
        self.assertTrue(ct.cores_within_cells(T(2, 1, 3), cells))

    def test_threads_kept_when_cells_hold_whole_cores(self):
        cells = [set(range(4)), set(range(4, 8))]
        self.assertEqual(T(4, 1, 2), best(8, {'hw:cpu_threads': '2'},
                                          cells=cells))

    def test_no_fitting_topology_names_the_limit(self):
        exc = self.assertRaises(
            exception.InvalidProperty, best, 4,
            {'hw:cpu_max_sockets': '1', 'hw:cpu_max_cores': '2'},
            cells=[{0, 1, 2}, {3}])
        self.assertEqual('hw:cpu_max_cores', exc.kwargs['name'])
        self.assertIn('0-2 | 3', str(exc))
        self.assertIn("core's threads must be in one cell", str(exc))

    @settings(max_examples=60, deadline=None)
    @given(st.integers(1, 64), st.integers(1, 8), st.data())
    def test_result_always_fits(self, vcpus, nodes, data):
        nodes = min(nodes, vcpus)
        cuts = sorted(data.draw(st.sets(st.integers(1, vcpus - 1),
                                        min_size=nodes - 1,
                                        max_size=nodes - 1))) \
            if nodes > 1 else []
        bounds = [0] + cuts + [vcpus]
        cells = [set(range(a, b)) for a, b in zip(bounds, bounds[1:])]
        threads = data.draw(st.integers(1, 4))
        topology = best(vcpus, {'hw:cpu_threads': str(threads)},
                        cells=cells)
        self.assertEqual(vcpus, topology.vcpus)
        self.assertTrue(ct.cores_within_cells(topology, cells))
