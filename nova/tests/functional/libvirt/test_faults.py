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

"""Host faults: a restarted libvirt daemon, no RT budget, races, no room."""

import subprocess
import sys

from nova import exception
from nova.tests.functional.libvirt import base
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import host as host_mod


class RestartAfterDefineHost(host_mod.Host):
    """A Host whose libvirt daemon restarts right after defineXML: the
    driver's domain handle dies between define and start.
    """

    def __init__(self, libvirtd):
        super().__init__()
        self.libvirtd = libvirtd

    def define(self, xml):
        domain = super().define(xml)
        self.libvirtd.restart()
        return domain


class LibvirtdRestartTest(base.RealQemuTestCase):
    """On a private libvirtd (never the system's)."""

    PRIVATE_LIBVIRTD = True

    def assert_pinning_matches_running_guests(self, instances):
        claimed = set()
        for instance in instances:
            config = self.running_guest_config(instance.name)
            pins = {pin.id: pin.cpuset for pin in config.cputune.vcpupin}
            self.assertEqual(
                {v: {p} for v, p in
                 instance.numa_topology.cpu_pinning.items()}, pins)
            self.assert_guest_threads(instance)
            claimed |= set(instance.numa_topology.cpu_pinning.values())
        self.assertEqual(claimed, self.pinned_from_libvirt())

    def test_restart_between_two_boots(self):
        first, _ = self.spawn('before', vcpus=1, **base.DEDICATED_ONLY)
        self.libvirtd.restart()
        # Same driver, same (now dead) connection: it must reconnect.
        second, _ = self.spawn('after', vcpus=1, **base.DEDICATED_ONLY)
        self.assertNotEqual(first.numa_topology.cpu_pinning[0],
                            second.numa_topology.cpu_pinning[0])
        self.assertEqual(sorted([first.name, second.name]),
                         self.our_domains())
        self.assert_pinning_matches_running_guests([first, second])

    def test_restart_during_boot(self):
        """The daemon restarts between define and start of one boot."""
        first, _ = self.spawn('running', vcpus=1, **base.DEDICATED_ONLY)
        driver = libvirt_driver.LibvirtDriver(
            RestartAfterDefineHost(self.libvirtd))
        self.addCleanup(driver.host.close)
        second, _ = self.spawn('mid-boot', vcpus=1, driver=driver,
                               **base.DEDICATED_ONLY)
        self.assertEqual(sorted([first.name, second.name]),
                         self.our_domains())
        self.assert_pinning_matches_running_guests([first, second])

    def test_daemon_down_fails_clearly_then_recovers(self):
        self.libvirtd.stop()
        error = self.assertRaises(exception.HypervisorUnavailable,
                                  self.spawn, 'down', vcpus=1,
                                  **base.DEDICATED_ONLY)
        self.assertIn(self.uri, str(error))
        self.libvirtd.start()
        self.assert_nothing_left(self.name('down'))
        instance, _ = self.spawn('down', vcpus=1, **base.DEDICATED_ONLY)
        self.assert_pinning_matches_running_guests([instance])


class RealtimeBudgetTest(base.RealQemuTestCase):
    """kernel.sched_rt_runtime_us at its default 950000, with RT group
    scheduling: libvirt cannot make vCPU threads SCHED_FIFO.
    """

    def setUp(self):
        super().setUp()
        self.useFixture(base.SchedRtRuntime(950000))

    def test_preflight_names_the_setting(self):
        error = self.assertRaises(exception.RealtimeBudgetUnavailable,
                                  self.spawn, 'nobudget', **base.RT)
        self.assertIn('kernel.sched_rt_runtime_us', str(error))
        self.assert_nothing_left(self.name('nobudget'))

    def test_libvirt_refusal_without_memory_locking(self):
        """With the preflight off, libvirt's own refusal is translated.

        Boots the driver-built config minus <locked/> (which this host
        cannot grant and libvirt would refuse first).
        """
        self.flags(realtime_preflight=False, group='libvirt')
        error = self.assertRaises(
            exception.RealtimeBudgetUnavailable, self.spawn,
            'nobudget-lv', adjust_guest=base.drop_memory_locking, **base.RT)
        self.assertIn('kernel.sched_rt_runtime_us', str(error))
        self.assertIn('Cannot set scheduler parameters', str(error))
        self.assert_nothing_left(self.name('nobudget-lv'))

    def test_non_realtime_guest_still_boots(self):
        instance, _ = self.spawn('plain', **base.DEDICATED_ONLY)
        self.assert_guest_threads(instance)


class RoomTest(base.RealQemuTestCase):
    def test_two_boot_processes_with_room_for_one(self):
        conf = self.write_command_config()
        procs = [subprocess.Popen(
            [sys.executable, '-m', 'nova.cmd.realtime', '--config-file',
             conf, 'boot', '--connection', base.URI,
             '--name', self.name('race%d' % index), '--vcpus', '2',
             '--ram', '96', '--property', 'hw:cpu_policy=dedicated'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for index in range(2)]
        results = [proc.communicate(timeout=120) + (proc.returncode,)
                   for proc in procs]
        codes = sorted(result[2] for result in results)
        self.assertEqual([0, 1], codes, results)
        failed = [result for result in results if result[2]][0]
        self.assertIn('Insufficient compute resources', failed[1])
        domains = self.our_domains()
        self.assertEqual(1, len(domains), results)
        config = self.running_guest_config(domains[0])
        pcpus = [cpu for pin in config.cputune.vcpupin for cpu in pin.cpuset]
        self.assertEqual([0, 1], sorted(pcpus))
        self.assertEqual({0, 1}, self.pinned_from_libvirt())

    def test_too_few_free_pcpus(self):
        self.spawn('holder', vcpus=1, **base.DEDICATED_ONLY)
        error = self.assertRaises(exception.ComputeResourcesUnavailable,
                                  self.spawn, 'toobig', vcpus=2,
                                  **base.DEDICATED_ONLY)
        self.assertIn('1 free dedicated pCPUs', str(error))
        self.assertEqual([self.name('holder')], self.our_domains())
