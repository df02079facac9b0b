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

"""<locked/>: refused cleanly where the host cannot grant it, real where
it can. Which side runs depends on the libvirt daemon's CAP_SYS_RESOURCE
and RLIMIT_MEMLOCK (check-host's memory.locking).
"""

from nova import exception
from nova.tests.functional.libvirt import base


class MemoryLockingTest(base.RealQemuTestCase):
    def setUp(self):
        super().setUp()
        self.useFixture(base.SchedRtRuntime(-1))

    def _refused(self, suffix):
        can_lock, found = self.host_can_lock_memory()
        if can_lock:
            self.skipTest('this host can lock guest memory (%s)' % found)
        error = self.assertRaises(exception.MemoryLockingUnavailable,
                                  self.spawn, suffix, **base.RT)
        self.assertIn('CAP_SYS_RESOURCE', str(error))
        self.assertIn('RLIMIT_MEMLOCK', str(error))
        self.assert_nothing_left(self.name(suffix))
        return error

    def test_preflight_refuses_when_host_cannot_lock_memory(self):
        error = self._refused('nolock-pre')
        self.assertIn('preflight memory.locking', str(error))

    def test_libvirt_refusal_translated_when_preflight_is_off(self):
        self.flags(realtime_preflight=False, group='libvirt')
        error = self._refused('nolock-libvirt')
        self.assertIn('cannot limit locked memory', str(error))

    def test_locked_memory_covers_guest_ram(self):
        can_lock, found = self.host_can_lock_memory()
        if not can_lock:
            self.skipTest('the libvirt daemon cannot lift RLIMIT_MEMLOCK '
                          'here (%s); the refusal is tested instead' % found)
        instance, guest = self.spawn('locked', **base.RT)
        self.assertTrue(guest.membacking.locked)
        status = {}
        with open('/proc/%d/status' % self.qemu_pid(instance.name)) as f:
            for line in f:
                key, _sep, value = line.partition(':')
                status[key] = value.strip()
        locked_kb = int(status['VmLck'].split()[0])
        self.assertGreaterEqual(locked_kb, instance.flavor.memory_mb * 1024)
