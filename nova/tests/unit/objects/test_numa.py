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

import json

from hypothesis import given
from hypothesis import strategies as st
from oslo_versionedobjects import exception as ovo_exc
import testtools

from nova import objects
from nova.objects import fields


class _ObjectsTestCase(testtools.TestCase):
    def setUp(self):
        super().setUp()
        objects.register_all()


def _json_round_trip(obj):
    """What the driver does with domain metadata: JSON out, JSON back."""
    text = json.dumps(obj.obj_to_primitive())
    return obj.__class__.obj_from_primitive(json.loads(text))


class TestNUMAPagesTopology(_ObjectsTestCase):

    def test_defaults(self):
        pages = objects.NUMAPagesTopology(size_kb=2048, total=10)
        self.assertEqual(0, pages.used)
        self.assertEqual(0, pages.reserved)
        self.assertEqual(10, pages.free)

    def test_free(self):
        pages = objects.NUMAPagesTopology(size_kb=2048, total=10, used=3,
                                          reserved=2)
        self.assertEqual(5, pages.free)
        self.assertEqual(5 * 2048, pages.free_kb)


class TestNUMACell(_ObjectsTestCase):

    def _cell(self, **kw):
        args = dict(id=1, cpuset={0, 1}, pcpuset={2, 3, 4, 5},
                    siblings=[{2, 3}, {4, 5}], memory=4096,
                    mempages=[
                        objects.NUMAPagesTopology(size_kb=4, total=1000),
                        objects.NUMAPagesTopology(size_kb=2048, total=512,
                                                  used=12)])
        args.update(kw)
        return objects.NUMACell(**args)

    def test_empty_defaults(self):
        cell = objects.NUMACell(id=0, memory=1024)
        self.assertEqual(set(), cell.cpuset)
        self.assertEqual(set(), cell.pcpuset)
        self.assertEqual(set(), cell.pinned_cpus)
        self.assertEqual([], cell.siblings)
        self.assertEqual([], cell.mempages)
        self.assertEqual(0, cell.memory_usage)
        self.assertEqual(1024, cell.avail_memory)

    def test_defaults_are_not_shared(self):
        one = objects.NUMACell(id=0, memory=1)
        two = objects.NUMACell(id=1, memory=1)
        one.pinned_cpus.add(7)
        self.assertEqual(set(), two.pinned_cpus)

    def test_free_pcpus(self):
        cell = self._cell(pinned_cpus={3, 5})
        self.assertEqual({2, 4}, cell.free_pcpus)
        # Shared pCPUs are never "free" for pinning.
        self.assertNotIn(0, cell.free_pcpus)

    def test_avail_memory(self):
        self.assertEqual(3072, self._cell(memory_usage=1024).avail_memory)

    def test_pages(self):
        cell = self._cell()
        self.assertEqual(500, cell.pages(2048).free)
        self.assertEqual(4, cell.pages(4).size_kb)
        self.assertIsNone(cell.pages(1048576))

    def test_sibling_set(self):
        cell = self._cell()
        self.assertEqual({2, 3}, cell.sibling_set(3))
        self.assertEqual({4, 5}, cell.sibling_set(4))
        # A CPU with no SMT sibling is its own group.
        self.assertEqual({0}, cell.sibling_set(0))

    def test_id_is_read_only(self):
        cell = self._cell()
        self.assertRaises(ovo_exc.ReadOnlyFieldError, setattr, cell, 'id', 2)

    def test_json_round_trip(self):
        cell = self._cell(pinned_cpus={2}, memory_usage=100)
        back = _json_round_trip(cell)
        self.assertEqual(1, back.id)
        self.assertEqual({0, 1}, back.cpuset)
        self.assertEqual({2, 3, 4, 5}, back.pcpuset)
        self.assertEqual([{2, 3}, {4, 5}], back.siblings)
        self.assertEqual({2}, back.pinned_cpus)
        self.assertEqual(100, back.memory_usage)
        self.assertEqual(12, back.pages(2048).used)


class TestNUMATopology(_ObjectsTestCase):

    def test_pinned_cpus_union(self):
        topo = objects.NUMATopology(cells=[
            objects.NUMACell(id=0, memory=1, pcpuset={0, 1},
                             pinned_cpus={1}),
            objects.NUMACell(id=1, memory=1, pcpuset={2, 3},
                             pinned_cpus={2, 3})])
        self.assertEqual({1, 2, 3}, topo.pinned_cpus)

    def test_pinned_cpus_empty(self):
        self.assertEqual(set(), objects.NUMATopology(cells=[]).pinned_cpus)


class TestInstanceNUMA(_ObjectsTestCase):

    def _fitted(self):
        """A 2-node dedicated real-time guest, as the fitter leaves it."""
        return objects.InstanceNUMATopology(
            emulator_threads_policy='isolate',
            realtime_cpus={1, 2, 3},
            cells=[
                objects.InstanceNUMACell(
                    id=0, pcpuset={0, 1}, memory=1024, pagesize=2048,
                    cpu_policy='dedicated', cpu_thread_policy='isolate',
                    cpu_pinning={0: 4, 1: 6}, cpuset_reserved={8},
                    host_node=0),
                objects.InstanceNUMACell(
                    id=1, pcpuset={2, 3}, memory=1024, pagesize=2048,
                    cpu_policy='dedicated', cpu_thread_policy='isolate',
                    cpu_pinning={2: 12, 3: 14}, host_node=1)])

    def test_cell_defaults(self):
        cell = objects.InstanceNUMACell(id=0, cpuset={0}, memory=512)
        self.assertEqual(set(), cell.pcpuset)
        for name in ('pagesize', 'cpu_policy', 'cpu_thread_policy',
                     'cpu_pinning', 'cpuset_reserved', 'host_node'):
            self.assertIsNone(getattr(cell, name), name)
        self.assertFalse(cell.cpu_pinning_requested)

    def test_cell_policy_is_validated(self):
        self.assertRaises(ValueError, objects.InstanceNUMACell,
                          id=0, cpuset={0}, memory=1, cpu_policy='mixd')

    def test_mixed_cell(self):
        cell = objects.InstanceNUMACell(id=0, cpuset={0}, pcpuset={1, 2},
                                        memory=1, cpu_policy='mixed')
        self.assertTrue(cell.cpu_pinning_requested)
        self.assertEqual({0, 1, 2}, cell.total_cpus)

    def test_backport_to_1_0_merges_the_cpu_sets(self):
        cell = objects.InstanceNUMACell(id=0, cpuset={0}, pcpuset={1, 2},
                                        memory=1, cpu_policy='mixed')
        old = cell.obj_to_primitive(target_version='1.0')['nova_object.data']
        self.assertEqual([0, 1, 2], old['cpus'])
        self.assertNotIn('cpuset', old)
        self.assertNotIn('pcpuset', old)

    def test_emulator_threads_isolated(self):
        self.assertTrue(self._fitted().emulator_threads_isolated)
        self.assertFalse(objects.InstanceNUMATopology(
            cells=[]).emulator_threads_isolated)

    def test_cpu_pinning_requested(self):
        topo = self._fitted()
        self.assertTrue(topo.cpu_pinning_requested)
        topo.cells[1].cpu_policy = fields.CPUAllocationPolicy.SHARED
        self.assertFalse(topo.cpu_pinning_requested)
        self.assertFalse(
            objects.InstanceNUMATopology(cells=[]).cpu_pinning_requested)

    def test_cpu_pinning_merges_cells(self):
        self.assertEqual({0: 4, 1: 6, 2: 12, 3: 14},
                         self._fitted().cpu_pinning)

    def test_cpu_pinning_unfitted_is_empty(self):
        topo = objects.InstanceNUMATopology(cells=[
            objects.InstanceNUMACell(id=0, cpuset={0, 1}, memory=64)])
        self.assertEqual({}, topo.cpu_pinning)
        self.assertEqual(set(), topo.cpuset_reserved)

    def test_cpuset_reserved_union(self):
        topo = self._fitted()
        self.assertEqual({8}, topo.cpuset_reserved)
        topo.cells[1].cpuset_reserved = {9}
        self.assertEqual({8, 9}, topo.cpuset_reserved)

    def test_vcpus(self):
        self.assertEqual({0, 1, 2, 3}, self._fitted().vcpus)

    def test_is_realtime(self):
        topo = self._fitted()
        self.assertTrue(topo.is_realtime)
        self.assertFalse(objects.InstanceNUMATopology(cells=[]).is_realtime)

    def test_pinning_keys_are_coerced_to_int(self):
        cell = objects.InstanceNUMACell(id=0, pcpuset={0}, memory=1,
                                        cpu_pinning={'0': '5'})
        self.assertEqual({0: 5}, cell.cpu_pinning)
        self.assertRaises(ValueError, setattr, cell, 'cpu_pinning', [1])

    def test_json_round_trip_of_fitted_topology(self):
        topo = self._fitted()
        back = _json_round_trip(topo)
        self.assertEqual('isolate', back.emulator_threads_policy)
        self.assertEqual({1, 2, 3}, back.realtime_cpus)
        self.assertEqual(topo.cpu_pinning, back.cpu_pinning)
        self.assertEqual({8}, back.cpuset_reserved)
        for mine, theirs in zip(topo.cells, back.cells):
            for name in mine.fields:
                self.assertEqual(getattr(mine, name), getattr(theirs, name),
                                 name)
        # The pinning keys survive JSON (whose keys are strings) as ints.
        self.assertEqual([0, 1], sorted(back.cells[0].cpu_pinning))

    def test_json_round_trip_keeps_none(self):
        topo = objects.InstanceNUMATopology(cells=[
            objects.InstanceNUMACell(id=0, cpuset={0}, memory=64)])
        back = _json_round_trip(topo)
        self.assertIsNone(back.realtime_cpus)
        self.assertFalse(back.is_realtime)
        self.assertIsNone(back.cells[0].cpu_pinning)
        self.assertIsNone(back.cells[0].host_node)

    @given(st.data())
    def test_json_round_trip_any_pinning(self, data):
        vcpus = data.draw(st.integers(min_value=1, max_value=16))
        split = data.draw(st.integers(min_value=0, max_value=vcpus))
        pcpus = data.draw(st.lists(st.integers(0, 255), min_size=vcpus,
                                   max_size=vcpus, unique=True))
        rt = data.draw(st.none() | st.sets(st.integers(0, vcpus - 1)))
        cells = []
        for node, members in enumerate((range(split), range(split, vcpus))):
            if not members:
                continue
            cells.append(objects.InstanceNUMACell(
                id=node, pcpuset=set(members), memory=256, host_node=node,
                cpu_policy='dedicated',
                cpu_pinning={v: pcpus[v] for v in members}))
        topo = objects.InstanceNUMATopology(cells=cells, realtime_cpus=rt)
        back = _json_round_trip(topo)
        self.assertEqual(dict(enumerate(pcpus)), back.cpu_pinning)
        self.assertEqual(set(range(vcpus)), back.vcpus)
        self.assertEqual(rt, back.realtime_cpus)
        self.assertEqual(rt is not None, back.is_realtime)


class TestFromCoerced(_ObjectsTestCase):
    """obj_from_coerced builds what the constructor builds."""

    CELL = dict(id=1, cpuset={0}, pcpuset={1, 2}, memory=1024,
                pagesize=2048, cpu_policy='mixed',
                cpu_thread_policy='isolate', cpu_pinning={1: 5, 2: 7},
                cpuset_reserved={9}, host_node=3)

    def _pair(self, cls, **values):
        return cls(**values), cls.obj_from_coerced(**values)

    def test_same_as_constructor(self):
        by_init, built = self._pair(objects.InstanceNUMACell, **self.CELL)
        self.assertEqual(by_init.obj_to_primitive(),
                         built.obj_to_primitive())
        self.assertEqual(by_init.obj_what_changed(),
                         built.obj_what_changed())
        for name in by_init.fields:
            self.assertIs(type(getattr(by_init, name)),
                          type(getattr(built, name)), name)

    def test_defaults_of_unset_fields(self):
        by_init, built = self._pair(objects.InstanceNUMACell, id=0,
                                    memory=512)
        self.assertEqual(by_init.obj_to_primitive(),
                         built.obj_to_primitive())

    def test_copies_and_still_coerces(self):
        cpus = {1, 2}
        built = objects.InstanceNUMACell.obj_from_coerced(
            id=0, memory=512, pcpuset=cpus)
        cpus.add(3)
        self.assertEqual({1, 2}, built.pcpuset)
        built.pcpuset.add('4')
        self.assertEqual({1, 2, 4}, built.pcpuset)
        self.assertRaises(ValueError, built.pcpuset.add, 'x')

    def test_builder_by_position(self):
        names = tuple(self.CELL)
        build = objects.InstanceNUMACell.obj_coerced_builder(*names)
        self.assertIs(build,
                      objects.InstanceNUMACell.obj_coerced_builder(*names))
        built = build(*self.CELL.values())
        by_init = objects.InstanceNUMACell(**self.CELL)
        self.assertEqual(by_init.obj_to_primitive(),
                         built.obj_to_primitive())
        self.assertEqual(by_init.obj_what_changed(),
                         built.obj_what_changed())
        self.assertIsNone(build(*[None if name == 'cpuset_reserved' else
                                  value for name, value in
                                  self.CELL.items()]).cpuset_reserved)
        # Fewer names: the others get their defaults.
        part = objects.InstanceNUMACell.obj_coerced_builder('id', 'memory')
        self.assertEqual(objects.InstanceNUMACell(id=2, memory=64)
                         .obj_to_primitive(), part(2, 64).obj_to_primitive())

    def test_lists_of_objects(self):
        cell = objects.InstanceNUMACell(**self.CELL)
        by_init, built = self._pair(objects.InstanceNUMATopology,
                                    cells=[cell], realtime_cpus={2},
                                    emulator_threads_policy='isolate')
        self.assertEqual(by_init.obj_to_primitive(),
                         built.obj_to_primitive())
        self.assertIs(type(by_init.cells), type(built.cells))
        self.assertRaises(ValueError, built.cells.append, 'not a cell')
