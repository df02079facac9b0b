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

"""Real-time servers through upstream Nova on a real QEMU (TCG)."""

import json
import os
import subprocess
import sys

from lxml import etree
import testtools
from testtools import content

from nova import conf
from nova.virt import hardware

from realnova import base

CONF = conf.CONF

# Mixed policy, vCPU 1 real-time and dedicated (pCPU 1), vCPU 0 shared
# (pCPU 0), where the emulator threads run too.
RT_MIXED = {'hw:cpu_policy': 'mixed', 'hw:cpu_realtime': 'yes',
            'hw:cpu_realtime_mask': '^0'}
RT_VCPUS = {1}

# `nova-realtime verify` on this host: what must be OK, and what may only
# be OK or WARN because it depends on the host's set-up, not on Nova: every
# unpinned process and unbound kernel thread may run on the real-time pCPU
# (no isolcpus here: pcpu.intruders), and so may device interrupts (no IRQ
# affinity set up: pcpu.irqs). memory.locked is WARN exactly when the
# fixture stripped <locked/> (neither <locked/> nor huge pages).
VERIFY_OK = ('guest.process', 'vcpu.policy', 'vcpu.affinity',
             'emulator.affinity', 'kernel.sched_rt_runtime_us')
VERIFY_HOST = ('pcpu.intruders', 'pcpu.irqs')


def nova_realtime():
    return os.environ.get('NOVA_REALTIME')


class RealtimeTestBase(base.RealLibvirtTestCase):
    """What a real-time server is checked for (no tests of its own)."""

    # Whether the tests run the nova-realtime command ($NOVA_REALTIME).
    NEEDS_NOVA_REALTIME = False

    def setUp(self):
        if self.NEEDS_NOVA_REALTIME and not (
                nova_realtime() and os.access(nova_realtime(), os.X_OK)):
            self.skipTest('NOVA_REALTIME (the nova-realtime command: '
                          'verify, advertise) is not set or not '
                          'executable: %r' % nova_realtime())
        super().setUp()

    def verify(self, name):
        proc = subprocess.run(
            [nova_realtime(), 'verify', name, '--connection', base.URI,
             '--format', 'json'],
            capture_output=True, text=True, timeout=120,
            env=base.command_env())
        self.addDetail('verify-%s' % name, content.text_content(
            'exit %d\n%s\n%s' % (proc.returncode, proc.stdout,
                                 proc.stderr)))
        return proc

    def assertRealtimeThreads(self, name, rt_vcpus):
        """The QEMU of ``name`` runs as its XML and the flavor promise."""
        xml = self.live_xml(name)
        sched = xml.findall('./cputune/vcpusched')
        self.assertEqual(1, len(sched), 'one <vcpusched>')
        self.assertEqual('fifo', sched[0].get('scheduler'))
        priority = CONF.libvirt.realtime_scheduler_priority
        self.assertEqual(str(priority), sched[0].get('priority'))
        self.assertEqual(rt_vcpus, hardware.parse_cpu_spec(
            sched[0].get('vcpus')))
        pins = {int(p.get('vcpu')): hardware.parse_cpu_spec(p.get('cpuset'))
                for p in xml.findall('./cputune/vcpupin')}
        rt_pcpus = set().union(*(pins[v] for v in rt_vcpus))
        self.assertEqual(hardware.parse_cpu_spec(base.DEDICATED), rt_pcpus)

        qemu = base.QemuProcess(name)
        lines = []
        for vcpu, tid in sorted(qemu.vcpu_tids.items()):
            lines.append('vCPU %d thread %d %s policy %d priority %d on %s'
                         % (vcpu, tid, qemu.comm(tid),
                            os.sched_getscheduler(tid),
                            os.sched_getparam(tid).sched_priority,
                            sorted(os.sched_getaffinity(tid))))
        self.addDetail('vcpu-threads', content.text_content(
            '\n'.join(lines)))
        self.assertEqual(set(pins), set(qemu.vcpu_tids))
        for vcpu in rt_vcpus:
            tid = qemu.vcpu_tids[vcpu]
            self.assertEqual(os.SCHED_FIFO, os.sched_getscheduler(tid))
            self.assertEqual(priority, os.sched_getparam(tid).sched_priority)
            # Exactly the pCPU of its <vcpupin>.
            self.assertEqual(pins[vcpu], os.sched_getaffinity(tid))
        rt_tids = {qemu.vcpu_tids[v] for v in rt_vcpus}
        others = [t for t in qemu.tids() if t not in rt_tids]
        self.assertTrue(others)
        for tid in others:
            # Emulator threads and the other vCPUs: off the RT pCPUs.
            self.assertEqual(set(), os.sched_getaffinity(tid) & rt_pcpus,
                             'thread %d (%s)' % (tid, qemu.comm(tid)))
            self.assertEqual(os.SCHED_OTHER, os.sched_getscheduler(tid))

    def assertVerified(self, name):
        """verify exits 0, nothing FAILs, and only what this host cannot
        avoid is a WARN; returns the WARN check ids.
        """
        proc = self.verify(name)
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
        report = json.loads(proc.stdout)
        self.assertTrue(report['ok'])
        (guest,) = report['guests']
        statuses = {c['id']: c['status'] for c in guest['checks']}
        self.assertEqual(set(VERIFY_OK + VERIFY_HOST + ('memory.locked',)),
                         set(statuses))
        for check in VERIFY_OK:
            self.assertEqual('OK', statuses[check], check)
        for check in VERIFY_HOST:
            self.assertIn(statuses[check], ('OK', 'WARN'), check)
        self.assertEqual('WARN' if self.real.stripped else 'OK',
                         statuses['memory.locked'])
        return sorted(i for i, s in statuses.items() if s == 'WARN')


class RealtimeServerTest(RealtimeTestBase):

    NEEDS_NOVA_REALTIME = True

    def test_boot_realtime_server(self):
        server, seconds = self.boot(RT_MIXED)
        sys.stdout.write('\n%s: ACTIVE in %.2f s\n' % (self.id(), seconds))
        name = server['OS-EXT-SRV-ATTR:instance_name']
        self.assertEqual(self.nodename,
                         server['OS-EXT-SRV-ATTR:hypervisor_hostname'])
        self.assertRealtimeThreads(name, RT_VCPUS)
        warns = self.assertVerified(name)
        self.addDetail('verify-warns', content.text_content(
            ' '.join(warns)))
        self.delete_and_check_gone(server)


class SchedRtRuntimeTest(testtools.TestCase):
    """The sysctl <vcpusched> needs here, and that it is put back."""

    def test_set_and_restored_whatever_happens(self):
        if os.geteuid() != 0:
            self.skipTest('needs root to write %s' % base.RT_RUNTIME)
        self.useFixture(base.HostLock())
        before = _read(base.RT_RUNTIME)
        fixture = base.SchedRtRuntime(-1)
        try:
            with fixture:
                self.assertEqual('-1', _read(base.RT_RUNTIME))
                raise RuntimeError('the test failed')
        except RuntimeError:
            pass
        self.assertEqual(before, _read(base.RT_RUNTIME))


def _read(path):
    with open(path) as f:
        return f.read().strip()


class LockedMemoryRefusedTest(RealtimeTestBase):
    """Unstripped <locked/>: this host's libvirtd cannot lock memory."""

    STRIP_LOCKED = False
    MEMLOCK_CHECK = False

    def test_locked_memory_refused_with_a_clear_fault(self):
        server, seconds = self.boot(RT_MIXED, expected='ERROR')
        fault = server['fault']['message']
        self.addDetail('fault', content.text_content(fault))
        # Nothing was left behind by the failed spawn either.
        self._wait_for_assert(lambda: self.assertEqual(
            {}, self._get_allocations_by_server_uuid(server['id'])))
        self.assertEqual([], [d.name() for d in
                              self.libvirt_conn().listAllDomains()
                              if d.name().startswith(self.name_prefix)])
        # Unpatched Nova: libvirt refuses to start the guest, the compute
        # reschedules, and the fault only says "Exceeded maximum number
        # of retries" (the libvirt error is in the compute's log).
        self.series_feature(
            base.MEMLOCK_FAULT.search(fault),
            'a spawn preflight that refuses locked memory on a host whose '
            'libvirtd lacks CAP_SYS_RESOURCE with a fault naming it; the '
            'fault was: %r' % fault)
        self.assertEqual('ERROR', server['status'])
        self.assertNotIn('Exceeded maximum number of retries', fault)


class HardLimitTest(RealtimeTestBase):

    def test_locked_memory_has_a_hard_limit(self):
        server, _seconds = self.boot(RT_MIXED)
        name = server['OS-EXT-SRV-ATTR:instance_name']
        # As Nova generated it, before <locked/> was stripped.
        defined = [x for x in self.real.defined if name in x]
        self.assertTrue(defined)
        xml = etree.fromstring(defined[-1])
        self.assertIsNotNone(xml.find('./memoryBacking/locked'))
        hard_limit = xml.find('./memtune/hard_limit')
        self.series_feature(
            hard_limit is not None,
            '<memtune><hard_limit> in the XML of a guest with locked '
            'memory')
        memory_kib = int(xml.findtext('./memory'))
        self.assertGreater(_kib(hard_limit), memory_kib)
        # libvirt makes the hard limit QEMU's memlock limit, which this
        # host's libvirtd cannot raise: stripped with <locked/>, so the
        # running guest has neither.
        live = self.live_xml(name)
        self.assertIsNone(live.find('./memoryBacking/locked'))
        self.assertIsNone(live.find('./memtune/hard_limit'))
        self.delete_and_check_gone(server)


def _kib(element):
    units = {'b': 1 / 1024, 'bytes': 1 / 1024, 'k': 1, 'kib': 1,
             'm': 1024, 'mib': 1024, 'g': 1024 ** 2, 'gib': 1024 ** 2}
    return int(int(element.text) * units[element.get('unit', 'KiB').lower()])
