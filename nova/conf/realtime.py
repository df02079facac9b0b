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

# Upstream Nova's [DEFAULT] host, registered here because this tool did not
# have it. Upstream's default is the machine's hostname; here unset means
# "the name nova-compute's libvirt driver uses", see the help.
host_opts = [
    cfg.StrOpt(
        'host',
        sample_default='<the hostname libvirt reports>',
        help="""
Name of this compute host, as in upstream Nova's nova.conf. ``nova-realtime
advertise`` looks up the compute node resource provider with this name in
Placement. When unset, the name is the hostname libvirt reports
(``virsh hostname``), which is the name nova-compute's libvirt driver gives
its compute node and resource provider; if libvirt cannot be asked, the
machine's hostname.
"""),
]


def register_opts(conf):
    conf.register_group(realtime_group)
    conf.register_opts(realtime_opts, group=realtime_group)
    conf.register_opts(host_opts)


def list_opts():
    return {realtime_group: realtime_opts,
            cfg.OptGroup('DEFAULT'): host_opts}
