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
runs): its defaults filled in, its attribute order, its units. For every
element this tree models, parse -> format -> parse gives the same object,
and the formatted element says what libvirt's said (CPU sets, node sets
and memory sizes compared by value, not spelling).
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


def _as_stored(conn, xml):
    """The domain XML as libvirt stores it: defined only (never started,
    so no guest runs), read back, undefined.
    """
    dom = conn.defineXML(xml)
    try:
        return dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    finally:
        dom.undefine()


class RealXMLRoundTripTest(test.TestCase):
    def assertRoundTrips(self, xml):
        parsed = vconfig.LibvirtConfigGuest.from_xml(xml)
        formatted = parsed.to_xml()
        self.assertEqual(parsed,
                         vconfig.LibvirtConfigGuest.from_xml(formatted))
        original = etree.fromstring(xml.encode())
        ours = etree.fromstring(formatted.encode())
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
