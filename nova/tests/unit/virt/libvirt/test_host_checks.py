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

"""host_checks against fake /proc and /sys trees (fixtures.TempDir)."""

import json
import os
import subprocess
import sys

import fixtures
import libvirt

from nova import exception
from nova import test
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import host as host_mod
from nova.virt.libvirt import host_checks as hc
from nova.virt.libvirt import host_facts
from nova.virt.libvirt import usage as usage_mod

CAP_ALL = '000001ffffffffff'
CAP_NO_SYS_RESOURCE = '000001fffeffffff'


def limits_text(soft, hard):
    return ('Limit                     Soft Limit           Hard Limit'
            '           Units     \n'
            'Max locked memory         %-20s %-20s bytes     \n' % (
                    soft, hard))


class FakeHostTestCase(test.TestCase):
    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.facts = host_facts.HostFacts(self.root)
        self.write('sys/devices/system/cpu/online', '0-3')

    def write(self, path, text):
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'w') as f:
            f.write(text + '\n')

    def sysctl(self, name, value):
        self.write('proc/sys/' + name.replace('.', '/'), str(value))

    def cgroup_v2(self):
        self.write('sys/fs/cgroup/cgroup.controllers', 'cpuset cpu memory')

    def cpu_dirs(self, *cpus):
        for cpu in cpus:
            os.makedirs(os.path.join(self.root, 'sys/devices/system/cpu',
                                     'cpu%d' % cpu), exist_ok=True)

    def rt_group_sched(self, machine=None):
        self.write('sys/fs/cgroup/cpu/cpu.rt_runtime_us', '950000')
        if machine is not None:
            self.write('sys/fs/cgroup/cpu/machine/cpu.rt_runtime_us',
                       str(machine))

    def daemon(self, pid=4242, comm='libvirtd', cap_eff=CAP_NO_SYS_RESOURCE,
               cap_bnd=CAP_NO_SYS_RESOURCE, soft='8388608', hard='8388608'):
        self.write('proc/%d/comm' % pid, comm)
        self.write('proc/%d/status' % pid,
                   'Name:\t%s\nCapEff:\t%s\nCapBnd:\t%s' % (
                       comm, cap_eff, cap_bnd))
        self.write('proc/%d/limits' % pid, limits_text(soft, hard))


class TestKernelChecks(FakeHostTestCase):
    def test_preempt_rt(self):
        self.sysctl('kernel.osrelease', '6.1.0-rt-amd64')
        self.sysctl('kernel.version', '#1 SMP PREEMPT_DYNAMIC')
        self.assertEqual(hc.WARN, hc.check_preempt_rt(self.facts).status)
        self.write('sys/kernel/realtime', '1')
        self.assertEqual(hc.OK, hc.check_preempt_rt(self.facts).status)

    def test_preempt_rt_from_version(self):
        self.sysctl('kernel.version', '#1 SMP PREEMPT_RT Debian 6.1.90')
        self.assertEqual(hc.OK, hc.check_preempt_rt(self.facts).status)

    def test_sched_rt_runtime(self):
        self.sysctl('kernel.sched_rt_runtime_us', -1)
        self.assertEqual(hc.OK, hc.check_sched_rt_runtime(self.facts).status)
        self.sysctl('kernel.sched_rt_runtime_us', 950000)
        self.cgroup_v2()
        result = hc.check_sched_rt_runtime(self.facts)
        self.assertEqual(hc.WARN, result.status)  # throttling only
        self.rt_group_sched(machine=0)
        result = hc.check_sched_rt_runtime(self.facts)
        self.assertEqual(hc.FAIL, result.status)
        self.assertIn('950000', result.found)
        self.assertIn('kernel.sched_rt_runtime_us=-1', result.fix)

    def test_sched_rt_runtime_unreadable(self):
        result = hc.check_sched_rt_runtime(self.facts)
        self.assertEqual(hc.FAIL, result.status)
        self.assertTrue(result.unknown)
        self.assertIn('cannot read /proc/sys/kernel/sched_rt_runtime_us',
                      result.found)
        self.sysctl('kernel.sched_rt_runtime_us', 'garbage')
        self.assertEqual(hc.FAIL, hc.check_sched_rt_runtime(self.facts).status)

    def test_rt_group_sched(self):
        self.sysctl('kernel.sched_rt_runtime_us', 950000)
        self.cgroup_v2()
        self.assertEqual(hc.OK, hc.check_rt_group_sched(self.facts).status)
        self.rt_group_sched(machine=0)
        result = hc.check_rt_group_sched(self.facts)
        self.assertEqual(hc.FAIL, result.status)
        self.assertIn('/machine cpu.rt_runtime_us=0', result.found)
        self.sysctl('kernel.sched_rt_runtime_us', -1)
        self.assertEqual(hc.OK, hc.check_rt_group_sched(self.facts).status)

    def test_timer_migration(self):
        self.sysctl('kernel.osrelease', '6.1.0')
        # /proc/sys/kernel is readable: no such sysctl in this kernel.
        self.assertEqual(hc.OK, hc.check_timer_migration(self.facts).status)
        self.sysctl('kernel.timer_migration', 1)
        self.assertEqual(hc.WARN,
                         hc.check_timer_migration(self.facts).status)
        self.sysctl('kernel.timer_migration', 0)
        self.assertEqual(hc.OK, hc.check_timer_migration(self.facts).status)


class TestIsolationChecks(FakeHostTestCase):
    def test_dedicated_set(self):
        self.assertEqual(hc.WARN,
                         hc.check_dedicated_set(self.facts, None).status)
        result = hc.check_dedicated_set(self.facts, {2, 3, 4})
        self.assertEqual(hc.WARN, result.status)
        self.assertIn('offline pCPUs 4', result.found)
        self.assertEqual(hc.OK,
                         hc.check_dedicated_set(self.facts, {2, 3}).status)

    def test_isolcpus_with_flags(self):
        self.write('proc/cmdline', 'ro isolcpus=domain,managed_irq,2-3 quiet')
        self.assertEqual(hc.OK, hc.check_isolcpus(self.facts, {2, 3}).status)
        result = hc.check_isolcpus(self.facts, {1, 2, 3})
        self.assertEqual(hc.WARN, result.status)
        self.assertIn('leaves dedicated pCPUs 1 out', result.found)

    def test_isolation_params_missing_or_unknown_set(self):
        self.write('proc/cmdline', 'ro quiet')
        for check in (hc.check_isolcpus, hc.check_nohz_full,
                      hc.check_rcu_nocbs):
            self.assertEqual(hc.WARN, check(self.facts, {2, 3}).status)
            self.assertEqual(hc.WARN, check(self.facts, None).status)

    def test_nohz_full_and_rcu_nocbs(self):
        self.write('proc/cmdline',
                   'nohz_full=2-3 rcu_nocbs -- init-arg nohz_full=0')
        self.assertEqual(hc.OK, hc.check_nohz_full(self.facts, {2, 3}).status)
        # bare rcu_nocbs: every CPU
        self.assertEqual(hc.OK, hc.check_rcu_nocbs(self.facts, {2, 3}).status)

    def test_irqbalance(self):
        self.write('proc/1/comm', 'systemd')
        self.assertEqual(hc.OK, hc.check_irqbalance(self.facts).status)
        self.write('proc/77/comm', 'irqbalance')
        result = hc.check_irqbalance(self.facts)
        self.assertEqual(hc.WARN, result.status)
        self.assertIn('pid 77', result.found)

    def test_irq_affinity(self):
        self.write('proc/irq/24/smp_affinity_list', '0-1')
        self.write('proc/irq/default_smp_affinity', '3')
        self.assertEqual(hc.OK,
                         hc.check_irq_affinity(self.facts, {2, 3}).status)
        self.write('proc/irq/25/smp_affinity_list', '0-3')
        result = hc.check_irq_affinity(self.facts, {2, 3})
        self.assertEqual(hc.WARN, result.status)
        self.assertIn('IRQs 25', result.found)
        self.write('proc/irq/default_smp_affinity', 'f')
        self.assertIn('new IRQs default to 0-3',
                      hc.check_irq_affinity(self.facts, {2, 3}).found)
        self.assertEqual(hc.WARN,
                         hc.check_irq_affinity(self.facts, None).status)

    def test_smt(self):
        for cpu, siblings in ((0, '0'), (1, '1'), (2, '2-3'), (3, '2-3')):
            self.write('sys/devices/system/cpu/cpu%d/topology/'
                       'thread_siblings_list' % cpu, siblings)
        self.assertEqual(hc.OK, hc.check_smt(self.facts, {0, 1}).status)
        result = hc.check_smt(self.facts, {1, 2})
        self.assertEqual(hc.WARN, result.status)
        self.assertIn('2~3', result.found)
        # An offline sibling is no sibling.
        self.write('sys/devices/system/cpu/online', '0-2')
        self.assertEqual(hc.OK, hc.check_smt(self.facts, {1, 2}).status)


class TestMemoryChecks(FakeHostTestCase):
    def test_memlock_no_daemon(self):
        self.write('proc/1/comm', 'systemd')
        result = hc.check_memlock(self.facts)
        self.assertEqual(hc.FAIL, result.status)
        self.assertTrue(result.unknown)
        self.assertIn('no local libvirt daemon', result.found)
        self.assertIn('systemctl start libvirtd', result.fix)

    def test_memlock_without_capability(self):
        self.daemon()
        result = hc.check_memlock(self.facts)
        self.assertEqual(hc.FAIL, result.status)
        self.assertIn('not even in its bounding set', result.found)
        self.assertIn('8192 KiB', result.found)
        self.assertEqual(hc.MEMLOCK_FIX, result.fix)

    def test_memlock_capability_bounding_only(self):
        self.daemon(cap_bnd=CAP_ALL)
        result = hc.check_memlock(self.facts)
        self.assertEqual(hc.FAIL, result.status)
        self.assertIn('bounding set but not effective', result.found)

    def test_memlock_with_capability(self):
        self.daemon(comm='virtqemud', cap_eff=CAP_ALL, cap_bnd=CAP_ALL)
        result = hc.check_memlock(self.facts)
        self.assertEqual(hc.OK, result.status)
        self.assertIn('virtqemud', result.found)

    def test_memlock_unlimited_hard_limit(self):
        self.daemon(soft='unlimited', hard='unlimited')
        self.assertEqual(hc.OK, hc.check_memlock(self.facts).status)

    def test_hugepages(self):
        base = 'sys/devices/system/node/node%d/hugepages/hugepages-%dkB/%s'
        for node in (0, 1):
            for size in (2048, 1048576):
                self.write(base % (node, size, 'nr_hugepages'), '0')
                self.write(base % (node, size, 'free_hugepages'), '0')
        self.assertEqual(hc.WARN, hc.check_hugepages(self.facts).status)
        self.write(base % (1, 1048576, 'nr_hugepages'), '4')
        self.write(base % (1, 1048576, 'free_hugepages'), '3')
        result = hc.check_hugepages(self.facts)
        self.assertEqual(hc.OK, result.status)
        self.assertIn('node 1: 4 x 1048576 KiB (3 free)', result.found)
        self.assertIn('node 0: none', result.found)

    def test_thp(self):
        os.makedirs(os.path.join(self.root, 'sys/kernel/mm'))
        # /sys/kernel/mm is readable: THP is not built in.
        self.assertEqual(hc.OK, hc.check_thp(self.facts).status)
        path = 'sys/kernel/mm/transparent_hugepage/enabled'
        self.write(path, '[always] madvise never')
        self.assertEqual(hc.WARN, hc.check_thp(self.facts).status)
        self.write(path, 'always madvise [never]')
        self.assertEqual(hc.OK, hc.check_thp(self.facts).status)

    def test_ksm(self):
        os.makedirs(os.path.join(self.root, 'sys/kernel/mm'))
        # /sys/kernel/mm is readable: KSM is not built in.
        self.assertEqual(hc.OK, hc.check_ksm(self.facts).status)
        self.write('sys/kernel/mm/ksm/run', '1')
        self.assertEqual(hc.WARN, hc.check_ksm(self.facts).status)
        self.write('sys/kernel/mm/ksm/run', '0')
        self.assertEqual(hc.OK, hc.check_ksm(self.facts).status)


class TestPowerChecks(FakeHostTestCase):
    def test_cpufreq(self):
        self.cpu_dirs(2, 3)
        # The CPUs' directories are readable: no cpufreq driver.
        self.assertEqual(hc.OK, hc.check_cpufreq(self.facts, {2, 3}).status)
        for cpu in (2, 3):
            self.write('sys/devices/system/cpu/cpu%d/cpufreq/'
                       'scaling_governor' % cpu, 'performance')
        self.assertEqual(hc.OK, hc.check_cpufreq(self.facts, {2, 3}).status)
        self.write('sys/devices/system/cpu/cpu3/cpufreq/scaling_governor',
                   'powersave')
        result = hc.check_cpufreq(self.facts, {2, 3})
        self.assertEqual(hc.WARN, result.status)
        self.assertIn('powersave on 3', result.found)

    def _state(self, cpu, index, name, latency, disable='0'):
        base = 'sys/devices/system/cpu/cpu%d/cpuidle/state%d/' % (cpu, index)
        self.write(base + 'name', name)
        self.write(base + 'latency', str(latency))
        self.write(base + 'disable', disable)

    def test_cstates(self):
        self.cpu_dirs(2)
        # The CPU's directory is readable: no cpuidle driver.
        self.assertEqual(hc.OK, hc.check_cstates(self.facts, {2}).status)
        self._state(2, 0, 'POLL', 0)
        self._state(2, 1, 'C1', 2)
        self.assertEqual(hc.OK, hc.check_cstates(self.facts, {2}).status)
        self._state(2, 2, 'C6', 133)
        result = hc.check_cstates(self.facts, {2})
        self.assertEqual(hc.WARN, result.status)
        self.assertIn('C6 (133 us) on 2', result.found)
        self._state(2, 2, 'C6', 133, disable='1')
        self.assertEqual(hc.OK, hc.check_cstates(self.facts, {2}).status)


def compute_host(case):
    """A Host on this machine's qemu:///system (a compute host's libvirt,
    as check-host expects); skips the test when libvirtd is not running.
    """
    host = host_mod.Host('qemu:///system')
    try:
        host.get_version()
    except exception.HypervisorUnavailable as e:
        case.skipTest('libvirtd is not running (%s); tools/run-tests.sh '
                      'starts it' % e)
    case.addCleanup(host.close)
    return host


class TestLibvirtChecks(test.TestCase):
    def test_test_driver(self):
        host = host_mod.Host('test:///default')
        self.addCleanup(host.close)
        results = {r.id: r for r in hc.check_libvirt(host, 'kvm')}
        # Reached, but it is not a compute host's libvirt.
        self.assertEqual(hc.FAIL, results['libvirt.connection'].status)
        self.assertFalse(results['libvirt.connection'].unknown)
        self.assertIn('not a compute host',
                      results['libvirt.connection'].found)
        self.assertFalse(hc.libvirt_unreachable(list(results.values())))
        self.assertEqual(hc.OK, results['libvirt.version'].status)
        self.assertEqual(hc.WARN, results['libvirt.virt_type'].status)

    def test_unreachable(self):
        host = host_mod.Host('qemu+unix:///system?socket=/nonexistent/sock')
        results = hc.check_libvirt(host, 'kvm')
        self.assertEqual([hc.FAIL] * 3, [r.status for r in results])
        self.assertIn('/nonexistent/sock', results[0].found)

    def test_virt_type_rules(self):
        self.assertEqual(hc.OK, hc._virt_type_result(
            'kvm', False, ['qemu', 'kvm']).status)
        self.assertEqual(hc.WARN, hc._virt_type_result(
            'qemu', False, ['qemu', 'kvm']).status)
        result = hc._virt_type_result('kvm', False, ['qemu'])
        self.assertEqual(hc.FAIL, result.status)
        self.assertIn('only qemu', result.found)

    def test_version_text(self):
        self.assertEqual('9.0.0', hc._version_text(9000000))
        self.assertEqual('1.2.13', hc._version_text(1002013))


class TestRunAndFormat(FakeHostTestCase):
    def test_ready_host(self):
        self.sysctl('kernel.sched_rt_runtime_us', -1)
        self.rt_group_sched(machine=0)
        self.daemon(cap_eff=CAP_ALL)
        host = compute_host(self)
        results = hc.run_checks(self.facts, {0, 1}, host, 'qemu')
        ids = [r.id for r in results]
        self.assertEqual(len(ids), len(set(ids)))
        # The fixed list advertise judges gating ids against is exactly
        # what a pass with libvirt answering runs, in order.
        self.assertEqual(list(hc.CHECK_IDS), ids)
        self.assertTrue(hc.host_is_ready(results))
        text = hc.format_text(results)
        self.assertEqual(len(results) + 1, len(text.splitlines()))
        self.assertIn('READY for real-time guests', text)
        report = json.loads(hc.format_json(results))
        self.assertTrue(report['ready'])
        self.assertEqual(ids, [c['id'] for c in report['checks']])

    def test_not_ready_host(self):
        self.sysctl('kernel.sched_rt_runtime_us', 950000)
        self.rt_group_sched(machine=0)
        self.daemon()
        host = host_mod.Host('test:///default')
        self.addCleanup(host.close)
        results = hc.run_checks(self.facts, {2, 3}, host, 'kvm')
        self.assertEqual(list(hc.CHECK_IDS), [r.id for r in results])
        self.assertFalse(hc.host_is_ready(results))
        failed = {r.id for r in results if r.status == hc.FAIL}
        self.assertEqual({'kernel.sched_rt_runtime_us',
                          'kernel.rt_group_sched', 'memory.locking',
                          'libvirt.connection'}, failed)
        text = hc.format_text(results)
        self.assertIn('NOT READY', text)
        self.assertIn('| fix: set kernel.sched_rt_runtime_us=-1', text)


def realtime_guest(locked=True, scheduler='fifo'):
    guest = vconfig.LibvirtConfigGuest()
    guest.cputune = vconfig.LibvirtConfigGuestCPUTune()
    guest.cputune.vcpusched.append(vconfig.LibvirtConfigGuestCPUTuneVCPUSched(
        vcpus={1}, scheduler=scheduler, priority=1))
    guest.membacking = vconfig.LibvirtConfigGuestMemoryBacking()
    guest.membacking.locked = locked
    return guest


class TestPreflight(FakeHostTestCase):
    def test_ready_host_passes(self):
        self.sysctl('kernel.sched_rt_runtime_us', -1)
        self.rt_group_sched(machine=0)
        self.daemon(soft='unlimited', hard='unlimited')
        hc.preflight(realtime_guest(), self.facts)

    def test_no_budget(self):
        self.sysctl('kernel.sched_rt_runtime_us', 950000)
        self.rt_group_sched(machine=0)
        self.daemon(cap_eff=CAP_ALL)
        error = self.assertRaises(exception.RealtimeBudgetUnavailable,
                                  hc.preflight, realtime_guest(), self.facts)
        self.assertIn('kernel.sched_rt_runtime_us=-1', str(error))
        self.assertEqual(hc.RT_BUDGET_FIX, error.kwargs['fix'])

    def test_no_memlock(self):
        self.sysctl('kernel.sched_rt_runtime_us', -1)
        self.daemon()
        error = self.assertRaises(exception.MemoryLockingUnavailable,
                                  hc.preflight, realtime_guest(), self.facts)
        self.assertIn('CAP_SYS_RESOURCE', str(error))
        self.assertIn('preflight memory.locking', str(error))
        # Without <locked/> there is nothing to refuse.
        hc.preflight(realtime_guest(locked=False), self.facts)

    def test_both_named_budget_first(self):
        self.sysctl('kernel.sched_rt_runtime_us', 950000)
        self.rt_group_sched()
        self.daemon()
        error = self.assertRaises(exception.RealtimeBudgetUnavailable,
                                  hc.preflight, realtime_guest(), self.facts)
        self.assertIn('memory.locking', str(error))
        self.assertIn(hc.MEMLOCK_FIX, str(error))

    def test_non_fifo_scheduler_needs_no_budget(self):
        self.sysctl('kernel.sched_rt_runtime_us', 950000)
        self.rt_group_sched()
        hc.preflight(realtime_guest(locked=False, scheduler='batch'),
                     self.facts)

    def test_unknown_daemon_does_not_block(self):
        # No libvirt daemon visible (e.g. another mount namespace): libvirt
        # itself will say whether it can lock memory.
        self.sysctl('kernel.sched_rt_runtime_us', -1)
        hc.preflight(realtime_guest(), self.facts)


class TestFacts(FakeHostTestCase):
    def test_parsers(self):
        self.assertEqual({2, 3, 5}, host_facts.parse_isolcpus_flags(
            'nohz,domain,2-3,5')[1])
        self.assertEqual(set(), host_facts.parse_kernel_cpu_list(''))
        self.write('proc/cmdline', 'a=1 b c=x=y -- d=2')
        self.assertEqual({'a': '1', 'b': None, 'c': 'x=y'},
                         self.facts.cmdline())

    def test_libvirt_error_translation_shares_fix_text(self):
        from nova.virt.libvirt import driver
        error = libvirt.libvirtError('x')
        error.err = (libvirt.VIR_ERR_SYSTEM_ERROR, 0,
                     'Cannot set scheduler parameters for pid 1', 2, None,
                     None, None, -1, -1)
        translated = driver.translate_start_error('g', error)
        self.assertEqual(hc.RT_BUDGET_FIX, translated.kwargs['fix'])


class TestDriverPreflightScope(test.TestCase):
    def _applies(self, uri, virt_type='qemu'):
        from nova.virt.libvirt import driver
        guest = realtime_guest()
        guest.virt_type = virt_type
        return driver.LibvirtDriver(host_mod.Host(uri)).preflight_applies(
            guest)

    def test_scope(self):
        self.assertTrue(self._applies('qemu:///system'))
        # The test driver runs no process: nothing on this host to judge.
        self.assertFalse(self._applies('test:///default', 'test'))
        # Another host's kernel decides for a remote URI.
        self.assertFalse(self._applies('qemu+ssh://compute1/system'))
        self.flags(realtime_preflight=False, group='libvirt')
        self.assertFalse(self._applies('qemu:///system'))


class TestCommand(FakeHostTestCase):
    def _run(self, *args, uri='test:///default'):
        conf = os.path.join(self.root, 'nova.conf')
        with open(conf, 'w') as f:
            f.write('[libvirt]\nvirt_type = qemu\n')
        return subprocess.run(
            [sys.executable, '-m', 'nova.cmd.realtime', '--config-file',
             conf, 'check-host', '--root', self.root, '--connection', uri] +
            list(args), capture_output=True, text=True, timeout=60)

    def test_exit_status_and_json(self):
        self.sysctl('kernel.sched_rt_runtime_us', 950000)
        self.rt_group_sched(machine=0)
        self.daemon()
        proc = self._run('--format', 'json')
        self.assertEqual(3, proc.returncode, proc.stderr)
        report = json.loads(proc.stdout)
        self.assertFalse(report['ready'])
        statuses = {c['id']: c['status'] for c in report['checks']}
        self.assertEqual(hc.FAIL, statuses['memory.locking'])
        self.sysctl('kernel.sched_rt_runtime_us', -1)
        self.daemon(cap_eff=CAP_ALL)
        proc = self._run(uri=compute_host(self).uri)
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
        self.assertIn('OK   kernel.sched_rt_runtime_us', proc.stdout)


# -- unknown is not OK ------------------------------------------------------

# The checks that judge no fact below --root.
NO_HOST_FACT = {'libvirt.connection', 'libvirt.version', 'libvirt.virt_type',
                'guests.pinning', 'guests.confined'}


class TestOnlyCmdline(test.TestCase):
    """A tree with nothing but /proc/cmdline: every other fact is missing."""

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        os.makedirs(os.path.join(self.root, 'proc'))
        with open(os.path.join(self.root, 'proc', 'cmdline'), 'w') as f:
            f.write('ro isolcpus=2-3 nohz_full=2-3 rcu_nocbs=2-3 quiet\n')
        self.host = host_mod.Host('test:///default')
        self.addCleanup(self.host.close)

    def _results(self, dedicated):
        return hc.run_checks(host_facts.HostFacts(self.root), dedicated,
                             self.host, 'kvm')

    def test_not_ready_and_nothing_unread_is_ok(self):
        for dedicated in ({2, 3}, None):
            results = self._results(dedicated)
            self.assertFalse(hc.host_is_ready(results), dedicated)
            self.assertIn('NOT READY', hc.format_text(results))
            # Only the kernel command line was read (and libvirt asked).
            readable = NO_HOST_FACT | (
                {'cpu.isolcpus', 'cpu.nohz_full', 'cpu.rcu_nocbs'}
                if dedicated else set())
            ok = {r.id for r in results if r.status == hc.OK}
            self.assertLessEqual(ok, readable, dedicated)
            # Without a dedicated set these say "cannot compare" (a
            # configuration matter) before looking at the host.
            needs_set = set() if dedicated else {
                'compute.cpu_dedicated_set', 'cpu.isolcpus', 'cpu.nohz_full',
                'cpu.rcu_nocbs', 'irq.affinity'}
            for result in results:
                if result.id not in readable | needs_set:
                    self.assertTrue(result.unknown, result)
                    self.assertIn('cannot read', result.found)
            failed = {r.id for r in results if r.status == hc.FAIL}
            self.assertEqual({'kernel.sched_rt_runtime_us',
                              'kernel.rt_group_sched', 'memory.locking',
                              'libvirt.connection'}, failed)
            report = json.loads(hc.format_json(results))
            self.assertFalse(report['ready'])
            self.assertIn('unknown', report['checks'][0])

    def test_isolation_read_from_cmdline(self):
        results = {r.id: r for r in self._results({2, 3})}
        for name in ('cpu.isolcpus', 'cpu.nohz_full', 'cpu.rcu_nocbs'):
            self.assertEqual(hc.OK, results[name].status)
            self.assertFalse(results[name].unknown)


class TestMissingFacts(FakeHostTestCase):
    """For each check: its fact file missing -> WARN or FAIL, never OK."""

    def assertUnknown(self, status, result):
        self.assertEqual(status, result.status, result)
        self.assertTrue(result.unknown, result)
        self.assertIn('cannot read', result.found)
        self.assertNotIn('tools/', result.fix)

    def test_preempt_rt(self):
        self.assertUnknown(hc.WARN, hc.check_preempt_rt(self.facts))

    def test_sched_rt_runtime_cgroup_unreadable(self):
        # Throttling without RT group scheduling would be a WARN; not
        # knowing whether RT group scheduling is on could be the FAIL.
        self.sysctl('kernel.sched_rt_runtime_us', 950000)
        result = hc.check_sched_rt_runtime(self.facts)
        self.assertEqual(hc.FAIL, result.status)
        self.assertTrue(result.unknown)
        self.assertIn('cannot read /sys/fs/cgroup', result.found)

    def test_rt_group_sched(self):
        self.sysctl('kernel.sched_rt_runtime_us', 950000)
        self.assertUnknown(hc.FAIL, hc.check_rt_group_sched(self.facts))
        # -1: no RT group budget is enforced, whatever the cgroups say.
        self.sysctl('kernel.sched_rt_runtime_us', -1)
        self.assertEqual(hc.OK, hc.check_rt_group_sched(self.facts).status)
        # RT group scheduling on, the global budget unreadable.
        os.remove(os.path.join(self.root,
                               'proc/sys/kernel/sched_rt_runtime_us'))
        self.rt_group_sched(machine=0)
        result = hc.check_rt_group_sched(self.facts)
        self.assertEqual(hc.FAIL, result.status)
        self.assertTrue(result.unknown)
        self.assertIn('cannot be read', result.found)

    def test_rt_group_sched_cgroup_v1_without_rt(self):
        os.makedirs(os.path.join(self.root, 'sys/fs/cgroup/cpu,cpuacct'))
        self.sysctl('kernel.sched_rt_runtime_us', 950000)
        result = hc.check_rt_group_sched(self.facts)
        self.assertEqual(hc.OK, result.status)
        self.assertFalse(result.unknown)

    def test_timer_migration(self):
        self.assertUnknown(hc.WARN, hc.check_timer_migration(self.facts))

    def test_dedicated_set_online_unreadable(self):
        os.remove(os.path.join(self.root, 'sys/devices/system/cpu/online'))
        self.assertUnknown(hc.WARN, hc.check_dedicated_set(self.facts,
                                                           {2, 3}))
        result = hc.check_dedicated_set(self.facts, None)
        self.assertEqual(hc.WARN, result.status)
        self.assertIn('(unknown)', result.found)

    def test_isolation_cmdline_unreadable(self):
        for check in (hc.check_isolcpus, hc.check_nohz_full,
                      hc.check_rcu_nocbs):
            self.assertUnknown(hc.WARN, check(self.facts, {2, 3}))
            self.assertUnknown(hc.WARN, check(self.facts, None))

    def test_bare_rcu_nocbs_online_unreadable(self):
        os.remove(os.path.join(self.root, 'sys/devices/system/cpu/online'))
        self.write('proc/cmdline', 'rcu_nocbs')
        self.assertUnknown(hc.WARN, hc.check_rcu_nocbs(self.facts, {2, 3}))

    def test_irqbalance_process_list_unreadable(self):
        self.assertUnknown(hc.WARN, hc.check_irqbalance(self.facts, {2, 3}))
        self.assertUnknown(hc.WARN, hc.check_irqbalance(self.facts))

    def test_irq_affinity_no_proc_irq(self):
        self.assertUnknown(hc.WARN, hc.check_irq_affinity(self.facts,
                                                          {2, 3}))

    def test_irq_affinity_default_or_one_irq_unreadable(self):
        self.write('proc/irq/24/smp_affinity_list', '0-1')
        result = hc.check_irq_affinity(self.facts, {2, 3})
        self.assertUnknown(hc.WARN, result)
        self.assertIn('default_smp_affinity', result.found)
        self.write('proc/irq/default_smp_affinity_list', '0-1')
        self.assertEqual(hc.OK,
                         hc.check_irq_affinity(self.facts, {2, 3}).status)
        os.makedirs(os.path.join(self.root, 'proc/irq/30'))
        result = hc.check_irq_affinity(self.facts, {2, 3})
        self.assertUnknown(hc.WARN, result)
        self.assertIn('affinity of IRQs 30', result.found)

    def test_smt(self):
        self.write('sys/devices/system/cpu/cpu2/topology/'
                   'thread_siblings_list', '2')
        result = hc.check_smt(self.facts, {2, 3})
        self.assertUnknown(hc.WARN, result)
        self.assertIn('pCPUs 3', result.found)
        os.remove(os.path.join(self.root, 'sys/devices/system/cpu/online'))
        self.assertUnknown(hc.WARN, hc.check_smt(self.facts, None))

    def test_memlock_process_list_unreadable(self):
        self.assertUnknown(hc.FAIL, hc.check_memlock(self.facts))

    def test_memlock_daemon_unreadable(self):
        self.daemon()
        os.remove(os.path.join(self.root, 'proc/4242/status'))
        os.remove(os.path.join(self.root, 'proc/4242/limits'))
        result = hc.check_memlock(self.facts)
        self.assertEqual(hc.FAIL, result.status)
        self.assertTrue(result.unknown)
        self.assertIn('capabilities unknown', result.found)
        self.assertIn('RLIMIT_MEMLOCK unknown', result.found)
        self.assertNotEqual(hc.MEMLOCK_FIX, result.fix)
        # Unknown refuses nothing: libvirt decides.
        self.sysctl('kernel.sched_rt_runtime_us', -1)
        hc.preflight(realtime_guest(), self.facts)
        # An unlimited hard limit is enough whatever the capabilities.
        self.write('proc/4242/limits', limits_text('unlimited', 'unlimited'))
        self.assertEqual(hc.OK, hc.check_memlock(self.facts).status)

    def test_memlock_capabilities_known_limits_unreadable(self):
        self.daemon()
        os.remove(os.path.join(self.root, 'proc/4242/limits'))
        result = hc.check_memlock(self.facts)
        self.assertEqual(hc.FAIL, result.status)
        self.assertTrue(result.unknown)
        self.daemon(cap_eff=CAP_ALL)
        os.remove(os.path.join(self.root, 'proc/4242/limits'))
        self.assertEqual(hc.OK, hc.check_memlock(self.facts).status)

    def test_preflight_ignores_an_unreadable_budget(self):
        self.daemon(cap_eff=CAP_ALL)
        self.assertEqual(hc.FAIL,
                         hc.check_sched_rt_runtime(self.facts).status)
        hc.preflight(realtime_guest(), self.facts)

    def test_hugepages(self):
        self.assertUnknown(hc.WARN, hc.check_hugepages(self.facts))
        base = 'sys/devices/system/node/node%d/hugepages/hugepages-2048kB/'
        self.write(base % 0 + 'nr_hugepages', '4')  # free_hugepages missing
        self.write(base % 1 + 'nr_hugepages', '4')
        self.write(base % 1 + 'free_hugepages', '4')
        result = hc.check_hugepages(self.facts)
        self.assertEqual(hc.WARN, result.status)
        self.assertTrue(result.unknown)
        self.assertIn('node 0: cannot read', result.found)

    def test_hugepages_not_built_in(self):
        # Node directories without hugepages/: no hugetlbfs, read.
        os.makedirs(os.path.join(self.root, 'sys/devices/system/node/node0'))
        result = hc.check_hugepages(self.facts)
        self.assertEqual(hc.WARN, result.status)
        self.assertFalse(result.unknown)
        self.assertIn('node 0: none', result.found)

    def test_hugepages_without_numa(self):
        base = 'sys/kernel/mm/hugepages/hugepages-1048576kB/'
        self.write(base + 'nr_hugepages', '2')
        self.write(base + 'free_hugepages', '2')
        result = hc.check_hugepages(self.facts)
        self.assertEqual(hc.OK, result.status)
        self.assertIn('host: 2 x 1048576 KiB (2 free)', result.found)

    def test_thp(self):
        self.assertUnknown(hc.WARN, hc.check_thp(self.facts))

    def test_ksm(self):
        self.assertUnknown(hc.WARN, hc.check_ksm(self.facts))

    def test_cpufreq(self):
        self.assertUnknown(hc.WARN, hc.check_cpufreq(self.facts, {2, 3}))
        self.cpu_dirs(2, 3)
        os.makedirs(os.path.join(self.root,
                                 'sys/devices/system/cpu/cpu3/cpufreq'))
        result = hc.check_cpufreq(self.facts, {2, 3})
        self.assertUnknown(hc.WARN, result)
        self.assertIn('pCPUs 3', result.found)

    def test_cstates(self):
        self.assertUnknown(hc.WARN, hc.check_cstates(self.facts, {2}))
        self.cpu_dirs(2)
        self.write('sys/devices/system/cpu/cpu2/cpuidle/state1/name', 'C6')
        self.assertUnknown(hc.WARN, hc.check_cstates(self.facts, {2}))

    def test_no_development_script_in_any_fix(self):
        host = host_mod.Host('qemu+unix:///system?socket=/nonexistent/sock')
        results = hc.check_libvirt(host, 'kvm')
        self.assertIn('systemctl start libvirtd', results[0].fix)
        self.assertTrue(results[1].unknown and results[2].unknown)
        host = host_mod.Host('test:///default')
        self.addCleanup(host.close)
        for root in (self.root, '/nonexistent'):
            for dedicated in ({2, 3}, None):
                results += hc.run_checks(host_facts.HostFacts(root),
                                         dedicated, host, 'kvm')
        for result in results:
            self.assertNotIn('tools/', result.fix, result)
            self.assertNotIn('.sh', result.fix, result)


class TestIsolcpusFlags(FakeHostTestCase):
    def _isolcpus(self, value, dedicated=frozenset({2, 3})):
        self.write('proc/cmdline', 'ro isolcpus=%s quiet' % value)
        return hc.check_isolcpus(self.facts, set(dedicated))

    def test_managed_irq_alone_isolates_no_domain(self):
        result = self._isolcpus('managed_irq,2-3')
        self.assertEqual(hc.WARN, result.status)
        self.assertIn('isolates no scheduler domain', result.found)
        self.assertIn('isolcpus=domain,managed_irq,2-3', result.fix)
        # Scheduler-domain isolation: no flags, or domain among them.
        for value in ('2-3', 'domain,2-3', 'nohz,domain,managed_irq,2-3',
                      'managed_irq,domain,2-3',
                      # Unknown flags are skipped; with no known flag the
                      # kernel defaults to domain.
                      'foo,2-3'):
            result = self._isolcpus(value)
            self.assertEqual(hc.OK, result.status, value)
            self.assertIn('covers 2-3', result.found)

    def test_nohz_alone_isolates_no_domain(self):
        self.assertEqual(hc.WARN, self._isolcpus('nohz,2-3').status)
        self.assertEqual(hc.WARN,
                         self._isolcpus('nohz,managed_irq,2-3').status)

    def test_invalid_cpu_list_isolates_nothing(self):
        # The kernel rejects the whole list (flags come first only).
        for value in ('2-3,domain', 'domain,2-3,x', 'domain,2-x'):
            result = self._isolcpus(value)
            self.assertEqual(hc.WARN, result.status, value)
            self.assertIn('leaves dedicated pCPUs 2-3 out', result.found)

    def test_parser(self):
        self.assertEqual((('managed_irq', 'domain'), {2, 3, 5}),
                         host_facts.parse_isolcpus_flags(
                             'managed_irq,domain,2-3,5'))
        self.assertEqual(((), {0, 1}),
                         host_facts.parse_isolcpus_flags('0-1'))
        self.assertEqual((('domain',), set()),
                         host_facts.parse_isolcpus_flags('domain'))
        self.assertFalse(host_facts.isolcpus_isolates_domain(
            ('managed_irq',)))
        self.assertTrue(host_facts.isolcpus_isolates_domain(()))
        self.assertTrue(host_facts.isolcpus_isolates_domain(('foo',)))
        self.assertEqual({2, 3},
                         host_facts.parse_isolcpus_flags('nohz,2-3')[1])


class TestIrqbalanceBannedCpus(FakeHostTestCase):
    def setUp(self):
        super().setUp()
        self.write('proc/1/comm', 'systemd')
        self.write('proc/77/comm', 'irqbalance')

    def check(self, dedicated=frozenset({2, 3})):
        return hc.check_irqbalance(
            self.facts, set(dedicated) if dedicated is not None else None)

    def test_running_environment_bans_dedicated(self):
        self.write('proc/77/environ',
                   'PATH=/usr/bin\0IRQBALANCE_BANNED_CPULIST=2-3\0')
        result = self.check()
        self.assertEqual(hc.OK, result.status)
        self.assertIn('IRQBALANCE_BANNED_CPULIST=2-3 (/proc/77/environ)',
                      result.found)

    def test_tuned_sysconfig_mask(self):
        # What tuned's irqbalance plugin writes.
        self.write('etc/sysconfig/irqbalance',
                   '# irqbalance\nIRQBALANCE_BANNED_CPUS=0000000c\n')
        self.assertEqual(hc.OK, self.check().status)
        self.write('etc/sysconfig/irqbalance', 'IRQBALANCE_BANNED_CPUS=8')
        result = self.check()
        self.assertEqual(hc.WARN, result.status)
        self.assertIn('dedicated pCPUs 2 ', result.found)
        self.assertIn('IRQBALANCE_BANNED_CPULIST=2-3', result.fix)
        self.assertIn('systemctl', result.fix)

    def test_debian_default_cpulist_quoted(self):
        self.write('etc/default/irqbalance',
                   '#IRQBALANCE_BANNED_CPULIST=\n'
                   'IRQBALANCE_BANNED_CPULIST="0,2-3"\n')
        result = self.check()
        self.assertEqual(hc.OK, result.status)
        self.assertIn('/etc/default/irqbalance', result.found)

    def test_mask_groups(self):
        self.assertEqual({0} | set(range(56, 64)), host_facts.parse_cpu_mask(
            'ff000000,00000001'))
        self.assertEqual({34}, host_facts.parse_cpu_mask('4,00000000'))
        self.assertIsNone(host_facts.parse_cpu_mask('xyz'))
        self.write('etc/sysconfig/irqbalance',
                   'IRQBALANCE_BANNED_CPUS=00000004,0000000c')
        self.assertEqual(hc.OK, self.check({2, 3, 34}).status)
        self.assertEqual(hc.WARN, self.check({2, 3, 35}).status)

    def test_banned_cpus_wins_over_cpulist(self):
        # irqbalance reads IRQBALANCE_BANNED_CPUS first.
        self.write('proc/77/environ', 'IRQBALANCE_BANNED_CPUS=1\0'
                   'IRQBALANCE_BANNED_CPULIST=2-3\0')
        self.assertEqual(hc.WARN, self.check().status)

    def test_environment_is_what_it_runs_with(self):
        # The file was edited after irqbalance started: not applied yet.
        self.write('etc/default/irqbalance', 'IRQBALANCE_BANNED_CPULIST=2-3')
        self.write('proc/77/environ', 'PATH=/usr/bin\0')
        self.write('sys/devices/system/cpu/isolated', '')
        self.assertEqual(hc.WARN, self.check().status)

    def test_default_bans_isolated_and_nohz_full(self):
        result = self.check()
        self.assertEqual(hc.WARN, result.status)  # isolated unreadable
        self.assertTrue(result.unknown)
        self.write('sys/devices/system/cpu/isolated', '2')
        self.assertEqual(hc.WARN, self.check().status)
        self.write('sys/devices/system/cpu/nohz_full', '3')
        result = self.check()
        self.assertEqual(hc.OK, result.status)
        self.assertIn('isolated and nohz_full', result.found)

    def test_invalid_value_is_unknown(self):
        self.write('etc/default/irqbalance', 'IRQBALANCE_BANNED_CPULIST=a-b')
        result = self.check()
        self.assertEqual(hc.WARN, result.status)
        self.assertTrue(result.unknown)

    def test_dedicated_unset(self):
        self.write('proc/77/environ', 'IRQBALANCE_BANNED_CPULIST=2-3\0')
        self.assertEqual(hc.WARN, self.check(None).status)


class TestCommandExitStatus(FakeHostTestCase):
    def _run(self, *args, root=None):
        return subprocess.run(
            [sys.executable, '-m', 'nova.cmd.realtime', 'check-host',
             '--root', self.root if root is None else root] + list(args),
            capture_output=True, text=True, timeout=60)

    def test_missing_root_is_a_usage_error(self):
        proc = self._run('--connection', 'test:///default',
                         root=os.path.join(self.root, 'nonexistent'))
        self.assertEqual(2, proc.returncode, proc.stdout)
        self.assertEqual('', proc.stdout)
        self.assertEqual(1, len(proc.stderr.splitlines()), proc.stderr)
        self.assertTrue(proc.stderr.startswith('ERROR: --root='))
        self.assertIn('no such directory', proc.stderr)

    def test_file_root_is_a_usage_error(self):
        proc = self._run('--connection', 'test:///default',
                         root=os.path.join(self.root,
                                           'sys/devices/system/cpu/online'))
        self.assertEqual(2, proc.returncode, proc.stdout)
        self.assertEqual(1, len(proc.stderr.splitlines()), proc.stderr)
        self.assertIn('not a directory', proc.stderr)

    def test_only_cmdline_is_not_ready(self):
        os.remove(os.path.join(self.root, 'sys/devices/system/cpu/online'))
        self.write('proc/cmdline', 'ro quiet')
        proc = self._run('--connection', 'test:///default')
        self.assertEqual(3, proc.returncode, proc.stdout + proc.stderr)
        self.assertIn('NOT READY', proc.stdout)
        self.assertIn('FAIL kernel.sched_rt_runtime_us   cannot read',
                      proc.stdout)

    def test_libvirt_unreachable_is_an_error(self):
        self.sysctl('kernel.sched_rt_runtime_us', -1)
        self.daemon(cap_eff=CAP_ALL)
        proc = self._run('--connection',
                         'qemu+unix:///system?socket=/nonexistent/sock',
                         '--format', 'json')
        self.assertEqual(1, proc.returncode, proc.stdout + proc.stderr)
        report = json.loads(proc.stdout)  # the report is still printed
        self.assertFalse(report['ready'])
        self.assertEqual(['ERROR: libvirt: qemu+unix:///system?socket='
                          '/nonexistent/sock: '],
                         [line[:len('ERROR: libvirt: qemu+unix:///system'
                                    '?socket=/nonexistent/sock: ')]
                          for line in proc.stderr.splitlines()])

    def test_help_lists_exit_status(self):
        proc = self._run('--help')
        self.assertEqual(0, proc.returncode)
        proc = subprocess.run(
            [sys.executable, '-m', 'nova.cmd.realtime', '--help'],
            capture_output=True, text=True, timeout=60)
        text = ' '.join(proc.stdout.split())
        for words in ('0 READY (no FAIL)', '3 NOT READY (a FAIL',
                      '2 invalid input', '1 other error (libvirt '
                      'unreachable)'):
            self.assertIn(words, text)


class TestGuestChecks(test.TestCase):
    """guests.pinning / guests.confined on a real test:///default."""

    def setUp(self):
        super().setUp()
        self.keeper = libvirt.open('test:///default')
        self.addCleanup(self.keeper.close)
        self.host = host_mod.Host('test:///default')
        self.addCleanup(self.host.close)

    def define(self, name, pins, ours=True):
        meta = ('<nrt:instance xmlns:nrt="%s"/>' % usage_mod.NOVA_RT_NS
                if ours else '')
        dom = self.keeper.defineXML(
            '<domain type="test"><name>%s</name><metadata>%s</metadata>'
            '<memory>65536</memory><vcpu>1</vcpu><cputune>'
            '<vcpupin vcpu="0" cpuset="%s"/><emulatorpin cpuset="%s"/>'
            '</cputune><os><type>hvm</type></os></domain>' % (
                name, meta, pins, pins))
        self.addCleanup(dom.undefine)

    def results(self):
        return {r.id: r for r in hc.check_guests(self.host)}

    def test_double_pin_fails_and_names_both(self):
        self.define('rt-a', '3')
        self.define('rt-b', '3')
        results = self.results()
        self.assertEqual(hc.FAIL, results['guests.pinning'].status)
        self.assertIn('pCPU 3: rt-a, rt-b', results['guests.pinning'].found)
        # The built-in unpinned 'test' domain may run anywhere.
        self.assertEqual(hc.WARN, results['guests.confined'].status)
        self.assertIn('test may run on every host CPU',
                      results['guests.confined'].found)

    def test_disjoint_pins_are_ok(self):
        self.define('rt-a', '3')
        self.define('rt-b', '4')
        self.assertEqual(hc.OK, self.results()['guests.pinning'].status)

    def test_unreachable_libvirt_is_not_ok(self):
        host = host_mod.Host('test:///nonexistent-file.xml')
        results = {r.id: r for r in hc.check_guests(host)}
        self.assertEqual(hc.WARN, results['guests.pinning'].status)
        self.assertTrue(results['guests.pinning'].unknown)


CPUINFO = ('processor\t: %d\nvendor_id\t: GenuineIntel\n'
           'flags\t\t: fpu tsc msr %s\n\n')


class TestTscCheck(FakeHostTestCase):
    """cpu.tsc: the TSC deadline timer and a constant TSC on every CPU."""

    def cpuinfo(self, *per_cpu):
        self.write('proc/cpuinfo', ''.join(
            CPUINFO % (cpu, flags) for cpu, flags in enumerate(per_cpu)))

    def test_ok_with_both_flags_everywhere(self):
        self.cpuinfo('constant_tsc tsc_deadline_timer',
                     'tsc_deadline_timer constant_tsc x2apic')
        result = hc.check_tsc(self.facts)
        self.assertEqual(hc.OK, result.status, result)
        self.assertFalse(result.unknown)
        self.assertEqual({0: {'fpu', 'tsc', 'msr', 'constant_tsc',
                              'tsc_deadline_timer'}},
                         {0: self.facts.cpuinfo_flags()[0]})

    def test_missing_deadline_timer_warns_naming_cpus_and_why(self):
        self.cpuinfo('constant_tsc tsc_deadline_timer', 'constant_tsc',
                     'constant_tsc')
        result = hc.check_tsc(self.facts)
        self.assertEqual(hc.WARN, result.status)
        self.assertFalse(result.unknown)
        self.assertIn('tsc_deadline_timer missing on CPUs 1-2', result.found)
        self.assertIn('TSC deadline timer', result.found)
        self.assertIn('tsc-deadline', result.found)
        self.assertTrue(result.fix)

    def test_missing_constant_tsc_warns(self):
        self.cpuinfo('tsc_deadline_timer')
        result = hc.check_tsc(self.facts)
        self.assertEqual(hc.WARN, result.status)
        self.assertIn('constant_tsc missing on CPUs 0', result.found)

    def test_unreadable_is_unknown_warn(self):
        result = hc.check_tsc(self.facts)
        self.assertEqual(hc.WARN, result.status)
        self.assertTrue(result.unknown)
        self.assertIn('cannot read /proc/cpuinfo', result.found)

    def test_no_flags_lines_warns(self):
        self.write('proc/cpuinfo', 'processor\t: 0\nFeatures\t: fp asimd\n')
        result = hc.check_tsc(self.facts)
        self.assertEqual(hc.WARN, result.status)
        self.assertFalse(result.unknown)
        self.assertEqual({}, self.facts.cpuinfo_flags())

    def test_registered_in_run_checks(self):
        self.cpuinfo('constant_tsc tsc_deadline_timer')
        host = host_mod.Host('test:///default')
        self.addCleanup(host.close)
        results = {r.id: r for r in hc.run_checks(self.facts, None, host,
                                                  'kvm')}
        self.assertEqual(hc.OK, results['cpu.tsc'].status)


class TestGuestNeeds(test.TestCase):
    def test_memtune_hard_limit_needs_memory_locking(self):
        guest = vconfig.LibvirtConfigGuest()
        self.assertEqual((False, False), hc.guest_needs(guest))
        guest.memtune = vconfig.LibvirtConfigGuestMemoryTune(
            hard_limit=1048576)
        self.assertEqual((False, True), hc.guest_needs(guest))
