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

"""Floating guests stay off the dedicated pCPUs; foreign domains are left
alone. Read from /proc and libvirt on qemu:///system.
"""

import subprocess
import sys

from nova import exception
from nova.tests.functional.libvirt import base
from nova.virt import hardware


class FloatingConfinementTest(base.RealQemuTestCase):
    def setUp(self):
        super().setUp()
        # pCPU 1 for dedicated (real-time) vCPUs, pCPU 0 for the rest.
        self.flags(cpu_dedicated_set='1', cpu_shared_set='0',
                   group='compute')

    def assert_threads_on(self, name, allowed):
        threads = base.thread_table(self.qemu_pid(name))
        table = base.format_thread_table(threads)
        self.assertTrue(threads, table)
        for thread in threads:
            self.assertEqual(allowed, thread.affinity, table)

    def test_floating_guest_never_on_a_dedicated_pcpu(self):
        for suffix, specs in (('none', {}),
                              ('shared', {'hw:cpu_policy': 'shared'})):
            self.spawn(suffix, vcpus=2, **specs)
            self.vcpu_threads(self.name(suffix), 2)
            self.assert_threads_on(self.name(suffix), {0})

    def test_only_dedicated_set_leaves_the_others_to_floating(self):
        self.flags(cpu_shared_set=None, group='compute')
        self.spawn('rest', vcpus=1)
        self.vcpu_threads(self.name('rest'), 1)
        self.assert_threads_on(self.name('rest'), {0})

    def test_mixed_guest(self):
        instance, _ = self.spawn(
            'mixed', vcpus=2, **{'hw:cpu_policy': 'mixed',
                                 'hw:cpu_dedicated_mask': '1'})
        threads = self.vcpu_threads(instance.name, 2)
        table = base.format_thread_table(threads)
        for thread in threads:
            match = base.VCPU_THREAD.match(thread.name)
            expected = {1} if match and match.group(1) == '1' else {0}
            self.assertEqual(expected, thread.affinity, table)


class FloatingNUMAConfinementTest(base.RealQemuTestCase):
    """A floating guest with a NUMA layout runs on its host cell's CPUs,
    with no CPU set configured (as upstream).

    Only a one-cell check is possible where the host has one NUMA node
    (this test host has): the two-cell case, each guest cell on its own
    host cell, is checked against test:///default's two-node host in
    nova.tests.unit.virt.libvirt.test_driver.TestFloatingGuests.
    """

    def test_floating_numa_guest_threads_on_its_host_cell(self):
        self.flags(cpu_dedicated_set=None, cpu_shared_set=None,
                   group='compute')
        instance, _ = self.spawn('fnuma', vcpus=2, **{'hw:numa_nodes': '1'})
        node = instance.numa_topology.cells[0].host_node
        with open('/sys/devices/system/node/node%d/cpulist' % node) as f:
            node_cpus = set(hardware.parse_cpu_spec(f.read().strip()))
        live = self.running_guest_config(instance.name)
        self.assertEqual({0: node_cpus, 1: node_cpus},
                         {pin.id: pin.cpuset for pin in live.cputune.vcpupin})
        self.assertEqual(node_cpus, live.cputune.emulatorpin.cpuset)
        self.assertEqual({node}, live.numatune.memnodes[0].nodeset)
        threads = self.vcpu_threads(instance.name, 2)
        table = base.format_thread_table(threads)
        self.assertTrue(threads, table)
        for thread in threads:
            self.assertEqual(node_cpus, thread.affinity, table)


class OwnershipTest(base.RealQemuTestCase):
    def test_delete_leaves_foreign_domains_alone(self):
        name = self.name('foreign')
        conn = self._conn()
        conn.defineXML(
            '<domain type="qemu"><name>%s</name><memory unit="MiB">64'
            '</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>'
            % name)
        self.assertRaises(exception.InstanceNotOwned,
                          self.driver.destroy, name)
        proc = subprocess.run(
            [sys.executable, '-m', 'nova.cmd.realtime', '--config-file',
             self.write_command_config(), 'delete', name,
             '--connection', base.URI],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(1, proc.returncode, proc.stderr)
        self.assertIn('not created by nova-realtime', proc.stderr)
        self.assertEqual([name], self.our_domains())
