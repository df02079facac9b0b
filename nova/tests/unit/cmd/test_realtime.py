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

"""The nova-realtime command, run as a real process on test:///default."""

import argparse
import json
import os
import subprocess
import sys

import fixtures
import libvirt
from lxml import etree
from oslo_utils import uuidutils

from nova.cmd import realtime
from nova import test
from nova.tests.unit.virt.libvirt import rng

FIXTURES = os.path.join(os.path.dirname(__file__), os.pardir, 'virt',
                        'libvirt', 'fixtures')
RT_FLAVOR = ['--vcpus', '4', '--ram', '1024',
             '--property', 'hw:cpu_policy=dedicated',
             '--property', 'hw:cpu_realtime=yes']


class CommandTestCase(test.TestCase):
    def run_cmd(self, *args, config=None):
        argv = [sys.executable, '-m', 'nova.cmd.realtime']
        conf = os.path.join(self.lock_path, 'nova.conf')
        with open(conf, 'w') as f:
            # No nova-compute identity here, whatever this machine has.
            f.write('[DEFAULT]\nstate_path = %s\n' % self.lock_path)
            f.write('[oslo_concurrency]\nlock_path = %s\n' % self.lock_path)
            # The test driver unless the test's config names another.
            if 'connection_uri' not in (config or ''):
                f.write('[libvirt]\nconnection_uri = test:///default\n')
            f.write(config or '')
        argv += ['--config-file', conf]
        argv += list(args)
        proc = subprocess.run(argv, capture_output=True, text=True,
                              timeout=120, env=dict(os.environ,
                                                    PYTHONWARNINGS='default'))
        return proc.returncode, proc.stdout, proc.stderr

    def assertOneLineError(self, result, *needles):
        status, out, err = result
        self.assertNotEqual(0, status, err)
        self.assertEqual('', out)
        lines = err.splitlines()
        self.assertEqual(1, len(lines), err)
        self.assertTrue(lines[0].startswith('ERROR: '), err)
        self.assertNotIn('Traceback', err)
        for needle in needles:
            self.assertIn(needle, lines[0])


class TestPlan(CommandTestCase):
    def test_plan_realtime_default_mask(self):
        status, out, err = self.run_cmd('plan', *RT_FLAVOR)
        self.assertEqual(0, status, err)
        rng.assert_domain_valid(out)
        doc = etree.fromstring(out)
        sched = doc.findall('./cputune/vcpusched')
        self.assertEqual(1, len(sched))
        self.assertEqual('1-3', sched[0].get('vcpus'))
        self.assertEqual('fifo', sched[0].get('scheduler'))
        self.assertEqual('1', sched[0].get('priority'))
        pins = {p.get('vcpu'): p.get('cpuset')
                for p in doc.findall('./cputune/vcpupin')}
        self.assertEqual(pins['0'],
                         doc.find('./cputune/emulatorpin').get('cpuset'))
        self.assertIsNotNone(doc.find('./memoryBacking/nosharepages'))
        self.assertIsNotNone(doc.find('./memoryBacking/locked'))
        self.assertEqual('test', doc.get('type'))
        self.assertNotIn('Warning', err)
        self.assertNotIn('Deprecat', err)

    def test_plan_says_where_upstream_differs(self):
        """Until the patch series is applied upstream nova-compute builds
        the cloud's guests: plan names each way it would refuse or build
        this flavor differently, and whether the series changes that.
        """
        caps = os.path.join(FIXTURES, 'caps_kvm_2numa_smt.xml')
        kvm = '[libvirt]\nconnection_uri = qemu:///system\nvirt_type = kvm\n'
        status, out, err = self.run_cmd(
            'plan', '--host-capabilities', caps, *RT_FLAVOR, config=kvm)
        self.assertEqual(0, status, err)
        notes = [line for line in err.splitlines()
                 if line.startswith('WARNING: not as upstream: ')]
        self.assertEqual(3, len(notes), err)
        self.assertIn('upstream nova-compute 34 refuses this flavor '
                      '(hw:cpu_realtime without a real-time mask', notes[0])
        self.assertIn('(also with the patch series): set '
                      'hw:cpu_realtime_mask=^0', notes[0])
        self.assertIn('host-model CPU', notes[1])
        self.assertIn('no <memtune> hard limit', notes[2])
        self.assertIn('(the patch series does the same)', notes[2])
        # The flavor both accept: only what the series changes remains.
        status, out, err = self.run_cmd(
            'plan', '--host-capabilities', caps, *RT_FLAVOR, '--property',
            'hw:cpu_realtime_mask=^0', config=kvm)
        self.assertEqual(0, status, err)
        self.assertNotIn('refuses', err)
        self.assertEqual(2, err.count('not as upstream'), err)
        # A plain flavor is built as upstream builds it.
        status, out, err = self.run_cmd(
            'plan', '--host-capabilities', caps, '--vcpus', '2', '--ram',
            '512', '--property', 'hw:cpu_policy=dedicated', config=kvm)
        self.assertEqual(0, status, err)
        self.assertNotIn('not as upstream', err)

    def test_priority_from_config_file(self):
        status, out, err = self.run_cmd(
            'plan', *RT_FLAVOR,
            config='[libvirt]\nrealtime_scheduler_priority = 42\n')
        self.assertEqual(0, status, err)
        self.assertEqual('42', etree.fromstring(out).find(
            './cputune/vcpusched').get('priority'))

    def test_image_mask_overrides_flavor(self):
        status, out, err = self.run_cmd(
            'plan', *RT_FLAVOR, '--property', 'hw:cpu_realtime_mask=^0',
            '--image-property', 'hw_cpu_realtime_mask=^0-1')
        self.assertEqual(0, status, err)
        self.assertEqual('2-3', etree.fromstring(out).find(
            './cputune/vcpusched').get('vcpus'))

    def test_plan_against_saved_capabilities_with_huge_pages(self):
        caps = os.path.join(FIXTURES, 'caps_kvm_2numa_smt.xml')
        status, out, err = self.run_cmd(
            'plan', *RT_FLAVOR, '--property', 'hw:mem_page_size=1GB',
            '--property', 'hw:numa_nodes=2', '--ram', '2048',
            '--host-capabilities', caps,
            config='[libvirt]\nvirt_type = kvm\n')
        self.assertEqual(0, status, err)
        rng.assert_domain_valid(out)
        doc = etree.fromstring(out)
        self.assertEqual('kvm', doc.get('type'))
        page = doc.find('./memoryBacking/hugepages/page')
        self.assertEqual('1048576', page.get('size'))
        self.assertEqual('0-1', page.get('nodeset'))
        children = [c.tag for c in doc.find('./memoryBacking')]
        self.assertEqual(['hugepages', 'nosharepages', 'locked'], children)
        self.assertEqual(2, len(doc.findall('./numatune/memnode')))


class TestBoot(CommandTestCase):
    def test_boot_prints_pinning_table(self):
        status, out, err = self.run_cmd('boot', '--name', 'rt-demo',
                                        *RT_FLAVOR)
        self.assertEqual(0, status, err)
        lines = out.splitlines()
        self.assertEqual('Domain: rt-demo (running)', lines[0])
        rows = [line.split(None, 2) for line in lines[2:6]]
        self.assertEqual(['0', '1', '2', '3'], [r[0] for r in rows])
        self.assertEqual('no', rows[0][2])
        self.assertTrue(all(r[2].startswith('yes') for r in rows[1:]))
        self.assertIn('Emulator threads: pCPUs %s' % rows[0][1], out)
        self.assertIn('locked', out)


class TestBesideNovaCompute(CommandTestCase):
    """boot refuses a host where nova-compute runs or registered a node:
    its guests would be unknown to Nova and Placement, and share pCPUs
    with Nova's.
    """

    def fake_proc(self, argv, pid=4242):
        root = self.useFixture(fixtures.TempDir()).path
        os.makedirs(os.path.join(root, 'proc', str(pid)))
        with open(os.path.join(root, 'proc', str(pid), 'cmdline'), 'w') as f:
            f.write('\0'.join(argv) + '\0')
        os.makedirs(os.path.join(root, 'proc', '1'))
        with open(os.path.join(root, 'proc', '1', 'cmdline'), 'w') as f:
            f.write('/sbin/init\0')
        return root

    def test_running_nova_compute_refuses_boot(self):
        for argv in (['/usr/bin/python3', '/usr/bin/nova-compute',
                      '--config-file', '/etc/nova/nova.conf'],
                     ['/var/lib/kolla/venv/bin/nova-compute'],
                     ['/usr/bin/python3.11', '-s',
                      '/usr/bin/nova-compute']):
            root = self.fake_proc(argv)
            expect_refused = argv[1:2] != ['-s']
            result = self.run_cmd('boot', '--name', 'rt', '--root', root,
                                  *RT_FLAVOR)
            if not expect_refused:
                # "python -s nova-compute" is not how any packaging runs
                # it: only argv[0], or argv[1] after an interpreter, count.
                self.assertEqual(0, result[0], result[2])
                continue
            self.assertOneLineError(
                result, 'this host is a Nova compute node (nova-compute is '
                        'running: pid 4242 %s' % ' '.join(argv[:2]),
                'unknown to Nova and Placement', '--beside-nova-compute')
            self.assertEqual(2, result[0])

    def test_beside_nova_compute_warns_loudly(self):
        root = self.fake_proc(['/usr/bin/nova-compute'])
        status, out, err = self.run_cmd('boot', '--name', 'rt', '--root',
                                        root, '--beside-nova-compute',
                                        *RT_FLAVOR)
        self.assertEqual(0, status, err)
        self.assertIn('Domain: rt (running)', out)
        self.assertIn('WARNING: booting beside nova-compute (nova-compute is '
                      'running: pid 4242 /usr/bin/nova-compute): Nova and '
                      'Placement do not know this guest', err)

    def test_compute_id_refuses_boot(self):
        with open(os.path.join(self.lock_path, 'compute_id'), 'w') as f:
            f.write('4e8e5957-649f-477b-8f2c-a2e8b4bb4ca1\n')
        self.assertOneLineError(
            self.run_cmd('boot', '--name', 'rt', *RT_FLAVOR),
            '%s names compute node 4e8e5957-649f-477b-8f2c-a2e8b4bb4ca1' %
            os.path.join(self.lock_path, 'compute_id'))
        # plan, list and the other read-only commands are not affected.
        status, out, err = self.run_cmd('plan', *RT_FLAVOR)
        self.assertEqual(0, status, err)

    def test_reader_is_never_nova_compute(self):
        facts = realtime.host_facts.HostFacts('/')
        self.assertNotIn(os.getpid(),
                         [pid for pid, _c in facts.nova_compute_processes()])


class TestInvalidInput(CommandTestCase):
    def test_bad_realtime_value(self):
        self.assertOneLineError(
            self.run_cmd('plan', '--vcpus', '2', '--ram', '64',
                         '--property', 'hw:cpu_policy=dedicated',
                         '--property', 'hw:cpu_realtime=maybe'),
            'hw:cpu_realtime', 'maybe')

    def test_malformed_image_mask(self):
        self.assertOneLineError(
            self.run_cmd('plan', *RT_FLAVOR,
                         '--image-property', 'hw_cpu_realtime_mask=^0-'),
            'hw_cpu_realtime_mask', '^0-')

    def test_hostile_mask(self):
        self.assertOneLineError(
            self.run_cmd('plan', *RT_FLAVOR, '--image-property',
                         'hw_cpu_realtime_mask=^0-999999999'),
            'hw_cpu_realtime_mask')

    def test_realtime_without_dedicated(self):
        self.assertOneLineError(
            self.run_cmd('plan', '--vcpus', '2', '--ram', '64',
                         '--property', 'hw:cpu_realtime=yes'),
            'hw:cpu_realtime', 'dedicated')

    def test_mask_outside_flavor(self):
        self.assertOneLineError(
            self.run_cmd('plan', *RT_FLAVOR,
                         '--property', 'hw:cpu_realtime_mask=^5'),
            'hw:cpu_realtime_mask', '^5')

    def test_no_room_on_host(self):
        # test:///default has 16 pCPUs in two cells of 8.
        self.assertOneLineError(
            self.run_cmd('boot', '--name', 'too-big', '--vcpus', '9',
                         '--ram', '64', '--property',
                         'hw:cpu_policy=dedicated'),
            'Insufficient compute resources')

    def test_bad_vcpus(self):
        self.assertOneLineError(
            self.run_cmd('plan', '--vcpus', 'four', '--ram', '64'),
            '--vcpus', 'four')

    def test_bad_property_syntax(self):
        self.assertOneLineError(
            self.run_cmd('plan', '--vcpus', '1', '--ram', '64',
                         '--property', 'hw:cpu_policy'),
            '--property', 'KEY=VALUE')

    def test_unknown_extra_spec(self):
        self.assertOneLineError(
            self.run_cmd('plan', '--vcpus', '1', '--ram', '64',
                         '--property', 'hw:cpu_realtime_msk=^0'),
            'hw:cpu_realtime_msk', 'hw:cpu_realtime_mask')

    def test_bad_image_enum(self):
        self.assertOneLineError(
            self.run_cmd('plan', '--vcpus', '1', '--ram', '64',
                         '--image-property', 'hw_cpu_policy=fast'),
            'hw_cpu_policy', 'fast')

    def test_delete_unknown(self):
        self.assertOneLineError(self.run_cmd('delete', 'nope'), 'nope')

    def test_bad_connection(self):
        self.assertOneLineError(
            self.run_cmd('list', '--connection', 'nosuch:///x'),
            'nosuch:///x')


class TestHostLockWait(CommandTestCase):
    def test_boot_says_it_waits_then_gives_up(self):
        holder = subprocess.Popen(
            [sys.executable, '-c',
             'import time\n'
             'from oslo_concurrency import lockutils\n'
             'from nova.virt.libvirt import driver\n'
             'lock = lockutils.external_lock(driver.CLAIM_LOCK, '
             'driver.LOCK_PREFIX, %r)\n'
             'lock.acquire()\n'
             'print("held", flush=True)\n'
             'time.sleep(60)\n' % self.lock_path],
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(holder.wait)
        self.addCleanup(holder.kill)
        self.addCleanup(holder.stdout.close)
        self.assertEqual('held\n', holder.stdout.readline())
        status, out, err = self.run_cmd(
            'boot', '--name', 'waiter', *RT_FLAVOR,
            config='[libvirt]\nconnection_uri = test:///default\n'
                   'host_lock_timeout = 2\n')
        self.assertEqual(1, status, err)
        lines = err.splitlines()
        self.assertEqual(2, len(lines), err)
        self.assertTrue(lines[0].startswith('WARNING: Waiting for the host '
                                            'lock'), err)
        self.assertTrue(lines[1].startswith('ERROR: another nova-realtime '
                                            'process held the host lock'),
                        err)
        self.assertIn('host_lock_timeout', lines[1])
        self.assertNotIn('Traceback', err)


class TestHostileNames(CommandTestCase):
    def test_names_never_touch_the_disk(self):
        base = self.useFixture(fixtures.TempDir()).path
        instances = os.path.join(base, 'inst')
        for name in ('../../x', '/tmp/x', 'x' * 300, 'a\x01b', '..'):
            result = self.run_cmd(
                'boot', '--name', name, '--vcpus', '1', '--ram', '64',
                config='[libvirt]\nconnection_uri = test:///default\n'
                       'instances_path = %s\n' % instances)
            self.assertOneLineError(result, 'guest name')
        self.assertEqual([], os.listdir(base))

    def test_delete_refuses_names_no_guest_can_have(self):
        for name in ('a\x1b[2Jb', '../x', ''):
            result = self.run_cmd('delete', name)
            self.assertOneLineError(result, 'guest name')
            self.assertNotIn('\x1b', result[2])

    def test_error_line_never_carries_raw_control_characters(self):
        # A guest name reaches the error as given (verify: "no such guest"):
        # a newline must not make two lines, an escape sequence must not
        # reach the terminal.
        result = self.run_cmd('verify', 'a\nb\x1b[2J')
        self.assertOneLineError(result, 'no such guest', 'a\\nb\\x1b[2J')
        self.assertNotIn('\x1b', result[2])

    def test_delete_refuses_what_we_did_not_create(self):
        # 'test' is the test driver's own domain.
        self.assertOneLineError(self.run_cmd('delete', 'test'),
                                'not created by nova-realtime')


class TestArgumentCount(CommandTestCase):
    def test_too_many_arguments_refused_quickly(self):
        args = ['plan', '--vcpus', '1', '--ram', '64']
        for index in range(20000):
            args.append('--image-property=p%d=x' % index)
        result = self.run_cmd(*args)
        self.assertOneLineError(result, '20007 command-line arguments',
                                'at most %d' % realtime.MAX_ARGUMENTS)


class TestCommandLineConventions(CommandTestCase):
    def test_global_options_after_the_sub_command(self):
        conf = os.path.join(self.lock_path, 'prio.conf')
        with open(conf, 'w') as f:
            f.write('[libvirt]\nconnection_uri = test:///default\n'
                    'realtime_scheduler_priority = 7\n')
        proc = subprocess.run(
            [sys.executable, '-m', 'nova.cmd.realtime', 'plan', *RT_FLAVOR,
             '--config-file', conf],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertIn('priority="7"', proc.stdout)
        proc = subprocess.run(
            [sys.executable, '-m', 'nova.cmd.realtime', 'plan', *RT_FLAVOR,
             '--config-file=%s' % conf, '--debug'],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertIn('priority="7"', proc.stdout)

    def test_hoist_keeps_option_values_in_place(self):
        self.assertEqual(
            ['--config-file', 'a', 'plan', '--name', 'x'],
            realtime.hoist_global_options(
                ['plan', '--name', 'x', '--config-file', 'a']))
        # A sub-command's own option value that looks like a command.
        self.assertEqual(
            ['--config-file', 'list', 'plan', '--name', 'plan'],
            realtime.hoist_global_options(
                ['--config-file', 'list', 'plan', '--name', 'plan']))

    def test_commands_are_the_declared_sub_commands(self):
        parser = argparse.ArgumentParser()
        subparsers = parser.add_subparsers()
        realtime.add_command_parsers(subparsers)
        self.assertEqual(set(subparsers.choices), realtime.COMMANDS)

    def test_version(self):
        proc = subprocess.run(
            [sys.executable, '-m', 'nova.cmd.realtime', '--version'],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(0, proc.returncode)
        self.assertEqual(realtime.version_string(),
                         (proc.stdout + proc.stderr).strip())
        self.assertRegex(proc.stdout + proc.stderr, r'^\d+\.\d+')

    def test_usage_errors_are_one_error_line(self):
        for args, needle in (
                ((), 'required: command'),
                (('plan',), 'required: --vcpus, --ram'),
                (('plan', '--vcpus', '1', '--ram', '1', '--bogus'),
                 'unrecognized arguments: --bogus'),
                (('list', '--format', 'xml'), "invalid choice: 'xml'"),
                (('frobnicate',), "invalid choice: 'frobnicate'")):
            self.assertOneLineError(self.run_cmd(*args), needle, '--help')
            self.assertEqual(2, self.run_cmd(*args)[0])

    def test_list_json(self):
        # libvirtd's test driver keeps its domains while a connection to
        # it is open: this one spans the commands below.
        uri = 'test+unix:///default'
        try:
            keeper = libvirt.open(uri)
        except libvirt.libvirtError as e:
            self.skipTest('libvirtd is not running (%s)' % e)
        self.addCleanup(keeper.close)
        name = 'json-%s' % uuidutils.generate_uuid()[:8]
        config = '[libvirt]\nconnection_uri = %s\n' % uri
        status, out, err = self.run_cmd(
            'boot', '--name', name, '--vcpus', '2', '--ram', '64',
            '--property', 'hw:cpu_policy=dedicated',
            '--property', 'hw:cpu_realtime=yes', config=config)
        self.assertEqual(0, status, err)
        self.addCleanup(self.run_cmd, 'delete', name, config=config)
        status, out, err = self.run_cmd('list', '--format', 'json',
                                        config=config)
        self.assertEqual(0, status, err)
        guests = {g['name']: g for g in json.loads(out)['guests']}
        self.assertEqual('running', guests[name]['state'])
        self.assertEqual(2, guests[name]['vcpus'])
        self.assertEqual('1', guests[name]['realtime_vcpus'])
        self.assertEqual(1, guests[name]['priority'])
        self.assertEqual({'0', '1'}, set(guests[name]['pinning']))


class TestNotApplied(CommandTestCase):
    def test_plan_names_accepted_but_not_applied_keys(self):
        status, out, err = self.run_cmd(
            'plan', *RT_FLAVOR, '--property', 'hw:boot_menu=true',
            '--property', 'hw:watchdog_action=reset',
            '--image-property', 'hw_video_ram=8')
        self.assertEqual(0, status, err)
        lines = [line for line in err.splitlines()
                 if 'not applied by this driver' in line]
        self.assertEqual(['WARNING: accepted, not applied by this driver: '
                          'hw:boot_menu, hw:watchdog_action, hw_video_ram'],
                         lines)

    def test_refused_key_is_an_error(self):
        self.assertOneLineError(
            self.run_cmd('plan', *RT_FLAVOR, '--property',
                         'hw:mem_encryption=true'),
            'hw:mem_encryption', 'cannot provide')
