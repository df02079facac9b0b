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

"""Tests of the string parsers of nova.virt.hardware."""

import time

import hypothesis
from hypothesis import strategies as st

from nova import exception
from nova import test
from nova.virt import hardware
from nova.virt import hardware_parse
from nova.virt.libvirt import host as host_mod


class ParseCPUSpecTest(test.TestCase):

    def test_forms(self):
        cases = [
            ('0', {0}),
            ('1-3', {1, 2, 3}),
            ('0-3,^2', {0, 1, 3}),
            (' 0 - 2 , 5 ', {0, 1, 2, 5}),
            ('1,,2', {1, 2}),
            ('0-7,^2-5', {0, 1, 6, 7}),
            ('^0', set()),
            ('', set()),
            ('4095', {hardware.MAX_CPU_NUMBER}),
            ('0007', {7}),
        ]
        for spec, expected in cases:
            self.assertEqual(expected, hardware.parse_cpu_spec(spec), spec)

    def test_parts_keeps_inclusions_and_exclusions_apart(self):
        self.assertEqual(({0, 1, 2, 3}, {1, 2}),
                         hardware.parse_cpu_spec_parts('0-3,^1-2'))
        self.assertEqual((set(), {0, 1}),
                         hardware.parse_cpu_spec_parts('^0-1'))

    def test_errors_name_the_bad_part(self):
        cases = [
            ('^', '^'), ('0-', '0-'), ('-1', '-1'), ('3-1', '3-1'),
            ('a', 'a'), ('1.5', '1.5'), ('0x1', '0x1'), ('+1', '+1'),
            ('\u0661', '\u0661'), ('1,4096', '4096'), ('0-4096', '0-4096'),
            ('1, 2-x', '2-x'), ('^^1', '^^1'), ('1 2', '1 2'),
        ]
        for spec, part in cases:
            e = self.assertRaises(exception.InvalidCPUSpec,
                                  hardware.parse_cpu_spec, spec)
            self.assertEqual(part, e.kwargs['part'], spec)
            self.assertEqual(spec, e.kwargs['spec'])
            self.assertIn(repr(part), str(e))

    def test_reversed_range_reason(self):
        e = self.assertRaises(exception.InvalidCPUSpec,
                              hardware.parse_cpu_spec, '3-1')
        self.assertIn('below its start', str(e))

    def test_huge_numbers_fail_without_expanding(self):
        for spec in ('^0-999999999', '0-99999999999999999999999',
                     '1' * 200):
            e = self.assertRaises(exception.InvalidCPUSpec,
                                  hardware.parse_cpu_spec, spec)
            self.assertIn('above the highest CPU number', str(e))

    def test_overlong_input_rejected(self):
        spec = '0,' * 3000
        e = self.assertRaises(exception.InvalidCPUSpec,
                              hardware.parse_cpu_spec, spec)
        self.assertIn('longer than', str(e))

    def test_not_a_string(self):
        self.assertRaises(exception.InvalidCPUSpec,
                          hardware.parse_cpu_spec, 3)

    @hypothesis.given(st.sets(st.integers(0, hardware.MAX_CPU_NUMBER),
                              max_size=200), st.booleans())
    def test_format_parse_round_trip(self, cpus, allow_ranges):
        spec = hardware.format_cpu_spec(cpus, allow_ranges=allow_ranges)
        self.assertEqual(cpus, hardware.parse_cpu_spec(spec))

    @hypothesis.given(st.one_of(
        st.text(alphabet='0123456789-^, x', max_size=255),
        st.text(max_size=64)))
    def test_any_text_parses_or_raises_invalid_spec(self, spec):
        try:
            cpus = hardware.parse_cpu_spec(spec)
        except exception.InvalidCPUSpec:
            return
        self.assertTrue(all(0 <= cpu <= hardware.MAX_CPU_NUMBER
                            for cpu in cpus))


class FormatCPUSpecTest(test.TestCase):

    def test_ranges(self):
        self.assertEqual('0-3,5,7-8',
                         hardware.format_cpu_spec([8, 7, 5, 3, 2, 1, 0, 1]))
        self.assertEqual('', hardware.format_cpu_spec([]))
        self.assertEqual('4', hardware.format_cpu_spec({4}))

    def test_no_ranges(self):
        self.assertEqual('0,1,2,5',
                         hardware.format_cpu_spec({5, 2, 1, 0},
                                                  allow_ranges=False))

    def test_upstream_keywords(self):
        self.assertEqual('1-2', hardware.format_cpu_spec(cpuset={1, 2}))
        self.assertEqual('1,2', hardware.format_cpu_spec(
            cpuset=[2, 1], allow_ranges=False))


class ModuleSurfaceTest(test.TestCase):

    def test_no_config_reexported(self):
        # The rules read no nova.conf: only hardware_parse's getters do.
        self.assertFalse(hasattr(hardware, 'CONF'))
        self.assertNotIn('CONF', hardware.__all__)

    def test_every_name_in_all_exists(self):
        for name in hardware.__all__:
            self.assertTrue(hasattr(hardware, name), name)

    def test_numa_node_pattern_is_ascii(self):
        import re
        pattern = re.compile('(%s)' % hardware.NUMA_NODE_PATTERN)
        for good in ('0', '1', '10', '999'):
            self.assertIsNotNone(pattern.fullmatch(good), good)
        # U+0660 ARABIC-INDIC DIGIT ZERO is a digit to \d, not to us.
        for bad in ('01', '1\u0660', '\u0661', '1000', '', '-1'):
            self.assertIsNone(pattern.fullmatch(bad), bad)


class ParsePropertyCPUSpecTest(test.TestCase):

    def test_ok(self):
        self.assertEqual({0, 1}, hardware.parse_property_cpu_spec(
            'hw:numa_cpus.0', '0-1'))

    def test_error_names_property_value_and_part(self):
        e = self.assertRaises(exception.InvalidProperty,
                              hardware.parse_property_cpu_spec,
                              'hw_numa_cpus.1', '0-x')
        self.assertEqual('hw_numa_cpus.1', e.kwargs['name'])
        self.assertIn('hw_numa_cpus.1', str(e))
        self.assertIn("'0-x'", str(e))


class ConfigCPUSetTest(test.TestCase):
    """parse_host_cpu_sets: the options' values in, no nova.conf read."""

    def sets(self, dedicated=None, shared=None):
        return hardware.parse_host_cpu_sets(dedicated, shared)

    def test_unset(self):
        self.assertEqual(hardware.HostCPUSets(None, None), self.sets())

    def test_empty_string_is_unset(self):
        self.assertIsNone(self.sets(' ').dedicated)

    def test_sets(self):
        self.assertEqual(hardware.HostCPUSets({2, 3, 5, 6, 7}, {0, 1}),
                         self.sets('2-7,^4', '0-1'))

    def test_malformed(self):
        e = self.assertRaises(exception.ConfigurationInvalid,
                              self.sets, '2-x')
        self.assertEqual('cpu_dedicated_set', e.kwargs['option'])
        self.assertIn('[compute] cpu_dedicated_set', str(e))
        self.assertIn("'2-x'", str(e))

    def test_malformed_shared(self):
        e = self.assertRaises(exception.ConfigurationInvalid,
                              self.sets, None, '0-1-2')
        self.assertIn('[compute] cpu_shared_set', str(e))

    def test_names_no_cpu(self):
        e = self.assertRaises(exception.ConfigurationInvalid,
                              self.sets, '0,^0')
        self.assertIn('names no host CPU', str(e))

    def test_overlap(self):
        e = self.assertRaises(exception.ConfigurationInvalid,
                              self.sets, '2-7', '0-3')
        self.assertIn('2-3', str(e))
        self.assertIn('cpu_shared_set', str(e))

    def test_config_is_read_by_the_host_layer(self):
        self.flags(cpu_dedicated_set='2-7,^4', cpu_shared_set='0-1',
                   group='compute')
        self.assertEqual(hardware.HostCPUSets({2, 3, 5, 6, 7}, {0, 1}),
                         host_mod.get_host_cpu_sets())


class ParseBoolTest(test.TestCase):

    def test_accepted(self):
        for value in ('yes', 'YES', 'True', 'true', '1', 'on', ' On '):
            self.assertTrue(hardware.parse_bool('hw:cpu_realtime',
                                                         value), value)
        for value in ('no', 'No', 'false', 'FALSE', '0', 'off'):
            self.assertFalse(hardware.parse_bool('hw:cpu_realtime',
                                                          value), value)

    def test_rejected(self):
        for value in ('', 'yess', 'y', '2', 'enabled', None):
            e = self.assertRaises(exception.InvalidProperty,
                                  hardware.parse_bool,
                                  'hw:cpu_realtime', value)
            self.assertIn('hw:cpu_realtime', str(e))
            self.assertIn(repr(value), str(e))
            self.assertIn('yes/no word: yes, no, true', str(e))


class ParseMemPageSizeTest(test.TestCase):

    def test_words(self):
        parse = hardware.parse_mem_page_size
        self.assertEqual(hardware.MEMPAGES_SMALL, parse('n', 'small'))
        self.assertEqual(hardware.MEMPAGES_LARGE, parse('n', 'Large'))
        self.assertEqual(hardware.MEMPAGES_ANY, parse('n', 'ANY'))

    def test_sizes(self):
        cases = [('2048', 2048), ('4', 4), ('2MB', 2048), ('2MiB', 2048),
                 ('2M', 2048), ('2048KB', 2048), ('2048k', 2048),
                 ('1GB', 1048576), ('1 GiB', 1048576), ('1g', 1048576),
                 (2048, 2048), ('64KiB', 64)]
        for value, expected in cases:
            self.assertEqual(expected, hardware.parse_mem_page_size(
                'hw:mem_page_size', value), value)

    def test_rejected(self):
        for value in ('huge', '3000', '2', '0', '-2048', '2TB', '1.5MB',
                      '2 MB B', '', '2048B', None, '1' * 40, True):
            e = self.assertRaises(exception.InvalidProperty,
                                  hardware.parse_mem_page_size,
                                  'hw_mem_page_size', value)
            self.assertIn('hw_mem_page_size', str(e))
            self.assertIn(repr(value), str(e))

    def test_not_power_of_two_reason(self):
        e = self.assertRaises(exception.InvalidProperty,
                              hardware.parse_mem_page_size,
                              'hw:mem_page_size', '3MB')
        self.assertIn('power of two', str(e))
        self.assertIn('3072 KiB', str(e))


# Characters of XML 1.0's Char production at its edges, and outside it.
XML_SAFE = ('abc', '', '\t', '\n', '\r', ' ', '\x7f', '\u00e9', '\ud7ff',
            '\ue000', '\ufffd', '\U00010000', '\U0010ffff', '\u2026')
XML_UNSAFE = ('\x00', '\x01', '\x08', '\x0b', '\x0c', '\x1b', '\x1f',
              '\ud800', '\udbff', '\udc00', '\udfff', '\ufffe', '\uffff')


class XMLSafeTextTest(test.TestCase):

    def test_edges_of_the_char_production(self):
        for text in XML_SAFE:
            self.assertTrue(hardware.is_xml_safe(text), repr(text))
            self.assertIsNone(hardware.xml_unsafe_char(text), repr(text))
        for char in XML_UNSAFE:
            for text in (char, 'a' + char, char + 'b', 'x' * 100 + char):
                self.assertFalse(hardware.is_xml_safe(text), repr(text))
                self.assertEqual(char, hardware.xml_unsafe_char(text))

    def test_reason_names_the_character_and_position(self):
        reason = hardware.xml_unsafe_reason('ab\x1bc')
        self.assertIn('U+001B', reason)
        self.assertIn('position 2', reason)
        self.assertIn('XML 1.0', reason)
        self.assertIsNone(hardware.xml_unsafe_reason('fine'))

    @hypothesis.settings(max_examples=200)
    @hypothesis.given(st.text(alphabet=st.characters(
        exclude_categories=()), max_size=20))
    def test_safe_text_survives_lxml(self, text):
        # What is_xml_safe accepts, lxml writes and reads back unchanged;
        # what it refuses, lxml or libxml2 refuses.
        from lxml import etree
        node = etree.Element('e')
        if hardware.is_xml_safe(text):
            node.set('a', text)
            node.text = text
            back = etree.fromstring(etree.tostring(node))
            self.assertEqual(text, back.get('a'))
            self.assertEqual(text, back.text or '')
        else:
            try:
                node.set('a', text)
                etree.fromstring(etree.tostring(node))
            except (ValueError, etree.XMLSyntaxError):
                pass
            else:
                self.fail('lxml took %r' % text)


class CheckTextTest(test.TestCase):

    def test_ok_returns_the_value(self):
        self.assertEqual('a b', hardware_parse.check_text('k', 'a b', 3))

    def test_unsafe_names_the_field(self):
        for char in XML_UNSAFE:
            e = self.assertRaises(exception.InvalidProperty,
                                  hardware_parse.check_text,
                                  'os_command_line', 'console' + char)
            self.assertEqual('os_command_line', e.kwargs['name'])
            self.assertIn('U+%04X' % ord(char), str(e))
            self.assertNotIn('\n', str(e))

    def test_length_in_characters_or_bytes(self):
        e = self.assertRaises(exception.InvalidProperty,
                              hardware_parse.check_text, 'k', 'x' * 256, 255)
        self.assertIn('256 characters long; at most 255', str(e))
        # 2049 x U+00E9 is 2049 characters but 4098 UTF-8 bytes.
        hardware_parse.check_text('k', '\u00e9' * 2048, 4096, encoded=True)
        e = self.assertRaises(exception.InvalidProperty,
                              hardware_parse.check_text, 'k',
                              '\u00e9' * 2049, 4096, encoded=True)
        self.assertIn('4098 bytes long; at most 4096', str(e))

    def test_long_value_is_shortened_in_the_error(self):
        e = self.assertRaises(exception.InvalidProperty,
                              hardware_parse.check_text, 'k',
                              'y' * 100000, 255)
        self.assertEqual('y' * 40 + '\u2026', e.kwargs['value'])
        self.assertLess(len(str(e)), 200)

    def test_not_a_string(self):
        e = self.assertRaises(exception.InvalidProperty,
                              hardware_parse.check_text, 'k', 5)
        self.assertIn('must be a string', str(e))

    def test_custom_error(self):
        def error(name, value, reason):
            return exception.InvalidCPUSpec(spec=name, part=value,
                                            reason=reason)
        self.assertRaises(exception.InvalidCPUSpec, hardware_parse.check_text,
                          '--flavor-name', '\x00', error=error)


class ExtraSpecKeyTest(test.TestCase):

    def test_keys_nova_accepts(self):
        for key in ('hw:cpu_policy', 'trait:CUSTOM_X', 'a b', 'x-y.z_1',
                    'k' * 255):
            hardware_parse.check_extra_spec(key, 'v')

    def test_keys_nova_refuses(self):
        for key in ('', 'k' * 256, 'hw:x\ny', 'a/b', 'a=b', 'caf\u00e9',
                    '\x00', 'x\ud800'):
            e = self.assertRaises(exception.InvalidProperty,
                                  hardware_parse.check_extra_spec, key, 'v')
            self.assertEqual('extra spec key', e.kwargs['name'])
            self.assertNotIn('\n', str(e))

    def test_value_length_and_characters(self):
        hardware_parse.check_extra_spec('k', 'v' * 255)
        e = self.assertRaises(exception.InvalidProperty,
                              hardware_parse.check_extra_spec, 'k', 'v' * 256)
        self.assertEqual('k', e.kwargs['name'])
        e = self.assertRaises(exception.InvalidProperty,
                              hardware_parse.check_extra_spec, 'k', 'a\x1b')
        self.assertIn('U+001B', str(e))

    def test_count(self):
        hardware_parse.check_extra_spec_count(
            {str(i): '' for i in range(hardware_parse.MAX_EXTRA_SPECS)})
        e = self.assertRaises(
            exception.InvalidProperty, hardware_parse.check_extra_spec_count,
            {str(i): '' for i in range(hardware_parse.MAX_EXTRA_SPECS + 1)})
        self.assertIn('129 keys', str(e))
        self.assertIn('at most 128', str(e))


class BoundedIntTest(test.TestCase):

    def test_accepted(self):
        parse = hardware_parse.parse_bounded_int
        self.assertEqual(5, parse('k', '5'))
        self.assertEqual(5, parse('k', ' 5 '))
        self.assertEqual(-3, parse('k', '-3'))
        self.assertEqual(7, parse('k', 7))
        self.assertEqual(10 ** 19, parse('k', '1' + '0' * 19))

    def test_refused_forms(self):
        for value in ('', ' ', '-', '+5', '1_000', '\u0661', '1.5', '0x1',
                      'five', None, True, 1.0, '5\x00'):
            e = self.assertRaises(exception.InvalidProperty,
                                  hardware_parse.parse_bounded_int,
                                  'hw:numa_nodes', value, 1)
            self.assertEqual('hw:numa_nodes', e.kwargs['name'])
            self.assertIn('whole number', str(e))

    def test_huge_digits_refused_before_int(self):
        for digits in (21, 4300, 4301, 100000):
            value = '7' * digits
            start = time.perf_counter()
            e = self.assertRaises(exception.InvalidProperty,
                                  hardware_parse.parse_bounded_int,
                                  'hw_numa_nodes', value, 1, 8)
            self.assertLess(time.perf_counter() - start, 0.05)
            self.assertEqual(value if digits <= 40 else
                             '7' * 40 + '\u2026', e.kwargs['value'])
            self.assertIn('%d characters' % digits, str(e))
            self.assertIn('from 1 to 8', str(e))
            self.assertLess(len(str(e)), 250)

    def test_range(self):
        parse = hardware_parse.parse_bounded_int
        self.assertEqual(8, parse('k', '8', 1, 8))
        for value in ('0', '9', 10 ** 5000):
            e = self.assertRaises(exception.InvalidProperty, parse, 'k',
                                  value, 1, 8)
            self.assertIn('from 1 to 8', str(e))
            self.assertLess(len(str(e)), 200)

    def test_rule_in_the_message(self):
        e = self.assertRaises(exception.InvalidProperty,
                              hardware_parse.parse_bounded_int, 'k', 'x',
                              rule='must be a node count')
        self.assertIn('must be a node count', str(e))

    @hypothesis.given(st.integers(min_value=-10 ** 19, max_value=10 ** 19))
    def test_round_trip(self, number):
        self.assertEqual(number,
                         hardware_parse.parse_bounded_int('k', str(number)))


class DisplayValueTest(test.TestCase):

    def test_short_values_unchanged(self):
        for value in ('abc', 'x' * 40, 5, None, True, {'a': 1}):
            self.assertEqual(value, hardware_parse.display_value(value))

    def test_long_text_and_huge_ints(self):
        self.assertEqual('x' * 40 + '\u2026',
                         hardware_parse.display_value('x' * 41))
        shown = hardware_parse.display_value(10 ** 100)
        self.assertEqual('1' + '0' * 39 + '\u2026', shown)
        # Over Python's 4300-digit str() limit: shown by magnitude.
        shown = hardware_parse.display_value(10 ** 5000)
        self.assertTrue(shown.startswith('<integer of about'), shown)


class GuestBoundsTest(test.TestCase):

    def test_constants(self):
        self.assertEqual(4096, hardware.MAX_GUEST_VCPUS)
        self.assertEqual(16 * 1024 * 1024, hardware.MAX_GUEST_MEMORY_MB)
        self.assertEqual(128, hardware_parse.MAX_IMAGE_PROPERTIES)
        self.assertEqual(4096, hardware_parse.MAX_KERNEL_CMDLINE_BYTES)

    def test_property_memory_bounded(self):
        parse = hardware.parse_property_memory_mb
        self.assertEqual(hardware.MAX_GUEST_MEMORY_MB,
                         parse('hw:numa_mem.0',
                               str(hardware.MAX_GUEST_MEMORY_MB)))
        for value in (str(hardware.MAX_GUEST_MEMORY_MB + 1), '9' * 5000,
                      '0', '+5'):
            e = self.assertRaises(exception.InvalidProperty, parse,
                                  'hw:numa_mem.0', value)
            self.assertIn('hw:numa_mem.0', str(e))
            self.assertIn('16 TiB', str(e))


class ParseVcpuMaskTest(test.TestCase):
    """The one reading of a vCPU mask (real-time and dedicated masks)."""

    def test_forms(self):
        for mask, vcpus, expected in (
                ('^0', 4, {1, 2, 3}), ('^0-1', 4, {2, 3}),
                ('2-3', 4, {2, 3}), ('0-3,^0', 4, {1, 2, 3}),
                ('1,^1', 4, set()), ('^0', None,
                                     set(range(1, hardware.MAX_GUEST_VCPUS)))):
            self.assertEqual(expected, hardware.parse_vcpu_mask(
                'hw:cpu_realtime_mask', mask, vcpus), mask)

    def test_refused(self):
        for mask, vcpus, reason in (
                ('^5', 4, 'names vCPU 5, outside 0-3 of this 4-vCPU flavor'),
                (',', 4, 'names no vCPU'), ('x', None, 'N, A-B, ^N or ^A-B')):
            e = self.assertRaises(
                exception.RealtimeMaskNotFoundOrInvalid,
                hardware.parse_vcpu_mask, 'hw_cpu_realtime_mask', mask,
                vcpus, exception.RealtimeMaskNotFoundOrInvalid)
            self.assertIn("hw_cpu_realtime_mask=%r" % mask, str(e))
            self.assertIn(reason, str(e))
