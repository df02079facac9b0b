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

"""The generated domain XML against libvirt itself.

Two judges: libvirt's RelaxNG schema (rng.assert_domain_valid), for every
virt type we generate, and a real libvirt connection to the embedded test
driver, which must define and start the guest and give our settings back.
"""

import json
import uuid

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import libvirt
from lxml import etree

from nova import exception
from nova import objects
from nova import test
from nova.tests.unit.virt.libvirt import rng
from nova.tests.unit.virt.libvirt import test_config
from nova.virt.libvirt import config as vconfig


def make_fitted_topology():
    """A fitted 4-vCPU, 2-cell real-time InstanceNUMATopology."""
    return objects.InstanceNUMATopology(
        cells=[
            objects.InstanceNUMACell(
                id=0, pcpuset={0, 1}, memory=512, pagesize=2048,
                cpu_policy='dedicated', cpu_pinning={0: 2, 1: 3},
                cpuset_reserved={1}, host_node=0),
            objects.InstanceNUMACell(
                id=1, pcpuset={2, 3}, memory=512, pagesize=2048,
                cpu_policy='dedicated', cpu_pinning={2: 10, 3: 11},
                host_node=1),
        ],
        emulator_threads_policy='isolate', realtime_cpus={1, 2, 3})


def make_realtime_guest(virt_type, name=None):
    """A full real-time guest as the driver builds one (diskless)."""
    topology = make_fitted_topology()
    meta = vconfig.LibvirtConfigGuestMetaNovaRealtime(
        flavor_name='rt.small', vcpus=4, memory_mb=1024,
        extra_specs={'hw:cpu_policy': 'dedicated', 'hw:cpu_realtime': 'yes',
                     'hw:cpu_realtime_mask': '^0',
                     'hw:emulator_threads_policy': 'isolate'},
        realtime_vcpus={1, 2, 3}, emulator_threads_policy='isolate',
        claimed_pcpus={1, 2, 3, 10, 11})
    meta.set_numa_topology(topology)
    return vconfig.LibvirtConfigGuest(
        virt_type=virt_type,
        name=name or 'instance-%s' % uuid.uuid4().hex[:8],
        uuid=str(uuid.uuid4()),
        description='nova-realtime test guest',
        metadata=[meta],
        memory=1048576,
        memtune=vconfig.LibvirtConfigGuestMemoryTune(
            hard_limit=1048576 + 1048576 + 4 * 16384),
        membacking=vconfig.LibvirtConfigGuestMemoryBacking(
            hugepages=[vconfig.LibvirtConfigGuestMemoryBackingPage(
                2048, {0, 1})],
            sharedpages=False, locked=True),
        vcpus=4,
        cputune=vconfig.LibvirtConfigGuestCPUTune(
            vcpupin=[vconfig.LibvirtConfigGuestCPUTuneVCPUPin(v, {p})
                     for v, p in sorted(topology.cpu_pinning.items())],
            emulatorpin=vconfig.LibvirtConfigGuestCPUTuneEmulatorPin({1}),
            vcpusched=[vconfig.LibvirtConfigGuestCPUTuneVCPUSched(
                {1, 2, 3}, 'fifo', 1)]),
        numatune=vconfig.LibvirtConfigGuestNUMATune(
            memory=vconfig.LibvirtConfigGuestNUMATuneMemory(
                'strict', {0, 1}),
            memnodes=[
                vconfig.LibvirtConfigGuestNUMATuneMemNode(0, 'strict', {0}),
                vconfig.LibvirtConfigGuestNUMATuneMemNode(1, 'strict', {1})]),
        os_type='hvm',
        os_kernel='/var/lib/nova/instances/rt/kernel',
        os_initrd='/var/lib/nova/instances/rt/initrd',
        os_cmdline='console=ttyS0 isolcpus=1-3 nohz_full=1-3',
        features=[vconfig.LibvirtConfigGuestFeature('acpi'),
                  vconfig.LibvirtConfigGuestFeature('apic'),
                  vconfig.LibvirtConfigGuestFeaturePMU(False)],
        cpu=vconfig.LibvirtConfigGuestCPU(
            mode='host-passthrough',
            topology=vconfig.LibvirtConfigGuestCPUTopology(1, 4, 1),
            features=[vconfig.LibvirtConfigGuestCPUFeature('tsc-deadline')],
            numa=vconfig.LibvirtConfigGuestCPUNUMA([
                vconfig.LibvirtConfigGuestCPUNUMACell(0, {0, 1}, 524288,
                                                      'shared'),
                vconfig.LibvirtConfigGuestCPUNUMACell(1, {2, 3}, 524288,
                                                      'shared')])),
        on_poweroff='destroy', on_reboot='restart', on_crash='destroy',
        devices=[
            vconfig.LibvirtConfigGuestSerial(
                type='file', source_path='/var/log/nova/rt-console.log',
                target_port=0),
            vconfig.LibvirtConfigGuestSerial(type='pty', target_port=1),
            vconfig.LibvirtConfigGuestConsole(type='pty', target_port=1),
            vconfig.LibvirtConfigGuestController(type='usb', model='none'),
            vconfig.LibvirtConfigGuestMemballoon('none'),
        ])


def make_minimal_guest(virt_type):
    return vconfig.LibvirtConfigGuest(virt_type=virt_type, name='minimal',
                                      memory=65536, vcpus=1)


class _SchemaValidationTests:
    """Run once per virt type by the subclasses below."""

    virt_type = None

    def test_realtime_guest_validates(self):
        rng.assert_domain_valid(make_realtime_guest(self.virt_type).to_xml())

    def test_minimal_guest_validates(self):
        rng.assert_domain_valid(make_minimal_guest(self.virt_type).to_xml())

    def test_parsed_realtime_guest_still_validates(self):
        guest = make_realtime_guest(self.virt_type)
        again = vconfig.LibvirtConfigGuest.from_xml(guest.to_xml())
        self.assertEqual(guest, again)
        rng.assert_domain_valid(again.to_xml())


class KVMSchemaValidationTest(_SchemaValidationTests, test.TestCase):
    virt_type = 'kvm'


class QEMUSchemaValidationTest(_SchemaValidationTests, test.TestCase):
    virt_type = 'qemu'


class TestDriverSchemaValidationTest(_SchemaValidationTests, test.TestCase):
    virt_type = 'test'


class VirtTypeCoverageTest(test.TestCase):
    def test_every_virt_type_has_a_schema_test(self):
        covered = {cls.virt_type for cls in (
            KVMSchemaValidationTest, QEMUSchemaValidationTest,
            TestDriverSchemaValidationTest)}
        self.assertEqual(set(vconfig.VIRT_TYPES), covered)


class SchemaHelperTest(test.TestCase):
    """The helper itself must reject what libvirt's schema rejects."""

    def test_rejects_invalid_domain(self):
        xml = make_minimal_guest('kvm').to_xml().replace(
            '<vcpu>1</vcpu>', '<vcpu>one</vcpu>')
        exc = self.assertRaises(AssertionError, rng.assert_domain_valid, xml)
        self.assertIn('domain.rng', str(exc))

    def test_rejects_vcpusched_without_priority(self):
        # Written by hand: format_dom would refuse to produce it.
        doc = etree.fromstring(make_minimal_guest('kvm').to_xml())
        tune = etree.SubElement(doc, 'cputune')
        etree.SubElement(tune, 'vcpusched', vcpus='0', scheduler='fifo')
        self.assertRaises(AssertionError, rng.assert_domain_valid,
                          etree.tostring(doc, encoding='unicode'))

    def test_schema_loaded_once(self):
        self.assertIs(rng.load_schema('domain'), rng.load_schema('domain'))

    def test_cli_fallback_agrees(self):
        # When lxml cannot load a schema, virt-xml-validate is used instead.
        self.addCleanup(rng.load_schema.cache_clear)
        rng.load_schema.cache_clear()
        self.patch(rng, 'load_schema', lambda name: None)
        valid = make_realtime_guest('kvm').to_xml()
        self.assertEqual([], rng.validation_errors(valid))
        invalid = valid.replace('<vcpu>4</vcpu>', '<vcpu>four</vcpu>')
        self.assertNotEqual([], rng.validation_errors(invalid))

    @settings(max_examples=40, deadline=None)
    @given(test_config.guests())
    def test_generated_guests_validate(self, guest):
        rng.assert_domain_valid(guest.to_xml())


class MetadataTopologyTest(test.TestCase):

    def test_numa_topology_json_rebuilds_the_object(self):
        topology = make_fitted_topology()
        meta = vconfig.LibvirtConfigGuestMetaNovaRealtime()
        meta.set_numa_topology(topology)
        parsed = vconfig.LibvirtConfigGuestMetaNovaRealtime.from_xml(
            meta.to_xml())
        rebuilt = objects.InstanceNUMATopology.obj_from_primitive(
            json.loads(parsed.numa_topology))
        self.assertEqual(topology.cpu_pinning, rebuilt.cpu_pinning)
        self.assertEqual(topology.cpuset_reserved, rebuilt.cpuset_reserved)
        self.assertEqual(topology.realtime_cpus, rebuilt.realtime_cpus)
        self.assertEqual([c.host_node for c in topology.cells],
                         [c.host_node for c in rebuilt.cells])
        self.assertEqual([c.total_cpus for c in topology.cells],
                         [c.total_cpus for c in rebuilt.cells])


class LibvirtTestDriverTest(test.TestCase):
    """libvirt (test:///default) defines and starts what we generate."""

    def setUp(self):
        super().setUp()
        self.conn = libvirt.open('test:///default')
        self.addCleanup(self.conn.close)

    def _define(self, guest):
        dom = self.conn.defineXML(guest.to_xml())
        self.addCleanup(self._remove, dom)
        return dom

    @staticmethod
    def _remove(dom):
        if dom.isActive():
            dom.destroy()
        dom.undefine()

    def test_define_and_start_realtime_guest(self):
        guest = make_realtime_guest('test')
        dom = self._define(guest)
        dom.create()
        self.assertTrue(dom.isActive())
        self.assertEqual(guest.uuid, dom.UUIDString())
        back = vconfig.LibvirtConfigGuest.from_xml(dom.XMLDesc())
        rng.assert_domain_valid(dom.XMLDesc())

        self.assertEqual('test', back.virt_type)
        self.assertEqual(guest.memory, back.memory)
        self.assertEqual(4, back.vcpus)
        self.assertEqual(guest.cputune.vcpupin, back.cputune.vcpupin)
        self.assertEqual(guest.cputune.emulatorpin, back.cputune.emulatorpin)
        # libvirt may split one vcpusched into one per vCPU.
        self.assertEqual(
            {(v, 'fifo', 1) for v in (1, 2, 3)},
            {(v, s.scheduler, s.priority)
             for s in back.cputune.vcpusched for v in s.vcpus})
        self.assertEqual(guest.membacking, back.membacking)
        self.assertEqual(guest.numatune, back.numatune)
        # libvirt writes the dies it defaults to (1).
        self.assertEqual(1, back.cpu.topology.dies)
        back.cpu.topology.dies = guest.cpu.topology.dies
        self.assertEqual(guest.cpu.topology, back.cpu.topology)
        self.assertEqual(guest.cpu.numa, back.cpu.numa)
        self.assertEqual((guest.os_kernel, guest.os_initrd, guest.os_cmdline),
                         (back.os_kernel, back.os_initrd, back.os_cmdline))
        self.assertEqual(guest.get_metadata(), back.get_metadata())
        self.assertIn(vconfig.LibvirtConfigGuestMemballoon('none'),
                      back.devices)
        self.assertEqual(guest.memtune, back.memtune)
        self.assertIn(vconfig.LibvirtConfigGuestFeaturePMU(False),
                      back.features)
        self.assertEqual(guest.cpu.features, back.cpu.features)
        self.assertEqual(['shared', 'shared'],
                         [cell.memAccess for cell in back.cpu.numa.cells])
        self.assertIn(vconfig.LibvirtConfigGuestController(
            type='usb', index=0, model='none'), back.devices)

    def test_metadata_readable_through_libvirt_api(self):
        guest = make_realtime_guest('test')
        dom = self._define(guest)
        xml = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT,
                           vconfig.NOVA_RT_NS)
        meta = vconfig.LibvirtConfigGuestMetaNovaRealtime.from_xml(xml)
        self.assertEqual(guest.get_metadata(), meta)
        self.assertEqual({1, 2, 3, 10, 11}, meta.claimed_pcpus)

    def test_define_and_start_minimal_guest(self):
        guest = make_minimal_guest('test')
        guest.name = 'minimal-%s' % uuid.uuid4().hex[:8]
        dom = self._define(guest)
        dom.create()
        back = vconfig.LibvirtConfigGuest.from_xml(dom.XMLDesc())
        self.assertEqual((guest.name, 65536, 1),
                         (back.name, back.memory, back.vcpus))

    @given(st.sampled_from(['fifo', 'rr']), st.integers(1, 99))
    @settings(max_examples=10, deadline=None)
    def test_libvirt_accepts_every_priority_we_allow(self, sched, prio):
        guest = make_minimal_guest('test')
        guest.name = 'prio-%s' % uuid.uuid4().hex[:8]
        guest.cputune = vconfig.LibvirtConfigGuestCPUTune(vcpusched=[
            vconfig.LibvirtConfigGuestCPUTuneVCPUSched({0}, sched, prio)])
        dom = self.conn.defineXML(guest.to_xml())
        try:
            back = vconfig.LibvirtConfigGuest.from_xml(dom.XMLDesc())
        finally:
            dom.undefine()
        self.assertEqual(guest.cputune.vcpusched, back.cputune.vcpusched)

    def test_priority_we_refuse_libvirt_refuses_too(self):
        guest = make_minimal_guest('test')
        sched = vconfig.LibvirtConfigGuestCPUTuneVCPUSched({0}, 'fifo', None)
        self.assertRaises(exception.LibvirtConfigInvalid, sched.format_dom)
        doc = etree.fromstring(guest.to_xml())
        tune = etree.SubElement(doc, 'cputune')
        etree.SubElement(tune, 'vcpusched', vcpus='0', scheduler='fifo')
        # Keep libvirt's default handler from printing the expected error.
        libvirt.registerErrorHandler(lambda ctx, err: None, None)
        self.addCleanup(libvirt.registerErrorHandler, None, None)
        self.assertRaises(libvirt.libvirtError, self.conn.defineXML,
                          etree.tostring(doc, encoding='unicode'))
