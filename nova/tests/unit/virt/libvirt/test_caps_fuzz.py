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

"""Hostile host capabilities: mutated documents and the command line.

A valid capabilities document (the 2-cell SMT KVM fixture) is mutated at
random (elements dropped or duplicated, attributes dropped or given hostile
values, control characters inserted). Whatever comes out, parsing raises
only the project's exceptions, and a document that parses gives a host
topology in which no CPU belongs to two cells, so no two guest vCPUs can be
pinned to one pCPU.

``nova-realtime plan --host-capabilities FILE`` is run in-process on
files that are not capabilities at all: one ``ERROR:`` line naming the file,
exit status 2, no traceback, in bounded time.
"""

import copy
import os
import time

import fixtures
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
from lxml import etree

from nova.doc import runner
from nova import exception
from nova import test
from nova.tests.unit.virt.libvirt import test_config_caps
from nova.virt import hardware
from nova.virt.libvirt import config_caps
from nova.virt.libvirt import host as host_mod

FIXTURE = test_config_caps.load_fixture('caps_kvm_2numa_smt.xml')

HOSTILE_VALUES = st.one_of(
    st.sampled_from([
        '', ' ', '-1', '-0', '+1', '1_000', '0x10', '1e3', '1.5', 'NaN',
        'abc', '\u0663', '4095', '4096', '1023', '1024', '0-4095', '^0',
        ',,,', '0,', '1-0', '9' * 5000, str(2 ** 64), str(2 ** 64 - 1),
        str(2 ** 32), 'KiB', 'EiB', 'bytes', 'furlong', 'x' * 5000]),
    st.integers(-2 ** 70, 2 ** 70).map(str),
    st.integers(0, 20).map(str),
    # Any text lxml can carry in an attribute or element.
    st.text(st.characters(blacklist_categories=('Cs', 'Cc')), max_size=12),
)
CONTROL_CHARS = st.sampled_from(
    ['\x00', '\x01', '\x08', '\x0b', '\x0c', '\x1b', '\x7f', '\ufffe',
     '\uffff', '\ud800', '&', '<', '>', '"', "'", ']]>', '&#0;', '&#1;',
     '&lol;', '\t', '\n'])


def _elements(root):
    """Every element but the root, in document order."""
    return [node for node in root.iter() if node is not root
            and isinstance(node.tag, str)]


def _mutate(data, root):
    """Apply one random mutation to ``root`` (in place)."""
    kind = data.draw(st.sampled_from(
        ['drop', 'duplicate', 'drop_attr', 'set_attr', 'set_text',
         'add_attr']))
    node = data.draw(st.sampled_from(_elements(root)))
    if kind == 'drop':
        node.getparent().remove(node)
    elif kind == 'duplicate':
        node.addnext(copy.deepcopy(node))
    elif kind in ('drop_attr', 'set_attr') and node.attrib:
        name = data.draw(st.sampled_from(sorted(node.attrib)))
        if kind == 'drop_attr':
            del node.attrib[name]
        else:
            node.set(name, data.draw(HOSTILE_VALUES))
    elif kind == 'add_attr':
        node.set(data.draw(st.sampled_from(
            ['id', 'unit', 'size', 'siblings', 'socket_id', 'core_id'])),
            data.draw(HOSTILE_VALUES))
    else:
        node.text = data.draw(HOSTILE_VALUES)


def _cpus_of(cell):
    return set(cell.cpuset) | set(cell.pcpuset)


class MutatedCapabilitiesTest(test.TestCase):

    def setUp(self):
        super().setUp()
        # host_topology_from_caps warns that cpu_dedicated_set is unset.
        self.useFixture(fixtures.FakeLogger())

    def _parse(self, xml):
        """LibvirtConfigCaps, or None when refused with a project error."""
        try:
            return config_caps.LibvirtConfigCaps.from_xml(xml)
        except exception.NovaException as e:
            # One bounded line naming the element.
            self.assertIsInstance(e, exception.LibvirtConfigInvalid)
            self.assertNotIn('\n', str(e))
            self.assertLess(len(str(e)), 600, str(e))
            return None

    def _check_parsed(self, caps):
        topology = host_mod.host_topology_from_caps(
            caps, host_mod.get_host_cpu_sets())
        seen = {}
        for cell in topology.cells:
            for cpu in _cpus_of(cell):
                self.assertNotIn(cpu, seen, 'CPU %d in cells %d and %d' % (
                    cpu, seen.get(cpu, -1), cell.id))
                self.assertTrue(0 <= cpu <= hardware.MAX_CPU_NUMBER, cpu)
                seen[cpu] = cell.id
            for group in cell.siblings:
                self.assertLessEqual(group, _cpus_of(cell))
            self.assertGreaterEqual(cell.memory, 0)
        self.assertEqual(len(topology.cells),
                         len({cell.id for cell in topology.cells}))
        # Whatever parses also formats, and reads back the same.
        self.assertEqual(caps, config_caps.LibvirtConfigCaps.from_xml(
            caps.to_xml()))

    def test_fixture_parses(self):
        self._check_parsed(config_caps.LibvirtConfigCaps.from_xml(FIXTURE))

    @settings(max_examples=100, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def test_mutated_documents(self, data):
        root = etree.fromstring(FIXTURE.encode())
        for _ in range(data.draw(st.integers(1, 3))):
            _mutate(data, root)
        xml = etree.tostring(root, encoding='unicode')
        if data.draw(st.booleans()):
            # Raw characters XML may not carry, or markup, anywhere.
            at = data.draw(st.integers(0, len(xml)))
            xml = xml[:at] + data.draw(CONTROL_CHARS) + xml[at:]
        as_bytes = data.draw(st.booleans())
        if as_bytes:
            xml = xml.encode('utf-8', 'surrogatepass')
        # Anything but a project exception fails the test here.
        caps = self._parse(xml)
        if caps is not None:
            self._check_parsed(caps)

    @settings(max_examples=50, deadline=None)
    @given(st.lists(st.lists(st.integers(0, 12), max_size=4), min_size=1,
                    max_size=3))
    def test_cells_sharing_cpus(self, cells):
        """Random cells with random (possibly shared) CPU ids: parsed only
        when every CPU is in one cell, once.
        """
        xml = test_config_caps._caps(*[
            test_config_caps._cell(str(index), cpus=cpus)
            for index, cpus in enumerate(cells)])
        flat = [cpu for cpus in cells for cpu in cpus]
        caps = self._parse(xml)
        self.assertEqual(len(flat) == len(set(flat)), caps is not None)
        if caps is not None:
            self._check_parsed(caps)


class PlanWithHostileCapabilitiesTest(test.TestCase):
    """``nova-realtime plan --host-capabilities FILE`` on bad files."""

    def setUp(self):
        super().setUp()
        # A command that blocks (a FIFO opened for reading) fails the test
        # instead of hanging it.
        self.useFixture(fixtures.Timeout(30, gentle=True))
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def plan(self, path):
        start = time.monotonic()
        result = runner.run(
            ['plan', '--connection', 'test:///default', '--vcpus', '2',
             '--ram', '512', '--property', 'hw:cpu_policy=dedicated',
             '--host-capabilities', path], self.tmp)
        self.assertLess(time.monotonic() - start, 5)
        return result

    def assertOneError(self, path, *needles):
        result = self.plan(path)
        self.assertEqual(2, result.returncode, result.output)
        self.assertEqual('', result.stdout)
        lines = result.stderr.splitlines()
        self.assertEqual(1, len(lines), result.stderr)
        self.assertTrue(lines[0].startswith('ERROR: '), result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        self.assertIn('--host-capabilities=%r' % path, lines[0])
        for needle in needles:
            self.assertIn(needle, lines[0])

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, 'wb') as f:
            f.write(data.encode('utf-8') if isinstance(data, str) else data)
        return path

    def test_valid_file_plans(self):
        path = self.write('caps.xml', FIXTURE)
        result = self.plan(path)
        self.assertEqual(0, result.returncode, result.output)
        pins = etree.fromstring(result.stdout).findall('./cputune/vcpupin')
        self.assertEqual(2, len({pin.get('cpuset') for pin in pins}))

    def test_dev_zero(self):
        self.assertOneError('/dev/zero', 'character device')

    def test_fifo(self):
        fifo = os.path.join(self.tmp, 'fifo')
        os.mkfifo(fifo)
        self.assertOneError(fifo, 'FIFO')

    def test_directory(self):
        self.assertOneError(self.tmp, 'is a directory, not a regular file')

    def test_missing_file(self):
        self.assertOneError(os.path.join(self.tmp, 'missing.xml'),
                            'No such file')

    def test_billion_laughs(self):
        self.assertOneError(
            self.write('bomb.xml', test_config_caps.billion_laughs()))

    def test_entities_not_expanded(self):
        # A document whose cells come from an entity: lxml's default parser
        # expanded internal entities, so what was planned against was not
        # what the file showed.
        cells = test_config_caps._caps().split('<cells')[1].split(
            '</cells>')[0].split('>', 1)[1]
        xml = ('<!DOCTYPE capabilities [<!ENTITY cells "%s">]>%s' % (
            cells.replace("'", '&#39;').replace('<', '&#60;'),
            test_config_caps._caps().replace(cells, '&cells;')))
        self.assertOneError(self.write('entity.xml', xml), '<!DOCTYPE>')

    def test_not_utf8(self):
        self.assertOneError(self.write('caps.xml', b'<capabilities>\xff'),
                            'not UTF-8')

    def test_too_large(self):
        path = os.path.join(self.tmp, 'big.xml')
        with open(path, 'wb') as f:
            f.truncate(config_caps.MAX_CAPABILITIES_FILE_BYTES + 1)
        self.assertOneError(path, 'is larger than')

    def test_cpu_in_two_cells(self):
        # Used to plan two vCPUs onto pCPU 1.
        xml = test_config_caps._caps(
            test_config_caps._cell('0', cpus=(0, 1)),
            test_config_caps._cell('1', cpus=(1,)))
        self.assertOneError(self.write('caps.xml', xml),
                            'CPU 1 is also in cell 0')

    def test_missing_pieces(self):
        for name, xml in (
                ('nohost.xml', '<capabilities/>'),
                ('notopology.xml', '<capabilities><host><cpu><arch>x86_64'
                                   '</arch></cpu></host></capabilities>'),
                ('negative.xml', test_config_caps._caps(
                    test_config_caps._cell(cpus=(0, "<cpu id='-1'/>"))))):
            self.assertOneError(self.write(name, xml), 'is invalid')
