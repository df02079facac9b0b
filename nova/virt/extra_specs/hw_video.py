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

"""Validators of the ``hw_video:`` extra specs: the guest's video device.
This driver builds headless guests, so none is applied.
"""

from nova.virt.extra_specs import base

VALIDATORS = (
    base.ExtraSpecValidator(
        name='hw_video:ram_max_mb',
        description=(
            'The most video memory in MiB an image may give the guest '
            'display adapter with hw_video_ram. This driver builds guests '
            'without a display adapter of its own choosing.'),
        value={'type': 'int', 'description': 'a number of MiB, at least 0',
               'min': 0}),
)
