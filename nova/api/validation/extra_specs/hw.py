"""Validators of the ``hw:`` extra specs of the real-time path.

Each value is given its meaning by nova.virt.hardware (imported when a value
is checked, since hardware imports nova.objects); this module only says which
parser a key uses and adds the rules that hold for one key on its own. Rules
that tie keys together (real time needs a dedicated CPU policy, the mask must
leave a non-real-time vCPU, one hw:numa_cpus.N per node ...) need the whole
flavor and are hardware.numa_get_constraints' job.
"""

from nova.api.validation.extra_specs import base
from nova import exception
from nova.i18n import _
from nova.objects import fields
from nova.virt import hardware_parse

_MAX_MEMORY_MB = hardware_parse.MAX_GUEST_MEMORY_MB
_MAX_VCPUS = hardware_parse.MAX_GUEST_VCPUS

# A guest NUMA node number, written without leading zeros.
_NODE = base.ExtraSpecParameter(
    name='N', pattern='0|[1-9][0-9]{0,2}',
    description='The guest NUMA node number, counting from 0; it must be '
                'below hw:numa_nodes.')


def _hardware():
    from nova.virt import hardware
    return hardware


def _parse_realtime(name, value):
    _hardware().parse_realtime_flag(name, value)


def _parse_realtime_mask(name, value):
    """Syntax, and the rules that hold whatever the flavor's vCPU count.

    Which vCPUs exist is only known with the flavor, so a mask naming vCPU
    7 of a 4-vCPU flavor is left to hardware.numa_get_constraints.
    """
    included, excluded = _hardware().parse_cpu_spec_parts(value)
    if not included and not excluded:
        raise exception.InvalidProperty(
            name=name, value=value,
            reason=_('names no vCPU; write the non-real-time vCPUs as '
                     'exclusions, e.g. ^0-1'))
    # Without a leading '^' the mask lists the real-time vCPUs themselves.
    if not value.strip().startswith('^') and not included - excluded:
        raise exception.InvalidProperty(
            name=name, value=value,
            reason=_('excludes every vCPU it lists, leaving no real-time '
                     'vCPU'))


def _parse_node_cpus(name, value):
    if not _hardware().parse_property_cpu_spec(name, value):
        raise exception.InvalidProperty(
            name=name, value=value,
            reason=_('names no vCPU; a guest NUMA node needs at least one, '
                     'e.g. 0-1'))


def _parse_page_size(name, value):
    _hardware().parse_mem_page_size(name, value)


VALIDATORS = (
    base.ExtraSpecValidator(
        name='hw:cpu_policy',
        description=(
            'How guest vCPUs are placed on host CPUs. "dedicated" pins each '
            'vCPU to its own host CPU from [compute] cpu_dedicated_set, '
            'which no other guest vCPU will use; "shared" lets vCPUs float '
            'over [compute] cpu_shared_set together with other guests. '
            'Real-time guests (hw:cpu_realtime) must be "dedicated". An '
            'image may request the same with hw_cpu_policy, but may not '
            'contradict the flavor.'),
        value={'type': 'str',
               'description': 'dedicated or shared',
               'enum': fields.CPUAllocationPolicy.ALL}),
    base.ExtraSpecValidator(
        name='hw:cpu_thread_policy',
        description=(
            'How pinned vCPUs use the SMT siblings (hyper-threads) of a '
            'host core; only meaningful with hw:cpu_policy=dedicated. '
            '"prefer" may place vCPUs on sibling threads, and other guests '
            'may use the siblings left over; "isolate" gives each vCPU a '
            'core of its own, keeping every vCPU (of any guest) off its '
            'siblings; "require" places the vCPUs on whole cores, every '
            'sibling of a core going to this guest.'),
        value={'type': 'str',
               'description': 'prefer, isolate or require',
               'enum': fields.CPUThreadAllocationPolicy.ALL}),
    base.ExtraSpecValidator(
        name='hw:cpu_realtime',
        description=(
            'Whether the guest is a real-time guest: its real-time vCPUs '
            '(see hw:cpu_realtime_mask) run under the FIFO scheduler at '
            '[libvirt] realtime_scheduler_priority and its memory is locked '
            'in host RAM. Requires hw:cpu_policy=dedicated and a host '
            'prepared for real time, so use it on flavors tied to a '
            'real-time host aggregate.'),
        value={'type': 'bool',
               'description': 'yes, no, true, false, on, off, 1 or 0, in '
                              'any case',
               'parse': _parse_realtime}),
    base.ExtraSpecValidator(
        name='hw:cpu_realtime_mask',
        description=(
            'Which vCPUs of a real-time guest are real time, as a CPU mask '
            'over the guest vCPU numbers. The usual form excludes the '
            'housekeeping vCPUs: ^0-1 makes every vCPU but 0 and 1 real '
            'time. A mask not starting with ^ lists the real-time vCPUs '
            'themselves (2-3, or 0-3,^0). Without this key every vCPU but '
            'vCPU 0 is real time. The non-real-time vCPUs also carry the '
            'QEMU emulator threads, so at least one must remain unless '
            'hw:emulator_threads_policy gives those threads host CPUs of '
            'their own. An image property hw_cpu_realtime_mask overrides '
            'this key.'),
        value={'type': 'str',
               'description': 'a CPU mask of guest vCPUs: comma-separated N, '
                              'A-B, ^N or ^A-B, e.g. ^0-1',
               'parse': _parse_realtime_mask}),
    base.ExtraSpecValidator(
        name='hw:emulator_threads_policy',
        description=(
            'Where the QEMU emulator threads of a guest with '
            'hw:cpu_policy=dedicated run. "share" runs them on the host '
            'CPUs of [compute] cpu_shared_set; a real-time guest asking for '
            'it starts only on hosts where that option is set. "isolate" '
            'reserves one more dedicated host CPU for them alone, so the '
            'guest takes one host CPU more than it has vCPUs. When unset, '
            'a real-time guest runs them on its non-real-time vCPUs.'),
        value={'type': 'str',
               'description': 'share or isolate',
               'enum': fields.CPUEmulatorThreadsPolicy.ALL}),
    base.ExtraSpecValidator(
        name='hw:numa_nodes',
        description=(
            'The number of guest NUMA nodes; each is placed on its own host '
            'NUMA node. Unless hw:numa_cpus.N and hw:numa_mem.N say '
            'otherwise, vCPUs and memory are split evenly over the nodes.'),
        value={'type': 'int',
               'description': 'an integer of at least 1 and at most the '
                              'flavor\'s vCPUs (%d at most)' % _MAX_VCPUS,
               'min': 1, 'max': _MAX_VCPUS}),
    base.ExtraSpecValidator(
        name='hw:numa_cpus.{N}',
        parameters=[_NODE],
        description=(
            'The guest vCPUs of guest NUMA node N, for an uneven split. Set '
            'it for every node 0 .. hw:numa_nodes-1, together with '
            'hw:numa_mem.N, so that each vCPU is in exactly one node.'),
        value={'type': 'str',
               'description': 'a CPU spec of guest vCPUs: comma-separated '
                              'N, A-B, ^N or ^A-B, e.g. 0-1 or 0-3,^2',
               'parse': _parse_node_cpus}),
    base.ExtraSpecValidator(
        name='hw:numa_mem.{N}',
        parameters=[_NODE],
        description=(
            'The guest memory of guest NUMA node N in MiB, for an uneven '
            'split. Set it for every node 0 .. hw:numa_nodes-1, together '
            'with hw:numa_cpus.N; the sizes must add up to the flavor '
            'memory.'),
        value={'type': 'int',
               'description': 'an integer number of MiB, at least 1 and at '
                              'most %d (16 TiB)' % _MAX_MEMORY_MB,
               'min': 1, 'max': _MAX_MEMORY_MB}),
    base.ExtraSpecValidator(
        name='hw:mem_page_size',
        description=(
            'The size of the host pages that back guest memory. "small" '
            'uses the normal pages of the host, "large" the largest huge '
            'pages available, "any" lets the driver choose, and a size '
            'asks for huge pages of exactly that size, which must be '
            'reserved on the host. Real-time guests want huge pages.'),
        value={'type': 'str',
               'description': 'small, large, any, or a page size: a number '
                              'of KiB (2048) or with a binary unit (2MB, '
                              '1GB)',
               'parse': _parse_page_size}),
)
