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

"""What the kernel says about the threads of real-time guests.

This host cannot grant <locked/> (see test_memory_locking), so the
real-time scheduling tests here boot the driver-built config minus
<locked/>; each says so in its name and docstring. Everything else in the
config (vcpupin, emulatorpin, vcpusched, nosharepages) is the driver's.
"""

import os

from nova.tests.functional.libvirt import base


class RealtimeThreadsTest(base.RealQemuTestCase):
    def setUp(self):
        super().setUp()
        self.useFixture(base.SchedRtRuntime(-1))

    def test_default_mask_without_memory_locking(self):
        """No mask means ^0: vCPU 1 FIFO, vCPU 0 and emulator on its pCPU.

        Boots the driver-built config minus <locked/>.
        """
        instance, guest = self.spawn(
            'default-mask', adjust_guest=base.drop_memory_locking, **base.RT)
        self.assertEqual({1}, instance.numa_topology.realtime_cpus)
        self.assert_guest_threads(instance)
        self.assertTrue(os.path.exists(os.path.join(
            self.instances_path, instance.name, 'console.log')))

    def test_positive_mask_without_memory_locking(self):
        """hw:cpu_realtime_mask=0 makes only vCPU 0 real time.

        Boots the driver-built config minus <locked/>.
        """
        instance, _ = self.spawn(
            'pos-mask', adjust_guest=base.drop_memory_locking,
            **dict(base.RT, **{'hw:cpu_realtime_mask': '0'}))
        self.assertEqual({0}, instance.numa_topology.realtime_cpus)
        self.assert_guest_threads(instance)

    def test_image_mask_overrides_flavor_without_memory_locking(self):
        """Image hw_cpu_realtime_mask=^1 wins over the flavor's ^0.

        Boots the driver-built config minus <locked/>.
        """
        instance, _ = self.spawn(
            'img-mask', image_props={'hw_cpu_realtime_mask': '^1'},
            adjust_guest=base.drop_memory_locking,
            **dict(base.RT, **{'hw:cpu_realtime_mask': '^0'}))
        self.assertEqual({0}, instance.numa_topology.realtime_cpus)
        self.assert_guest_threads(instance)

    def test_scheduler_priority_without_memory_locking(self):
        """[libvirt] realtime_scheduler_priority=42 reaches the thread.

        Boots the driver-built config minus <locked/>.
        """
        self.flags(realtime_scheduler_priority=42, group='libvirt')
        instance, _ = self.spawn(
            'prio', adjust_guest=base.drop_memory_locking, **base.RT)
        self.assert_guest_threads(instance, priority=42)

    def test_isolate_without_memory_locking(self):
        """isolate: emulator threads on a pCPU of their own.

        Two pCPUs leave room for one real-time vCPU plus the reserved
        emulator pCPU. Boots the driver-built config minus <locked/>.
        """
        instance, _ = self.spawn(
            'isolate', vcpus=1, adjust_guest=base.drop_memory_locking,
            **dict(base.RT, **{'hw:cpu_realtime_mask': '0',
                               'hw:emulator_threads_policy': 'isolate'}))
        topology = instance.numa_topology
        self.assertEqual(1, len(topology.cpuset_reserved))
        self.assertNotIn(topology.cpu_pinning[0], topology.cpuset_reserved)
        table = self.assert_guest_threads(instance)
        self.assertEqual({0, 1}, self.pinned_from_libvirt(), table)

    def test_dedicated_non_realtime_guest_has_no_fifo_thread(self):
        """A dedicated guest without real time: full driver config."""
        instance, guest = self.spawn('dedicated', **base.DEDICATED_ONLY)
        self.assertIsNone(guest.membacking)
        table = self.assert_guest_threads(instance)
        threads = base.thread_table(self.qemu_pid(instance.name))
        self.assertEqual([], [t for t in threads
                              if t.policy != os.SCHED_OTHER], table)
