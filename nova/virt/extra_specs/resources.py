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

"""Validators of the ``resources:`` extra specs: Placement resource amounts.

``resources:VCPU=0``, ``resources1:CUSTOM_FOO=1`` ... ask the scheduler for
amounts of a resource class, in the unnamed group or a numbered/named one.
The class is a standard one (os-resource-classes) or ``CUSTOM_`` followed by
upper-case letters, digits and ``_``.
"""

from nova.virt.extra_specs import base

# The standard resource classes of os-resource-classes.
STANDARD_CLASSES = (
    'VCPU', 'MEMORY_MB', 'DISK_GB', 'PCI_DEVICE', 'SRIOV_NET_VF',
    'NUMA_SOCKET', 'NUMA_CORE', 'NUMA_THREAD', 'NUMA_MEMORY_MB',
    'IPV4_ADDRESS', 'VGPU', 'VGPU_DISPLAY_HEAD',
    'NET_BW_EGR_KILOBIT_PER_SEC', 'NET_BW_IGR_KILOBIT_PER_SEC', 'PCPU',
    'MEM_ENCRYPTION_CONTEXT', 'FPGA', 'PGPU',
    'NET_PACKET_RATE_KILOPACKET_PER_SEC',
    'NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC',
    'NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC',
)

GROUP = base.ExtraSpecParameter(
    name='group', pattern='[a-zA-Z0-9_-]{1,64}|',
    description='An optional request group suffix of up to 64 letters, '
                'digits, _ and -; keys with the same suffix are satisfied '
                'by one resource provider.')

VALIDATORS = (
    base.ExtraSpecValidator(
        name='resources{group}:{resource_class}',
        parameters=[
            GROUP,
            base.ExtraSpecParameter(
                name='resource_class',
                pattern='|'.join(STANDARD_CLASSES) + '|CUSTOM_[A-Z0-9_]+',
                description='A standard resource class (VCPU, PCPU, '
                            'MEMORY_MB ...) or CUSTOM_ followed by '
                            'upper-case letters, digits and _.'),
        ],
        description=(
            'How much of a resource class the guest takes from the '
            'resource providers (hosts, NUMA nodes, devices) Placement '
            'knows. Used by the scheduler; 0 removes a class the flavor '
            'would otherwise request.'),
        value={'type': 'int', 'description': 'an amount, at least 0',
               'min': 0},
        applies=base.SCHEDULER),
)
