import re

from oslo_utils import versionutils

from nova import exception
from nova.i18n import _
from nova.objects import base
from nova.objects import fields
from nova.virt import hardware_parse

# Image properties that come as a numbered family (hw_numa_cpus.0,
# hw_numa_cpus.1, ...) and are held as one list field.
_INDEXED_PROPS = ('hw_numa_cpus', 'hw_numa_mem')
# N is written without leading zeros, so one node has one spelling.
# Properties a tenant might expect on an image but that only the operator's
# flavor may set: refused with the reason, rather than silently ignored like
# the many unrelated properties images carry.
_FLAVOR_ONLY_PROPS = {
    'hw_cpu_realtime': _(
        'real time is enabled only by the flavor extra spec hw:cpu_realtime '
        '(an operator choice); an image can only choose which vCPUs are '
        'real time, with hw_cpu_realtime_mask'),
}
_INDEXED_RE = re.compile(r'^(%s)\.(0|[1-9]\d{0,2})$' % '|'.join(_INDEXED_PROPS))
# The most characters (UTF-8 bytes for os_command_line) a value of each
# string property may have; every string value must also be XML-safe, as
# it may end up in domain XML (os_command_line does, verbatim). CPU masks
# share the limit of their parser.
_VALUE_LIMITS = {
    'os_command_line': hardware_parse.MAX_KERNEL_CMDLINE_BYTES,
    'hw_cpu_realtime_mask': hardware_parse.MAX_CPU_SPEC_LENGTH,
}


def _shown_key(key):
    """A property name as an error shows it: shortened, and quoted with
    escapes when it has characters (a newline ...) that would break the
    one-line message."""
    shown = hardware_parse.display_value(key)
    return shown if shown.isprintable() else repr(shown)


@base.NovaObjectRegistry.register
class ImageMetaProps(base.NovaObject):
    """The tenant-controlled properties of an image this tree reads."""

    # Version 1.0: Initial version
    # Version 1.1: Added hw_cpu_realtime_mask
    VERSION = '1.1'

    fields = {
        # CPU allocation policy: dedicated pins each vCPU to a host CPU of
        # its own, shared lets vCPUs float. When the flavor sets
        # hw:cpu_policy the image may only repeat it; when the flavor does
        # not, the image chooses. Real-time guests need dedicated.
        'hw_cpu_policy': fields.CPUAllocationPolicyField(),
        # How pinned vCPUs use SMT siblings: prefer, isolate (a core per
        # vCPU, its siblings left idle) or require (whole cores). Needs the
        # dedicated CPU policy; when the flavor sets hw:cpu_thread_policy the
        # image may only repeat it.
        'hw_cpu_thread_policy': fields.CPUThreadAllocationPolicyField(),
        # Where QEMU's emulator threads run: share (on the host's [compute]
        # cpu_shared_set) or isolate (on one more dedicated host CPU of
        # their own). Needs the dedicated CPU policy; when the flavor sets
        # hw:emulator_threads_policy the image may only repeat it.
        'hw_emulator_threads_policy':
            fields.CPUEmulatorThreadsPolicyField(),
        # Number of guest NUMA nodes, from 1 to the flavor's vCPUs. The
        # NUMA layout comes from the flavor (hw:numa_nodes) or from the
        # image, never both.
        'hw_numa_nodes': fields.IntegerField(),
        # Guest vCPUs of guest NUMA node N, one property hw_numa_cpus.N per
        # node (hw_numa_cpus.0=0-1), for an uneven split; set it with
        # hw_numa_mem.N for every node, each vCPU in exactly one node.
        'hw_numa_cpus': fields.ListOfSetsOfIntegersField(),
        # Guest memory in MiB of guest NUMA node N, one property
        # hw_numa_mem.N per node; the sizes add up to the flavor's memory.
        'hw_numa_mem': fields.ListOfIntegersField(),
        # Page size backing guest RAM: small, large, any or a size (2048,
        # 2MB, 1GB). Honoured only where the flavor's hw:mem_page_size
        # leaves a choice: under large, large or a huge page size; under
        # any, anything.
        'hw_mem_page_size': fields.StringField(),
        # Which vCPUs of a real-time flavor (hw:cpu_realtime=yes) are real
        # time, as a mask over vCPU numbers: ^0-1 (all but vCPUs 0 and 1)
        # or 2-3. Overrides the flavor's hw:cpu_realtime_mask; cannot turn
        # real time on. Every vCPU it names must exist in the flavor.
        'hw_cpu_realtime_mask': fields.StringField(),
        # Kernel command line for a guest booted directly from a kernel.
        'os_command_line': fields.StringField(),
    }

    def obj_make_compatible(self, primitive, target_version):
        super().obj_make_compatible(primitive, target_version)
        target = versionutils.convert_version_to_tuple(target_version)
        if target < (1, 1):
            primitive.pop('hw_cpu_realtime_mask', None)

    def get(self, name, default=None):
        """The value of a property, or ``default`` when it is unset."""
        if name not in self.fields:
            raise AttributeError(name)
        if not self.obj_attr_is_set(name):
            return default
        return getattr(self, name)

    @classmethod
    def from_dict(cls, image_props):
        """Build from the image's raw properties (strings, as Glance stores).

        Unknown properties are ignored, as every image carries many that are
        not ours. A value that cannot be coerced raises ImageMetaPropInvalid
        naming the property.

        Bounds, checked before a value is coerced: at most
        MAX_IMAGE_PROPERTIES properties (Glance's default
        image_property_quota; checked before any property is looked at);
        string values XML-safe and at most 255 characters, os_command_line
        at most MAX_KERNEL_CMDLINE_BYTES UTF-8 bytes and CPU masks at most
        MAX_CPU_SPEC_LENGTH characters; integers at most MAX_INT_DIGITS
        digits.
        """
        obj = cls()
        indexed = {}
        image_props = image_props or {}
        if len(image_props) > hardware_parse.MAX_IMAGE_PROPERTIES:
            raise exception.ImageMetaPropInvalid(
                name='properties', value=_('%d properties') % len(image_props),
                reason=_('an image may have at most %d properties (Glance\'s '
                         'default image_property_quota)') %
                hardware_parse.MAX_IMAGE_PROPERTIES)
        for key, value in image_props.items():
            if not isinstance(key, str):
                raise exception.ImageMetaPropInvalid(
                    name=_('property name'),
                    value=hardware_parse.display_value(key),
                    reason=_('must be a string'))
            match = _INDEXED_RE.fullmatch(key)
            if match:
                indexed.setdefault(match.group(1), {})[
                    int(match.group(2))] = (key, value)
                continue
            family = key.partition('.')[0]
            if family in _INDEXED_PROPS:
                # Bare (hw_numa_cpus) or with a malformed node number.
                raise exception.ImageMetaPropInvalid(
                    name=_shown_key(key),
                    value=hardware_parse.display_value(value),
                    reason=_('set it per guest NUMA node as %s.N, N a node '
                             'number 0, 1, 2 ...') % family)
            if key in _FLAVOR_ONLY_PROPS:
                raise exception.ImageMetaPropInvalid(
                    name=key, value=hardware_parse.display_value(value),
                    reason=_FLAVOR_ONLY_PROPS[key])
            if key not in cls.fields:
                continue
            cls._set_coerced(obj, key, key, value)
            if key == 'hw_numa_nodes' and obj.hw_numa_nodes < 1:
                raise exception.ImageMetaPropInvalid(
                    name=key, value=value,
                    reason=_('must be an integer of at least 1'))

        for name, by_index in indexed.items():
            count = len(by_index)
            if sorted(by_index) != list(range(count)):
                missing = sorted(set(range(max(by_index) + 1)) -
                                 set(by_index))
                key = '%s.%d' % (name, missing[0])
                raise exception.ImageMetaPropInvalid(
                    name=key, value=None,
                    reason=_('%(name)s.N must be set for every guest NUMA '
                             'node 0..%(last)d') %
                    {'name': name, 'last': max(by_index)})
            values = []
            for index in range(count):
                key, value = by_index[index]
                values.append(cls._coerce_element(name, key, value))
            setattr(obj, name, values)
        return obj

    @classmethod
    def _set_coerced(cls, obj, name, key, value):
        field = cls.fields[name]
        if isinstance(value, str):
            if isinstance(field, fields.IntegerField):
                # Digits bounded before int() (Python's own limit is a
                # ValueError at 4300 digits).
                value = hardware_parse.parse_bounded_int(
                    key, value, rule=cls._rule(name),
                    error=exception.ImageMetaPropInvalid)
            else:
                hardware_parse.check_text(
                    key, value, _VALUE_LIMITS.get(
                        name, hardware_parse.MAX_IMAGE_PROPERTY_VALUE_LENGTH),
                    encoded=name == 'os_command_line',
                    error=exception.ImageMetaPropInvalid)
        try:
            setattr(obj, name, value)
        except ValueError:
            raise exception.ImageMetaPropInvalid(
                name=key, value=hardware_parse.display_value(value),
                reason=cls._rule(name))
        coerced = getattr(obj, name)
        if isinstance(coerced, str) and not isinstance(value, str):
            # A non-string value (an int from a dict) coerced to text.
            hardware_parse.check_text(
                key, coerced, hardware_parse.MAX_IMAGE_PROPERTY_VALUE_LENGTH,
                error=exception.ImageMetaPropInvalid)

    @classmethod
    def _rule(cls, name):
        """The rule a value of property ``name`` must follow, as prose."""
        field_type = getattr(cls.fields[name], 'AUTO_TYPE', None)
        valid = getattr(field_type, 'valid_values', None)
        if valid:
            return _('must be one of: %s') % ', '.join(valid)
        if isinstance(cls.fields[name], fields.IntegerField):
            return _('must be an integer')
        return _('must be a string')

    @staticmethod
    def _coerce_element(name, key, value):
        # Imported here: hardware imports objects at module level.
        from nova.virt import hardware
        parse = (hardware.parse_property_cpu_spec if name == 'hw_numa_cpus'
                 else hardware.parse_property_memory_mb)
        try:
            return parse(key, value)
        except exception.InvalidProperty as e:
            # Callers catch ImageMetaPropInvalid for every bad property.
            raise exception.ImageMetaPropInvalid(**e.kwargs)


@base.NovaObjectRegistry.register
class ImageMeta(base.NovaObject):
    """An image as nova-compute sees it: a name and its properties."""

    # Version 1.0: Initial version
    # Version 1.1: ImageMetaProps version 1.1
    VERSION = '1.1'

    fields = {
        'name': fields.StringField(),
        'properties': fields.ObjectField('ImageMetaProps'),
    }

    # Which ImageMetaProps version each ImageMeta version carries, so a
    # backport without a version manifest still downgrades the properties.
    obj_relationships = {
        'properties': [('1.0', '1.0'), ('1.1', '1.1')],
    }

    @classmethod
    def from_dict(cls, image_meta):
        image_meta = dict(image_meta or {})
        obj = cls(properties=ImageMetaProps.from_dict(
            image_meta.get('properties', {})))
        if image_meta.get('name') is not None:
            # Glance image names are at most 255 characters.
            obj.name = hardware_parse.check_text(
                'image name', image_meta['name'],
                hardware_parse.MAX_KEY_LENGTH,
                error=exception.ImageMetaPropInvalid)
        return obj
