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

"""Kernel settings changed by a test come back: after the test, after a
failed test, and when the test worker is terminated. The real sysctl,
as root under the functional tests' host lock.
"""

import json
import os
import signal
import subprocess
import sys

import fixtures
import testtools

from nova import test
from nova.tests.functional import host_guard
from nova.tests.functional.libvirt import base

RT_RUNTIME = 'kernel.sched_rt_runtime_us'

# A test worker that changes the setting, then waits to be killed.
WORKER = '''
import sys, time
from nova.tests.functional import host_guard
host_guard.Sysctl(sys.argv[1], sys.argv[2]).setUp()
print('changed', flush=True)
time.sleep(600)
'''


class KernelSettingTest(test.TestCase):
    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.fail('these tests write /proc/sys: run them as root')
        self.useFixture(base.HostLock())
        self.path = host_guard.sysctl_path(RT_RUNTIME)
        self.before = host_guard.read(self.path)
        # Neither the kernel's default nor what tools/prepare-host.sh sets;
        # above the default (with RT group scheduling the kernel refuses a
        # global budget below what the cgroups were given).
        self.value = '960000' if self.before != '960000' else '970000'

    def test_restored_after_the_test(self):
        setting = host_guard.Sysctl(RT_RUNTIME, self.value)
        setting.setUp()
        self.assertEqual(self.value, host_guard.read(self.path))
        setting.cleanUp()
        self.assertEqual(self.before, host_guard.read(self.path))

    def test_restored_after_a_failing_test(self):
        path, value = self.path, self.value

        class Failing(testtools.TestCase):
            def test_it(self):
                self.useFixture(host_guard.Sysctl(RT_RUNTIME, value))
                self.assertEqual(value, host_guard.read(path))
                raise RuntimeError('the test fails')

        result = testtools.TestResult()
        Failing('test_it').run(result)
        self.assertEqual(1, len(result.errors))
        self.assertIn('the test fails', result.errors[0][1])
        self.assertEqual(self.before, host_guard.read(self.path))

    def test_restored_when_the_worker_is_terminated(self):
        for sig in (signal.SIGTERM, signal.SIGHUP):
            proc = subprocess.Popen(
                [sys.executable, '-c', WORKER, RT_RUNTIME, self.value],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.addCleanup(lambda: proc.poll() is None and proc.kill())
            self.assertEqual('changed\n', proc.stdout.readline())
            self.assertEqual(self.value, host_guard.read(self.path))
            proc.send_signal(sig)
            _out, err = proc.communicate(timeout=60)
            self.assertEqual(-sig, proc.returncode, err)
            self.assertEqual(self.before, host_guard.read(self.path))

    def test_killed_worker_s_setting_written_back_by_the_next_run(self):
        proc = subprocess.Popen(
            [sys.executable, '-c', WORKER, RT_RUNTIME, self.value],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        self.assertEqual('changed\n', proc.stdout.readline())
        proc.kill()
        proc.communicate(timeout=60)
        # No cleanup ran: the setting is left changed...
        self.assertEqual(self.value, host_guard.read(self.path))
        # ... until the next run starts (tox's host_guard save).
        saved = subprocess.run(
            [sys.executable, '-m', 'nova.tests.functional.host_guard',
             'save', os.path.join(self.useFixture(
                 fixtures.TempDir()).path, 'host.json')],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(0, saved.returncode, saved.stderr)
        self.assertIn('host_guard: %s written back to %s' % (
            self.path, self.before), saved.stdout)
        self.assertEqual(self.before, host_guard.read(self.path))
        self.assertFalse(os.path.exists(host_guard._journal_dir()))


class SnapshotTest(test.TestCase):
    """python -m nova.tests.functional.host_guard save/compare (tox runs
    it around the functional tests).
    """

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.fail('these tests write /proc/sys: run them as root')
        self.useFixture(base.HostLock())
        self.file = os.path.join(self.useFixture(
            fixtures.TempDir()).path, 'host.json')

    def run_guard(self, action):
        return subprocess.run(
            [sys.executable, '-m', 'nova.tests.functional.host_guard',
             action, self.file], capture_output=True, text=True, timeout=60)

    def test_unchanged_host(self):
        self.assertEqual(0, self.run_guard('save').returncode)
        with open(self.file) as f:
            saved = json.load(f)
        self.assertIn(host_guard.sysctl_path(RT_RUNTIME), saved['settings'])
        compared = self.run_guard('compare')
        self.assertEqual(0, compared.returncode, compared.stderr)
        self.assertIn('host as found', compared.stdout)

    def test_a_setting_left_changed_is_reported(self):
        self.assertEqual(0, self.run_guard('save').returncode)
        before = host_guard.read(host_guard.sysctl_path(RT_RUNTIME))
        value = '960000' if before != '960000' else '970000'
        self.useFixture(host_guard.Sysctl(RT_RUNTIME, value))
        compared = self.run_guard('compare')
        self.assertEqual(1, compared.returncode)
        self.assertIn('host changed during the tests: '
                      '/proc/sys/kernel/sched_rt_runtime_us: %s before, %s '
                      'after' % (before, value), compared.stdout)
