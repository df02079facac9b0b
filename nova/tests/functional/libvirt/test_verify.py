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


"""nova-realtime verify against real TCG guests on qemu:///system.

This host cannot grant <locked/> (see test_memory_locking): the guests
here boot the driver-built config minus <locked/>, so memory.locked is a
WARN (a real-time guest without locked memory or huge pages), never a FAIL.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

from nova.tests.functional.libvirt import base


def without_memory_locking(guest):
    """adjust_guest: base.drop_memory_locking, and the <memtune>
    hard_limit the driver sets with <locked/> (libvirt makes it QEMU's
    RLIMIT_MEMLOCK, which this host cannot raise either).
    """
    base.drop_memory_locking(guest)
    guest.memtune = None


class VerifyTest(base.RealQemuTestCase):
    def setUp(self):
        super().setUp()
        self.useFixture(base.SchedRtRuntime(-1))
        self.conf = self.write_command_config()

    def verify(self, *args):
        """(exit status, stdout, stderr) of the real command."""
        proc = subprocess.run(
            [sys.executable, '-m', 'nova.cmd.realtime', '--config-file',
             self.conf, 'verify', '--connection', base.URI] + list(args),
            capture_output=True, text=True, timeout=120)
        self.addDetail('verify %s' % ' '.join(args), base.content.text_content(
            'exit %d\n%s\n%s' % (proc.returncode, proc.stdout, proc.stderr)))
        return proc.returncode, proc.stdout, proc.stderr

    def verify_json(self, *args):
        """(exit status, {guest name: {check id: check}}, report)."""
        code, out, err = self.verify(*(args + ('--format', 'json')))
        report = json.loads(out)
        guests = {guest['name']: {c['id']: c for c in guest['checks']}
                  for guest in report['guests']}
        return code, guests, report

    def spawn_rt(self, suffix):
        """A real-time guest (vCPU 1 SCHED_FIFO 1, the driver's config
        minus <locked/>): (instance, realtime vCPU, its pCPU, its TID).
        """
        instance, _guest = self.spawn(
            suffix, adjust_guest=without_memory_locking, **base.RT)
        vcpu = min(instance.numa_topology.realtime_cpus)
        pcpu = instance.numa_topology.cpu_pinning[vcpu]
        threads = self.vcpu_threads(instance.name, instance.flavor.vcpus)
        tids = [t.tid for t in threads
                if base.VCPU_THREAD.match(t.name) and
                int(base.VCPU_THREAD.match(t.name).group(1)) == vcpu]
        self.assertEqual(1, len(tids), base.format_thread_table(threads))
        return instance, vcpu, pcpu, tids[0]

    def test_realtime_guest_verifies(self):
        instance, vcpu, pcpu, tid = self.spawn_rt('ok')
        code, guests, report = self.verify_json(instance.name)
        checks = guests[instance.name]
        self.assertEqual(0, code, checks)
        self.assertTrue(report['ok'])
        for check_id in ('guest.process', 'vcpu.policy', 'vcpu.affinity',
                         'emulator.affinity', 'kernel.sched_rt_runtime_us'):
            self.assertEqual('OK', checks[check_id]['status'],
                             checks[check_id])
        self.assertIn('vCPU %d SCHED_FIFO 1' % vcpu,
                      checks['vcpu.policy']['found'])
        self.assertIn("libvirt's status file",
                      checks['guest.process']['found'])
        self.assertEqual('WARN', checks['memory.locked']['status'])
        # The other checks read this host as it is: never FAIL here.
        self.assertNotIn('FAIL', [c['status'] for c in checks.values()])
        code, out, _err = self.verify(instance.name)
        self.assertEqual(0, code)
        self.assertIn('OK   %s:vcpu.policy' % instance.name, out)
        self.assertIn('VERIFIED: %s' % instance.name, out)

    def test_policy_changed_behind_libvirts_back(self):
        instance, vcpu, pcpu, tid = self.spawn_rt('chrt')
        subprocess.run(['chrt', '-o', '-p', '0', str(tid)], check=True)
        self.assertEqual(os.SCHED_OTHER, os.sched_getscheduler(tid))
        code, guests, report = self.verify_json(instance.name)
        check = guests[instance.name]['vcpu.policy']
        self.assertEqual(3, code)
        self.assertFalse(report['ok'])
        self.assertEqual('FAIL', check['status'])
        self.assertFalse(check['unknown'])
        self.assertIn('vCPU %d thread %d (CPU %d/TCG) runs SCHED_OTHER, '
                      '<vcpusched> wants SCHED_FIFO 1' % (vcpu, tid, vcpu),
                      check['found'])
        self.assertIn('chrt -f -p PRIORITY TID', check['fix'])

    def _busy_loop(self, pcpu):
        proc = subprocess.Popen(
            ['taskset', '-c', str(pcpu), 'sh', '-c', 'while :; do :; done'])

        def stop():
            proc.send_signal(signal.SIGKILL)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                # Starved by the FIFO vCPU on its only pCPU: stop the
                # guests, then it gets the CPU to die.
                self._undefine_ours()
                proc.wait(timeout=30)
        self.addCleanup(stop)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open('/proc/%d/comm' % proc.pid) as f:
                if f.read().strip() == 'sh':
                    return proc
            time.sleep(0.05)
        self.fail('taskset did not exec sh')

    def test_busy_process_on_realtime_pcpu_is_reported(self):
        instance, vcpu, pcpu, tid = self.spawn_rt('busy')
        busy = self._busy_loop(pcpu)
        code, guests, _report = self.verify_json(instance.name)
        check = guests[instance.name]['pcpu.intruders']
        self.assertEqual('WARN', check['status'], check)
        self.assertEqual(0, code)
        self.assertIn('pCPU %d (real-time priority 1)' % pcpu,
                      check['found'])
        # Pinned there: named first among the user processes.
        self.assertIn('may run there: process %d (sh, ' % busy.pid,
                      check['found'])
        self.assertIn('pinned to %d)' % pcpu, check['found'])
        # The same process at the vCPU's priority preempts it: a FAIL.
        subprocess.run(['chrt', '-f', '-p', '1', str(busy.pid)], check=True)
        code, guests, _report = self.verify_json(instance.name)
        check = guests[instance.name]['pcpu.intruders']
        self.assertEqual(3, code)
        self.assertEqual('FAIL', check['status'])
        self.assertIn('thread %d (sh) of process %d (sh) SCHED_FIFO 1' % (
            busy.pid, busy.pid), check['found'])

    def test_missing_guest(self):
        code, out, err = self.verify(self.name('nosuch'))
        self.assertEqual(2, code)
        self.assertEqual('', out)
        self.assertEqual(['ERROR: no such guest on %s: %s' % (
            base.URI, self.name('nosuch'))], err.splitlines())

    def test_upstream_nova_like_domain(self):
        """A domain defined by hand the way upstream Nova writes a
        real-time guest (its own metadata, none of ours): not running is
        one FAIL; running, it verifies, by name and with --all.
        """
        name = self.name('upstream')
        conn = self._conn()
        dom = conn.defineXML(textwrap.dedent('''\
            <domain type="qemu">
              <name>%s</name>
              <metadata>
                <nova:instance
                    xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
                  <nova:name>upstream</nova:name>
                </nova:instance>
              </metadata>
              <memory unit="KiB">98304</memory>
              <memoryBacking><nosharepages/></memoryBacking>
              <vcpu placement="static">2</vcpu>
              <cputune>
                <shares>2048</shares>
                <vcpupin vcpu="0" cpuset="0"/>
                <vcpupin vcpu="1" cpuset="1"/>
                <emulatorpin cpuset="0"/>
                <vcpusched vcpus="1" scheduler="fifo" priority="1"/>
              </cputune>
              <os><type arch="x86_64" machine="pc">hvm</type></os>
              <cpu><topology sockets="1" cores="2" threads="1"/></cpu>
              <devices>
                <emulator>/usr/bin/qemu-system-x86_64</emulator>
              </devices>
            </domain>''') % name)
        code, guests, _report = self.verify_json(name)
        self.assertEqual(3, code)
        self.assertEqual(['guest.running'], list(guests[name]))
        self.assertEqual('FAIL', guests[name]['guest.running']['status'])
        dom.create()
        code, guests, report = self.verify_json('--all')
        self.assertEqual(0, code, guests)
        self.assertIn(name, guests)
        checks = guests[name]
        for check_id in ('guest.process', 'vcpu.policy', 'vcpu.affinity',
                         'emulator.affinity'):
            self.assertEqual('OK', checks[check_id]['status'],
                             checks[check_id])
        self.assertIn('vCPU 0 SCHED_OTHER, vCPU 1 SCHED_FIFO 1',
                      checks['vcpu.policy']['found'])
        self.assertIn('off the real-time pCPUs 1',
                      checks['emulator.affinity']['found'])
