import json

from hypothesis import given
from hypothesis import strategies as st
import testtools

from nova import exception
from nova import objects


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
        self.assertEqual('1.1', primitive['nova_object.version'])
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
        self.assertRaises(Exception, self._props().obj_to_primitive,
                          target_version='1.2')

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

    def test_unknown_properties_ignored(self):
        props = objects.ImageMetaProps.from_dict({
            'hw_disk_bus': 'virtio', 'os_distro': 'rhel',
            'hw_numa_nodes': '1', 'hw_numa_cpus_extra': 'x'})
        self.assertEqual({'hw_numa_nodes': 1}, props.obj_get_changes())

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
