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

import json
import time

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from oslo_versionedobjects import exception as ovo_exception
import testtools

from nova import exception
from nova import objects
from nova.objects import image_meta
from nova.virt.extra_specs import base as spec_base
from nova.virt import hardware_parse


class _ObjectsTestCase(testtools.TestCase):
    def setUp(self):
        super().setUp()
        objects.register_all()


class TestImageMetaPropsVersions(_ObjectsTestCase):
    """1.1 added hw_cpu_realtime_mask; a 1.0 reader must not see it."""

    def _props(self):
        return objects.ImageMetaProps(hw_cpu_policy='dedicated',
                                      hw_cpu_realtime_mask='^0-1',
                                      hw_numa_nodes=1)

    def test_current_version_keeps_mask(self):
        primitive = self._props().obj_to_primitive()
        self.assertEqual('1.2', primitive['nova_object.version'])
        self.assertEqual('^0-1',
                         primitive['nova_object.data']['hw_cpu_realtime_mask'])

    def test_target_1_1_keeps_mask(self):
        primitive = self._props().obj_to_primitive(target_version='1.1')
        self.assertIn('hw_cpu_realtime_mask', primitive['nova_object.data'])

    def test_target_1_0_drops_mask_only(self):
        primitive = self._props().obj_to_primitive(target_version='1.0')
        self.assertEqual('1.0', primitive['nova_object.version'])
        self.assertEqual({'hw_cpu_policy': 'dedicated', 'hw_numa_nodes': 1},
                         primitive['nova_object.data'])

    def test_target_1_0_without_mask_set(self):
        props = objects.ImageMetaProps(hw_numa_nodes=2)
        primitive = props.obj_to_primitive(target_version='1.0')
        self.assertEqual({'hw_numa_nodes': 2}, primitive['nova_object.data'])

    def test_newer_target_refused(self):
        self.assertRaises(ovo_exception.InvalidTargetVersion,
                          self._props().obj_to_primitive,
                          target_version='1.3')

    def test_round_trip_current(self):
        props = self._props()
        back = objects.ImageMetaProps.obj_from_primitive(
            json.loads(json.dumps(props.obj_to_primitive())))
        self.assertEqual('^0-1', back.hw_cpu_realtime_mask)
        self.assertEqual('dedicated', back.hw_cpu_policy)
        self.assertEqual(1, back.hw_numa_nodes)
        self.assertFalse(back.obj_attr_is_set('os_command_line'))

    def test_round_trip_through_1_0(self):
        back = objects.ImageMetaProps.obj_from_primitive(
            self._props().obj_to_primitive(target_version='1.0'))
        self.assertEqual('1.0', back.VERSION)
        self.assertFalse(back.obj_attr_is_set('hw_cpu_realtime_mask'))
        self.assertIsNone(back.get('hw_cpu_realtime_mask'))
        self.assertEqual('dedicated', back.hw_cpu_policy)

    def test_image_meta_backports_props_through_manifest(self):
        # ImageMeta holds ImageMetaProps; a reader that knows only
        # ImageMetaProps 1.0 says so in its version manifest.
        meta = objects.ImageMeta(name='rt', properties=self._props())
        primitive = meta.obj_to_primitive(
            target_version='1.0',
            version_manifest={'ImageMeta': '1.0', 'ImageMetaProps': '1.0'})
        props = primitive['nova_object.data']['properties']
        self.assertEqual('1.0', props['nova_object.version'])
        self.assertNotIn('hw_cpu_realtime_mask', props['nova_object.data'])

        current = meta.obj_to_primitive(
            version_manifest={'ImageMeta': '1.0', 'ImageMetaProps': '1.1'})
        props = current['nova_object.data']['properties']
        self.assertEqual('^0-1', props['nova_object.data'][
            'hw_cpu_realtime_mask'])

    def test_get_unknown_property_is_an_error(self):
        props = objects.ImageMetaProps()
        self.assertRaises(AttributeError, props.get, 'hw_no_such_thing')
        self.assertEqual('dflt', props.get('hw_mem_page_size', 'dflt'))


class TestImageMetaProps12(_ObjectsTestCase):
    """1.2 added the guest CPU topology, hw_pmu and hw_locked_memory."""

    NEW = {'hw_cpu_sockets': 2, 'hw_cpu_cores': 2, 'hw_cpu_threads': 1,
           'hw_cpu_max_sockets': 4, 'hw_cpu_max_cores': 8,
           'hw_cpu_max_threads': 2, 'hw_pmu': False,
           'hw_locked_memory': True}

    def _props(self):
        return objects.ImageMetaProps.from_dict(dict(
            {key: str(value) for key, value in self.NEW.items()},
            hw_cpu_realtime_mask='^0'))

    def test_from_strings(self):
        props = self._props()
        for key, value in self.NEW.items():
            self.assertEqual(value, getattr(props, key), key)
            self.assertEqual(value, props.get(key), key)

    def test_current_keeps_them(self):
        data = self._props().obj_to_primitive()['nova_object.data']
        for key, value in self.NEW.items():
            self.assertEqual(value, data[key])

    def test_1_1_reader_gets_the_mask_only(self):
        primitive = self._props().obj_to_primitive(target_version='1.1')
        self.assertEqual('1.1', primitive['nova_object.version'])
        self.assertEqual({'hw_cpu_realtime_mask': '^0'},
                         primitive['nova_object.data'])

    def test_image_meta_1_1_carries_props_1_1(self):
        meta = objects.ImageMeta(properties=self._props())
        primitive = meta.obj_to_primitive(target_version='1.1')
        props = primitive['nova_object.data']['properties']
        self.assertEqual('1.1', props['nova_object.version'])
        self.assertNotIn('hw_pmu', props['nova_object.data'])

    def test_round_trip(self):
        back = objects.ImageMetaProps.obj_from_primitive(
            json.loads(json.dumps(self._props().obj_to_primitive())))
        for key, value in self.NEW.items():
            self.assertEqual(value, getattr(back, key), key)

    def test_bad_values(self):
        for key in ('hw_cpu_sockets', 'hw_cpu_max_threads'):
            for value in ('0', '-1', 'two', '4097', '1' * 30):
                exc = self.assertRaises(
                    exception.ImageMetaPropInvalid,
                    objects.ImageMetaProps.from_dict, {key: value})
                self.assertEqual(key, exc.kwargs['name'])
        for key in ('hw_pmu', 'hw_locked_memory'):
            exc = self.assertRaises(
                exception.ImageMetaPropInvalid,
                objects.ImageMetaProps.from_dict, {key: 'maybe'})
            self.assertEqual(key, exc.kwargs['name'])
            self.assertIn('yes', str(exc))


class TestImageMetaFromDict(_ObjectsTestCase):

    def _from(self, props, **extra):
        return objects.ImageMeta.from_dict(dict(properties=props, **extra))

    def _invalid(self, props):
        return self.assertRaises(exception.ImageMetaPropInvalid,
                                 objects.ImageMetaProps.from_dict, props)

    def test_empty(self):
        for meta in (None, {}, {'properties': {}}, {'properties': None}):
            image = objects.ImageMeta.from_dict(meta)
            self.assertEqual({}, image.properties.obj_get_changes())
            self.assertFalse(image.obj_attr_is_set('name'))

    def test_name(self):
        self.assertEqual('rt-image', self._from({}, name='rt-image').name)

    def test_strings_are_coerced(self):
        image = self._from({
            'hw_cpu_policy': 'dedicated',
            'hw_cpu_thread_policy': 'isolate',
            'hw_emulator_threads_policy': 'share',
            'hw_numa_nodes': '2',
            'hw_numa_cpus.0': '0-1',
            'hw_numa_cpus.1': '2,3',
            'hw_numa_mem.0': '512',
            'hw_numa_mem.1': '1024',
            'hw_mem_page_size': '2MB',
            'hw_cpu_realtime_mask': '^0',
            'os_command_line': 'isolcpus=1-3',
        })
        props = image.properties
        self.assertEqual('dedicated', props.hw_cpu_policy)
        self.assertEqual('isolate', props.hw_cpu_thread_policy)
        self.assertEqual('share', props.hw_emulator_threads_policy)
        self.assertEqual(2, props.hw_numa_nodes)
        self.assertIsInstance(props.hw_numa_nodes, int)
        self.assertEqual([{0, 1}, {2, 3}], props.hw_numa_cpus)
        self.assertEqual([512, 1024], props.hw_numa_mem)
        self.assertEqual('2MB', props.hw_mem_page_size)
        self.assertEqual('^0', props.hw_cpu_realtime_mask)
        self.assertEqual('isolcpus=1-3', props.os_command_line)

    def test_numa_lists_follow_node_order_not_dict_order(self):
        props = objects.ImageMetaProps.from_dict({
            'hw_numa_mem.2': '300', 'hw_numa_mem.0': '100',
            'hw_numa_mem.1': '200'})
        self.assertEqual([100, 200, 300], props.hw_numa_mem)

    def test_unmodelled_properties_are_not_fields(self):
        props = objects.ImageMetaProps.from_dict({
            'hw_disk_bus': 'virtio', 'os_distro': 'rhel',
            'hw_numa_nodes': '1', 'owner_specified.openstack.md5': 'x',
            'foo': 'bar'})
        self.assertEqual({'hw_numa_nodes': 1}, props.obj_get_changes())
        self.assertEqual('virtio', props.get('hw_disk_bus'))
        self.assertEqual('rhel', props.get('os_distro'))

    def test_misspelt_nova_property_refused(self):
        exc = self._invalid({'hw_numa_cpus_extra': 'x'})
        self.assertEqual('hw_numa_cpus_extra', exc.kwargs['name'])
        self.assertIn('did you mean', str(exc))

    def test_bad_enums(self):
        for key, valid in (('hw_cpu_policy', 'dedicated, shared'),
                           ('hw_cpu_thread_policy',
                            'prefer, isolate, require'),
                           ('hw_emulator_threads_policy', 'share, isolate')):
            exc = self._invalid({key: 'bogus'})
            self.assertEqual(key, exc.kwargs['name'])
            self.assertEqual('bogus', exc.kwargs['value'])
            self.assertIn(key, str(exc))
            self.assertIn("'bogus'", str(exc))
            self.assertIn(valid, str(exc))

    def test_non_integer_numa_nodes(self):
        for value in ('two', '1.5', ''):
            exc = self._invalid({'hw_numa_nodes': value})
            self.assertEqual('hw_numa_nodes', exc.kwargs['name'])
            self.assertIn('integer', str(exc))

    def test_numa_nodes_below_one(self):
        for value in ('0', '-1'):
            exc = self._invalid({'hw_numa_nodes': value})
            self.assertEqual(value, exc.kwargs['value'])
            self.assertIn('at least 1', str(exc))

    def test_bad_numa_mem(self):
        for value in ('lots', '0', '-512', '1.5'):
            exc = self._invalid({'hw_numa_mem.0': value})
            self.assertEqual('hw_numa_mem.0', exc.kwargs['name'])
            self.assertEqual(value, exc.kwargs['value'])
            self.assertIn('MiB', str(exc))

    def test_bad_numa_cpus_names_the_node(self):
        exc = self._invalid({'hw_numa_cpus.0': '0-1', 'hw_numa_cpus.1': '3-x'})
        self.assertEqual('hw_numa_cpus.1', exc.kwargs['name'])
        self.assertEqual('3-x', exc.kwargs['value'])
        self.assertIn("hw_numa_cpus.1='3-x'", str(exc))

    def test_missing_middle_node(self):
        for family, value in (('hw_numa_cpus', '0'), ('hw_numa_mem', '64')):
            exc = self._invalid({family + '.0': value, family + '.2': value})
            self.assertEqual(family + '.1', exc.kwargs['name'])
            self.assertIn('0..2', str(exc))

    def test_missing_first_node(self):
        exc = self._invalid({'hw_numa_mem.1': '64'})
        self.assertEqual('hw_numa_mem.0', exc.kwargs['name'])

    def test_bare_family_names_the_form(self):
        for family in ('hw_numa_cpus', 'hw_numa_mem'):
            exc = self._invalid({family: '0-3'})
            self.assertEqual(family, exc.kwargs['name'])
            self.assertIn(family + '.N', str(exc))

    def test_malformed_node_number(self):
        # hw_numa_mem.01 would otherwise collide with hw_numa_mem.1.
        for key in ('hw_numa_mem.01', 'hw_numa_mem.x', 'hw_numa_mem.',
                    'hw_numa_cpus.-1', 'hw_numa_cpus.1000'):
            exc = self._invalid({key: '1'})
            self.assertEqual(key, exc.kwargs['name'])

    @given(st.integers(min_value=1, max_value=2 ** 31 - 1))
    def test_numa_nodes_any_positive_integer(self, nodes):
        props = objects.ImageMetaProps.from_dict({'hw_numa_nodes': str(nodes)})
        self.assertEqual(nodes, props.hw_numa_nodes)

    @given(st.lists(st.integers(min_value=1, max_value=2 ** 20),
                    min_size=1, max_size=8))
    def test_numa_mem_list_round_trip(self, sizes):
        raw = {'hw_numa_mem.%d' % i: str(size)
               for i, size in enumerate(sizes)}
        props = objects.ImageMetaProps.from_dict(raw)
        self.assertEqual(sizes, props.hw_numa_mem)
        back = objects.ImageMetaProps.obj_from_primitive(
            json.loads(json.dumps(props.obj_to_primitive())))
        self.assertEqual(sizes, back.hw_numa_mem)

    @given(st.lists(st.sets(st.integers(0, 63), min_size=1), min_size=1,
                    max_size=4))
    def test_numa_cpus_list_round_trip(self, cells):
        raw = {'hw_numa_cpus.%d' % i: ','.join(str(c) for c in sorted(cpus))
               for i, cpus in enumerate(cells)}
        props = objects.ImageMetaProps.from_dict(raw)
        self.assertEqual(cells, props.hw_numa_cpus)
        back = objects.ImageMetaProps.obj_from_primitive(
            json.loads(json.dumps(props.obj_to_primitive())))
        self.assertEqual(cells, back.hw_numa_cpus)


class TestImagePropertyBounds(_ObjectsTestCase):
    """Tenant-controlled input: bounded count, length, digits, characters."""

    def _invalid(self, props, name=None):
        exc = self.assertRaises(exception.ImageMetaPropInvalid,
                                objects.ImageMetaProps.from_dict, props)
        message = str(exc)
        self.assertNotIn('\n', message)
        self.assertLess(len(message), 400)
        if name is not None:
            self.assertEqual(name, exc.kwargs['name'])
        return exc

    def test_count_cap(self):
        cap = hardware_parse.MAX_IMAGE_PROPERTIES
        self.assertEqual(128, cap)
        objects.ImageMetaProps.from_dict(
            {'p%d' % i: 'x' for i in range(cap)})
        exc = self._invalid({'p%d' % i: 'x' for i in range(cap + 1)},
                            'properties')
        self.assertIn('129 properties', str(exc))
        self.assertIn('at most 128', str(exc))

    def test_count_checked_before_any_property(self):
        props = {'p%d' % i: 'x' for i in range(2000)}
        props['hw_cpu_policy'] = 'bogus'
        props['os_command_line'] = '\x00'
        start = time.perf_counter()
        exc = self._invalid(props, 'properties')
        self.assertLess(time.perf_counter() - start, 0.05)
        self.assertIn('2002 properties', str(exc))

    def test_os_command_line_characters(self):
        for char in ('\x00', '\x01', '\x1b', '\ud800', '\ufffe', '\x0b'):
            exc = self._invalid({'os_command_line': 'console=ttyS0' + char},
                                'os_command_line')
            self.assertIn('U+%04X' % ord(char), str(exc))
            self.assertIn('XML 1.0', str(exc))
        # Tab, newline and non-ASCII text are XML: accepted.
        props = objects.ImageMetaProps.from_dict(
            {'os_command_line': 'a\tb\nc \u00e9'})
        self.assertEqual('a\tb\nc \u00e9', props.os_command_line)

    def test_os_command_line_length_in_bytes(self):
        cap = hardware_parse.MAX_KERNEL_CMDLINE_BYTES
        self.assertEqual(4096, cap)
        objects.ImageMetaProps.from_dict({'os_command_line': 'a' * cap})
        objects.ImageMetaProps.from_dict(
            {'os_command_line': '\u00e9' * (cap // 2)})
        exc = self._invalid({'os_command_line': 'a' * (cap + 1)},
                            'os_command_line')
        self.assertIn('4097 bytes long; at most 4096', str(exc))
        self.assertEqual('a' * 40 + '\u2026', exc.kwargs['value'])
        exc = self._invalid({'os_command_line': '\u00e9' * (cap // 2 + 1)},
                            'os_command_line')
        self.assertIn('4098 bytes', str(exc))

    def test_every_string_property(self):
        for key in ('hw_cpu_policy', 'hw_cpu_thread_policy',
                    'hw_emulator_threads_policy', 'hw_mem_page_size',
                    'hw_cpu_realtime_mask'):
            exc = self._invalid({key: 'x\x00'}, key)
            self.assertIn('U+0000', str(exc))
        self._invalid({'hw_mem_page_size': '2' * 256}, 'hw_mem_page_size')
        exc = self._invalid({'hw_cpu_realtime_mask': '^' * 4097},
                            'hw_cpu_realtime_mask')
        self.assertIn('at most 4096', str(exc))

    def test_huge_integers(self):
        for key in ('hw_numa_nodes', 'hw_numa_mem.0'):
            for value in ('1' * 21, '1' * 4301, '9' * 100000):
                start = time.perf_counter()
                exc = self._invalid({key: value}, key)
                self.assertLess(time.perf_counter() - start, 0.05)
                self.assertIn('%d characters' % len(value), str(exc))
        exc = self._invalid({'hw_numa_mem.0': str(16 * 1024 * 1024 + 1)},
                            'hw_numa_mem.0')
        self.assertIn('16 TiB', str(exc))

    def test_non_string_values(self):
        props = objects.ImageMetaProps.from_dict(
            {'hw_numa_nodes': 2, 'hw_mem_page_size': 2048})
        self.assertEqual(2, props.hw_numa_nodes)
        self.assertEqual('2048', props.hw_mem_page_size)
        exc = self._invalid({'hw_mem_page_size': 10 ** 5000},
                            'hw_mem_page_size')
        self.assertIn('integer of about', str(exc))

    def test_malformed_family_key_shown_on_one_line(self):
        exc = self._invalid({'hw_numa_cpus.\n1': '0'})
        self.assertIn("'hw_numa_cpus.\\n1'", str(exc))

    def test_trailing_newline_is_not_a_node_number(self):
        self._invalid({'hw_numa_mem.0\n': '512'})

    def test_image_name(self):
        self.assertEqual('n' * 255, objects.ImageMeta.from_dict(
            {'name': 'n' * 255}).name)
        for name in ('n' * 256, 'a\x00'):
            exc = self.assertRaises(exception.ImageMetaPropInvalid,
                                    objects.ImageMeta.from_dict,
                                    {'name': name})
            self.assertEqual('image name', exc.kwargs['name'])


class TestImageMetaVersions(_ObjectsTestCase):
    def test_1_0_without_manifest_carries_props_1_0(self):
        meta = objects.ImageMeta.from_dict(
            {'properties': {'hw_cpu_realtime_mask': '^0',
                            'hw_cpu_policy': 'dedicated'}})
        primitive = meta.obj_to_primitive(target_version='1.0')
        props = primitive['nova_object.data']['properties']
        self.assertEqual('1.0', props['nova_object.version'])
        self.assertNotIn('hw_cpu_realtime_mask', props['nova_object.data'])
        self.assertEqual('dedicated',
                         props['nova_object.data']['hw_cpu_policy'])

    def test_1_1_carries_the_mask(self):
        meta = objects.ImageMeta.from_dict(
            {'properties': {'hw_cpu_realtime_mask': '^0'}})
        primitive = meta.obj_to_primitive(target_version='1.1')
        props = primitive['nova_object.data']['properties']
        self.assertEqual('1.1', props['nova_object.version'])
        self.assertEqual('^0', props['nova_object.data'][
            'hw_cpu_realtime_mask'])


class TestFlavorOnlyProperties(_ObjectsTestCase):
    def test_image_cannot_enable_realtime(self):
        error = self.assertRaises(
            exception.ImageMetaPropInvalid, objects.ImageMeta.from_dict,
            {'properties': {'hw_cpu_realtime': 'yes'}})
        self.assertEqual('hw_cpu_realtime', error.kwargs['name'])
        self.assertIn('hw:cpu_realtime', str(error))
        self.assertIn('hw_cpu_realtime_mask', str(error))


def _sample(rule):
    """A valid raw value for an _OTHER_PROPS rule."""
    return {'bool': 'yes', 'int': '2', 'str': 'x',
            'uuid': '9a0f9a4c-5b47-4e1e-8f6e-3c2b1a0d9e8f',
            'version': '>=2.6', 'list': [{'device_name': 'vda'}]}.get(
        rule['kind']) or rule['values'][-1]


class TestUpstreamProperties(_ObjectsTestCase):
    """Every property upstream's ImageMetaProps has, validated here."""

    # Expected class of each property, where it is not "not applied".
    APPLIED = {'hw_cpu_sockets', 'hw_cpu_cores', 'hw_cpu_threads',
               'hw_cpu_max_sockets', 'hw_cpu_max_cores',
               'hw_cpu_max_threads', 'hw_pmu', 'hw_locked_memory'}
    SCHEDULER = {'hw_architecture', 'img_hv_type',
                 'img_hv_requested_version', 'hw_vm_mode',
                 'traits_required'}
    REFUSED = {'hw_mem_encryption', 'hw_mem_encryption_model',
               'hw_ephemeral_encryption', 'hw_tpm_model', 'hw_tpm_version',
               'hw_viommu_model', 'os_secure_boot', 'img_config_drive'}

    def _classify(self, props):
        return objects.ImageMetaProps.classify_properties(props)

    def test_every_property_accepted_and_classified(self):
        for name, rule in image_meta._OTHER_PROPS.items():
            value = _sample(rule)
            not_applied, refused = self._classify({name: value})
            if name in self.REFUSED:
                self.assertEqual([], not_applied, name)
                if rule['refused_when'] is None or value in (
                        'yes', 'required', 'mandatory'):
                    self.assertEqual([name], [k for k, _r in refused])
                continue
            self.assertEqual([], refused, name)
            props = objects.ImageMetaProps.from_dict({name: value})
            self.assertIsNotNone(props.get(name), name)
            if name in self.APPLIED:
                self.assertEqual(spec_base.APPLIED, rule['applies'])
                self.assertIn(name, props.fields)
                self.assertEqual([], not_applied, name)
            elif name in self.SCHEDULER:
                self.assertEqual(spec_base.SCHEDULER, rule['applies'])
                self.assertEqual([], not_applied, name)
            else:
                self.assertEqual([name], not_applied, name)

    def test_fields_are_applied(self):
        for name in objects.ImageMetaProps.fields:
            self.assertNotIn(name, self.REFUSED | self.SCHEDULER)
        self.assertEqual(
            ([], []), self._classify({'hw_cpu_policy': 'mixed',
                                      'hw_numa_nodes': '1',
                                      'os_command_line': 'quiet',
                                      'hw_numa_cpus.0': '0'}))

    def test_refused_properties(self):
        for name, value, what in (
                ('hw_tpm_version', '2.0', 'TPM'),
                ('hw_tpm_model', 'tpm-tis', 'TPM'),
                ('hw_mem_encryption', 'True', 'encrypted'),
                ('hw_mem_encryption_model', 'amd-sev', 'encrypted'),
                ('hw_ephemeral_encryption', 'yes', 'unencrypted'),
                ('os_secure_boot', 'required', 'Secure Boot'),
                ('hw_viommu_model', 'auto', 'IOMMU'),
                ('img_config_drive', 'mandatory', 'config drive')):
            exc = self.assertRaises(exception.ImageMetaPropInvalid,
                                    objects.ImageMetaProps.from_dict,
                                    {name: value, 'hw_cpu_policy': 'shared'})
            self.assertEqual(name, exc.kwargs['name'])
            self.assertIn('requested but this driver cannot provide it',
                          str(exc))
            self.assertIn(what, str(exc))
            self.assertEqual(1, len(self._classify({name: value})[1]))

    def test_values_asking_for_nothing_pass(self):
        for name, value in (('hw_mem_encryption', 'no'),
                            ('hw_ephemeral_encryption', 'false'),
                            ('os_secure_boot', 'optional'),
                            ('os_secure_boot', 'disabled'),
                            ('img_config_drive', 'optional')):
            objects.ImageMetaProps.from_dict({name: value})
            self.assertEqual([], self._classify({name: value})[1])

    def test_bad_values_name_property_and_rule(self):
        for name, value, rule in (
                ('hw_disk_bus', 'nvme', 'must be one of: fdc'),
                ('hw_qemu_guest_agent', 'maybe', 'yes/no'),
                ('hw_video_ram', '64MB', 'whole number'),
                ('hw_cpu_sockets', '0', 'from 1 to 4096'),
                ('img_signature_certificate_uuid', 'abc', 'UUID'),
                ('img_hv_requested_version', 'newest', 'version predicate'),
                ('hw_architecture', 'z80', 'x86_64'),
                ('architecture', 'z80', 'x86_64'),
                ('img_mappings', '[]', 'list'),
                ('os_type', 'beos', 'linux, windows')):
            exc = self.assertRaises(exception.ImageMetaPropInvalid,
                                    objects.ImageMetaProps.from_dict,
                                    {name: value})
            self.assertEqual(name, exc.kwargs['name'])
            self.assertIn(name, str(exc))
            self.assertIn(rule, str(exc), name)

    def test_upstream_spellings_of_values(self):
        props = objects.ImageMetaProps.from_dict({
            'hw_architecture': 'AMD64', 'img_hv_type': 'xapi',
            'hw_vm_mode': 'hv', 'os_type': 'Linux',
            'hw_vif_model': 'VirtualE1000', 'hw_scsi_model': 'paravirtual',
            'hw_pmu': 'OFF'})
        self.assertEqual('x86_64', props.get('hw_architecture'))
        self.assertEqual('xen', props.get('img_hv_type'))
        self.assertEqual('hvm', props.get('hw_vm_mode'))
        self.assertEqual('linux', props.get('os_type'))
        self.assertEqual('e1000', props.get('hw_vif_model'))
        self.assertEqual('vmpvscsi', props.get('hw_scsi_model'))
        self.assertFalse(props.hw_pmu)

    def test_legacy_names(self):
        props = objects.ImageMetaProps.from_dict(
            {'architecture': 'i386', 'hypervisor_type': 'kvm'})
        self.assertEqual('i686', props.get('hw_architecture'))
        self.assertEqual('kvm', props.get('img_hv_type'))
        # The current name wins, whatever the order.
        for raw in ({'architecture': 'i686', 'hw_architecture': 'x86_64'},
                    {'hw_architecture': 'x86_64', 'architecture': 'i686'}):
            props = objects.ImageMetaProps.from_dict(raw)
            self.assertEqual('x86_64', props.get('hw_architecture'))

    def test_misspelt_names_suggest(self):
        for name, right in (('hw_cpu_realtime_mak', 'hw_cpu_realtime_mask'),
                            ('hw_disk_buss', 'hw_disk_bus'),
                            ('hw_cpu_socket', 'hw_cpu_sockets'),
                            ('os_secureboot', 'os_secure_boot'),
                            ('img_signature_hash', 'img_signature'),
                            ('hw_numa_node', 'hw_numa_nodes')):
            exc = self.assertRaises(exception.ImageMetaPropInvalid,
                                    objects.ImageMetaProps.from_dict,
                                    {name: '1'})
            self.assertEqual(name, exc.kwargs['name'])
            self.assertIn('did you mean %s' % right, str(exc))

    def test_case_different_names(self):
        for name, right in (('HW_CPU_REALTIME_MASK', 'hw_cpu_realtime_mask'),
                            ('Hw_Cpu_Policy', 'hw_cpu_policy'),
                            ('HW_NUMA_CPUS.0', 'hw_numa_cpus.0'),
                            ('HW_CPU_REALTIME', 'hw_cpu_realtime'),
                            ('Architecture', 'architecture'),
                            ('OS_DISTRO', 'os_distro')):
            exc = self.assertRaises(exception.ImageMetaPropInvalid,
                                    objects.ImageMetaProps.from_dict,
                                    {name: '^0'})
            self.assertIn('case-sensitive; did you mean %s?' % right,
                          str(exc), name)

    def test_unknown_names_in_nova_prefixes(self):
        for name in ('hw_zzzzzz', 'os_zzzzzz', 'img_zzzzzz'):
            exc = self.assertRaises(exception.ImageMetaPropInvalid,
                                    objects.ImageMetaProps.from_dict,
                                    {name: 'x'})
            self.assertIn('unknown image property', str(exc))

    def test_foreign_properties_ignored(self):
        raw = {'foo': 'bar', 'owner_specified.openstack.md5': 'abc',
               'os_hash_algo': 'sha512', 'os_hash_value': 'f' * 128,
               'os_hidden': 'False', 'os_version': '9',
               'os_glance_importing_to_stores': '', 'trait:CUSTOM_X':
               'required', 'hw': 'x', 'description': 'any\x00thing'}
        props = objects.ImageMetaProps.from_dict(raw)
        self.assertEqual({}, props.obj_get_changes())
        self.assertEqual(([], []), self._classify(raw))

    def test_long_values_of_unapplied_properties(self):
        # An RSA-4096 signature is ~700 characters of base64.
        objects.ImageMetaProps.from_dict({'img_signature': 'A' * 700})
        self.assertRaises(exception.ImageMetaPropInvalid,
                          objects.ImageMetaProps.from_dict,
                          {'img_signature': 'A' * 65536})

    def test_unmodelled_values_are_not_serialised(self):
        props = objects.ImageMetaProps.from_dict({'hw_disk_bus': 'scsi'})
        self.assertEqual('scsi', props.get('hw_disk_bus'))
        data = props.obj_to_primitive()['nova_object.data']
        self.assertNotIn('hw_disk_bus', data)

    @settings(max_examples=100, deadline=None)
    @given(st.sampled_from(sorted(image_meta._OTHER_PROPS)),
           st.one_of(st.text(max_size=300), st.integers(),
                     st.booleans(), st.none(), st.floats(),
                     st.lists(st.text(max_size=3), max_size=3)))
    def test_any_value_is_accepted_or_a_project_error(self, name, value):
        try:
            objects.ImageMetaProps.from_dict({name: value})
        except exception.ImageMetaPropInvalid as e:
            self.assertEqual(name, e.kwargs['name'])
            self.assertNotIn('\n', str(e))

    @settings(max_examples=100, deadline=None)
    @given(st.text(st.characters(min_codepoint=32, max_codepoint=0x2fff),
                   min_size=1, max_size=40))
    def test_any_name_is_accepted_or_a_project_error(self, name):
        try:
            objects.ImageMetaProps.classify_properties({name: '1'})
        except exception.ImageMetaPropInvalid as e:
            self.assertNotIn('\n', str(e))
