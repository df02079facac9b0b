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

"""Field types, including the enums of the CPU policies."""

from oslo_versionedobjects import fields

# Re-export the oslo field types this package uses, so object modules import
# one place.
BooleanField = fields.BooleanField
DictOfStringsField = fields.DictOfStringsField
DictOfIntegersField = fields.DictOfIntegersField
Field = fields.Field
FieldType = fields.FieldType
IntegerField = fields.IntegerField
NonNegativeIntegerField = fields.NonNegativeIntegerField
ListOfObjectsField = fields.ListOfObjectsField
ListOfSetsOfIntegersField = fields.ListOfSetsOfIntegersField
ListOfIntegersField = fields.ListOfIntegersField
ObjectField = fields.ObjectField
SetOfIntegersField = fields.SetOfIntegersField
StringField = fields.StringField
UUIDField = fields.UUIDField
Enum = fields.Enum
BaseEnumField = fields.BaseEnumField


class CPUAllocationPolicy(fields.Enum):
    DEDICATED = 'dedicated'
    SHARED = 'shared'
    MIXED = 'mixed'
    ALL = (DEDICATED, SHARED, MIXED)

    def __init__(self):
        super().__init__(valid_values=CPUAllocationPolicy.ALL)


class CPUThreadAllocationPolicy(fields.Enum):
    # prefer: siblings of a pinned pCPU may go to the same guest or others;
    # isolate: nothing else may run on the siblings of a pinned pCPU;
    # require: vCPUs are placed on whole cores (every sibling to this guest).
    PREFER = 'prefer'
    ISOLATE = 'isolate'
    REQUIRE = 'require'
    ALL = (PREFER, ISOLATE, REQUIRE)

    def __init__(self):
        super().__init__(valid_values=CPUThreadAllocationPolicy.ALL)


class CPUEmulatorThreadsPolicy(fields.Enum):
    # share: emulator threads run on [compute] cpu_shared_set;
    # isolate: one extra dedicated pCPU is reserved for them.
    SHARE = 'share'
    ISOLATE = 'isolate'
    ALL = (SHARE, ISOLATE)

    def __init__(self):
        super().__init__(valid_values=CPUEmulatorThreadsPolicy.ALL)


class DriverSupport(object):
    """What this driver does with a flavor extra spec or image property:
    the vocabulary of the extra spec validators (whose base module
    describes each) and of the image properties.
    """

    APPLIED = 'applied'
    SCHEDULER = 'scheduler'
    NOT_APPLIED = 'not applied'
    REFUSED = 'refused'
    ALL = (APPLIED, SCHEDULER, NOT_APPLIED, REFUSED)


class CPUAllocationPolicyField(fields.BaseEnumField):
    AUTO_TYPE = CPUAllocationPolicy()


class CPUThreadAllocationPolicyField(fields.BaseEnumField):
    AUTO_TYPE = CPUThreadAllocationPolicy()


class CPUEmulatorThreadsPolicyField(fields.BaseEnumField):
    AUTO_TYPE = CPUEmulatorThreadsPolicy()


class IntegerToIntegerDict(fields.FieldType):
    """A dict of int -> int (vCPU -> pCPU pinning); JSON keys are strings."""

    @staticmethod
    def coerce(obj, attr, value):
        if not isinstance(value, dict):
            raise ValueError('%s must be a dict, not %r' % (attr, value))
        return {int(k): int(v) for k, v in value.items()}

    def to_primitive(self, obj, attr, value):
        return {str(k): v for k, v in value.items()}

    def from_primitive(self, obj, attr, value):
        return {int(k): int(v) for k, v in value.items()}

    def stringify(self, value):
        return '{%s}' % ','.join(
            '%d:%d' % (k, v) for k, v in sorted(value.items()))


class DictOfIntegerToIntegerField(fields.AutoTypedField):
    AUTO_TYPE = IntegerToIntegerDict()
