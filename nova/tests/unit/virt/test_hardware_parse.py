"""Tests of the string parsers of nova.virt.hardware."""

import hypothesis
from hypothesis import strategies as st

from nova import exception
from nova import test
from nova.virt import hardware


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

    def test_unset(self):
        self.assertIsNone(hardware.get_cpu_dedicated_set())
        self.assertIsNone(hardware.get_cpu_shared_set())

    def test_empty_string_is_unset(self):
        self.flags(cpu_dedicated_set=' ', group='compute')
        self.assertIsNone(hardware.get_cpu_dedicated_set())

    def test_sets(self):
        self.flags(cpu_dedicated_set='2-7,^4', cpu_shared_set='0-1',
                   group='compute')
        self.assertEqual({2, 3, 5, 6, 7}, hardware.get_cpu_dedicated_set())
        self.assertEqual({0, 1}, hardware.get_cpu_shared_set())

    def test_malformed(self):
        self.flags(cpu_dedicated_set='2-x', group='compute')
        e = self.assertRaises(exception.ConfigurationInvalid,
                              hardware.get_cpu_dedicated_set)
        self.assertEqual('cpu_dedicated_set', e.kwargs['option'])
        self.assertIn('[compute] cpu_dedicated_set', str(e))
        self.assertIn("'2-x'", str(e))

    def test_malformed_shared(self):
        self.flags(cpu_shared_set='0-1-2', group='compute')
        e = self.assertRaises(exception.ConfigurationInvalid,
                              hardware.get_cpu_shared_set)
        self.assertIn('[compute] cpu_shared_set', str(e))

    def test_names_no_cpu(self):
        self.flags(cpu_dedicated_set='0,^0', group='compute')
        e = self.assertRaises(exception.ConfigurationInvalid,
                              hardware.get_cpu_dedicated_set)
        self.assertIn('names no host CPU', str(e))

    def test_overlap(self):
        self.flags(cpu_dedicated_set='2-7', cpu_shared_set='0-3',
                   group='compute')
        for getter in (hardware.get_cpu_dedicated_set,
                       hardware.get_cpu_shared_set):
            e = self.assertRaises(exception.ConfigurationInvalid, getter)
            self.assertIn('2-3', str(e))
            self.assertIn('cpu_shared_set', str(e))


class ParseRealtimeFlagTest(test.TestCase):

    def test_accepted(self):
        for value in ('yes', 'YES', 'True', 'true', '1', 'on', ' On '):
            self.assertTrue(hardware.parse_realtime_flag('hw:cpu_realtime',
                                                         value), value)
        for value in ('no', 'No', 'false', 'FALSE', '0', 'off'):
            self.assertFalse(hardware.parse_realtime_flag('hw:cpu_realtime',
                                                          value), value)

    def test_rejected(self):
        for value in ('', 'yess', 'y', '2', 'enabled', None):
            e = self.assertRaises(exception.InvalidProperty,
                                  hardware.parse_realtime_flag,
                                  'hw:cpu_realtime', value)
            self.assertIn('hw:cpu_realtime', str(e))
            self.assertIn(repr(value), str(e))
            self.assertIn('yes, true', str(e))


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
