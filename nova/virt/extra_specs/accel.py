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

"""Validators of the ``accel:`` extra specs: Cyborg accelerators."""

from nova.i18n import _
from nova.virt.extra_specs import base

VALIDATORS = (
    base.ExtraSpecValidator(
        name='accel:device_profile',
        description=(
            'The Cyborg device profile whose accelerators (FPGAs, GPUs '
            '...) are attached to the guest. This driver attaches no '
            'accelerator, so a flavor naming a profile builds no guest.'),
        value={'type': 'str', 'description': 'the name of a device '
                                             'profile'},
        applies=base.REFUSED,
        reason=_('the guest would have none of the accelerators of the '
                 'device profile')),
)
