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

"""Guest CPU model/features, PMU, USB, topology and locked-memory bounds.

Pure rules of nova.virt.libvirt.guest_cpu, and the driver's guests on
libvirt's test driver (test:///default) through spawn and plan; every
generated domain is checked against libvirt's RNG schemas.
"""

import os

import libvirt

from nova import exception
from nova import objects
from nova import test
from nova.tests.unit.virt.libvirt import rng
from nova.tests.unit.virt.libvirt import test_driver as td
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import config_caps
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import guest_cpu
from nova.virt.libvirt import host as host_mod

GIB = 1024 * 1024
MIB = 1024
CAPS = os.path.join(os.path.dirname(__file__), 'fixtures',
                    'caps_kvm_2numa_smt.xml')
HUGE = {'hw:cpu_policy': 'dedicated', 'hw:mem_page_size': '2MB'}


def feature_names(cpu):
    return {(f.name, f.policy) for f in cpu.features}


def pmu_of(guest):
    found = [f for f in guest.features
             if isinstance(f, vconfig.LibvirtConfigGuestFeaturePMU)]
    return found[0].enabled if found else None


def usb_controllers(guest):
    return [d for d in guest.devices
            if isinstance(d, vconfig.LibvirtConfigGuestController)
            and d.type == 'usb']


class TestCpuOptions(test.TestCase):
    """[libvirt] cpu_mode, cpu_models, cpu_model_extra_flags."""

    def check(self, virt_type='kvm', mode=None, models=(), flags=(),
              **kw):
        return guest_cpu.check_cpu_options(virt_type, mode, list(models),
                                           list(flags), **kw)

    def test_defaults(self):
        # Upstream: host-model for kvm and qemu; real time on kvm (and the
        # test driver standing in for it) gets host-passthrough.
        self.assertEqual(('host-model', None, []), self.check('kvm'))
        self.assertEqual(('host-model', None, []), self.check('qemu'))
        self.assertEqual(('host-passthrough', None, []),
                         self.check('kvm', realtime=True))
        self.assertEqual(('host-passthrough', None, []),
                         self.check('test', realtime=True))
        self.assertEqual(('host-model', None, []),
                         self.check('qemu', realtime=True))

    def test_operator_mode_is_kept(self):
        self.assertEqual(('host-model', None, []),
                         self.check('kvm', 'host-model', realtime=True))
        self.assertEqual((None, None, []), self.check('kvm', 'none'))

    def test_custom_needs_models(self):
        exc = self.assertRaises(exception.ConfigurationInvalid, self.check,
                                'kvm', 'custom')
        self.assertEqual('cpu_models', exc.kwargs['option'])

    def test_models_only_with_custom(self):
        for mode in (None, 'host-model', 'host-passthrough', 'none'):
            exc = self.assertRaises(exception.ConfigurationInvalid,
                                    self.check, 'kvm', mode, ['Haswell'])
            self.assertEqual('cpu_models', exc.kwargs['option'])
            self.assertIn('cpu_mode=custom', str(exc))

    def test_custom_model_checked_against_host(self):
        self.assertEqual(
            ('custom', 'Skylake-Server', []),
            self.check('kvm', 'custom', ['skylake-server'],
                       known_models=['Haswell', 'Skylake-Server']))
        exc = self.assertRaises(
            exception.ConfigurationInvalid, self.check, 'kvm', 'custom',
            ['Skylake-Server', 'Bogus'], known_models=['Skylake-Server'])
        self.assertIn('Bogus is not a CPU model', str(exc))
        # Without a live host (a saved capabilities document): unchecked.
        self.assertEqual(('custom', 'Bogus', []),
                         self.check('kvm', 'custom', ['Bogus']))

    def test_extra_flags(self):
        self.assertEqual(
            ('host-model', None, [('pcid', 'require'), ('hle', 'disable'),
                                  ('ssbd', 'require')]),
            self.check('kvm', flags=['+PCID', ' -hle', 'ssbd'],
                       known_features={'pcid', 'hle', 'ssbd'}))

    def test_extra_flags_need_a_model(self):
        exc = self.assertRaises(exception.ConfigurationInvalid, self.check,
                                'kvm', 'none', flags=['pcid'])
        self.assertEqual('cpu_model_extra_flags', exc.kwargs['option'])

    def test_unknown_flag(self):
        exc = self.assertRaises(
            exception.ConfigurationInvalid, self.check, 'kvm',
            flags=['avx9000'], known_features={'avx512f'})
        self.assertIn('avx9000 is not a CPU feature libvirt knows',
                      str(exc))
        for bad in ('', '+', 'a b', 'x<y'):
            self.assertRaises(exception.ConfigurationInvalid, self.check,
                              'kvm', flags=[bad])

    def test_flag_twice(self):
        self.assertRaises(exception.ConfigurationInvalid, self.check,
                          'kvm', flags=['+pcid', '-pcid'])

    def test_realtime_cannot_disable_tsc_deadline(self):
        exc = self.assertRaises(exception.ConfigurationInvalid, self.check,
                                'kvm', flags=['-tsc-deadline'],
                                realtime=True)
        self.assertIn('real-time guests need tsc-deadline', str(exc))
        self.check('kvm', flags=['-tsc-deadline'])

    def test_tcg_cannot_run_host_passthrough(self):
        exc = self.assertRaises(exception.ConfigurationInvalid, self.check,
                                'qemu', 'host-passthrough')
        self.assertIn('TCG', str(exc))

    def test_feature_names_of_libvirt_cpu_map(self):
        names = guest_cpu.parse_cpu_map_features(
            "<cpus><feature name='tsc-deadline'><cpuid/></feature>"
            "<feature name='sse4.1'/></cpus>")
        self.assertEqual({'tsc-deadline', 'sse4.1'}, names)
        self.assertIsNone(guest_cpu.parse_cpu_map_features('<cpus'))
        path = libvirt_driver.LIBVIRT_CPU_FEATURES
        if os.path.exists(path):
            self.assertIn('tsc-deadline',
                          libvirt_driver._libvirt_cpu_features(path))


class TestCpuElement(test.TestCase):

    def test_realtime_kvm(self):
        cpu = guest_cpu.get_cpu('kvm', None, [], [], True)
        self.assertEqual('host-passthrough', cpu.mode)
        self.assertEqual({('tsc-deadline', 'require')}, feature_names(cpu))

    def test_realtime_tcg_gets_no_tsc_deadline(self):
        # Measured: libvirt refuses host-model + tsc-deadline under TCG
        # ("Host CPU does not provide required features: tsc-deadline").
        cpu = guest_cpu.get_cpu('qemu', None, [], [], True)
        self.assertEqual('host-model', cpu.mode)
        self.assertEqual(set(), feature_names(cpu))

    def test_mode_none_takes_no_features(self):
        cpu = guest_cpu.get_cpu('kvm', 'none', [], [], True)
        self.assertIsNone(cpu.mode)
        self.assertEqual([], cpu.features)

    def test_extra_flag_for_tsc_deadline_not_repeated(self):
        cpu = guest_cpu.get_cpu('kvm', None, [], ['+TSC-DEADLINE', '-hle'],
                                True)
        self.assertEqual([('tsc-deadline', 'require'), ('hle', 'disable')],
                         [(f.name, f.policy) for f in cpu.features])
        rng.assert_valid(cpu.to_xml(), 'cpu')


class TestFlags(test.TestCase):

    def test_pmu(self):
        pmu = guest_cpu.get_pmu_state
        self.assertIsNone(pmu({}, {}, False))
        self.assertIs(False, pmu({}, {}, True))
        self.assertIs(True, pmu({'hw:pmu': 'true'}, {}, True))
        self.assertIs(False, pmu({'hw:pmu': 'false'}, {}, False))
        self.assertIs(True, pmu({}, {'hw_pmu': True}, False))
        self.assertIs(True, pmu({'hw:pmu': 'yes'}, {'hw_pmu': True}, False))

    def test_pmu_conflict_and_bad_value(self):
        exc = self.assertRaises(exception.PropertyConflict,
                                guest_cpu.get_pmu_constraint,
                                {'hw:pmu': 'true'}, {'hw_pmu': False})
        self.assertEqual('hw:pmu', exc.kwargs['flavor_key'])
        exc = self.assertRaises(exception.InvalidProperty,
                                guest_cpu.get_pmu_constraint,
                                {'hw:pmu': 'maybe'}, {})
        self.assertEqual('hw:pmu', exc.kwargs['name'])
        self.assertRaises(exception.ImageMetaPropInvalid,
                          guest_cpu.get_pmu_constraint, {},
                          {'hw_pmu': 'maybe'})

    def test_locked_memory_needs_a_page_size(self):
        locked = guest_cpu.get_locked_memory_constraint
        exc = self.assertRaises(exception.InvalidProperty, locked,
                                {'hw:locked_memory': 'true'}, {})
        self.assertEqual('hw:locked_memory', exc.kwargs['name'])
        self.assertIn('hw:mem_page_size', str(exc))
        exc = self.assertRaises(exception.ImageMetaPropInvalid, locked, {},
                                {'hw_locked_memory': True})
        self.assertEqual('hw_locked_memory', exc.kwargs['name'])
        self.assertTrue(locked({'hw:locked_memory': 'true',
                                'hw:mem_page_size': 'large'}, {}))
        self.assertTrue(locked({'hw:mem_page_size': 'any'},
                               {'hw_locked_memory': True,
                                'hw_mem_page_size': '2MB'}))
        self.assertFalse(locked({'hw:locked_memory': 'false'}, {}))
        self.assertIsNone(locked({}, {}))
        self.assertRaises(exception.PropertyConflict, locked,
                          {'hw:locked_memory': 'false',
                           'hw:mem_page_size': 'large'},
                          {'hw_locked_memory': True})

    def test_memtune_bounds_locked_memory(self):
        locked = vconfig.LibvirtConfigGuestMemoryBacking(locked=True)
        self.assertIsNone(guest_cpu.get_memtune(None, GIB, 2, 'kvm'))
        self.assertIsNone(guest_cpu.get_memtune(
            vconfig.LibvirtConfigGuestMemoryBacking(), GIB, 2, 'kvm'))
        self.assertEqual(GIB + GIB + 2 * 16 * MIB, guest_cpu.get_memtune(
            locked, GIB, 2, 'kvm').hard_limit)
        # TCG locks its 1 GiB translation buffer too.
        self.assertEqual(GIB + 2 * GIB + 4 * 16 * MIB, guest_cpu.get_memtune(
            locked, GIB, 4, 'qemu').hard_limit)

    def test_missing_cpu_features_from_libvirt_messages(self):
        missing = guest_cpu.missing_cpu_features
        self.assertEqual(['tsc-deadline'], missing(
            'the CPU is incompatible with host CPU: Host CPU does not '
            'provide required features: tsc-deadline'))
        self.assertEqual(['avx512f', 'avx512vl'], missing(
            "operation failed: guest CPU doesn't match specification: "
            "extra features: hypervisor,lahf_lm, missing features: "
            "avx512vl,avx512f"))
        self.assertEqual([], missing('Cannot set scheduler parameters'))
        self.assertEqual([], missing(None))

    def test_start_error_names_the_feature(self):
        error = libvirt.libvirtError('x')
        error.get_error_message = lambda: (
            'the CPU is incompatible with host CPU: Host CPU does not '
            'provide required features: tsc-deadline')
        exc = libvirt_driver.translate_start_error('g', error)
        self.assertIsInstance(exc, exception.HostNotReady)
        self.assertIn('CPU feature(s) tsc-deadline', str(exc))
        self.assertIn('Fix on the host:', str(exc))
        self.assertIn('cpu_model_extra_flags', str(exc))


class TestDriverGuests(td.DriverTestCase):
    """Guests the driver builds, on test:///default."""

    def _caps_host(self):
        with open(CAPS) as f:
            caps = config_caps.LibvirtConfigCaps.from_xml(f.read())
        return host_mod.host_topology_from_caps(
            caps, host_mod.get_host_cpu_sets())

    def plan(self, name, virt_type, image_meta=None, **kw):
        self.flags(virt_type=virt_type, group='libvirt')
        instance = td.make_instance(name, **kw)
        guest = self.driver.plan(instance, image_meta or td.image(),
                                 host_topology=self._caps_host())
        rng.assert_domain_valid(guest.to_xml())
        self.assertEqual(guest, vconfig.LibvirtConfigGuest.from_xml(
            guest.to_xml()))
        return guest

    def test_realtime_guest_on_the_test_driver(self):
        instance = td.make_instance('rt-cpu', vcpus=4, memory_mb=512,
                                    **td.RT)
        guest = self.driver.spawn(instance, td.image())
        parsed = vconfig.LibvirtConfigGuest.from_xml(
            self.domain_xml('rt-cpu'))
        rng.assert_domain_valid(self.domain_xml('rt-cpu'))
        for built in (guest, parsed):
            self.assertEqual('host-passthrough', built.cpu.mode)
            self.assertEqual({('tsc-deadline', 'require')},
                             feature_names(built.cpu))
            self.assertIs(False, pmu_of(built))
            self.assertEqual(1, len(usb_controllers(built)))
            self.assertEqual('none', usb_controllers(built)[0].model)
            self.assertTrue(built.membacking.locked)
            self.assertEqual(512 * MIB + GIB + 4 * 16 * MIB,
                             built.memtune.hard_limit)
            self.assertEqual((4, 1, 1), (built.cpu.topology.sockets,
                                         built.cpu.topology.cores,
                                         built.cpu.topology.threads))

    def test_plain_guest_keeps_pmu_and_usb_and_is_host_model(self):
        _, guest = self.spawn('plain', vcpus=2)
        self.assertEqual('host-model', guest.cpu.mode)
        self.assertEqual([], guest.cpu.features)
        self.assertIsNone(pmu_of(guest))
        self.assertEqual([], usb_controllers(guest))
        self.assertIsNone(guest.memtune)
        self.assertIsNone(guest.membacking)

    def test_hw_pmu_on_any_guest(self):
        _, guest = self.spawn('pmu-off', vcpus=1, **{'hw:pmu': 'false'})
        self.assertIs(False, pmu_of(guest))
        self.assertIn("<pmu state='off'/>", self.domain_xml('pmu-off'))
        instance = td.make_instance('pmu-rt', vcpus=2,
                                    **dict(td.RT, **{'hw:pmu': 'true'}))
        guest = self.driver.plan(instance, td.image())
        self.assertIs(True, pmu_of(guest))

    def test_flavor_topology(self):
        _, guest = self.spawn('topo', vcpus=4, **{
            'hw:cpu_sockets': '1', 'hw:cpu_threads': '2'})
        self.assertEqual((1, 2, 2), (guest.cpu.topology.sockets,
                                     guest.cpu.topology.cores,
                                     guest.cpu.topology.threads))
        self.assertIn("sockets='1'", self.domain_xml('topo'))

    def test_topology_error_names_the_key(self):
        exc = self.assertRaises(
            exception.InvalidProperty, self.spawn, 'topo-bad', vcpus=4,
            **{'hw:cpu_sockets': '4', 'hw:cpu_max_sockets': '2'})
        self.assertEqual('hw:cpu_sockets', exc.kwargs['name'])
        self.assertNotIn('topo-bad', [d.name() for d in
                                      self.keeper.listAllDomains()])

    def test_topology_follows_guest_numa_cells(self):
        guest = self.plan('topo-numa', 'kvm', vcpus=6, **dict(
            HUGE, **{'hw:numa_nodes': '2', 'hw:cpu_threads': '2'}))
        # 2 cells of 3 vCPUs: 2 threads per core would split a core.
        self.assertEqual(1, guest.cpu.topology.threads)

    def test_locked_memory_for_non_realtime(self):
        guest = self.plan('locked', 'kvm', vcpus=2, memory_mb=512,
                          **dict(HUGE, **{'hw:locked_memory': 'true'}))
        self.assertTrue(guest.membacking.locked)
        self.assertTrue(guest.membacking.sharedpages)
        self.assertEqual(512 * MIB + GIB + 2 * 16 * MIB,
                         guest.memtune.hard_limit)
        self.assertIsNone(pmu_of(guest))

    def test_locked_memory_without_page_size_refused(self):
        exc = self.assertRaises(
            exception.InvalidProperty, self.spawn, 'locked-small', vcpus=1,
            **{'hw:locked_memory': 'true'})
        self.assertEqual('hw:locked_memory', exc.kwargs['name'])

    def test_huge_page_cells_are_shared(self):
        guest = self.plan('shared', 'kvm', vcpus=2, **HUGE)
        self.assertEqual(['shared'],
                         [c.memAccess for c in guest.cpu.numa.cells])
        guest = self.plan('private', 'kvm', vcpus=2,
                          **{'hw:cpu_policy': 'dedicated'})
        self.assertEqual([None], [c.memAccess for c in guest.cpu.numa.cells])

    def test_realtime_plan_for_tcg(self):
        guest = self.plan('rt-tcg', 'qemu', vcpus=2, **td.RT)
        self.assertEqual('host-model', guest.cpu.mode)
        self.assertEqual([], guest.cpu.features)
        self.assertIs(False, pmu_of(guest))
        self.assertEqual(1, len(usb_controllers(guest)))
        # Default flavor memory 512 MiB; TCG adds its translation buffer.
        self.assertEqual(512 * MIB + 2 * GIB + 2 * 16 * MIB,
                         guest.memtune.hard_limit)

    def test_custom_model_checked_on_the_live_host(self):
        self.flags(cpu_mode='custom', cpu_models=['bogus-model'],
                   group='libvirt')
        exc = self.assertRaises(exception.ConfigurationInvalid, self.spawn,
                                'custom-bad', vcpus=1)
        self.assertIn('bogus-model is not a CPU model', str(exc))
        self.flags(cpu_models=['QEMU64'], group='libvirt')
        _, guest = self.spawn('custom', vcpus=1)
        self.assertEqual(('custom', 'qemu64'), (guest.cpu.mode,
                                                guest.cpu.model))

    def test_extra_flags_checked_and_written(self):
        if not os.path.exists(libvirt_driver.LIBVIRT_CPU_FEATURES):
            self.skipTest('libvirt cpu_map not installed')
        self.flags(cpu_model_extra_flags=['-avx9000'], group='libvirt')
        self.assertRaises(exception.ConfigurationInvalid, self.spawn,
                          'flags-bad', vcpus=1)
        self.flags(cpu_model_extra_flags=['+pcid', '-HLE'], group='libvirt')
        _, guest = self.spawn('flags', vcpus=1)
        self.assertEqual({('pcid', 'require'), ('hle', 'disable')},
                         feature_names(guest.cpu))

    def test_image_properties(self):
        props = objects.ImageMetaProps.fields
        if 'hw_cpu_sockets' not in props or 'hw_pmu' not in props:
            self.skipTest('ImageMetaProps has no hw_cpu_sockets / hw_pmu')
        _, guest = self.spawn('img', td.image(hw_cpu_sockets='1',
                                              hw_pmu='false'), vcpus=2)
        self.assertEqual(1, guest.cpu.topology.sockets)
        self.assertIs(False, pmu_of(guest))
