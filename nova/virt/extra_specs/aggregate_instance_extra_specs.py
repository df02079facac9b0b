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

"""Validators of the ``aggregate_instance_extra_specs:`` extra specs, read
by the scheduler's AggregateInstanceExtraSpecsFilter. The value is a
comparison the filter understands or a plain value, so any text passes.
"""

from nova.virt.extra_specs import base

VALIDATORS = (
    base.ExtraSpecValidator(
        name='aggregate_instance_extra_specs:{key}',
        parameters=[
            base.ExtraSpecParameter(
                name='key', pattern='.+',
                description='The host aggregate metadata key to compare.'),
        ],
        description=(
            'The guest only lands on hosts of an aggregate whose metadata '
            'key matches the value: a plain value, or an operator such as '
            '"<in> text", ">= 4", "s== text" or "<or> a <or> b". Used by '
            'the scheduler (AggregateInstanceExtraSpecsFilter).'),
        value={'type': 'str', 'description': 'a value or a comparison '
                                             'such as >= 4'},
        applies=base.SCHEDULER),
)
