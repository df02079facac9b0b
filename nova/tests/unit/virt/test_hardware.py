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

"""Tests of the flavor/image constraint rules of nova.virt.hardware."""

import time

import hypothesis
from hypothesis import strategies as st

from nova import exception
from nova import objects
from nova import test
from nova.virt import hardware
from nova.virt.libvirt import host as host_mod

DEDICATED = {'hw:cpu_policy': 'dedicated'}
REALTIME = {'hw:cpu_policy': 'dedicated', 'hw:cpu_realtime': 'yes'}


def make_flavor(vcpus=4, memory_mb=2048, **specs):
    return objects.Flavor(name='f', vcpus=vcpus, memory_mb=memory_mb,
                          extra_specs=specs)


def make_image(**props):
    return objects.ImageMeta.from_dict({'name': 'i', 'properties': props})


def specs(*dicts, **more):
    merged = {}
    for d in dicts:
        merged.update(d)
    merged.update({key.replace('__', ':'): value
                   for key, value in more.items()})
    return merged


class _Base(test.TestCase):

    def assertMessage(self, exc, *parts):
        for part in parts:
            self.assertIn(part, str(exc))


class CPUPolicyTest(_Base):

    def get(self, flavor_specs, **props):
        return hardware.get_cpu_policy_constraint(
            make_flavor(**flavor_specs), make_image(**props))

    def test_unset(self):
        self.assertIsNone(self.get({}))

    def test_flavor(self):
        self.assertEqual('dedicated', self.get(DEDICATED))

    def test_image_when_flavor_unset(self):
        self.assertEqual('dedicated', self.get({}, hw_cpu_policy='dedicated'))

    def test_both_agree(self):
        self.assertEqual('shared', self.get({'hw:cpu_policy': 'shared'},
                                            hw_cpu_policy='shared'))

    def test_conflicts(self):
        # Upstream's ImageCPUPinningForbidden: the image asks for more
        # pinning than the flavor allows.
        for flavor_value, image_value in (('shared', 'dedicated'),
                                          ('shared', 'mixed'),
                                          ('mixed', 'dedicated')):
            e = self.assertRaises(exception.ImageCPUPinningForbidden,
                                  self.get, {'hw:cpu_policy': flavor_value},
                                  hw_cpu_policy=image_value)
            self.assertIsInstance(e, exception.PropertyConflict)
            self.assertMessage(e, 'hw:cpu_policy', repr(flavor_value),
                               'hw_cpu_policy', repr(image_value))

    def test_flavor_policy_stands(self):
        # As upstream: the image's choice under a flavor that pins at least
        # as much is ignored.
        for flavor_value, image_value in (('dedicated', 'shared'),
                                          ('dedicated', 'mixed'),
                                          ('mixed', 'shared')):
            self.assertEqual(flavor_value,
                             self.get({'hw:cpu_policy': flavor_value},
                                      hw_cpu_policy=image_value))

    def test_invalid_flavor_value(self):
        e = self.assertRaises(exception.InvalidCPUAllocationPolicy, self.get,
                              {'hw:cpu_policy': 'dedicate'})
        self.assertMessage(e, 'hw:cpu_policy', "'dedicate'", 'dedicated')

    def test_no_image_meta(self):
        self.assertEqual('dedicated', hardware.get_cpu_policy_constraint(
            make_flavor(**DEDICATED), None))


class ThreadAndEmulatorPolicyTest(_Base):

    def test_thread_policy(self):
        flavor = make_flavor(**specs(DEDICATED,
                                     hw__cpu_thread_policy='isolate'))
        self.assertEqual('isolate', hardware.get_cpu_thread_policy_constraint(
            flavor, make_image()))

    def test_thread_policy_from_image(self):
        self.assertEqual('require', hardware.get_cpu_thread_policy_constraint(
            make_flavor(**DEDICATED),
            make_image(hw_cpu_thread_policy='require')))

    def test_thread_policy_needs_dedicated(self):
        # The getter only reads the policy (as upstream's);
        # numa_get_constraints refuses it without pinning.
        flavor = make_flavor(**{'hw:cpu_thread_policy': 'prefer'})
        self.assertEqual('prefer', hardware.get_cpu_thread_policy_constraint(
            flavor, make_image()))
        e = self.assertRaises(
            exception.CPUThreadPolicyConfigurationInvalid,
            hardware.numa_get_constraints, flavor, make_image())
        self.assertMessage(e, 'hw:cpu_thread_policy', "'prefer'",
                           'requires hw:cpu_policy=dedicated')

    def test_image_thread_policy_needs_dedicated(self):
        e = self.assertRaises(
            exception.CPUThreadPolicyConfigurationInvalid,
            hardware.numa_get_constraints,
            make_flavor(**{'hw:cpu_policy': 'shared'}),
            make_image(hw_cpu_thread_policy='isolate'))
        self.assertMessage(e, 'hw_cpu_thread_policy', "'isolate'", 'shared')

    def test_thread_policy_conflict(self):
        e = self.assertRaises(
            exception.ImageCPUThreadPolicyForbidden,
            hardware.get_cpu_thread_policy_constraint,
            make_flavor(**specs(DEDICATED, hw__cpu_thread_policy='isolate')),
            make_image(hw_cpu_thread_policy='require'))
        self.assertIsInstance(e, exception.PropertyConflict)
        self.assertMessage(e, 'hw:cpu_thread_policy', 'hw_cpu_thread_policy')

    def test_flavor_prefer_stands(self):
        # As upstream: under the flavor's prefer the image's choice is
        # ignored.
        self.assertEqual('prefer', hardware.get_cpu_thread_policy_constraint(
            make_flavor(**specs(DEDICATED, hw__cpu_thread_policy='prefer')),
            make_image(hw_cpu_thread_policy='isolate')))

    def test_thread_policy_invalid(self):
        e = self.assertRaises(
            exception.InvalidCPUThreadAllocationPolicy,
            hardware.get_cpu_thread_policy_constraint,
            make_flavor(**specs(DEDICATED, hw__cpu_thread_policy='avoid')),
            make_image())
        self.assertMessage(e, 'hw:cpu_thread_policy', "'avoid'",
                           'prefer, isolate, require')

    def test_emulator_policy(self):
        self.assertEqual(
                'isolate', hardware.get_emulator_thread_policy_constraint(
            make_flavor(**specs(DEDICATED,
                                hw__emulator_threads_policy='isolate')),
            make_image()))
        self.assertEqual(
                'share', hardware.get_emulator_thread_policy_constraint(
            make_flavor(**DEDICATED),
            make_image(hw_emulator_threads_policy='share')))
        self.assertIsNone(hardware.get_emulator_thread_policy_constraint(
            make_flavor(**DEDICATED), make_image()))

    def test_emulator_policy_needs_dedicated(self):
        flavor = make_flavor(**{'hw:emulator_threads_policy': 'isolate'})
        self.assertEqual('isolate',
                         hardware.get_emulator_thread_policy_constraint(
                             flavor))
        e = self.assertRaises(
            exception.BadRequirementEmulatorThreadsPolicy,
            hardware.numa_get_constraints, flavor, make_image())
        self.assertMessage(e, 'hw:emulator_threads_policy', "'isolate'",
                           'requires hw:cpu_policy=dedicated')

    def test_emulator_share_needs_dedicated(self):
        # Deliberately stricter than upstream, which ignores share without
        # pinning: a policy that cannot take effect is refused.
        self.assertRaises(
            exception.BadRequirementEmulatorThreadsPolicy,
            hardware.numa_get_constraints,
            make_flavor(**{'hw:emulator_threads_policy': 'share'}),
            make_image())

    def test_emulator_policy_invalid(self):
        e = self.assertRaises(
            exception.InvalidEmulatorThreadsPolicy,
            hardware.get_emulator_thread_policy_constraint,
            make_flavor(**specs(DEDICATED,
                                hw__emulator_threads_policy='shared')))
        self.assertMessage(e, 'hw:emulator_threads_policy', "'shared'")

    def test_emulator_policy_from_image(self):
        # Deliberate extension: upstream reads the flavor only.
        self.assertEqual('isolate',
                         hardware.get_emulator_thread_policy_constraint(
                             make_flavor(**DEDICATED),
                             make_image(hw_emulator_threads_policy='isolate')))

    def test_emulator_policy_conflict(self):
        e = self.assertRaises(
            exception.PropertyConflict,
            hardware.get_emulator_thread_policy_constraint,
            make_flavor(**specs(DEDICATED,
                                hw__emulator_threads_policy='isolate')),
            make_image(hw_emulator_threads_policy='share'))
        self.assertMessage(e, "hw:emulator_threads_policy='isolate'",
                           "hw_emulator_threads_policy='share'")


class MemPageSizeTest(_Base):

    def get(self, flavor_value=None, image_value=None):
        flavor_specs = {}
        if flavor_value is not None:
            flavor_specs['hw:mem_page_size'] = flavor_value
        props = {}
        if image_value is not None:
            props['hw_mem_page_size'] = image_value
        return hardware.get_mem_page_size_constraint(
            make_flavor(**flavor_specs), make_image(**props))

    def test_unset(self):
        self.assertIsNone(self.get())

    def test_flavor_only(self):
        self.assertEqual(hardware.MEMPAGES_LARGE, self.get('large'))
        self.assertEqual(hardware.MEMPAGES_SMALL, self.get('small'))
        self.assertEqual(1048576, self.get('1GB'))

    def test_image_narrows_large(self):
        self.assertEqual(2048, self.get('large', '2MB'))
        self.assertEqual(hardware.MEMPAGES_LARGE, self.get('large', 'large'))

    def test_image_narrows_any(self):
        self.assertEqual(hardware.MEMPAGES_SMALL, self.get('any', 'small'))
        self.assertEqual(1048576, self.get('any', '1GiB'))
        self.assertEqual(hardware.MEMPAGES_LARGE, self.get('any', 'large'))

    def test_image_repeating_flavor_is_fine(self):
        self.assertEqual(2048, self.get('2048', '2MB'))

    def test_conflicts(self):
        for flavor_value, image_value in ((None, 'large'), ('large', 'small'),
                                          ('large', 'any'), ('large', '4'),
                                          ('small', 'large'),
                                          ('2048', '1GB')):
            e = self.assertRaises(exception.PropertyConflict, self.get,
                                  flavor_value, image_value)
            self.assertMessage(e, 'hw:mem_page_size', repr(flavor_value),
                               'hw_mem_page_size', repr(image_value))

    def test_invalid_values(self):
        e = self.assertRaises(exception.InvalidProperty, self.get, 'huge')
        self.assertMessage(e, 'hw:mem_page_size', "'huge'")
        e = self.assertRaises(exception.InvalidProperty, self.get, 'any',
                              '3MB')
        self.assertMessage(e, 'hw_mem_page_size', "'3MB'")


class RealtimeTest(_Base):

    def get(self, flavor_specs, vcpus=4, **props):
        return hardware.get_realtime_cpu_constraint(
            make_flavor(vcpus=vcpus, **flavor_specs), make_image(**props))

    def test_is_realtime_enabled(self):
        self.assertFalse(hardware.is_realtime_enabled(make_flavor()))
        self.assertTrue(hardware.is_realtime_enabled(make_flavor(**REALTIME)))
        self.assertFalse(hardware.is_realtime_enabled(
            make_flavor(**{'hw:cpu_realtime': 'no'})))
        e = self.assertRaises(exception.InvalidProperty,
                              hardware.is_realtime_enabled,
                              make_flavor(**{'hw:cpu_realtime': 'maybe'}))
        self.assertMessage(e, 'hw:cpu_realtime', "'maybe'")

    def test_off(self):
        self.assertIsNone(self.get({}))
        self.assertIsNone(self.get(DEDICATED))
        self.assertIsNone(self.get(specs(DEDICATED, hw__cpu_realtime='no',
                                         hw__cpu_realtime_mask='^0-1')))

    def test_image_cannot_enable_realtime(self):
        # An image mask alone does not turn real time on, and an image
        # asking for it outright is refused with the reason.
        self.assertIsNone(self.get(DEDICATED, hw_cpu_realtime_mask='^0'))
        e = self.assertRaises(exception.ImageMetaPropInvalid, self.get,
                              DEDICATED, hw_cpu_realtime='yes')
        self.assertMessage(e, 'hw_cpu_realtime', 'hw:cpu_realtime')

    def test_malformed_mask_is_an_error_even_when_off(self):
        e = self.assertRaises(
                exception.RealtimeMaskNotFoundOrInvalid, self.get,
                              DEDICATED, hw_cpu_realtime_mask='^x')
        self.assertMessage(e, 'hw_cpu_realtime_mask', "'^x'")
        e = self.assertRaises(
                exception.RealtimeMaskNotFoundOrInvalid, self.get,
                              {'hw:cpu_realtime_mask': '0-'})
        self.assertMessage(e, 'hw:cpu_realtime_mask', "'0-'")

    def test_default_mask_keeps_vcpu0(self):
        self.assertEqual({1, 2, 3}, self.get(REALTIME))

    def test_masks(self):
        cases = [('^0', {1, 2, 3}), ('^0-1', {2, 3}), ('1-3', {1, 2, 3}),
                 ('0-3,^0', {1, 2, 3}), (' ^ 0 ', {1, 2, 3}), ('2', {2}),
                 ('^0,^3', {1, 2}), ('^0,1', {1, 2, 3})]
        for mask, expected in cases:
            self.assertEqual(expected, self.get(
                specs(REALTIME, hw__cpu_realtime_mask=mask)), mask)

    @hypothesis.given(st.data())
    def test_exclusion_mask_semantics(self, data):
        vcpus = data.draw(st.integers(2, 32))
        excluded = data.draw(st.sets(st.integers(0, vcpus - 1), min_size=1,
                                     max_size=vcpus - 1))
        mask = ','.join('^%d' % cpu for cpu in sorted(excluded))
        self.assertEqual(set(range(vcpus)) - excluded, self.get(
            specs(REALTIME, hw__cpu_realtime_mask=mask), vcpus=vcpus))
        included = set(range(vcpus)) - excluded
        self.assertEqual(included, self.get(
            REALTIME, vcpus=vcpus,
            hw_cpu_realtime_mask=hardware.format_cpu_spec(included)))

    def test_image_mask_overrides_flavor(self):
        self.assertEqual({2, 3}, self.get(
            specs(REALTIME, hw__cpu_realtime_mask='^0'),
            hw_cpu_realtime_mask='^0-1'))

    def test_broken_flavor_mask_caught_even_when_image_overrides(self):
        e = self.assertRaises(
            exception.RealtimeMaskNotFoundOrInvalid, self.get,
            specs(REALTIME, hw__cpu_realtime_mask='^a'),
            hw_cpu_realtime_mask='^0')
        self.assertMessage(e, 'hw:cpu_realtime_mask', "'^a'")

    def test_no_realtime_vcpu_left(self):
        e = self.assertRaises(
                exception.RealtimeMaskNotFoundOrInvalid, self.get,
                              specs(REALTIME, hw__cpu_realtime_mask='^0-3'))
        self.assertMessage(e, 'hw:cpu_realtime_mask', "'^0-3'",
                           'leaves no real-time vCPU in a 4-vCPU flavor')
        e = self.assertRaises(
                exception.RealtimeMaskNotFoundOrInvalid, self.get,
                              specs(REALTIME, hw__cpu_realtime_mask='1,^1'))
        self.assertMessage(e, 'leaves no real-time vCPU')

    def test_error_names_image_key(self):
        e = self.assertRaises(
                exception.RealtimeMaskNotFoundOrInvalid, self.get,
                              REALTIME, hw_cpu_realtime_mask='^0-3')
        self.assertEqual('hw_cpu_realtime_mask', e.kwargs['name'])
        self.assertMessage(e, 'hw_cpu_realtime_mask', "'^0-3'")

    def test_one_vcpu_default_mask(self):
        e = self.assertRaises(
                exception.RealtimeMaskNotFoundOrInvalid, self.get,
                              REALTIME, vcpus=1)
        self.assertMessage(e, "'^0'", 'leaves no real-time vCPU in a '
                           '1-vCPU flavor')

    def test_vcpu_outside_flavor(self):
        for mask in ('^4', '1-4', '^0,9', '0-5,^0'):
            e = self.assertRaises(
                    exception.RealtimeMaskNotFoundOrInvalid, self.get,
                                  specs(REALTIME, hw__cpu_realtime_mask=mask))
            self.assertMessage(e, 'hw:cpu_realtime_mask', repr(mask),
                               'outside 0-3 of this 4-vCPU flavor')

    def test_empty_mask(self):
        e = self.assertRaises(
                exception.RealtimeMaskNotFoundOrInvalid, self.get,
                              specs(REALTIME, hw__cpu_realtime_mask=' '))
        self.assertMessage(e, 'hw:cpu_realtime_mask', 'is empty')

    def test_needs_dedicated(self):
        for cpu_specs in ({}, {'hw:cpu_policy': 'shared'}):
            flavor_specs = specs(cpu_specs, hw__cpu_realtime='yes')
            # As upstream, the getter leaves the CPU policy to
            # numa_get_constraints.
            self.assertEqual({1, 2, 3}, self.get(flavor_specs))
            e = self.assertRaises(
                exception.RealtimeConfigurationInvalid,
                hardware.numa_get_constraints,
                make_flavor(**flavor_specs), make_image())
            self.assertMessage(
                e, "hw:cpu_realtime='yes'",
                'hw:cpu_realtime=yes requires hw:cpu_policy=dedicated')

    def test_dedicated_from_image_suffices(self):
        self.assertEqual({1, 2, 3}, self.get({'hw:cpu_realtime': 'yes'},
                                             hw_cpu_policy='dedicated'))

    def test_all_realtime_needs_emulator_placement(self):
        e = self.assertRaises(
            exception.RealtimeMaskNotFoundOrInvalid, self.get,
            specs(REALTIME, hw__cpu_realtime_mask='0-3'))
        self.assertMessage(e, 'hw:cpu_realtime_mask', "'0-3'",
                           'all 4 vCPUs real time', 'isolate')

    def test_all_realtime_with_isolate(self):
        self.assertEqual({0, 1, 2, 3}, self.get(
            specs(REALTIME, hw__cpu_realtime_mask='0-3',
                  hw__emulator_threads_policy='isolate')))

    def test_no_mask_with_emulator_policy_is_still_caret_0(self):
        # Unset means ^0 whatever the policy (upstream: every vCPU); all
        # vCPUs real time takes an explicit mask.
        self.flags(cpu_shared_set='0', group='compute')
        for policy in ('isolate', 'share'):
            self.assertEqual({1, 2, 3}, self.get(
                specs(REALTIME, hw__emulator_threads_policy=policy)))
            self.assertEqual({0, 1, 2, 3}, self.get(
                specs(REALTIME, hw__emulator_threads_policy=policy,
                      hw__cpu_realtime_mask='0-3')))

    def test_one_vcpu_realtime_with_isolate(self):
        self.assertEqual({0}, self.get(
            specs(REALTIME, hw__emulator_threads_policy='isolate'), vcpus=1,
            hw_cpu_realtime_mask='0'))

    def test_share_needs_cpu_shared_set(self):
        flavor_specs = specs(REALTIME, hw__cpu_realtime_mask='0-3',
                             hw__emulator_threads_policy='share')
        no_shared = hardware.HostCPUSets(dedicated={2, 3, 4, 5})

        def constraints(flavor_specs, host_cpus):
            return hardware.numa_get_constraints(
                make_flavor(**flavor_specs), make_image(),
                host_cpus=host_cpus)

        e = self.assertRaises(exception.RealtimeConfigurationInvalid,
                              constraints, flavor_specs, no_shared)
        self.assertMessage(e, 'hw:emulator_threads_policy', "'share'",
                           '[compute] cpu_shared_set')
        # Also when some vCPUs are not real time: share means the shared set.
        self.assertRaises(exception.RealtimeConfigurationInvalid, constraints,
                          specs(REALTIME, hw__emulator_threads_policy='share'),
                          no_shared)
        with_shared = hardware.HostCPUSets(dedicated={2, 3}, shared={0, 1})
        self.assertEqual({0, 1, 2, 3},
                         constraints(flavor_specs, with_shared).realtime_cpus)
        # No host given (API, scheduler): the host rule is not checked, and
        # the getter never reads the host.
        self.assertEqual({0, 1, 2, 3},
                         constraints(flavor_specs, None).realtime_cpus)
        self.assertEqual({0, 1, 2, 3}, self.get(flavor_specs))

    def test_rules_read_no_config(self):
        # The shared set comes from the caller, never from nova.conf.
        self.flags(cpu_shared_set='0-1', group='compute')
        flavor_specs = specs(REALTIME, hw__emulator_threads_policy='share')
        self.assertRaises(exception.RealtimeConfigurationInvalid,
                          hardware.numa_get_constraints,
                          make_flavor(**flavor_specs), make_image(),
                          host_cpus=hardware.HostCPUSets())
        self.assertEqual(
            hardware.HostCPUSets(dedicated=None, shared={0, 1}),
            host_mod.get_host_cpu_sets())


class NUMAConstraintsTest(_Base):

    def get(self, flavor_specs, vcpus=4, memory_mb=2048, **props):
        return hardware.numa_get_constraints(
            make_flavor(vcpus=vcpus, memory_mb=memory_mb, **flavor_specs),
            make_image(**props))

    def layout(self, topology):
        return [(cell.id, cell.total_cpus, cell.memory)
                for cell in topology.cells]

    def test_nothing_numa(self):
        self.assertIsNone(self.get({}))

    def test_placement_keys_ignored(self):
        # Deliberate difference from upstream: with no placement here,
        # resources:PCPU/VCPU, trait:HW_CPU_HYPERTHREADING and hw:pmem ask
        # for nothing (upstream turns them into CPU/thread policies and a
        # vPMEM NUMA cell, or refuses them next to hw:cpu_policy).
        for flavor_specs in ({'resources:PCPU': '4'},
                             {'resources:VCPU': '2', 'resources:PCPU': '2'},
                             {'trait:HW_CPU_HYPERTHREADING': 'forbidden'},
                             {'hw:pmem': '2GB'}):
            self.assertIsNone(self.get(flavor_specs), flavor_specs)
        topology = self.get(specs(DEDICATED, resources__PCPU='4'))
        self.assertEqual({0, 1, 2, 3}, topology.cells[0].pcpuset)
        self.assertIsNone(self.get({'hw:cpu_policy': 'shared'}))

    def test_dedicated_gives_one_cell(self):
        topology = self.get(DEDICATED)
        self.assertEqual([(0, {0, 1, 2, 3}, 2048)], self.layout(topology))
        cell = topology.cells[0]
        self.assertEqual('dedicated', cell.cpu_policy)
        self.assertIsNone(cell.cpu_thread_policy)
        self.assertIsNone(cell.pagesize)
        self.assertIsNone(topology.realtime_cpus)
        self.assertIsNone(topology.emulator_threads_policy)

    def test_dedicated_from_image(self):
        topology = self.get({}, hw_cpu_policy='dedicated')
        self.assertEqual('dedicated', topology.cells[0].cpu_policy)

    def test_page_size_gives_one_cell(self):
        topology = self.get({'hw:mem_page_size': '2MB'})
        self.assertEqual([(0, {0, 1, 2, 3}, 2048)], self.layout(topology))
        self.assertEqual(2048, topology.cells[0].pagesize)
        self.assertIsNone(topology.cells[0].cpu_policy)

    def test_realtime_guest(self):
        topology = self.get(specs(
            REALTIME, hw__cpu_realtime_mask='^0-1',
            hw__cpu_thread_policy='isolate', hw__mem_page_size='large',
            hw__emulator_threads_policy='isolate'))
        self.assertEqual({2, 3}, topology.realtime_cpus)
        self.assertEqual('isolate', topology.emulator_threads_policy)
        cell = topology.cells[0]
        self.assertEqual(('dedicated', 'isolate', hardware.MEMPAGES_LARGE),
                         (cell.cpu_policy, cell.cpu_thread_policy,
                          cell.pagesize))

    def test_even_split(self):
        topology = self.get(specs(DEDICATED, hw__numa_nodes='2'))
        self.assertEqual([(0, {0, 1}, 1024), (1, {2, 3}, 1024)],
                         self.layout(topology))
        self.assertEqual(['dedicated'] * 2,
                         [cell.cpu_policy for cell in topology.cells])

    def test_shared_guest_with_numa(self):
        topology = self.get({'hw:numa_nodes': '2'})
        self.assertEqual(2, len(topology.cells))
        self.assertIsNone(topology.cells[0].cpu_policy)

    def test_uneven_split_is_an_error(self):
        e = self.assertRaises(exception.InvalidProperty, self.get,
                              {'hw:numa_nodes': '2'}, vcpus=3)
        self.assertMessage(e, 'hw:numa_nodes', '3 vCPUs and 2048 MiB',
                           'hw:numa_cpus.N')
        e = self.assertRaises(exception.InvalidProperty, self.get,
                              {'hw:numa_nodes': '2'}, memory_mb=1025)
        self.assertMessage(e, 'hw:numa_nodes', '1025 MiB')

    def test_bad_node_counts(self):
        for value in ('0', '5', 'x', '1.0', '-1', ''):
            e = self.assertRaises(exception.InvalidProperty, self.get,
                                  {'hw:numa_nodes': value})
            self.assertMessage(e, 'hw:numa_nodes', repr(value), '1 to the '
                               "flavor's 4 vCPUs")

    def test_explicit_split(self):
        topology = self.get({
            'hw:numa_nodes': '2', 'hw:numa_cpus.0': '0',
            'hw:numa_cpus.1': '1-3', 'hw:numa_mem.0': '512',
            'hw:numa_mem.1': '1536'})
        self.assertEqual([(0, {0}, 512), (1, {1, 2, 3}, 1536)],
                         self.layout(topology))

    @hypothesis.given(st.data())
    def test_explicit_split_property(self, data):
        vcpus = data.draw(st.integers(1, 16))
        nodes = data.draw(st.integers(1, min(vcpus, 4)))
        order = data.draw(st.permutations(range(vcpus)))
        cuts = sorted(data.draw(st.sets(st.integers(1, vcpus - 1),
                                        min_size=nodes - 1,
                                        max_size=nodes - 1))
                      ) if nodes > 1 else []
        bounds = [0] + cuts + [vcpus]
        cpus = [set(order[a:b]) for a, b in zip(bounds, bounds[1:])]
        mems = [data.draw(st.integers(1, 4096)) for _ in range(nodes)]
        flavor_specs = {'hw:numa_nodes': str(nodes)}
        for node in range(nodes):
            flavor_specs['hw:numa_cpus.%d' % node] = hardware.format_cpu_spec(
                cpus[node])
            flavor_specs['hw:numa_mem.%d' % node] = str(mems[node])
        topology = self.get(flavor_specs, vcpus=vcpus, memory_mb=sum(mems))
        self.assertEqual(list(zip(range(nodes), cpus, mems)),
                         self.layout(topology))

    def explicit(self, **overrides):
        flavor_specs = {
            'hw:numa_nodes': '2', 'hw:numa_cpus.0': '0-1',
            'hw:numa_cpus.1': '2-3', 'hw:numa_mem.0': '1024',
            'hw:numa_mem.1': '1024'}
        for key, value in overrides.items():
            key = key.replace('__', ':').replace('_0', '.0').replace(
                '_1', '.1').replace('_2', '.2').replace('_x', '.x')
            if value is None:
                del flavor_specs[key]
            else:
                flavor_specs[key] = value
        return self.get(flavor_specs)

    def test_explicit_split_errors(self):
        cases = [
            (dict(hw__numa_cpus_1='1-3'), 'hw:numa_cpus.1',
             'vCPU 1 is already in hw:numa_cpus.0'),
            (dict(hw__numa_cpus_1='2'), 'hw:numa_cpus.N',
             'vCPU 3 of the 4-vCPU flavor is in no guest NUMA node'),
            (dict(hw__numa_cpus_1='2-4'), 'hw:numa_cpus.1',
             'outside 0-3'),
            (dict(hw__numa_mem_1='512'), 'hw:numa_mem.N',
             'adds up to 1536 MiB, but the flavor has 2048 MiB'),
            (dict(hw__numa_mem_1=None), 'hw:numa_mem.1',
             'must be set for every guest NUMA node 0-1'),
            (dict(hw__numa_cpus_2='3'), 'hw:numa_cpus.2',
             'names guest NUMA node 2'),
            (dict(hw__numa_cpus_1='^2'), 'hw:numa_cpus.1', 'names no vCPU'),
            (dict(hw__numa_cpus_1='2-'), 'hw:numa_cpus.1', "'2-'"),
            (dict(hw__numa_mem_1='1k'), 'hw:numa_mem.1', 'whole number'),
            (dict(hw__numa_mem_1='0'), 'hw:numa_mem.1', 'at least 1'),
            (dict(hw__numa_cpus_x='1'), 'hw:numa_cpus.x',
             'hw:numa_cpus.N'),
            (dict(hw__numa_nodes=None), 'hw:numa_cpus.0',
             'needs hw:numa_nodes'),
        ]
        for overrides, name, reason in cases:
            e = self.assertRaises(exception.InvalidProperty, self.explicit,
                                  **overrides)
            self.assertEqual(name, e.kwargs['name'], overrides)
            self.assertMessage(e, name, reason)

    def test_image_layout(self):
        topology = self.get(DEDICATED, hw_numa_nodes='2')
        self.assertEqual([(0, {0, 1}, 1024), (1, {2, 3}, 1024)],
                         self.layout(topology))
        topology = self.get(DEDICATED, **{
            'hw_numa_nodes': '2', 'hw_numa_cpus.0': '0-2',
            'hw_numa_cpus.1': '3', 'hw_numa_mem.0': '1536',
            'hw_numa_mem.1': '512'})
        self.assertEqual([(0, {0, 1, 2}, 1536), (1, {3}, 512)],
                         self.layout(topology))

    def test_image_numa_cpus_parsed_by_hardware(self):
        e = self.assertRaises(exception.InvalidProperty, make_image,
                              **{'hw_numa_nodes': '1',
                                 'hw_numa_cpus.0': '0-3,x'})
        self.assertMessage(e, 'hw_numa_cpus.0', "'0-3,x'", "'x'")

    def test_image_layout_errors(self):
        e = self.assertRaises(exception.InvalidProperty, self.get, {},
                              **{'hw_numa_cpus.0': '0-3',
                                 'hw_numa_mem.0': '2048'})
        self.assertMessage(e, 'hw_numa_cpus.0', 'needs hw_numa_nodes')
        e = self.assertRaises(exception.InvalidProperty, self.get, {},
                              hw_numa_nodes='8')
        self.assertMessage(e, 'hw_numa_nodes', '8')
        e = self.assertRaises(exception.InvalidProperty, self.get, {}, **{
            'hw_numa_nodes': '2', 'hw_numa_cpus.0': '0-2',
            'hw_numa_cpus.1': '2-3', 'hw_numa_mem.0': '1024',
            'hw_numa_mem.1': '1024'})
        self.assertMessage(e, 'hw_numa_cpus.1', 'vCPU 2 is already in '
                           'hw_numa_cpus.0')
        e = self.assertRaises(exception.InvalidProperty, self.get, {},
                              hw_numa_nodes='3', vcpus=3, memory_mb=1000)
        self.assertMessage(e, 'hw_numa_nodes', 'hw_numa_cpus.N')

    def test_flavor_and_image_layout_conflict(self):
        e = self.assertRaises(exception.PropertyConflict, self.get,
                              {'hw:numa_nodes': '2'}, hw_numa_nodes='2')
        self.assertMessage(e, 'hw:numa_nodes', 'hw_numa_nodes', 'not both')

    def test_page_size_must_divide_node_memory(self):
        e = self.assertRaises(exception.InvalidProperty, self.get,
                              {'hw:numa_nodes': '2',
                               'hw:mem_page_size': '1GB'}, memory_mb=3072)
        self.assertMessage(e, 'hw:mem_page_size', "'1GB'", '1536 MiB',
                           '1048576 KiB pages')
        e = self.assertRaises(exception.InvalidProperty, self.get,
                              {'hw:mem_page_size': 'large'}, memory_mb=2560,
                              hw_mem_page_size='1GB')
        self.assertMessage(e, 'hw_mem_page_size', "'1GB'", '2560 MiB')
        self.assertEqual(1048576, self.get(
            {'hw:mem_page_size': '1GB'}, memory_mb=3072).cells[0].pagesize)

    def test_every_rule_checked(self):
        # A broken real-time flag or thread policy is an error even where the
        # answer would otherwise be "nothing NUMA-related".
        self.assertRaises(exception.InvalidProperty, self.get,
                          {'hw:cpu_realtime': 'sure'})
        self.assertRaises(exception.InvalidProperty, self.get,
                          {'hw:cpu_thread_policy': 'isolate'})
        self.assertRaises(exception.RealtimeConfigurationInvalid, self.get,
                          {'hw:cpu_realtime': 'yes'})
        self.assertRaises(exception.PropertyConflict, self.get,
                          {}, hw_mem_page_size='large')
        self.assertRaises(exception.RealtimeMaskNotFoundOrInvalid, self.get,
                          REALTIME, hw_cpu_realtime_mask='^0-3')


class FlavorBoundsTest(_Base):
    """Bounds checked before anything is sized by the flavor.

    So nova-compute refuses what the command line refuses.
    """

    def assertQuickRefusal(self, flavor, image=None, *parts):
        start = time.perf_counter()
        exc = self.assertRaises(exception.InvalidProperty,
                                hardware.numa_get_constraints, flavor, image)
        self.assertLess(time.perf_counter() - start, 0.1)
        self.assertMessage(exc, *parts)
        self.assertNotIn('\n', str(exc))
        self.assertLess(len(str(exc)), 400)
        return exc

    def test_vcpus(self):
        for vcpus in (0, -1, hardware.MAX_GUEST_VCPUS + 1, 10 ** 8,
                      10 ** 5000):
            exc = self.assertQuickRefusal(
                make_flavor(vcpus=vcpus, **DEDICATED), None, 'vcpus',
                'from 1 to 4096')
            self.assertEqual('vcpus', exc.kwargs['name'])

    def test_memory(self):
        for memory in (0, hardware.MAX_GUEST_MEMORY_MB + 1, 10 ** 30):
            exc = self.assertQuickRefusal(
                make_flavor(memory_mb=memory, **DEDICATED), None,
                'memory_mb', '16 TiB')
            self.assertEqual('memory_mb', exc.kwargs['name'])

    def test_largest_guest_is_accepted(self):
        start = time.perf_counter()
        topology = hardware.numa_get_constraints(
            make_flavor(vcpus=hardware.MAX_GUEST_VCPUS,
                        memory_mb=hardware.MAX_GUEST_MEMORY_MB,
                        **REALTIME), None)
        self.assertLess(time.perf_counter() - start, 1.0)
        self.assertEqual(set(range(1, hardware.MAX_GUEST_VCPUS)),
                         topology.realtime_cpus)

    def test_flavor_name(self):
        for name in ('rt\x00', 'a\x1bb', 'x\ud800', '\ufffe', 'n' * 256):
            flavor = make_flavor(**DEDICATED)
            flavor.name = name
            exc = self.assertQuickRefusal(flavor, None, 'flavor name')
            self.assertEqual('flavor name', exc.kwargs['name'])

    def test_extra_specs_count_and_size(self):
        many = {'trait:T%d' % i: 'required' for i in range(129)}
        self.assertQuickRefusal(make_flavor(**many), None, 'extra_specs',
                                'at most 128')
        self.assertQuickRefusal(
            make_flavor(**{'hw:cpu_policy': 'dedicated\x00'}), None,
            'hw:cpu_policy', 'U+0000')
        self.assertQuickRefusal(
            make_flavor(**{'trait:X': 'r' * 256}), None, 'trait:X',
            'at most 255')
        self.assertQuickRefusal(
            make_flavor(**{'bad\nkey': 'x'}), None, 'extra spec key')

    def test_huge_numa_node_count(self):
        # Bypassing the API validators: the rule layer bounds digits too.
        for value in ('1' * 200, '9' * 25):
            exc = self.assertQuickRefusal(
                make_flavor(**specs(DEDICATED, hw__numa_nodes=value)), None,
                'hw:numa_nodes', 'from 1 to')
            self.assertEqual('1' * 40 + '\u2026' if value[0] == '1'
                             else value, exc.kwargs['value'])

    def test_huge_numa_mem(self):
        flavor = make_flavor(vcpus=2, **specs(
            DEDICATED, hw__numa_nodes='2', **{
                'hw:numa_cpus.0': '0', 'hw:numa_cpus.1': '1',
                'hw:numa_mem.0': '1' * 200, 'hw:numa_mem.1': '1024'}))
        self.assertQuickRefusal(flavor, None, 'hw:numa_mem.0', '16 TiB')

    def test_huge_image_numa_nodes_object(self):
        # An ImageMetaProps built directly (not from Glance strings) with an
        # int too big for str(): refused by range, shown by magnitude.
        image = objects.ImageMeta(properties=objects.ImageMetaProps(
            hw_numa_nodes=10 ** 5000))
        exc = self.assertQuickRefusal(make_flavor(**DEDICATED), image,
                                      'hw_numa_nodes', 'integer of about')
        self.assertEqual('hw_numa_nodes', exc.kwargs['name'])


MIXED = {'hw:cpu_policy': 'mixed'}


class MixedPolicyTest(_Base):
    """hw:cpu_policy=mixed: some vCPUs pinned, the others floating."""

    def get(self, flavor_specs, vcpus=4, **props):
        return hardware.numa_get_constraints(
            make_flavor(vcpus=vcpus, **flavor_specs), make_image(**props))

    def test_dedicated_mask_splits_the_cells(self):
        topology = self.get(specs(MIXED, hw__cpu_dedicated_mask='^0'))
        cell = topology.cells[0]
        self.assertEqual({0}, cell.cpuset)
        self.assertEqual({1, 2, 3}, cell.pcpuset)
        self.assertTrue(cell.cpu_pinning_requested)
        self.assertIsNone(topology.realtime_cpus)

    def test_mask_of_listed_vcpus(self):
        cell = self.get(specs(MIXED, hw__cpu_dedicated_mask='2-3')).cells[0]
        self.assertEqual({0, 1}, cell.cpuset)
        self.assertEqual({2, 3}, cell.pcpuset)

    def test_split_follows_numa_nodes(self):
        topology = self.get(specs(MIXED, hw__cpu_dedicated_mask='^0,^2',
                                  hw__numa_nodes='2'))
        self.assertEqual([({0}, {1}), ({2}, {3})],
                         [(c.cpuset, c.pcpuset) for c in topology.cells])

    def test_mixed_needs_a_mask(self):
        error = self.assertRaises(exception.InvalidProperty, self.get,
                                  MIXED)
        self.assertMessage(error, 'hw:cpu_policy', 'hw:cpu_dedicated_mask')

    def test_mixed_needs_both_kinds(self):
        for mask in ('0-3', '^0-3'):
            error = self.assertRaises(
                exception.InvalidProperty, self.get,
                specs(MIXED, hw__cpu_dedicated_mask=mask))
            self.assertMessage(error, 'at least one dedicated and one '
                                      'shared vCPU')

    def test_mask_outside_the_flavor(self):
        error = self.assertRaises(exception.InvalidProperty, self.get,
                                  specs(MIXED, hw__cpu_dedicated_mask='^7'))
        self.assertMessage(error, 'hw:cpu_dedicated_mask', 'vCPU 7')

    def test_dedicated_mask_needs_mixed(self):
        for policy in (DEDICATED, {}):
            error = self.assertRaises(
                exception.InvalidProperty, self.get,
                specs(policy, hw__cpu_dedicated_mask='^0'))
            self.assertMessage(error, 'hw:cpu_dedicated_mask',
                               'hw:cpu_policy=mixed')

    def test_realtime_mixed_pins_the_realtime_vcpus(self):
        topology = self.get(specs(MIXED, hw__cpu_realtime='yes',
                                  hw__cpu_realtime_mask='^0-1'))
        self.assertEqual({2, 3}, topology.realtime_cpus)
        self.assertEqual({2, 3}, topology.cells[0].pcpuset)
        self.assertEqual({0, 1}, topology.cells[0].cpuset)

    def test_realtime_mixed_default_mask(self):
        topology = self.get(specs(MIXED, hw__cpu_realtime='yes'))
        self.assertEqual({1, 2, 3}, topology.cells[0].pcpuset)
        self.assertEqual({0}, topology.cells[0].cpuset)

    def test_realtime_mixed_image_mask(self):
        topology = self.get(specs(MIXED, hw__cpu_realtime='yes'),
                            hw_cpu_realtime_mask='^0-2')
        self.assertEqual({3}, topology.cells[0].pcpuset)

    def test_both_masks_is_an_error(self):
        for realtime_mask in ({'hw:cpu_realtime_mask': '^0'}, {}):
            error = self.assertRaises(
                exception.RequiredMixedOrRealtimeCPUMask, self.get,
                specs(MIXED, realtime_mask, hw__cpu_realtime='yes',
                      hw__cpu_dedicated_mask='^0'))
            self.assertMessage(error, 'hw:cpu_dedicated_mask',
                               'drop hw:cpu_dedicated_mask')

    def test_thread_and_emulator_policies_allowed(self):
        topology = self.get(specs(
            MIXED, hw__cpu_dedicated_mask='^0',
            hw__cpu_thread_policy='isolate',
            hw__emulator_threads_policy='isolate'))
        self.assertEqual('isolate', topology.emulator_threads_policy)
        self.assertEqual('isolate', topology.cells[0].cpu_thread_policy)
