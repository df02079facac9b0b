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

"""What upstream Nova 34.0.0 has where nova-realtime deliberately differs.

The tables the "Differences from upstream Nova" page renders next to this
project's own values, which are read from the code when the documentation is
built (never copied here). nova/tests/unit/doc/test_docs.py checks the
upstream column against an upstream Nova installation when one is present.
"""

UPSTREAM_RELEASE = '34.0.0'

# [filter_scheduler] enabled_filters default of upstream Nova 34.0.0.
UPSTREAM_DEFAULT_FILTERS = (
    'ComputeFilter',
    'ComputeCapabilitiesFilter',
    'ImagePropertiesFilter',
    'ServerGroupAntiAffinityFilter',
    'ServerGroupAffinityFilter',
)
# What the admin guide appends to it for real-time flavors.
REALTIME_FILTERS = ('NUMATopologyFilter', 'AggregateInstanceExtraSpecsFilter')

# Versioned objects of both trees: {class name: upstream 34.0.0 VERSION}.
UPSTREAM_OBJECT_VERSIONS = {
    'Flavor': '1.2',
    'ImageMeta': '1.8',
    'ImageMetaProps': '1.44',
    'Instance': '2.8',
    'InstanceNUMACell': '1.6',
    'InstanceNUMATopology': '1.3',
    'NUMACell': '1.5',
    'NUMAPagesTopology': '1.1',
    'NUMATopology': '1.2',
}

# Upstream's largest flavor vcpus and ram (the flavor API's maximum,
# nova.db.constants.MAX_INT).
UPSTREAM_MAX_INT = 0x7FFFFFFF

# Input bounds: (nova.virt.hardware_parse constant, what it bounds, unit,
# what upstream Nova 34 does).
INPUT_LIMITS = (
    ('MAX_EXTRA_SPECS', 'extra specs per flavor', '',
     'no limit'),
    ('MAX_IMAGE_PROPERTIES', 'properties per image', '',
     "no limit in Nova (Glance's image_property_quota, 128 by default, "
     "applies when the image is written)"),
    ('MAX_GUEST_VCPUS', 'vCPUs per flavor', '',
     'up to %d, the flavor API maximum' % UPSTREAM_MAX_INT),
    ('MAX_GUEST_MEMORY_MB', 'memory per flavor', 'MiB',
     'up to %d MiB, the flavor API maximum' % UPSTREAM_MAX_INT),
    ('MAX_CPU_NUMBER', 'highest CPU number in a CPU mask', '',
     'no bound: a range as large as the mask says is built in memory'),
    ('MAX_KERNEL_CMDLINE_BYTES', 'os_command_line image property', 'bytes',
     'no limit in Nova'),
)

# Options of this project that upstream Nova 34 does not have, and why.
OWN_OPTIONS = (
    ('libvirt', 'host_lock_timeout',
     'several nova-realtime processes on one host serialise their CPU '
     'claims with a file lock; upstream claims in one nova-compute process '
     'and its database'),
    ('libvirt', 'cleanup_timeout',
     'a failed boot undefines its domain itself, retrying while libvirtd '
     'restarts; upstream leaves that to the instance\'s state in its '
     'database'),
    ('libvirt', 'realtime_preflight',
     'the RT budget and memory locking are checked before a real-time '
     'guest starts'),
    ('libvirt', 'instances_path',
     'upstream has [DEFAULT] instances_path (its instance disks); this '
     'tool keeps only a console log per guest and does not share Nova\'s '
     'directory'),
)
