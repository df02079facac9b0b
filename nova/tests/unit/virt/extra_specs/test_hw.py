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

"""Every hw: key: each accepted form of value and each class of bad value."""

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nova import exception
from nova import objects
from nova import test
from nova.virt import extra_specs
from nova.virt import hardware


class _Case(test.TestCase):

    def good(self, key, *values):
        for value in values:
            extra_specs.validate(key, value)

    def bad(self, key, value, *fragments):
        exc = self.assertRaises(exception.InvalidProperty,
                                extra_specs.validate, key, value)
        self.assertEqual(key, exc.kwargs['name'])
        self.assertEqual(value, exc.kwargs['value'])
        message = str(exc)
        self.assertIn(key, message)
        self.assertIn(repr(value), message)
        for fragment in fragments:
            self.assertIn(fragment, message)
        return exc


class TestPolicies(_Case):

    def test_cpu_policy(self):
        # mixed: some vCPUs pinned, the others floating (upstream Nova).
        self.good('hw:cpu_policy', 'dedicated', 'shared', 'mixed')
        for value in ('Dedicated', 'pinned', 'Mixed', '', ' shared'):
            self.bad('hw:cpu_policy', value, 'dedicated, shared, mixed')

    def test_cpu_thread_policy(self):
        self.good('hw:cpu_thread_policy', 'prefer', 'isolate', 'require')
        for value in ('PREFER', 'avoid', ''):
            self.bad('hw:cpu_thread_policy', value,
                     'prefer, isolate, require')

    def test_emulator_threads_policy(self):
        self.good('hw:emulator_threads_policy', 'share', 'isolate')
        for value in ('shared', 'Isolate', 'dedicated', ''):
            self.bad('hw:emulator_threads_policy', value, 'share, isolate')

    def test_enums_follow_the_object_fields(self):
        # One list of policies: the validators read the object enums.
        by_name = {v.name: v for v in extra_specs.get_validators()}
        self.assertEqual(
            objects.fields.CPUAllocationPolicy.ALL,
            tuple(by_name['hw:cpu_policy'].value['enum']))
        self.assertEqual(
            objects.fields.CPUThreadAllocationPolicy.ALL,
            tuple(by_name['hw:cpu_thread_policy'].value['enum']))
        self.assertEqual(
            objects.fields.CPUEmulatorThreadsPolicy.ALL,
            tuple(by_name['hw:emulator_threads_policy'].value['enum']))


class TestCpuRealtime(_Case):

    WORDS = ('yes', 'no', 'true', 'false', '1', '0', 'on', 'off')

    def test_every_word_any_case(self):
        for word in self.WORDS:
            self.good('hw:cpu_realtime', word, word.upper(),
                      word.capitalize())

    @given(st.sampled_from(WORDS), st.data())
    def test_mixed_case(self, word, data):
        upper = data.draw(st.lists(st.booleans(), min_size=len(word),
                                   max_size=len(word)))
        spelt = ''.join(c.upper() if u else c for c, u in zip(word, upper))
        extra_specs.validate('hw:cpu_realtime', spelt)

    def test_bad(self):
        for value in ('maybe', '', 'y', 'n', '2', 'enabled', 'yess', 't'):
            self.bad('hw:cpu_realtime', value, 'yes', 'no')


class TestCpuRealtimeMask(_Case):

    KEY = 'hw:cpu_realtime_mask'

    def test_good(self):
        self.good(self.KEY, '^0', '^0-1', '^0,^2', '^0-1,^4', '2-3',
                  '1,3', '0-3,^0', ' ^0 ', '^ 0')

    def test_malformed(self):
        for value in ('x', '^', '0-', '-1', '^-1', '3-1', '^0;1', '0.5',
                      '^\u0660'):
            self.bad(self.KEY, value, 'N, A-B, ^N or ^A-B')

    def test_too_high(self):
        self.bad(self.KEY, '^%d' % (hardware.MAX_CPU_NUMBER + 1),
                 str(hardware.MAX_CPU_NUMBER))

    def test_names_no_vcpu(self):
        for value in ('', ' ', ',', ', ,'):
            self.bad(self.KEY, value, 'names no vCPU')

    def test_lists_then_excludes_everything(self):
        for value in ('1,^1', '0-3,^0-3', '2,^0-7'):
            self.bad(self.KEY, value, 'no real-time vCPU')


class TestNumaNodes(_Case):

    def test_good(self):
        self.good('hw:numa_nodes', '1', '2', '8', '64')

    def test_bad(self):
        for value in ('0', '-1'):
            self.bad('hw:numa_nodes', value, 'at least 1')
        for value in ('two', '1.5', '', ' 2', '02', '+2', '2_0'):
            self.bad('hw:numa_nodes', value, 'integer')

    @given(st.integers(min_value=1, max_value=hardware.MAX_GUEST_VCPUS))
    def test_any_positive_up_to_max_vcpus(self, nodes):
        extra_specs.validate('hw:numa_nodes', str(nodes))

    @given(st.integers(min_value=hardware.MAX_GUEST_VCPUS + 1,
                       max_value=10 ** 19))
    def test_above_max_vcpus(self, nodes):
        self.bad('hw:numa_nodes', str(nodes), 'at most 4096')

    @given(st.integers(max_value=0))
    def test_never_below_one(self, nodes):
        self.assertRaises(exception.InvalidProperty, extra_specs.validate,
                          'hw:numa_nodes', str(nodes))

    def test_huge_digits_refused_before_int(self):
        # Python's int() refuses more than 4300 digits with a ValueError of
        # its own; the validator bounds digits first, names key and rule.
        for digits in (21, 200, 255):
            exc = self.assertRaises(exception.InvalidProperty,
                                    extra_specs.validate, 'hw:numa_nodes',
                                    '1' * digits)
            self.assertEqual('hw:numa_nodes', exc.kwargs['name'])
            self.assertIn('at most 20 digits', str(exc))
            self.assertIn('at least 1', str(exc))
        # Longer than any extra spec value: the length rule comes first.
        exc = self.assertRaises(exception.InvalidProperty,
                                extra_specs.validate, 'hw:numa_nodes',
                                '1' * 5000)
        self.assertIn('5000 characters long; at most 255', str(exc))
        self.assertEqual('1' * 40 + '\u2026', exc.kwargs['value'])


class TestNumaCpus(_Case):

    def test_every_node_number(self):
        for node in (0, 1, 7, 99, 999):
            self.good('hw:numa_cpus.%d' % node, '0')

    def test_good_values(self):
        self.good('hw:numa_cpus.0', '0', '0-3', '0-3,^2', '0,2,4', ' 1 ')

    def test_malformed(self):
        for value in ('0-x', 'a', '1;2'):
            self.bad('hw:numa_cpus.1', value, 'N, A-B, ^N or ^A-B')
        self.bad('hw:numa_cpus.1', '3-1', 'below its start')

    def test_empty(self):
        for value in ('', '^0', '0-1,^0-1'):
            self.bad('hw:numa_cpus.0', value, 'names no vCPU')

    def test_node_number_spelling(self):
        for key in ('hw:numa_cpus', 'hw:numa_cpus.', 'hw:numa_cpus.01',
                    'hw:numa_cpus.1000', 'hw:numa_cpus.x', 'hw:numa_cpus.-1'):
            self.bad(key, '0', 'unknown extra spec')


class TestNumaMem(_Case):

    def test_good(self):
        for node in (0, 3):
            self.good('hw:numa_mem.%d' % node, '1', '512', '1048576')

    def test_bad(self):
        for value in ('0', '-512'):
            self.bad('hw:numa_mem.0', value, 'at least 1')
        for value in ('lots', '512MB', '1.5', '', '0512'):
            self.bad('hw:numa_mem.2', value, 'MiB')

    def test_node_number_spelling(self):
        self.bad('hw:numa_mem.007', '512', 'did you mean hw:numa_mem.7?')

    def test_at_most_16_tib(self):
        self.good('hw:numa_mem.0', str(hardware.MAX_GUEST_MEMORY_MB))
        self.bad('hw:numa_mem.0', str(hardware.MAX_GUEST_MEMORY_MB + 1),
                 'at most 16777216')
        self.bad('hw:numa_mem.0', '9' * 20, 'at most 16777216')
        exc = self.assertRaises(exception.InvalidProperty,
                                extra_specs.validate, 'hw:numa_mem.1',
                                '9' * 4400)
        self.assertEqual('hw:numa_mem.1', exc.kwargs['name'])
        self.assertNotIn('4300', str(exc))


class TestMemPageSize(_Case):

    KEY = 'hw:mem_page_size'

    def test_words(self):
        self.good(self.KEY, 'small', 'large', 'any', 'LARGE', 'Any')

    def test_sizes(self):
        self.good(self.KEY, '4', '2048', '1048576', '2048K', '2048KB',
                  '2M', '2MB', '2MiB', '1G', '1GB', '1GiB', '2mb')

    def test_bad_words(self):
        for value in ('huge', 'default', '', 'largest', '2 pages'):
            self.bad(self.KEY, value, 'small, large, any')

    def test_bad_sizes(self):
        for value in ('3MB', '0', '2', '3000', '2048T'):
            self.bad(self.KEY, value)

    @given(st.integers(min_value=2, max_value=30))
    def test_every_power_of_two(self, exponent):
        extra_specs.validate(self.KEY, str(2 ** exponent))

    @given(st.integers(min_value=5, max_value=2 ** 30).filter(
        lambda n: n & (n - 1)))
    def test_no_other_size(self, size):
        self.assertRaises(exception.InvalidProperty, extra_specs.validate,
                          self.KEY, str(size))


# One piece of a CPU mask, as a tenant or operator might write it.
_MASK_PART = st.builds(
    lambda caret, first, width: '%s%d%s' % (
        '^' if caret else '', first,
        '' if width is None else '-%d' % (first + width)),
    st.booleans(), st.integers(0, 9), st.none() | st.integers(0, 3))


class TestMaskAgreesWithHardware(test.TestCase):
    """The validator never refuses a mask some flavor could use.

    Set-time validation knows no vCPU count; hardware.numa_get_constraints
    does. A mask the validator rejects must be rejected by hardware for
    every vCPU count, or operators would be refused a working flavor.
    """

    def _hardware_accepts(self, mask, vcpus):
        flavor = objects.Flavor(
            name='rt', vcpus=vcpus, memory_mb=1024 * vcpus,
            extra_specs={'hw:cpu_policy': 'dedicated',
                         'hw:cpu_realtime': 'yes',
                         'hw:emulator_threads_policy': 'isolate',
                         'hw:cpu_realtime_mask': mask})
        try:
            hardware.numa_get_constraints(flavor, None)
        except exception.Invalid:
            return False
        return True

    @settings(max_examples=150, deadline=None)
    @given(st.lists(_MASK_PART, min_size=0, max_size=4))
    def test_agreement(self, parts):
        mask = ','.join(parts)
        try:
            extra_specs.validate('hw:cpu_realtime_mask', mask)
            accepted = True
        except exception.InvalidProperty:
            accepted = False
        if not accepted:
            for vcpus in range(1, 15):
                self.assertFalse(self._hardware_accepts(mask, vcpus),
                                 '%r works with %d vCPUs' % (mask, vcpus))
