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

"""Round trips over domain XML as libvirt itself writes it.

Our own round trips only prove that we read what we write. Here the XML
comes from libvirt (test:///default, and qemu:///system when libvirtd
runs): its defaults filled in, its attribute order, its units. Parse ->
format -> parse gives the same object, the formatted document says
everything libvirt's said (every element, modelled or not; CPU sets, node
sets and memory sizes compared by value) and is even the same canonical XML
(C14N: same spelling and order, indentation aside), and libvirt, given our
formatted document, stores exactly the document it wrote.
"""

from lxml import etree
from oslo_utils import uuidutils

import libvirt

from nova import objects
from nova import test
from nova.virt import hardware
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import host as host_mod

# The elements LibvirtConfigGuest models (the rest are kept verbatim).
MODELLED = ('memory', 'vcpu', 'cputune', 'numatune', 'memoryBacking',
            'memtune', 'cpu')
_SET_ATTRS = ('cpuset', 'nodeset', 'vcpus', 'cpus')
_UNITS = {'b': 1 / 1024, 'bytes': 1 / 1024, 'k': 1, 'kib': 1, 'm': 1024,
          'mib': 1024, 'g': 1024 ** 2, 'gib': 1024 ** 2}


def _normal(node):
    """A comparable form of an element: sets and sizes by value."""
    attrs = {}
    for key, value in node.attrib.items():
        if key in _SET_ATTRS:
            value = hardware.format_cpu_spec(hardware.parse_cpu_spec(value))
        elif key in ('memory', 'size') and node.get('unit'):
            value = str(int(int(value) * _UNITS[node.get('unit').lower()]))
        elif key == 'unit':
            continue
        attrs[key] = value
    text = (node.text or '').strip()
    if node.get('unit') and text:
        text = str(int(int(text) * _UNITS[node.get('unit').lower()]))
    children = sorted((_normal(child) for child in node
                       if isinstance(child.tag, str)), key=repr)
    return (node.tag, tuple(sorted(attrs.items())), text, tuple(children))


def _c14n(node):
    """Canonical XML (C14N) of an element, indentation removed."""
    return etree.tostring(vconfig._clean_copy(node), method='c14n').decode()


def _as_stored(conn, xml):
    """The domain XML as libvirt stores it: defined only (never started,
    so no guest runs), read back, undefined.
    """
    dom = conn.defineXML(xml)
    try:
        return dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    finally:
        dom.undefine()


def _stored_twice(conn, xml):
    """(libvirt's XML of ``xml``, libvirt's XML of our round trip of it)."""
    stored = _as_stored(conn, xml)
    again = _as_stored(
        conn, vconfig.LibvirtConfigGuest.from_xml(stored).to_xml())
    return stored, again


# A domain with much that LibvirtConfigGuest does not model.
RICH_DOMAIN = """<domain type='%(type)s'>
  <name>%(name)s</name>
  <title>round trip</title>
  <memory unit='MiB'>64</memory>
  <currentMemory unit='KiB'>65536</currentMemory>
  <memtune><hard_limit unit='MiB'>512</hard_limit></memtune>
  <vcpu placement='static' current='1' cpuset='0'>2</vcpu>
  <cputune>
    <shares>2048</shares>
    <period>100000</period>
    <quota>-1</quota>
    <vcpupin vcpu='0' cpuset='0'/>
    <emulatorpin cpuset='0'/>
  </cputune>
  <os>
    <type arch='x86_64'>hvm</type>
    <boot dev='hd'/>
    <bootmenu enable='no'/>
  </os>
  <features><acpi/><apic/><vmport state='off'/></features>
  <cpu mode='custom' match='exact' check='none'>
    <model fallback='forbid'>qemu64</model>
    <topology sockets='1' cores='2' threads='1'/>
    <cache mode='disable'/>
  </cpu>
  <clock offset='utc'>
    <timer name='rtc' tickpolicy='catchup'/>
    <timer name='pit' tickpolicy='delay'/>
    <timer name='hpet' present='no'/>
  </clock>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <pm><suspend-to-mem enabled='no'/><suspend-to-disk enabled='no'/></pm>
  <devices>
    <controller type='usb' model='none'/>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <memballoon model='virtio'><stats period='10'/></memballoon>
  </devices>
</domain>"""


def _libvirt(uri):
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as e:
        raise test.testtools.TestCase.skipException(
            'libvirt at %s does not answer (%s)' % (uri, e))
    return conn


class RealXMLRoundTripTest(test.TestCase):
    def assertRoundTrips(self, xml):
        parsed = vconfig.LibvirtConfigGuest.from_xml(xml)
        formatted = parsed.to_xml()
        self.assertEqual(parsed,
                         vconfig.LibvirtConfigGuest.from_xml(formatted))
        original = etree.fromstring(xml.encode())
        ours = etree.fromstring(formatted.encode())
        # The whole document: nothing libvirt wrote is lost.
        self.assertEqual(_normal(original), _normal(ours))
        # And it is written as libvirt wrote it: the same canonical XML
        # (C14N, indentation aside), spelling and order included.
        self.assertEqual(_c14n(original), _c14n(ours))
        checked = 0
        for tag in MODELLED:
            theirs = original.find(tag)
            if theirs is None:
                continue
            mine = ours.find(tag)
            self.assertIsNotNone(mine, tag)
            self.assertEqual(_normal(theirs), _normal(mine), tag)
            checked += 1
        return checked

    def _driver_guests(self, virt_type):
        """Domain XML of guests the driver builds for ``virt_type``,
        planned against the test driver's 16-CPU, 2-node host.
        """
        self.flags(virt_type=virt_type, group='libvirt')
        self.flags(cpu_dedicated_set='1-7,9-15', cpu_shared_set='0,8',
                   group='compute')
        driver = libvirt_driver.LibvirtDriver(
            host_mod.Host('test:///default'))
        self.addCleanup(driver.host.close)
        host_topology = driver.host.get_host_numa_topology()
        flavors = [
            {'hw:cpu_policy': 'dedicated', 'hw:cpu_realtime': 'yes'},
            {'hw:cpu_policy': 'dedicated', 'hw:numa_nodes': '2',
             'hw:emulator_threads_policy': 'isolate'},
            {'hw:cpu_policy': 'mixed', 'hw:cpu_dedicated_mask': '^0'},
            {},
        ]
        for index, specs in enumerate(flavors):
            flavor = objects.Flavor(name='f%d' % index, vcpus=2,
                                    memory_mb=128, extra_specs=specs)
            instance = objects.Instance(
                uuid=uuidutils.generate_uuid(),
                name='rt-%s' % uuidutils.generate_uuid()[:8], flavor=flavor)
            guest = driver.plan(instance, objects.ImageMeta.from_dict({}),
                                host_topology=host_topology)
            yield guest.to_xml()

    def test_test_driver_builtin_domain(self):
        conn = libvirt.open('test:///default')
        self.addCleanup(conn.close)
        xml = conn.lookupByName('test').XMLDesc(0)
        self.assertGreaterEqual(self.assertRoundTrips(xml), 2)

    def test_driver_guests_as_the_test_driver_stores_them(self):
        conn = libvirt.open('test:///default')
        self.addCleanup(conn.close)
        for xml in self._driver_guests('test'):
            self.assertGreaterEqual(
                self.assertRoundTrips(_as_stored(conn, xml)), 3)

    def test_driver_guests_as_qemu_stores_them(self):
        try:
            conn = libvirt.open('qemu:///system')
        except libvirt.libvirtError as e:
            self.skipTest('libvirtd is not running (%s)' % e)
        self.addCleanup(conn.close)
        for xml in self._driver_guests('qemu'):
            self.assertGreaterEqual(
                self.assertRoundTrips(_as_stored(conn, xml)), 3)

    def test_memnode_without_mode_is_strict(self):
        node = vconfig.LibvirtConfigGuestNUMATuneMemNode.from_xml(
            '<memnode cellid="0" nodeset="0"/>')
        self.assertEqual('strict', node.mode)
        self.assertEqual({'cellid': '0', 'mode': 'strict', 'nodeset': '0'},
                         dict(node.format_dom().attrib))

    def _rich_domain(self, conn, virt_type):
        name = 'rt-rich-%s' % uuidutils.generate_uuid()[:8]
        stored = _as_stored(conn, RICH_DOMAIN % {'type': virt_type,
                                                 'name': name})
        for kept in ('clock', 'pm', 'cputune/shares', 'cputune/period',
                     'cpu/cache', 'currentMemory', 'title'):
            self.assertIsNotNone(etree.fromstring(stored.encode()).find(kept),
                                 kept)
        return stored

    def test_rich_domain_on_the_test_driver(self):
        conn = _libvirt('test:///default')
        self.addCleanup(conn.close)
        stored = self._rich_domain(conn, 'test')
        self.assertGreaterEqual(self.assertRoundTrips(stored), 5)
        self.assertEqual(stored, _as_stored(
            conn, vconfig.LibvirtConfigGuest.from_xml(stored).to_xml()))

    def test_rich_domain_on_qemu(self):
        conn = _libvirt('qemu:///system')
        self.addCleanup(conn.close)
        stored = self._rich_domain(conn, 'qemu')
        self.assertGreaterEqual(self.assertRoundTrips(stored), 5)
        self.assertEqual(stored, _as_stored(
            conn, vconfig.LibvirtConfigGuest.from_xml(stored).to_xml()))

    def test_libvirt_stores_our_round_trip_unchanged(self):
        for uri, virt_type in (('test:///default', 'test'),
                               ('qemu:///system', 'qemu')):
            conn = _libvirt(uri)
            self.addCleanup(conn.close)
            builtin = [conn.lookupByName('test').XMLDesc(0)] if (
                virt_type == 'test') else []
            for xml in list(self._driver_guests(virt_type)) + builtin:
                if xml in builtin:
                    xml = xml.replace('<name>test</name>',
                                      '<name>rt-copy-of-test</name>')
                    xml = '\n'.join(line for line in xml.splitlines()
                                    if '<uuid>' not in line)
                stored, again = _stored_twice(conn, xml)
                self.assertEqual(stored, again)

    def test_cpu_cache_and_cputune_period_are_kept(self):
        xml = ('<domain type="kvm"><name>a</name><memory>1024</memory>'
               '<cputune><shares>1024</shares><period>1000</period>'
               '<vcpupin vcpu="0" cpuset="1"/></cputune>'
               '<cpu mode="host-passthrough"><cache mode="passthrough"/>'
               '</cpu><pm><suspend-to-mem enabled="no"/></pm>'
               '<clock offset="utc"/></domain>')
        guest = vconfig.LibvirtConfigGuest.from_xml(xml)
        out = etree.fromstring(guest.to_xml().encode())
        self.assertEqual(['shares', 'period', 'vcpupin'],
                         [child.tag for child in out.find('cputune')])
        self.assertEqual('passthrough', out.find('cpu/cache').get('mode'))
        self.assertEqual('no', out.find('pm/suspend-to-mem').get('enabled'))
        self.assertEqual('utc', out.find('clock').get('offset'))
