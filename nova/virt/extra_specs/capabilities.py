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

"""Validators of the ``capabilities:`` extra specs, read by the scheduler's
ComputeCapabilitiesFilter, which compares a host field with the value.
"""

from nova.virt.extra_specs import base

# Host fields compared as a whole.
PLAIN = (
    'id', 'uuid', 'service_id', 'host', 'vcpus', 'memory_mb', 'local_gb',
    'vcpus_used', 'memory_mb_used', 'local_gb_used', 'hypervisor_type',
    'hypervisor_version', 'hypervisor_hostname', 'free_ram_mb',
    'free_disk_gb', 'current_workload', 'running_vms',
    'disk_available_least', 'host_ip', 'mapped', 'cpu_allocation_ratio',
    'ram_allocation_ratio', 'disk_allocation_ratio', 'total_usable_ram_mb',
    'total_usable_disk_gb', 'disk_mb_used', 'free_disk_mb', 'vcpus_total',
    'num_instances', 'num_io_ops', 'failed_builds', 'aggregates',
    'cell_uuid', 'updated',
)
# Host fields that are structures; ':sub:keys' may follow to reach inside.
NESTED = (
    'cpu_info', 'metrics', 'stats', 'numa_topology', 'supported_hv_specs',
    'pci_device_pools', 'nodename', 'pci_stats', 'supported_instances',
    'limits', 'instances',
)
_VALUE = {'type': 'str',
          'description': 'a value or a comparison such as >= 4, s== 2.1.0, '
                         '<in> vmx or <or> a <or> b'}
_HOW = ('The guest only lands on hosts whose %s matches the value, a plain '
        'value or a comparison. Used by the scheduler '
        '(ComputeCapabilitiesFilter).')

VALIDATORS = tuple(
    base.ExtraSpecValidator(
        name='capabilities:%s' % field,
        description=_HOW % ('%s field' % field),
        value=_VALUE, applies=base.SCHEDULER)
    for field in PLAIN
) + tuple(
    base.ExtraSpecValidator(
        name='capabilities:%s{path}' % field,
        parameters=[
            base.ExtraSpecParameter(
                name='path', pattern=r'(:\w+)*',
                description='Optional :key:subkey ... reaching inside the '
                            'structure.'),
        ],
        description=_HOW % ('%s structure (or the part of it :path '
                            'names)' % field),
        value=_VALUE, applies=base.SCHEDULER)
    for field in NESTED
)
