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

"""A bad nova.conf is one ERROR line and exit status 2, for every command.

Each test writes real config files and runs ``nova.cmd.realtime.main`` in
this process, on libvirt's test:///default driver.
"""

import io
import logging
import os
import warnings

import fixtures
import hypothesis
from hypothesis import strategies as st
from oslo_config import cfg
import testtools
from unittest import mock

from nova.cmd import realtime
import nova.conf
from nova.conf import placement
from nova.conf import validation
from nova import exception

CONF = nova.conf.CONF
LIST = ['list', '--connection', 'test:///default']

# Sections and options of an upstream nova.conf on a compute host that this
# tool does not implement: none of them may be an error.
UPSTREAM_NOVA_CONF = """
[DEFAULT]
my_ip = 192.0.2.10
host = compute-1
state_path = /var/lib/nova
instances_path = /var/lib/nova/instances
transport_url = rabbit://nova:secret@controller:5672/
compute_driver = libvirt.LibvirtDriver
use_neutron = true
vcpu_pin_set = 2-7
reserved_host_memory_mb = 4096
cpu_allocation_ratio = 1.0
verbose = true

[api]
auth_strategy = keystone

[api_database]
connection = mysql+pymysql://nova:secret@controller/nova_api

[database]
connection = mysql+pymysql://nova:secret@controller/nova

[keystone_authtoken]
www_authenticate_uri = http://controller:5000/
auth_url = http://controller:5000/
memcached_servers = controller:11211
auth_type = password

[placement]
region_name = RegionOne
project_domain_name = Default
auth_type = password

[glance]
api_servers = http://controller:9292

[neutron]
auth_type = password

[vault]
root_token_id = x

[conductor]
workers = 4

[console]
allowed_origins = a

[vnc]
enabled = true
server_proxyclient_address = $my_ip

[serial_console]
enabled = false

[oslo_messaging_rabbit]
rabbit_ha_queues = true

[oslo_messaging_notifications]
driver = noop

[privsep_osbrick]
helper_command = sudo

[workarounds]
disable_rootwrap = false

[scheduler]
discover_hosts_in_cells_interval = 300

[filter_scheduler]
enabled_filters = NUMATopologyFilter

[pci]
alias = {}

[libvirt]
virt_type = kvm
connection_uri = qemu:///system
images_type = rbd
images_rbd_pool = vms
images_rbd_ceph_conf = /etc/ceph/ceph.conf
rbd_user = cinder
rbd_secret_uuid = 457eb676-33da-42ec-9a8c-9293d545c337
cpu_mode = host-passthrough
cpu_models =
cpu_model_extra_flags = pdpe1gb
hw_machine_type = x86_64=q35
live_migration_permit_auto_converge = true
live_migration_permit_post_copy = true
live_migration_inbound_addr = 192.0.2.10
live_migration_scheme = tls
live_migration_with_native_tls = true
live_migration_completion_timeout = 800
disk_cachemodes = network=writeback
hw_disk_discard = unmap
inject_password = false
inject_key = false
inject_partition = -2
num_pcie_ports = 16
file_backed_memory = 0
mem_stats_period_seconds = 10
rx_queue_size = 1024
tx_queue_size = 1024
swtpm_enabled = true
cpu_power_management = false
volume_use_multipath = true
wait_soft_reboot_seconds = 120
sysinfo_serial = unique
realtime_scheduler_priority = 1
images_type = raw

[compute]
cpu_dedicated_set = 2-7
cpu_shared_set = 0-1
live_migration_wait_for_vif_plug = true
max_concurrent_disk_ops = 0
max_disk_devices_to_attach = -1
consecutive_build_failures_to_disable = 10
resource_provider_association_refresh = 300
image_type_exclude_list = qcow2
packing_host_numa_cells_allocation_strategy = false
shutdown_retry_interval = 10
provider_config_location = /etc/nova/provider_config/
vmdk_allowed_types = streamOptimized

[oslo_concurrency]
lock_path = %(lock_path)s
"""


class ConfigTestCase(testtools.TestCase):
    """Runs main() in-process with config files written to a temp dir."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.NestedTempfile())
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.lock_path = os.path.join(self.tmp, 'lock')
        os.mkdir(self.lock_path)
        # main() parses the global CONF and registers the sub-command
        # option on it: undo both, so CONF can be parsed again.
        CONF.reset()
        self.addCleanup(self._reset_conf)
        # main() replaces the root logger's handlers and sets warnings.
        root = logging.getLogger()
        self.addCleanup(setattr, root, 'handlers', list(root.handlers))
        self.addCleanup(root.setLevel, root.level)
        self.addCleanup(setattr, warnings, 'filters', list(warnings.filters))

    def _reset_conf(self):
        CONF.reset()
        CONF.unregister_opt(realtime.command_opt)

    def write(self, text, name='nova.conf', lock=True):
        """A config file; ``lock`` prepends a usable lock_path."""
        path = os.path.join(self.tmp, name)
        if isinstance(text, str):
            if lock:
                text = ('[oslo_concurrency]\nlock_path = %s\n' %
                        self.lock_path) + text
            text = text.encode('utf-8')
        with open(path, 'wb') as f:
            f.write(text)
        return path

    def main(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        with mock.patch('sys.stdout', out), mock.patch('sys.stderr', err):
            CONF.reset()
            status = realtime.main(list(argv))
        return status, out.getvalue(), err.getvalue()

    def run_conf(self, text, *command, **kwargs):
        path = self.write(text, **kwargs)
        return self.main('--config-file', path, *(command or LIST))

    def assertOneLineError(self, result, *needles):
        status, out, err = result
        self.assertEqual(2, status, err)
        self.assertEqual('', out)
        self.assertNotIn('Traceback', err)
        lines = err.splitlines()
        self.assertEqual(1, len(lines), err)
        self.assertTrue(lines[0].startswith('ERROR: '), err)
        for needle in needles:
            self.assertIn(needle, lines[0])
        return lines[0]

    def assertOk(self, result):
        status, out, err = result
        self.assertEqual(0, status, err)
        self.assertNotIn('ERROR', err)
        self.assertNotIn('Traceback', err)


class TestOptionValues(ConfigTestCase):
    def test_priority_out_of_range_or_not_an_integer(self):
        for value in ('0', '100', 'abc', '1.5', '-1', ''):
            line = self.assertOneLineError(
                self.run_conf('[libvirt]\nrealtime_scheduler_priority = %s\n'
                              % value),
                'nova.conf:4: [libvirt] realtime_scheduler_priority = %s: '
                % value, 'integer from 1 to 99')
            self.assertIn(os.path.join(self.tmp, 'nova.conf'), line)

    def test_priority_in_range(self):
        self.assertOk(self.run_conf(
            '[libvirt]\nrealtime_scheduler_priority = 99\n'))

    def test_virt_type_not_a_choice(self):
        self.assertOneLineError(
            self.run_conf('[libvirt]\nvirt_type = xen\n'),
            '[libvirt] virt_type = xen', 'kvm, qemu, test')

    def test_virt_type_close_to_a_choice(self):
        self.assertOneLineError(
            self.run_conf('[libvirt]\nvirt_type = kvn\n'),
            'did you mean kvm?')

    def test_bool_not_a_bool(self):
        self.assertOneLineError(
            self.run_conf('[libvirt]\nrealtime_preflight = maybe\n'),
            '[libvirt] realtime_preflight = maybe', 'true or false')

    def test_cli_option_in_file(self):
        self.assertOneLineError(
            self.run_conf('[DEFAULT]\ndebug = maybe\n'),
            '[DEFAULT] debug = maybe', 'true or false')

    def test_cli_option_through_substitution(self):
        self.assertOneLineError(
            self.run_conf('[DEFAULT]\ndebug = $log_file\nlog_file = x\n'),
            '[DEFAULT] debug = $log_file', '--debug')

    def test_oslo_log_choice(self):
        self.assertOneLineError(
            self.run_conf('[DEFAULT]\nlog_rotation_type = daily\n'),
            '[DEFAULT] log_rotation_type = daily', 'must be one of')

    def test_substitution_of_unknown_option(self):
        self.assertOneLineError(
            self.run_conf('[libvirt]\nconnection_uri = $nosuch\n'),
            '[libvirt] connection_uri = $nosuch', '$nosuch',
            '[libvirt] or [DEFAULT]', '$$')

    def test_substitution_loop(self):
        self.assertOneLineError(
            self.run_conf('[libvirt]\nvirt_type = $connection_uri\n'
                          'connection_uri = ${libvirt.virt_type}\n'),
            'the substitutions loop: $libvirt.')

    def test_self_substitution_of_cli_option(self):
        self.assertOneLineError(
            self.run_conf('[DEFAULT]\nlog_dir = $log_dir\n'),
            '[DEFAULT] log_dir = $log_dir', '$log_dir -> $log_dir')

    def test_substitution_of_a_section(self):
        self.assertOneLineError(
            self.run_conf('[libvirt]\ninstances_path = $compute\n'),
            '$compute names a section')

    def test_literal_dollar(self):
        self.assertOk(self.run_conf(
            '[libvirt]\ninstances_path = /srv/$$x\n'))

    def test_substitution_of_known_option(self):
        self.assertOk(self.run_conf(
            '[libvirt]\ninstances_path = $oslo_concurrency.lock_path/i\n'))

    def test_later_file_wins_and_is_named(self):
        first = self.write('[libvirt]\nvirt_type = qemu\n', name='a.conf')
        second = self.write('[libvirt]\n\nvirt_type = xen\n', name='b.conf',
                            lock=False)
        line = self.assertOneLineError(
            self.main('--config-file', first, '--config-file', second,
                      *LIST),
            'b.conf:3: [libvirt] virt_type = xen')
        self.assertNotIn('a.conf', line)

    def test_value_with_line_breaks_stays_on_one_line(self):
        self.assertOneLineError(
            self.run_conf('[libvirt]\nvirt_type = a\n  b\x0bc\u2028d\x85e\n'),
            '[libvirt] virt_type = a\\nb\\x0bc\\u2028d\\x85e')

    def test_long_value_is_cut(self):
        line = self.assertOneLineError(
            self.run_conf('[libvirt]\nvirt_type = %s\n' % ('x' * 5000)))
        self.assertLess(len(line), 600)

    def test_environment_value(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_LIBVIRT__VIRT_TYPE', 'xen'))
        self.assertOneLineError(
            self.run_conf(''), 'OS_LIBVIRT__VIRT_TYPE',
            '[libvirt] virt_type = xen')


class TestCPUSets(ConfigTestCase):
    def test_bad_specs(self):
        for option, spec, needle in (
                ('cpu_dedicated_set', 'abc', 'malformed'),
                ('cpu_dedicated_set', '0-', 'malformed'),
                ('cpu_dedicated_set', '5-2', 'below its start'),
                ('cpu_dedicated_set', '^1', 'names no host CPU'),
                ('cpu_dedicated_set', '0-999999999', 'highest CPU'),
                ('cpu_shared_set', '1,x', 'malformed')):
            self.assertOneLineError(
                self.run_conf('[compute]\n%s = %s\n' % (option, spec)),
                'nova.conf:4: [compute] %s = %s: ' % (option, spec), needle)

    def test_overlap(self):
        self.assertOneLineError(
            self.run_conf('[compute]\ncpu_dedicated_set = 2-7\n'
                          'cpu_shared_set = 0-2\n'),
            '[compute] cpu_dedicated_set = 2-7', 'cpu_shared_set')

    def test_every_command_checks(self):
        text = '[compute]\ncpu_dedicated_set = 1-\n'
        for command in (LIST,
                        ['plan', '--vcpus', '1', '--ram', '64'],
                        ['boot', '--name', 'never', '--vcpus', '1', '--ram',
                         '64'],
                        ['delete', 'never'],
                        ['check-host', '--root', self.tmp]):
            self.assertOneLineError(self.run_conf(text, *command),
                                    '[compute] cpu_dedicated_set = 1-')


class TestFiles(ConfigTestCase):
    def test_not_utf8(self):
        path = self.write(b'[libvirt]\nvirt_type = kvm\xff\n')
        self.assertOneLineError(
            self.main('--config-file', path, *LIST),
            path, 'not UTF-8', 'line 2')

    def test_byte_order_mark(self):
        path = self.write('\ufeff[libvirt]\nvirt_type = kvm\n', lock=False)
        self.assertOneLineError(
            self.main('--config-file', path, *LIST),
            'nova.conf:1: ', 'byte-order mark')

    def test_config_file_is_a_directory(self):
        self.assertOneLineError(
            self.main('--config-file', self.tmp, *LIST),
            self.tmp, 'is a directory', '--config-dir')

    def test_missing_config_file(self):
        path = os.path.join(self.tmp, 'nope.conf')
        self.assertOneLineError(
            self.main('--config-file', path, *LIST), path, 'no such')

    def test_empty_config_file_name(self):
        self.assertOneLineError(
            self.main('--config-file=', *LIST), "ERROR: '': no such")

    def test_missing_config_dir(self):
        path = os.path.join(self.tmp, 'nope.d')
        self.assertOneLineError(
            self.main('--config-dir', path, *LIST), path, 'no such')

    def test_config_dir_is_a_file(self):
        path = self.write('')
        self.assertOneLineError(
            self.main('--config-dir=%s' % path, *LIST), path,
            'not a directory')

    def test_config_dir_files_are_checked(self):
        confd = os.path.join(self.tmp, 'nova.conf.d')
        os.mkdir(confd)
        self.write('[libvirt]\nvirt_type = xen\n',
                   name=os.path.join('nova.conf.d', '50-rt.conf'))
        self.assertOneLineError(
            self.main('--config-file', self.write(''), '--config-dir',
                      confd, *LIST),
            '50-rt.conf:4: [libvirt] virt_type = xen')

    def test_not_ini(self):
        self.assertOneLineError(
            self.run_conf('garbage\n'), 'nova.conf:3:', 'garbage')

    def test_assignment_before_section(self):
        self.assertOneLineError(
            self.run_conf('x = 1\n', lock=False), 'nova.conf:1:')

    def test_same_file_twice(self):
        path = self.write('[libvirt]\nvirt_type = qemu\n')
        self.assertOk(self.main('--config-file', path, '--config-file',
                                path, *LIST))

    def test_same_bad_file_twice(self):
        path = self.write('[libvirt]\nvirt_type = xen\n')
        self.assertOneLineError(
            self.main('--config-file', path, '--config-file', path, *LIST),
            'virt_type = xen')

    def test_help_still_works(self):
        path = self.write('')
        for argv in (['-h'], ['--help'], ['--config-file', path, '--help'],
                     ['--config-file', path, 'list', '-h']):
            with mock.patch('sys.stdout', io.StringIO()) as out:
                CONF.reset()
                e = self.assertRaises(SystemExit, realtime.main, argv)
            self.assertEqual(0, e.code)
            self.assertIn('usage:', out.getvalue())


class TestLockPath(ConfigTestCase):
    def lock_conf(self, lock_path):
        return '[oslo_concurrency]\nlock_path = %s\n' % lock_path

    def test_created_when_missing(self):
        self.assertOk(self.run_conf(
            self.lock_conf(os.path.join(self.tmp, 'a', 'b')), lock=False))

    def test_not_a_directory(self):
        path = self.write('', name='file')
        self.assertOneLineError(
            self.run_conf(self.lock_conf(path), lock=False),
            '[oslo_concurrency] lock_path = %s' % path, 'not a directory')

    def test_cannot_be_created(self):
        path = os.path.join(self.write('', name='file'), 'lock')
        self.assertOneLineError(
            self.run_conf(self.lock_conf(path), lock=False),
            '[oslo_concurrency] lock_path = %s' % path)

    def test_missing_parent_not_writable(self):
        path = os.path.join(self.tmp, 'a', 'lock')
        with mock.patch.object(validation.os, 'access', autospec=True,
                               return_value=False):
            self.assertOneLineError(
                self.run_conf(self.lock_conf(path), lock=False),
                '[oslo_concurrency] lock_path = %s' % path,
                'cannot be created', self.tmp, 'mkdir -p')

    def test_not_writable(self):
        with mock.patch.object(validation.os, 'access', autospec=True,
                               return_value=False):
            self.assertOneLineError(
                self.run_conf(''),
                '[oslo_concurrency] lock_path = %s' % self.lock_path,
                'not writable')

    def test_empty(self):
        self.assertOneLineError(
            self.run_conf(self.lock_conf(''), lock=False),
            '[oslo_concurrency] lock_path = :', 'must be set')

    def test_unchecked_without_process_locking(self):
        self.assertOk(self.run_conf(
            '[oslo_concurrency]\nlock_path = /dev/null\n'
            'disable_process_locking = true\n', lock=False))


class TestLogFile(ConfigTestCase):
    """Logging options work without --debug; a log file that cannot be
    written stops only the commands that change guests.
    """

    def test_log_file_without_debug(self):
        log = os.path.join(self.tmp, 'rt.log')
        status, out, err = self.run_conf(
            '[DEFAULT]\nlog_file = %s\n' % log, 'plan', '--vcpus', '1',
            '--ram', '64', '--property', 'hw:boot_menu=true',
            '--connection', 'test:///default')
        self.assertEqual(0, status, err)
        self.assertIn('<domain', out)
        self.assertTrue(err.startswith(
            'WARNING: accepted, not applied by this driver: hw:boot_menu\n'),
            err)
        with open(log) as f:
            text = f.read()
        self.assertIn('WARNING nova.virt.libvirt.driver [-] accepted, not '
                      'applied by this driver: hw:boot_menu', text)

    def test_missing_log_dir_is_created(self):
        missing = os.path.join(self.tmp, 'log', 'nova')
        status, out, err = self.run_conf(
            '[DEFAULT]\nlog_dir = %s\n' % missing)
        self.assertEqual(0, status, err)
        self.assertNotIn('log', err)
        self.assertTrue(os.path.isdir(missing))

    def test_uncreatable_directory_does_not_block_read_only_commands(self):
        text = '[DEFAULT]\nlog_file = /dev/null/dir/rt.log\n'
        status, out, err = self.run_conf(text)
        self.assertEqual(0, status, err)
        self.assertTrue(err.startswith(
            'WARNING: [DEFAULT] log_file = /dev/null/dir/rt.log: cannot '
            'create the log directory /dev/null/dir: Not a directory; not '
            'logging to a file\n'), err)
        self.assertEqual(1, err.count('log_file'), err)
        self.assertEqual('No guests.\n', out)
        # boot changes guests: it stops, nothing done.
        line = self.assertOneLineError(
            self.run_conf(text, 'boot', '--name', 'g', '--vcpus', '1',
                          '--ram', '64', '--connection', 'test:///default'),
            '[DEFAULT] log_file = /dev/null/dir/rt.log', 'nothing was done')
        self.assertIn('boot changes guests', line)

    def test_unwritable_directory(self):
        text = '[DEFAULT]\nlog_file = %s\n' % os.path.join(self.tmp, 'l.log')
        with mock.patch.object(realtime.os, 'access', autospec=True,
                               side_effect=lambda p, m: p != self.tmp):
            status, out, err = self.run_conf(text)
            self.assertEqual(0, status, err)
            self.assertIn('is not writable by uid', err)
            self.assertOneLineError(
                self.run_conf(text, 'delete', 'x', '--connection',
                              'test:///default'),
                '[DEFAULT] log_file', 'not writable')

    def test_log_file_is_a_directory(self):
        self.assertOneLineError(
            self.run_conf('[DEFAULT]\nlog_file = %s\n' % self.tmp,
                          'delete', 'x', '--connection', 'test:///default'),
            '[DEFAULT] log_file', 'is a directory')

    def test_missing_log_config(self):
        status, out, err = self.run_conf(
            '[DEFAULT]\nlog_config_append = /nonexistent\n')
        self.assertEqual(0, status, err)
        self.assertIn('WARNING: [DEFAULT] log_config_append = /nonexistent: '
                      'no such logging configuration file', err)

    def test_writable_log_file_with_debug(self):
        log = os.path.join(self.tmp, 'rt.log')
        status, out, err = self.run_conf(
            '[DEFAULT]\nlog_file = %s\n' % log, '--debug', *LIST)
        self.assertEqual(0, status, err)
        self.assertTrue(os.path.exists(log))


class TestNames(ConfigTestCase):
    def test_misspelt_section(self):
        for section, known in (('libvrt', 'libvirt'), ('compte', 'compute'),
                               ('Libvrt', 'libvirt'),
                               ('oslo_concurency', 'oslo_concurrency'),
                               ('default', 'DEFAULT')):
            self.assertOneLineError(
                self.run_conf('[%s]\nvirt_type = qemu\n' % section),
                'nova.conf:3: [%s]: ' % section,
                'did you mean [%s]?' % known)

    def test_section_case_is_ignored_as_oslo_does(self):
        self.assertOk(self.run_conf('[LIBVIRT]\nvirt_type = qemu\n'))

    def test_misspelt_option(self):
        for section, option, known in (
                ('libvirt', 'conection_uri', 'connection_uri'),
                ('libvirt', 'virt_typ', 'virt_type'),
                ('libvirt', 'Virt_Type', 'virt_type'),
                ('compute', 'cpu_dedicatedset', 'cpu_dedicated_set'),
                ('oslo_concurrency', 'lock-path', 'lock_path')):
            self.assertOneLineError(
                self.run_conf('[%s]\n%s = x\n' % (section, option)),
                'nova.conf:4: [%s] %s = x: ' % (section, option),
                'did you mean %s?' % known)

    def test_option_in_the_wrong_section(self):
        self.assertOneLineError(
            self.run_conf('[libvirt]\ncpu_dedicated_set = 2-3\n'),
            '[libvirt] cpu_dedicated_set = 2-3', 'belongs in [compute]')

    def test_unknown_option_of_owned_section(self):
        self.assertOneLineError(
            self.run_conf('[oslo_concurrency]\nfoo = 1\n'),
            '[oslo_concurrency] foo = 1', 'lock_path')

    def test_placement_option_names_are_those_registered(self):
        # What plan judges a [placement] misspelling against is what
        # advertise registers from keystoneauth1.
        conf = cfg.ConfigOpts()
        placement.register_opts(conf)
        names = set()
        for group, opt, _cli in validation._registered(conf):
            names.update(key for section, key in validation._names(group, opt)
                         if section == 'placement')
        self.assertEqual(set(placement.OPTION_NAMES), names)

    def test_misspelt_placement_option_without_its_options(self):
        conf = cfg.ConfigOpts()
        self.assertNotIn('placement', conf)
        ok = validation._ParsedFile(self.write(
            '[placement]\nregion_name = r\nauth_url = http://k/\n')).read()
        validation._check_names(conf, [ok])
        bad = validation._ParsedFile(self.write(
            '[placement]\nregion_nme = r\n')).read()
        error = self.assertRaises(exception.ConfigFileInvalid,
                                  validation._check_names, conf, [bad])
        self.assertIn('[placement] region_nme = r', str(error))
        self.assertIn('did you mean region_name?', str(error))
        self.assertNotIn('placement', conf)

    def test_unrelated_names_are_ignored(self):
        self.assertOk(self.run_conf(
            '[libvirt]\nimages_type = rbd\n[compute]\nmax_disk_ops = 1\n'
            '[DEFAULT]\nlog_fiel = x\n[cinder]\nos_region_name = r\n'))

    def test_upstream_nova_conf(self):
        self.assertOk(self.run_conf(
            UPSTREAM_NOVA_CONF % {'lock_path': self.lock_path}, lock=False))


# Names a fuzzed file is made of: ours, near misses, upstream ones, random.
_SECTIONS = st.one_of(
    st.sampled_from(['DEFAULT', 'default', 'libvirt', 'LIBVIRT', 'libvrt',
                     'compute', 'oslo_concurrency', 'placement', 'realtime',
                     'oslo_versionedobjects', 'config_source_x']),
    st.text(max_size=12))
_KEYS = st.one_of(
    st.sampled_from(['virt_type', 'connection_uri', 'conection_uri',
                     'realtime_scheduler_priority', 'realtime_preflight',
                     'instances_path', 'cpu_dedicated_set', 'cpu_shared_set',
                     'lock_path', 'disable_process_locking', 'debug',
                     'log_file', 'log_dir', 'log_config_append',
                     'config_source', 'config_file', 'config_dir',
                     'command', 'use_stderr', 'images_type',
                     'log_rotation_type', 'max_logfile_count',
                     'default_log_levels', 'host_lock_timeout']),
    st.text(max_size=12))
_VALUES = st.one_of(
    st.sampled_from(['', '0', '1', '99', '100', '1.5', 'abc', 'kvm', 'xen',
                     'true', 'maybe', '$foo', '$$', '$lock_path', '${x',
                     '^0', '0-', '2-7', '/', '/nonexistent/x', 'test:///',
                     'driver', '\x00']),
    st.text(max_size=20))
_NAME = st.from_regex(r'\A[a-zA-Z_][a-zA-Z0-9_.-]{0,15}\Z')
_BLOCK = st.tuples(
    st.one_of(_SECTIONS, _NAME),
    st.lists(st.tuples(st.one_of(_KEYS, _NAME), _VALUES), max_size=5))


def _render(blocks):
    return ''.join('[%s]\n' % name + ''.join('%s = %s\n' % item
                                             for item in items)
                   for name, items in blocks)


_CONTENT = st.one_of(
    st.lists(_BLOCK, max_size=4).map(_render),
    st.lists(st.one_of(st.builds('[{}]'.format, _SECTIONS),
                       st.builds('{} = {}'.format, _KEYS, _VALUES),
                       st.text(max_size=30)),
             max_size=12).map('\n'.join),
    st.text(max_size=200),
    st.binary(max_size=200))


class TestFuzz(ConfigTestCase):
    @hypothesis.settings(max_examples=50, deadline=None)
    @hypothesis.given(_CONTENT)
    def test_any_file_is_a_result_never_a_traceback(self, content):
        header = self.write('', name='header.conf')
        path = os.path.join(self.tmp, 'fuzz.conf')
        with open(path, 'wb') as f:
            f.write(content if isinstance(content, bytes)
                    else content.encode('utf-8', 'surrogatepass'))
        status, out, err = self.main('--config-file', header,
                                     '--config-file', path, *LIST)
        self.assertIn(status, (0, 1, 2), err)
        self.assertNotIn('Traceback', err)
        if status != 0:
            lines = err.splitlines()
            self.assertEqual(1, len(lines), err)
            self.assertTrue(lines[0].startswith('ERROR: '), err)
