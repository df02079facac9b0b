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

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields as ovo_fields

import nova.objects


class NovaObjectRegistry(ovo_base.VersionedObjectRegistry):
    def registration_hook(self, cls, index):
        # Expose the newest registered version as nova.objects.<Name>.
        version = tuple(int(x) for x in cls.VERSION.split('.'))
        current = getattr(nova.objects, cls.obj_name(), None)
        if current is None or version >= tuple(
                int(x) for x in current.VERSION.split('.')):
            setattr(nova.objects, cls.obj_name(), cls)


class NovaObject(ovo_base.VersionedObject):
    OBJ_SERIAL_NAMESPACE = 'nova_object'
    OBJ_PROJECT_NAMESPACE = 'nova'

    def obj_set_missing_defaults(self):
        """Set the defaults of the fields that are not set yet.

        obj_set_defaults() deep-copies every field's default before it
        looks whether the field is set; the NUMA fit builds many objects
        with most fields given, so skip those.
        """
        missing = [name for name, field in self.fields.items()
                   if field.default is not ovo_fields.UnspecifiedDefault and
                   not self.obj_attr_is_set(name)]
        if missing:
            self.obj_set_defaults(*missing)

    @classmethod
    def obj_from_coerced(cls, **values):
        """``cls(**values)`` for values already of the fields' types.

        The constructor coerces every element of every set, list and dict
        it is given, one Python call each, which costs more than the whole
        NUMA fit whose result it builds. Here each collection is copied at
        C speed into the very container the constructor would store (a
        CoercedSet, CoercedList or CoercedDict bound to the new object and
        field, so later additions are still coerced) and other values are
        stored as they are; every given field is marked changed and unset
        fields get their defaults, as with the constructor.

        Only for values that are of the field's type already: ints, strs
        of an enum's valid values, None for nullable fields, collections
        of such elements (typically read from objects with the same
        fields). Nothing is checked; test_objects compares the result with
        the constructor's.

        The work is done by a function made for the class and the names
        given (obj_coerced_builder), so no per-field lookups remain.
        """
        build = _BUILDERS.get((cls, tuple(values)))
        if build is None:
            build = cls.obj_coerced_builder(*values)
        return build(*values.values())

    @classmethod
    def obj_coerced_builder(cls, *names):
        """A function of the values of ``names`` (in that order) doing
        what ``obj_from_coerced(**dict(zip(names, values)))`` does.

        Made once per class and names, as the namedtuple and dataclass
        machinery makes its methods: Python source with each field's
        storage attribute and container spelt out, compiled with exec.
        """
        build = _BUILDERS.get((cls, names))
        if build is not None:
            return build
        layout = _layout(cls.fields)
        scope = {'cls': cls}
        args = ['v%d' % index for index in range(len(names))]
        body = ['def build(%s):' % ', '.join(args + ['*', '%s']),
                '    obj = cls.__new__(cls)']
        stored = []
        for index, name in enumerate(names):
            attrname, container = layout[name]
            arg = args[index]
            if container is not None:
                kind, fill, element_type = container
                scope.update({'kind%d' % index: kind,
                              'fill%d' % index: fill,
                              'type%d' % index: element_type})
                # CoercedCollectionMixin.__init__ + enable_coercing
                body += [
                    '    if %s is not None:' % arg,
                    '        copy = kind%d.__new__(kind%d)' % (index, index),
                    '        fill%d(copy, %s)' % (index, arg),
                    '        copy.__dict__ = {"_element_type": type%d, '
                    '"_obj": obj, "_field": %r}' % (index, name),
                    '        %s = copy' % arg]
            stored.append('%r: %s' % (attrname, arg))
        # The changed fields added one by one in the order given, as the
        # constructor adds them: a set literal of constants is built from
        # a frozenset, whose order can differ, and obj_to_primitive lists
        # the changes in the set's order.
        body.append('    obj.__dict__.update({"_context": None, '
                    '"_changed_fields": set(%r), %s})' % (
                        tuple(names), ', '.join(stored)))
        if set(names) != set(cls.fields):
            body.append('    obj.obj_set_missing_defaults()')
        body.append('    return obj')
        # What the body reads from its scope, bound as keyword-only
        # defaults: local variables, not a dictionary lookup each.
        body[0] = body[0] % ', '.join('%s=%s' % (name, name)
                                      for name in sorted(scope))
        exec('\n'.join(body), scope)
        build = _BUILDERS[cls, names] = scope['build']
        return build


# (class, field names) -> obj_coerced_builder's function.
_BUILDERS = {}

# Compound field type -> (the container its coerce() stores, the plain
# container method that fills it without coercing each element).
_CONTAINERS = (
    (ovo_fields.Set, ovo_fields.CoercedSet, set.update),
    (ovo_fields.List, ovo_fields.CoercedList, list.extend),
    (ovo_fields.Dict, ovo_fields.CoercedDict, dict.update),
)


def _layout(fields):
    """{field name: (storage attribute, container)}.

    container: (container class, fill, element type) for compound fields,
    None for the others.
    """
    out = {}
    for name, field in fields.items():
        container = None
        for field_type, kind, fill in _CONTAINERS:
            if type(field._type) is field_type:
                container = (kind, fill, field._type._element_type)
        out[name] = (ovo_base._get_attrname(name), container)
    return out
