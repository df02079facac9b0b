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

"""nova-realtime advertise against a real Placement (placement_fixture).

The host is a fake /proc and /sys tree (``--root``, the helpers of the
check-host unit tests) that check-host finds READY or NOT READY, checked
through this machine's qemu:///system (check-host fails libvirt's test
driver: it is no compute host's libvirt), as root with libvirtd running:
the functional environment. The provider is created as nova-compute creates
its compute node's, with traits, an inventory and an allocation of its own
that the agent must leave alone.
"""

import os
import re
import signal
import subprocess
import sys
import textwrap
import time

from oslo_config import cfg
from oslo_utils import uuidutils

from nova.compute import realtime_trait
from nova.conf import placement as placement_conf
from nova import exception
from nova.tests.functional.libvirt import base
from nova.tests.functional.placement import placement_fixture
from nova.tests.unit.virt.libvirt import test_host_checks as fake_host

TRAIT = 'CUSTOM_REALTIME_HOST'
NOVA_TRAITS = {'HW_CPU_X86_AVX2', 'CUSTOM_SOMETHING'}


class AdvertiseTestCase(fake_host.FakeHostTestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.fail('these tests read qemu:///system: run them as root')
        self.useFixture(base.HostLock())
        if not base.libvirt_answers(timeout=5):
            self.fail('libvirtd does not answer on %s: start it (as '
                      'tools/run-tests.sh does)' % base.URI)
        self.placement = self.useFixture(placement_fixture.PlacementFixture())
        self.addDetail('placement-start-seconds', base.content.text_content(
            '%.2f' % self.placement.started_in))
        self.hostname = 'rt-compute-%s' % uuidutils.generate_uuid()[:8]
        self.rp_uuid = uuidutils.generate_uuid()

    # -- the host -----------------------------------------------------------

    def ready_host(self):
        """What check-host passes on qemu:///system with virt_type qemu
        (TCG is a WARN): no RT throttling, a daemon that may lock memory.
        """
        self.sysctl('kernel.sched_rt_runtime_us', -1)
        self.rt_group_sched(machine=0)
        self.daemon(cap_eff=fake_host.CAP_ALL)

    def drift(self):
        """A reboot put the RT budget back to the kernel's default."""
        self.sysctl('kernel.sched_rt_runtime_us', 950000)

    # -- Placement, as nova-compute left it ----------------------------------

    def compute_node(self, traits=NOVA_TRAITS):
        self.placement.create_provider(self.hostname, self.rp_uuid)
        self.placement.request(
            'PUT', '/resource_providers/%s/inventories' % self.rp_uuid,
            json={'inventories': {'VCPU': {'total': 4}},
                  'resource_provider_generation': 0}, expect=200)
        self.placement.request(
            'PUT', '/allocations/%s' % uuidutils.generate_uuid(),
            version='1.12', expect=204, json={
                'allocations': {self.rp_uuid: {'resources': {'VCPU': 1}}},
                'project_id': uuidutils.generate_uuid(),
                'user_id': uuidutils.generate_uuid()})
        self.placement.set_traits(self.rp_uuid, traits)

    def nova_state(self):
        """What belongs to nova-compute: inventories and usages."""
        base_url = '/resource_providers/%s' % self.rp_uuid
        inventories = self.placement.request(
            'GET', base_url + '/inventories', expect=200).json()
        usages = self.placement.request(
            'GET', base_url + '/usages', expect=200).json()
        return inventories['inventories'], usages['usages']

    # -- the command ---------------------------------------------------------

    def config(self, extra='', node_uuid=True, host=None):
        """nova.conf; ``node_uuid``: nova-compute's compute_id in
        state_path names the provider (as on 2023.1 and later); ``host``:
        a [DEFAULT] host, which must never name it.
        """
        state = os.path.join(self.root, 'state')
        os.makedirs(state, exist_ok=True)
        compute_id = os.path.join(state, 'compute_id')
        if node_uuid:
            with open(compute_id, 'w') as f:
                f.write(self.rp_uuid + '\n')
        elif os.path.exists(compute_id):
            os.unlink(compute_id)
        path = os.path.join(self.root, 'nova.conf')
        with open(path, 'w') as f:
            f.write(textwrap.dedent('''\
                [DEFAULT]
                state_path = %s
                %s
                [compute]
                cpu_dedicated_set = 0-1
                [libvirt]
                virt_type = qemu
                [oslo_concurrency]
                lock_path = %s
                ''') % (state, 'host = %s' % host if host else '',
                        self.lock_path))
            f.write(self.placement.config_lines())
            f.write(extra)
        return path

    def command(self, *args, extra='', node_uuid=True, host=None,
                connection=base.URI):
        return [sys.executable, '-m', 'nova.cmd.realtime', '--config-file',
                self.config(extra, node_uuid, host), 'advertise', '--root',
                self.root,
                '--connection', connection] + list(args)

    def advertise(self, *args, **kw):
        proc = subprocess.run(self.command(*args, **kw), capture_output=True,
                              text=True, timeout=120)
        self.addDetail('advertise %s' % ' '.join(args),
                       base.content.text_content(
                           'exit %d\nstdout:\n%s\nstderr:\n%s' % (
                               proc.returncode, proc.stdout, proc.stderr)))
        return proc

    def assertOneError(self, proc, *needles):
        self.assertEqual(1, proc.returncode, proc.stderr)
        self.assertEqual('', proc.stdout)
        self.assertRegex(proc.stderr, r'^ERROR: [^\n]+\n$')
        for needle in needles:
            self.assertIn(needle, proc.stderr)


class TestAdvertise(AdvertiseTestCase):

    def test_ready_adds_the_trait_and_nothing_else(self):
        self.ready_host()
        self.compute_node()
        before = self.nova_state()
        proc = self.advertise()
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertEqual(
            'Added %s to resource provider %s (%s): check-host READY\n' % (
                TRAIT, self.hostname, self.rp_uuid), proc.stdout)
        traits, generation = self.placement.traits(self.rp_uuid)
        self.assertEqual(NOVA_TRAITS | {TRAIT}, traits)
        self.assertEqual(before, self.nova_state())
        # Idempotent and quiet: nothing written, nothing printed.
        proc = self.advertise('--once')
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertEqual('', proc.stdout)
        self.assertEqual('', proc.stderr)
        self.assertEqual((NOVA_TRAITS | {TRAIT}, generation),
                         self.placement.traits(self.rp_uuid))

    def test_drift_removes_the_trait_naming_the_failed_checks(self):
        self.drift()
        self.rt_group_sched(machine=0)
        self.daemon(cap_eff=fake_host.CAP_ALL)
        self.compute_node(traits=NOVA_TRAITS | {TRAIT})
        before = self.nova_state()
        proc = self.advertise()
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertEqual(
            'Removed %s from resource provider %s (%s): check-host NOT '
            'READY: FAIL kernel.sched_rt_runtime_us, FAIL '
            'kernel.rt_group_sched\n' % (TRAIT, self.hostname, self.rp_uuid),
            proc.stdout)
        self.assertEqual(NOVA_TRAITS, self.placement.traits(self.rp_uuid)[0])
        self.assertEqual(before, self.nova_state())
        # The verdict is check-host's.
        check = subprocess.run(
            [sys.executable, '-m', 'nova.cmd.realtime', '--config-file',
             self.config(), 'check-host', '--root', self.root,
             '--connection', base.URI],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(3, check.returncode, check.stdout)

    def test_gating_warning(self):
        self.ready_host()
        self.compute_node(traits=NOVA_TRAITS | {TRAIT})
        proc = self.advertise(
            extra='[realtime]\nadvertise_gating_warnings = kernel.preempt_rt'
                  '\n')
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertIn('check-host NOT READY: WARN kernel.preempt_rt '
                      '(gating warning)\n', proc.stdout)
        self.assertEqual(NOVA_TRAITS, self.placement.traits(self.rp_uuid)[0])
        # A check id that does not exist is refused, and fails closed: the
        # trait comes off, and the error says so.
        self.placement.set_traits(self.rp_uuid, NOVA_TRAITS | {TRAIT})
        proc = self.advertise(
            extra='[realtime]\nadvertise_gating_warnings = kernel.preempt\n')
        self.assertEqual(2, proc.returncode, proc.stderr)
        self.assertEqual(
            'Removed %s from resource provider %s (%s): not judged, '
            'invalid configuration: [realtime] advertise_gating_warnings: '
            'kernel.preempt is not a check of check-host; its checks: %s\n'
            % (TRAIT, self.hostname, self.rp_uuid,
               ', '.join(realtime_trait.host_checks.CHECK_IDS)),
            proc.stdout)
        self.assertRegex(proc.stderr, r'^ERROR: \[realtime\] '
                                      r'advertise_gating_warnings: '
                                      r'kernel.preempt is not a check[^\n]+'
                                      r'\n$')
        self.assertEqual(NOVA_TRAITS, self.placement.traits(self.rp_uuid)[0])
        # A valid id whose check did not run this pass (libvirt down: no
        # guests.* checks) is still valid: exit 1 for libvirt, not 2.
        self.placement.set_traits(self.rp_uuid, NOVA_TRAITS | {TRAIT})
        proc = self.advertise(
            extra='[realtime]\nadvertise_gating_warnings = guests.confined\n',
            connection='qemu+unix:///system?socket=/nonexistent/sock')
        self.assertEqual(1, proc.returncode, proc.stderr)
        self.assertIn('taken off resource provider %s' % self.hostname,
                      proc.stderr)
        self.assertEqual(NOVA_TRAITS, self.placement.traits(self.rp_uuid)[0])

    def test_invalid_nova_conf_takes_the_trait_off(self):
        """A nova.conf this tool refuses (here a misspelt option) is not a
        reason to leave the trait on: it is taken off, then exit 2.
        """
        self.ready_host()
        self.compute_node(traits=NOVA_TRAITS | {TRAIT})
        proc = self.advertise(
            extra='[libvirt]\nrealtime_scheduler_prority = 2\n')
        self.assertEqual(2, proc.returncode, proc.stderr)
        self.assertTrue(proc.stdout.startswith(
            'Removed %s from resource provider %s (%s): not judged, '
            'invalid configuration: ' % (TRAIT, self.hostname,
                                         self.rp_uuid)), proc.stdout)
        self.assertRegex(proc.stderr, r'^ERROR: [^\n]*realtime_scheduler_'
                                      r'prority[^\n]*; %s was taken off '
                                      r'resource provider %s\n$' % (
                                          TRAIT, self.hostname))
        self.assertEqual(NOVA_TRAITS, self.placement.traits(self.rp_uuid)[0])
        # Again: nothing to take off, and the error says where it is.
        proc = self.advertise('--interval', '0')
        self.assertEqual(2, proc.returncode, proc.stderr)
        self.assertEqual('', proc.stdout)
        self.assertRegex(proc.stderr, r'^ERROR: --interval=[^\n]*; %s is '
                                      r'not on resource provider %s\n$' % (
                                          TRAIT, self.hostname))
        # A dry run changes nothing, and says so.
        self.placement.set_traits(self.rp_uuid, NOVA_TRAITS | {TRAIT})
        proc = self.advertise('--dry-run', extra='[libvrt]\n')
        self.assertEqual(2, proc.returncode, proc.stderr)
        self.assertEqual('', proc.stdout)
        self.assertIn('a dry run, the trait was not changed', proc.stderr)
        self.assertIn(TRAIT, self.placement.traits(self.rp_uuid)[0])

    def test_configured_trait_name(self):
        self.ready_host()
        self.compute_node()
        proc = self.advertise(extra='[realtime]\ntrait = CUSTOM_RT_GOLD\n')
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertEqual(NOVA_TRAITS | {'CUSTOM_RT_GOLD'},
                         self.placement.traits(self.rp_uuid)[0])
        proc = self.advertise(extra='[realtime]\ntrait = HW_CPU_X86_AVX2\n')
        self.assertEqual(2, proc.returncode)
        self.assertRegex(proc.stderr,
                         r'^ERROR: [^\n]*\[realtime\] trait = HW_CPU_X86_AVX2'
                         r'[^\n]*\n$')

    def test_dry_run_changes_nothing(self):
        self.ready_host()
        self.compute_node()
        before = self.placement.traits(self.rp_uuid)
        proc = self.advertise('--dry-run')
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertEqual(
            'Would add %s to resource provider %s (%s): check-host READY\n'
            % (TRAIT, self.hostname, self.rp_uuid), proc.stdout)
        self.assertEqual(before, self.placement.traits(self.rp_uuid))
        self.assertFalse(self.placement.trait_exists(TRAIT))
        self.drift()
        self.placement.set_traits(self.rp_uuid, NOVA_TRAITS | {TRAIT})
        before = self.placement.traits(self.rp_uuid)
        proc = self.advertise('--dry-run')
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertTrue(proc.stdout.startswith(
            'Would remove %s from resource provider' % TRAIT), proc.stdout)
        self.assertEqual(before, self.placement.traits(self.rp_uuid))

    def test_placement_down_one_error_nothing_changed(self):
        self.drift()
        self.compute_node(traits=NOVA_TRAITS | {TRAIT})
        before = self.placement.traits(self.rp_uuid)
        config_lines = self.placement.config_lines()
        self.placement.stop()
        command = self.command()
        # The config written by command() names the stopped server's port.
        with open(command[4]) as f:
            self.assertIn(config_lines, f.read())
        proc = subprocess.run(command, capture_output=True, text=True,
                              timeout=120)
        self.assertOneError(proc, 'ERROR: Placement: GET /resource_providers'
                                  '/%s' % self.rp_uuid,
                            'cannot connect to http://127.0.0.1:%d/'
                            'resource_providers/%s: Connection refused'
                            % (self.placement.port, self.rp_uuid))
        self.placement.start()
        self.assertEqual(before, self.placement.traits(self.rp_uuid))

    def test_no_provider_is_one_error(self):
        self.ready_host()
        proc = self.advertise()
        self.assertOneError(
            proc, "no resource provider with UUID %s in Placement (node "
                  "UUID from %s)" % (self.rp_uuid, os.path.join(
                      self.root, 'state', 'compute_id')),
            'nova-compute has not registered this host yet',
            'the trait was not changed')
        self.assertFalse(self.placement.trait_exists(TRAIT))

    def test_libvirt_unreachable_takes_the_trait_off_and_fails(self):
        self.ready_host()
        self.compute_node(traits=NOVA_TRAITS | {TRAIT})
        uri = 'qemu+unix:///system?socket=/nonexistent/libvirt-sock'
        proc = self.advertise(connection=uri)
        self.assertEqual(1, proc.returncode, proc.stderr)
        self.assertEqual(
            'Removed %s from resource provider %s (%s): check-host NOT '
            'READY: FAIL libvirt.connection, FAIL libvirt.version, FAIL '
            'libvirt.virt_type\n' % (TRAIT, self.hostname, self.rp_uuid),
            proc.stdout)
        self.assertRegex(proc.stderr, r'^ERROR: libvirt: %s: [^\n]+\(the '
                                      r'host was judged NOT READY: %s was '
                                      r'taken off resource provider %s\)\n$'
                         % (re.escape(uri), TRAIT, self.hostname))
        self.assertEqual(NOVA_TRAITS, self.placement.traits(self.rp_uuid)[0])

    def test_provider_named_after_libvirt_hostname(self):
        """Without compute_id: the name nova-compute's libvirt driver gives
        its node, whatever [DEFAULT] host says; a provider named after
        [DEFAULT] host (another host's, say) is left alone.
        """
        self.ready_host()
        conn = base.libvirt.open(base.URI)
        self.addCleanup(conn.close)
        self.hostname = conn.getHostname()
        self.compute_node()
        other = uuidutils.generate_uuid()
        self.placement.create_provider('compute-alias-1', other)
        self.placement.set_traits(other, {'CUSTOM_SOMETHING'})
        proc = self.advertise(node_uuid=False, host='compute-alias-1')
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertIn('resource provider %s (%s)' % (
            self.hostname, self.rp_uuid), proc.stdout)
        self.assertIn(TRAIT, self.placement.traits(self.rp_uuid)[0])
        self.assertEqual({'CUSTOM_SOMETHING'},
                         self.placement.traits(other)[0])

    def test_provider_found_by_node_uuid_whatever_host_says(self):
        """nova-compute's compute_id names the provider even when neither
        [DEFAULT] host nor libvirt's hostname is its name.
        """
        self.ready_host()
        self.compute_node()
        decoy = uuidutils.generate_uuid()
        self.placement.create_provider('compute-alias-2', decoy)
        proc = self.advertise(host='compute-alias-2')
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertEqual(
            'Added %s to resource provider %s (%s): check-host READY\n' % (
                TRAIT, self.hostname, self.rp_uuid), proc.stdout)
        self.assertIn(TRAIT, self.placement.traits(self.rp_uuid)[0])
        self.assertEqual(set(), self.placement.traits(decoy)[0])
        # Libvirt down: the node UUID still finds the provider, and the
        # trait comes off it.
        proc = self.advertise(
            host='compute-alias-2',
            connection='qemu+unix:///system?socket=/nonexistent/sock')
        self.assertEqual(1, proc.returncode, proc.stderr)
        self.assertTrue(proc.stdout.startswith(
            'Removed %s from resource provider %s (%s)' % (
                TRAIT, self.hostname, self.rp_uuid)), proc.stdout)
        self.assertNotIn(TRAIT, self.placement.traits(self.rp_uuid)[0])

    def test_interval_follows_drift_quietly_and_stops_on_sigterm(self):
        self.ready_host()
        self.compute_node()
        proc = subprocess.Popen(self.command('--interval', '1'),
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())

        def wait_for(present):
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if (TRAIT in self.placement.traits(self.rp_uuid)[0]) == \
                        present:
                    return
                self.assertIsNone(proc.poll(), proc.stderr.read()
                                  if proc.poll() is not None else '')
                time.sleep(0.2)
            self.fail('the trait was not %s within 60 s' % (
                'added' if present else 'removed'))

        wait_for(True)
        time.sleep(2.5)  # passes with nothing to do
        self.drift()
        wait_for(False)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(0, proc.returncode, err)
        self.assertEqual('', err)
        lines = out.splitlines()
        self.assertEqual(2, len(lines), out)
        self.assertTrue(lines[0].startswith('Added %s' % TRAIT), out)
        self.assertTrue(lines[1].startswith('Removed %s' % TRAIT), out)
        self.assertIn('FAIL kernel.sched_rt_runtime_us', lines[1])
        self.assertEqual(NOVA_TRAITS, self.placement.traits(self.rp_uuid)[0])


class TestGenerationConflicts(AdvertiseTestCase):
    """Another client changes the provider between our read and write."""

    def provider(self):
        return realtime_trait.Provider(self.rp_uuid, self.hostname, 'test')

    def client(self):
        conf = cfg.ConfigOpts()
        placement_conf.register_opts(conf)
        path = os.path.join(self.root, 'placement-only.conf')
        with open(path, 'w') as f:
            f.write(self.placement.config_lines())
        conf(['--config-file', path], project='nova-realtime-test',
             default_config_files=[])
        client = realtime_trait.PlacementClient(conf)
        real_get_traits = client.get_traits
        real_put_traits = client.put_traits
        self.puts = []

        def get_traits(uuid):
            found = real_get_traits(uuid)
            if self.bumps:
                # nova-compute (say) sets a trait of its own meanwhile.
                trait = self.bumps.pop(0)
                traits, _gen = self.placement.traits(uuid)
                self.placement.set_traits(uuid, traits | {trait})
            return found

        def put_traits(uuid, traits, generation):
            written = real_put_traits(uuid, traits, generation)
            self.puts.append(written)
            return written

        client.get_traits = get_traits
        client.put_traits = put_traits
        return client

    def test_conflict_is_retried_and_the_other_change_survives(self):
        self.compute_node()
        self.bumps = ['CUSTOM_NOVA_COMPUTE']
        waits = []
        outcome = realtime_trait.sync_trait(
            self.client(), self.provider(), TRAIT, True, sleep=waits.append)
        self.assertTrue(outcome.changed)
        self.assertEqual([False, True], self.puts)
        self.assertEqual([realtime_trait.CONFLICT_BACKOFF], waits)
        self.assertEqual(NOVA_TRAITS | {'CUSTOM_NOVA_COMPUTE', TRAIT},
                         self.placement.traits(self.rp_uuid)[0])

    def test_removal_keeps_the_other_change(self):
        self.compute_node(traits=NOVA_TRAITS | {TRAIT})
        self.bumps = ['CUSTOM_NOVA_COMPUTE']
        outcome = realtime_trait.sync_trait(
            self.client(), self.provider(), TRAIT, False, sleep=lambda s: None)
        self.assertTrue(outcome.changed)
        self.assertEqual([False, True], self.puts)
        self.assertEqual(NOVA_TRAITS | {'CUSTOM_NOVA_COMPUTE'},
                         self.placement.traits(self.rp_uuid)[0])

    def test_conflicts_that_do_not_stop_are_a_clear_error(self):
        self.compute_node()
        attempts = realtime_trait.CONFLICT_ATTEMPTS
        self.bumps = ['CUSTOM_OTHER_%d' % i for i in range(attempts)]
        waits = []
        error = self.assertRaises(
            exception.GenerationConflict, realtime_trait.sync_trait,
            self.client(), self.provider(), TRAIT, True, sleep=waits.append)
        self.assertEqual([False] * attempts, self.puts)
        self.assertEqual([0.1, 0.2, 0.4, 0.8], waits)
        self.assertIn('changed under us %d times in a row' % attempts,
                      str(error))
        self.assertIn('nothing changed', str(error))
        traits = self.placement.traits(self.rp_uuid)[0]
        self.assertNotIn(TRAIT, traits)
        self.assertEqual(NOVA_TRAITS | set(
            'CUSTOM_OTHER_%d' % i for i in range(attempts)), traits)
