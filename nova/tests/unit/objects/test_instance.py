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

from oslo_utils import uuidutils

from nova import objects
from nova import test


class TestInstance(test.TestCase):
    def _instance(self):
        flavor = objects.Flavor(name='f', vcpus=2, memory_mb=64)
        return objects.Instance(uuid=uuidutils.generate_uuid(), name='i',
                                flavor=flavor, kernel_path='/k',
                                ramdisk_path='/r')

    def test_1_0_drops_kernel_and_ramdisk(self):
        data = self._instance().obj_to_primitive(
            target_version='1.0')['nova_object.data']
        self.assertNotIn('kernel_path', data)
        self.assertNotIn('ramdisk_path', data)
        self.assertEqual('i', data['name'])

    def test_round_trip(self):
        instance = self._instance()
        back = objects.Instance.obj_from_primitive(
            instance.obj_to_primitive())
        self.assertEqual('/k', back.kernel_path)
        self.assertEqual('/r', back.ramdisk_path)
        self.assertIsNone(back.numa_topology)
