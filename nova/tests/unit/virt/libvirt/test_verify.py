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


"""nova-realtime verify against a fake /proc tree and domain XML strings."""

import json
import os
import subprocess
import sys

import libvirt

from nova import exception
from nova.tests.unit.virt.libvirt import test_host_checks
from nova.virt.libvirt import verify as vf

FIFO, RR, OTHER, BATCH = vf.SCHED_FIFO, vf.SCHED_RR, vf.SCHED_OTHER, \
    vf.SCHED_BATCH

NAME = 'rt-guest'
QEMU_PID = 1000
VCPU_TIDS = {0: 1003, 1: 1004}


def domain_xml(name=NAME, vcpu='<vcpu placement="static">2</vcpu>',
               cputune=None, backing='', memory='<memory unit="MiB">64'
                                                '</memory>', extra=''):
    if cputune is None:
        cputune = ('<vcpupin vcpu="0" cpuset="0"/>'
                   '<vcpupin vcpu="1" cpuset="1"/>'
                   '<emulatorpin cpuset="0"/>'
                   '<vcpusched vcpus="1" scheduler="fifo" priority="1"/>')
    return ('<domain type="qemu"><name>%s</name>'
            '<uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>%s%s%s'
            '<cputune>%s</cputune>%s</domain>' % (
                name, memory, vcpu, backing, cputune, extra))


def stat_line(tid, comm, state='S', flags=0x400000, priority=0, policy=0):
    """/proc/<pid>/stat: field 3 state, 9 flags, 40 rt_priority, 41
    policy (49 fields after the command name, as Linux 6.x writes).
    """
    fields = ['0'] * 50
    fields[0] = state
    fields[6] = str(flags)
    fields[37] = str(priority)
    fields[38] = str(policy)
    return '%d (%s) %s' % (tid, comm, ' '.join(fields))


class FakeProcTestCase(test_host_checks.FakeHostTestCase):
    """A fake host with one QEMU process for NAME, as libvirt starts it:
    vCPU 0 on pCPU 0 (SCHED_OTHER), vCPU 1 on pCPU 1 (SCHED_FIFO 1),
    three emulator threads on pCPU 0, and per-CPU kernel threads.
    """

    def setUp(self):
        super().setUp()
        self.sysctl('kernel.sched_rt_runtime_us', -1)
        self.qemu()
        self.kthread(18, 'migration/0', '0', priority=99, policy=FIFO)
        self.kthread(21, 'migration/1', '1', priority=99, policy=FIFO)
        self.kthread(30, 'ksoftirqd/1', '1')

    def task(self, pid, tid, comm, affinity='0-3', state='S', flags=0x400000,
             priority=0, policy=OTHER, extra_status=''):
        base = 'proc/%d/task/%d' % (pid, tid)
        self.write(base + '/comm', comm)
        self.write(base + '/stat', stat_line(tid, comm, state, flags,
                                             priority, policy))
        self.write(base + '/status', 'Name:\t%s\nCpus_allowed_list:\t%s%s' % (
            comm, affinity, extra_status))
        if pid == tid:
            self.write('proc/%d/comm' % pid, comm)
            self.write('proc/%d/status' % pid, 'Name:\t%s\n%s' % (
                comm, extra_status.strip()))

    def kthread(self, pid, comm, affinity, **kw):
        self.task(pid, pid, comm, affinity, flags=0x00208040, **kw)
        self.write('proc/%d/cmdline' % pid, '')

    def process(self, pid, comm, affinity='0-3', threads=1, **kw):
        self.write('proc/%d/cmdline' % pid, comm + '\0')
        for tid in range(pid, pid + threads):
            self.task(pid, tid, comm, affinity, **kw)

    def qemu(self, name=NAME, pid=QEMU_PID, vmlck_kib=0, status_file=True,
             pid_file=True, vcpu_policy=FIFO, vcpu_priority=1,
             vcpu_affinity=('0', '1'), emulator_affinity='0'):
        self.write('proc/%d/cmdline' % pid, '\0'.join([
            '/usr/bin/qemu-system-x86_64', '-name',
            'guest=%s,debug-threads=on' % name, '-S', '']))
        status = '\nVmLck:\t%8d kB' % vmlck_kib
        self.task(pid, pid, 'qemu-system-x86', emulator_affinity,
                  extra_status=status)
        self.task(pid, pid + 1, 'qemu-system-x86', emulator_affinity)
        self.task(pid, pid + 2, 'IO mon_iothread', emulator_affinity)
        self.task(pid, pid + 3, 'CPU 0/TCG', vcpu_affinity[0])
        self.task(pid, pid + 4, 'CPU 1/TCG', vcpu_affinity[1],
                  state='R', priority=vcpu_priority, policy=vcpu_policy)
        if pid_file:
            self.write('run/libvirt/qemu/%s.pid' % name, str(pid))
        if status_file:
            self.write('run/libvirt/qemu/%s.xml' % name, (
                "<domstatus state='running' pid='%d'><vcpus>"
                "<vcpu id='0' pid='%d'/><vcpu id='1' pid='%d'/></vcpus>"
                "</domstatus>") % (pid, pid + 3, pid + 4))

    def irq(self, number, affinity, action='virtio0-input'):
        self.write('proc/irq/%d/smp_affinity_list' % number, affinity)
        if action:
            os.makedirs(os.path.join(self.root, 'proc/irq/%d' % number,
                                     action), exist_ok=True)

    def results(self, xml=None):
        report = vf.verify_guest(self.facts, xml or domain_xml())
        return {result.id: result for result in report.results}

    def result(self, check_id, xml=None):
        return self.results(xml)[check_id]


class TestParseGuest(FakeProcTestCase):
    def test_parse(self):
        spec = vf.parse_guest(domain_xml(
            vcpu='<vcpu cpuset="2-3" current="3">4</vcpu>',
            cputune='<vcpupin vcpu="0" cpuset="0"/>'
                    '<iothreadpin iothread="1" cpuset="3"/>'
                    '<vcpusched vcpus="0-2,^1" scheduler="rr" '
                    'priority="5"/>',
            backing='<memoryBacking><locked/><hugepages/></memoryBacking>',
            memory='<memory unit="GiB">1</memory>'))
        self.assertEqual([0, 1, 2], spec.vcpus)
        self.assertEqual({0}, spec.allowed(0))
        self.assertEqual({2, 3}, spec.allowed(1))
        self.assertEqual({2, 3}, spec.emulator_allowed)
        self.assertEqual({1: {3}}, spec.iothreads)
        self.assertEqual({0: 5, 2: 5}, spec.realtime)
        self.assertEqual({0: 5, 2: 5, 3: 5}, spec.rt_pcpus)
        self.assertTrue(spec.locked and spec.hugepages)
        self.assertEqual(1024 * 1024, spec.memory_kib)
        self.assertEqual([], spec.problems)

    def test_vcpusched_without_vcpus_is_every_vcpu(self):
        spec = vf.parse_guest(domain_xml(
            cputune='<vcpusched scheduler="fifo" priority="2"/>'))
        self.assertEqual({0: 2, 1: 2}, spec.realtime)

    def test_wants_verify(self):
        self.assertFalse(vf.wants_verify(vf.parse_guest(
            domain_xml(cputune=''))))
        self.assertTrue(vf.wants_verify(vf.parse_guest(domain_xml(
            cputune='', vcpu='<vcpu cpuset="1">1</vcpu>'))))
        self.assertTrue(vf.wants_verify(vf.parse_guest(domain_xml(
            cputune='<vcpupin vcpu="0" cpuset="1"/>'))))

    def test_unreadable_parts_are_named(self):
        spec = vf.parse_guest(domain_xml(
            cputune='<vcpusched vcpus="0" scheduler="deadline"/>'))
        self.assertIn('deadline', spec.problems[0])
        self.assertIn('does not parse', vf.parse_guest('<domain')
                      .problems[0])
        result = self.result('guest.process', domain_xml(
            cputune='<vcpupin vcpu="0" cpuset="x"/>'))
        self.assertTrue(result.unknown)
        self.assertIn('could not be read completely', result.found)

    def test_parse_stat_with_parentheses_in_comm(self):
        line = stat_line(5, 'a) (b', state='R', flags=7, priority=3,
                         policy=FIFO)
        self.assertEqual(('R', 7, 3, FIFO), vf.parse_stat(line))
        self.assertIsNone(vf.parse_stat('5 (x) R 1 2'))


class TestGuestProcess(FakeProcTestCase):
    def test_found_through_pid_and_status_files(self):
        result = self.result('guest.process')
        self.assertEqual(vf.OK, result.status, result.found)
        self.assertIn('QEMU pid 1000 (/run/libvirt/qemu/%s.pid)' % NAME,
                      result.found)
        self.assertIn("libvirt's status file", result.found)

    def test_thread_names_when_status_file_is_missing(self):
        os.unlink(os.path.join(self.root, 'run/libvirt/qemu/%s.xml' % NAME))
        result = self.result('guest.process')
        self.assertEqual(vf.OK, result.status, result.found)
        self.assertIn('QEMU thread names', result.found)

    def test_stale_status_thread_ids_are_not_believed(self):
        self.write('run/libvirt/qemu/%s.xml' % NAME, (
            "<domstatus pid='%d'><vcpus><vcpu id='0' pid='77'/>"
            "<vcpu id='1' pid='78'/></vcpus></domstatus>") % QEMU_PID)
        process = vf.find_process(self.facts, NAME)
        self.assertEqual(VCPU_TIDS, process.vcpu_tids)

    def test_stale_pid_file_falls_back_to_command_line(self):
        self.process(555, 'bash')
        self.write('run/libvirt/qemu/%s.pid' % NAME, '555')
        os.unlink(os.path.join(self.root, 'run/libvirt/qemu/%s.xml' % NAME))
        process = vf.find_process(self.facts, NAME)
        self.assertEqual(QEMU_PID, process.pid)
        self.assertIn('-name guest=%s' % NAME, process.source)
        # A name that is only a prefix of another guest's does not match.
        self.assertIsNone(vf.find_process(self.facts, NAME[:-1]).pid)

    def test_no_process_is_unknown_never_ok(self):
        result = self.result('guest.process', domain_xml(name='other'))
        self.assertEqual(vf.FAIL, result.status)
        self.assertTrue(result.unknown)
        self.assertIn('no process in /proc runs -name guest=other',
                      result.found)
        results = self.results(domain_xml(name='other'))
        for check_id in ('vcpu.policy', 'vcpu.affinity',
                         'emulator.affinity'):
            self.assertEqual(vf.FAIL, results[check_id].status)
            self.assertTrue(results[check_id].unknown)
        # Nothing real-time promised: unknown is a WARN.
        result = self.result('guest.process', domain_xml(
            name='other', cputune='<vcpupin vcpu="0" cpuset="0"/>'))
        self.assertEqual((vf.WARN, True), (result.status, result.unknown))

    def test_missing_vcpu_thread_is_unknown(self):
        os.unlink(os.path.join(self.root, 'run/libvirt/qemu/%s.xml' % NAME))
        self.write('proc/%d/task/%d/comm' % (QEMU_PID, VCPU_TIDS[1]), 'x')
        results = self.results()
        self.assertEqual(vf.FAIL, results['guest.process'].status)
        self.assertIn('no thread found for vCPU 1',
                      results['guest.process'].found)
        self.assertEqual(vf.FAIL, results['vcpu.policy'].status)
        self.assertIn('vCPU 1: thread unknown', results['vcpu.policy'].found)
        self.assertTrue(results['vcpu.policy'].unknown)


class TestVcpuPolicy(FakeProcTestCase):
    def test_ok(self):
        result = self.result('vcpu.policy')
        self.assertEqual(vf.OK, result.status, result.found)
        self.assertIn('vCPU 0 SCHED_OTHER, vCPU 1 SCHED_FIFO 1', result.found)

    def test_policy_changed_behind_libvirts_back(self):
        self.qemu(vcpu_policy=OTHER, vcpu_priority=0)
        result = self.result('vcpu.policy')
        self.assertEqual(vf.FAIL, result.status)
        self.assertFalse(result.unknown)
        self.assertIn('vCPU 1 thread 1004 (CPU 1/TCG) runs SCHED_OTHER, '
                      '<vcpusched> wants SCHED_FIFO 1', result.found)
        self.assertIn('chrt -f -p PRIORITY TID', result.fix)

    def test_wrong_priority_or_policy(self):
        self.qemu(vcpu_priority=5)
        self.assertIn('runs SCHED_FIFO 5, <vcpusched> wants SCHED_FIFO 1',
                      self.result('vcpu.policy').found)
        self.qemu(vcpu_policy=RR, vcpu_priority=1)
        self.assertEqual(vf.FAIL, self.result('vcpu.policy').status)

    def test_non_realtime_vcpu_running_fifo_is_a_warning(self):
        self.task(QEMU_PID, VCPU_TIDS[0], 'CPU 0/TCG', '0', priority=1,
                  policy=FIFO)
        result = self.result('vcpu.policy')
        self.assertEqual(vf.WARN, result.status)
        self.assertIn('vCPU 0 thread 1003 (CPU 0/TCG) runs SCHED_FIFO 1 but '
                      'has no <vcpusched>', result.found)

    def test_batch_vcpusched(self):
        xml = domain_xml(cputune='<vcpupin vcpu="0" cpuset="0"/>'
                                 '<vcpupin vcpu="1" cpuset="1"/>'
                                 '<vcpusched vcpus="0" scheduler="batch"/>'
                                 '<vcpusched vcpus="1" scheduler="fifo" '
                                 'priority="1"/>')
        self.assertEqual(vf.WARN, self.result('vcpu.policy', xml).status)
        self.task(QEMU_PID, VCPU_TIDS[0], 'CPU 0/TCG', '0', policy=BATCH)
        self.assertEqual(vf.OK, self.result('vcpu.policy', xml).status)

    def test_unreadable_stat_is_unknown(self):
        os.unlink(os.path.join(self.root, 'proc/%d/task/%d/stat' % (
            QEMU_PID, VCPU_TIDS[1])))
        result = self.result('vcpu.policy')
        self.assertEqual((vf.FAIL, True), (result.status, result.unknown))
        self.assertIn('cannot read its stat', result.found)


class TestVcpuAffinity(FakeProcTestCase):
    def test_ok(self):
        result = self.result('vcpu.affinity')
        self.assertEqual(vf.OK, result.status, result.found)
        self.assertIn('vCPU 0 on 0, vCPU 1 on 1', result.found)

    def test_wider_than_pinned_fails(self):
        self.qemu(vcpu_affinity=('0', '0-1'))
        result = self.result('vcpu.affinity')
        self.assertEqual(vf.FAIL, result.status)
        self.assertIn('vCPU 1 thread 1004 (CPU 1/TCG) may run on 0-1, the '
                      'XML allows only 1', result.found)
        self.assertIn('virsh vcpupin', result.fix)

    def test_narrower_than_cpuset_warns(self):
        xml = domain_xml(vcpu='<vcpu cpuset="0-1">2</vcpu>',
                         cputune='<vcpupin vcpu="1" cpuset="1"/>'
                                 '<emulatorpin cpuset="0"/>')
        result = self.result('vcpu.affinity', xml)
        self.assertEqual(vf.WARN, result.status)
        self.assertIn("narrower than the XML's 0-1", result.found)

    def test_realtime_vcpu_needs_its_own_pcpu(self):
        unpinned = domain_xml(cputune='<vcpusched vcpus="1" '
                                      'scheduler="fifo" priority="1"/>')
        result = self.result('vcpu.affinity', unpinned)
        self.assertEqual(vf.FAIL, result.status)
        self.assertIn('neither <vcpupin> nor <vcpu cpuset>', result.found)
        floating = domain_xml(cputune='<vcpupin vcpu="0" cpuset="0"/>'
                                      '<vcpupin vcpu="1" cpuset="1-2"/>'
                                      '<vcpusched vcpus="1" '
                                      'scheduler="fifo" priority="1"/>')
        self.qemu(vcpu_affinity=('0', '1-2'))
        result = self.result('vcpu.affinity', floating)
        self.assertEqual(vf.WARN, result.status)
        self.assertIn('floats over pCPUs 1-2', result.found)

    def test_realtime_vcpus_sharing_a_pcpu_fail(self):
        xml = domain_xml(cputune='<vcpupin vcpu="0" cpuset="1"/>'
                                 '<vcpupin vcpu="1" cpuset="1"/>'
                                 '<vcpusched vcpus="0-1" scheduler="fifo" '
                                 'priority="1"/>')
        self.qemu(vcpu_affinity=('1', '1'))
        self.task(QEMU_PID, VCPU_TIDS[0], 'CPU 0/TCG', '1', priority=1,
                  policy=FIFO)
        result = self.result('vcpu.affinity', xml)
        self.assertEqual(vf.FAIL, result.status)
        self.assertIn('pCPU 1: vCPUs 0,1', result.found)

    def test_unreadable_status_is_unknown(self):
        self.write('proc/%d/task/%d/status' % (QEMU_PID, VCPU_TIDS[1]),
                   'Name:\tCPU 1/TCG')
        result = self.result('vcpu.affinity')
        self.assertEqual((vf.FAIL, True), (result.status, result.unknown))


class TestEmulatorAffinity(FakeProcTestCase):
    def test_ok(self):
        result = self.result('emulator.affinity')
        self.assertEqual(vf.OK, result.status, result.found)
        self.assertIn('3 emulator threads on 0, off the real-time pCPUs 1',
                      result.found)

    def test_emulator_thread_on_realtime_pcpu_fails(self):
        self.task(QEMU_PID, QEMU_PID + 2, 'IO mon_iothread', '0-1')
        result = self.result('emulator.affinity')
        self.assertEqual(vf.FAIL, result.status)
        self.assertIn('thread 1002 (IO mon_iothread) may run on 0-1',
                      result.found)
        # Even when <emulatorpin> itself names the real-time pCPU.
        self.qemu(emulator_affinity='0-1')
        xml = domain_xml(cputune='<vcpupin vcpu="0" cpuset="0"/>'
                                 '<vcpupin vcpu="1" cpuset="1"/>'
                                 '<emulatorpin cpuset="0-1"/>'
                                 '<vcpusched vcpus="1" scheduler="fifo" '
                                 'priority="1"/>')
        self.assertEqual(vf.FAIL, self.result('emulator.affinity',
                                              xml).status)

    def test_differs_from_emulatorpin_warns(self):
        self.task(QEMU_PID, QEMU_PID + 2, 'IO mon_iothread', '0,2')
        result = self.result('emulator.affinity')
        self.assertEqual(vf.WARN, result.status)
        self.assertIn('may run on 0,2, the XML says 0', result.found)

    def test_iothread_follows_iothreadpin(self):
        self.task(QEMU_PID, 1010, 'IO iothread1', '2')
        xml = domain_xml(cputune='<vcpupin vcpu="0" cpuset="0"/>'
                                 '<vcpupin vcpu="1" cpuset="1"/>'
                                 '<emulatorpin cpuset="0"/>'
                                 '<iothreadpin iothread="1" cpuset="2"/>'
                                 '<vcpusched vcpus="1" scheduler="fifo" '
                                 'priority="1"/>')
        self.assertEqual(vf.OK, self.result('emulator.affinity', xml).status)
        self.assertEqual(vf.WARN, self.result('emulator.affinity').status)

    def test_unreadable_is_unknown(self):
        self.write('proc/%d/task/%d/status' % (QEMU_PID, QEMU_PID + 1), '')
        result = self.result('emulator.affinity')
        self.assertEqual((vf.FAIL, True), (result.status, result.unknown))


LOCKED = '<memoryBacking><locked/></memoryBacking>'


class TestMemoryLocked(FakeProcTestCase):
    def test_locked(self):
        self.qemu(vmlck_kib=70000)
        result = self.result('memory.locked', domain_xml(backing=LOCKED))
        self.assertEqual(vf.OK, result.status, result.found)
        self.assertIn('VmLck 70000 KiB of 65536 KiB', result.found)

    def test_not_locked_fails(self):
        self.qemu(vmlck_kib=0)
        result = self.result('memory.locked', domain_xml(backing=LOCKED))
        self.assertEqual(vf.FAIL, result.status)
        self.assertFalse(result.unknown)
        self.assertIn('not locked', result.found)

    def test_unreadable_fails_unknown(self):
        self.write('proc/%d/status' % QEMU_PID, 'Name:\tqemu')
        result = self.result('memory.locked', domain_xml(backing=LOCKED))
        self.assertEqual((vf.FAIL, True), (result.status, result.unknown))

    def test_not_requested(self):
        self.assertEqual(vf.WARN, self.result('memory.locked').status)
        huge = '<memoryBacking><hugepages/></memoryBacking>'
        self.assertEqual(vf.OK, self.result('memory.locked', domain_xml(
            backing=huge)).status)
        self.assertEqual(vf.OK, self.result('memory.locked', domain_xml(
            cputune='<vcpupin vcpu="0" cpuset="0"/>')).status)


class TestPcpuIntruders(FakeProcTestCase):
    def test_only_per_cpu_kernel_threads_and_own_threads(self):
        self.process(200, 'sshd', affinity='0')
        result = self.result('pcpu.intruders')
        self.assertEqual(vf.OK, result.status, result.found)
        self.assertIn('nothing else may run on real-time pCPUs 1',
                      result.found)

    def test_busy_process_pinned_there_is_named_first(self):
        for pid in range(300, 330):
            self.process(pid, 'idle%d' % pid)
        self.process(1234, 'stress', affinity='1', state='R')
        result = self.result('pcpu.intruders')
        self.assertEqual(vf.WARN, result.status)
        self.assertIn('pCPU 1 (real-time priority 1): 31 user processes',
                      result.found)
        self.assertIn('may run there: process 1234 (stress, running, '
                      'pinned to 1), ', result.found)
        self.assertIn(' and 21 more', result.found)
        self.assertIn('isolcpus=', result.fix)

    def test_realtime_task_at_or_above_vcpu_priority_fails(self):
        self.process(400, 'rtapp', threads=2)
        self.task(400, 401, 'rtapp', '1', priority=1, policy=FIFO)
        result = self.result('pcpu.intruders')
        self.assertEqual(vf.FAIL, result.status)
        self.assertIn('thread 401 (rtapp) of process 400 (rtapp, 2 threads) '
                      'SCHED_FIFO 1', result.found)
        self.assertIn('chrt -o -p 0 TID', result.fix)
        # Below the vCPU's priority it cannot preempt it: a WARN.
        xml = domain_xml(cputune='<vcpupin vcpu="0" cpuset="0"/>'
                                 '<vcpupin vcpu="1" cpuset="1"/>'
                                 '<emulatorpin cpuset="0"/>'
                                 '<vcpusched vcpus="1" scheduler="fifo" '
                                 'priority="2"/>')
        self.qemu(vcpu_priority=2)
        self.assertEqual(vf.WARN, self.result('pcpu.intruders', xml).status)

    def test_verify_itself_is_not_counted(self):
        """The process reading /proc (/proc/self) runs on every CPU while
        it verifies: it is not what the operator must fix.
        """
        self.process(700, 'nova-realtime', threads=2)
        self.assertIn('process 700 (nova-realtime',
                      self.result('pcpu.intruders').found)
        os.symlink('700', os.path.join(self.root, 'proc', 'self'))
        self.assertEqual(700, vf.reading_pid(vf.host_facts.HostFacts(
            self.root)))
        result = self.result('pcpu.intruders')
        self.assertEqual(vf.OK, result.status, result.found)

    def test_reading_pid_of_the_real_proc(self):
        self.assertEqual(os.getpid(),
                         vf.reading_pid(vf.host_facts.HostFacts('/')))
        tasks, _unlisted = vf.all_tasks(vf.host_facts.HostFacts('/'))
        self.assertNotIn(os.getpid(), {t.pid for t in tasks})
        self.assertIn(1, {t.pid for t in tasks})

    def test_unbound_kernel_thread_warns(self):
        self.kthread(40, 'kworker/u4:1', '0-1')
        self.kthread(41, 'rcuc/0', '0')
        result = self.result('pcpu.intruders')
        self.assertEqual(vf.WARN, result.status)
        self.assertIn('1 unbound kernel threads', result.found)
        self.assertIn('kernel thread 40 (kworker/u4:1)', result.found)
        self.assertNotIn('rcuc', result.found)
        self.assertNotIn('ksoftirqd', result.found)

    def test_another_guest_pinned_there(self):
        self.qemu(name='other', pid=2000, vcpu_affinity=('1', '1'))
        result = self.result('pcpu.intruders')
        self.assertEqual(vf.FAIL, result.status)
        self.assertIn('1 user processes (1 threads at or above', result.found)
        self.assertIn('thread 2004 (CPU 1/TCG) of process 2000 '
                      '(qemu-system-x86, 5 threads) SCHED_FIFO 1',
                      result.found)

    def test_unreadable(self):
        self.write('proc/500/task/500/comm', 'hidden')
        result = self.result('pcpu.intruders')
        self.assertEqual((vf.WARN, True), (result.status, result.unknown))
        self.assertIn('cannot read 1 threads (thread 500 (hidden))',
                      result.found)

    def test_no_process_list(self):
        spec = vf.parse_guest(domain_xml())
        result = vf.check_pcpu_intruders(
            vf.host_facts.HostFacts(os.path.join(self.root, 'nothing')),
            spec, vf.GuestProcess(QEMU_PID))
        self.assertEqual((vf.WARN, True), (result.status, result.unknown))

    def test_not_realtime(self):
        result = self.result('pcpu.intruders', domain_xml(
            cputune='<vcpupin vcpu="0" cpuset="0"/>'))
        self.assertEqual(vf.OK, result.status)
        self.assertIn('no real-time vCPU', result.found)


class TestPcpuIrqs(FakeProcTestCase):
    def test_irqs(self):
        self.irq(24, '0')
        self.irq(25, '0-1', action='ACPI:Ged')
        self.irq(26, '0-1', action=None)  # no handler
        result = self.result('pcpu.irqs')
        self.assertEqual(vf.WARN, result.status)
        self.assertIn('pCPU 1: IRQs 25 (ACPI:Ged)', result.found)
        self.assertNotIn('24', result.found)
        self.assertNotIn('26', result.found)
        self.assertIn('smp_affinity_list', result.fix)

    def test_no_irq_there(self):
        self.irq(24, '0')
        self.irq(26, '1', action=None)
        result = self.result('pcpu.irqs')
        self.assertEqual(vf.OK, result.status, result.found)

    def test_bounded(self):
        for irq in range(30, 45):
            self.irq(irq, '1')
        self.assertIn('and 5 more', self.result('pcpu.irqs').found)

    def test_unknown(self):
        result = self.result('pcpu.irqs')
        self.assertEqual((vf.WARN, True), (result.status, result.unknown))
        self.irq(24, '0')
        os.makedirs(os.path.join(self.root, 'proc/irq/27/eth0'))
        result = self.result('pcpu.irqs')
        self.assertEqual((vf.WARN, True), (result.status, result.unknown))
        self.assertIn('cannot read the affinity of IRQs 27', result.found)


class TestRtRuntime(FakeProcTestCase):
    def test_values(self):
        self.assertEqual(vf.OK, self.result(
            'kernel.sched_rt_runtime_us').status)
        self.sysctl('kernel.sched_rt_runtime_us', 950000)
        result = self.result('kernel.sched_rt_runtime_us')
        self.assertEqual(vf.WARN, result.status)
        self.assertIn('stopped for 50 ms every 1000 ms', result.found)
        self.assertIn('kernel.sched_rt_runtime_us=-1', result.fix)
        os.unlink(os.path.join(self.root,
                               'proc/sys/kernel/sched_rt_runtime_us'))
        result = self.result('kernel.sched_rt_runtime_us')
        self.assertEqual((vf.WARN, True), (result.status, result.unknown))


class FakeDomain(object):
    def __init__(self, name, xml, active=True):
        self._name, self._xml, self._active = name, xml, active

    def name(self):
        return self._name

    def isActive(self):
        return self._active

    def UUIDString(self):
        return 'uuid-' + self._name

    def XMLDesc(self, flags):
        return self._xml


class FakeHost(object):
    def __init__(self, *domains):
        self.domains = {dom.name(): dom for dom in domains}

    def list_domains(self):
        return list(self.domains.values())

    def lookup(self, name):
        if name not in self.domains:
            raise exception.InstanceNotFound(name=name)
        return self.domains[name]


class TestVerifyAndFormat(FakeProcTestCase):
    def setUp(self):
        super().setUp()
        self.host = FakeHost(
            FakeDomain(NAME, domain_xml()),
            FakeDomain('plain', domain_xml(name='plain', cputune='')),
            FakeDomain('off', domain_xml(name='off'), active=False))

    def test_all_running_pinned_guests(self):
        reports = vf.verify(self.host, self.facts, all_guests=True)
        self.assertEqual([NAME], [r.name for r in reports])
        self.assertEqual(list(vf.CHECK_IDS),
                         [r.id for r in reports[0].results])
        self.assertTrue(vf.all_ok(reports))
        self.assertEqual('No running guest with <vcpusched> or pinning.\n',
                         vf.format_text(vf.verify(FakeHost(), self.facts,
                                                  all_guests=True)))

    def test_not_running_and_missing(self):
        reports = vf.verify(self.host, self.facts, names=['off'])
        self.assertEqual(['guest.running'],
                         [r.id for r in reports[0].results])
        self.assertEqual(vf.FAIL, reports[0].results[0].status)
        self.assertFalse(vf.all_ok(reports))
        self.assertRaises(exception.InstanceNotFound, vf.verify, self.host,
                          self.facts, names=[NAME, 'nosuch'])

    def test_text_and_json(self):
        self.qemu(vcpu_policy=OTHER, vcpu_priority=0)
        reports = vf.verify(self.host, self.facts, names=[NAME, 'off'])
        text = vf.format_text(reports)
        self.assertIn('FAIL %s:vcpu.policy vCPU 1 thread 1004' % NAME, text)
        self.assertIn('| fix: ', text)
        self.assertTrue(text.endswith(
            'NOT REAL-TIME: %s, off (5 OK, 2 WARN, 2 FAIL)\n' % NAME), text)
        report = json.loads(vf.format_json(reports))
        self.assertFalse(report['ok'])
        guest = report['guests'][0]
        self.assertEqual((NAME, QEMU_PID, True, False),
                         (guest['name'], guest['pid'], guest['running'],
                          guest['ok']))
        self.assertEqual({'id', 'status', 'found', 'fix', 'unknown'},
                         set(guest['checks'][0]))
        self.assertEqual(['guest.running'],
                         [c['id'] for c in report['guests'][1]['checks']])


class TestCommand(FakeProcTestCase):
    """The real command on libvirt's test driver (its ``test`` domain is
    running and has no QEMU process below --root).
    """

    def _run(self, *args):
        conf = os.path.join(self.root, 'nova.conf')
        with open(conf, 'w') as f:
            f.write('[libvirt]\nvirt_type = qemu\n')
        return subprocess.run(
            [sys.executable, '-m', 'nova.cmd.realtime', '--config-file',
             conf, 'verify', '--root', self.root, '--connection',
             'test:///default'] + list(args),
            capture_output=True, text=True, timeout=60)

    def test_exit_status(self):
        proc = self._run('nosuch')
        self.assertEqual(2, proc.returncode)
        self.assertEqual('', proc.stdout)
        self.assertEqual(['ERROR: no such guest on test:///default: nosuch'],
                         proc.stderr.splitlines())
        proc = self._run()
        self.assertEqual(2, proc.returncode)
        self.assertEqual(1, len(proc.stderr.splitlines()), proc.stderr)
        self.assertEqual(2, self._run('test', '--all').returncode)
        proc = self._run('--all', '--format', 'json')
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertEqual({'ok': True, 'guests': []}, json.loads(proc.stdout))
        # Nothing promised, but its process is unknown: WARN, never OK.
        proc = self._run('test')
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertIn('WARN test:guest.process QEMU process unknown',
                      proc.stdout)

    def test_unreachable_libvirt(self):
        proc = subprocess.run(
            [sys.executable, '-m', 'nova.cmd.realtime', 'verify', 'x',
             '--connection', 'qemu+unix:///system?socket=/nonexistent/s'],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(1, proc.returncode)
        self.assertTrue(proc.stderr.startswith('ERROR: '), proc.stderr)


class TestLibvirtErrors(FakeProcTestCase):
    def test_domain_gone_while_listing_is_skipped(self):
        class Gone(FakeDomain):
            def isActive(self):
                error = libvirt.libvirtError('gone')
                error.err = (libvirt.VIR_ERR_NO_DOMAIN,) + (None,) * 8
                raise error

        host = FakeHost(Gone('gone', ''), FakeDomain(NAME, domain_xml()))
        self.assertEqual([NAME], [r.name for r in vf.verify(
            host, self.facts, all_guests=True)])
