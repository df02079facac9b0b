"""Tests for the host capability classes (nova.virt.libvirt.config_caps).

Parsed inputs: libvirt's test driver (live, ``test:///default``) and a
realistic KVM host fixture (2 NUMA cells, 2 SMT threads per core, 2 MiB and
1 GiB pages).
"""

import os

from hypothesis import given
from hypothesis import strategies as st
import libvirt

from nova import exception
from nova import test
from nova.tests.unit.virt.libvirt import rng
from nova.virt.libvirt import config as vconfig

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')


def load_fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


class KVMHostCapsTest(test.TestCase):

    def setUp(self):
        super().setUp()
        self.xml = load_fixture('caps_kvm_2numa_smt.xml')
        self.caps = vconfig.LibvirtConfigCaps.from_xml(self.xml)

    def test_fixture_is_valid_capabilities_xml(self):
        rng.assert_capabilities_valid(self.xml)

    def test_host_cpu(self):
        host = self.caps.host
        self.assertEqual('4c4c4544-0048-3510-8052-b4c04f4a4d32', host.uuid)
        self.assertEqual('x86_64', host.arch)
        self.assertEqual('Skylake-Server-IBRS', host.model)
        self.assertEqual('Intel', host.vendor)
        self.assertEqual((1, 4, 2), (host.cpu_topology.sockets,
                                     host.cpu_topology.cores,
                                     host.cpu_topology.threads))
        self.assertEqual([4, 2048, 1048576], host.page_sizes)

    def test_numa_cells(self):
        cells = self.caps.host.topology.cells
        self.assertEqual([0, 1], [cell.id for cell in cells])
        self.assertEqual([32803028, 32803028],
                         [cell.memory for cell in cells])
        self.assertEqual({0, 1, 2, 3, 8, 9, 10, 11},
                         {cpu.id for cpu in cells[0].cpus})
        self.assertEqual({4, 5, 6, 7, 12, 13, 14, 15},
                         {cpu.id for cpu in cells[1].cpus})

    def test_smt_siblings(self):
        for cell in self.caps.host.topology.cells:
            for cpu in cell.cpus:
                self.assertEqual(2, len(cpu.siblings))
                self.assertIn(cpu.id, cpu.siblings)
                # Siblings share socket and core.
                other = (cpu.siblings - {cpu.id}).pop()
                twin = [c for c in cell.cpus if c.id == other][0]
                self.assertEqual((cpu.socket_id, cpu.core_id),
                                 (twin.socket_id, twin.core_id))
        cpu5 = [c for c in self.caps.host.topology.cells[1].cpus
                if c.id == 5][0]
        self.assertEqual((1, 0, 1, {5, 13}),
                         (cpu5.socket_id, cpu5.die_id, cpu5.core_id,
                          cpu5.siblings))

    def test_mempages(self):
        cell = self.caps.host.topology.cells[0]
        self.assertEqual([(4, 6914757), (2048, 1024), (1048576, 2)],
                         [tuple(pages) for pages in cell.mempages])
        # Unpacks as (size_kb, total).
        size_kb, total = cell.mempages[2]
        self.assertEqual((1048576, 2), (size_kb, total))

    def test_guests(self):
        self.assertEqual(
            [('hvm', 'i686', 32, ['qemu', 'kvm']),
             ('hvm', 'x86_64', 64, ['qemu', 'kvm'])],
            [(g.os_type, g.arch, g.wordsize, g.domain_types)
             for g in self.caps.guests])
        self.assertEqual('/usr/bin/qemu-system-x86_64',
                         self.caps.guests[1].emulator)
        self.assertEqual(['qemu', 'kvm'],
                         self.caps.domain_types(arch='x86_64'))
        self.assertEqual([], self.caps.domain_types(os_type='xen'))

    def test_round_trip_and_valid(self):
        xml = self.caps.to_xml()
        rng.assert_capabilities_valid(xml)
        self.assertEqual(self.caps, vconfig.LibvirtConfigCaps.from_xml(xml))


class TestDriverCapsTest(test.TestCase):
    """Parse what a real libvirt returns (its embedded test driver)."""

    def setUp(self):
        super().setUp()
        conn = libvirt.open('test:///default')
        self.addCleanup(conn.close)
        self.xml = conn.getCapabilities()
        self.caps = vconfig.LibvirtConfigCaps.from_xml(self.xml)

    def test_parse(self):
        host = self.caps.host
        self.assertEqual('i686', host.arch)
        self.assertIn(2048, host.page_sizes)
        cells = host.topology.cells
        self.assertEqual(2, len(cells))
        self.assertEqual(16, sum(len(cell.cpus) for cell in cells))
        for cell in cells:
            self.assertGreater(cell.memory, 0)
            self.assertIn(2048, [size for size, _ in cell.mempages])
            for cpu in cell.cpus:
                self.assertEqual({cpu.id}, cpu.siblings)
        self.assertIn('test', self.caps.domain_types('hvm'))

    def test_round_trip(self):
        again = vconfig.LibvirtConfigCaps.from_xml(self.caps.to_xml())
        self.assertEqual(self.caps, again)
        rng.assert_capabilities_valid(self.caps.to_xml())


class CapsEdgeCasesTest(test.TestCase):

    def test_cpus_without_siblings(self):
        xml = """
        <capabilities><host>
          <cpu><arch>aarch64</arch></cpu>
          <topology><cells num='1'><cell id='0'>
            <memory unit='GiB'>4</memory>
            <cpus num='2'><cpu id='0'/><cpu id='1'/></cpus>
          </cell></cells></topology>
        </host></capabilities>"""
        caps = vconfig.LibvirtConfigCaps.from_xml(xml)
        rng.assert_capabilities_valid(xml)
        cell = caps.host.topology.cells[0]
        self.assertEqual(4 * 1024 * 1024, cell.memory)
        self.assertEqual([], cell.mempages)
        self.assertEqual([(0, None, None, None), (1, None, None, None)],
                         [(c.id, c.socket_id, c.core_id, c.siblings)
                          for c in cell.cpus])
        self.assertEqual(caps, vconfig.LibvirtConfigCaps.from_xml(
            caps.to_xml()))

    def test_host_without_numa_topology(self):
        # libvirt's schema allows it, nova-realtime cannot place a guest
        # without cells: the host parses, the document is refused.
        host = vconfig.LibvirtConfigCapsHost.from_xml(
            '<host><cpu><arch>x86_64</arch></cpu></host>')
        self.assertIsNone(host.topology)
        e = self.assertRaises(
            exception.LibvirtConfigInvalid,
            vconfig.LibvirtConfigCaps.from_xml,
            '<capabilities><host><cpu><arch>x86_64</arch></cpu></host>'
            '</capabilities>')
        self.assertIn('capabilities/host', str(e))
        self.assertIn('<topology>', str(e))

    @given(st.integers(0, 1023), st.integers(0, 3), st.integers(0, 63),
           st.sets(st.integers(0, 1023), max_size=3),
           st.integers(0, 2 ** 40), st.sampled_from([4, 2048, 1048576]))
    def test_cell_round_trip(self, cpu_id, socket, core, others, total,
                             size_kb):
        # One core: its SMT threads, each listing all of them as siblings.
        siblings = others | {cpu_id}
        cell = vconfig.LibvirtConfigCapsNUMACell(
            id=0, memory=1024,
            mempages=[vconfig.LibvirtConfigCapsNUMAPages(size_kb, total)],
            cpus=[vconfig.LibvirtConfigCapsNUMACPU(cpu, socket, core,
                                                   set(siblings), 0)
                  for cpu in sorted(siblings)])
        again = vconfig.LibvirtConfigCapsNUMACell.from_xml(cell.to_xml())
        self.assertEqual(cell, again)
