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

"""Compare nova.virt.hardware with upstream Nova's on upstream's test inputs.

Usage (from the repository root, with nova-realtime's interpreter):

    .venv/bin/python tools/upstream-compare/compare.py \
        [--upstream-python .upstream-venv/bin/python] [--json FILE] [-v]

Both packages are called ``nova``, so upstream runs in its own process
(upstream_side.py, under --upstream-python): it runs upstream's
nova/tests/unit/virt/test_hardware.py with the compared functions wrapped
and sends back, as JSON, every call those tests make with upstream's
answer. This process rebuilds each input with nova-realtime's objects,
asks nova-realtime's function, and sorts each case into:

* agree: same value, or both raise with upstream's exception class among
  ours (ours may raise a subclass);
* differ-by-design: a difference listed in DESIGN below, each with the
  reason and the nova-realtime unit test that pins it;
* differ-unexpected: anything else (exit status 1);
* not compared: inputs outside nova-realtime's scope (PCI requests or
  stats, network NUMA affinity), counted separately.

Upstream's tests write some extra spec values as ints (``hw:numa_nodes:
2``); the Nova API only ever stores strings, so they are passed as strings.
"""

import argparse
import collections
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_UPSTREAM_PYTHON = os.path.join(ROOT, '.upstream-venv', 'bin',
                                       'python')

sys.path.insert(0, ROOT)

from nova import exception  # noqa: E402
from nova import objects  # noqa: E402
from nova.virt import hardware  # noqa: E402


class NotCompared(Exception):
    """An input outside nova-realtime's scope."""


# -- upstream's values (plain JSON) into nova-realtime's --------------------

def _value(plain):
    if isinstance(plain, list):
        return [_value(v) for v in plain]
    if isinstance(plain, dict):
        if '__set__' in plain:
            return set(plain['__set__'])
        if '__dict__' in plain:
            return {_value(k): _value(v) for k, v in plain['__dict__']}
        if '__obj__' in plain:
            return _object(plain)
        if '__exc_class__' in plain:
            return plain
        raise NotCompared('value %r' % plain)
    return plain


def _flavor(plain):
    values = {name: _value(plain[name]) for name in ('name', 'vcpus',
                                                     'memory_mb')
              if name in plain}
    specs = _value(plain.get('extra_specs', {'__dict__': []}))
    values['extra_specs'] = {key: str(value) for key, value in specs.items()}
    return objects.Flavor(**values)


def _image_props(plain):
    raw = {}
    for name, value in plain.items():
        if name == '__obj__':
            continue
        value = _value(value)
        if name == 'hw_numa_cpus':
            raw.update({'hw_numa_cpus.%d' % node: hardware.format_cpu_spec(
                cpus) for node, cpus in enumerate(value)})
        elif name == 'hw_numa_mem':
            raw.update({'hw_numa_mem.%d' % node: str(mem)
                        for node, mem in enumerate(value)})
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            raw[name] = str(value)
        else:
            raw[name] = value
    return raw


def _image(plain):
    props = plain.get('properties', {'__obj__': 'ImageMetaProps'})
    return objects.ImageMeta.from_dict({'properties': _image_props(props)})


def _host_cell(plain):
    if plain.get('network_metadata') not in (None,):
        network = plain['network_metadata']
        if network.get('physnets', {}).get('__set__') or \
                network.get('tunneled'):
            raise NotCompared('host cell with network NUMA affinity')
    return objects.NUMACell(
        id=plain['id'], cpuset=_value(plain.get('cpuset', {'__set__': []})),
        pcpuset=_value(plain.get('pcpuset', {'__set__': []})),
        siblings=_value(plain.get('siblings', [])),
        memory=plain['memory'], memory_usage=plain.get('memory_usage', 0),
        mempages=[objects.NUMAPagesTopology(
            size_kb=p['size_kb'], total=p['total'], used=p.get('used', 0),
            reserved=p.get('reserved', 0))
            for p in plain.get('mempages', [])],
        pinned_cpus=_value(plain.get('pinned_cpus', {'__set__': []})))


def _instance_cell(plain, index):
    # Upstream's tests leave out the id of a one-cell guest now and then.
    values = {'id': plain.get('id', index), 'memory': plain['memory']}
    for name in ('cpuset', 'pcpuset', 'pagesize', 'cpu_policy',
                 'cpu_thread_policy', 'cpuset_reserved'):
        if name in plain:
            values[name] = _value(plain[name])
    pinning = _value(plain.get('cpu_pinning_raw'))
    if pinning:
        values['cpu_pinning'] = {int(k): v for k, v in pinning.items()}
    return objects.InstanceNUMACell(**values)


def _object(plain):
    kind = plain['__obj__']
    if kind == 'Flavor':
        return _flavor(plain)
    if kind == 'ImageMeta':
        return _image(plain)
    if kind == 'NUMATopology':
        return objects.NUMATopology(
            cells=[_host_cell(c) for c in plain['cells']])
    if kind == 'InstanceNUMATopology':
        values = {'cells': [_instance_cell(c, index)
                            for index, c in enumerate(plain['cells'])]}
        if 'emulator_threads_policy' in plain:
            values['emulator_threads_policy'] = \
                plain['emulator_threads_policy']
        return objects.InstanceNUMATopology(**values)
    if kind == 'NUMATopologyLimits':
        network = plain.get('network_metadata')
        if network and (network.get('physnets', {}).get('__set__') or
                        network.get('tunneled')):
            raise NotCompared('limits with network NUMA affinity')
        return argparse.Namespace(
            cpu_allocation_ratio=plain.get('cpu_allocation_ratio'),
            ram_allocation_ratio=plain.get('ram_allocation_ratio'))
    if kind in ('InstancePCIRequests', 'PciDeviceStats'):
        raise NotCompared(kind)
    raise NotCompared('object %s' % kind)


def _args(record):
    args = [_value(a) if not (isinstance(a, dict) and '__repr__' in a)
            else _raise(NotCompared(a['__repr__'][:60]))
            for a in record['args']]
    kwargs = _value(record['kwargs'])
    # The series' strictness switch: this tree is always strict.
    kwargs.pop('strict', None)
    if record['func'] == 'numa_fit_instance_to_host':
        names = ['host_topology', 'instance_topology', 'provider_mapping',
                 'limits', 'pci_requests', 'pci_stats']
        kwargs.update(dict(zip(names, args)))
        args = []
        for name in ('pci_requests', 'pci_stats'):
            value = kwargs.get(name)
            if value is not None and (not isinstance(value, dict) or value):
                raise NotCompared(name)
            kwargs.pop(name, None)
    return args, kwargs


def _raise(exc):
    raise exc


# -- answers of both sides in one comparable form -------------------------

def _canon_topology(plain, fitted):
    cells = []
    for cell in plain['cells']:
        entry = {'memory': cell.get('memory'),
                 'pagesize': cell.get('pagesize')}
        if fitted:
            entry['host_cell'] = cell.get('id')
            pinning = cell.get('cpu_pinning_raw', cell.get('cpu_pinning'))
            entry['pinning'] = sorted(
                [int(k), v] for k, v in (pinning or {}).items()) \
                if isinstance(pinning, dict) else None
            entry['reserved'] = cell.get('cpuset_reserved')
        else:
            entry.update(id=cell.get('id'), cpuset=cell.get('cpuset'),
                         pcpuset=cell.get('pcpuset'),
                         cpu_policy=cell.get('cpu_policy'),
                         cpu_thread_policy=cell.get('cpu_thread_policy'))
        cells.append(entry)
    return {'cells': cells,
            'emulator_threads_policy': plain.get('emulator_threads_policy')}


def _plain_ours(value, fitted):
    """nova-realtime's answer in the JSON form of upstream_side._plain."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (set, frozenset)):
        return {'__set__': sorted(value)}
    cells = []
    for cell in value.cells:
        plain = {'id': cell.host_node if fitted else cell.id,
                 'memory': cell.memory, 'pagesize': cell.pagesize,
                 'cpuset': {'__set__': sorted(cell.cpuset)},
                 'pcpuset': {'__set__': sorted(cell.pcpuset)},
                 'cpu_policy': cell.cpu_policy,
                 'cpu_thread_policy': cell.cpu_thread_policy,
                 'cpu_pinning': cell.cpu_pinning,
                 'cpuset_reserved': {'__set__': sorted(cell.cpuset_reserved)}
                 if cell.cpuset_reserved is not None else None}
        cells.append(plain)
    return {'cells': cells,
            'emulator_threads_policy': value.emulator_threads_policy}


def _canon(func, plain):
    if isinstance(plain, dict) and '__raises__' in plain:
        return {'raises': plain['__raises__'], 'mro': plain['mro']}
    if isinstance(plain, dict) and 'cells' in plain:
        if isinstance(plain['cells'], list) and plain['cells'] and \
                'cpu_pinning_raw' in plain['cells'][0]:
            for cell in plain['cells']:
                raw = _value(cell['cpu_pinning_raw'])
                cell['cpu_pinning_raw'] = raw
        fitted = func == 'numa_fit_instance_to_host'
        return _canon_topology(plain, fitted)
    return plain


def _ours(func, args, kwargs):
    try:
        value = getattr(hardware, func)(*args, **kwargs)
    except Exception as e:
        mro = [cls.__name__ for cls in type(e).__mro__]
        return {'raises': type(e).__name__, 'mro': mro, 'message': str(e)}
    return _canon(func, _plain_ours(value,
                                    func == 'numa_fit_instance_to_host'))


def _same(ours, up):
    if isinstance(up, dict) and 'raises' in up:
        return isinstance(ours, dict) and 'raises' in ours and \
            up['raises'] in ours['mro']
    return ours == up


# -- differences by design --------------------------------------------------

def _specs(record):
    flavor = next((a for a in record['args'] if isinstance(a, dict) and
                   a.get('__obj__') == 'Flavor'), None)
    if flavor is None:
        return {}
    return {k: str(v) for k, v in
            _value(flavor.get('extra_specs', {'__dict__': []})).items()}


def _props(record):
    image = next((a for a in record['args'] if isinstance(a, dict) and
                  a.get('__obj__') == 'ImageMeta'), None)
    if image is None:
        return {}
    return {k: v for k, v in image.get('properties', {}).items()
            if k != '__obj__'}


def _raises(result, *names):
    return isinstance(result, dict) and result.get('raises') in names


def _is_true(value):
    return str(value).lower() in ('1', 'yes', 'true', 'on', 'y', 't')


def _realtime_without_mask(record, ours, up):
    specs = _specs(record)
    return (_is_true(specs.get('hw:cpu_realtime')) and
            'hw:cpu_realtime_mask' not in specs and
            'hw_cpu_realtime_mask' not in _props(record) and
            ours != up)


def _emulator_share_unpinned(record, ours, up):
    specs = _specs(record)
    policy = specs.get('hw:cpu_policy') or _props(record).get(
        'hw_cpu_policy')
    return (specs.get('hw:emulator_threads_policy') == 'share' and
            policy in (None, 'shared') and
            _raises(ours, 'BadRequirementEmulatorThreadsPolicy'))


def _placement_keys(record, ours, up):
    return record['func'] == 'numa_get_constraints' and (
        any(key.startswith(('resources', 'trait')) and
            ('VCPU' in key or 'PCPU' in key or 'HYPERTHREADING' in key)
            for key in _specs(record)) or
        'traits_required' in _props(record))


def _vpmem(record, ours, up):
    return record['func'] == 'numa_get_constraints' and \
        'hw:pmem' in _specs(record)


def _fitted_both(ours, up):
    return all(isinstance(x, dict) and 'cells' in x for x in (ours, up))


def _pinning_choice(record, ours, up):
    if record['func'] != 'numa_fit_instance_to_host' or \
            not _fitted_both(ours, up):
        return False

    def placement(result):
        return [(c['host_cell'], c['memory'], c['pagesize'],
                 len(c['pinning'] or ()), len((c['reserved'] or {}).get(
                     '__set__', ()))) for c in result['cells']]
    return placement(ours) == placement(up)


def _host_cell_order(record, ours, up):
    if record['func'] != 'numa_fit_instance_to_host' or \
            not _fitted_both(ours, up):
        return False
    return sorted(c['host_cell'] for c in ours['cells']) != \
        sorted(c['host_cell'] for c in up['cells']) or \
        [c['host_cell'] for c in ours['cells']] != \
        [c['host_cell'] for c in up['cells']]


def _guest_cells(record):
    guest = record['args'][1] if len(record['args']) > 1 else \
        _value(record['kwargs']).get('instance_topology')
    return guest, guest.get('emulator_threads_policy') if guest else None


def _emulator_whole_core(record, ours, up):
    if record['func'] != 'numa_fit_instance_to_host' or ours is not None:
        return False
    guest, emulator = _guest_cells(record)
    return emulator == 'isolate' and any(
        c.get('cpu_thread_policy') == 'isolate' for c in guest['cells'])


def _isolate_on_smt(record, ours, up):
    """Upstream refused isolate on a host cell with SMT threads.

    Upstream refuses it where the host cell's cpuset differs from its
    pcpuset (bug 1889633: it relies on Placement to keep such requests off
    SMT hosts); nova-realtime gives each vCPU a whole free core.
    """
    if record['func'] != 'numa_fit_instance_to_host' or up is not None \
            or not (isinstance(ours, dict) and 'cells' in ours):
        return False
    guest, _emulator = _guest_cells(record)
    if not any(c.get('cpu_thread_policy') == 'isolate'
               for c in guest['cells']):
        return False
    host = {c['id']: c for c in record['args'][0]['cells']}
    for fitted in ours['cells']:
        cell = host[fitted['host_cell']]
        if any(len(sib) > 1 for sib in _value(cell['siblings'])) and \
                _value(cell['cpuset']) != _value(cell['pcpuset']):
            return True
    return False


def _memory_overcommit(record, ours, up):
    """Upstream placed an unpinned guest cell on too little free memory.

    Free memory: the host cell's memory - memory_usage.
    """
    if record['func'] != 'numa_fit_instance_to_host' or ours is not None \
            or not (isinstance(up, dict) and 'cells' in up):
        return False
    host = {c['id']: c for c in record['args'][0]['cells']}
    guest, _emulator = _guest_cells(record)
    for fitted, asked in zip(up['cells'], guest['cells']):
        cell = host[fitted['host_cell']]
        if asked.get('cpu_policy') in (None, 'shared') and \
                cell['memory'] - cell.get('memory_usage', 0) < \
                asked['memory']:
            return True
    return False


def _strict(record):
    return bool(_value(record['kwargs']).get('strict'))


def _mask_outside(record, ours, up):
    return (record['func'] == 'get_realtime_cpu_constraint' and
            _raises(ours, 'RealtimeMaskNotFoundOrInvalid') and
            'outside' in ours.get('message', '') and
            not _raises(up, 'RealtimeMaskNotFoundOrInvalid'))


def _mask_outside_flavor(record, ours, up):
    """A mask naming vCPUs the flavor does not have: refused, naming them.

    What the API validates (upstream with the series: ``strict=True``).
    """
    return _mask_outside(record, ours, up) and _strict(record)


def _mask_outside_flavor_compute(record, ours, up):
    """The same mask where upstream with the series is not strict.

    Its compute and scheduler paths keep accepting a mask excluding absent
    vCPUs, so instances created before the series keep booting.
    """
    return _mask_outside(record, ours, up) and not _strict(record)


def _spec_bounds(record, ours, up):
    """A hostile CPU spec: refused at once, where upstream expands it."""
    return (record['func'] in ('parse_cpu_spec',
                               'get_realtime_cpu_constraint') and
            isinstance(ours, dict) and 'Invalid' in ours.get('mro', ()) and
            _raises(up, 'MemoryError', 'OverflowError'))


def _cpu_spec_limits(record, ours, up):
    """CPU numbers above 4095, specs over 4096 characters: refused here."""
    message = ours.get('message', '') if isinstance(ours, dict) else ''
    return (record['func'] in ('parse_cpu_spec',
                               'get_realtime_cpu_constraint') and
            ('above the highest CPU number' in message or
             'longer than' in message) and
            not _raises(up, 'MemoryError', 'OverflowError'))


def _error_names_key(record, ours, up):
    """A bad value of a flavor key or image property: both refuse it.

    Ours is the error of the key, naming it; upstream's is another Invalid
    (InvalidCPUSpec quoting the value, with the series).
    """
    return (isinstance(ours, dict) and 'Invalid' in ours.get('mro', ()) and
            isinstance(up, dict) and 'Invalid' in up.get('mro', ()) and
            record['func'] in ('numa_get_constraints',
                               'get_dedicated_cpu_constraint',
                               'get_realtime_cpu_constraint'))


# (label, reason, nova-realtime test pinning it, predicate, the subject of
# the patch in upstream/patches that carries it, or None): each predicate
# matches one documented difference only. compare.py --series (against the
# patched upstream) accepts only the differences the series does not carry.
DESIGN = [
    ('default real-time mask ^0',
     'hw:cpu_realtime=yes without a mask makes every vCPU but vCPU 0 real '
     'time, whatever the emulator threads policy (upstream: every vCPU '
     'with a policy, refused without one)',
     'test_hardware.RealtimeTest.test_default_mask_keeps_vcpu0',
     _realtime_without_mask, None),
    ('emulator share needs pinning',
     'hw:emulator_threads_policy=share without dedicated/mixed CPUs is '
     'refused (upstream ignores it)',
     'test_hardware.ThreadAndEmulatorPolicyTest.'
     'test_emulator_share_needs_dedicated',
     _emulator_share_unpinned, None),
    ('placement-only CPU keys',
     'resources:VCPU/PCPU and trait:HW_CPU_HYPERTHREADING (or an image\'s '
     'traits_required) neither set nor check the CPU or thread policy: '
     'nova-realtime has no placement; say hw:cpu_policy / '
     'hw:cpu_thread_policy',
     'test_hardware.NUMAConstraintsTest.test_placement_keys_ignored',
     _placement_keys, None),
    ('no vPMEM',
     'hw:pmem (virtual persistent memory) is not supported, so it asks '
     'for no NUMA topology',
     'test_hardware.NUMAConstraintsTest.test_placement_keys_ignored',
     _vpmem, None),
    ('pCPU choice',
     'same host cells, page sizes and pCPU counts, other pCPUs: prefer '
     'packs onto the fewest cores, isolate takes the lowest whole free '
     'cores, the emulator pCPU comes after the vCPUs',
     'test_hardware_fit.FitDedicatedTest.test_prefer_packs_onto_siblings',
     _pinning_choice, None),
    ('host cell order',
     'host cells are tried lowest id first (pack); upstream by default '
     'spreads over the least used cells first '
     '([compute] packing_host_numa_cells_allocation_strategy=False)',
     'test_hardware_fit.FitNUMATest.test_prefers_low_host_cells',
     _host_cell_order, None),
    ('emulator pCPU on a whole core',
     'hw:emulator_threads_policy=isolate with hw:cpu_thread_policy=isolate '
     'gives the emulator threads a whole free core too (upstream: any free '
     'thread, whose sibling may run another guest)',
     'test_hardware_fit.FitDedicatedTest.test_isolate_emulator_whole_core',
     _emulator_whole_core, None),
    ('isolate on SMT hosts',
     'hw:cpu_thread_policy=isolate on a host cell with SMT threads gives '
     'each vCPU a whole free core and claims its siblings (upstream refuses '
     'it where cpuset differs from pcpuset, bug 1889633, and keeps such '
     'requests off SMT hosts through Placement)',
     'test_hardware_fit.FitDedicatedTest.test_isolate',
     _isolate_on_smt, None),
    ('no memory overcommit',
     'a guest cell needs its memory free on the host cell (memory - '
     'memory_usage), also for floating vCPUs and whatever '
     'ram_allocation_ratio says; upstream without limits compares with the '
     'cell\'s total memory, and with limits allows the ratio',
     'test_hardware_fit.UpstreamSignatureTest.'
     'test_limits_bound_floating_cells',
     _memory_overcommit, None),
    ('mask outside the flavor',
     'a real-time mask naming a vCPU the flavor does not have is refused '
     'with the vCPUs and the flavor\'s range (upstream ignores an excluded '
     'one and refuses an included one with a generic message)',
     'test_hardware.RealtimeTest.test_vcpu_outside_flavor',
     _mask_outside_flavor, 'hardware: Refuse real-time masks naming absent '
     'vCPUs'),
    ('mask outside the flavor, existing instances',
     'upstream with the series still accepts a mask excluding absent vCPUs '
     'outside the API (strict=False on the compute and scheduler paths), '
     'so instances created before the series keep booting; this tree '
     'refuses it everywhere',
     'test_hardware.RealtimeTest.test_vcpu_outside_flavor',
     _mask_outside_flavor_compute, None),
    ('bounded CPU specs',
     'a CPU spec or mask with a huge range or number is refused before '
     'any set is built (upstream expands it until MemoryError)',
     'test_hardware_parse.ParseCPUSpecTest.'
     'test_huge_numbers_fail_without_expanding',
     _spec_bounds, 'hardware: Bound the CPU spec parser'),
    ('errors name the key',
     'a bad value of a flavor extra spec or image property (a hostile CPU '
     'spec, text XML cannot carry) is refused by both, here with the error '
     'of that key, naming it (upstream: another Invalid, e.g. '
     'InvalidCPUSpec quoting the value)',
     'test_hardware_parse.ParsePropertyCPUSpecTest.'
     'test_error_names_property_value_and_part',
     _error_names_key, None),
    ('CPU spec limits',
     'CPU numbers above 4095 and CPU specs longer than 4096 characters are '
     'refused (the series, for every Nova host, allows what Linux allows)',
     'test_hardware_parse.ParseCPUSpecTest.'
     'test_huge_numbers_fail_without_expanding',
     _cpu_spec_limits, None),
]


def _classify(record, ours, up, design=True, series=False):
    if _same(ours, up):
        return 'agree', None
    for label, _reason, _test, predicate, slug in DESIGN if design else ():
        if series and slug:
            continue
        if predicate(record, ours, up):
            return 'differ-by-design', label
    return 'differ-unexpected', None


def _run_upstream(python, tree=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('PYTHON', 'VIRTUAL_ENV'))}
    env['PYTHONWARNINGS'] = 'ignore'
    if tree:
        env['PYTHONPATH'] = tree
    proc = subprocess.run(
        [python, os.path.join(HERE, 'upstream_side.py')],
        capture_output=True, text=True, env=env, cwd=HERE, timeout=1200)
    if proc.returncode:
        sys.exit('upstream side failed (%d):\n%s' %
                 (proc.returncode, proc.stderr[-3000:]))
    return [json.loads(line) for line in proc.stdout.splitlines() if line]


def _show(value, limit=160):
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + '...'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--upstream-python', default=DEFAULT_UPSTREAM_PYTHON)
    parser.add_argument('--upstream-tree', metavar='DIR',
                        help='Import upstream nova from this source tree '
                             '(e.g. .upstream/series, the patched one).')
    parser.add_argument('--series', action='store_true',
                        help='Upstream is patched with upstream/patches: '
                             'a difference the series carries is '
                             'unexpected.')
    parser.add_argument('--json', metavar='FILE',
                        help='Also write every case to FILE.')
    parser.add_argument('-v', '--verbose', action='store_true',
                        help='List every by-design difference too.')
    parser.add_argument('--no-design', action='store_true',
                        help='Count every difference as unexpected (to '
                             'review the DESIGN list).')
    args = parser.parse_args(argv)
    objects.register_all()
    records = _run_upstream(
        os.path.abspath(args.upstream_python),
        os.path.abspath(args.upstream_tree) if args.upstream_tree else None)
    table = collections.OrderedDict()
    cases = []
    for record in records:
        func = record['func']
        row = table.setdefault(func, collections.Counter())
        try:
            call_args, kwargs = _args(record)
        except NotCompared as e:
            row['not compared'] += 1
            cases.append(dict(record, outcome='not compared', why=str(e)))
            continue
        except exception.NovaException as e:
            # nova-realtime refuses the input itself (an image property it
            # validates when the image is built): that is its answer.
            ours = {'raises': type(e).__name__,
                    'mro': [c.__name__ for c in type(e).__mro__],
                    'message': str(e)}
        else:
            ours = _ours(func, call_args, kwargs)
        up = _canon(func, record['result'])
        outcome, label = _classify(record, ours, up, not args.no_design,
                                   args.series)
        row['cases'] += 1
        row[outcome] += 1
        cases.append(dict(record, outcome=outcome, design=label,
                          ours=ours, upstream=up))
    columns = ['cases', 'agree', 'differ-by-design', 'differ-unexpected',
               'not compared']
    print('%-40s %s' % ('function', ' '.join('%17s' % c for c in columns)))
    total = collections.Counter()
    for func, row in table.items():
        total.update(row)
        print('%-40s %s' % (func, ' '.join('%17d' % row[c]
                                           for c in columns)))
    print('%-40s %s' % ('total', ' '.join('%17d' % total[c]
                                          for c in columns)))
    print('\nDifferences by design:')
    labels = collections.Counter(c['design'] for c in cases
                                 if c['outcome'] == 'differ-by-design')
    for label, reason, test, _predicate, _slug in DESIGN:
        if labels[label]:
            print('  %3d  %s: %s\n       (nova.tests.unit.virt.%s)' %
                  (labels[label], label, reason, test))
    for case in cases:
        if case['outcome'] == 'differ-unexpected' or (
                args.verbose and case['outcome'] == 'differ-by-design'):
            print('\n%s %s [%s]%s\n  args:     %s\n  upstream: %s\n  ours:'
                  '     %s' % (case['outcome'], case['func'], case['test'],
                               ' (derived)' if case.get('derived') else '',
                               _show(case['args'], 400),
                               _show(case['upstream']), _show(case['ours'])))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'table': table, 'cases': cases}, f, indent=1,
                      default=str)
    return 1 if total['differ-unexpected'] else 0


if __name__ == '__main__':
    sys.exit(main())
