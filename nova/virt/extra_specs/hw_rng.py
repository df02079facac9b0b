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

"""Validators of the ``hw_rng:`` extra specs: the guest's random number
generator device. This driver does not add one, so none is applied.
"""

from nova.virt.extra_specs import base

VALIDATORS = (
    base.ExtraSpecValidator(
        name='hw_rng:allowed',
        description=(
            'Whether an image may give the guest a virtio random number '
            'generator fed from the host entropy source (hw_rng_model). '
            'This driver adds no such device.'),
        value={'type': 'bool', 'description': base.BOOL_DESCRIPTION}),
    base.ExtraSpecValidator(
        name='hw_rng:rate_bytes',
        description=(
            'How many bytes of host entropy the guest random number '
            'generator may read per period (hw_rng:rate_period); 0 leaves '
            'it unlimited.'),
        value={'type': 'int', 'description': 'a number of bytes, at '
                                             'least 0', 'min': 0}),
    base.ExtraSpecValidator(
        name='hw_rng:rate_period',
        description=(
            'The length in milliseconds of the period over which '
            'hw_rng:rate_bytes is counted for the guest random number '
            'generator.'),
        value={'type': 'int', 'description': 'a number of milliseconds, at '
                                             'least 0', 'min': 0}),
)
