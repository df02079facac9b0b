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

"""Entry point for oslo-config-generator and the Sphinx config extension."""

from nova.conf import compute
from nova.conf import libvirt
from nova.conf import placement
from nova.conf import realtime


def list_opts():
    opts = {}
    for module in (compute, libvirt):
        opts.update(module.list_opts())
    opts.update(placement.list_opts())
    opts.update(realtime.list_opts())
    return [(group, options) for group, options in opts.items()]


def group_names():
    """The names of the groups list_opts lists, without building them."""
    names = [group.name for module in (compute, libvirt, realtime)
             for group, _opts in module.list_opts().items()]
    names.append(placement.placement_group.name)
    return names
