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

"""Host: the connection, its reconnects and libvirt's error paths.

A connection that dies under a call, a daemon that is down, a domain
undefined while it is listed: faults test:///default cannot cause, so a
fake connection stands in for them. Everything else runs on the real
test driver.
"""

from unittest import mock

import libvirt

from nova import exception
from nova import test
from nova.virt.libvirt import host as host_mod


def libvirt_error(code, message='boom'):
    error = libvirt.libvirtError(message)
    error.err = (code, 0, message, 2, None, None, None, -1, -1)
    return error


class FakeConnection(object):
    """A libvirt connection whose calls and liveness a test controls."""

    def __init__(self, alive=True, domains=(), fail=None):
        self.alive = alive
        self.domains = list(domains)
        self.fail = fail
        self.closed = False
        self.calls = []

    def isAlive(self):
        if isinstance(self.alive, Exception):
            raise self.alive
        return self.alive

    def close(self):
        self.closed = True

    def listAllDomains(self):
        self.calls.append('listAllDomains')
        if self.fail is not None:
            error, self.fail = self.fail, None
            self.alive = False
            raise error
        return self.domains

    def lookupByName(self, name):
        raise libvirt_error(libvirt.VIR_ERR_NO_DOMAIN, 'no domain %s' % name)

    def lookupByUUIDString(self, uuid):
        raise libvirt_error(libvirt.VIR_ERR_NO_DOMAIN, 'no domain %s' % uuid)

    def getCPUMap(self):
        raise libvirt_error(libvirt.VIR_ERR_NO_SUPPORT, 'not supported')

    def getType(self):
        return 'QEMU'


class VanishingDomain(object):
    """A domain undefined between listAllDomains and XMLDesc."""

    def isActive(self):
        raise libvirt_error(libvirt.VIR_ERR_NO_DOMAIN, 'gone')

    def name(self):
        return 'gone'


class HostConnectionTest(test.TestCase):
    def _host(self, *connections):
        opened = list(connections)
        patcher = mock.patch.object(libvirt, 'open', autospec=True,
                                    side_effect=lambda uri: opened.pop(0))
        patcher.start()
        self.addCleanup(patcher.stop)
        return host_mod.Host('qemu:///system')

    def test_reconnects_once_when_the_connection_died(self):
        first = FakeConnection(fail=libvirt_error(
            libvirt.VIR_ERR_SYSTEM_ERROR, 'Cannot recv data'))
        second = FakeConnection(domains=[])
        host = self._host(first, second)
        self.assertEqual([], host.list_domains())
        self.assertEqual(['listAllDomains'], first.calls)
        self.assertEqual(['listAllDomains'], second.calls)

    def test_no_retry_when_the_connection_is_still_alive(self):
        # A connection-class error on a live connection is a real failure
        # of the call: no second connection is opened for it.
        conn = FakeConnection()
        host = self._host(conn)
        calls = []

        def failing(conn):
            calls.append(conn)
            raise libvirt_error(libvirt.VIR_ERR_INTERNAL_ERROR, 'real')
        self.assertRaises(libvirt.libvirtError, host._call, failing)
        self.assertEqual([conn], calls)

    def test_other_errors_are_not_retried(self):
        first = FakeConnection()
        host = self._host(first)
        calls = []

        def failing(conn):
            calls.append(conn)
            raise libvirt_error(libvirt.VIR_ERR_OPERATION_INVALID, 'no')
        self.assertRaises(libvirt.libvirtError, host._call, failing)
        self.assertEqual(1, len(calls))

    def test_daemon_down_is_hypervisor_unavailable(self):
        patcher = mock.patch.object(
            libvirt, 'open', autospec=True, side_effect=libvirt_error(
                libvirt.VIR_ERR_SYSTEM_ERROR,
                "Failed to connect socket to '/run/libvirt/libvirt-sock'"))
        patcher.start()
        self.addCleanup(patcher.stop)
        host = host_mod.Host('qemu:///system')
        error = self.assertRaises(exception.HypervisorUnavailable,
                                  host.list_domains)
        self.assertIn('qemu:///system', str(error))
        self.assertIn('libvirt-sock', str(error))

    def test_dead_connection_is_replaced_before_use(self):
        dead = FakeConnection(alive=libvirt_error(
            libvirt.VIR_ERR_INVALID_CONN, 'invalid connection'))
        fresh = FakeConnection()
        host = self._host(dead, fresh)
        self.assertIs(dead, host.get_connection())
        self.assertIs(fresh, host.get_connection())
        self.assertIs(fresh, host.get_connection())

    def test_close_tolerates_errors_and_forgets(self):
        conn = FakeConnection()
        conn.close = mock.Mock(side_effect=libvirt_error(
            libvirt.VIR_ERR_INVALID_CONN))
        host = self._host(conn)
        host.get_connection()
        host.close()
        self.assertIsNone(host._conn)

    def test_lookups_translate_no_domain(self):
        host = self._host(FakeConnection(), FakeConnection())
        self.assertRaises(exception.InstanceNotFound, host.lookup, 'x')
        self.assertRaises(exception.InstanceNotFound, host.lookup_by_uuid,
                          '11111111-2222-3333-4444-555555555555')

    def test_domain_undefined_while_listing_is_skipped(self):
        host = self._host(FakeConnection(domains=[VanishingDomain()]))
        self.assertEqual([], host.get_domain_usages())

    def test_online_cpus_unknown_when_libvirt_cannot_tell(self):
        host = self._host(FakeConnection())
        self.assertIsNone(host.get_online_cpus())


class DefaultURITest(test.TestCase):
    def test_uri_follows_virt_type_when_unset(self):
        self.flags(connection_uri='', group='libvirt')
        for virt_type, uri in (('kvm', 'qemu:///system'),
                               ('qemu', 'qemu:///system'),
                               ('test', 'test:///default')):
            self.flags(virt_type=virt_type, group='libvirt')
            self.assertEqual(uri, host_mod.Host().uri)

    def test_explicit_uri_wins(self):
        self.flags(connection_uri='qemu+ssh://c1/system', group='libvirt')
        self.assertEqual('qemu+ssh://c1/system', host_mod.Host().uri)
        self.assertEqual('test:///default',
                         host_mod.Host('test:///default').uri)


class RealTestDriverTest(test.TestCase):
    def test_usage_of_the_builtin_domain(self):
        host = host_mod.Host('test:///default')
        self.addCleanup(host.close)
        usages = {u.name: u for _dom, u in host.get_domain_usages()}
        self.assertEqual(['vCPU 0-1', 'emulator threads'],
                         usages['test'].unconfined)
        self.assertTrue(usages['test'].running)
        self.assertFalse(usages['test'].ours)
