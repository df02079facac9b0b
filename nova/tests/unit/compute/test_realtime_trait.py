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

"""nova.compute.realtime_trait without a Placement: the verdict, the trait
logic against an in-memory Placement, the loop, the options and the
documented command lines. The real Placement is in
nova/tests/functional/placement.
"""

import argparse
import os
import re
import shlex
import socket

import fixtures
from oslo_config import cfg

from nova.cmd import realtime as command
from nova.compute import realtime_trait as rt
from nova.conf import placement as placement_conf
from nova.conf import realtime as realtime_conf
from nova import exception
from nova import test
from nova.virt.libvirt import host as host_mod
from nova.virt.libvirt import host_checks as hc

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))
UUID = '4e8e5957-649f-477b-8f2c-a2e8b4bb4ca1'
TRAIT = 'CUSTOM_REALTIME_HOST'


def result(check_id, status):
    return hc.CheckResult(check_id, status, 'found', 'fix')


PROVIDER = rt.Provider(UUID, 'compute-1', "libvirt's hostname")
READY = [result('kernel.preempt_rt', hc.WARN),
         result('kernel.sched_rt_runtime_us', hc.OK),
         result('libvirt.connection', hc.OK),
         result('libvirt.virt_type', hc.WARN)]


class TestJudge(test.TestCase):

    def test_ready_is_check_host_s_ready(self):
        verdict = rt.judge(READY, [])
        self.assertTrue(verdict.ready)
        self.assertEqual(hc.host_is_ready(READY), verdict.ready)
        self.assertEqual('check-host READY', verdict.describe())

    def test_every_fail_gates(self):
        results = READY + [result('memory.locking', hc.FAIL),
                           result('memory.hugepages', hc.FAIL)]
        verdict = rt.judge(results, [])
        self.assertFalse(verdict.ready)
        self.assertEqual(hc.host_is_ready(results), verdict.ready)
        self.assertEqual('check-host NOT READY: FAIL memory.locking, FAIL '
                         'memory.hugepages', verdict.describe())

    def test_only_the_named_warnings_gate(self):
        self.assertTrue(rt.judge(READY, ['kernel.sched_rt_runtime_us']).ready)
        verdict = rt.judge(READY, ['libvirt.virt_type'])
        self.assertFalse(verdict.ready)
        self.assertEqual('check-host NOT READY: WARN libvirt.virt_type '
                         '(gating warning)', verdict.describe())

    def test_gating_warnings_come_from_the_option(self):
        self.flags(advertise_gating_warnings=['kernel.preempt_rt'],
                   group='realtime')
        self.assertFalse(rt.judge(READY).ready)

    def test_unknown_gating_id_is_refused(self):
        error = self.assertRaises(
            exception.GatingWarningInvalid, rt.judge, READY,
                                  ['kernel.preempt'])
        self.assertIsInstance(error, exception.Invalid)
        self.assertIn('kernel.preempt is not a check', str(error))
        self.assertIn('kernel.preempt_rt', str(error))

    def test_gating_ids_are_judged_against_the_fixed_list(self):
        """Not against the checks that ran: without libvirt the guests.*
        checks do not run, and a valid id must still be valid; an invalid
        one is refused even when every check ran.
        """
        down = [hc.CheckResult('libvirt.connection', hc.FAIL, 'down', '',
                               unknown=True)]
        verdict = rt.judge(down, ['guests.confined'])
        self.assertFalse(verdict.ready)
        self.assertTrue(rt.judge(READY, ['guests.confined']).ready)
        error = self.assertRaises(
            exception.GatingWarningInvalid, rt.judge, down,
                                  ['guests.confined', 'guests.confine'])
        self.assertIn('guests.confine is not a check', str(error))
        self.assertIn(', '.join(hc.CHECK_IDS), str(error))

    def test_a_problem_is_never_ready(self):
        verdict = rt.Verdict(True, (), problem='bad option')
        self.assertFalse(verdict.ready)
        self.assertEqual('not judged, invalid configuration: bad option',
                         verdict.describe())


class FakePlacement(object):
    """An in-memory Placement with generations, for the sync logic."""

    def __init__(self, name='compute-1', traits=()):
        self.providers = {name: UUID} if name else {}
        self.traits = set(traits)
        self.generation = 3
        self.known = set()
        self.calls = []
        self.conflicts = 0

    def find_provider(self, name):
        self.calls.append(('find', name))
        return self.providers.get(name)

    def get_provider(self, uuid):
        self.calls.append(('find', uuid))
        for name, known in self.providers.items():
            if known == uuid:
                return name
        return None

    def get_traits(self, uuid):
        self.calls.append(('get', uuid))
        return set(self.traits), self.generation

    def ensure_trait(self, trait):
        self.calls.append(('ensure', trait))
        self.known.add(trait)

    def put_traits(self, uuid, traits, generation):
        self.calls.append(('put', sorted(traits), generation))
        if self.conflicts:
            self.conflicts -= 1
            self.generation += 1
            return False
        if generation != self.generation:
            return False
        assert {t for t in traits if t.startswith('CUSTOM_')} <= (
            self.known | {t for t in self.traits if t.startswith('CUSTOM_')})
        self.traits = set(traits)
        self.generation += 1
        return True


class TestSyncTrait(test.TestCase):

    def test_add_keeps_other_traits(self):
        placement = FakePlacement(traits={'HW_CPU_X86_AVX2', 'CUSTOM_X'})
        outcome = rt.sync_trait(placement, PROVIDER, TRAIT, True)
        self.assertEqual((True, True), (outcome.present, outcome.changed))
        self.assertEqual({'HW_CPU_X86_AVX2', 'CUSTOM_X', TRAIT},
                         placement.traits)
        self.assertIn(('ensure', TRAIT), placement.calls)
        self.assertEqual(('put', sorted(placement.traits), 3),
                         placement.calls[-1])

    def test_remove_keeps_other_traits_and_creates_nothing(self):
        placement = FakePlacement(traits={'HW_CPU_X86_AVX2', TRAIT})
        outcome = rt.sync_trait(placement, PROVIDER, TRAIT, False)
        self.assertEqual((False, True), (outcome.present, outcome.changed))
        self.assertEqual({'HW_CPU_X86_AVX2'}, placement.traits)
        self.assertNotIn('ensure', [c[0] for c in placement.calls])

    def test_nothing_to_do_writes_nothing(self):
        for wanted, traits in ((True, {TRAIT}), (False, set())):
            placement = FakePlacement(traits=traits)
            outcome = rt.sync_trait(placement, PROVIDER, TRAIT, wanted)
            self.assertFalse(outcome.changed)
            self.assertEqual(wanted, outcome.present)
            self.assertEqual(['get'], [c[0] for c in placement.calls])

    def test_dry_run_only_reads(self):
        for wanted, traits in ((True, set()), (False, {TRAIT})):
            placement = FakePlacement(traits=traits)
            outcome = rt.sync_trait(placement, PROVIDER, TRAIT, wanted,
                                    dry_run=True)
            self.assertEqual((not wanted, False),
                             (outcome.present, outcome.changed))
            self.assertEqual(['get'], [c[0] for c in placement.calls])
            self.assertEqual(traits, placement.traits)

    def test_conflict_rereads_and_retries(self):
        placement = FakePlacement(traits={'HW_CPU_X86_AVX2'})
        placement.conflicts = 2
        waits = []
        outcome = rt.sync_trait(placement, PROVIDER, TRAIT, True,
                                sleep=waits.append)
        self.assertTrue(outcome.changed)
        self.assertEqual([0.1, 0.2], waits)
        self.assertEqual(['get', 'ensure', 'put', 'get', 'put',
                          'get', 'put'], [c[0] for c in placement.calls])
        # Each write carries the generation of the read before it.
        self.assertEqual([3, 4, 5], [c[2] for c in placement.calls
                                     if c[0] == 'put'])

    def test_conflicts_that_do_not_stop(self):
        placement = FakePlacement()
        placement.conflicts = rt.CONFLICT_ATTEMPTS
        waits = []
        error = self.assertRaises(
            exception.GenerationConflict, rt.sync_trait, placement, PROVIDER,
            TRAIT, True, sleep=waits.append)
        self.assertEqual(4, len(waits))
        self.assertEqual(rt.CONFLICT_ATTEMPTS,
                         [c[0] for c in placement.calls].count('put'))
        self.assertNotIn(TRAIT, placement.traits)
        self.assertIn('not added, nothing changed', str(error))
        self.assertNotIsInstance(error, exception.Invalid)

    def test_no_provider(self):
        placement = FakePlacement(name=None)
        host = host_mod.Host('test:///default')
        self.addCleanup(host.close)
        self.flags(state_path=self.useFixture(fixtures.TempDir()).path)
        error = self.assertRaises(
            exception.ProviderNotFound, rt.locate_provider,
                                  placement, host)
        name = host.get_connection().getHostname()
        self.assertIn("no resource provider named %r in Placement "
                      "(libvirt's hostname)" % name, str(error))
        self.assertIn('state_path', str(error))
        self.assertTrue(str(error).endswith('the trait was not changed'))
        self.assertEqual([('find', name)], placement.calls)


class TestFailClosed(test.TestCase):
    """Advertiser passes against the in-memory Placement, on libvirt's
    test driver (which check-host fails: the host is NOT READY).
    """

    def setUp(self):
        super().setUp()
        self.flags(state_path=self.useFixture(fixtures.TempDir()).path)
        self.host = host_mod.Host('test:///default')
        self.addCleanup(self.host.close)
        name = self.host.get_connection().getHostname()
        self.placement = FakePlacement(name=name, traits={TRAIT, 'CUSTOM_X'})
        self.placement.known.add(TRAIT)
        self.root = self.useFixture(fixtures.TempDir()).path
        self.lines = []

    def agent(self, host=None, dry_run=False):
        from nova.virt.libvirt import host_facts
        return rt.Advertiser(host or self.host,
                             lambda: host_facts.HostFacts(self.root),
                             self.lines.append, dry_run=dry_run,
                             client=self.placement, sleep=lambda s: None)

    def test_invalid_gating_id_takes_the_trait_off_then_raises(self):
        self.flags(advertise_gating_warnings=['kernel.preempt'],
                   group='realtime')
        self.assertRaises(
            exception.GatingWarningInvalid, self.agent().run_once)
        self.assertEqual({'CUSTOM_X'}, self.placement.traits)
        self.assertEqual(1, len(self.lines))
        self.assertTrue(self.lines[0].startswith(
            'Removed %s from resource provider' % TRAIT))
        self.assertIn('not judged, invalid configuration: [realtime] '
                      'advertise_gating_warnings: kernel.preempt is not a '
                      'check', self.lines[0])

    def test_invalid_gating_id_and_placement_failing(self):
        self.flags(advertise_gating_warnings=['kernel.preempt'],
                   group='realtime')

        def refuse(*args):
            raise exception.PlacementError(reason='HTTP 503')
        self.placement.get_traits = refuse
        error = self.assertRaises(exception.TraitNotWithdrawn,
                                  self.agent().run_once)
        self.assertIsInstance(error, exception.Invalid)
        self.assertIn('kernel.preempt is not a check', str(error))
        self.assertIn('; the trait could not be taken off: Placement: '
                      'HTTP 503', str(error))
        self.assertEqual([], self.lines)

    def test_libvirt_down_takes_it_off_and_says_so(self):
        down = host_mod.Host('qemu+unix:///system?socket=/nonexistent/s')
        self.placement.providers = {rt.libvirt_style_hostname(): UUID}
        error = self.assertRaises(exception.LibvirtUnreachable,
                                  self.agent(down).run_once)
        self.assertIn('(the host was judged NOT READY: %s was taken off '
                      'resource provider %s)' % (
                          TRAIT, rt.libvirt_style_hostname()), str(error))
        self.assertEqual({'CUSTOM_X'}, self.placement.traits)
        # A dry run says it left it on.
        self.placement.traits.add(TRAIT)
        error = self.assertRaises(exception.LibvirtUnreachable,
                                  self.agent(down, dry_run=True).run_once)
        self.assertIn('a dry run left %s on' % TRAIT, str(error))
        self.assertIn(TRAIT, self.placement.traits)


class TestDescribe(test.TestCase):

    def test_lines(self):
        ready = rt.Verdict(True, ())
        drifted = rt.Verdict(False, (result('memory.locking', hc.FAIL),))
        added = rt.Outcome('c1', UUID, TRAIT, True, True, True)
        self.assertEqual('Added %s to resource provider c1 (%s): check-host '
                         'READY' % (TRAIT, UUID),
                         rt.describe_outcome(added, ready))
        removed = rt.Outcome('c1', UUID, TRAIT, False, False, True)
        self.assertEqual('Removed %s from resource provider c1 (%s): '
                         'check-host NOT READY: FAIL memory.locking' % (
                             TRAIT, UUID),
                         rt.describe_outcome(removed, drifted))
        same = rt.Outcome('c1', UUID, TRAIT, True, True, False)
        self.assertIsNone(rt.describe_outcome(same, ready))
        self.assertTrue(rt.describe_outcome(same, ready, dry_run=True)
                        .startswith('No change: %s is on' % TRAIT))
        would = rt.Outcome('c1', UUID, TRAIT, True, False, False)
        self.assertTrue(rt.describe_outcome(would, drifted, dry_run=True)
                        .startswith('Would remove %s from' % TRAIT))


class TestProviderName(test.TestCase):

    def setUp(self):
        super().setUp()
        self.state = self.useFixture(fixtures.TempDir()).path
        self.flags(state_path=self.state)
        self.host = host_mod.Host('test:///default')
        self.addCleanup(self.host.close)

    def compute_id(self, text, directory=None):
        with open(os.path.join(directory or self.state, 'compute_id'),
                  'w') as f:
            f.write(text)

    def test_default_host_is_never_the_name(self):
        name, source = rt.provider_name(self.host)
        self.assertEqual(self.host.get_connection().getHostname(), name)
        self.assertIn('libvirt', source)
        self.assertNotIn('host', rt.CONF)

    def test_machine_hostname_the_libvirt_way_without_libvirt(self):
        host = host_mod.Host('qemu+unix:///system?socket=/nonexistent/sock')
        name, source = rt.provider_name(host)
        self.assertEqual(rt.libvirt_style_hostname(), name)
        self.assertIn('libvirt did not answer', source)
        self.assertTrue(name.startswith(socket.gethostname().split('.')[0]))

    def test_node_uuid_from_state_path(self):
        self.assertEqual((None, None), rt.read_node_uuid())
        self.compute_id(' %s\n' % UUID.upper())
        self.assertEqual((UUID, os.path.join(self.state, 'compute_id')),
                         rt.read_node_uuid())
        placement = FakePlacement(name='libvirt-named-it-so')
        provider = rt.locate_provider(placement, self.host)
        self.assertEqual((UUID, 'libvirt-named-it-so'),
                         (provider.uuid, provider.name))
        self.assertIn('node UUID from %s' % self.state, provider.source)
        self.assertEqual([('find', UUID)], placement.calls)

    def test_node_uuid_not_in_placement(self):
        self.compute_id(UUID)
        placement = FakePlacement(name=None)
        error = self.assertRaises(
            exception.ProviderNotFound, rt.locate_provider,
                                  placement, self.host)
        self.assertIn('no resource provider with UUID %s in Placement (node '
                      'UUID from %s/compute_id)' % (UUID, self.state),
                      str(error))

    def test_next_to_the_config_file_too(self):
        etc = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(etc, 'nova.conf')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\nstate_path = %s\n' % self.state)
        conf = cfg.ConfigOpts()
        conf.register_opts(realtime_conf.state_path_opts)
        conf(['--config-file', path], project='x', default_config_files=[])
        self.compute_id(UUID, etc)
        self.assertEqual((UUID, os.path.join(etc, 'compute_id')),
                         rt.read_node_uuid(conf))
        self.compute_id(UUID)
        self.assertEqual(UUID, rt.read_node_uuid(conf)[0])
        # Files that disagree stop nova-compute, and advertise.
        self.compute_id('11111111-2222-3333-4444-555555555555')
        error = self.assertRaises(
            exception.NodeIdentityError, rt.read_node_uuid,
                                  conf)
        self.assertIn('holds 11111111-2222-3333-4444-555555555555 but',
                      str(error))
        self.assertIn('the trait was not changed', str(error))

    def test_unreadable_identity(self):
        for text in ('', 'not-a-uuid', '\xff' * 36):
            self.compute_id(text)
            error = self.assertRaises(exception.NodeIdentityError,
                                      rt.read_node_uuid)
            self.assertIn('compute_id does not hold a UUID', str(error))


class TestOptions(test.TestCase):

    def test_trait_must_be_a_custom_trait(self):
        self.assertEqual('CUSTOM_REALTIME_HOST', rt.CONF.realtime.trait)
        for good in ('CUSTOM_RT', 'CUSTOM_RT_2', 'CUSTOM_' + 'A' * 248):
            self.flags(trait=good, group='realtime')
            self.assertEqual(good, rt.CONF.realtime.trait)
        for bad in ('HW_CPU_X86_AVX2', 'CUSTOM_', 'custom_rt', 'CUSTOM_rt',
                    'CUSTOM_RT-1', 'CUSTOM_' + 'A' * 249):
            self.assertRaises(ValueError, self.flags, trait=bad,
                              group='realtime')

    def test_gating_warnings_are_check_ids(self):
        self.flags(advertise_gating_warnings=['cpu.smt_siblings'],
                   group='realtime')
        self.assertRaises(ValueError, self.flags,
                          advertise_gating_warnings=['SMT'], group='realtime')

    def test_placement_options_are_nova_compute_s(self):
        group = rt.CONF.placement
        self.assertEqual('placement', group.service_type)
        self.assertEqual(['internal', 'public'], group.valid_interfaces)
        for name in ('auth_type', 'auth_section', 'region_name', 'cafile',
                     'insecure', 'timeout', 'endpoint_override'):
            self.assertIn(name, group)


class TestPlacementClient(test.TestCase):

    def conf(self, text):
        conf = cfg.ConfigOpts()
        placement_conf.register_opts(conf)
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'p.conf')
        with open(path, 'w') as f:
            f.write('[placement]\n' + text)
        conf(['--config-file', path], project='x', default_config_files=[])
        return conf

    def test_config_errors(self):
        for text, needle in (
                ('', 'auth_type is not set'),
                ('auth_type = nosuch\n', 'nosuch could not be found'),
                ('auth_type = password\n', 'auth_url')):
            error = self.assertRaises(exception.PlacementConfigInvalid,
                                      rt.PlacementClient, self.conf(text))
            self.assertIsInstance(error, exception.Invalid)
            self.assertIn(needle, str(error))

    def test_unreachable_is_one_short_line(self):
        # Nothing listens on port 1 of the loopback address.
        client = rt.PlacementClient(self.conf(
            'auth_type = admin_token\nendpoint = http://127.0.0.1:1\n'
            'token = admin\n'))
        error = self.assertRaises(
            exception.PlacementError, client.find_provider,
                                  'c 1')
        self.assertEqual(
            'Placement: GET /resource_providers?name=c%201: cannot connect '
            'to http://127.0.0.1:1/resource_providers?name=c%201: '
            'Connection refused', str(error))


class FakeAgent(rt.Advertiser):
    def __init__(self, passes, stop):
        self.passes = list(passes)
        self.stop = stop
        self.lines = []
        self.errors = []
        self.out = self.lines.append

    def run_once(self):
        step = self.passes.pop(0)
        if not self.passes:
            self.stop.set()
        if isinstance(step, Exception):
            raise step
        if step:
            self.out(step)


class TestLoop(test.TestCase):

    def run_loop(self, passes):
        import threading
        stop = threading.Event()
        agent = FakeAgent(passes, stop)
        self.after = []
        status = agent.run_forever(0, agent.errors.append, stop=stop,
                                   after_pass=lambda: self.after.append(1))
        return status, agent

    def test_quiet_errors_once_and_recovery(self):
        down = exception.PlacementError(reason='cannot connect')
        status, agent = self.run_loop([
            'Added', None, down, down, down, None, None, 'Removed'])
        self.assertEqual(0, status)
        self.assertEqual(['Placement: cannot connect'], agent.errors)
        self.assertEqual(['Added', 'Recovered: the last pass succeeded',
                          'Removed'], agent.lines)
        self.assertEqual(8, len(self.after))

    def test_invalid_configuration_ends_the_loop(self):
        self.assertRaises(exception.GatingWarningInvalid, self.run_loop, [
            None, exception.GatingWarningInvalid(ids='x.y', known='a.b'),
            None])


class TestCommandLine(test.TestCase):

    def parser(self):
        parser = argparse.ArgumentParser(prog='nova-realtime')
        command.add_command_parsers(parser.add_subparsers())
        return parser

    def test_options(self):
        parser = self.parser()
        args = parser.parse_args(['advertise'])
        self.assertEqual((False, None, False, '/', None),
                         (args.once, args.interval, args.dry_run, args.root,
                          args.connection))
        self.assertIs(command.do_advertise, args.func)
        args = parser.parse_args(['advertise', '--interval', '60',
                                  '--dry-run'])
        self.assertEqual(('60', True), (args.interval, args.dry_run))
        self.assertRaises(SystemExit, parser.parse_args,
                          ['advertise', '--once', '--interval', '5'])

    def test_global_options_after_the_sub_command(self):
        self.assertEqual(
            ['--config-file', 'n.conf', 'advertise', '--once'],
            command.hoist_global_options(
                ['advertise', '--once', '--config-file', 'n.conf']))

    def test_bad_input_is_status_2_before_anything_runs(self):
        from nova.doc import runner
        cwd = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(cwd, 'nova.conf'), 'w') as f:
            f.write('[placement]\nauth_type = admin_token\n'
                    'endpoint = http://127.0.0.1:1\ntoken = admin\n')
        for argv, needle in (
                (['advertise', '--interval', '0'], '--interval'),
                (['advertise', '--interval', '86401'], 'a day'),
                (['advertise', '--root', '/nonexistent'],
                 'no such directory'),
                (['advertise', '--once', '--interval', '5'],
                 'not allowed with')):
            result = runner.run(['--config-file', 'nova.conf'] + argv, cwd)
            self.assertEqual(2, result.returncode, argv)
            self.assertEqual('', result.stdout)
            self.assertRegex(result.stderr, r'^ERROR: [^\n]*%s[^\n]*\n$'
                             % re.escape(needle))

    def test_nova_compute_s_placement_section_is_accepted(self):
        """The [placement] section of an upstream nova-compute's nova.conf
        (auth plugin options are only known once the plugin is loaded)
        passes the configuration checks; a misspelt option does not.
        """
        from nova.doc import runner
        cwd = self.useFixture(fixtures.TempDir()).path
        section = ('[placement]\nauth_type = password\n'
                   'auth_url = http://keystone.example:5000/v3\n'
                   'project_name = service\nproject_domain_name = Default\n'
                   'username = nova\nuser_domain_name = Default\n'
                   'password = secret\nregion_name = RegionOne\n'
                   'valid_interfaces = internal\n')
        with open(os.path.join(cwd, 'nova.conf'), 'w') as f:
            f.write(section)
        with open(os.path.join(cwd, 'misspelt.conf'), 'w') as f:
            f.write(section.replace('region_name', 'region_nme'))
        result = runner.run(['--config-file', 'nova.conf', 'advertise',
                             '--interval', '0'], cwd)
        self.assertEqual(2, result.returncode)
        self.assertIn('--interval', result.stderr)
        result = runner.run(['--config-file', 'misspelt.conf', 'advertise',
                             '--interval', '0'], cwd)
        self.assertEqual(2, result.returncode)
        self.assertIn('[placement] region_nme', result.stderr)
        self.assertIn('did you mean region_name', result.stderr)

    def documented_commands(self):
        """Every ``nova-realtime ... advertise`` command line in the docs
        page and the systemd units.
        """
        commands = []
        with open(os.path.join(REPO, 'doc', 'source', 'admin',
                               'realtime-trait.rst')) as f:
            text = f.read()
        for line in re.findall(r'^\s*(?:\$ )?(nova-realtime [^\n]+)$', text,
                               re.M):
            commands.append(line)
        commands += re.findall(r'``(nova-realtime [^`]*advertise[^`]*)``',
                               text)
        directory = os.path.join(REPO, 'etc', 'systemd')
        for name in sorted(os.listdir(directory)):
            with open(os.path.join(directory, name)) as f:
                for line in f:
                    if line.startswith('ExecStart='):
                        commands.append(line.split('=', 1)[1].strip())
        return commands

    def test_documented_command_lines_parse(self):
        from nova.doc import cli
        commands = self.documented_commands()
        self.assertGreaterEqual(len(commands), 4)
        seen = set()
        for line in commands:
            argv = shlex.split(line)[1:]
            self.assertIn('advertise', argv, line)
            args = cli.parser().parse_args(argv)
            seen.update(o for o in argv if o.startswith('--'))
            self.assertIs(command.do_advertise, args.func, line)
        self.assertLessEqual({'--once', '--dry-run', '--config-file'}, seen)

    def test_systemd_units(self):
        directory = os.path.join(REPO, 'etc', 'systemd')
        with open(os.path.join(directory,
                               'nova-realtime-advertise.service')) as f:
            service = f.read()
        with open(os.path.join(directory,
                               'nova-realtime-advertise.timer')) as f:
            timer = f.read()
        self.assertIn('Type=oneshot', service)
        self.assertIn('ExecStart=/usr/local/bin/nova-realtime --config-file '
                      '/etc/nova/nova.conf advertise --once', service)
        self.assertIn('OnUnitActiveSec=5min', timer)
        self.assertIn('Unit=nova-realtime-advertise.service', timer)
        # The boot pass: enabled in multi-user.target, ordered before
        # nova-compute (under the unit names of Debian/Ubuntu and RDO).
        self.assertIn('WantedBy=multi-user.target', service)
        self.assertIn('Before=nova-compute.service '
                      'openstack-nova-compute.service', service)
        for line in ('ProtectSystem=strict', 'ProtectHome=yes',
                     'PrivateTmp=yes', 'NoNewPrivileges=yes'):
            self.assertIn('\n%s\n' % line, service)

    def test_systemd_analyze_verify(self):
        """systemd's own check of the units (systemd-analyze verify, which
        needs no running systemd); skipped only without the binary.
        """
        import shutil
        import subprocess
        analyze = shutil.which('systemd-analyze')
        if analyze is None:
            self.skipTest('systemd-analyze is not installed (tools/setup.sh '
                          '--test installs it)')
        work = self.useFixture(fixtures.TempDir()).path
        # verify requires ExecStart's program: a stand-in at a path of
        # the same shape.
        program = os.path.join(work, 'bin', 'nova-realtime')
        os.makedirs(os.path.dirname(program))
        with open(program, 'w') as f:
            f.write('#!/bin/sh\n')
        os.chmod(program, 0o755)
        directory = os.path.join(REPO, 'etc', 'systemd')
        units = []
        for name in sorted(os.listdir(directory)):
            with open(os.path.join(directory, name)) as f:
                text = f.read()
            with open(os.path.join(work, name), 'w') as f:
                f.write(text.replace('/usr/local/bin/nova-realtime',
                                     program))
            units.append(os.path.join(work, name))
        proc = subprocess.run([analyze, 'verify'] + units,
                              capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, SYSTEMD_LOG_LEVEL='info'))
        self.assertEqual((0, ''), (proc.returncode, proc.stderr.strip()),
                         proc.stdout)
        # And it does judge them: a misplaced hardening key is reported.
        with open(units[0]) as f:
            text = f.read()
        with open(units[0], 'w') as f:
            f.write(text.replace('[Service]\n', 'ProtectHome=yes\n'
                                                 '[Service]\n'))
        proc = subprocess.run([analyze, 'verify'] + units,
                              capture_output=True, text=True, timeout=120)
        self.assertIn("Unknown key 'ProtectHome' in section [Unit]",
                      proc.stderr)
