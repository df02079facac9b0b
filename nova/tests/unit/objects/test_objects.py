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

"""The versioning contract of every registered object.

The fingerprints below are the contract: changing a field (name, type,
nullable, default) or a remotable method of an object changes its hash, and
this test fails until the object's VERSION is bumped, a "Version X.Y:" line is
added to its history comment, obj_make_compatible() learns to drop the change
for older readers, and the new 'VERSION-hash' is written here.
"""

import inspect
import re

from oslo_versionedobjects import fixture as ovo_fixture
import testtools

from nova import objects
from nova.objects import base

# 'Name': 'VERSION-md5 of fields and remotable methods'.
OBJECT_FINGERPRINTS = {
    'Flavor': '1.0-929c09774ba81b1eb8c72937a6054a5f',
    'ImageMeta': '1.2-66a98714365616b892b07355b2bbeaa8',
    'ImageMetaProps': '1.2-4c3bc8f29b2fa5e3de6f52da84d02808',
    'Instance': '1.2-a48461f18f1601bc6faf8198644463be',
    'InstanceNUMACell': '1.1-9e9c0f4502eeab2920e2a3af31bf38d7',
    'InstanceNUMATopology': '1.1-c00f3a97f19836c520ede42e3f4d03ee',
    'NUMACell': '1.0-f52804777f1515a0c8f744fb0abcd032',
    'NUMAPagesTopology': '1.0-edab9fa2dc43c117a38d600be54b4542',
    'NUMATopology': '1.0-c63fad38be73b6afd04715c9c1b29220',
}

# Object -> {child object held in an ObjectField: child VERSION}. A child's
# version bump shows up here, and the parent must then say how it backports
# the child (it does so through the version manifest its reader sends).
OBJECT_RELATIONSHIPS = {
    'ImageMeta': {'ImageMetaProps': '1.2'},
    'Instance': {'Flavor': '1.0', 'InstanceNUMATopology': '1.1'},
}


class TestObjectVersions(testtools.TestCase):

    def setUp(self):
        super().setUp()
        objects.register_all()
        self.checker = ovo_fixture.ObjectVersionChecker(
            base.NovaObjectRegistry.obj_classes())

    def test_versions(self):
        expected, actual = self.checker.test_hashes(OBJECT_FINGERPRINTS)
        self.assertEqual(
            expected, actual,
            'Fields or remotable methods of some objects changed. Bump their '
            'VERSION, make obj_make_compatible() drop the change for older '
            'readers, and update OBJECT_FINGERPRINTS with the new hashes.')

    def test_relationships(self):
        expected, actual = self.checker.test_relationships(
            OBJECT_RELATIONSHIPS)
        self.assertEqual(
            expected, actual,
            'The version of an object held by another changed; update '
            'OBJECT_RELATIONSHIPS and check the holder backports it.')

    def test_compatibility_routines(self):
        # Every older version of every object can be produced, both the
        # plain way and with the full version manifest of its tree.
        self.checker.test_compatibility_routines()
        self.checker.test_compatibility_routines(use_manifest=True)

    def test_relationships_in_order(self):
        self.checker.test_relationships_in_order()

    def test_every_version_has_a_history_line(self):
        # The comment block above VERSION tells reviewers what each version
        # added; a bump without its line is a review comment waiting.
        for name, classes in base.NovaObjectRegistry.obj_classes().items():
            cls = classes[0]
            source = inspect.getsource(cls)
            major, minor = (int(x) for x in cls.VERSION.split('.'))
            for n in range(minor + 1):
                self.assertRegex(
                    source, r'# Version %d\.%d: \S' % (major, n),
                    '%s lacks a "# Version %d.%d:" history line'
                    % (name, major, n))

    def test_every_object_is_exported(self):
        for name, classes in base.NovaObjectRegistry.obj_classes().items():
            self.assertIs(classes[0], getattr(objects, name))
            self.assertTrue(re.match(r'^\d+\.\d+$', classes[0].VERSION))
