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

"""Tests of fitting guests to host NUMA topologies (nova.virt.hardware)."""

import itertools
import json

import hypothesis
from hypothesis import strategies as st

from nova import exception
from nova import objects
from nova.objects import fields
from nova import test
from nova.virt import hardware

SMALL, LARGE, ANY = (hardware.MEMPAGES_SMALL, hardware.MEMPAGES_LARGE,
                     hardware.MEMPAGES_ANY)
GiB_KB = 1024 * 1024


def make_host(cells=2, cores=4, threads=2, memory_mb=8192, pages=None,
              dedicated=None, shared=None, pinned=(), memory_usage=0):
    """A host NUMATopology numbered like x86 Linux.

    Thread t of core c of cell n is CPU ``t * total_cores + n * cores + c``
    (so with 2 cells of 4 cores the siblings are {0, 8}, {1, 9}, ...).
    ``pages`` maps page size (KiB) -> pages per cell; the small 4 KiB pool is
    always added and holds ``memory_mb``. ``dedicated``/``shared`` limit
    pcpuset/cpuset like [compute] cpu_dedicated_set/cpu_shared_set.
    """
    total_cores = cells * cores
    host_cells = []
    for node in range(cells):
        groups = [{t * total_cores + node * cores + core
                   for t in range(threads)} for core in range(cores)]
        cpus = set().union(*groups)
        mempages = [objects.NUMAPagesTopology(size_kb=4,
                                              total=memory_mb * 256)]
        for size_kb, total in sorted((pages or {}).items()):
            mempages.append(objects.NUMAPagesTopology(size_kb=size_kb,
                                                      total=total))
        host_cells.append(objects.NUMACell(
            id=node,
            cpuset=cpus & set(shared) if shared is not None else cpus,
            pcpuset=cpus & set(dedicated) if dedicated is not None else cpus,
            siblings=groups if threads > 1 else [],
            memory=memory_mb, memory_usage=memory_usage,
            mempages=mempages, pinned_cpus=cpus & set(pinned)))
    return objects.NUMATopology(cells=host_cells)


def make_request(cells, policy='dedicated', thread_policy=None,
                 pagesize=None, emulator=None, realtime=None):
    """An InstanceNUMATopology request; ``cells`` lists (vcpus, MiB)."""
    guest_cells = []
    first = 0
    for node, (vcpus, memory) in enumerate(cells):
        vcpu_ids = set(range(first, first + vcpus))
        pinned = policy in ('dedicated', 'mixed')
        guest_cells.append(objects.InstanceNUMACell(
            id=node, cpuset=set() if pinned else vcpu_ids,
            pcpuset=vcpu_ids if pinned else set(), memory=memory,
            pagesize=pagesize, cpu_policy=policy,
            cpu_thread_policy=thread_policy))
        first += vcpus
    return objects.InstanceNUMATopology(
        cells=guest_cells, emulator_threads_policy=emulator,
        realtime_cpus=realtime)


def request_from_flavor(vcpus=4, memory_mb=2048, **specs):
    flavor = objects.Flavor(name='rt', vcpus=vcpus, memory_mb=memory_mb,
                            extra_specs={k.replace('__', ':'): v
                                         for k, v in specs.items()})
    return hardware.numa_get_constraints(
        flavor, objects.ImageMeta.from_dict({}))


def cell_of(host, node):
    return next(cell for cell in host.cells if cell.id == node)


class _Base(test.TestCase):

    def pcpus(self, fitted):
        return sorted(fitted.cpu_pinning.values())

    def assertWholeCores(self, host, cell, pcpus):
        for pcpu in pcpus:
            self.assertTrue(cell_of(host, cell).sibling_set(pcpu) <= pcpus,
                            pcpu)


class FitDedicatedTest(_Base):

    def test_prefer_packs_onto_siblings(self):
        host = make_host()
        fitted = hardware.numa_fit_instance_to_host(
            host, request_from_flavor(hw__cpu_policy='dedicated'))
        cell = fitted.cells[0]
        self.assertEqual(0, cell.host_node)
        self.assertEqual({0, 1, 2, 3}, set(cell.cpu_pinning))
        # Two whole cores: {0, 8} and {1, 9}.
        self.assertEqual([0, 1, 8, 9], self.pcpus(fitted))
        self.assertEqual(cell.cpu_pinning[0], 0)
        self.assertEqual(cell.cpu_pinning[1], 8)
        self.assertIsNone(cell.cpuset_reserved)
        self.assertIsNone(cell.pagesize)

    def test_prefer_odd_count_uses_a_fragment(self):
        # Core {0, 8} is half taken: a 3-vCPU guest takes one whole core and
        # the free half rather than breaking a second whole core.
        host = make_host(pinned={0})
        fitted = hardware.numa_fit_instance_to_host(
            host, request_from_flavor(vcpus=3, hw__cpu_policy='dedicated'))
        self.assertEqual([1, 8, 9], self.pcpus(fitted))

    def test_inputs_untouched(self):
        host = make_host(pinned={1})
        request = request_from_flavor(hw__cpu_policy='dedicated')
        before = (host.obj_to_primitive(), request.obj_to_primitive())
        fitted = hardware.numa_fit_instance_to_host(host, request)
        self.assertIsNot(fitted, request)
        self.assertEqual(before, (host.obj_to_primitive(),
                                  request.obj_to_primitive()))
        self.assertIsNone(request.cells[0].cpu_pinning)

    def test_respects_pcpuset_and_pinned(self):
        # Cell 0 holds 0-3 and their siblings 8-11; 0-1 are not dedicated
        # and 2, 10 are taken, which leaves exactly 3, 8, 9 and 11.
        host = make_host(dedicated=set(range(2, 16)), pinned={2, 10})
        fitted = hardware.numa_fit_instance_to_host(
            host, request_from_flavor(hw__cpu_policy='dedicated'))
        self.assertEqual([3, 8, 9, 11], self.pcpus(fitted))
        # Five do not fit in cell 0 any more: they go to cell 1.
        fitted = hardware.numa_fit_instance_to_host(
            host, request_from_flavor(vcpus=5, memory_mb=1024,
                                      hw__cpu_policy='dedicated'))
        self.assertEqual(1, fitted.cells[0].host_node)

    def test_no_room(self):
        host = make_host(cells=1, cores=2)
        self.assertIsNone(hardware.numa_fit_instance_to_host(
            host, request_from_flavor(vcpus=5, memory_mb=1024,
                                      hw__cpu_policy='dedicated')))
        self.assertIsNotNone(hardware.numa_fit_instance_to_host(
            host, request_from_flavor(vcpus=4, memory_mb=1024,
                                      hw__cpu_policy='dedicated')))

    def test_isolate(self):
        host = make_host(pinned={0})
        fitted = hardware.numa_fit_instance_to_host(
            host, request_from_flavor(vcpus=2, hw__cpu_policy='dedicated',
                                      hw__cpu_thread_policy='isolate'))
        # Core {0, 8} is partly used; each vCPU gets a whole core of its own.
        self.assertEqual({0: 1, 1: 2}, fitted.cells[0].cpu_pinning)
        self.assertEqual({1, 2, 9, 10},
                         hardware.numa_claimed_pcpus(host, fitted))

    def test_isolate_without_smt(self):
        host = make_host(threads=1)
        fitted = hardware.numa_fit_instance_to_host(
            host, request_from_flavor(vcpus=2, hw__cpu_policy='dedicated',
                                      hw__cpu_thread_policy='isolate'))
        self.assertEqual([0, 1], self.pcpus(fitted))

    def test_isolate_needs_whole_cores(self):
        # Every core has one thread taken: 4 free pCPUs, no whole core.
        host = make_host(cells=1, cores=4, pinned={0, 1, 2, 3})
        request = request_from_flavor(vcpus=1, memory_mb=1024,
                                      hw__cpu_policy='dedicated',
                                      hw__cpu_thread_policy='isolate')
        self.assertIsNone(hardware.numa_fit_instance_to_host(host, request))

    def test_isolate_core_partly_outside_pcpuset_is_not_whole(self):
        host = make_host(cells=1, cores=2, dedicated={0, 1, 3})
        request = request_from_flavor(vcpus=1, memory_mb=1024,
                                      hw__cpu_policy='dedicated',
                                      hw__cpu_thread_policy='isolate')
        fitted = hardware.numa_fit_instance_to_host(host, request)
        self.assertEqual({0: 1}, fitted.cells[0].cpu_pinning)

    def test_require(self):
        host = make_host(pinned={0})
        fitted = hardware.numa_fit_instance_to_host(
            host, request_from_flavor(vcpus=3, hw__cpu_policy='dedicated',
                                      hw__cpu_thread_policy='require'))
        self.assertEqual({0: 1, 1: 9, 2: 2}, fitted.cells[0].cpu_pinning)
        claimed = hardware.numa_claimed_pcpus(host, fitted)
        self.assertEqual({1, 2, 9, 10}, claimed)
        self.assertWholeCores(host, 0, claimed)

    def test_require_fails_without_smt(self):
        host = make_host(threads=1)
        self.assertIsNone(hardware.numa_fit_instance_to_host(
            host, request_from_flavor(vcpus=2, hw__cpu_policy='dedicated',
                                      hw__cpu_thread_policy='require')))

    def test_emulator_isolate_reserves_one_more(self):
        host = make_host()
        fitted = hardware.numa_fit_instance_to_host(host, request_from_flavor(
            hw__cpu_policy='dedicated', hw__emulator_threads_policy='isolate'))
        cell = fitted.cells[0]
        self.assertEqual(1, len(cell.cpuset_reserved))
        self.assertFalse(cell.cpuset_reserved & set(cell.cpu_pinning.values()))
        self.assertLessEqual(cell.cpuset_reserved, cell_of(host, 0).pcpuset)
        self.assertEqual(cell.cpuset_reserved, fitted.cpuset_reserved)

    def test_emulator_isolate_with_isolate_threads(self):
        host = make_host()
        fitted = hardware.numa_fit_instance_to_host(host, request_from_flavor(
            vcpus=2, hw__cpu_policy='dedicated',
            hw__cpu_thread_policy='isolate',
            hw__emulator_threads_policy='isolate'))
        self.assertEqual({0: 0, 1: 1}, fitted.cells[0].cpu_pinning)
        self.assertEqual({2}, fitted.cells[0].cpuset_reserved)
        self.assertEqual({0, 1, 2, 8, 9, 10},
                         hardware.numa_claimed_pcpus(host, fitted))

    def test_isolate_emulator_whole_core(self):
        # Deliberate difference from upstream: under the isolate thread
        # policy the emulator pCPU needs a whole free core as well; a
        # thread whose sibling is pinned by another guest does not do.
        host = make_host(cells=1, cores=3, pinned={0})
        request = request_from_flavor(
            vcpus=2, memory_mb=1024, hw__cpu_policy='dedicated',
            hw__cpu_thread_policy='isolate',
            hw__emulator_threads_policy='isolate')
        self.assertIsNone(hardware.numa_fit_instance_to_host(host, request))
        fitted = hardware.numa_fit_instance_to_host(
            make_host(cells=1, cores=3), request)
        self.assertEqual({2}, fitted.cells[0].cpuset_reserved)

    def test_emulator_pcpu_makes_the_difference(self):
        host = make_host(cells=1, cores=2)
        request = request_from_flavor(hw__cpu_policy='dedicated',
                                      hw__emulator_threads_policy='isolate')
        self.assertIsNone(hardware.numa_fit_instance_to_host(host, request))

    def test_emulator_pcpu_only_on_first_cell(self):
        host = make_host()
        fitted = hardware.numa_fit_instance_to_host(host, request_from_flavor(
            hw__cpu_policy='dedicated', hw__numa_nodes='2',
            hw__emulator_threads_policy='isolate'))
        self.assertEqual(1, len(fitted.cells[0].cpuset_reserved))
        self.assertIsNone(fitted.cells[1].cpuset_reserved)


def _primitive(obj):
    """obj_to_primitive() with every change list sorted:

    the changes are a set, so their listed order depends on hashing and
    insertion history.
    """
    def normalise(value):
        if isinstance(value, dict):
            return {key: (sorted(item) if key == 'nova_object.changes'
                          else normalise(item))
                    for key, item in value.items()}
        if isinstance(value, list):
            return [normalise(item) for item in value]
        return value
    return normalise(obj.obj_to_primitive())


class BuildTest(_Base):
    """Fitted objects are ordinary objects."""

    def test_built_by_constructors(self):
        fitted = hardware.numa_fit_instance_to_host(
            make_host(), request_from_flavor(
                hw__cpu_policy='dedicated', hw__cpu_realtime='yes'))
        again = objects.InstanceNUMATopology(
            cells=[objects.InstanceNUMACell(
                **{name: getattr(cell, name) for name in cell.fields})
                for cell in fitted.cells],
            realtime_cpus=fitted.realtime_cpus,
            emulator_threads_policy=fitted.emulator_threads_policy)
        self.assertEqual(_primitive(again), _primitive(fitted))

    def test_fitted_round_trips(self):
        fitted = hardware.numa_fit_instance_to_host(
            make_host(), request_from_flavor(
                hw__cpu_policy='dedicated', hw__numa_nodes='2',
                hw__cpu_realtime='yes', hw__emulator_threads_policy='isolate'))
        primitive = json.loads(json.dumps(fitted.obj_to_primitive()))
        again = objects.InstanceNUMATopology.obj_from_primitive(primitive)
        self.assertEqual(fitted.cpu_pinning, again.cpu_pinning)
        self.assertEqual(fitted.cpuset_reserved, again.cpuset_reserved)
        # No mask: ^0, whatever the emulator threads policy.
        self.assertEqual({1, 2, 3}, again.realtime_cpus)
        self.assertEqual([0, 1], [cell.host_node for cell in again.cells])


class FitNUMATest(_Base):

    def test_two_cells_on_two_host_cells(self):
        host = make_host()
        fitted = hardware.numa_fit_instance_to_host(host, request_from_flavor(
            hw__cpu_policy='dedicated', hw__numa_nodes='2'))
        self.assertEqual([0, 1], [cell.host_node for cell in fitted.cells])
        for cell in fitted.cells:
            host_cell = cell_of(host, cell.host_node)
            self.assertLessEqual(set(cell.cpu_pinning.values()),
                                 host_cell.pcpuset)

    def test_more_guest_cells_than_host_cells(self):
        host = make_host(cells=2)
        self.assertIsNone(hardware.numa_fit_instance_to_host(
            host, request_from_flavor(hw__numa_nodes='4')))

    def test_needs_augmenting_path(self):
        # Host cell 0 has 4 free pCPUs, host cell 1 only 2. Guest cell 0
        # (2 vCPUs) fits both, guest cell 1 (4 vCPUs) only host cell 0: the
        # match moves guest cell 0 to host cell 1.
        host = make_host(cells=2, cores=2, pinned={2, 6})
        request = make_request([(2, 1024), (4, 1024)])
        fitted = hardware.numa_fit_instance_to_host(host, request)
        self.assertEqual([1, 0], [cell.host_node for cell in fitted.cells])

    def test_prefers_low_host_cells(self):
        host = make_host(cells=4, cores=2)
        fitted = hardware.numa_fit_instance_to_host(
            host, make_request([(2, 1024), (2, 1024)]))
        self.assertEqual([0, 1], [cell.host_node for cell in fitted.cells])
        again = hardware.numa_fit_instance_to_host(
            host, make_request([(2, 1024), (2, 1024)]))
        self.assertEqual(fitted.obj_to_primitive(), again.obj_to_primitive())

    def test_skips_full_host_cell(self):
        host = make_host(cells=2, cores=2, pinned={0, 1, 4, 5})
        fitted = hardware.numa_fit_instance_to_host(host, make_request(
            [(2, 1024)]))
        self.assertEqual(1, fitted.cells[0].host_node)

    def test_shared_guest(self):
        host = make_host(cells=2, cores=2, pinned={0, 1, 4, 5})
        fitted = hardware.numa_fit_instance_to_host(host, request_from_flavor(
            hw__numa_nodes='2'))
        self.assertEqual([0, 1], [cell.host_node for cell in fitted.cells])
        self.assertEqual({}, fitted.cpu_pinning)
        self.assertIsNone(fitted.cells[0].cpu_pinning)
        self.assertEqual(set(), hardware.numa_claimed_pcpus(host, fitted))

    def test_shared_guest_cell_bigger_than_host_cell(self):
        host = make_host(cells=2, cores=1)
        self.assertIsNone(hardware.numa_fit_instance_to_host(
            host, make_request([(3, 1024)], policy=None)))

    def test_large_host(self):
        # 16 cells x 32 cores x 2 threads, nearly full: in every cell two
        # whole cores (30, 31) and one thread of core 29 are free.
        free = {t * 512 + n * 32 + core for n in range(16)
                for core in (30, 31) for t in (0, 1)}
        free |= {n * 32 + 29 for n in range(16)}
        host = make_host(cells=16, cores=32, pinned=set(range(1024)) - free,
                         pages={2048: 4096})
        request = request_from_flavor(
            vcpus=16, memory_mb=16384, hw__cpu_policy='dedicated',
            hw__numa_nodes='8', hw__cpu_thread_policy='isolate',
            hw__mem_page_size='large')
        fitted = hardware.numa_fit_instance_to_host(host, request)
        self.assertEqual(list(range(8)),
                         [cell.host_node for cell in fitted.cells])
        self.assertEqual(2048, fitted.cells[0].pagesize)
        self.assertEqual({2: 62, 3: 63}, fitted.cells[1].cpu_pinning)
        request = request_from_flavor(
            vcpus=32, memory_mb=16384, hw__cpu_policy='dedicated',
            hw__numa_nodes='8', hw__cpu_thread_policy='isolate')
        self.assertIsNone(hardware.numa_fit_instance_to_host(host, request))


class FitMemoryTest(_Base):

    def fit(self, host, memory_mb, pagesize, **kw):
        return hardware.numa_fit_instance_to_host(
            host, make_request([(2, memory_mb)], pagesize=pagesize, **kw))

    def test_small_pages(self):
        host = make_host(cells=1, memory_mb=4096, memory_usage=3072)
        self.assertIsNone(self.fit(host, 2048, None))
        self.assertIsNone(self.fit(host, 2048, SMALL))
        fitted = self.fit(host, 1024, SMALL)
        self.assertEqual(4, fitted.cells[0].pagesize)
        self.assertIsNone(self.fit(host, 1024, None).cells[0].pagesize)

    def test_large_takes_largest_that_fits(self):
        host = make_host(cells=1, pages={2048: 1024, GiB_KB: 2})
        self.assertEqual(GiB_KB, self.fit(host, 2048, LARGE).cells[0].pagesize)
        # 3 GiB is more than the two 1 GiB pages: 2 MiB pages.
        self.assertEqual(2048, self.fit(host, 1536, LARGE).cells[0].pagesize)
        self.assertIsNone(self.fit(host, 4096, LARGE))

    def test_large_skips_sizes_not_dividing_memory(self):
        host = make_host(cells=1, pages={2048: 1024, GiB_KB: 4})
        self.assertEqual(2048, self.fit(host, 1536, LARGE).cells[0].pagesize)

    def test_specific_size(self):
        host = make_host(cells=1, pages={2048: 1024, GiB_KB: 4})
        self.assertEqual(2048, self.fit(host, 2048, 2048).cells[0].pagesize)
        self.assertIsNone(self.fit(host, 1024, 16384))
        self.assertIsNone(self.fit(host, 4096, 2048))

    def test_any_falls_back_to_small(self):
        host = make_host(cells=1, pages={2048: 8})
        self.assertEqual(2048, self.fit(host, 16, ANY).cells[0].pagesize)
        self.assertEqual(4, self.fit(host, 1024, ANY).cells[0].pagesize)
        self.assertIsNone(self.fit(host, 1024, LARGE))

    def test_used_pages_count(self):
        host = make_host(cells=2, pages={GiB_KB: 2})
        cell_of(host, 0).mempages[1].used = 1
        fitted = self.fit(host, 2048, GiB_KB)
        self.assertEqual(1, fitted.cells[0].host_node)


class UpstreamSignatureTest(_Base):
    """numa_fit_instance_to_host takes upstream Nova's arguments."""

    def test_provider_mapping_positional_or_keyword(self):
        request = request_from_flavor(hw__cpu_policy='dedicated')
        expected = hardware.numa_fit_instance_to_host(make_host(), request)
        for fitted in (
                hardware.numa_fit_instance_to_host(make_host(), request,
                                                   None),
                hardware.numa_fit_instance_to_host(
                    make_host(), request, provider_mapping={'r': ['u']},
                    limits=None, pci_requests=None, pci_stats=None)):
            self.assertEqual(_primitive(expected), _primitive(fitted))

    def test_pci_is_refused(self):
        request = request_from_flavor(hw__cpu_policy='dedicated')
        self.assertRaises(NotImplementedError,
                          hardware.numa_fit_instance_to_host, make_host(),
                          request, None, pci_requests=['a request'])
        self.assertRaises(NotImplementedError,
                          hardware.numa_fit_instance_to_host, make_host(),
                          request, None, pci_stats=object())
        # No requests at all is fine.
        self.assertIsNotNone(hardware.numa_fit_instance_to_host(
            make_host(), request, None, pci_requests=[]))

    def test_limits_bound_floating_cells(self):
        class Limits(object):
            cpu_allocation_ratio = 1.0
            ram_allocation_ratio = 1.0

        host = make_host(cells=1, cores=2, threads=1, memory_mb=4096,
                         memory_usage=1024, shared={0})
        request = request_from_flavor(vcpus=1, memory_mb=2048,
                                      hw__numa_nodes='1')
        self.assertIsNotNone(hardware.numa_fit_instance_to_host(
            host, request, None, limits=Limits()))
        # Two floating vCPUs on one shared CPU at ratio 1: refused; without
        # limits they fit (the host cell has two CPUs).
        two = request_from_flavor(vcpus=2, memory_mb=2048,
                                  hw__numa_nodes='1')
        self.assertIsNone(hardware.numa_fit_instance_to_host(
            host, two, None, limits=Limits()))
        self.assertIsNotNone(hardware.numa_fit_instance_to_host(host, two))
        # Memory: 1024 used + 2048 asked > 4096 * 0.5.
        Limits.ram_allocation_ratio = 0.5
        self.assertIsNone(hardware.numa_fit_instance_to_host(
            host, request, None, limits=Limits()))
        # A ratio above 1 never overcommits the free memory.
        Limits.ram_allocation_ratio = 16.0
        big = request_from_flavor(vcpus=1, memory_mb=4096,
                                  hw__numa_nodes='1')
        self.assertIsNone(hardware.numa_fit_instance_to_host(
            host, big, None, limits=Limits()))

    def test_limits_ignored_for_dedicated_cells(self):
        class Limits(object):
            cpu_allocation_ratio = 0.0
            ram_allocation_ratio = 0.0

        self.assertIsNotNone(hardware.numa_fit_instance_to_host(
            make_host(), request_from_flavor(hw__cpu_policy='dedicated'),
            None, limits=Limits()))


class UsageTest(_Base):

    def test_usage_added(self):
        host = make_host(pages={2048: 1024})
        first = hardware.numa_fit_instance_to_host(host, request_from_flavor(
            vcpus=3, hw__cpu_policy='dedicated', hw__mem_page_size='2MB'))
        self.assertEqual({0, 1, 8}, hardware.numa_claimed_pcpus(host, first))
        step = hardware.numa_usage_from_instance_numa(host, first)
        second = hardware.numa_fit_instance_to_host(step, request_from_flavor(
            vcpus=2, memory_mb=1024, hw__cpu_policy='dedicated',
            hw__cpu_thread_policy='isolate'))
        self.assertEqual({2, 3, 10, 11},
                         hardware.numa_claimed_pcpus(host, second))
        usage = hardware.numa_usage_from_instance_numa(step, second)
        self.assertIs(step, hardware.numa_usage_from_instance_numa(step,
                                                                   None))
        self.assertIsNot(usage, host)
        self.assertEqual(set(), host.pinned_cpus)
        self.assertEqual(0, cell_of(host, 0).pages(2048).used)
        cell = cell_of(usage, 0)
        self.assertEqual({0, 1, 2, 3, 8, 10, 11}, cell.pinned_cpus)
        self.assertEqual(1024, cell.memory_usage)
        self.assertEqual(1024 * 256, cell.pages(4).used)
        self.assertEqual(1024, cell.pages(2048).used)
        self.assertEqual(set(), cell_of(usage, 1).pinned_cpus)
        # free=True takes a guest's usage away again.
        back = hardware.numa_usage_from_instance_numa(usage, second,
                                                      free=True)
        back = hardware.numa_usage_from_instance_numa(back, first, free=True)
        self.assertEqual(_primitive(host.cells[0]),
                         _primitive(back.cells[0]))

    def test_free_unpinned_raises(self):
        host = make_host()
        guest = hardware.numa_fit_instance_to_host(
            host, request_from_flavor(hw__cpu_policy='dedicated'))
        e = self.assertRaises(exception.InternalError,
                              hardware.numa_usage_from_instance_numa,
                              host, guest, free=True)
        self.assertIn('not pinned', str(e))

    def test_upstream_style_cell_ids(self):
        # A topology fitted the upstream way names the host cell in id.
        host = make_host(cells=2)
        guest = objects.InstanceNUMATopology(cells=[objects.InstanceNUMACell(
            id=1, cpuset=set(), pcpuset={0}, memory=512,
            cpu_policy='dedicated', cpu_pinning={0: 20})])
        usage = hardware.numa_usage_from_instance_numa(host, guest)
        self.assertEqual({20}, cell_of(usage, 1).pinned_cpus)
        self.assertEqual(512, cell_of(usage, 1).memory_usage)

    def test_double_pinning_raises(self):
        host = make_host()
        guest = hardware.numa_fit_instance_to_host(
            host, request_from_flavor(hw__cpu_policy='dedicated'))
        once = hardware.numa_usage_from_instance_numa(host, guest)
        e = self.assertRaises(exception.InternalError,
                              hardware.numa_usage_from_instance_numa,
                              once, guest)
        self.assertIn('0-1,8-9', str(e))
        self.assertIn('more than one', str(e))

    def test_unknown_host_cell(self):
        host = make_host(cells=2)
        guest = hardware.numa_fit_instance_to_host(
            host, request_from_flavor(hw__numa_nodes='2',
                                      hw__cpu_policy='dedicated'))
        e = self.assertRaises(exception.InternalError,
                              hardware.numa_usage_from_instance_numa,
                              make_host(cells=1), guest)
        self.assertIn('host NUMA node 1', str(e))

    def test_missing_page_pool(self):
        guest = hardware.numa_fit_instance_to_host(
            make_host(pages={2048: 1024}),
            request_from_flavor(hw__mem_page_size='2MB'))
        e = self.assertRaises(exception.InternalError,
                              hardware.numa_usage_from_instance_numa,
                              make_host(), guest)
        self.assertIn('2048 KiB pages', str(e))

    def test_refit_after_usage(self):
        host = make_host(cells=1, cores=4)
        request = request_from_flavor(vcpus=2, memory_mb=1024,
                                      hw__cpu_policy='dedicated',
                                      hw__cpu_thread_policy='isolate')
        for _ in range(2):
            fitted = hardware.numa_fit_instance_to_host(host, request)
            host = hardware.numa_usage_from_instance_numa(host, fitted)
        # Two guests of two isolated vCPUs take all four cores.
        self.assertEqual(set(range(8)), host.pinned_cpus)
        self.assertEqual(2048, host.cells[0].memory_usage)
        self.assertIsNone(hardware.numa_fit_instance_to_host(host, request))


class EmulatorThreadPCPUsTest(_Base):

    def fit(self, host=None, **specs):
        specs.setdefault('hw__cpu_policy', 'dedicated')
        return hardware.numa_fit_instance_to_host(
            host or make_host(dedicated=set(range(4, 16))),
            request_from_flavor(**specs))

    def test_isolate(self):
        fitted = self.fit(hw__emulator_threads_policy='isolate',
                          hw__cpu_realtime='yes', hw__cpu_realtime_mask='0-3')
        self.assertEqual(fitted.cells[0].cpuset_reserved,
                         hardware.get_emulator_thread_pcpus(fitted))

    def test_share_uses_cpu_shared_set(self):
        fitted = self.fit(hw__emulator_threads_policy='share',
                          hw__cpu_realtime='yes')
        self.assertEqual({0, 1}, hardware.get_emulator_thread_pcpus(
            fitted, shared_set={0, 1}))

    def test_share_reads_no_config(self):
        # The caller passes the shared set; nova.conf is not read.
        self.flags(cpu_shared_set='0-1', group='compute')
        fitted = self.fit(hw__emulator_threads_policy='share',
                          hw__cpu_realtime='yes')
        self.assertRaises(exception.ConfigurationInvalid,
                          hardware.get_emulator_thread_pcpus, fitted)

    def test_share_without_shared_set_realtime(self):
        fitted = self.fit(hw__emulator_threads_policy='share',
                          hw__cpu_realtime='yes')
        e = self.assertRaises(exception.ConfigurationInvalid,
                              hardware.get_emulator_thread_pcpus, fitted,
                              shared_set=None)
        self.assertIn('[compute] cpu_shared_set', str(e))
        self.assertIn('real-time', str(e))

    def test_share_without_shared_set_not_realtime(self):
        fitted = self.fit(hw__emulator_threads_policy='share')
        self.assertEqual(set(fitted.cpu_pinning.values()),
                         hardware.get_emulator_thread_pcpus(fitted))

    def test_realtime_uses_pcpus_of_housekeeping_vcpus(self):
        fitted = self.fit(hw__cpu_realtime='yes',
                          hw__cpu_realtime_mask='^0-1')
        pinning = fitted.cpu_pinning
        expected = {pinning[0], pinning[1]}
        self.assertEqual(expected, hardware.get_emulator_thread_pcpus(fitted))
        # Host pCPU numbers, not guest vCPU numbers.
        self.assertFalse(expected & {0, 1, 2, 3})

    def test_not_realtime(self):
        fitted = self.fit()
        self.assertEqual(set(fitted.cpu_pinning.values()),
                         hardware.get_emulator_thread_pcpus(fitted))

    def test_shared_guest(self):
        fitted = hardware.numa_fit_instance_to_host(
            make_host(), request_from_flavor(hw__numa_nodes='2'))
        self.assertEqual(set(), hardware.get_emulator_thread_pcpus(fitted))


# -- properties -------------------------------------------------------------

THREAD_POLICIES = [None] + list(fields.CPUThreadAllocationPolicy.ALL)


@st.composite
def hosts(draw):
    cells = draw(st.integers(1, 3))
    cores = draw(st.integers(1, 5))
    threads = draw(st.sampled_from([1, 2, 2, 4]))
    total = cells * cores * threads
    all_cpus = list(range(total))
    dedicated = draw(st.one_of(st.none(), st.sets(st.sampled_from(all_cpus),
                                                  min_size=1)))
    pinned = draw(st.sets(st.sampled_from(all_cpus)))
    pages = {2048: draw(st.integers(0, 2048)),
             GiB_KB: draw(st.integers(0, 3))}
    return make_host(cells=cells, cores=cores, threads=threads,
                     memory_mb=draw(st.sampled_from([2048, 4096, 8192])),
                     pages=pages, dedicated=dedicated, pinned=pinned)


@st.composite
def requests(draw):
    count = draw(st.integers(1, 3))
    cells = [(draw(st.integers(1, 4)),
              draw(st.sampled_from([512, 1024, 2048]))) for _ in range(count)]
    dedicated = draw(st.booleans())
    return make_request(
        cells, policy='dedicated' if dedicated else None,
        thread_policy=draw(st.sampled_from(THREAD_POLICIES))
        if dedicated else None,
        pagesize=draw(st.sampled_from([None, SMALL, LARGE, ANY, 2048,
                                       GiB_KB])),
        emulator=draw(st.sampled_from([None, 'isolate']))
        if dedicated else None)


def _oracle_pair_fits(host_cell, guest_cell, need, dedicated, policy):
    """Independent, slow restatement of the per-pair rule."""
    free = host_cell.pcpuset - host_cell.pinned_cpus
    groups = [set(g) for g in host_cell.siblings]
    groups += [{cpu} for cpu in host_cell.pcpuset
               if not any(cpu in g for g in host_cell.siblings)]
    if not dedicated:
        cpus_ok = need <= len(host_cell.cpuset | host_cell.pcpuset)
    elif policy == 'isolate':
        cpus_ok = sum(1 for g in groups if g <= free) >= need
    elif policy == 'require':
        cpus_ok = sum(len(g) for g in groups
                      if len(g) > 1 and g <= free) >= need
    else:
        cpus_ok = len(free) >= need
    if not cpus_ok:
        return False
    need_kb = guest_cell.memory * 1024
    small_ok = (host_cell.avail_memory >= guest_cell.memory and
                host_cell.pages(4).free_kb >= need_kb)
    huge = [p for p in host_cell.mempages if p.size_kb > 4 and
            need_kb % p.size_kb == 0 and p.free_kb >= need_kb]
    size = guest_cell.pagesize
    if size in (None, SMALL):
        return small_ok
    if size == LARGE:
        return bool(huge)
    if size == ANY:
        return bool(huge) or small_ok
    return any(p.size_kb == size for p in huge)


def _oracle_fits(host, request):
    """Brute force over host cell permutations."""
    needs = []
    for index, cell in enumerate(request.cells):
        extra = (index == 0 and cell.cpu_pinning_requested and
                 request.emulator_threads_policy == 'isolate')
        needs.append(len(cell.total_cpus) + int(extra))
    for perm in itertools.permutations(host.cells, len(request.cells)):
        if all(_oracle_pair_fits(h, g, n, g.cpu_pinning_requested,
                                 g.cpu_thread_policy)
               for h, g, n in zip(perm, request.cells, needs)):
            return True
    return False


class FitPropertiesTest(_Base):

    def check_fit(self, host, request, fitted):
        nodes = [cell.host_node for cell in fitted.cells]
        self.assertEqual(len(nodes), len(set(nodes)))
        for guest_cell, cell in zip(request.cells, fitted.cells):
            host_cell = cell_of(host, cell.host_node)
            self.assertEqual(guest_cell.cpuset, cell.cpuset)
            self.assertEqual(guest_cell.pcpuset, cell.pcpuset)
            self.assertEqual(guest_cell.memory, cell.memory)
            if not guest_cell.cpu_pinning_requested:
                self.assertIsNone(cell.cpu_pinning)
                continue
            pinned = list(cell.cpu_pinning.values())
            reserved = cell.cpuset_reserved or set()
            taken = set(pinned) | reserved
            self.assertEqual(set(cell.pcpuset), set(cell.cpu_pinning))
            self.assertEqual(len(pinned) + len(reserved), len(taken))
            self.assertLessEqual(taken, host_cell.pcpuset -
                                 host_cell.pinned_cpus)
            claimed = hardware.numa_claimed_pcpus(host, fitted)
            if cell.cpu_thread_policy == 'isolate':
                for pcpu in taken:
                    siblings = host_cell.sibling_set(pcpu)
                    # The whole core was free, and is this pCPU's alone.
                    self.assertFalse(siblings & host_cell.pinned_cpus)
                    self.assertEqual({pcpu}, siblings & taken)
                    self.assertLessEqual(siblings, claimed)
            if cell.cpu_thread_policy == 'require':
                for pcpu in taken:
                    siblings = host_cell.sibling_set(pcpu)
                    self.assertGreater(len(siblings), 1)
                    self.assertFalse(siblings & host_cell.pinned_cpus)
                    self.assertLessEqual(siblings, claimed)
        for cell in fitted.cells:
            host_cell = cell_of(host, cell.host_node)
            size = cell.pagesize
            if size is None or size == 4:
                self.assertGreaterEqual(host_cell.avail_memory, cell.memory)
            else:
                self.assertEqual(0, cell.memory * 1024 % size)
                self.assertGreaterEqual(host_cell.pages(size).free_kb,
                                        cell.memory * 1024)

    @hypothesis.settings(max_examples=150, deadline=None)
    @hypothesis.given(hosts(), st.lists(requests(), min_size=1, max_size=6))
    def test_repeated_fits_hold_every_rule(self, host, guest_requests):
        for request in guest_requests:
            fitted = hardware.numa_fit_instance_to_host(host, request)
            self.assertEqual(fitted is not None, _oracle_fits(host, request))
            if fitted is None:
                continue
            self.check_fit(host, request, fitted)
            # Feeding usage back never double-pins (InternalError).
            new_host = hardware.numa_usage_from_instance_numa(host, fitted)
            self.assertEqual(
                host.pinned_cpus | hardware.numa_claimed_pcpus(host, fitted),
                new_host.pinned_cpus)
            for cell in new_host.cells:
                self.assertLessEqual(cell.memory_usage, cell.memory)
                for pages in cell.mempages:
                    self.assertLessEqual(pages.used, pages.total)
            host = new_host

    @hypothesis.settings(max_examples=300, deadline=None)
    @hypothesis.given(hosts(), requests(),
                      st.sampled_from([None, (1.0, 1.0), (4.0, 1.5),
                                       (0.5, 0.5)]))
    def test_fits_host_answers_as_the_fit(self, host, request, ratios):
        # The scheduler's yes/no never differs from the fit itself.
        limits = None
        if ratios is not None:

            class Limits(object):
                cpu_allocation_ratio, ram_allocation_ratio = ratios
            limits = Limits()
        fitted = hardware.numa_fit_instance_to_host(host, request,
                                                    limits=limits)
        self.assertEqual(fitted is not None,
                         hardware.numa_instance_fits_host(host, request,
                                                          limits=limits))

    def test_fits_host_on_the_bench_cases(self):
        from nova.tests.bench import fit_bench
        hosts = fit_bench.host_specs()
        built = {(state, spec['name']): fit_bench.build_host(spec)
                 for state, spec, _count in hosts}
        for case in fit_bench.cases(hosts):
            host = built[case['state'], case['host']]
            request = fit_bench.build_guest(case['guest'])
            self.assertEqual(
                hardware.numa_fit_instance_to_host(host, request) is not None,
                hardware.numa_instance_fits_host(host, request), case)

    def test_fits_host_refuses_pci_and_none(self):
        host = make_host()
        request = make_request([(2, 1024)])
        self.assertTrue(hardware.numa_instance_fits_host(host, request))
        self.assertFalse(hardware.numa_instance_fits_host(None, request))
        self.assertFalse(hardware.numa_instance_fits_host(host, None))
        self.assertRaises(NotImplementedError,
                          hardware.numa_instance_fits_host, host, request,
                          pci_stats=object())


class AddMemoryUsageTest(_Base):
    """The one page accounting rule, for fitted guests and domain XML."""

    def _cell(self):
        return make_host(cells=1, memory_mb=4096,
                         pages={2048: 512, 1048576: 2}).cells[0]

    def test_small_pages_and_request_words(self):
        for pagesize in (None, 4, hardware.MEMPAGES_SMALL,
                         hardware.MEMPAGES_LARGE, hardware.MEMPAGES_ANY):
            cell = self._cell()
            self.assertTrue(hardware.add_memory_usage(cell, pagesize,
                                                      1024 * 1024))
            self.assertEqual(1024, cell.memory_usage, pagesize)
            self.assertEqual(262144, cell.pages(4).used, pagesize)

    def test_default_huge_is_the_first_huge_size(self):
        cell = self._cell()
        self.assertTrue(hardware.add_memory_usage(
            cell, hardware.MEMPAGES_DEFAULT_HUGE, 1024 * 1024))
        self.assertEqual(512, cell.pages(2048).used)
        self.assertEqual(0, cell.memory_usage)

    def test_missing_pool_counts_nothing(self):
        cell = make_host(cells=1).cells[0]
        for pagesize in (2048, hardware.MEMPAGES_DEFAULT_HUGE):
            self.assertFalse(hardware.add_memory_usage(cell, pagesize, 2048))
        self.assertEqual(0, cell.memory_usage)

    def test_uncount_stops_at_zero(self):
        cell = self._cell()
        hardware.add_memory_usage(cell, 1048576, 1048576, sign=-1)
        self.assertEqual(0, cell.pages(1048576).used)


# -- pick's shortcuts against the plain rule ---------------------------------

def _reference_pick(free, siblings, count, policy):
    """How a host cell picks pCPUs, stated plainly: cores sorted by their
    lowest thread; prefer fills the cores with the most free threads first
    and gives a remainder to the smallest core holding it.
    """
    singles = [(cpu,) for cpu in free.difference(*siblings)]
    whole = sorted([g for g in siblings if g <= free] + singles, key=min)
    if policy == 'isolate':
        return [min(core) for core in whole[:count]]
    if policy == 'require':
        threads = []
        for core in whole:
            if len(core) > 1:
                threads.extend(sorted(core))
                if len(threads) >= count:
                    break
        return threads[:count]
    by_free = {}
    for group in siblings:
        if free & group:
            by_free.setdefault(len(free & group), []).append(free & group)
    if singles:
        by_free.setdefault(1, []).extend(singles)
    chosen, remaining = [], count
    for size in sorted(by_free, reverse=True):
        if size > remaining:
            continue
        for threads in sorted(by_free.pop(size), key=min):
            if size > remaining:
                by_free[size] = [threads]
                break
            chosen.extend(sorted(threads))
            remaining -= size
        if not remaining:
            return chosen
    size = min(by_free)
    chosen.extend(sorted(min(by_free[size], key=min))[:remaining])
    return chosen


@st.composite
def host_cells(draw):
    """A host cell: disjoint sibling groups of 1 to 4 threads (all of one
    size, or mixed), maybe pCPUs in no group, some not dedicated, some
    pinned.
    """
    sizes = draw(st.one_of(
        st.sampled_from([1, 2, 3, 4]).flatmap(
            lambda size: st.lists(st.just(size), min_size=1, max_size=12)),
        st.lists(st.integers(1, 4), min_size=1, max_size=12)))
    cpus = list(range(sum(sizes) + draw(st.integers(0, 3))))
    order = draw(st.permutations(cpus))
    groups, start = [], 0
    for size in sizes:
        groups.append(set(order[start:start + size]))
        start += size
    groups = draw(st.permutations(groups))
    dedicated = set(cpus) - draw(st.sets(st.sampled_from(cpus),
                                         max_size=3))
    pinned = draw(st.sets(st.sampled_from(cpus)))
    return objects.NUMACell(
        id=0, cpuset=set(cpus) - dedicated, pcpuset=dedicated,
        siblings=list(groups), memory=1024, pinned_cpus=pinned,
        mempages=[objects.NUMAPagesTopology(size_kb=4, total=262144)])


class PickTest(test.TestCase):

    @hypothesis.settings(max_examples=400, deadline=None)
    @hypothesis.given(host_cells(), st.integers(0, 60),
                      st.sampled_from([None, 'prefer', 'isolate',
                                       'require']))
    def test_pick_as_the_plain_rule(self, cell, count, policy):
        from nova.virt import hardware_fit
        host = hardware_fit._HostCell(cell)
        hypothesis.assume(host.cpus_fit(count, True, policy))
        free = set(cell.pcpuset) - set(cell.pinned_cpus)
        siblings = [set(group) for group in cell.siblings]
        hypothesis.assume(free or count)
        self.assertEqual(_reference_pick(free, siblings, count, policy),
                         host.pick(count, policy))
