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

"""Hostile command lines for ``nova-realtime plan``, run in process.

The promise: whatever the values of --vcpus, --ram, --property,
--image-property, --flavor-name and --name, the command exits 0 (a plan on
stdout that is well-formed XML), 1 (no room on the host) or 2 (bad input),
and on failure stderr is exactly one ``ERROR:`` line, never a traceback,
within bounded time. Hypothesis draws text with control characters, lone
surrogates, U+FFFE, huge integers and long strings.

``main()`` runs in this process (a subprocess per example would spend the
time budget on interpreter start); oslo.config's global CONF is reset after
every call, as it is parsed once per process in real use.
"""

import io
import logging
import os
import sys
import time

import fixtures
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
from lxml import etree

from nova.cmd import realtime
import nova.conf
from nova import exception
from nova import test
from nova.virt import hardware
from nova.virt.libvirt import config as vconfig

CONF = nova.conf.CONF

# Seconds one example may take: far above a normal plan (~10 ms in
# process), low enough to catch anything pathological.
MAX_EXAMPLE_S = 5.0
SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.data_too_large])

# Characters that broke the XML writers or the one-line error, mixed into
# otherwise arbitrary text.
HOSTILE_CHARS = ('\x00', '\x01', '\x08', '\x0b', '\x1b', '\x7f', '\n', '\r',
                 '\t', '\ud800', '\udfff', '\ufffe', '\uffff', '\U0010ffff',
                 '\u2026', '\u0661', '=', ',', '^', '-', ' ', '%', "'", '"',
                 '<', '&', '\\')
hostile_text = st.text(
    alphabet=st.one_of(st.sampled_from(HOSTILE_CHARS), st.characters()),
    max_size=40)
long_text = st.sampled_from(['a' * 256, 'a' * 5000, '\x00' * 300,
                             '1' * 4301, '9' * 5000, '0-4095,' * 700,
                             '\u00e9' * 2049])
huge_int = st.one_of(
    st.integers(min_value=-10, max_value=5000).map(str),
    st.integers(min_value=0, max_value=10 ** 40).map(str),
    st.integers(min_value=4300, max_value=6000).map(lambda n: '7' * n))
any_value = st.one_of(hostile_text, huge_int, long_text)

FLAVOR_KEYS = ('hw:cpu_policy', 'hw:cpu_thread_policy', 'hw:cpu_realtime',
               'hw:cpu_realtime_mask', 'hw:emulator_threads_policy',
               'hw:numa_nodes', 'hw:numa_cpus.0', 'hw:numa_cpus.1',
               'hw:numa_mem.0', 'hw:numa_mem.1', 'hw:mem_page_size',
               'trait:CUSTOM_RT', 'hw:numa_cpus')
IMAGE_KEYS = ('hw_cpu_policy', 'hw_cpu_thread_policy', 'hw_cpu_realtime',
              'hw_cpu_realtime_mask', 'hw_emulator_threads_policy',
              'hw_numa_nodes', 'hw_numa_cpus.0', 'hw_numa_cpus.1',
              'hw_numa_mem.0', 'hw_numa_mem.1', 'hw_mem_page_size',
              'os_command_line', 'hw_numa_cpus.', 'hw_numa_mem')
GOOD_FLAVOR = {'hw:cpu_policy': 'dedicated', 'hw:cpu_realtime': 'yes',
               'hw:numa_nodes': '2', 'hw:mem_page_size': 'small'}
GOOD_IMAGE = {'hw_cpu_realtime_mask': '^0', 'hw_numa_nodes': '1',
              'os_command_line': 'console=ttyS0'}


def _pairs(keys, good):
    key = st.one_of(st.sampled_from(keys), hostile_text)
    value = st.one_of(st.sampled_from(sorted(set(good.values()))), any_value)
    return st.lists(st.tuples(key, value), max_size=6)


class _Durations:
    """The slowest example seen per test, for the report and the assert."""
    worst = {}


class FuzzPlanTest(test.TestCase):

    def setUp(self):
        super().setUp()
        conf = os.path.join(self.lock_path, 'nova.conf')
        with open(conf, 'w') as f:
            f.write('[oslo_concurrency]\nlock_path = %s\n' % self.lock_path)
        self.conf_file = conf
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level

        def restore_logging():
            root.handlers = handlers
            root.setLevel(level)
        self.addCleanup(restore_logging)

    def plan(self, *args):
        argv = ['--config-file', self.conf_file, 'plan',
                '--connection', 'test:///default'] + list(args)
        out, err = io.StringIO(), io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        start = time.perf_counter()
        try:
            status = realtime.main(argv)
        finally:
            elapsed = time.perf_counter() - start
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            CONF.reset()
            CONF.clear()
        name = self.id().rsplit('.', 1)[-1]
        _Durations.worst[name] = max(elapsed, _Durations.worst.get(name, 0))
        return status, out.getvalue(), err.getvalue(), elapsed

    def check(self, *args):
        status, out, err, elapsed = self.plan(*args)
        shown = repr(args)[:300]
        self.assertLess(elapsed, MAX_EXAMPLE_S, shown)
        self.assertIn(status, (0, 1, 2), (shown, err))
        self.assertNotIn('Traceback', err, shown)
        if status == 0:
            etree.fromstring(out.encode('utf-8'))
            for line in err.splitlines():
                self.assertTrue(line.startswith('WARNING: '), (shown, err))
        else:
            self.assertEqual('', out, shown)
            lines = err.split('\n')
            self.assertEqual(2, len(lines), (shown, err))
            self.assertEqual('', lines[1], (shown, err))
            self.assertTrue(lines[0].startswith('ERROR: '), (shown, err))
        return status, err

    @staticmethod
    def _args(option, pairs):
        args = []
        for key, value in pairs:
            args.append('%s=%s=%s' % (option, key, value))
        return args

    @SETTINGS
    @given(vcpus=st.one_of(huge_int, hostile_text, long_text),
           ram=st.one_of(huge_int, hostile_text, long_text),
           dedicated=st.booleans())
    def test_sizes(self, vcpus, ram, dedicated):
        args = ['--vcpus=' + vcpus, '--ram=' + ram]
        if dedicated:
            args.append('--property=hw:cpu_policy=dedicated')
        self.check(*args)

    @SETTINGS
    @given(pairs=_pairs(FLAVOR_KEYS, GOOD_FLAVOR),
           vcpus=st.sampled_from(['1', '2', '4', '4096']))
    def test_flavor_properties(self, pairs, vcpus):
        self.check('--vcpus=' + vcpus, '--ram=1024',
                   *self._args('--property', pairs))

    @SETTINGS
    @given(pairs=_pairs(IMAGE_KEYS, GOOD_IMAGE))
    def test_image_properties(self, pairs):
        self.check('--vcpus=2', '--ram=1024',
                   '--property=hw:cpu_policy=dedicated',
                   *self._args('--image-property', pairs))

    @SETTINGS
    @given(flavor_name=st.one_of(hostile_text, long_text))
    def test_flavor_name(self, flavor_name):
        self.check('--vcpus=2', '--ram=512', '--flavor-name=' + flavor_name)

    @SETTINGS
    @given(name=st.one_of(
        st.from_regex(r'\A[A-Za-z0-9_.-]{1,40}\Z'), hostile_text, long_text))
    def test_guest_name(self, name):
        self.check('--vcpus=2', '--ram=512', '--name=' + name)

    def test_worst_known_inputs_are_cheap(self):
        """The hostile cases of the brief, each one ERROR line fast."""
        cases = [
            (['--vcpus=100000000', '--ram=512',
              '--property=hw:cpu_policy=dedicated'], '--vcpus'),
            (['--vcpus=2', '--ram=' + '9' * 5000], '--ram'),
            (['--vcpus=2', '--ram=512',
              '--property=hw:numa_nodes=' + '1' * 5000], 'hw:numa_nodes'),
            (['--vcpus=2', '--ram=512',
              '--property=hw:numa_mem.0=' + '1' * 200], 'hw:numa_mem.0'),
            (['--vcpus=2', '--ram=512',
              '--image-property=hw_numa_nodes=' + '1' * 5000],
             'hw_numa_nodes'),
            (['--vcpus=2', '--ram=512',
              '--image-property=os_command_line=a\x1bb'], 'os_command_line'),
            (['--vcpus=2', '--ram=512',
              '--image-property=os_command_line=' + 'a' * 4097],
             'os_command_line'),
            (['--vcpus=2', '--ram=512', '--property=hw:cpu_policy=\x00'],
             'hw:cpu_policy'),
            (['--vcpus=2', '--ram=512', '--flavor-name=a\ud800'],
             '--flavor-name'),
            (['--vcpus=2', '--ram=512', '--property=hw:cpu_policy=shared',
              '--property=hw:cpu_policy=dedicated'], 'given twice'),
            (['--vcpus=2', '--ram=512'] +
             ['--image-property=p%d=x' % i for i in range(2001)],
             'at most 128'),
            (['--vcpus=2', '--ram=512'] +
             ['--property=trait:T%d=required' % i for i in range(200)],
             'at most 128'),
        ]
        for args, needle in cases:
            status, err = self.check(*args)
            self.assertEqual(2, status, err)
            self.assertIn(needle, err)

    def test_max_vcpus_dedicated_no_room_is_quick(self):
        status, err = self.check(
            '--vcpus=%d' % hardware.MAX_GUEST_VCPUS, '--ram=4096',
            '--property=hw:cpu_policy=dedicated')
        self.assertEqual(1, status, err)
        self.assertIn('Insufficient compute resources', err)

    def test_max_vcpus_shared_plans(self):
        status, err = self.check(
            '--vcpus=%d' % hardware.MAX_GUEST_VCPUS, '--ram=4096')
        self.assertEqual(0, status, err)

    @classmethod
    def tearDownClass(cls):
        if _Durations.worst:
            sys.__stderr__.write('\nslowest example per fuzz test: %s\n' % (
                ', '.join('%s %.3f s' % item
                          for item in sorted(_Durations.worst.items()))))
        super().tearDownClass()


class ConfigWriterBackstopTest(test.TestCase):
    """XML writers name element and attribute instead of lxml's ValueError."""

    def test_text_with_control_character(self):
        guest = vconfig.LibvirtConfigGuest()
        guest.virt_type = 'kvm'
        guest.name = 'g'
        guest.uuid = '00000000-0000-0000-0000-000000000001'
        guest.memory = 1024
        guest.vcpus = 1
        guest.os_type = 'hvm'
        guest.os_kernel = '/boot/vmlinuz'
        for bad in ('a\x01b', '\x00', 'x\ud800', '\ufffe', '\x1b[0m'):
            guest.os_cmdline = bad
            exc = self.assertRaises(exception.LibvirtConfigInvalid,
                                    guest.to_xml)
            self.assertIsInstance(exc, ValueError)
            self.assertEqual('os/cmdline', exc.kwargs['element'])
            self.assertEqual('text', exc.kwargs['attribute'])
            self.assertIn('XML 1.0', str(exc))
            self.assertNotIn('\n', str(exc))

    def test_attribute_with_control_character(self):
        meta = vconfig.LibvirtConfigGuestMetaNovaRealtime()
        meta.flavor_name = 'rt\x01'
        meta.vcpus = 2
        meta.memory_mb = 512
        exc = self.assertRaises(exception.LibvirtConfigInvalid,
                                meta.format_dom)
        self.assertEqual('instance/flavor', exc.kwargs['element'])
        self.assertEqual('name', exc.kwargs['attribute'])
        self.assertEqual('rt\x01', exc.kwargs['value'])

    def test_safe_text_is_written(self):
        meta = vconfig.LibvirtConfigGuestMetaNovaRealtime()
        meta.flavor_name = 'rt \u00e9\t\U0001f600'
        meta.vcpus = 2
        meta.memory_mb = 512
        back = vconfig.LibvirtConfigGuestMetaNovaRealtime.from_xml(
            meta.to_xml())
        self.assertEqual(meta.flavor_name, back.flavor_name)
