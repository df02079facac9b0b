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

"""Validators of the ``os:`` extra specs: guest firmware behaviour."""

from nova.i18n import _
from nova.virt.extra_specs import base

VALIDATORS = (
    base.ExtraSpecValidator(
        name='os:secure_boot',
        description=(
            'Whether the guest UEFI firmware enforces Secure Boot, running '
            'only signed boot loaders and kernels. This driver cannot '
            'provide it, so a flavor requiring it builds no guest; '
            '"disabled" asks for nothing.'),
        value={'type': 'str', 'description': 'disabled or required',
               'enum': ('disabled', 'required')},
        applies=base.REFUSED,
        reason=_('the guest firmware would run unsigned boot code (no UEFI '
                 'Secure Boot)'),
        refused_when=lambda value: value == 'required'),
)
