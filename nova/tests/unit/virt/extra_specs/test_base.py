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

"""The ExtraSpecValidator machinery, on validators made for the test."""

from nova import exception
from nova import test
from nova.virt.extra_specs import base


def _validator(name='hw:thing', parameters=(), **value):
    value.setdefault('type', 'str')
    value.setdefault('description', 'a thing')
    return base.ExtraSpecValidator(name=name, description='A thing.',
                                   value=value, parameters=parameters)


_NODE = base.ExtraSpecParameter('N', '0|[1-9][0-9]*', 'A node.')


class TestDeclaration(test.TestCase):

    def test_bad_type(self):
        self.assertRaises(ValueError, _validator, type='float')

    def test_value_needs_description(self):
        self.assertRaises(ValueError, _validator, description='')

    def test_min_only_for_int(self):
        self.assertRaises(ValueError, _validator, type='str', min=1)

    def test_parameters_must_match_name(self):
        self.assertRaises(ValueError, _validator, name='hw:x.{N}')
        self.assertRaises(ValueError, _validator, name='hw:x',
                          parameters=[_NODE])
        _validator(name='hw:x.{N}', parameters=[_NODE])

    def test_namespace(self):
        self.assertEqual('hw', _validator(name='hw:a_b').namespace)


class TestMatch(test.TestCase):

    def test_plain_name(self):
        validator = _validator(name='hw:numa_nodes')
        self.assertEqual({}, validator.match('hw:numa_nodes'))
        for key in ('hw:numa_nodesX', 'xhw:numa_nodes', 'hw:numa_node',
                    'HW:numa_nodes'):
            self.assertIsNone(validator.match(key), key)

    def test_parameter(self):
        validator = _validator(name='hw:numa_mem.{N}', parameters=[_NODE])
        self.assertEqual({'N': '0'}, validator.match('hw:numa_mem.0'))
        self.assertEqual({'N': '12'}, validator.match('hw:numa_mem.12'))
        # The '.' is literal, the parameter keeps its own pattern.
        for key in ('hw:numa_memX0', 'hw:numa_mem.', 'hw:numa_mem.01',
                    'hw:numa_mem.a', 'hw:numa_mem.0.1', 'hw:numa_mem'):
            self.assertIsNone(validator.match(key), key)


class TestValidate(test.TestCase):

    def _bad(self, validator, value, key='hw:thing'):
        exc = self.assertRaises(exception.InvalidProperty,
                                validator.validate, key, value)
        self.assertEqual(key, exc.kwargs['name'])
        self.assertEqual(value, exc.kwargs['value'])
        self.assertIn(key, str(exc))
        self.assertIn(repr(value), str(exc))
        return exc

    def test_values_must_be_strings(self):
        exc = self._bad(_validator(type='int'), 5)
        self.assertIn('strings', str(exc))

    def test_int(self):
        validator = _validator(type='int', description='a count')
        for good in ('0', '7', '-3', '4096'):
            validator.validate('hw:thing', good)
        for bad in ('', '1.5', ' 5', '5 ', '+5', '05', '5_0', 'five', '0x5',
                    '\u0665'):
            exc = self._bad(validator, bad)
            self.assertIn('a count', str(exc))

    def test_int_min(self):
        validator = _validator(type='int', min=1, description='a count')
        validator.validate('hw:thing', '1')
        for bad in ('0', '-1'):
            exc = self._bad(validator, bad)
            self.assertIn('at least 1', str(exc))

    def test_enum(self):
        validator = _validator(enum=('red', 'blue'))
        validator.validate('hw:thing', 'blue')
        for bad in ('green', 'Red', ' red', ''):
            exc = self._bad(validator, bad)
            self.assertIn('red, blue', str(exc))

    def test_pattern_matches_whole_value(self):
        validator = _validator(pattern='[a-c]+|x', description='abc or x')
        for good in ('abc', 'a', 'x'):
            validator.validate('hw:thing', good)
        for bad in ('abcd', 'xa', '', 'ax'):
            exc = self._bad(validator, bad)
            self.assertIn('abc or x', str(exc))

    def test_parse_error_for_the_key_passes_through(self):
        raised = exception.InvalidProperty(name='hw:thing', value='v',
                                           reason='because')

        def parse(name, value):
            raise raised

        exc = self.assertRaises(exception.InvalidProperty,
                                _validator(parse=parse).validate,
                                'hw:thing', 'v')
        self.assertIs(raised, exc)

    def test_parse_error_for_another_name_is_renamed(self):
        def parse(name, value):
            raise exception.InvalidProperty(name='inner', value=value,
                                            reason='because')

        exc = self._bad(_validator(parse=parse), 'v')
        self.assertIn('because', str(exc))
        self.assertNotIn('inner', str(exc))

    def test_cpu_spec_error_names_key_and_accepted(self):
        def parse(name, value):
            raise exception.InvalidCPUSpec(spec=value, part=value,
                                           reason='bad part')

        exc = self._bad(_validator(parse=parse,
                                   description='a CPU spec'), '1-x')
        self.assertIn('bad part', str(exc))
        self.assertIn('a CPU spec', str(exc))

    def test_parse_gets_key_and_value(self):
        seen = []
        _validator(name='hw:x.{N}', parameters=[_NODE],
                   parse=lambda n, v: seen.append((n, v))).validate(
                       'hw:x.3', 'val')
        self.assertEqual([('hw:x.3', 'val')], seen)
