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

"""Validators of the ``vmware:`` extra specs, read by the VMware driver
only.
"""

from nova.virt.extra_specs import base

VALIDATORS = (
    base.ExtraSpecValidator(
        name='vmware:hw_version',
        description=(
            'The VMware virtual hardware version of the guest, also used to '
            'place guests on ESXi hosts that support it. Meaningless to '
            'this libvirt driver.'),
        value={'type': 'str', 'description': 'a VMware hardware version, '
                                             'e.g. vmx-13'}),
    base.ExtraSpecValidator(
        name='vmware:storage_policy',
        description=(
            'The VMware storage policy of the guest disks, honoured when '
            'the vCenter uses storage policy based management. Meaningless '
            'to this libvirt driver.'),
        value={'type': 'str', 'description': 'a storage policy name'}),
)
