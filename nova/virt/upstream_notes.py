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

"""Where a planned guest differs from what upstream nova-compute builds.

``nova-realtime plan`` validates and builds a flavor as this tree does.
Until the patch series in ``upstream/patches/`` is applied, the guests of a
Nova cloud are built by upstream nova-compute (34.0.0), which refuses some
flavors this tree accepts and builds others differently; after the series,
some of those differences are gone. ``notes()`` names the differences that
apply to one planned guest (the sections of the "Differences from upstream
Nova" page), each saying whether the series removes it. A flavor this tree
refuses has no notes: it is not planned.
"""

from nova.i18n import _

UPSTREAM = _('upstream nova-compute 34')
SERIES_SAME = _('the patch series does the same')
SERIES_GUEST_SHAPE = _('the patch series turns the PMU off and requires '
                       'tsc-deadline too')
SERIES_KEEPS = _('also with the patch series')


def _props(image_meta):
    props = getattr(image_meta, 'properties', None)
    if props is None:
        return {}
    return {key: props.get(key) for key in ('hw_cpu_realtime_mask',
                                            'hw_cpu_policy')
            if props.get(key) is not None}


def notes(instance, image_meta, guest, virt_type, cpu_mode):
    """[str]: each difference from upstream for this planned guest.

    ``instance`` is the planned instance (its flavor, and the fitted
    numa_topology this tree resolved); ``virt_type`` and ``cpu_mode`` are
    [libvirt] virt_type and cpu_mode. Only whether a key is set is looked
    at, as upstream reads it: every value was validated and resolved with
    the request already.
    """
    specs = instance.flavor.extra_specs or {}
    props = _props(image_meta)
    found = []
    topology = instance.numa_topology
    realtime = topology is not None and topology.is_realtime
    policy = props.get('hw_cpu_policy') or specs.get('hw:cpu_policy')
    has_mask = bool(props.get('hw_cpu_realtime_mask') or
                    specs.get('hw:cpu_realtime_mask'))
    if realtime and not has_mask:
        if policy == 'mixed':
            if not specs.get('hw:cpu_dedicated_mask'):
                found.append(_(
                    '%(up)s refuses this flavor (hw:cpu_policy=mixed with '
                    'hw:cpu_realtime needs hw:cpu_realtime_mask or '
                    'hw:cpu_dedicated_mask); here the default mask ^0 '
                    'applies (%(series)s)') % {
                        'up': UPSTREAM, 'series': SERIES_KEEPS})
        elif specs.get('hw:emulator_threads_policy'):
            found.append(_(
                '%(up)s makes every vCPU real time (no real-time mask); '
                'here vCPU 0 is not (default mask ^0, %(series)s)') % {
                    'up': UPSTREAM, 'series': SERIES_KEEPS})
        else:
            found.append(_(
                '%(up)s refuses this flavor (hw:cpu_realtime without a '
                'real-time mask and without hw:emulator_threads_policy); '
                'here the default mask ^0 applies (%(series)s): set '
                'hw:cpu_realtime_mask=^0 for a flavor both accept') % {
                    'up': UPSTREAM, 'series': SERIES_KEEPS})
    if not specs.get('hw:cpu_policy') and specs.get('resources:PCPU'):
        found.append(_(
            '%(up)s makes this flavor dedicated (resources:PCPU); here it '
            'floats: set hw:cpu_policy=dedicated (%(series)s)') % {
                'up': UPSTREAM, 'series': SERIES_KEEPS})
    if not specs.get('hw:cpu_thread_policy') and specs.get(
            'trait:HW_CPU_HYPERTHREADING'):
        found.append(_(
            '%(up)s chooses a thread policy from '
            'trait:HW_CPU_HYPERTHREADING; here it sets none: set '
            'hw:cpu_thread_policy (%(series)s)') % {
                'up': UPSTREAM, 'series': SERIES_KEEPS})
    if specs.get('hw:pmem'):
        found.append(_(
            '%(up)s gives the guest virtual persistent memory (hw:pmem); '
            'here it gets none (%(series)s)') % {
                'up': UPSTREAM, 'series': SERIES_KEEPS})
    if realtime and virt_type == 'kvm' and not cpu_mode:
        found.append(_(
            '%(up)s gives this real-time guest a host-model CPU with '
            'libvirt\'s default PMU and no tsc-deadline requirement; here '
            'host-passthrough, tsc-deadline required, PMU off (%(series)s)'
        ) % {'up': UPSTREAM, 'series': SERIES_GUEST_SHAPE})
    if policy == 'mixed' and not specs.get('hw:emulator_threads_policy') \
            and _dedicated_not_realtime(guest):
        found.append(_(
            '%(up)s lets the emulator threads run on the pCPUs of the '
            'dedicated vCPUs that are not real time too; here only on the '
            'CPUs of the floating vCPUs (%(series)s)') % {
                'up': UPSTREAM, 'series': SERIES_KEEPS})
    memtune = getattr(guest, 'memtune', None)
    if memtune is not None and memtune.hard_limit is not None:
        found.append(_(
            '%(up)s sets no <memtune> hard limit on locked guest memory; '
            'here %(kib)d KiB (%(series)s)') % {
                'up': UPSTREAM, 'kib': memtune.hard_limit,
                'series': SERIES_SAME})
    return found


def _dedicated_not_realtime(guest):
    """Whether ``guest`` has a vCPU pinned to one pCPU it claims, without
    <vcpusched>.
    """
    cputune = getattr(guest, 'cputune', None)
    meta = guest.get_metadata() if hasattr(guest, 'get_metadata') else None
    if cputune is None or meta is None:
        return False
    realtime = set().union(*(sched.vcpus or set()
                             for sched in cputune.vcpusched))
    return any(len(pin.cpuset) == 1 and pin.cpuset <= meta.claimed_pcpus
               and pin.id not in realtime for pin in cputune.vcpupin)
