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

"""Processes killed at random points of a boot, on a private libvirtd.

libvirtd is SIGKILLed (then started again) while ``nova-realtime boot``
runs, or the boot process itself is killed or terminated. The libvirtd is
the test's own (private_libvirtd: root, its own sockets, configuration,
run, state, cache and log directories), never the system daemon; the
command finds it through [libvirt] connection_uri in its configuration
file. After each
fault: no domain of ours is left that is neither running nor reported as
an orphan, no pCPU runs two guests' vCPU threads (read from /proc, not
from our metadata), and the next boot works and removes any orphan.

Iterations: NOVA_RT_FAULT_ITERATIONS (default 3, as in CI; ``tox -e
faults`` runs many more). The random delays come from a seeded generator
(NOVA_RT_FAULT_SEED, printed in the test's details).
"""

import os
import random
import signal
import subprocess
import sys
import time

from testtools import content

from nova.tests.functional.libvirt import base


def _iterations():
    return int(os.environ.get('NOVA_RT_FAULT_ITERATIONS', '3'))


class KillDuringBootTest(base.RealQemuTestCase):
    PRIVATE_LIBVIRTD = True

    def setUp(self):
        super().setUp()
        self.seed = int(os.environ.get('NOVA_RT_FAULT_SEED',
                                       str(int(time.time()))))
        self.random = random.Random(self.seed)
        self.addDetail('seed', content.text_content(str(self.seed)))
        self.conf = self.write_command_config()
        self.log = []
        self.addDetail('faults', content.Content(
            content.UTF8_TEXT, lambda: ['\n'.join(self.log).encode()]))

    def boot(self, suffix, *extra):
        return subprocess.Popen(
            # The console script's entry point, as an operator runs it.
            [sys.executable, '-m', 'nova.cmd.launcher', '--config-file',
             self.conf, *extra, 'boot', '--name', self.name(suffix),
             '--vcpus', '1', '--ram', '64',
             '--property', 'hw:cpu_policy=dedicated'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def command(self, *args):
        return subprocess.run(
            [sys.executable, '-m', 'nova.cmd.realtime', '--config-file',
             self.conf, *args],
            capture_output=True, text=True, timeout=120)

    def vcpu_pcpus(self):
        """{pCPU: [guest names]} from the vCPU threads' affinity."""
        holders = {}
        for name in self.our_domains():
            dom = self._conn().lookupByName(name)
            if not dom.isActive():
                continue
            for thread in base.thread_table(self.qemu_pid(name)):
                if base.VCPU_THREAD.match(thread.name):
                    for pcpu in thread.affinity:
                        holders.setdefault(pcpu, []).append(name)
        return holders

    def assert_host_consistent(self, what):
        conn = self._conn()
        for name in self.our_domains():
            dom = conn.lookupByName(name)
            if not dom.isActive():
                listed = self.command('list')
                self.assertIn(name, listed.stdout, what)
                self.assertIn('orphan', listed.stdout, (what, listed))
        for pcpu, names in self.vcpu_pcpus().items():
            self.assertEqual(1, len(names), (what, pcpu, names))

    def next_boot_works(self, what):
        """A boot after the fault succeeds (removing any orphan), and
        all guests are then deleted for the next round.
        """
        for name in self.our_domains():
            if self._conn().lookupByName(name).isActive():
                deleted = self.command('delete', name)
                self.assertEqual(0, deleted.returncode, (what, deleted))
        proc = self.boot('next')
        out, err = proc.communicate(timeout=120)
        self.assertEqual(0, proc.returncode, (what, out, err))
        self.assertEqual([self.name('next')], self.our_domains(),
                         (what, err))
        self.assertEqual(0, self.command('delete',
                                         self.name('next')).returncode)
        self.assertEqual([], self.our_domains())
        self.assertEqual([], os.listdir(self.instances_path))

    def test_libvirtd_killed_during_boot(self):
        for index in range(_iterations()):
            delay = self.random.uniform(0.0, 0.8)
            what = 'libvirtd SIGKILL after %.3f s' % delay
            proc = self.boot('k%d' % index)
            time.sleep(delay)
            self.libvirtd.kill(signal.SIGKILL)
            self.libvirtd.start()
            out, err = proc.communicate(timeout=120)
            self.log.append('%s: boot exit %d %s' % (
                what, proc.returncode, err.strip()[-200:]))
            self.assertNotIn('Traceback', err, what)
            if proc.returncode == 0:
                self.assertIn(self.name('k%d' % index), self.our_domains())
            self.assert_host_consistent(what)
            self.next_boot_works(what)

    def test_boot_process_killed(self):
        for index in range(_iterations()):
            delay = self.random.uniform(0.2, 1.5)
            sig = self.random.choice([signal.SIGKILL, signal.SIGTERM,
                                      signal.SIGINT])
            what = 'boot %s after %.3f s' % (sig.name, delay)
            proc = self.boot('p%d' % index)
            time.sleep(delay)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=120)
            self.log.append('%s: boot exit %d' % (what, proc.returncode))
            self.assertNotIn('Traceback', err, what)
            if sig != signal.SIGKILL:
                # Handled (128 + signal), or killed by the signal's default
                # action: before the interpreter installed the handlers
                # (nothing done yet) or after the command had finished
                # (the guest runs). Either way no half-booted domain.
                self.assertIn(proc.returncode, (128 + sig, -sig, 0),
                              (what, err))
                if proc.returncode in (-sig, 0):
                    conn = self._conn()
                    self.assertEqual([], [
                        name for name in self.our_domains()
                        if not conn.lookupByName(name).isActive()], what)
            if sig != signal.SIGKILL and proc.returncode != 0:
                # Terminated, not killed: it cleaned up after itself.
                self.assertEqual([], [
                    name for name in self.our_domains()
                    if not self._conn().lookupByName(name).isActive()],
                    what)
            self.assert_host_consistent(what)
            self.next_boot_works(what)
