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

"""Validators of the ``quota:`` extra specs: resource limits and shares.

The VMware driver reads the ``*_limit``, ``*_reservation`` and ``*_shares_*``
keys, the upstream libvirt driver the CPU, disk and network tuning ones.
This driver sets none of them (a real-time guest's CPUs are dedicated, and
a CFS quota on them would only add jitter), so all are accepted and
reported as not applied.
"""

from nova.virt.extra_specs import base

_AT_LEAST_0 = {'type': 'int', 'description': 'an integer of at least 0',
               'min': 0}
_ANY_INT = {'type': 'int', 'description': 'an integer'}
_LEVELS = ('custom', 'high', 'normal', 'low')


def _vmware_keys(key, resource, unit):
    return (
        base.ExtraSpecValidator(
            name='quota:%s_limit' % key,
            description=(
                'The most %(res)s the guest may use, in %(unit)s, even when '
                'more is free; 0 means no limit. Read by the VMware driver '
                'only.' % {'res': resource, 'unit': unit}),
            value=_AT_LEAST_0),
        base.ExtraSpecValidator(
            name='quota:%s_reservation' % key,
            description=(
                'The %(res)s guaranteed to the guest, in %(unit)s, whatever '
                'the other guests use. Read by the VMware driver only.'
                % {'res': resource, 'unit': unit}),
            value=_ANY_INT),
        base.ExtraSpecValidator(
            name='quota:%s_shares_level' % key,
            description=(
                'The share level of the guest for %(res)s when guests '
                'compete for it: low, normal, high, or custom to set '
                'quota:%(key)s_shares_share. Read by the VMware driver '
                'only.' % {'res': resource, 'key': key}),
            value={'type': 'str', 'description': ', '.join(_LEVELS),
                   'enum': _LEVELS}),
        base.ExtraSpecValidator(
            name='quota:%s_shares_share' % key,
            description=(
                'The number of %(res)s shares of the guest, relative to the '
                'other guests, when quota:%(key)s_shares_level is custom. '
                'Read by the VMware driver only.'
                % {'res': resource, 'key': key}),
            value=_AT_LEAST_0),
    )


VALIDATORS = (
    _vmware_keys('cpu', 'CPU time', 'MHz') +
    _vmware_keys('memory', 'memory', 'MiB') +
    _vmware_keys('disk_io', 'disk I/O', 'operations per second') +
    _vmware_keys('vif', 'network bandwidth', 'Mbit/s') +
    (
        base.ExtraSpecValidator(
            name='quota:cpu_shares',
            description=(
                'The relative weight of the guest CPU time against the '
                'other guests of the host: 2048 gets twice the time of '
                '1024. Not applied by this driver, whose real-time vCPUs '
                'are dedicated.'),
            value=_AT_LEAST_0),
        base.ExtraSpecValidator(
            name='quota:cpu_period',
            description=(
                'The accounting period in microseconds over which '
                'quota:cpu_quota is enforced on each vCPU; 0 leaves it '
                'unset. Not applied by this driver.'),
            value=_AT_LEAST_0),
        base.ExtraSpecValidator(
            name='quota:cpu_quota',
            description=(
                'The CPU time in microseconds each vCPU may use per '
                'quota:cpu_period; a negative value means no limit. Not '
                'applied by this driver, where it would add jitter.'),
            value=_ANY_INT),
    ) +
    tuple(
        base.ExtraSpecValidator(
            name='quota:disk_%s_%s_sec' % (direction, metric),
            description=(
                'The most %(what)s per second the guest disks may %(dir)s; '
                '0 means no limit. Not applied by this driver.'
                % {'what': 'bytes' if metric == 'bytes' else
                   'I/O operations', 'dir': {'read': 'read',
                                             'write': 'write',
                                             'total': 'read and write'}[
                                                 direction]}),
            value=_AT_LEAST_0)
        for direction in ('read', 'write', 'total')
        for metric in ('bytes', 'iops')) +
    tuple(
        base.ExtraSpecValidator(
            name='quota:vif_%s_%s' % (direction, measure),
            description=(
                'The %(measure)s %(dir)s traffic shaping value of the '
                'guest network interfaces (KiB/s for average and peak, KiB '
                'for burst). Not applied by this driver.'
                % {'measure': measure, 'dir': direction}),
            value=_AT_LEAST_0)
        for direction in ('inbound', 'outbound')
        for measure in ('average', 'peak', 'burst'))
)
