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

"""Tests for the guest config classes of nova.virt.libvirt.config.

Every class must round trip (``from_xml(to_xml(x)) == x``); key classes
are checked element by element with lxml; the rules format_dom enforces
(vcpusched priorities, required fields, cross-element counts) are checked
for their errors.
"""

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from lxml import etree

from nova import exception
from nova import test
from nova.virt.libvirt import config as vconfig

# -- hypothesis strategies -------------------------------------------------
cpusets = st.sets(st.integers(0, 255), min_size=1, max_size=12)
small_ints = st.integers(0, 64)
names = st.text(st.sampled_from('abcdefghijklmnopqrstuvwxyz0123456789-_.'),
                min_size=1, max_size=20)
paths = names.map(lambda n: '/var/lib/nova/' + n)


@st.composite
def vcpu_scheds(draw, max_vcpu=63):
    scheduler = draw(st.sampled_from(['fifo', 'rr', 'batch', 'idle']))
    priority = (draw(st.integers(1, 99)) if scheduler in ('fifo', 'rr')
                else None)
    vcpus = draw(st.one_of(
        st.none(), st.sets(st.integers(0, max_vcpu), min_size=1,
                           max_size=8)))
    return vconfig.LibvirtConfigGuestCPUTuneVCPUSched(vcpus, scheduler,
                                                      priority)


vcpupins = st.builds(vconfig.LibvirtConfigGuestCPUTuneVCPUPin,
                     small_ints, cpusets)
emulatorpins = st.builds(vconfig.LibvirtConfigGuestCPUTuneEmulatorPin,
                         cpusets)


@st.composite
def disjoint_scheds(draw, max_vcpu=63):
    """vcpusched entries over disjoint vCPU sets, as libvirt requires."""
    scheds = draw(st.lists(vcpu_scheds(max_vcpu), max_size=3))
    if any(sched.vcpus is None for sched in scheds):
        return [sched for sched in scheds if sched.vcpus is None][:1]
    taken = set()
    kept = []
    for sched in scheds:
        sched.vcpus -= taken
        if sched.vcpus:
            taken |= sched.vcpus
            kept.append(sched)
    return kept


cputunes = st.builds(
    vconfig.LibvirtConfigGuestCPUTune,
    vcpupin=st.lists(vcpupins, max_size=4, unique_by=lambda p: p.id),
    emulatorpin=st.one_of(st.none(), emulatorpins),
    vcpusched=disjoint_scheds())
pages = st.builds(vconfig.LibvirtConfigGuestMemoryBackingPage,
                  st.sampled_from([4, 2048, 1048576]),
                  st.one_of(st.none(), st.sets(st.integers(0, 7),
                                               min_size=1)))
membackings = st.builds(vconfig.LibvirtConfigGuestMemoryBacking,
                        hugepages=st.lists(pages, max_size=3),
                        sharedpages=st.booleans(), locked=st.booleans())
numa_modes = st.sampled_from(vconfig.NUMA_MEMORY_MODES)
numatunes = st.builds(
    vconfig.LibvirtConfigGuestNUMATune,
    memory=st.one_of(st.none(), st.builds(
        vconfig.LibvirtConfigGuestNUMATuneMemory, numa_modes, cpusets)),
    memnodes=st.lists(st.builds(vconfig.LibvirtConfigGuestNUMATuneMemNode,
                                small_ints, numa_modes, cpusets),
                      max_size=4, unique_by=lambda node: node.cellid))
topologies = st.builds(vconfig.LibvirtConfigGuestCPUTopology,
                       st.integers(1, 4), st.integers(1, 16),
                       st.integers(1, 2))
numa_cells = st.builds(vconfig.LibvirtConfigGuestCPUNUMACell,
                       st.one_of(st.none(), small_ints), cpusets,
                       st.integers(1, 2 ** 30),
                       st.sampled_from([None, 'shared', 'private']))
cpu_features = st.builds(
    vconfig.LibvirtConfigGuestCPUFeature,
    st.sampled_from(['tsc-deadline', 'pcid', 'sse4.1', 'avx512f']),
    st.sampled_from(vconfig.LibvirtConfigGuestCPUFeature.POLICIES))
memtunes = st.builds(
    vconfig.LibvirtConfigGuestMemoryTune,
    hard_limit=st.one_of(st.none(), st.integers(0, 2 ** 40)),
    soft_limit=st.one_of(st.none(), st.integers(0, 2 ** 40)))
controllers = st.builds(
    vconfig.LibvirtConfigGuestController,
    type=st.sampled_from(['usb', 'pci']),
    index=st.one_of(st.none(), st.integers(0, 8)),
    model=st.sampled_from([None, 'none', 'qemu-xhci', 'pci-root']))
cpus = st.builds(
    vconfig.LibvirtConfigGuestCPU,
    check=st.sampled_from([None, 'none', 'partial', 'full']),
    features=st.lists(cpu_features, max_size=3, unique_by=lambda f: f.name),
    mode=st.sampled_from([None, 'custom', 'host-model',
                          'host-passthrough']),
    model=st.one_of(st.none(), st.sampled_from(['Skylake-Server',
                                                'qemu64'])),
    match=st.sampled_from([None, 'exact', 'minimum', 'strict']),
    topology=st.one_of(st.none(), topologies),
    numa=st.one_of(st.none(), st.builds(
        vconfig.LibvirtConfigGuestCPUNUMA,
        st.lists(numa_cells, min_size=1, max_size=3))))
char_devices = st.one_of(
    st.builds(vconfig.LibvirtConfigGuestSerial, type=st.just('pty'),
              target_port=st.one_of(st.none(), small_ints)),
    st.builds(vconfig.LibvirtConfigGuestSerial, type=st.just('file'),
              source_path=paths,
              target_port=st.one_of(st.none(), small_ints)),
    st.builds(vconfig.LibvirtConfigGuestConsole,
              target_port=st.one_of(st.none(), small_ints)))
spec_values = st.text(st.sampled_from('abcdef0123456789:^-,'), max_size=10)
metas = st.builds(
    vconfig.LibvirtConfigGuestMetaNovaRealtime,
    flavor_name=st.one_of(st.none(), names),
    vcpus=st.one_of(st.none(), st.integers(1, 64)),
    memory_mb=st.one_of(st.none(), st.integers(1, 2 ** 20)),
    extra_specs=st.dictionaries(names.map(lambda n: 'hw:' + n), spec_values,
                                max_size=3),
    realtime_vcpus=st.sets(st.integers(0, 63), max_size=8),
    emulator_threads_policy=st.sampled_from([None, 'share', 'isolate']),
    numa_topology=st.one_of(st.none(), st.just('{"a": [1, 2]}')),
    claimed_pcpus=st.sets(st.integers(0, 255), max_size=8))


def _topology_guest(vcpus):
    # A guest whose cpu topology matches its vCPU count, as libvirt needs.
    return vconfig.LibvirtConfigGuestCPUTopology(1, vcpus, 1)


@st.composite
def guests(draw):
    vcpus = draw(st.integers(1, 8))
    cpu = draw(st.one_of(st.none(), st.builds(
        vconfig.LibvirtConfigGuestCPU,
        mode=st.sampled_from(['host-passthrough', 'host-model']),
        check=st.sampled_from([None, 'partial']),
        features=st.lists(cpu_features, max_size=2,
                          unique_by=lambda f: f.name),
        topology=st.just(_topology_guest(vcpus)))))
    return vconfig.LibvirtConfigGuest(
        virt_type=draw(st.sampled_from(vconfig.VIRT_TYPES)),
        name=draw(names),
        uuid=draw(st.one_of(st.none(), st.uuids().map(str))),
        description=draw(st.one_of(st.none(), names)),
        metadata=draw(st.lists(metas, max_size=1)),
        memory=draw(st.integers(1024, 2 ** 30)),
        memtune=draw(st.one_of(st.none(), memtunes)),
        membacking=draw(st.one_of(st.none(), membackings)),
        vcpus=vcpus,
        cpuset=draw(st.one_of(st.none(), cpusets)),
        cputune=draw(st.one_of(st.none(), st.builds(
            vconfig.LibvirtConfigGuestCPUTune,
            vcpupin=st.lists(st.builds(
                vconfig.LibvirtConfigGuestCPUTuneVCPUPin,
                st.integers(0, vcpus - 1), cpusets), max_size=vcpus,
                unique_by=lambda pin: pin.id),
            vcpusched=disjoint_scheds(max_vcpu=vcpus - 1)))),
        numatune=draw(st.one_of(st.none(), numatunes)),
        os_arch=draw(st.sampled_from([None, 'x86_64', 'i686'])),
        os_machine=draw(st.sampled_from([None, 'q35', 'pc'])),
        os_kernel=draw(st.one_of(st.none(), paths)),
        os_initrd=draw(st.one_of(st.none(), paths)),
        os_cmdline=draw(st.one_of(st.none(), st.just('console=ttyS0 quiet'))),
        os_boot_dev=draw(st.lists(st.sampled_from(['hd', 'network']),
                                  max_size=2)),
        features=draw(st.lists(st.builds(
            vconfig.LibvirtConfigGuestFeature,
            st.sampled_from(['acpi', 'apic', 'pae'])), max_size=3,
            unique_by=lambda feature: feature.name)) + draw(st.lists(
                st.builds(vconfig.LibvirtConfigGuestFeaturePMU,
                          st.booleans()), max_size=1)),
        cpu=cpu,
        on_poweroff=draw(st.sampled_from([None, 'destroy'])),
        on_reboot=draw(st.sampled_from([None, 'restart', 'destroy'])),
        on_crash=draw(st.sampled_from([None, 'destroy', 'preserve'])),
        devices=draw(st.lists(char_devices, max_size=3)) + draw(
            st.lists(st.just(vconfig.LibvirtConfigGuestController(
                type='usb', model='none')), max_size=1)) + draw(
            st.lists(st.builds(vconfig.LibvirtConfigGuestMemballoon,
                               st.sampled_from(['none', 'virtio'])),
                     max_size=1)),
    )


def round_trip(obj):
    return type(obj).from_xml(obj.to_xml())


class RoundTripTest(test.TestCase):
    """parse(format(x)) == x for every class, over generated values."""

    def _check(self, obj):
        again = round_trip(obj)
        self.assertEqual(obj, again, obj.to_xml())
        # And the XML is stable: formatting the parsed copy is identical.
        self.assertEqual(obj.to_xml(), again.to_xml())

    @given(vcpupins)
    def test_vcpupin(self, obj):
        self._check(obj)

    @given(emulatorpins)
    def test_emulatorpin(self, obj):
        self._check(obj)

    @given(vcpu_scheds())
    def test_vcpusched(self, obj):
        self._check(obj)

    @given(cputunes)
    def test_cputune(self, obj):
        self._check(obj)

    @given(pages)
    def test_memory_backing_page(self, obj):
        self._check(obj)

    @given(membackings)
    def test_memory_backing(self, obj):
        self._check(obj)

    @given(numatunes)
    def test_numatune(self, obj):
        self._check(obj)
        for part in [obj.memory] + obj.memnodes:
            if part is not None:
                self._check(part)

    @given(topologies)
    def test_cpu_topology(self, obj):
        self._check(obj)

    @given(numa_cells)
    def test_cpu_numa_cell(self, obj):
        self._check(obj)

    @given(cpus)
    def test_cpu(self, obj):
        self._check(obj)
        if obj.numa is not None:
            self._check(obj.numa)

    @given(char_devices)
    def test_char_devices(self, obj):
        self._check(obj)

    @given(st.sampled_from(vconfig.LibvirtConfigGuestMemballoon.MODELS))
    def test_memballoon(self, model):
        self._check(vconfig.LibvirtConfigGuestMemballoon(model))

    def test_emulator(self):
        self._check(vconfig.LibvirtConfigGuestEmulator('/usr/bin/qemu-kvm'))

    @given(st.sampled_from(['acpi', 'apic', 'pae', 'pmu']),
           st.sampled_from([None, 'on', 'off']))
    def test_feature(self, name, state):
        self._check(vconfig.LibvirtConfigGuestFeature(name, state))

    @given(cpu_features)
    def test_cpu_feature(self, obj):
        self._check(obj)

    @given(memtunes)
    def test_memtune(self, obj):
        self._check(obj)

    @given(controllers)
    def test_controller(self, obj):
        self._check(obj)

    @given(st.booleans())
    def test_pmu(self, enabled):
        self._check(vconfig.LibvirtConfigGuestFeaturePMU(enabled))

    @given(metas)
    def test_meta_nova_realtime(self, obj):
        self._check(obj)

    @settings(max_examples=60, deadline=None)
    @given(guests())
    def test_guest(self, obj):
        self._check(obj)

    def test_raw_element(self):
        raw = vconfig.LibvirtConfigRawElement(
            '<controller type="usb" index="0" model="none"/>')
        self._check(raw)
        self.assertEqual('controller', raw.tag)


def _c14n(node):
    return etree.tostring(node, method='c14n')


class UnmodelledKeptTest(test.TestCase):
    """What a class does not model survives parse -> format unchanged."""

    @settings(max_examples=60, deadline=None)
    @given(guests(), st.randoms(use_true_random=False))
    def test_anything_added_anywhere_is_written_back(self, guest, rnd):
        root = guest.format_dom()
        for number, element in enumerate(list(root.iter())):
            if rnd.random() < 0.5:
                element.set('x-kept-%d' % number, str(number))
            if rnd.random() < 0.5:
                element.insert(rnd.randint(0, len(element)), etree.Element(
                    'x-kept-%d' % number, n=str(number)))
        parsed = vconfig.LibvirtConfigGuest.from_dom(root)
        self.assertEqual(_c14n(root), _c14n(parsed.format_dom()))
        self.assertEqual(parsed, vconfig.LibvirtConfigGuest.from_xml(
            parsed.to_xml()))

    def test_kept_next_to_the_sibling_it_followed(self):
        tune = vconfig.LibvirtConfigGuestCPUTune.from_xml(
            '<cputune><shares>1024</shares><vcpupin vcpu="0" cpuset="1"/>'
            '<iothreadpin iothread="1" cpuset="2"/>'
            '<vcpupin vcpu="1" cpuset="2"/><emulatorpin cpuset="3"/>'
            '<emulator_period>1000</emulator_period></cputune>')
        self.assertEqual(
            ['shares', 'vcpupin', 'iothreadpin', 'vcpupin', 'emulatorpin',
             'emulator_period'],
            [child.tag for child in tune.format_dom()])

    def test_equality_counts_what_was_kept(self):
        one = vconfig.LibvirtConfigGuestCPU.from_xml(
            '<cpu mode="host-passthrough"><cache mode="passthrough"/></cpu>')
        other = vconfig.LibvirtConfigGuestCPU.from_xml(
            '<cpu mode="host-passthrough"><cache mode="disable"/></cpu>')
        plain = vconfig.LibvirtConfigGuestCPU(mode='host-passthrough')
        self.assertNotEqual(one, other)
        self.assertNotEqual(one, plain)
        self.assertEqual(one, round_trip(one))
        self.assertIn('cache', repr(one))

    def test_kept_xml_is_a_copy(self):
        node = etree.fromstring('<cpu><cache mode="passthrough"/></cpu>')
        cpu = vconfig.LibvirtConfigGuestCPU.from_dom(node)
        node.find('cache').set('mode', 'disable')
        self.assertEqual('passthrough',
                         cpu.format_dom().find('cache').get('mode'))
        first = cpu.format_dom()
        first.find('cache').set('mode', 'emulate')
        self.assertEqual('passthrough',
                         cpu.format_dom().find('cache').get('mode'))

    def test_every_domain_class_says_what_it_reads(self):
        classes = [cls for cls in vars(vconfig).values()
                   if isinstance(cls, type)
                   and issubclass(cls, vconfig.LibvirtConfigObject)
                   and cls.__module__ == vconfig.__name__
                   and cls.__name__.startswith('LibvirtConfigGuest')]
        self.assertGreater(len(classes), 20)
        for cls in classes:
            self.assertIsNotNone(cls.XML_CHILDREN, cls.__name__)


class BaseObjectTest(test.TestCase):

    def test_positional_and_keyword_arguments(self):
        pin = vconfig.LibvirtConfigGuestCPUTuneVCPUPin(3, cpuset={7})
        self.assertEqual(3, pin.id)
        self.assertEqual({7}, pin.cpuset)

    def test_unknown_keyword_rejected(self):
        self.assertRaises(TypeError, vconfig.LibvirtConfigGuestCPUTuneVCPUPin,
                          vcpu=1)

    def test_argument_given_twice_rejected(self):
        self.assertRaises(TypeError, vconfig.LibvirtConfigGuestCPUTuneVCPUPin,
                          1, id=2)

    def test_too_many_positional_rejected(self):
        self.assertRaises(TypeError, vconfig.LibvirtConfigGuestFeature,
                          'acpi', 'on', 'extra')

    def test_mutable_defaults_not_shared(self):
        one = vconfig.LibvirtConfigGuest()
        two = vconfig.LibvirtConfigGuest()
        one.devices.append(vconfig.LibvirtConfigGuestMemballoon('none'))
        self.assertEqual([], two.devices)

    def test_equality_is_by_type_and_fields(self):
        self.assertEqual(vconfig.LibvirtConfigGuestCPUTuneEmulatorPin({1}),
                         vconfig.LibvirtConfigGuestCPUTuneEmulatorPin({1}))
        self.assertNotEqual(
            vconfig.LibvirtConfigGuestCPUTuneEmulatorPin({1}),
            vconfig.LibvirtConfigGuestCPUTuneEmulatorPin({2}))
        self.assertNotEqual(vconfig.LibvirtConfigGuestSerial(),
                            vconfig.LibvirtConfigGuestConsole(
                                target_type=None))

    def test_parse_str_on_class_and_instance(self):
        xml = '<emulatorpin cpuset="2-3"/>'
        from_class = vconfig.LibvirtConfigGuestCPUTuneEmulatorPin.parse_str(
            xml)
        obj = vconfig.LibvirtConfigGuestCPUTuneEmulatorPin()
        returned = obj.parse_str(xml)
        self.assertIs(obj, returned)
        self.assertEqual({2, 3}, from_class.cpuset)
        self.assertEqual(from_class, obj)

    def test_parse_with_xml_declaration(self):
        pin = vconfig.LibvirtConfigGuestCPUTuneEmulatorPin.from_xml(
            "<?xml version='1.0' encoding='UTF-8'?><emulatorpin cpuset='1'/>")
        self.assertEqual({1}, pin.cpuset)

    def test_parse_wrong_element_rejected(self):
        exc = self.assertRaises(
            exception.LibvirtConfigInvalid,
            vconfig.LibvirtConfigGuestCPUTuneVCPUPin.from_xml,
            '<emulatorpin cpuset="1"/>')
        self.assertIn('vcpupin', str(exc))

    def test_to_xml_pretty_print(self):
        tune = vconfig.LibvirtConfigGuestCPUTune(
            emulatorpin=vconfig.LibvirtConfigGuestCPUTuneEmulatorPin({1}))
        self.assertIn('\n  <emulatorpin', tune.to_xml())
        self.assertNotIn('\n', tune.to_xml(pretty_print=False))

    def test_repr_shows_set_fields(self):
        self.assertEqual(
            "LibvirtConfigGuestCPUTuneVCPUPin(id=1, cpuset={4})",
            repr(vconfig.LibvirtConfigGuestCPUTuneVCPUPin(1, {4})))

    def test_memory_units_converted_to_kib(self):
        for unit, value, kib in (('KiB', 4, 4), ('MiB', 2, 2048),
                                 ('GiB', 1, 1048576), ('b', 8192, 8),
                                 (None, 5, 5), ('M', 1, 1024)):
            self.assertEqual(kib, vconfig.to_kib(value, unit))
        self.assertRaises(exception.LibvirtConfigInvalid, vconfig.to_kib,
                          1, 'parsecs')


class VCPUSchedRulesTest(test.TestCase):
    """libvirt's vcpusched rules: fifo/rr need 1..99, batch/idle none."""

    def _sched(self, scheduler, priority, vcpus=None):
        return vconfig.LibvirtConfigGuestCPUTuneVCPUSched(
            vcpus if vcpus is not None else {1}, scheduler, priority)

    @given(st.sampled_from(['fifo', 'rr']), st.integers(1, 99))
    def test_realtime_scheduler_with_valid_priority(self, sched, prio):
        node = self._sched(sched, prio).format_dom()
        self.assertEqual(sched, node.get('scheduler'))
        self.assertEqual(str(prio), node.get('priority'))
        self.assertEqual('1', node.get('vcpus'))

    @given(st.sampled_from(['fifo', 'rr']),
           st.one_of(st.none(), st.integers(max_value=0),
                     st.integers(min_value=100), st.just('1'),
                     st.just(True)))
    def test_realtime_scheduler_bad_priority(self, sched, prio):
        exc = self.assertRaises(exception.LibvirtConfigInvalid,
                                self._sched(sched, prio).format_dom)
        self.assertIn('priority', str(exc))
        self.assertIn(repr(prio), str(exc))
        self.assertIn('1 to 99', str(exc))
        self.assertIsInstance(exc, ValueError)

    @given(st.sampled_from(['batch', 'idle']))
    def test_non_realtime_scheduler_without_priority(self, sched):
        node = self._sched(sched, None).format_dom()
        self.assertEqual(sched, node.get('scheduler'))
        self.assertIsNone(node.get('priority'))

    @given(st.sampled_from(['batch', 'idle']), st.integers(0, 99))
    def test_non_realtime_scheduler_rejects_priority(self, sched, prio):
        exc = self.assertRaises(exception.LibvirtConfigInvalid,
                                self._sched(sched, prio).format_dom)
        self.assertIn("'%s' takes no priority" % sched, str(exc))

    def test_unknown_scheduler(self):
        for sched in ('deadline', 'FIFO', None, ''):
            exc = self.assertRaises(ValueError,
                                    self._sched(sched, 1).format_dom)
            self.assertIn('scheduler', str(exc))
            self.assertIn('fifo, rr, batch, idle', str(exc))

    def test_empty_vcpus_rejected_but_none_means_all(self):
        self.assertRaises(exception.LibvirtConfigInvalid,
                          self._sched('fifo', 1, vcpus=set()).format_dom)
        sched = vconfig.LibvirtConfigGuestCPUTuneVCPUSched(None, 'fifo', 1)
        self.assertIsNone(sched.format_dom().get('vcpus'))

    def test_overlapping_scheds_rejected(self):
        tune = vconfig.LibvirtConfigGuestCPUTune(vcpusched=[
            vconfig.LibvirtConfigGuestCPUTuneVCPUSched({0, 1}, 'fifo', 1),
            vconfig.LibvirtConfigGuestCPUTuneVCPUSched({1, 2}, 'rr', 1)])
        exc = self.assertRaises(exception.LibvirtConfigInvalid, tune.to_xml)
        self.assertIn('vCPUs 1 are in more than one', str(exc))
        tune.vcpusched[1].vcpus = None
        self.assertRaises(exception.LibvirtConfigInvalid, tune.to_xml)
        tune.vcpusched[1].vcpus = {2}
        self.assertIn('vcpus="2"', tune.to_xml())

    def test_cputune_formatting_validates_its_scheds(self):
        tune = vconfig.LibvirtConfigGuestCPUTune(vcpusched=[
            vconfig.LibvirtConfigGuestCPUTuneVCPUSched({0}, 'rr', 0)])
        self.assertRaises(exception.LibvirtConfigInvalid, tune.to_xml)


class ExactXMLTest(test.TestCase):
    """Element and attribute values of the key classes."""

    def test_cputune(self):
        tune = vconfig.LibvirtConfigGuestCPUTune(
            vcpupin=[vconfig.LibvirtConfigGuestCPUTuneVCPUPin(0, {2, 3}),
                     vconfig.LibvirtConfigGuestCPUTuneVCPUPin(1, {4})],
            emulatorpin=vconfig.LibvirtConfigGuestCPUTuneEmulatorPin(
                {0, 1, 2, 3, 5}),
            vcpusched=[vconfig.LibvirtConfigGuestCPUTuneVCPUSched(
                {1, 2, 3, 7}, 'fifo', 50)])
        node = tune.format_dom()
        self.assertEqual('cputune', node.tag)
        self.assertEqual(['vcpupin', 'vcpupin', 'emulatorpin', 'vcpusched'],
                         [child.tag for child in node])
        self.assertEqual({'vcpu': '0', 'cpuset': '2-3'},
                         dict(node[0].attrib))
        self.assertEqual({'vcpu': '1', 'cpuset': '4'}, dict(node[1].attrib))
        self.assertEqual('0-3,5', node[2].get('cpuset'))
        self.assertEqual({'vcpus': '1-3,7', 'scheduler': 'fifo',
                          'priority': '50'}, dict(node[3].attrib))

    def test_memory_backing(self):
        backing = vconfig.LibvirtConfigGuestMemoryBacking(
            hugepages=[vconfig.LibvirtConfigGuestMemoryBackingPage(
                           2048, {0}),
                       vconfig.LibvirtConfigGuestMemoryBackingPage(
                           1048576, {1, 2})],
            sharedpages=False, locked=True)
        node = backing.format_dom()
        self.assertEqual(['hugepages', 'nosharepages', 'locked'],
                         [child.tag for child in node])
        self.assertEqual(
            [{'size': '2048', 'unit': 'KiB', 'nodeset': '0'},
             {'size': '1048576', 'unit': 'KiB', 'nodeset': '1-2'}],
            [dict(page.attrib) for page in node[0]])

    def test_memory_backing_defaults_write_nothing(self):
        node = vconfig.LibvirtConfigGuestMemoryBacking().format_dom()
        self.assertEqual(0, len(node))
        self.assertEqual({}, dict(node.attrib))

    def test_numatune(self):
        tune = vconfig.LibvirtConfigGuestNUMATune(
            memory=vconfig.LibvirtConfigGuestNUMATuneMemory(
                nodeset={0, 1}),
            memnodes=[
                vconfig.LibvirtConfigGuestNUMATuneMemNode(0, 'strict', {0}),
                vconfig.LibvirtConfigGuestNUMATuneMemNode(
                    1, 'preferred', {1})])
        node = tune.format_dom()
        self.assertEqual({'mode': 'strict', 'nodeset': '0-1'},
                         dict(node[0].attrib))
        self.assertEqual([{'cellid': '0', 'mode': 'strict', 'nodeset': '0'},
                          {'cellid': '1', 'mode': 'preferred',
                           'nodeset': '1'}],
                         [dict(n.attrib) for n in node[1:]])

    def test_numatune_bad_mode(self):
        node = vconfig.LibvirtConfigGuestNUMATuneMemNode(0, 'lax', {0})
        exc = self.assertRaises(exception.LibvirtConfigInvalid,
                                node.format_dom)
        self.assertIn("mode='lax'", str(exc))

    def test_cpu(self):
        cpu = vconfig.LibvirtConfigGuestCPU(
            mode='host-passthrough',
            topology=vconfig.LibvirtConfigGuestCPUTopology(1, 2, 2),
            numa=vconfig.LibvirtConfigGuestCPUNUMA([
                vconfig.LibvirtConfigGuestCPUNUMACell(0, {0, 1}, 524288,
                                                      'shared'),
                vconfig.LibvirtConfigGuestCPUNUMACell(1, {2, 3}, 524288)]))
        node = cpu.format_dom()
        self.assertEqual({'mode': 'host-passthrough'}, dict(node.attrib))
        self.assertEqual({'sockets': '1', 'cores': '2', 'threads': '2'},
                         dict(node.find('topology').attrib))
        cells = node.findall('numa/cell')
        self.assertEqual({'id': '0', 'cpus': '0-1', 'memory': '524288',
                          'unit': 'KiB', 'memAccess': 'shared'},
                         dict(cells[0].attrib))
        self.assertIsNone(cells[1].get('memAccess'))

    def test_cpu_custom_model(self):
        node = vconfig.LibvirtConfigGuestCPU(
            mode='custom', match='exact', model='Skylake-Server').format_dom()
        self.assertEqual('Skylake-Server', node.findtext('model'))
        self.assertEqual('exact', node.get('match'))

    def test_cpu_check_and_features(self):
        cpu = vconfig.LibvirtConfigGuestCPU(
            mode='host-passthrough', check='none',
            topology=vconfig.LibvirtConfigGuestCPUTopology(1, 2, 1),
            features=[vconfig.LibvirtConfigGuestCPUFeature('tsc-deadline'),
                      vconfig.LibvirtConfigGuestCPUFeature('hle',
                                                           'disable')])
        node = cpu.format_dom()
        self.assertEqual({'mode': 'host-passthrough', 'check': 'none'},
                         dict(node.attrib))
        self.assertEqual(['topology', 'feature', 'feature'],
                         [child.tag for child in node])
        self.assertEqual([{'policy': 'require', 'name': 'tsc-deadline'},
                          {'policy': 'disable', 'name': 'hle'}],
                         [dict(f.attrib) for f in node.findall('feature')])
        parsed = vconfig.LibvirtConfigGuestCPU.from_xml(
            "<cpu mode='custom'><model>qemu64</model>"
            "<feature name='pcid'/></cpu>")
        self.assertEqual('require', parsed.features[0].policy)

    def test_cpu_feature_rules(self):
        for cpu in (
                vconfig.LibvirtConfigGuestCPU(check='strict'),
                vconfig.LibvirtConfigGuestCPU(features=[
                    vconfig.LibvirtConfigGuestCPUFeature('pcid'),
                    vconfig.LibvirtConfigGuestCPUFeature('pcid',
                                                         'disable')]),
                vconfig.LibvirtConfigGuestCPU(features=[
                    vconfig.LibvirtConfigGuestCPUFeature('pcid', 'want')]),
                vconfig.LibvirtConfigGuestCPU(features=[
                    vconfig.LibvirtConfigGuestCPUFeature()])):
            self.assertRaises(exception.LibvirtConfigInvalid, cpu.format_dom)

    def test_memtune(self):
        node = vconfig.LibvirtConfigGuestMemoryTune(
            hard_limit=2097152, soft_limit=1048576).format_dom()
        self.assertEqual(['hard_limit', 'soft_limit'],
                         [child.tag for child in node])
        self.assertEqual(('2097152', 'KiB'), (node.findtext('hard_limit'),
                                              node.find('hard_limit').get(
                                                  'unit')))
        parsed = vconfig.LibvirtConfigGuestMemoryTune.from_xml(
            "<memtune><hard_limit unit='GiB'>2</hard_limit></memtune>")
        self.assertEqual(2097152, parsed.hard_limit)
        for bad in (dict(hard_limit=-1), dict(soft_limit='1G'),
                    dict(hard_limit=True),
                    dict(hard_limit=2048, swap_hard_limit=1024)):
            self.assertRaises(exception.LibvirtConfigInvalid,
                              vconfig.LibvirtConfigGuestMemoryTune(
                                  **bad).format_dom)

    def test_memtune_min_guarantee(self):
        tune = vconfig.LibvirtConfigGuestMemoryTune(min_guarantee=1024)
        node = tune.format_dom()
        self.assertEqual(('1024', 'KiB'), (node.findtext('min_guarantee'),
                                           node.find('min_guarantee').get(
                                               'unit')))
        self.assertEqual(tune, round_trip(tune))
        parsed = vconfig.LibvirtConfigGuestMemoryTune.from_xml(
            "<memtune><min_guarantee unit='MiB'>2</min_guarantee></memtune>")
        self.assertEqual(2048, parsed.min_guarantee)
        self.assertRaises(exception.LibvirtConfigInvalid,
                          vconfig.LibvirtConfigGuestMemoryTune(
                              min_guarantee=-1).format_dom)

    def test_min_guarantee_refused_for_qemu(self):
        # libvirt's QEMU driver refuses it at define time; say so first.
        for virt_type in ('kvm', 'qemu'):
            guest = vconfig.LibvirtConfigGuest(
                virt_type=virt_type, name='g', memory=65536,
                memtune=vconfig.LibvirtConfigGuestMemoryTune(
                    min_guarantee=1024))
            error = self.assertRaises(exception.LibvirtConfigInvalid,
                                      guest.format_dom)
            self.assertIn('min_guarantee', str(error))
        guest.virt_type = 'test'
        self.assertEqual('1024', guest.format_dom().findtext(
            'memtune/min_guarantee'))

    def test_controller(self):
        node = vconfig.LibvirtConfigGuestController(
            type='usb', model='none').format_dom()
        self.assertEqual({'type': 'usb', 'model': 'none'}, dict(node.attrib))
        for bad in (dict(model='none'), dict(type='usb', index=-1)):
            self.assertRaises(exception.LibvirtConfigInvalid,
                              vconfig.LibvirtConfigGuestController(
                                  **bad).format_dom)

    def test_pmu(self):
        self.assertEqual(
            {'state': 'off'},
            dict(vconfig.LibvirtConfigGuestFeaturePMU(False).format_dom()
                 .attrib))
        self.assertEqual('on', vconfig.LibvirtConfigGuestFeaturePMU(
            True).format_dom().get('state'))
        self.assertRaises(exception.LibvirtConfigInvalid,
                          vconfig.LibvirtConfigGuestFeaturePMU().format_dom)
        self.assertRaises(exception.LibvirtConfigInvalid,
                          vconfig.LibvirtConfigGuestFeaturePMU.from_xml,
                          "<pmu state='maybe'/>")

    def test_cpu_topology_must_be_positive(self):
        topo = vconfig.LibvirtConfigGuestCPUTopology(1, 0, 1)
        exc = self.assertRaises(exception.LibvirtConfigInvalid,
                                topo.format_dom)
        self.assertIn('cores=0', str(exc))

    def test_empty_cpu_numa_rejected(self):
        self.assertRaises(exception.LibvirtConfigInvalid,
                          vconfig.LibvirtConfigGuestCPUNUMA().format_dom)

    def test_serial_file_and_console(self):
        serial = vconfig.LibvirtConfigGuestSerial(
            type='file', source_path='/var/log/nova/console.log',
            target_port=0).format_dom()
        self.assertEqual('file', serial.get('type'))
        self.assertEqual('/var/log/nova/console.log',
                         serial.find('source').get('path'))
        self.assertEqual('0', serial.find('target').get('port'))
        console = vconfig.LibvirtConfigGuestConsole().format_dom()
        self.assertEqual('pty', console.get('type'))
        self.assertEqual({'type': 'serial'},
                         dict(console.find('target').attrib))
        self.assertIsNone(console.find('source'))

    def test_serial_file_needs_path(self):
        exc = self.assertRaises(
            exception.LibvirtConfigInvalid,
            vconfig.LibvirtConfigGuestSerial(type='file').format_dom)
        self.assertIn('source_path', str(exc))

    def test_serial_bad_type(self):
        self.assertRaises(
            exception.LibvirtConfigInvalid,
            vconfig.LibvirtConfigGuestSerial(type='tcp').format_dom)

    def test_memballoon(self):
        node = vconfig.LibvirtConfigGuestMemballoon('none').format_dom()
        self.assertEqual({'model': 'none'}, dict(node.attrib))
        self.assertRaises(
            exception.LibvirtConfigInvalid,
            vconfig.LibvirtConfigGuestMemballoon('balloon').format_dom)

    def test_vcpu_pinned_twice_rejected(self):
        tune = vconfig.LibvirtConfigGuestCPUTune(vcpupin=[
            vconfig.LibvirtConfigGuestCPUTuneVCPUPin(0, {1}),
            vconfig.LibvirtConfigGuestCPUTuneVCPUPin(0, {2})])
        exc = self.assertRaises(exception.LibvirtConfigInvalid, tune.to_xml)
        self.assertIn('pinned twice', str(exc))

    def test_memnode_cell_twice_rejected(self):
        tune = vconfig.LibvirtConfigGuestNUMATune(memnodes=[
            vconfig.LibvirtConfigGuestNUMATuneMemNode(0, 'strict', {0}),
            vconfig.LibvirtConfigGuestNUMATuneMemNode(0, 'strict', {1})])
        self.assertRaises(exception.LibvirtConfigInvalid, tune.to_xml)

    def test_vcpupin_needs_cpuset(self):
        exc = self.assertRaises(
            exception.LibvirtConfigInvalid,
            vconfig.LibvirtConfigGuestCPUTuneVCPUPin(0, set()).format_dom)
        self.assertIn('cpuset', str(exc))

    def test_meta_nova_realtime(self):
        meta = vconfig.LibvirtConfigGuestMetaNovaRealtime(
            flavor_name='rt.small', vcpus=4, memory_mb=2048,
            extra_specs={'hw:cpu_realtime': 'yes',
                         'hw:cpu_realtime_mask': '^0'},
            realtime_vcpus={1, 2, 3}, emulator_threads_policy='isolate',
            numa_topology='{"nova_object.name": "InstanceNUMATopology"}',
            claimed_pcpus={2, 3, 4, 5, 9})
        node = meta.format_dom()
        ns = {'nrt': vconfig.NOVA_RT_NS}
        self.assertEqual('{%s}instance' % vconfig.NOVA_RT_NS, node.tag)
        self.assertEqual({'nrt': vconfig.NOVA_RT_NS}, node.nsmap)
        flavor = node.find('nrt:flavor', ns)
        self.assertEqual({'name': 'rt.small', 'vcpus': '4',
                          'memory_mb': '2048'}, dict(flavor.attrib))
        self.assertEqual(
            {'hw:cpu_realtime': 'yes', 'hw:cpu_realtime_mask': '^0'},
            {spec.get('key'): spec.get('value')
             for spec in flavor.findall('nrt:extra_spec', ns)})
        self.assertEqual({'vcpus': '1-3', 'emulator_threads_policy':
                          'isolate'},
                         dict(node.find('nrt:realtime', ns).attrib))
        self.assertEqual('2-5,9', node.findtext('nrt:claimed_pcpus',
                                                namespaces=ns))
        self.assertEqual(meta.numa_topology,
                         node.findtext('nrt:numa_topology', namespaces=ns))

    def test_meta_empty_writes_only_root(self):
        node = vconfig.LibvirtConfigGuestMetaNovaRealtime().format_dom()
        self.assertEqual(0, len(node))


class GuestTest(test.TestCase):

    def _guest(self, **kw):
        values = dict(virt_type='kvm', name='instance-1', memory=1048576,
                      vcpus=4)
        values.update(kw)
        return vconfig.LibvirtConfigGuest(**values)

    def test_minimal(self):
        node = self._guest().format_dom()
        self.assertEqual('domain', node.tag)
        self.assertEqual('kvm', node.get('type'))
        self.assertEqual(['name', 'memory', 'vcpu', 'os'],
                         [child.tag for child in node])
        self.assertEqual('instance-1', node.findtext('name'))
        self.assertEqual('1048576', node.findtext('memory'))
        self.assertEqual('KiB', node.find('memory').get('unit'))
        self.assertEqual('4', node.findtext('vcpu'))
        self.assertEqual('hvm', node.findtext('os/type'))
        self.assertEqual({}, dict(node.find('os/type').attrib))

    def test_child_order_follows_schema(self):
        guest = self._guest(
            uuid='8b3c9a4e-41f2-4b1b-9a4c-1e0b5c7f0a11',
            description='rt guest',
            metadata=[vconfig.LibvirtConfigGuestMetaNovaRealtime(vcpus=4)],
            membacking=vconfig.LibvirtConfigGuestMemoryBacking(locked=True),
            cpuset={8, 9},
            cputune=vconfig.LibvirtConfigGuestCPUTune(),
            numatune=vconfig.LibvirtConfigGuestNUMATune(
                memory=vconfig.LibvirtConfigGuestNUMATuneMemory(
                    nodeset={0})),
            os_arch='x86_64', os_machine='q35',
            os_kernel='/boot/vmlinuz', os_initrd='/boot/initrd.img',
            os_cmdline='console=ttyS0', os_boot_dev=['hd'],
            features=[vconfig.LibvirtConfigGuestFeature('acpi'),
                      vconfig.LibvirtConfigGuestFeature('pmu', 'off')],
            cpu=vconfig.LibvirtConfigGuestCPU(mode='host-passthrough'),
            on_poweroff='destroy', on_reboot='restart', on_crash='destroy',
            devices=[vconfig.LibvirtConfigGuestSerial(target_port=0),
                     vconfig.LibvirtConfigGuestConsole()])
        node = guest.format_dom()
        self.assertEqual(
            ['name', 'uuid', 'description', 'metadata', 'memory',
             'memoryBacking', 'vcpu', 'cputune', 'numatune', 'os',
             'features', 'cpu', 'on_poweroff', 'on_reboot', 'on_crash',
             'devices'],
            [child.tag for child in node])
        self.assertEqual(['type', 'kernel', 'initrd', 'cmdline', 'boot'],
                         [child.tag for child in node.find('os')])
        self.assertEqual({'arch': 'x86_64', 'machine': 'q35'},
                         dict(node.find('os/type').attrib))
        self.assertEqual('8-9', node.find('vcpu').get('cpuset'))
        self.assertEqual(['acpi', 'pmu'],
                         [f.tag for f in node.find('features')])
        self.assertEqual('off', node.find('features/pmu').get('state'))
        self.assertEqual(['serial', 'console'],
                         [d.tag for d in node.find('devices')])

    def test_bad_virt_type(self):
        exc = self.assertRaises(exception.LibvirtConfigInvalid,
                                self._guest(virt_type='xen').format_dom)
        self.assertIn("type='xen'", str(exc))

    def test_name_and_memory_required(self):
        for missing in ('name', 'memory'):
            exc = self.assertRaises(exception.LibvirtConfigInvalid,
                                    self._guest(**{missing: None}).to_xml)
            self.assertIn(missing, str(exc))

    def test_feature_twice_rejected(self):
        guest = self._guest(features=[
            vconfig.LibvirtConfigGuestFeature('acpi'),
            vconfig.LibvirtConfigGuestFeature('acpi')])
        exc = self.assertRaises(exception.LibvirtConfigInvalid, guest.to_xml)
        self.assertIn("feature='acpi'", str(exc))

    def test_one_memballoon_at_most(self):
        guest = self._guest(devices=[
            vconfig.LibvirtConfigGuestMemballoon('none'),
            vconfig.LibvirtConfigGuestMemballoon('virtio')])
        exc = self.assertRaises(exception.LibvirtConfigInvalid, guest.to_xml)
        self.assertIn('memballoon=2', str(exc))

    def test_vcpus_must_be_positive(self):
        self.assertRaises(exception.LibvirtConfigInvalid,
                          self._guest(vcpus=0).to_xml)

    def test_bad_lifecycle_action(self):
        exc = self.assertRaises(exception.LibvirtConfigInvalid,
                                self._guest(on_crash='explode').to_xml)
        self.assertIn('on_crash', str(exc))

    def test_vcpupin_beyond_vcpu_count(self):
        guest = self._guest(cputune=vconfig.LibvirtConfigGuestCPUTune(
            vcpupin=[vconfig.LibvirtConfigGuestCPUTuneVCPUPin(4, {1})]))
        exc = self.assertRaises(exception.LibvirtConfigInvalid, guest.to_xml)
        self.assertIn('4-vCPU', str(exc))

    def test_vcpusched_beyond_vcpu_count(self):
        guest = self._guest(cputune=vconfig.LibvirtConfigGuestCPUTune(
            vcpusched=[vconfig.LibvirtConfigGuestCPUTuneVCPUSched(
                {3, 4}, 'fifo', 1)]))
        exc = self.assertRaises(exception.LibvirtConfigInvalid, guest.to_xml)
        self.assertIn("'3-4'", str(exc))

    def test_topology_must_match_vcpus(self):
        guest = self._guest(cpu=vconfig.LibvirtConfigGuestCPU(
            topology=vconfig.LibvirtConfigGuestCPUTopology(1, 3, 1)))
        exc = self.assertRaises(exception.LibvirtConfigInvalid, guest.to_xml)
        self.assertIn('must equal the vCPU count 4', str(exc))

    def test_numa_cells_within_vcpus(self):
        guest = self._guest(cpu=vconfig.LibvirtConfigGuestCPU(
            numa=vconfig.LibvirtConfigGuestCPUNUMA([
                vconfig.LibvirtConfigGuestCPUNUMACell(0, {0, 5}, 1024)])))
        self.assertRaises(exception.LibvirtConfigInvalid, guest.to_xml)

    def test_parse_keeps_unknown_children(self):
        xml = """
        <domain type='kvm'>
          <name>x</name>
          <metadata>
            <other:info xmlns:other="http://example.org/other">hi</other:info>
          </metadata>
          <memory unit='MiB'>512</memory>
          <vcpu placement='static'>1</vcpu>
          <os><type arch='x86_64' machine='pc'>hvm</type></os>
          <features><acpi/><kvm><hidden state='on'/></kvm></features>
          <devices>
            <emulator>/usr/bin/qemu-system-x86_64</emulator>
            <controller type='usb' index='0' model='none'/>
            <controller type='pci' index='0' model='pci-root'>
              <alias name='pci.0'/>
            </controller>
            <memballoon model='none'/>
          </devices>
        </domain>"""
        guest = vconfig.LibvirtConfigGuest.from_xml(xml)
        self.assertEqual(524288, guest.memory)
        self.assertIsInstance(guest.metadata[0],
                              vconfig.LibvirtConfigRawElement)
        self.assertIsNone(guest.get_metadata())
        self.assertEqual(vconfig.LibvirtConfigGuestFeature('acpi'),
                         guest.features[0])
        self.assertIsInstance(guest.features[1],
                              vconfig.LibvirtConfigRawElement)
        self.assertEqual(
            [vconfig.LibvirtConfigGuestEmulator,
             vconfig.LibvirtConfigGuestController,
             vconfig.LibvirtConfigRawElement,
             vconfig.LibvirtConfigGuestMemballoon],
            [type(d) for d in guest.devices])
        # Written back, the unknown parts are still there.
        again = etree.fromstring(guest.to_xml())
        self.assertEqual('hi', again.findtext(
            'metadata/{http://example.org/other}info'))
        self.assertEqual('on', again.find('features/kvm/hidden').get(
            'state'))
        self.assertEqual('usb', again.find('devices/controller').get('type'))
        self.assertEqual('pci.0', again.find(
            "devices/controller[@type='pci']/alias").get('name'))
        self.assertEqual(guest, round_trip(guest))

    def test_parse_memtune_pmu_and_controller(self):
        guest = vconfig.LibvirtConfigGuest.from_xml("""
        <domain type='kvm'>
          <name>x</name>
          <memory unit='KiB'>1048576</memory>
          <memtune><hard_limit unit='KiB'>2162688</hard_limit></memtune>
          <vcpu>1</vcpu>
          <os><type>hvm</type></os>
          <features><acpi/><pmu state='off'/></features>
          <devices><controller type='usb' index='0' model='none'/></devices>
        </domain>""")
        self.assertEqual(vconfig.LibvirtConfigGuestMemoryTune(
            hard_limit=2162688), guest.memtune)
        self.assertEqual(vconfig.LibvirtConfigGuestFeaturePMU(False),
                         guest.features[1])
        self.assertEqual([vconfig.LibvirtConfigGuestController(
            type='usb', index=0, model='none')], guest.devices)
        self.assertEqual(guest, round_trip(guest))
        node = guest.format_dom()
        self.assertEqual(['name', 'memory', 'memtune', 'vcpu', 'os',
                          'features', 'devices'],
                         [child.tag for child in node])

    def test_pmu_listed_twice_rejected(self):
        guest = self._guest(features=[
            vconfig.LibvirtConfigGuestFeaturePMU(False),
            vconfig.LibvirtConfigGuestFeature('pmu', 'on')])
        self.assertRaises(exception.LibvirtConfigInvalid, guest.format_dom)

    def test_get_metadata(self):
        meta = vconfig.LibvirtConfigGuestMetaNovaRealtime(claimed_pcpus={3})
        guest = self._guest(metadata=[
            vconfig.LibvirtConfigRawElement('<a:b xmlns:a="urn:a"/>'), meta])
        parsed = round_trip(guest)
        self.assertEqual(meta, parsed.get_metadata())
        self.assertEqual({3}, parsed.get_metadata().claimed_pcpus)
