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

"""Generate (key, value) cases for flavor extra specs and image props."""
import random

random.seed(1234)
INTS = ['0', '1', '2', '3', '15', '16', '64', '4096', '4097', '-1', '-5',
        'abc', '', ' 1', '+1', '01', '1.5', '99999999999']
BOOLS = ['true', 'false', 'yes', 'no', '1', '0', 't', 'f', 'y', 'n', 'on',
         'off', 'True', 'YES', ' yes', 'maybe', '', '2']
STRS = ['x', 'abc', '', '0-3', '^0', '^0-1', '0,^1', '2MB', '1GB', '2048',
        'large', 'small', 'any', 'nic:2', 'a:1,b:2', 'bogus', 'a,b',
        '4GB,SMALL',
        'required', 'forbidden', 'dedicated', 'mixed', '>= 2', 'x y',
        '1T', '2Mb', '2Kbit', '0-1,^', '^', 'a:', ':1']


def rand_str():
    alphabet = 'abcXYZ019^-,: _.'
    return ''.join(random.choice(alphabet)
                   for _ in range(random.randint(0, 8)))


def flavor_cases(validators):
    cases = []
    for name, info in validators.items():
        keys = [name]
        if '{' in name:
            keys = []
            for a in ('', '1'):
                k = name.replace('{group}', a)
                k = k.replace('{num}', '0' if not a else '3')
                k = k.replace('{key}', 'foo')
                k = k.replace('{filter}', '' if not a else ':arch')
                k = k.replace('{resource}', 'FOO').replace('{trait}', 'FOO')
                keys.append(k)
        values = list(STRS) + [rand_str() for _ in range(6)]
        if info['type'] == 'int':
            values += INTS
        if info['type'] == 'bool':
            values += BOOLS
        for e in info.get('enum') or ():
            values += [e, e.upper(), ' ' + e]
        for k in sorted(set(keys)):
            for v in values:
                cases.append((k, v))
    for k in ('hw:foo', 'hw:cpu_realtime_mak', 'HW:CPU_REALTIME',
              'HW:cpu_policy', 'foo:bar', 'nonamespace', 'trait:lower',
              'trait:HW_CPU_X86_AVX2', 'trait:NOT_A_TRAIT',
              'resources:FOO', 'resources:vcpu', 'resources:VCPU',
              'hw_rng:foo', 'quota:foo', 'os:foo', 'accel:foo',
              'capabilities:foo', 'Group_Policy', 'hw_numa:x',
              'aggregate_instance_extra_specs:x', 'vmware:foo',
              'pci_passthrough:foo', 'hw:numa_cpus.01', 'hw:numa_mem.1000'):
        for v in ('1', 'required', 'x', 'yes'):
            cases.append((k, v))
    return cases


def image_cases(props):
    cases = []
    for name, info in props.items():
        values = list(STRS) + INTS + BOOLS + [rand_str() for _ in range(4)]
        for e in info.get('enum') or ():
            values += [e, e.upper()]
        values += ['9a0f9a4c-5b47-4e1e-8f6e-3c2b1a0d9e8f', '>=2.6',
                   '>= 2.6, < 3.0']
        if name in ('hw_numa_cpus', 'hw_numa_mem'):
            name = name + '.0'
        for v in values:
            cases.append((name, v))
    for k in ('hw_foo', 'HW_CPU_REALTIME_MASK', 'hw_cpu_realtime_mak',
              'os_foo', 'img_foo', 'foo', 'owner_specified.openstack.md5',
              'architecture', 'hypervisor_type', 'vm_mode', 'os_hash_algo'):
        for v in ('x86_64', 'kvm', 'hvm', '1', 'x'):
            cases.append((k, v))
    return cases
