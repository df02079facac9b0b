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

"""The private libvirtd the kill loops use is not the system's, and it
leaves nothing behind: a real root libvirtd, a real QEMU guest.
"""

import glob
import json
import os
import signal
import subprocess
import sys

import libvirt
from oslo_utils import uuidutils

from nova import test
from nova.tests.functional import host_guard
from nova.tests.functional.libvirt import base
from nova.tests.functional.libvirt import private_libvirtd

GUEST = '''<domain type='qemu'>
  <name>%s</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>'''


# A test worker: a private libvirtd with a guest, then waits to be killed.
WORKER = '''
import json, sys, time
import libvirt
from nova.tests.functional.libvirt import base, private_libvirtd
from nova.tests.functional.libvirt import test_private_libvirtd as t
daemon = private_libvirtd.PrivateLibvirtd()
daemon.setUp()
conn = libvirt.open(daemon.uri)
conn.createXML(t.GUEST % sys.argv[1], 0)
conn.close()
print(json.dumps({'root': daemon.root, 'pid': daemon.pid(),
                  'qemu': base.qemu_pid(sys.argv[1], daemon.qemu_run_dir)}),
      flush=True)
time.sleep(600)
'''


def _mounts():
    with open('/proc/self/mountinfo') as f:
        return sorted(' '.join(line.split()[3:5]) for line in f)


def _alive(pid):
    return os.path.exists('/proc/%d' % pid)


class PrivateLibvirtdTest(test.TestCase):
    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.fail('a private libvirtd runs as root: run these as root')
        self.useFixture(base.HostLock())
        self.name = 'nrt-%s-private' % uuidutils.generate_uuid()[:8]

    def start_daemon(self):
        """A PrivateLibvirtd; ``self.clean_up(daemon)`` removes it within
        the test (else the test's cleanup does).
        """
        daemon = private_libvirtd.PrivateLibvirtd()
        daemon.setUp()
        self.addCleanup(self.clean_up, daemon)
        return daemon

    def clean_up(self, daemon):
        if not getattr(daemon, 'cleaned', False):
            daemon.cleaned = True
            daemon.cleanUp()

    def boot(self, daemon):
        conn = libvirt.open(daemon.uri)
        self.addCleanup(conn.close)
        conn.createXML(GUEST % self.name, 0)
        return base.qemu_pid(self.name, daemon.qemu_run_dir)

    def test_own_directories_sockets_and_daemon(self):
        system = host_guard.system_libvirtd()
        mounts = _mounts()
        daemon = self.start_daemon()
        pid = daemon.pid()
        self.assertIsNotNone(pid)
        if system:
            self.assertNotEqual(system[0], pid)
        self.assertTrue(daemon.socket.startswith(daemon.root + '/'))
        self.assertTrue(os.path.exists(daemon.socket))
        qemu = self.boot(daemon)
        self.assertTrue(_alive(qemu))
        # Its domains' status, monitor and log files are in its own
        # directories, none in the host's.
        self.assertTrue(os.path.exists(os.path.join(
            daemon.qemu_run_dir, '%s.xml' % self.name)))
        self.assertFalse(os.path.exists(
            '/run/libvirt/qemu/%s.xml' % self.name))
        self.assertEqual([], glob.glob(
            '/var/lib/libvirt/qemu/domain-*-%s' % self.name))
        self.assertEqual(1, len(glob.glob(os.path.join(
            daemon.root, 'lib', 'qemu', 'domain-*-%s' % self.name))))
        self.assertTrue(os.path.exists(os.path.join(
            daemon.root, 'log', 'qemu', '%s.log' % self.name)))
        self.assertFalse(os.path.exists(
            '/var/log/libvirt/qemu/%s.log' % self.name))
        # The system daemon does not see it; nothing is mounted here.
        if system:
            conn = libvirt.open(base.URI)
            self.addCleanup(conn.close)
            self.assertNotIn(self.name, [dom.name() for dom in
                                         conn.listAllDomains()])
        self.assertEqual(mounts, _mounts())

        root = daemon.root
        self.clean_up(daemon)
        self.assertFalse(_alive(qemu))
        self.assertFalse(_alive(pid))
        self.assertFalse(os.path.exists(root))
        self.assertEqual([], glob.glob(
            '/sys/fs/cgroup/*/machine/qemu-*-%s.libvirt-qemu' % self.name))
        self.assertEqual(system, host_guard.system_libvirtd())
        self.assertEqual(mounts, _mounts())

    def test_killed_and_started_again_guests_live_on(self):
        system = host_guard.system_libvirtd()
        daemon = self.start_daemon()
        qemu = self.boot(daemon)
        first = daemon.pid()
        daemon.kill(signal.SIGKILL)
        self.assertIsNone(daemon.pid())
        self.assertFalse(private_libvirtd.answers(daemon.uri))
        self.assertTrue(_alive(qemu))
        daemon.start()
        self.assertNotEqual(first, daemon.pid())
        conn = libvirt.open(daemon.uri)
        self.addCleanup(conn.close)
        self.assertTrue(conn.lookupByName(self.name).isActive())
        self.assertEqual(system, host_guard.system_libvirtd())

    def test_cleanup_with_the_daemon_killed_removes_its_guests(self):
        """A test that fails right after killing its libvirtd: the
        cleanup starts it again to destroy the guests, then stops it.
        """
        daemon = self.start_daemon()
        qemu = self.boot(daemon)
        daemon.kill(signal.SIGKILL)
        root = daemon.root
        self.clean_up(daemon)
        self.assertFalse(_alive(qemu))
        self.assertFalse(os.path.exists(root))
        self.assertEqual([], glob.glob(
            '/sys/fs/cgroup/*/machine/qemu-*-%s.libvirt-qemu' % self.name))

    def test_terminated_worker_removes_the_daemon(self):
        """SIGTERM of a test worker with a private libvirtd and a guest:
        host_guard's handler tears them down before the worker dies.
        """
        system = host_guard.system_libvirtd()
        proc = subprocess.Popen(
            [sys.executable, '-c', WORKER, self.name],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        started = json.loads(proc.stdout.readline())
        self.assertTrue(_alive(started['qemu']))
        self.assertTrue(_alive(started['pid']))
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=120)
        self.assertEqual(-signal.SIGTERM, proc.returncode, err)
        self.assertFalse(_alive(started['qemu']))
        self.assertFalse(_alive(started['pid']))
        self.assertFalse(os.path.exists(started['root']))
        self.assertEqual([], glob.glob(
            '/sys/fs/cgroup/*/machine/qemu-*-%s.libvirt-qemu' % self.name))
        self.assertEqual(system, host_guard.system_libvirtd())

    def test_killed_worker_leftovers_removed_by_the_next_daemon(self):
        """SIGKILL of a test worker: no cleanup runs. The next private
        libvirtd removes the dead worker's daemon, guest and directories.
        """
        system = host_guard.system_libvirtd()
        proc = subprocess.Popen(
            [sys.executable, '-c', WORKER, self.name],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        started = json.loads(proc.stdout.readline())
        proc.kill()
        proc.communicate(timeout=60)
        # What the dead worker left behind.
        self.assertTrue(_alive(started['qemu']))
        self.assertTrue(_alive(started['pid']))
        self.assertTrue(os.path.exists(started['root']))
        daemon = self.start_daemon()
        self.assertIn(started['root'], daemon.stale_removed)
        self.assertFalse(_alive(started['qemu']))
        self.assertFalse(_alive(started['pid']))
        self.assertFalse(os.path.exists(started['root']))
        self.assertEqual([], glob.glob(
            '/sys/fs/cgroup/*/machine/qemu-*-%s.libvirt-qemu' % self.name))
        self.assertEqual(system, host_guard.system_libvirtd())
