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

"""The registry: known keys, unknown keys, whole flavors, the reference."""

import time

import fixtures

from nova import exception
from nova import test
from nova.virt import extra_specs
from nova.virt.extra_specs import validators
from nova.virt import hardware_parse

# The keys of the real-time path; every upstream key is registered too
# (test_namespaces checks them).
KNOWN_KEYS = [
    'hw:cpu_policy', 'hw:cpu_realtime', 'hw:cpu_realtime_mask',
    'hw:cpu_thread_policy', 'hw:emulator_threads_policy', 'hw:mem_page_size',
    'hw:numa_cpus.{N}', 'hw:numa_mem.{N}', 'hw:numa_nodes',
]
HW_KEYS = [
    'hw:boot_menu', 'hw:cpu_cores', 'hw:cpu_dedicated_mask',
    'hw:cpu_max_cores', 'hw:cpu_max_sockets', 'hw:cpu_max_threads',
    'hw:cpu_policy', 'hw:cpu_realtime', 'hw:cpu_realtime_mask',
    'hw:cpu_sockets', 'hw:cpu_thread_policy', 'hw:cpu_threads',
    'hw:emulator_threads_policy', 'hw:ephemeral_encryption',
    'hw:ephemeral_encryption_format', 'hw:hide_hypervisor_id',
    'hw:locked_memory', 'hw:mem_encryption', 'hw:mem_encryption_model',
    'hw:mem_page_size', 'hw:numa_cpus.{N}', 'hw:numa_mem.{N}',
    'hw:numa_nodes', 'hw:pci_numa_affinity_policy', 'hw:pmem', 'hw:pmu',
    'hw:redirected_usb_ports', 'hw:serial_port_count', 'hw:sound_model',
    'hw:tpm_model', 'hw:tpm_secret_security', 'hw:tpm_version',
    'hw:usb_model', 'hw:vif_multiqueue_enabled', 'hw:viommu_model',
    'hw:virtio_packed_ring', 'hw:watchdog_action',
]

RT_FLAVOR = {
    'hw:cpu_policy': 'dedicated',
    'hw:cpu_thread_policy': 'isolate',
    'hw:cpu_realtime': 'yes',
    'hw:cpu_realtime_mask': '^0',
    'hw:emulator_threads_policy': 'isolate',
    'hw:mem_page_size': '2MB',
    'hw:numa_nodes': '2',
    'hw:numa_cpus.0': '0-1',
    'hw:numa_cpus.1': '2-3',
    'hw:numa_mem.0': '1024',
    'hw:numa_mem.1': '1024',
    'trait:CUSTOM_REALTIME': 'required',
    'aggregate_instance_extra_specs:realtime': 'true',
}


class TestGetValidators(test.TestCase):

    def test_known_keys_sorted(self):
        names = [v.name for v in extra_specs.get_validators()]
        self.assertEqual(HW_KEYS, [n for n in names if n.startswith('hw:')])
        for key in KNOWN_KEYS:
            self.assertIn(key, names)
        self.assertEqual(sorted(names), names)

    def test_every_validator_documents_itself(self):
        # The extra spec reference is rendered from these: prose sentences
        # for operators, a value description, and each parameter explained.
        for validator in extra_specs.get_validators():
            self.assertIsInstance(validator, extra_specs.ExtraSpecValidator)
            self.assertGreater(len(validator.description.split()), 15,
                               validator.name)
            self.assertTrue(validator.description.endswith('.'),
                            validator.name)
            self.assertIn(validator.value['type'], ('str', 'int', 'bool'))
            self.assertTrue(validator.value['description'], validator.name)
            for parameter in validator.parameters:
                self.assertIn('{%s}' % parameter.name, validator.name)
                self.assertTrue(parameter.description.endswith('.'))

    def test_a_reference_can_be_rendered(self):
        lines = []
        for validator in extra_specs.get_validators():
            lines += [validator.name, validator.description,
                      '%s: %s' % (validator.value['type'],
                                  validator.value['description'])]
            lines += ['%s: %s' % (p.name, p.description)
                      for p in validator.parameters]
        text = '\n'.join(lines)
        self.assertIn('hw:numa_cpus.{N}', text)
        self.assertIn('N: The guest NUMA node number', text)
        self.assertIn('bool: a yes/no word: yes, no', text)


class TestRegister(test.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.extra_specs.validators._REGISTRY',
            dict(validators._REGISTRY)))

    def _new(self, name):
        return extra_specs.ExtraSpecValidator(
            name=name, description='A new key.',
            value={'type': 'str', 'description': 'anything'})

    def test_register_makes_a_key_known(self):
        self.assertRaises(exception.InvalidProperty, extra_specs.validate,
                          'hw:brand_new', 'x')
        extra_specs.register(self._new('hw:brand_new'))
        extra_specs.validate('hw:brand_new', 'x')
        self.assertIn('hw:brand_new',
                      [v.name for v in extra_specs.get_validators()])

    def test_duplicate_refused(self):
        self.assertRaises(ValueError, extra_specs.register,
                          self._new('hw:cpu_policy'))

    def test_any_namespace_may_be_registered(self):
        # Registering a key closes its namespace.
        extra_specs.validate('newns:x', 'v')
        extra_specs.register(self._new('newns:known'))
        extra_specs.validate('newns:known', 'v')
        self.assertRaises(exception.InvalidProperty, extra_specs.validate,
                          'newns:x', 'v')


class TestUnknownKeys(test.TestCase):

    def _suggests(self, key, suggestion):
        exc = self.assertRaises(exception.InvalidProperty,
                                extra_specs.validate, key, 'v')
        self.assertEqual(key, exc.kwargs['name'])
        self.assertEqual('v', exc.kwargs['value'])
        self.assertIn(key, str(exc))
        self.assertIn('did you mean %s?' % suggestion, str(exc))

    def test_typos(self):
        self._suggests('hw:cpu_realtime_mak', 'hw:cpu_realtime_mask')
        self._suggests('hw:cpu_realtimemask', 'hw:cpu_realtime_mask')
        self._suggests('hw:cpu_polcy', 'hw:cpu_policy')
        self._suggests('hw:cpu_real_time', 'hw:cpu_realtime')
        self._suggests('hw:numa_node', 'hw:numa_nodes')
        self._suggests('hw:emulator_thread_policy',
                       'hw:emulator_threads_policy')
        self._suggests('hw:mem_pagesize', 'hw:mem_page_size')
        self._suggests('hw:cpu_threads_policy', 'hw:cpu_thread_policy')

    def test_case(self):
        self._suggests('hw:NUMA_NODES', 'hw:numa_nodes')
        self._suggests('hw:CPU_Policy', 'hw:cpu_policy')

    def test_node_keys_keep_the_users_node(self):
        self._suggests('hw:numa_cpu.1', 'hw:numa_cpus.1')
        self._suggests('hw:numa_memory.3', 'hw:numa_mem.3')
        self._suggests('hw:numa_mem.01', 'hw:numa_mem.1')

    def test_bare_family(self):
        self._suggests('hw:numa_cpus', 'hw:numa_cpus.{N}')
        self._suggests('hw:numa_mem', 'hw:numa_mem.{N}')

    def test_nothing_close(self):
        exc = self.assertRaises(exception.InvalidProperty,
                                extra_specs.validate, 'hw:zzzzzz', 'reset')
        self.assertNotIn('did you mean', str(exc))
        for key in HW_KEYS:
            self.assertIn(key, str(exc))
        exc = self.assertRaises(exception.InvalidProperty,
                                extra_specs.validate, 'quota:zzzzzz', '1')
        self.assertIn('quota:cpu_shares', str(exc))
        self.assertNotIn('hw:', str(exc))

    def test_other_namespaces_pass(self):
        # Namespaces (and keys without one) that upstream Nova does not
        # validate either.
        for key in ('aggregate_instance_extra_specs:rt', 'no_namespace',
                    'hw_numa:x', 'foo:bar', 'cpu:policy', 'hw'):
            extra_specs.validate(key, 'anything at all')


class TestValidateAll(test.TestCase):

    def test_empty(self):
        extra_specs.validate_all({})
        extra_specs.validate_all(None)
        extra_specs.validate_all({}, vcpus=2, memory_mb=512)

    def test_real_time_flavor(self):
        extra_specs.validate_all(RT_FLAVOR)
        extra_specs.validate_all(RT_FLAVOR, vcpus=4, memory_mb=2048)

    def test_first_bad_key_in_sorted_order(self):
        specs = dict(RT_FLAVOR, **{'hw:numa_nodes': 'two',
                                   'hw:cpu_policy': 'pinned'})
        exc = self.assertRaises(exception.InvalidProperty,
                                extra_specs.validate_all, specs)
        self.assertEqual('hw:cpu_policy', exc.kwargs['name'])

    def test_unknown_key(self):
        exc = self.assertRaises(exception.InvalidProperty,
                                extra_specs.validate_all,
                                dict(RT_FLAVOR,
                                     **{'hw:cpu_realtime_mak': 'x'}))
        self.assertIn('did you mean hw:cpu_realtime_mask?', str(exc))

    def test_cross_key_rules_only_with_a_size(self):
        specs = {'hw:cpu_realtime': 'yes'}
        # Each key is fine on its own...
        extra_specs.validate_all(specs)
        # ...but real time needs the dedicated CPU policy.
        exc = self.assertRaises(exception.InvalidProperty,
                                extra_specs.validate_all, specs,
                                vcpus=2, memory_mb=512)
        self.assertEqual('hw:cpu_realtime', exc.kwargs['name'])
        self.assertIn('hw:cpu_policy=dedicated', str(exc))

    def test_mask_checked_against_the_vcpus(self):
        specs = dict(RT_FLAVOR, **{'hw:cpu_realtime_mask': '^0,^9'})
        extra_specs.validate_all(specs)
        exc = self.assertRaises(exception.InvalidProperty,
                                extra_specs.validate_all, specs,
                                vcpus=4, memory_mb=2048)
        self.assertEqual('hw:cpu_realtime_mask', exc.kwargs['name'])
        self.assertIn('outside 0-3', str(exc))

    def test_numa_split_checked_against_the_size(self):
        exc = self.assertRaises(exception.InvalidProperty,
                                extra_specs.validate_all, RT_FLAVOR,
                                vcpus=4, memory_mb=4096)
        self.assertIn('hw:numa_mem', str(exc))

    def test_size_needs_both(self):
        # vCPUs alone are not enough to build a flavor: no cross-key check.
        extra_specs.validate_all({'hw:cpu_realtime': 'yes'}, vcpus=2)


class TestBoundedInput(test.TestCase):
    """Every key and every value, known namespace or not, is bounded."""

    def assertOneLine(self, exc, *parts):
        message = str(exc)
        self.assertNotIn('\n', message)
        self.assertLess(len(message), 400)
        for part in parts:
            self.assertIn(part, message)

    def test_unsafe_characters_in_values_of_any_namespace(self):
        for key in ('hw:cpu_policy', 'hw:cpu_realtime_mask',
                    'trait:CUSTOM_RT', 'no_namespace', 'hw:numa_mem.0'):
            for char in ('\x00', '\x01', '\x1b', '\ud800', '\ufffe'):
                exc = self.assertRaises(exception.InvalidProperty,
                                        extra_specs.validate, key,
                                        'x' + char)
                self.assertEqual(key, exc.kwargs['name'])
                self.assertOneLine(exc, key, 'U+%04X' % ord(char),
                                   'XML 1.0')

    def test_value_length(self):
        key = 'aggregate_instance_extra_specs:rt'
        extra_specs.validate(key, 'r' * 255)
        exc = self.assertRaises(exception.InvalidProperty,
                                extra_specs.validate, key, 'r' * 100000)
        self.assertEqual(key, exc.kwargs['name'])
        self.assertOneLine(exc, '100000 characters long; at most 255')

    def test_keys(self):
        extra_specs.validate('aggregate_instance_extra_specs:a b-c.d_e',
                             'x')
        for key in ('', 'k' * 256, 'hw:cpu_policy\n', 'bad\x00',
                    'hw:cpu\u00e9', 'a/b', 'a=b'):
            exc = self.assertRaises(exception.InvalidProperty,
                                    extra_specs.validate, key, 'dedicated')
            self.assertEqual('extra spec key', exc.kwargs['name'])
            self.assertOneLine(exc, 'extra spec key')

    def test_count_checked_before_any_key(self):
        many = {'trait:CUSTOM_T%d' % i: 'required'
                for i in range(hardware_parse.MAX_EXTRA_SPECS)}
        extra_specs.validate_all(many)
        # One more, and a bad value: the count is what is reported.
        many['hw:cpu_policy'] = 'pinned'
        exc = self.assertRaises(exception.InvalidProperty,
                                extra_specs.validate_all, many)
        self.assertEqual('extra_specs', exc.kwargs['name'])
        self.assertOneLine(exc, '129 keys', 'at most 128')

    def test_huge_counts_are_refused_fast(self):
        many = {'trait:T%d' % i: 'required' for i in range(100000)}
        start = time.perf_counter()
        self.assertRaises(exception.InvalidProperty,
                          extra_specs.validate_all, many)
        self.assertLess(time.perf_counter() - start, 0.1)
