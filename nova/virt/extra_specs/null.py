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

"""Validators of the extra specs Nova knows without a namespace."""

from nova.virt.extra_specs import base

VALIDATORS = (
    base.ExtraSpecValidator(
        name='group_policy',
        description=(
            'With numbered resource groups (resources1:..., trait1:...), '
            'whether the groups must come from different resource '
            'providers (isolate) or may share one (none). Used by the '
            'scheduler.'),
        value={'type': 'str', 'description': 'isolate or none',
               'enum': ('isolate', 'none')},
        applies=base.SCHEDULER),
    base.ExtraSpecValidator(
        name='hide_hypervisor_id',
        description=(
            'The old spelling of hw:hide_hypervisor_id, which should be '
            'used instead: whether the guest is told it runs under a '
            'hypervisor. This driver does not hide it.'),
        value={'type': 'bool', 'description': base.BOOL_DESCRIPTION}),
)
