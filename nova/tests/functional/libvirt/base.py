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

These tests change host-wide state (kernel.sched_rt_runtime_us, the libvirt
daemon) and expect the two pCPUs to themselves, so they take an exclusive
host lock (HOST_LOCK) for the length of each test.
"""

import collections
import fcntl
import os
import re
import signal
import subprocess
import textwrap
import time

import fixtures
import libvirt
from oslo_utils import uuidutils
from testtools import content

from nova import objects
from nova import test
from nova.virt import hardware
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import host as host_mod
from nova.virt.libvirt import host_checks
from nova.virt.libvirt import host_facts

URI = 'qemu:///system'
LIBVIRTD_PIDFILE = '/run/libvirtd.pid'
QEMU_PID_DIR = '/run/libvirt/qemu'
RT_RUNTIME = '/proc/sys/kernel/sched_rt_runtime_us'
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


def libvirt_answers(timeout=0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            libvirt.open(URI).close()
            return True
        except libvirt.libvirtError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)


def libvirtd_pid():
    with open(LIBVIRTD_PIDFILE) as f:
        return int(f.read().strip())


def stop_libvirtd():
    """Stop the libvirt daemon (by the pid in its pid file); guests live on."""
    pid = libvirtd_pid()
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while os.path.exists('/proc/%d' % pid):
        if time.monotonic() > deadline:
            raise AssertionError('libvirtd (pid %d) did not exit' % pid)
        time.sleep(0.1)


def start_libvirtd():
    subprocess.run(['libvirtd', '-d'], check=True)
    if not libvirt_answers(timeout=30):
        raise AssertionError('libvirtd did not answer on %s after a restart'
                             % URI)


def restart_libvirtd():
    stop_libvirtd()
    start_libvirtd()


def qemu_pid(name):
    with open(os.path.join(QEMU_PID_DIR, '%s.pid' % name)) as f:
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


class SchedRtRuntime(fixtures.Fixture):
    """Set kernel.sched_rt_runtime_us for a test; restore it afterwards."""

    def __init__(self, value):
        super().__init__()
        self.value = value

    def _setUp(self):
        with open(RT_RUNTIME) as f:
            previous = f.read().strip()
        self._write(self.value)
        self.addCleanup(self._write, previous)

    @staticmethod
    def _write(value):
        with open(RT_RUNTIME, 'w') as f:
            f.write('%s\n' % value)


class RealQemuTestCase(test.TestCase):
    """Boots through LibvirtDriver.spawn on qemu:///system."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.fail('functional tests boot guests on qemu:///system and '
                      'change kernel settings: run them as root')
        self.useFixture(HostLock())
        if not libvirt_answers(timeout=5):
            self.fail('libvirtd does not answer on %s: start it (as '
                      'tools/run-tests.sh does)' % URI)
        self.prefix = 'nrt-%s-' % uuidutils.generate_uuid()[:8]
        self.addCleanup(self._undefine_ours)
        self.instances_path = self.useFixture(fixtures.TempDir()).path
        # QEMU runs as an unprivileged user: let it reach the console log.
        os.chmod(self.instances_path, 0o755)
        self.flags(connection_uri=URI, virt_type='qemu',
                   instances_path=self.instances_path, group='libvirt')
        self.flags(cpu_dedicated_set=DEDICATED, cpu_shared_set=None,
                   group='compute')
        self._require_free_host()
        self.driver = libvirt_driver.LibvirtDriver(host_mod.Host())
        self.addCleanup(self.driver.host.close)

    def write_command_config(self):
        """A nova.conf for nova-realtime processes this test starts: the
        same host settings, console logs and lock directory as the test.
        """
        path = os.path.join(self.lock_path, 'nova.conf')
        with open(path, 'w') as f:
            f.write(textwrap.dedent('''\
                [compute]
                cpu_dedicated_set = %s
                [libvirt]
                virt_type = qemu
                instances_path = %s
                [oslo_concurrency]
                lock_path = %s
                ''' % (DEDICATED, self.instances_path, self.lock_path)))
        return path

    def _conn(self):
        conn = libvirt.open(URI)
        self.addCleanup(conn.close)
        return conn

    def _require_free_host(self):
        """Wait (up to NOVA_RT_FUNCTIONAL_WAIT seconds, default 300) for
        guests that are not ours to go: they would hold the two pCPUs.
        """
        deadline = time.monotonic() + int(
            os.environ.get('NOVA_RT_FUNCTIONAL_WAIT', '300'))
        conn = self._conn()
        while True:
            others = [dom.name() for dom in conn.listAllDomains()
                      if dom.isActive()]
            if not others:
                return
            if time.monotonic() > deadline:
                self.fail('the host must be free for these tests, but '
                          'domains %s are running on %s'
                          % (', '.join(others), URI))
            time.sleep(2)

    def _undefine_ours(self):
        if not libvirt_answers(timeout=30):
            start_libvirtd()
        conn = libvirt.open(URI)
        try:
            for dom in conn.listAllDomains():
                if dom.name().startswith(self.prefix):
                    if dom.isActive():
                        dom.destroy()
                    dom.undefine()
        finally:
            conn.close()

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
        pid = qemu_pid(name)
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
