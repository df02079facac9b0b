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

"""Validators of the ``pci_passthrough:`` extra specs."""

from nova.api.validation.extra_specs import base
from nova.i18n import _

VALIDATORS = (
    base.ExtraSpecValidator(
        name='pci_passthrough:alias',
        description=(
            'The host PCI devices passed through to the guest, as '
            'ALIAS:COUNT pairs separated by commas, each ALIAS a device '
            'class named by the [pci] alias option of nova.conf. This '
            'driver passes no PCI device, so a flavor asking for one '
            'builds no guest.'),
        value={'type': 'str',
               'description': 'comma-separated ALIAS:COUNT pairs, e.g. '
                              'nic:2,gpu:1',
               'pattern': r'[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*'},
        applies=base.REFUSED,
        reason=_('the guest would not get the PCI devices it asks for')),
)
