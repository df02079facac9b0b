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

from oslo_config import cfg

compute_group = cfg.OptGroup(
    'compute',
    title='Compute host options',
    help='Which host CPUs nova-compute may hand to guests.')

compute_opts = [
    cfg.StrOpt(
        'cpu_dedicated_set',
        help="""
Host CPUs that guests with ``hw:cpu_policy=dedicated`` may be pinned to, as a
CPU spec (for example ``2-7,^4``). Each of these pCPUs is given to at most one
guest vCPU (or one guest's emulator threads with
``hw:emulator_threads_policy=isolate``). Real-time guests always run here.

When unset, every online host CPU may be used, which leaves no CPU for the
host's own work: set it on any production real-time host, together with the
kernel's ``isolcpus``/``nohz_full`` on the same CPUs.
"""),
    cfg.StrOpt(
        'cpu_shared_set',
        help="""
Host CPUs for the emulator threads of guests with
``hw:emulator_threads_policy=share``, as a CPU spec. Required for such
real-time guests: without it, ``share`` would put QEMU's emulator threads on
the real-time vCPUs' pCPUs. Must not overlap ``cpu_dedicated_set``.
"""),
]


def register_opts(conf):
    conf.register_group(compute_group)
    conf.register_opts(compute_opts, group=compute_group)


def list_opts():
    return {compute_group: compute_opts}
