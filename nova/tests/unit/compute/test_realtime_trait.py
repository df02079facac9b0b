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
        error = self.assertRaises(rt.GatingWarningInvalid, rt.judge, READY,
                                  ['kernel.preempt'])
        self.assertIsInstance(error, exception.Invalid)
        self.assertIn('kernel.preempt is not a check', str(error))
        self.assertIn('kernel.preempt_rt', str(error))

    def test_unknown_gating_id_not_judged_without_libvirt(self):
        results = [hc.CheckResult('libvirt.connection', hc.FAIL, 'down', '',
                                  unknown=True)]
        verdict = rt.judge(results, ['guests.confined'])
        self.assertFalse(verdict.ready)


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
        uuid = self.providers.get(name)
        return None if uuid is None else (uuid, self.generation)

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
        outcome = rt.sync_trait(placement, 'compute-1', TRAIT, True)
        self.assertEqual((True, True), (outcome.present, outcome.changed))
        self.assertEqual({'HW_CPU_X86_AVX2', 'CUSTOM_X', TRAIT},
                         placement.traits)
        self.assertIn(('ensure', TRAIT), placement.calls)
        self.assertEqual(('put', sorted(placement.traits), 3),
                         placement.calls[-1])

    def test_remove_keeps_other_traits_and_creates_nothing(self):
        placement = FakePlacement(traits={'HW_CPU_X86_AVX2', TRAIT})
        outcome = rt.sync_trait(placement, 'compute-1', TRAIT, False)
        self.assertEqual((False, True), (outcome.present, outcome.changed))
        self.assertEqual({'HW_CPU_X86_AVX2'}, placement.traits)
        self.assertNotIn('ensure', [c[0] for c in placement.calls])

    def test_nothing_to_do_writes_nothing(self):
        for wanted, traits in ((True, {TRAIT}), (False, set())):
            placement = FakePlacement(traits=traits)
            outcome = rt.sync_trait(placement, 'compute-1', TRAIT, wanted)
            self.assertFalse(outcome.changed)
            self.assertEqual(wanted, outcome.present)
            self.assertEqual(['find', 'get'], [c[0] for c in placement.calls])

    def test_dry_run_only_reads(self):
        for wanted, traits in ((True, set()), (False, {TRAIT})):
            placement = FakePlacement(traits=traits)
            outcome = rt.sync_trait(placement, 'compute-1', TRAIT, wanted,
                                    dry_run=True)
            self.assertEqual((not wanted, False),
                             (outcome.present, outcome.changed))
            self.assertEqual(['find', 'get'], [c[0] for c in placement.calls])
            self.assertEqual(traits, placement.traits)

    def test_conflict_rereads_and_retries(self):
        placement = FakePlacement(traits={'HW_CPU_X86_AVX2'})
        placement.conflicts = 2
        waits = []
        outcome = rt.sync_trait(placement, 'compute-1', TRAIT, True,
                                sleep=waits.append)
        self.assertTrue(outcome.changed)
        self.assertEqual([0.1, 0.2], waits)
        self.assertEqual(['find', 'get', 'ensure', 'put', 'get', 'put',
                          'get', 'put'], [c[0] for c in placement.calls])
        # Each write carries the generation of the read before it.
        self.assertEqual([3, 4, 5], [c[2] for c in placement.calls
                                     if c[0] == 'put'])

    def test_conflicts_that_do_not_stop(self):
        placement = FakePlacement()
        placement.conflicts = rt.CONFLICT_ATTEMPTS
        waits = []
        error = self.assertRaises(
            rt.GenerationConflict, rt.sync_trait, placement, 'compute-1',
            TRAIT, True, sleep=waits.append)
        self.assertEqual(4, len(waits))
        self.assertEqual(rt.CONFLICT_ATTEMPTS,
                         [c[0] for c in placement.calls].count('put'))
        self.assertNotIn(TRAIT, placement.traits)
        self.assertIn('not added, nothing changed', str(error))
        self.assertNotIsInstance(error, exception.Invalid)

    def test_no_provider(self):
        placement = FakePlacement(name=None)
        error = self.assertRaises(
            rt.ProviderNotFound, rt.sync_trait, placement, 'compute-1',
            TRAIT, True, source='[DEFAULT] host')
        self.assertIn("no resource provider named 'compute-1' in Placement "
                      "([DEFAULT] host)", str(error))
        self.assertIn('virsh hostname', str(error))
        self.assertEqual(['find'], [c[0] for c in placement.calls])


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

    def test_default_host_first(self):
        self.flags(host='compute-rt-1')
        host = host_mod.Host('test:///default')
        self.addCleanup(host.close)
        self.assertEqual('compute-rt-1', rt.provider_name(host)[0])

    def test_libvirt_hostname(self):
        host = host_mod.Host('test:///default')
        self.addCleanup(host.close)
        name, source = rt.provider_name(host)
        self.assertEqual(host.get_connection().getHostname(), name)
        self.assertIn('libvirt', source)

    def test_machine_hostname_without_libvirt(self):
        host = host_mod.Host('qemu+unix:///system?socket=/nonexistent/sock')
        self.assertEqual(socket.gethostname(), rt.provider_name(host)[0])


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
            error = self.assertRaises(rt.PlacementConfigInvalid,
                                      rt.PlacementClient, self.conf(text))
            self.assertIsInstance(error, exception.Invalid)
            self.assertIn(needle, str(error))

    def test_unreachable_is_one_short_line(self):
        # Nothing listens on port 1 of the loopback address.
        client = rt.PlacementClient(self.conf(
            'auth_type = admin_token\nendpoint = http://127.0.0.1:1\n'
            'token = admin\n'))
        error = self.assertRaises(rt.PlacementError, client.find_provider,
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
        down = rt.PlacementError(reason='cannot connect')
        status, agent = self.run_loop([
            'Added', None, down, down, down, None, None, 'Removed'])
        self.assertEqual(0, status)
        self.assertEqual(['Placement: cannot connect'], agent.errors)
        self.assertEqual(['Added', 'Recovered: the last pass succeeded',
                          'Removed'], agent.lines)
        self.assertEqual(8, len(self.after))

    def test_invalid_configuration_ends_the_loop(self):
        self.assertRaises(rt.GatingWarningInvalid, self.run_loop, [
            None, rt.GatingWarningInvalid(ids='x.y', known='a.b'), None])


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
