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

from oslo_utils import versionutils

from nova.objects import base
from nova.objects import fields


@base.NovaObjectRegistry.register
class Instance(base.NovaObject):
    """A guest as nova-compute handles it.

    ``numa_topology`` is the fitted InstanceNUMATopology once the guest has
    claimed host resources (None for a guest without NUMA/pinning needs).
    """

    # Version 1.0: Initial version
    # Version 1.1: Added kernel_path, ramdisk_path
    # Version 1.2: InstanceNUMATopology 1.1 (cells with cpuset/pcpuset)
    VERSION = '1.2'

    fields = {
        'uuid': fields.UUIDField(),
        'name': fields.StringField(),
        'flavor': fields.ObjectField('Flavor'),
        'numa_topology': fields.ObjectField('InstanceNUMATopology',
                                            nullable=True, default=None),
        # Direct kernel boot: host paths of the guest kernel and initramfs
        # (what Nova's kernel_id/ramdisk_id images become on the host). The
        # kernel command line is the image property os_command_line.
        'kernel_path': fields.StringField(nullable=True, default=None),
        'ramdisk_path': fields.StringField(nullable=True, default=None),
    }

    obj_relationships = {
        'flavor': [('1.0', '1.0')],
        'numa_topology': [('1.0', '1.0'), ('1.2', '1.1')],
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.obj_set_defaults()

    def obj_make_compatible(self, primitive, target_version):
        super().obj_make_compatible(primitive, target_version)
        target = versionutils.convert_version_to_tuple(target_version)
        if target < (1, 1):
            primitive.pop('kernel_path', None)
            primitive.pop('ramdisk_path', None)
