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

"""Base TestCase for nova-realtime tests."""

import fixtures
from oslo_config import fixture as config_fixture
import testtools

import nova.conf
from nova import objects

CONF = nova.conf.CONF


class TestCase(testtools.TestCase):
    """testtools.TestCase with objects registered and isolated config.

    Every test gets its own [oslo_concurrency] lock_path, so external locks
    of parallel test workers never meet unless a test shares one on purpose.
    """

    def setUp(self):
        super().setUp()
        objects.register_all()
        self.useFixture(fixtures.NestedTempfile())
        self.conf_fixture = self.useFixture(config_fixture.Config(CONF))
        self.lock_path = self.useFixture(fixtures.TempDir()).path
        self.flags(lock_path=self.lock_path, group='oslo_concurrency')
        # Unit tests run on libvirt's embedded test driver unless a test
        # says otherwise (the default would be this host's qemu:///system).
        self.flags(connection_uri='test:///default', group='libvirt')

    def flags(self, group=None, **kw):
        """Override config options for this test only."""
        self.conf_fixture.config(group=group, **kw)
