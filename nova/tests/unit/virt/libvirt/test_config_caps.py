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

"""Tests for the host capability classes (nova.virt.libvirt.config_caps).

Parsed inputs: libvirt's test driver (live, ``test:///default``) and a
realistic KVM host fixture (2 NUMA cells, 2 SMT threads per core, 2 MiB and
1 GiB pages).
"""

import os
import time
from unittest import mock

import fixtures
from hypothesis import given
from hypothesis import strategies as st
import libvirt

from nova import exception
from nova import test
from nova.tests.unit.virt.libvirt import rng
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import config_caps
from nova.virt.libvirt import host as host_mod

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')


def load_fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


class KVMHostCapsTest(test.TestCase):

    def setUp(self):
        super().setUp()
        self.xml = load_fixture('caps_kvm_2numa_smt.xml')
        self.caps = config_caps.LibvirtConfigCaps.from_xml(self.xml)

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
        self.assertEqual(self.caps,
                         config_caps.LibvirtConfigCaps.from_xml(xml))


class TestDriverCapsTest(test.TestCase):
    """Parse what a real libvirt returns (its embedded test driver)."""

    def setUp(self):
        super().setUp()
        conn = libvirt.open('test:///default')
        self.addCleanup(conn.close)
        self.xml = conn.getCapabilities()
        self.caps = config_caps.LibvirtConfigCaps.from_xml(self.xml)

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
        again = config_caps.LibvirtConfigCaps.from_xml(self.caps.to_xml())
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
        caps = config_caps.LibvirtConfigCaps.from_xml(xml)
        rng.assert_capabilities_valid(xml)
        cell = caps.host.topology.cells[0]
        self.assertEqual(4 * 1024 * 1024, cell.memory)
        self.assertEqual([], cell.mempages)
        self.assertEqual([(0, None, None, None), (1, None, None, None)],
                         [(c.id, c.socket_id, c.core_id, c.siblings)
                          for c in cell.cpus])
        self.assertEqual(caps, config_caps.LibvirtConfigCaps.from_xml(
            caps.to_xml()))

    def test_host_without_numa_topology(self):
        # libvirt's schema allows it, nova-realtime cannot place a guest
        # without cells: the host parses, the document is refused.
        host = config_caps.LibvirtConfigCapsHost.from_xml(
            '<host><cpu><arch>x86_64</arch></cpu></host>')
        self.assertIsNone(host.topology)
        e = self.assertRaises(
            exception.LibvirtConfigInvalid,
            config_caps.LibvirtConfigCaps.from_xml,
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
        cell = config_caps.LibvirtConfigCapsNUMACell(
            id=0, memory=1024,
            mempages=[config_caps.LibvirtConfigCapsNUMAPages(size_kb, total)],
            cpus=[config_caps.LibvirtConfigCapsNUMACPU(
                cpu, socket, core, set(siblings), 0)
                for cpu in sorted(siblings)])
        again = config_caps.LibvirtConfigCapsNUMACell.from_xml(cell.to_xml())
        self.assertEqual(cell, again)


def billion_laughs():
    """10^9 'a's from a 1 KiB document, if entities were expanded."""
    entities = ['<!ENTITY a0 "aaaaaaaaaa">']
    for level in range(1, 10):
        entities.append('<!ENTITY a%d "%s">' % (level,
                                                '&a%d;' % (level - 1) * 10))
    return ('<!DOCTYPE capabilities [%s]><capabilities><host><uuid>&a9;'
            '</uuid></host></capabilities>' % ''.join(entities))


def _cell(
        cell_id='0', cpus=(0, 1), memory="<memory unit='KiB'>1048576</memory>",
          extra=''):
    """A <cell>: ``cpus`` are ids or raw ``<cpu .../>`` strings."""
    cpu_xml = ''.join(c if isinstance(c, str) else "<cpu id='%d'/>" % c
                      for c in cpus)
    id_attr = '' if cell_id is None else " id='%s'" % cell_id
    return ("<cell%s>%s%s<cpus num='%d'>%s</cpus></cell>"
            % (id_attr, memory, extra, len(cpus), cpu_xml))


def _caps(*cells, host_cpu='<cpu><arch>x86_64</arch></cpu>'):
    cells = cells or (_cell(),)
    return ("<capabilities><host>%s<topology><cells num='%d'>%s</cells>"
            "</topology></host></capabilities>"
            % (host_cpu, len(cells), ''.join(cells)))


class HostileCapsTest(test.TestCase):
    """Every check the parser makes, each naming the element at fault.

    Before these checks, each document below gave a traceback
    (AttributeError, TypeError, ValueError), or worse parsed: a CPU in two
    cells was pinned to two guests, a CPU -1 became the cpuset '-1-0'.
    """

    def assertRefused(self, xml, *needles):
        e = self.assertRaises(exception.LibvirtConfigInvalid,
                              config_caps.LibvirtConfigCaps.from_xml, xml)
        text = str(e)
        for needle in needles:
            self.assertIn(needle, text)
        # One bounded line whatever the input.
        self.assertNotIn('\n', text)
        self.assertLess(len(text), 400, text)
        return e

    def test_valid_minimal_document(self):
        caps = config_caps.LibvirtConfigCaps.from_xml(_caps())
        rng.assert_capabilities_valid(_caps())
        self.assertEqual([0, 1], [c.id for c in caps.host.topology.cells[0]
                                  .cpus])

    # -- missing elements and attributes --------------------------------

    def test_document_without_host(self):
        self.assertRefused('<capabilities><guest/></capabilities>',
                           '<capabilities>', '<host> is required')

    def test_document_without_topology(self):
        self.assertRefused(
            '<capabilities><host><cpu><arch>x86_64</arch></cpu></host>'
            '</capabilities>', 'capabilities/host', '<topology>')
        self.assertRefused(
            '<capabilities><host><cpu><arch>x86_64</arch></cpu><topology/>'
            '</host></capabilities>', 'capabilities/host/topology',
            '<cells> is required')
        self.assertRefused(
            '<capabilities><host><cpu><arch>x86_64</arch></cpu><topology>'
            "<cells num='0'/></topology></host></capabilities>",
            'topology/cells', 'at least one <cell>')

    def test_host_without_cpu_or_arch(self):
        self.assertRefused(_caps(host_cpu=''), 'capabilities/host',
                           '<cpu> is required')
        self.assertRefused(_caps(host_cpu='<cpu/>'), 'capabilities/host/cpu',
                           '<arch> is required')
        self.assertRefused(_caps(host_cpu='<cpu><arch/></cpu>'),
                           'capabilities/host/cpu/arch', 'is required')

    def test_cell_without_id(self):
        self.assertRefused(_caps(_cell('0'), _cell(None, cpus=(2,))),
                           'topology/cells/cell[2]>', 'id=None',
                           'is required')

    def test_cell_without_memory(self):
        # libvirt writes no <memory> for a memoryless node: 0 KiB, and the
        # host topology has the cell with no memory (was a TypeError).
        caps = config_caps.LibvirtConfigCaps.from_xml(_caps(
            _cell('0', cpus=(0,)), _cell('1', cpus=(1,), memory='')))
        self.assertEqual([1048576, 0],
                         [cell.memory for cell in caps.host.topology.cells])
        self.useFixture(fixtures.FakeLogger())
        topology = host_mod.host_topology_from_caps(
            caps, host_mod.get_host_cpu_sets())
        self.assertEqual([1024, 0], [cell.memory for cell in topology.cells])
        # A <memory> without a number is refused.
        self.assertRefused(_caps(_cell(memory='<memory/>')),
                           'cell/memory>', 'is required')
        self.assertRefused(_caps(_cell(memory="<memory unit='KiB'> "
                                              "</memory>")),
                           'cell/memory>', 'not a whole number')

    def test_cpu_without_id(self):
        self.assertRefused(_caps(_cell(cpus=(0, "<cpu socket_id='0'/>"))),
                           'cell/cpus/cpu[2]>', 'id=None', 'is required')

    def test_guest_without_required_parts(self):
        guest = ("<guest><os_type>hvm</os_type><arch name='x86_64'>"
                 "<domain type='kvm'/></arch></guest>")
        ok = _caps().replace('</host>', '</host>' + guest)
        self.assertEqual(['kvm'], config_caps.LibvirtConfigCaps.from_xml(
            ok).domain_types())
        for old, new, needle in (
                ('<os_type>hvm</os_type>', '', '<os_type> is required'),
                (" name='x86_64'", '', 'name=None'),
                ("<domain type='kvm'/>", '', 'at least one <domain'),
                ("<domain type='kvm'/>", '<domain/>', 'type=None'),
                ("<domain type='kvm'/>", "<domain type='kvm'/>" * 2,
                 'listed twice')):
            self.assertRefused(ok.replace(old, new), 'capabilities/guest',
                               needle)

    # -- CPUs and cells that cannot exist -------------------------------

    def test_cpu_in_two_cells(self):
        # Would give the two cells' guests the same pCPU 1.
        self.assertRefused(_caps(_cell('0', cpus=(0, 1)),
                                 _cell('1', cpus=(1, 2))),
                           'cells/cell[2]>', 'CPU 1 is also in cell 0')

    def test_cpu_twice_in_a_cell(self):
        self.assertRefused(_caps(_cell(cpus=(0, 1, 0))), 'cpu[3]>',
                           'CPU 0 is listed twice')

    def test_cell_id_twice(self):
        self.assertRefused(_caps(_cell('0', cpus=(0,)),
                                 _cell('0', cpus=(1,))),
                           'cells/cell[2]>', 'cell 0 is listed twice')

    def test_negative_ids(self):
        # A CPU -1 used to become the cpuset '-1-0'.
        self.assertRefused(_caps(_cell(cpus=(0, "<cpu id='-1'/>"))),
                           'cpu[2]>', "id='-1'", 'must not be negative')
        self.assertRefused(_caps(_cell('-1')), 'cell>', 'must not be '
                           'negative')
        self.assertRefused(
            _caps(_cell(cpus=("<cpu id='0' core_id='-1'/>",))),
            "core_id='-1'", 'must not be negative')

    def test_cpu_id_above_the_highest(self):
        self.assertRefused(_caps(_cell(cpus=(4096,))),
                           "id='4096'", 'between 0 and 4095')
        self.assertRefused(_caps(_cell('1024')), 'between 0 and 1023')

    # -- values that are not what they claim ----------------------------

    def test_non_numeric_values(self):
        cases = [
            _caps(_cell(cpus=("<cpu id='abc'/>",))),
            _caps(_cell(cpus=("<cpu id=''/>",))),
            _caps(_cell(cpus=("<cpu id='0x10'/>",))),
            _caps(_cell(cpus=("<cpu id='+1'/>",))),
            _caps(_cell(cpus=("<cpu id='1_0'/>",))),
            # Non-ASCII digits, which int() would take.
            _caps(_cell(cpus=("<cpu id='\u0663'/>",))),
            _caps(_cell(cpus=("<cpu id='0' socket_id='one'/>",))),
            _caps(_cell('zero')),
            _caps(_cell(memory="<memory unit='KiB'>lots</memory>")),
            _caps(_cell(memory="<memory unit='KiB'>1.5</memory>")),
            _caps(_cell(extra="<pages unit='KiB' size='big'>1</pages>")),
            _caps(_cell(extra="<pages unit='KiB' size='4'>many</pages>")),
            _caps(_cell(extra="<pages unit='KiB' size='4'/>")),
            _caps(host_cpu="<cpu><arch>x86_64</arch>"
                           "<pages unit='KiB' size='x'/></cpu>"),
            _caps(host_cpu="<cpu><arch>x86_64</arch><topology sockets='1' "
                           "cores='four' threads='2'/></cpu>"),
            _caps().replace('</host>', "</host><guest><os_type>hvm"
                            "</os_type><arch name='x86_64'><wordsize>sixty"
                            "</wordsize><domain type='kvm'/></arch></guest>"),
        ]
        for xml in cases:
            self.assertRefused(xml, 'is invalid')

    def test_huge_numbers(self):
        huge = '9' * 5000
        for xml in (_caps(_cell(cpus=("<cpu id='%s'/>" % huge,))),
                    _caps(_cell(huge)),
                    _caps(_cell(memory='<memory>%s</memory>' % huge)),
                    _caps(_cell(memory="<memory unit='EiB'>16</memory>")),
                    _caps(_cell(extra="<pages size='%s'>1</pages>" % huge)),
                    _caps(_cell(extra="<pages size='4'>%s</pages>" % huge)),
                    _caps(_cell(extra="<pages size='4'>%d</pages>"
                                % 2 ** 64))):
            e = self.assertRefused(xml)
            self.assertNotIn(huge, str(e))

    def test_page_sizes(self):
        for size in ('0', '3', '3072', '1048577', str(2 ** 31)):
            self.assertRefused(
                _caps(_cell(extra="<pages size='%s'>1</pages>" % size)),
                'pages>', 'power of two')
        self.assertRefused(
            _caps(_cell(extra="<pages size='4'>1</pages>"
                              "<pages unit='MiB' size='0.5'>1</pages>")))
        self.assertRefused(
            _caps(_cell(extra="<pages size='2048'>1</pages>"
                              "<pages unit='MiB' size='2'>1</pages>")),
            'a second <pages> of 2048 KiB')
        # Units convert: 2 MiB pages are 2048 KiB.
        caps = config_caps.LibvirtConfigCaps.from_xml(
            _caps(_cell(extra="<pages unit='M' size='2'>3</pages>")))
        self.assertEqual([(2048, 3)],
                         [tuple(p) for p in caps.host.topology.cells[0]
                          .mempages])

    def test_bogus_units(self):
        self.assertRefused(
            _caps(_cell(memory="<memory unit='parsec'>1</memory>")),
            'cell/memory>', "unit='parsec'", 'not a unit libvirt knows')
        self.assertRefused(
            _caps(_cell(extra="<pages unit='furlong' size='4'>1</pages>")),
            'cell/pages>', "unit='furlong'")
        self.assertRefused(
            _caps(_cell(memory="<memory unit='%s'>1</memory>" % ('x' * 5000))),
            'not a unit libvirt knows')
        # libvirt's units, any case: 2048 of each, in KiB.
        for unit, kib in (('b', 2), ('bytes', 2), ('KB', 2000),
                          ('k', 2048), ('MiB', 2048 << 10),
                          ('GB', 2000000000), ('T', 2048 << 30)):
            caps = config_caps.LibvirtConfigCaps.from_xml(_caps(_cell(
                memory="<memory unit='%s'>2048</memory>" % unit)))
            self.assertEqual(kib, caps.host.topology.cells[0].memory, unit)

    def test_siblings_outside_the_cell(self):
        self.assertRefused(
            _caps(_cell('0', cpus=("<cpu id='0' siblings='0,2'/>", 1)),
                  _cell('1', cpus=(2, 3))),
            'cell[1]/cpus/cpu[1]>', "siblings='0,2'",
            'names CPUs 2 that are not in cell 0')
        self.assertRefused(
            _caps(_cell(cpus=("<cpu id='0' siblings='0,9'/>", 1))),
            'not in cell 0')

    def test_garbage_siblings(self):
        for siblings in ('a-b', '0-99999', '0-', '1-0', 'x' * 5000,
                         '0,' * 3000):
            e = self.assertRefused(
                _caps(_cell(cpus=("<cpu id='0' siblings='%s'/>" % siblings,
                                  1))),
                'cpu[1]>', 'siblings=')
            self.assertNotIn('x' * 100, str(e))
        # Siblings that leave out the CPU itself, or disagree.
        self.assertRefused(
            _caps(_cell(cpus=("<cpu id='0' siblings='1'/>", 1))),
            'does not include the CPU itself')
        self.assertRefused(
            _caps(_cell(cpus=("<cpu id='0' siblings='0,1'/>",
                              "<cpu id='1' siblings='1,2'/>",
                              "<cpu id='2' siblings='1,2'/>"))),
            'CPU 1, listed as a sibling, has siblings 1-2')

    def test_counts_are_bounded(self):
        # Every CPU a "sibling" of 4096: refused at the first CPU, before
        # 4096 sets of 4096 CPUs are built.
        cpus = ["<cpu id='%d' siblings='0-4095'/>" % cpu
                for cpu in range(4096)]
        start = time.monotonic()
        self.assertRefused(_caps(_cell(cpus=cpus)), 'cpu[1]>',
                           'names 4096 CPUs; a core has at most 64 threads')
        self.assertLess(time.monotonic() - start, 2)
        guest = ("<guest><os_type>hvm</os_type><arch name='x86_64'>"
                 "<domain type='kvm'/></arch></guest>")
        self.assertRefused(_caps().replace('</host>', '</host>' + guest *
                                           (config_caps.MAX_GUESTS + 1)),
                           'guest[%d]>' % (config_caps.MAX_GUESTS + 1),
                           'more than 1024 <guest> elements')
        domains = ''.join("<domain type='t%d'/>" % i for i in range(65))
        self.assertRefused(_caps().replace('</host>', '</host>' + guest)
                           .replace("<domain type='kvm'/>", domains),
                           'guest/arch/domain[65]>', 'more than 64')

    def test_a_large_host_parses_quickly(self):
        # 4096 CPUs in 8 cells, 2 SMT threads per core.
        cells = []
        for cell in range(8):
            cpus = []
            for cpu in range(cell * 512, cell * 512 + 512):
                twin = cpu + 256 if cpu % 512 < 256 else cpu - 256
                cpus.append("<cpu id='%d' socket_id='%d' core_id='%d' "
                            "siblings='%d,%d'/>" % (cpu, cell, cpu % 256,
                                                    min(cpu, twin),
                                                    max(cpu, twin)))
            cells.append(_cell(str(cell), cpus=cpus))
        start = time.monotonic()
        caps = config_caps.LibvirtConfigCaps.from_xml(_caps(*cells))
        self.assertLess(time.monotonic() - start, 2)
        self.assertEqual(4096, sum(len(c.cpus)
                                   for c in caps.host.topology.cells))

    def test_repeated_single_elements(self):
        for xml, needle in (
                (_caps().replace('<host>', '<host><uuid>a</uuid>'
                                 '<uuid>b</uuid>'), '<uuid> appears more'),
                (_caps().replace('</host>', '<topology/></host>'),
                 '<topology> appears more'),
                (_caps(_cell(memory='<memory>1</memory><memory>2</memory>')),
                 '<memory> appears more'),
                (_caps(_cell(extra='<cpus/>')), '<cpus> appears more'),
                (_caps().replace('</capabilities>', '<host/></capabilities>'),
                 '<host> appears more')):
            self.assertRefused(xml, needle)

    def test_not_xml(self):
        for text in ('', 'not xml', '<capabilities>', '<a></b>',
                     '<capabilities>\x01</capabilities>',
                     '<capabilities>\ud800</capabilities>', b'\xff\xfe\x00'):
            self.assertRefused(text, 'libvirt <capabilities> XML')
        self.assertRefused('<host/>', 'expected <capabilities>')

    def test_doctype_and_entities_refused(self):
        laughs = billion_laughs()
        self.assertRefused(laughs, 'libvirt <capabilities> XML')
        secret = self.useFixture(fixtures.TempDir()).join('secret')
        with open(secret, 'w') as f:
            f.write('s3cr3t')
        xxe = ('<!DOCTYPE capabilities [<!ENTITY x SYSTEM "file://%s">]>'
               '<capabilities><host><uuid>&x;</uuid></host></capabilities>'
               % secret)
        e = self.assertRefused(xxe, '<!DOCTYPE>')
        self.assertNotIn('s3cr3t', str(e))

    def test_libvirt_parser_is_safe(self):
        # Domain XML goes through the same parser.
        self.assertRaises(exception.LibvirtConfigInvalid,
                          vconfig.LibvirtConfigGuest.from_xml,
                          '<domain><name>&undefined;</name></domain>')
        parser = vconfig.SAFE_XML_PARSER
        self.assertIsNotNone(parser)


class LoadCapabilitiesFileTest(test.TestCase):
    """load_capabilities_file: bounded, never blocks, names the file."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.Timeout(20, gentle=True))
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, 'wb') as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    def assertRefused(self, path, *needles, **kwargs):
        e = self.assertRaises(exception.CapabilitiesFileInvalid,
                              config_caps.load_capabilities_file, path,
                              **kwargs)
        self.assertIsInstance(e, exception.Invalid)
        self.assertIn(repr(path), str(e))
        for needle in needles:
            self.assertIn(needle, str(e))
        self.assertNotIn('\n', str(e))
        return e

    def test_valid_file(self):
        path = os.path.join(FIXTURES, 'caps_kvm_2numa_smt.xml')
        caps = config_caps.load_capabilities_file(path)
        self.assertEqual(config_caps.LibvirtConfigCaps.from_xml(
            load_fixture('caps_kvm_2numa_smt.xml')), caps)
        self.assertEqual(caps, config_caps.LibvirtConfigCaps.from_file(path))

    def test_dev_zero(self):
        start = time.monotonic()
        self.assertRefused('/dev/zero', 'is a character device, not a '
                           'regular file')
        self.assertLess(time.monotonic() - start, 2)

    def test_fifo(self):
        fifo = os.path.join(self.tmp, 'fifo')
        os.mkfifo(fifo)
        self.assertRefused(fifo, 'is a FIFO (named pipe)')

    def test_fifo_swapped_in_after_stat(self):
        # stat() saw a regular file, then a FIFO took its place: the
        # non-blocking open returns at once and fstat() refuses it.
        fifo = os.path.join(self.tmp, 'fifo')
        os.mkfifo(fifo)
        regular = os.stat(os.path.join(FIXTURES, 'caps_kvm_2numa_smt.xml'))
        with mock.patch.object(config_caps.os, 'stat', autospec=True,
                               return_value=regular):
            self.assertRefused(fifo, 'is a FIFO (named pipe)')

    def test_directory(self):
        self.assertRefused(self.tmp, 'is a directory')

    def test_missing_file(self):
        self.assertRefused(os.path.join(self.tmp, 'nope'),
                           'No such file or directory')
        self.assertRefused('bad\0path')

    def test_unreadable_file(self):
        if os.geteuid() == 0:
            self.skipTest('root reads any file')
        path = self.write('caps.xml', _caps())
        os.chmod(path, 0)
        self.assertRefused(path, 'Permission denied')

    def test_too_large(self):
        path = self.write('caps.xml', load_fixture('caps_kvm_2numa_smt.xml'))
        self.assertRefused(path, 'is larger than 1024 bytes',
                           max_bytes=1024)
        # A sparse 64 GiB file is refused by its size, not read.
        sparse = os.path.join(self.tmp, 'sparse.xml')
        with open(sparse, 'wb') as f:
            f.truncate(64 << 30)
        self.assertRefused(sparse, 'is larger than %d bytes'
                           % config_caps.MAX_CAPABILITIES_FILE_BYTES)

    def test_file_larger_than_it_says(self):
        # /proc and /sys files report size 0: at most max_bytes + 1 bytes
        # are read whatever the size says.
        path = self.write('caps.xml', b' ' * 4096)
        real_fstat = os.fstat

        def fstat(fd):
            info = list(real_fstat(fd))
            info[6] = 0  # st_size
            return os.stat_result(info)

        with mock.patch.object(config_caps.os, 'fstat', fstat):
            self.assertRefused(path, 'is larger than 1024 bytes',
                               max_bytes=1024)

    def test_empty(self):
        self.assertRefused(self.write('caps.xml', b''), 'is empty')
        self.assertRefused(self.write('caps.xml', b' \n'), 'is empty')

    def test_not_utf8(self):
        data = load_fixture('caps_kvm_2numa_smt.xml').replace(
            'Intel', 'Int\xe9l').encode('latin-1')
        self.assertRefused(self.write('caps.xml', data),
                           'is not UTF-8 text (byte 0xe9 at offset')

    def test_billion_laughs(self):
        laughs = billion_laughs()
        start = time.monotonic()
        self.assertRefused(self.write('bomb.xml', laughs),
                           'libvirt <capabilities> XML')
        self.assertLess(time.monotonic() - start, 2)

    def test_external_entity(self):
        xxe = ('<!DOCTYPE capabilities [<!ENTITY z SYSTEM "file:///dev/zero">'
               '<!ENTITY % p SYSTEM "file:///dev/zero"> %p;]>'
               '<capabilities><host><uuid>&z;</uuid></host></capabilities>')
        self.assertRefused(self.write('xxe.xml', xxe), '<!DOCTYPE>')

    def test_invalid_document_names_element(self):
        path = self.write('caps.xml', _caps(_cell(cpus=(0, "<cpu id='-1'/>"))))
        self.assertRefused(path, 'capabilities/host/topology/cells/cell/'
                           'cpus/cpu[2]', 'must not be negative')
