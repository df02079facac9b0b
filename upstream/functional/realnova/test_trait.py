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

"""The scheduler follows ``nova-realtime advertise``'s trait.

Upstream Nova's scheduler and ``nova-realtime advertise`` (a separate
process, our tree's command) share one Placement, served over TCP
(``base.TCPPlacementFixture``).

The provider advertise changes is the compute node's: nova-compute's
libvirt driver names it after libvirt's hostname (``virsh hostname``;
``self.nodename``). advertise is given no ``[DEFAULT] host`` and a
``state_path`` without a ``compute_id`` file, so it finds the provider by
that same name (libvirt's hostname) whether it looks there or, later,
first in ``compute_id`` (its lookup is being changed).

Which verdict advertise reaches is set as our advertise functional tests
set it (``nova/tests/functional/placement/test_advertise.py``): check-host
reads a fake ``/proc`` and ``/sys`` tree (``--root``) while asking the
real ``qemu:///system``. READY: no RT throttling, an RT group budget of 0
for machine.slice, a libvirtd with CAP_SYS_RESOURCE. NOT READY: the same
with the libvirtd of this host, without CAP_SYS_RESOURCE and an 8 MiB
memlock limit (check-host: FAIL memory.locking).
"""

import os
import subprocess
import sys

from testtools import content

from realnova import base
from realnova import test_realtime

TRAIT = 'CUSTOM_REALTIME_HOST'
RT_TRAIT = dict(test_realtime.RT_MIXED, **{'trait:%s' % TRAIT: 'required'})

CAP_ALL = '000001ffffffffff'
CAP_NO_SYS_RESOURCE = '000001fffeffffff'
MEMLOCK_8M = 8 * 1024 * 1024
LIMITS = ('Limit                     Soft Limit           Hard Limit'
          '           Units     \n'
          'Max locked memory         %-20s %-20s bytes     \n')


def fake_host(root, ready):
    """A /proc and /sys tree check-host finds READY or NOT READY."""
    pid = 4242
    soft = hard = 'unlimited' if ready else MEMLOCK_8M
    files = {
        'sys/devices/system/cpu/online': '0-1',
        'proc/sys/kernel/sched_rt_runtime_us': '-1',
        'sys/fs/cgroup/cpu/cpu.rt_runtime_us': '950000',
        'sys/fs/cgroup/cpu/machine/cpu.rt_runtime_us': '0',
        'proc/%d/comm' % pid: 'libvirtd',
        'proc/%d/status' % pid: 'Name:\tlibvirtd\nCapEff:\t%s\nCapBnd:\t%s' % (
            (CAP_ALL, CAP_ALL) if ready else
            (CAP_NO_SYS_RESOURCE, CAP_NO_SYS_RESOURCE)),
        'proc/%d/limits' % pid: LIMITS % (soft, hard),
    }
    for path, text in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'w') as f:
            f.write('%s\n' % text)


class AdvertisedTraitTest(test_realtime.RealtimeTestBase):

    NEEDS_NOVA_REALTIME = True

    def advertise(self, ready):
        work = self.useFixture(base.fixtures.TempDir()).path
        root = os.path.join(work, 'root')
        state = os.path.join(work, 'state')
        os.makedirs(state)
        fake_host(root, ready)
        config = os.path.join(work, 'nova.conf')
        with open(config, 'w') as f:
            f.write('[DEFAULT]\nstate_path = %s\n'
                    '[compute]\ncpu_dedicated_set = %s\n'
                    'cpu_shared_set = %s\n'
                    '[libvirt]\nvirt_type = qemu\n'
                    '[oslo_concurrency]\nlock_path = %s\n' % (
                        state, base.DEDICATED, base.SHARED, work))
            f.write(self.placement_fixture.config_lines())
        proc = subprocess.run(
            [test_realtime.nova_realtime(), '--config-file', config,
             'advertise', '--once', '--root', root, '--connection',
             base.URI], capture_output=True, text=True, timeout=120,
            env=base.command_env())
        self.addDetail('advertise-%s' % ('ready' if ready else 'not-ready'),
                       content.text_content('exit %d\nstdout:\n%s\nstderr:\n'
                                            '%s' % (proc.returncode,
                                                    proc.stdout,
                                                    proc.stderr)))
        self.assertEqual(0, proc.returncode, proc.stderr)
        return proc.stdout

    def traits(self):
        return set(self._get_provider_traits(self.rp_uuid))

    def test_scheduler_follows_the_trait(self):
        provider = '%s (%s)' % (self.nodename, self.rp_uuid)
        # The host was READY once: the trait is on its provider.
        self.placement.put('/traits/%s' % TRAIT, None, version='1.6')
        self._set_provider_traits(self.rp_uuid, sorted(self.traits() |
                                                       {TRAIT}))
        nova_traits = self.traits() - {TRAIT}
        self.assertIn(TRAIT, self.traits())

        out = self.advertise(ready=False)
        self.assertTrue(out.startswith(
            'Removed %s from resource provider %s: check-host NOT READY: '
            % (TRAIT, provider)), out)
        self.assertIn('FAIL memory.locking', out)
        self.assertEqual(nova_traits, self.traits())
        server, _seconds = self.boot(RT_TRAIT, expected='ERROR')
        self.assertIn('No valid host', server['fault']['message'])
        self._delete_server(server)

        out = self.advertise(ready=True)
        self.assertEqual('Added %s to resource provider %s: check-host '
                         'READY\n' % (TRAIT, provider), out)
        self.assertEqual(nova_traits | {TRAIT}, self.traits())
        server, seconds = self.boot(RT_TRAIT)
        sys.stdout.write('\n%s: ACTIVE in %.2f s\n' % (self.id(), seconds))
        self.assertEqual(self.nodename,
                         server['OS-EXT-SRV-ATTR:hypervisor_hostname'])
        self.assertRealtimeThreads(server['OS-EXT-SRV-ATTR:instance_name'],
                                   test_realtime.RT_VCPUS)
        self.delete_and_check_gone(server)
        # nova-compute kept the trait it does not own.
        self.assertEqual(nova_traits | {TRAIT}, self.traits())
