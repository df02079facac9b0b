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

libvirt_group = cfg.OptGroup(
    'libvirt',
    title='Libvirt options',
    help='How nova-compute talks to libvirt and builds guests.')

libvirt_opts = [
    cfg.StrOpt(
        'connection_uri',
        default='',
        help="""
Libvirt connection URI. Empty (the default) means the URI for ``virt_type``,
as in upstream Nova: ``qemu:///system`` for ``kvm`` and ``qemu``,
``test:///default`` for ``test``. ``test:///default`` is libvirt's embedded
test driver (no real guests run): the demo and the unit tests name it
explicitly; ``check-host`` fails on it, since it is not a compute host's
libvirt.
"""),
    cfg.StrOpt(
        'virt_type',
        default='kvm',
        choices=[('kvm', 'QEMU with KVM acceleration (production)'),
                 ('qemu', 'QEMU with TCG emulation (testing only: no '
                          'latency guarantee is meaningful)'),
                 ('test', "libvirt's test driver")],
        help="""
Domain type of the guests. Connections to libvirt's test driver always use
``test`` whatever is set here.
"""),
    cfg.IntOpt(
        'realtime_scheduler_priority',
        default=1,
        min=1,
        max=99,
        help="""
SCHED_FIFO priority given to the real-time vCPU threads of real-time guests
(``<vcpusched scheduler="fifo" priority="N">``). Keep it below the priority of
host kernel threads that must preempt guests (for example ktimersoftd and
the per-CPU IRQ threads on a PREEMPT_RT kernel).
"""),
    cfg.StrOpt(
        'instances_path',
        default='/var/lib/nova-realtime/instances',
        help="""
Directory holding one sub-directory per guest (named after the guest) with
its serial console log, ``console.log``. Not used with libvirt's test driver.
"""),
    cfg.IntOpt(
        'host_lock_timeout',
        default=120,
        min=0,
        max=86400,
        help="""
Seconds a boot waits for the host lock (held by another nova-realtime process
while it claims pCPUs and defines and starts its guest) before giving up with
an error. A wait of more than a second is reported on stderr. 0 gives up at
once when another process holds the lock.
"""),
    cfg.IntOpt(
        'cleanup_timeout',
        default=30,
        min=0,
        max=3600,
        help="""
Seconds a failed boot keeps retrying, through new connections, to undefine the
domain it defined when libvirt is unreachable (for example while libvirtd
restarts). A domain it still cannot remove is found and removed by the next
``nova-realtime boot`` and reported by every other command.
"""),
    cfg.StrOpt(
        'cpu_mode',
        choices=[
            ('host-model', 'libvirt picks the named CPU model closest to '
                           'the host CPU, with its feature flags'),
            ('host-passthrough', 'the guest sees the host CPU as it is '
                                 '(KVM only: QEMU\'s TCG cannot run it)'),
            ('custom', 'the first of [libvirt] cpu_models'),
            ('none', 'no CPU model: QEMU\'s default model'),
        ],
        help="""
CPU mode of the guests. Unset (the default), as in upstream Nova:
``host-model`` for ``virt_type`` ``kvm`` and ``qemu``, nothing for ``test``
(libvirt's test driver has no CPU models); except that a real-time guest on
``kvm`` gets ``host-passthrough``, as libvirt's "KVM Real Time Guest Config"
guide recommends (the guest sees every host CPU feature, including the TSC
deadline timer, with no emulated CPUID in between). Real-time guests also
require the ``tsc-deadline`` CPU feature and have their virtual PMU off
unless ``hw:pmu=true``.

Related options:

* ``cpu_models``: required with ``custom``, refused with any other mode.
* ``cpu_model_extra_flags``: only with ``custom``, ``host-model`` or
  ``host-passthrough``.
"""),
    cfg.ListOpt(
        'cpu_models',
        deprecated_name='cpu_model',
        default=[],
        help="""
Named CPU models for ``cpu_mode = custom``, the first one is used (case
insensitive; every one must be a model the host's libvirt knows for its
architecture, as listed by ``virsh cpu-models x86_64``). Refused with any
other ``cpu_mode``, as in upstream Nova.
"""),
    cfg.ListOpt(
        'cpu_model_extra_flags',
        default=[],
        help="""
Guest CPU features to turn on (``flag`` or ``+flag``) or off (``-flag``),
case insensitive, for example ``-hle, -rtm, +invtsc``. Each name must be a
CPU feature libvirt knows (``/usr/share/libvirt/cpu_map/x86_features.xml``).
Only with ``cpu_mode`` ``custom``, ``host-model`` or ``host-passthrough``.
A feature the host CPU lacks makes libvirt refuse to start the guest; the
error names the feature.
"""),
    cfg.BoolOpt(
        'realtime_preflight',
        default=True,
        help="""
Before starting a real-time guest, check that the host can give it a real-time
scheduling budget and locked memory, and refuse early with the fix when it
cannot.
"""),
]


def register_opts(conf):
    conf.register_group(libvirt_group)
    conf.register_opts(libvirt_opts, group=libvirt_group)


def list_opts():
    return {libvirt_group: libvirt_opts}
