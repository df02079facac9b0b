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

"""[realtime] options: how ``nova-realtime advertise`` tells Placement."""

from oslo_config import cfg
from oslo_config import types

# A custom trait name as Placement accepts it (os-traits' rule for custom
# traits, and the column's width).
CUSTOM_TRAIT_PATTERN = r'^CUSTOM_[A-Z0-9_]+$'
MAX_TRAIT_LENGTH = 255
# A check-host check id (kernel.sched_rt_runtime_us, cpu.smt_siblings ...).
CHECK_ID_PATTERN = r'^[a-z0-9_]+\.[a-z0-9_]+$'

realtime_group = cfg.OptGroup(
    'realtime',
    title='Real-time host options',
    help='How this host advertises its real-time readiness to the '
         'scheduler.')

realtime_opts = [
    cfg.StrOpt(
        'trait',
        default='CUSTOM_REALTIME_HOST',
        regex=CUSTOM_TRAIT_PATTERN,
        max_length=MAX_TRAIT_LENGTH,
        help="""
Placement trait that ``nova-realtime advertise`` puts on this host's compute
node resource provider while ``nova-realtime check-host`` finds the host
READY, and takes off when it does not. A custom trait: ``CUSTOM_`` followed
by upper-case letters, digits and underscores, at most 255 characters.
Real-time flavors ask for it with ``trait:CUSTOM_REALTIME_HOST=required``;
use the same name on every host and in the flavors.
"""),
    cfg.ListOpt(
        'advertise_gating_warnings',
        default=[],
        item_type=types.String(regex=CHECK_ID_PATTERN),
        help="""
Ids of check-host checks whose WARN also takes the trait away (every FAIL
always does), for example ``kernel.preempt_rt, cpu.smt_siblings`` on a fleet
that promises a PREEMPT_RT kernel and no SMT sibling on the real-time CPUs.
An id that is not one of check-host's checks is refused when advertise runs.
"""),
]

# Upstream Nova's [DEFAULT] state_path, registered here because
# nova-compute keeps its node identity there. [DEFAULT] host is deliberately
# not read: upstream's libvirt driver names its compute node (and so the
# node's resource provider) after libvirt's hostname whatever host says.
state_path_opts = [
    cfg.StrOpt(
        'state_path',
        default='/var/lib/nova',
        help="""
nova-compute's state directory, as in upstream Nova's nova.conf. Since
2023.1, nova-compute writes its compute node's UUID, which is also the UUID
of the node's resource provider in Placement, to ``compute_id`` there;
``nova-realtime advertise`` finds the provider by that UUID (``compute_id``
next to a ``--config-file`` is read too, as nova-compute reads it), and only
without the file by the hostname libvirt reports (``virsh hostname``), the
name nova-compute's libvirt driver gives its node. ``boot`` refuses to run
on a host where that file exists. Upstream's default is Nova's install
directory; packaged and containerised deployments set ``/var/lib/nova``,
this tool's default. Set it to nova-compute's value when it differs.
"""),
]


def register_opts(conf):
    conf.register_group(realtime_group)
    conf.register_opts(realtime_opts, group=realtime_group)
    conf.register_opts(state_path_opts)


def list_opts():
    return {realtime_group: realtime_opts,
            cfg.OptGroup('DEFAULT'): state_path_opts}
