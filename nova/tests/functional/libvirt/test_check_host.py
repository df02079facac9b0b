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

"""nova-realtime check-host on this machine agrees with what spawn does."""

import json
import subprocess
import sys

from nova import exception
from nova.tests.functional.libvirt import base


class CheckHostMatchesSpawnTest(base.RealQemuTestCase):
    def check_host(self):
        conf = self.write_command_config()
        proc = subprocess.run(
            [sys.executable, '-m', 'nova.cmd.realtime', '--config-file', conf,
             'check-host', '--connection', base.URI, '--format', 'json'],
            capture_output=True, text=True, timeout=60)
        report = json.loads(proc.stdout)
        self.addDetail('check-host', base.content.text_content(proc.stdout))
        verdicts = {c['id']: c['status'] for c in report['checks']}
        return proc.returncode, report['ready'], verdicts

    def _spawn_verdict(self, suffix, exc_class, **kw):
        """'OK' when a real-time guest boots, 'FAIL' when spawn raises
        ``exc_class`` (libvirt's own verdict: preflight off).
        """
        self.flags(realtime_preflight=False, group='libvirt')
        try:
            self.spawn(suffix, **kw)
        except exc_class:
            self.assert_nothing_left(self.name(suffix))
            return 'FAIL'
        return 'OK'

    def test_memory_locking_verdict_matches_spawn(self):
        self.useFixture(base.SchedRtRuntime(-1))
        code, ready, verdicts = self.check_host()
        self.assertEqual('OK', verdicts['kernel.sched_rt_runtime_us'])
        self.assertEqual('OK', verdicts['libvirt.connection'])
        spawned = self._spawn_verdict(
            'lock', exception.MemoryLockingUnavailable, **base.RT)
        self.assertEqual(spawned, verdicts['memory.locking'])
        self.assertEqual(spawned == 'OK', ready)
        self.assertEqual(spawned == 'OK', code == 0)

    def test_rt_budget_verdict_matches_spawn_without_memory_locking(self):
        """sched_rt_runtime_us at 950000 and at -1, each compared with a
        spawn of the driver-built config minus <locked/>.
        """
        for value in (950000, -1):
            self.useFixture(base.SchedRtRuntime(value))
            _code, _ready, verdicts = self.check_host()
            spawned = self._spawn_verdict(
                'budget%d' % abs(value), exception.RealtimeBudgetUnavailable,
                adjust_guest=base.drop_memory_locking, **base.RT)
            self.assertEqual(spawned, verdicts['kernel.sched_rt_runtime_us'],
                             value)
            self.assertEqual(spawned, verdicts['kernel.rt_group_sched'],
                             value)
            if spawned == 'OK':
                self.driver.destroy(self.name('budget%d' % abs(value)))
