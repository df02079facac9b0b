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

"""Real QEMU guests on qemu:///system, and what the kernel says about them.

Guests are diskless TCG guests ([libvirt] virt_type=qemu) that sit in
SeaBIOS: enough to have QEMU's vCPU and emulator threads to inspect in
/proc/<qemu pid>/task. Every guest a test makes carries a unique name prefix
and is undefined afterwards.

These tests change host-wide state for their duration
(kernel.sched_rt_runtime_us, through host_guard, which restores it) and
expect the two pCPUs to themselves, so they take an exclusive host lock
(HOST_LOCK) for the length of each test. The system libvirtd is only
talked to: tests that kill or restart a libvirtd run one of their own
(PRIVATE_LIBVIRTD).
"""

import collections
import fcntl
import glob
import os
import re
import textwrap
import time

import fixtures
import libvirt
from oslo_utils import uuidutils
from testtools import content

from nova import objects
from nova import test
from nova.tests.functional import host_guard
from nova.tests.functional.libvirt import private_libvirtd
from nova.virt import hardware
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import host as host_mod
from nova.virt.libvirt import host_checks
from nova.virt.libvirt import host_facts

URI = 'qemu:///system'
QEMU_PID_DIR = '/run/libvirt/qemu'
QEMU_LOG_DIR = '/var/log/libvirt/qemu'
HOST_LOCK = '/run/lock/nova-realtime-functional.lock'
DEDICATED = '0-1'

RT = {'hw:cpu_policy': 'dedicated', 'hw:cpu_realtime': 'yes'}
DEDICATED_ONLY = {'hw:cpu_policy': 'dedicated'}

POLICY_NAMES = {os.SCHED_OTHER: 'SCHED_OTHER', os.SCHED_FIFO: 'SCHED_FIFO',
                os.SCHED_RR: 'SCHED_RR', os.SCHED_BATCH: 'SCHED_BATCH',
                os.SCHED_IDLE: 'SCHED_IDLE'}

VCPU_THREAD = re.compile(r'^CPU (\d+)/(TCG|KVM)$')

Thread = collections.namedtuple('Thread',
                                'tid name policy priority affinity')


def drop_memory_locking(guest):
    """adjust_guest for the *_without_memory_locking tests: the same
    driver-built config minus <locked/> and the <memtune> hard limit that
    bounds it (libvirt makes a hard limit QEMU's memory-lock limit, which
    this host cannot grant either).
    """
    guest.membacking.locked = False
    guest.memtune = None


def libvirt_answers(timeout=0, uri=URI):
    return private_libvirtd.answers(uri, timeout)


def qemu_pid(name, run_dir=QEMU_PID_DIR):
    with open(os.path.join(run_dir, '%s.pid' % name)) as f:
        return int(f.read().strip())


def thread_table(pid):
    """[Thread] for every thread of a process, read from /proc and the
    scheduler syscalls.
    """
    threads = []
    for entry in sorted(os.listdir('/proc/%d/task' % pid), key=int):
        tid = int(entry)
        try:
            with open('/proc/%d/task/%d/comm' % (pid, tid)) as f:
                name = f.read().strip()
            threads.append(Thread(
                tid, name, os.sched_getscheduler(tid),
                os.sched_getparam(tid).sched_priority,
                frozenset(os.sched_getaffinity(tid))))
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that just exited
    return threads


def format_thread_table(threads):
    lines = ['%-18s %-11s %8s  %s' % ('thread', 'policy', 'priority',
                                      'affinity')]
    for thread in threads:
        lines.append('%-18s %-11s %8d  %s' % (
            thread.name, POLICY_NAMES.get(thread.policy, thread.policy),
            thread.priority, hardware.format_cpu_spec(thread.affinity)))
    return '\n'.join(lines)


class HostLock(fixtures.Fixture):
    """Exclusive use of the host for one test (waits for other holders)."""

    def _setUp(self):
        os.makedirs(os.path.dirname(HOST_LOCK), exist_ok=True)
        handle = open(HOST_LOCK, 'a')
        self.addCleanup(handle.close)
        fcntl.flock(handle, fcntl.LOCK_EX)
        self.addCleanup(fcntl.flock, handle, fcntl.LOCK_UN)


class SchedRtRuntime(host_guard.Sysctl):
    """Set kernel.sched_rt_runtime_us for a test; restore it afterwards
    (also when the test worker is terminated).
    """

    def __init__(self, value):
        super().__init__('kernel.sched_rt_runtime_us', value)


class RealQemuTestCase(test.TestCase):
    """Boots through LibvirtDriver.spawn on qemu:///system.

    A test class that kills, stops or restarts libvirtd sets
    ``PRIVATE_LIBVIRTD``: its tests then run on a root libvirtd of their
    own (``self.libvirtd``, a private_libvirtd.PrivateLibvirtd started for
    each test and removed after it), never on the system's, which the
    other tests only talk to. ``self.uri`` is the daemon's URI, in
    [libvirt] connection_uri for the driver and the commands alike.
    """

    PRIVATE_LIBVIRTD = False

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.fail('functional tests boot guests on qemu:///system and '
                      'change kernel settings: run them as root')
        self.useFixture(HostLock())
        if self.PRIVATE_LIBVIRTD:
            self.libvirtd = self.useFixture(
                private_libvirtd.PrivateLibvirtd())
            self.uri = self.libvirtd.uri
            self.qemu_run_dir = self.libvirtd.qemu_run_dir
        else:
            self.libvirtd = None
            self.uri = URI
            self.qemu_run_dir = QEMU_PID_DIR
            if not libvirt_answers(timeout=5):
                self.fail('libvirtd does not answer on %s: start it (as '
                          'tools/run-tests.sh does)' % URI)
        self.prefix = 'nrt-%s-' % uuidutils.generate_uuid()[:8]
        self.addCleanup(self._undefine_ours)
        self.instances_path = self.useFixture(fixtures.TempDir()).path
        # QEMU runs as an unprivileged user: let it reach the console log.
        os.chmod(self.instances_path, 0o755)
        self.flags(connection_uri=self.uri, virt_type='qemu',
                   instances_path=self.instances_path, group='libvirt')
        self.flags(cpu_dedicated_set=DEDICATED, cpu_shared_set=None,
                   group='compute')
        self._require_free_host()
        self.driver = libvirt_driver.LibvirtDriver(host_mod.Host())
        self.addCleanup(self.driver.host.close)

    def write_command_config(self):
        """A nova.conf for nova-realtime processes this test starts: the
        same libvirt daemon, host settings, console logs and lock
        directory as the test.
        """
        path = os.path.join(self.lock_path, 'nova.conf')
        with open(path, 'w') as f:
            f.write(textwrap.dedent('''\
                [compute]
                cpu_dedicated_set = %s
                [libvirt]
                connection_uri = %s
                virt_type = qemu
                instances_path = %s
                [oslo_concurrency]
                lock_path = %s
                ''' % (DEDICATED, self.uri, self.instances_path,
                       self.lock_path)))
        return path

    def _conn(self):
        conn = libvirt.open(self.uri)
        self.addCleanup(conn.close)
        return conn

    def qemu_pid(self, name):
        return qemu_pid(name, self.qemu_run_dir)

    def _require_free_host(self):
        """Wait (up to NOVA_RT_FUNCTIONAL_WAIT seconds, default 300) for
        guests that are not ours to go: they would hold the two pCPUs.
        With a private libvirtd, the system daemon's guests count too.
        """
        deadline = time.monotonic() + int(
            os.environ.get('NOVA_RT_FUNCTIONAL_WAIT', '300'))
        uris = [self.uri]
        if self.libvirtd and libvirt_answers():
            uris.append(URI)
        while True:
            others = []
            for uri in uris:
                conn = libvirt.open(uri)
                try:
                    others += ['%s (%s)' % (dom.name(), uri)
                               for dom in conn.listAllDomains()
                               if dom.isActive()]
                finally:
                    conn.close()
            if not others:
                return
            if time.monotonic() > deadline:
                self.fail('the host must be free for these tests, but '
                          'domains %s are running' % ', '.join(others))
            time.sleep(2)

    def _undefine_ours(self):
        if self.libvirtd:
            self.libvirtd.ensure_running()
        elif not libvirt_answers(timeout=30):
            raise AssertionError('libvirtd does not answer on %s: the '
                                 'domains named %s* are left' % (
                                     URI, self.prefix))
        conn = libvirt.open(self.uri)
        try:
            for dom in conn.listAllDomains():
                if dom.name().startswith(self.prefix):
                    if dom.isActive():
                        dom.destroy()
                    dom.undefine()
        finally:
            conn.close()
        if not self.libvirtd:
            # The system daemon keeps a QEMU log per domain name (a private
            # daemon's go with its directory).
            for path in glob.glob(os.path.join(
                    QEMU_LOG_DIR, glob.escape(self.prefix) + '*.log*')):
                os.unlink(path)

    # -- helpers ------------------------------------------------------------

    def name(self, suffix):
        return self.prefix + suffix

    def make_instance(self, suffix, vcpus=2, memory_mb=96, **extra_specs):
        flavor = objects.Flavor(name='f-%s' % suffix, vcpus=vcpus,
                                memory_mb=memory_mb, extra_specs=extra_specs)
        return objects.Instance(uuid=uuidutils.generate_uuid(),
                                name=self.name(suffix), flavor=flavor)

    def spawn(self, suffix, image_props=None, adjust_guest=None,
              driver=None, **kw):
        instance = self.make_instance(suffix, **kw)
        image_meta = objects.ImageMeta.from_dict(
            {'properties': image_props or {}})
        guest = (driver or self.driver).spawn(instance, image_meta,
                                              adjust_guest=adjust_guest)
        return instance, guest

    def our_domains(self):
        return sorted(dom.name() for dom in self._conn().listAllDomains()
                      if dom.name().startswith(self.prefix))

    def pinned_from_libvirt(self):
        """pCPUs a fresh Host reads back from libvirt as taken."""
        host = host_mod.Host()
        try:
            return host.get_host_numa_topology().pinned_cpus
        finally:
            host.close()

    def running_guest_config(self, name):
        dom = self._conn().lookupByName(name)
        return vconfig.LibvirtConfigGuest.from_xml(dom.XMLDesc(0))

    def vcpu_threads(self, name, vcpus):
        """Thread table of a guest's QEMU once all vCPU threads exist."""
        pid = self.qemu_pid(name)
        deadline = time.monotonic() + 10
        while True:
            threads = thread_table(pid)
            found = [t for t in threads if VCPU_THREAD.match(t.name)]
            if len(found) >= vcpus or time.monotonic() > deadline:
                return threads
            time.sleep(0.1)

    def assert_guest_threads(self, instance, priority=1):
        """Every QEMU thread is where the fitted topology says it must be.

        Returns the thread table (printed to the test's details too).
        """
        topology = instance.numa_topology
        pinning = topology.cpu_pinning
        realtime = set(topology.realtime_cpus or ())
        emulator = frozenset(hardware.get_emulator_thread_pcpus(topology))
        threads = self.vcpu_threads(instance.name, instance.flavor.vcpus)
        table = format_thread_table(threads)
        self.addDetail('threads-%s' % instance.name,
                       content.text_content(table))
        seen = set()
        for thread in threads:
            match = VCPU_THREAD.match(thread.name)
            if match:
                vcpu = int(match.group(1))
                seen.add(vcpu)
                self.assertEqual({pinning[vcpu]}, thread.affinity, table)
                if vcpu in realtime:
                    self.assertEqual(os.SCHED_FIFO, thread.policy, table)
                    self.assertEqual(priority, thread.priority, table)
                else:
                    self.assertEqual(os.SCHED_OTHER, thread.policy, table)
            else:
                # Every other thread is an emulator thread.
                self.assertEqual(emulator, thread.affinity, table)
                self.assertEqual(os.SCHED_OTHER, thread.policy, table)
        self.assertEqual(set(range(instance.flavor.vcpus)), seen, table)
        return table

    def assert_nothing_left(self, name):
        self.assertNotIn(name, self.our_domains())
        self.assertEqual(set(), self.pinned_from_libvirt())

    def host_can_lock_memory(self):
        result = host_checks.check_memlock(host_facts.HostFacts('/'))
        return result.status == host_checks.OK, result.found
