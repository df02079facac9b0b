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

"""Inputs of the rules the patch series carries, beyond upstream's tests.

Plain data only (no nova import): upstream_side.py builds upstream's
objects from them, compare.py builds ours. Each case is
``(name, func, args)``; a flavor is ``{'vcpus', 'memory_mb',
'extra_specs'}``, an image ``{'properties'}``.
"""

HOSTILE_SPECS = [
    '^0-999999999', '0-999999999', '999999999', '0-4294967296',
    '^0,^1-99999999999999999999', '1' * 5000, '0-3,' * 2000,
    '0-3\n', '0-3\x00', '\x1b[31m0-1', '0--3', '3-0', '-1', '^', ',', '',
    '0-8191', '0-8192', '8191', '8192', '4095', '4096',
]

RT = {'hw:cpu_policy': 'dedicated', 'hw:cpu_realtime': 'yes'}

MASKS = [
    # (flavor vcpus, mask): inside, outside excluded, outside included,
    # hostile.
    (4, '^0'), (4, '^0-1'), (4, '0-3'), (4, '^0,^5'), (4, '^4'),
    (4, '^0-3,^7'), (4, '1-4'), (4, '^0-999999999'), (4, '0-999999999'),
    (8, '^0,^7'), (8, '^0,^8'), (2, '^1'), (2, '^2'),
]


def cases():
    for spec in HOSTILE_SPECS:
        yield ('parse_cpu_spec %r' % spec[:20], 'parse_cpu_spec', [spec])
    for vcpus, mask in MASKS:
        flavor = {'vcpus': vcpus, 'memory_mb': 2048,
                  'extra_specs': dict(RT, **{'hw:cpu_realtime_mask': mask})}
        yield ('flavor mask %r on %d vCPUs' % (mask[:20], vcpus),
               'get_realtime_cpu_constraint', [flavor, {'properties': {}}])
        flavor = {'vcpus': vcpus, 'memory_mb': 2048,
                  'extra_specs': dict(RT, **{'hw:cpu_realtime_mask': '^0'})}
        yield ('image mask %r on %d vCPUs' % (mask[:20], vcpus),
               'get_realtime_cpu_constraint',
               [flavor, {'properties': {'hw_cpu_realtime_mask': mask}}])
