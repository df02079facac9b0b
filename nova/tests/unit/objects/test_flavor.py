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

import json

import testtools

from nova import objects


class TestFlavor(testtools.TestCase):

    def setUp(self):
        super().setUp()
        objects.register_all()

    def test_extra_specs_default_empty(self):
        flavor = objects.Flavor(name='small', vcpus=1, memory_mb=512)
        self.assertEqual({}, flavor.extra_specs)
        self.assertTrue(flavor.obj_attr_is_set('extra_specs'))

    def test_extra_specs_not_shared_between_flavors(self):
        one = objects.Flavor(name='a', vcpus=1, memory_mb=1)
        two = objects.Flavor(name='b', vcpus=1, memory_mb=1)
        one.extra_specs['hw:cpu_policy'] = 'dedicated'
        self.assertEqual({}, two.extra_specs)

    def test_extra_specs_given_are_kept_as_strings(self):
        flavor = objects.Flavor(name='rt', vcpus=4, memory_mb=2048,
                                extra_specs={'hw:numa_nodes': 2,
                                             'hw:cpu_realtime': 'yes'})
        self.assertEqual({'hw:numa_nodes': '2', 'hw:cpu_realtime': 'yes'},
                         flavor.extra_specs)

    def test_integers_are_coerced(self):
        flavor = objects.Flavor(name='rt', vcpus='4', memory_mb='2048')
        self.assertEqual(4, flavor.vcpus)
        self.assertRaises(ValueError, setattr, flavor, 'vcpus', 'four')

    def test_json_round_trip(self):
        flavor = objects.Flavor(name='rt', vcpus=4, memory_mb=2048,
                                extra_specs={'hw:cpu_policy': 'dedicated'})
        back = objects.Flavor.obj_from_primitive(
            json.loads(json.dumps(flavor.obj_to_primitive())))
        self.assertEqual(('rt', 4, 2048, {'hw:cpu_policy': 'dedicated'}),
                         (back.name, back.vcpus, back.memory_mb,
                          back.extra_specs))
