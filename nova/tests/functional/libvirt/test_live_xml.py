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

"""The XML of a running guest, as libvirt writes it on qemu:///system
(aliases, addresses, <seclabel>, <resource>, the console's pty...),
survives LibvirtConfigGuest's parse -> format whole: the same canonical
XML (C14N, indentation aside).
"""

from lxml import etree

from nova.tests.functional.libvirt import base
from nova.tests.unit.virt.libvirt import test_config_real_xml as real_xml
from nova.virt.libvirt import config as vconfig


class LiveXMLRoundTripTest(base.RealQemuTestCase):
    def test_running_guest_xml_round_trips_whole(self):
        instance, _ = self.spawn('live', vcpus=1,
                                  **{'hw:cpu_policy': 'dedicated'})
        dom = self._conn().lookupByName(instance.name)
        for flags in (0, base.libvirt.VIR_DOMAIN_XML_INACTIVE):
            xml = dom.XMLDesc(flags)
            parsed = vconfig.LibvirtConfigGuest.from_xml(xml)
            formatted = parsed.to_xml()
            theirs = etree.fromstring(xml.encode())
            ours = etree.fromstring(formatted.encode())
            self.assertEqual(real_xml._normal(theirs), real_xml._normal(ours))
            self.assertEqual(real_xml._c14n(theirs), real_xml._c14n(ours))
            self.assertEqual(parsed,
                             vconfig.LibvirtConfigGuest.from_xml(formatted))
        live = etree.fromstring(dom.XMLDesc(0).encode())
        # What makes the live XML live is there, and kept.
        for path in ('devices/serial/alias', 'seclabel'):
            self.assertIsNotNone(live.find(path), path)
