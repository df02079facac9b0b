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

"""Validators of the ``hw:`` extra specs.

The keys of the real-time path (CPU policies, real time, NUMA, pages, CPU
topology, PMU, locked memory) are applied by this driver; the other keys
Nova knows are validated with the same rules so that real flavors are
accepted, and each says what this driver does with it (see base.APPLIED ...).

Each value is given its meaning by nova.virt.hardware's parsers (from
nova.virt.hardware_parse); this module only says which parser a key uses
and adds the rules that hold for one key on its own. Rules
that tie keys together (real time needs a dedicated CPU policy, the mask must
leave a non-real-time vCPU, one hw:numa_cpus.N per node ...) need the whole
flavor and are hardware.numa_get_constraints' job.
"""

from nova import exception
from nova.i18n import _
from nova.objects import fields
from nova.virt.extra_specs import base
from nova.virt import hardware_parse

_MAX_MEMORY_MB = hardware_parse.MAX_GUEST_MEMORY_MB
_MAX_VCPUS = hardware_parse.MAX_GUEST_VCPUS

# A guest NUMA node number, written without leading zeros.
_NODE = base.ExtraSpecParameter(
    name='N', pattern=hardware_parse.NUMA_NODE_PATTERN,
    description='The guest NUMA node number, counting from 0; it must be '
                'below hw:numa_nodes.')


def _mask_vcpus(name, value):
    """hardware_parse.parse_vcpu_mask without a vCPU count; a malformed
    mask raises InvalidCPUSpec, which the validator reports with the
    accepted forms.
    """
    hardware_parse.parse_cpu_spec_parts(value)
    return hardware_parse.parse_vcpu_mask(name, value)


def _parse_realtime_mask(name, value):
    """A mask that leaves a real-time vCPU in some flavor.

    Which vCPUs exist is only known with the flavor, so a mask naming vCPU
    7 of a 4-vCPU flavor is left to hardware.numa_get_constraints.
    """
    if not _mask_vcpus(name, value):
        raise exception.InvalidProperty(
            name=name, value=value,
            reason=_('excludes every vCPU it lists, leaving no real-time '
                     'vCPU'))


def _parse_dedicated_mask(name, value):
    """A mask that leaves a dedicated vCPU in some flavor."""
    if not _mask_vcpus(name, value):
        raise exception.InvalidProperty(
            name=name, value=value,
            reason=_('names no vCPU; list the dedicated vCPUs (0-1) or '
                     'exclude the shared ones (^0)'))


def _parse_node_cpus(name, value):
    if not hardware_parse.parse_property_cpu_spec(name, value):
        raise exception.InvalidProperty(
            name=name, value=value,
            reason=_('names no vCPU; a guest NUMA node needs at least one, '
                     'e.g. 0-1'))


def _parse_page_size(name, value):
    hardware_parse.parse_mem_page_size(name, value)


VALIDATORS = (
    base.ExtraSpecValidator(
        name='hw:cpu_policy',
        description=(
            'How guest vCPUs are placed on host CPUs. "dedicated" pins each '
            'vCPU to its own host CPU from [compute] cpu_dedicated_set, '
            'which no other guest vCPU will use; "shared" lets vCPUs float '
            'over [compute] cpu_shared_set together with other guests; '
            '"mixed" pins the vCPUs of hw:cpu_dedicated_mask (or the '
            'real-time vCPUs of hw:cpu_realtime_mask) and lets the others '
            'float. Real-time guests (hw:cpu_realtime) must be "dedicated". '
            'An '
            'image may request the same with hw_cpu_policy, but may not '
            'contradict the flavor.'),
        value={'type': 'str',
               'description': 'dedicated, shared or mixed',
               'enum': fields.CPUAllocationPolicy.ALL},
        applies=base.APPLIED),
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
               'enum': fields.CPUThreadAllocationPolicy.ALL},
        applies=base.APPLIED),
    base.ExtraSpecValidator(
        name='hw:cpu_realtime',
        description=(
            'Whether the guest is a real-time guest: its real-time vCPUs '
            '(see hw:cpu_realtime_mask) run under the FIFO scheduler at '
            '[libvirt] realtime_scheduler_priority and its memory is locked '
            'in host RAM. Requires hw:cpu_policy=dedicated and a host '
            'prepared for real time, so use it on flavors tied to a '
            'real-time host aggregate.'),
        value={'type': 'bool', 'description': base.BOOL_DESCRIPTION},
        applies=base.APPLIED),
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
               'parse': _parse_realtime_mask},
        applies=base.APPLIED),
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
               'enum': fields.CPUEmulatorThreadsPolicy.ALL},
        applies=base.APPLIED),
    base.ExtraSpecValidator(
        name='hw:numa_nodes',
        description=(
            'The number of guest NUMA nodes; each is placed on its own host '
            'NUMA node. Unless hw:numa_cpus.N and hw:numa_mem.N say '
            'otherwise, vCPUs and memory are split evenly over the nodes.'),
        value={'type': 'int',
               'description': 'an integer of at least 1 and at most the '
                              'flavor\'s vCPUs (%d at most)' % _MAX_VCPUS,
               'min': 1, 'max': _MAX_VCPUS},
        applies=base.APPLIED),
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
               'parse': _parse_node_cpus},
        applies=base.APPLIED),
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
               'min': 1, 'max': _MAX_MEMORY_MB},
        applies=base.APPLIED),
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
               'parse': _parse_page_size},
        applies=base.APPLIED),
)


def _topology(name, what):
    return base.ExtraSpecValidator(
        name='hw:cpu_%s' % name,
        description=what,
        value={'type': 'int',
               'description': 'an integer of at least 1 (%d at most)'
                              % _MAX_VCPUS,
               'min': 1, 'max': _MAX_VCPUS},
        applies=base.APPLIED)


def _flag(name, description, applies=base.NOT_APPLIED, **kwargs):
    return base.ExtraSpecValidator(
        name=name, description=description,
        value={'type': 'bool', 'description': base.BOOL_DESCRIPTION},
        applies=applies, **kwargs)


def _choice(name, description, enum, applies=base.NOT_APPLIED, **kwargs):
    return base.ExtraSpecValidator(
        name=name, description=description,
        value={'type': 'str', 'description': ', '.join(enum),
               'enum': tuple(enum)},
        applies=applies, **kwargs)


# Why a refused key is refused: what the guest would silently lack.
_NO_MEM_ENCRYPTION = _(
    'the guest memory would not be encrypted; this driver does not build '
    'AMD SEV or Intel TDX guests')
_NO_TPM = _('the guest would have no virtual TPM (no measured boot, no '
            'sealed secrets)')

TOPOLOGY_VALIDATORS = (
    _topology('sockets', (
        'The number of CPU sockets the guest should see (a preference). '
        'The driver picks the topology closest to the preferences whose '
        'sockets x cores x threads equals the flavor vCPUs; the '
        'preferences must not exceed hw:cpu_max_*, and an image may set '
        'its own with hw_cpu_sockets within those maxima.')),
    _topology('cores', (
        'The number of cores per socket the guest should see (a '
        'preference, read as hw:cpu_sockets is); an image may set its own '
        'with hw_cpu_cores within hw:cpu_max_cores.')),
    _topology('threads', (
        'The number of threads per core the guest should see (a '
        'preference, read as hw:cpu_sockets is; 1 shows no SMT to the '
        'guest); an image may set its own with hw_cpu_threads within '
        'hw:cpu_max_threads.')),
    _topology('max_sockets', (
        'The most CPU sockets an image may ask for with hw_cpu_sockets; '
        'it caps the image, it does not set the topology by itself.')),
    _topology('max_cores', (
        'The most cores per socket an image may ask for with '
        'hw_cpu_cores; it caps the image, it does not set the topology by '
        'itself.')),
    _topology('max_threads', (
        'The most threads per core an image may ask for with '
        'hw_cpu_threads; it caps the image, it does not set the topology '
        'by itself.')),
)

OTHER_VALIDATORS = (
    base.ExtraSpecValidator(
        name='hw:cpu_dedicated_mask',
        description=(
            'With hw:cpu_policy=mixed, which guest vCPUs are pinned to '
            'dedicated host CPUs; the others float over the shared host '
            'CPUs. Written as a CPU mask over vCPU numbers: 2-3 pins vCPUs '
            '2 and 3, ^0 pins every vCPU but 0. Not used together with '
            'hw:cpu_realtime_mask, which marks the pinned vCPUs of a mixed '
            'real-time guest.'),
        value={'type': 'str',
               'description': 'a CPU mask of guest vCPUs: comma-separated '
                              'N, A-B, ^N or ^A-B, e.g. 2-3 or ^0',
               'parse': _parse_dedicated_mask},
        applies=base.APPLIED),
    _flag('hw:pmu', (
        'Whether the guest gets a virtual performance monitoring unit. '
        'Turning it off removes a source of guest exits and jitter that '
        'real-time guests rarely need; turning it on lets guest profilers '
        'such as perf count hardware events.'), applies=base.APPLIED),
    _flag('hw:locked_memory', (
        'Whether the guest memory is locked in host RAM, so that it is '
        'never swapped or moved. Needs huge pages (hw:mem_page_size) as '
        'locked small pages cannot be accounted; real-time guests have '
        'their memory locked whatever this key says.'),
        applies=base.APPLIED),
    # Not applied: the guest boots without these, visibly so, and none of
    # them weakens what a real-time or security promise relies on.
    _flag('hw:boot_menu', (
        'Whether the guest firmware shows its boot menu before booting, '
        'so that a console user can pick the boot device. This driver '
        'boots without a menu.')),
    _flag('hw:hide_hypervisor_id', (
        'Whether the guest is told that it runs under a hypervisor (the '
        'KVM signature and the hypervisor CPUID bit); some guest drivers '
        'refuse to work when they see it. This driver does not hide it.')),
    _flag('hw:vif_multiqueue_enabled', (
        'Whether virtio network interfaces get one queue pair per vCPU '
        'instead of one, spreading packet processing over the vCPUs. '
        'This driver builds guests without network interfaces of its '
        'own.')),
    _flag('hw:virtio_packed_ring', (
        'Whether virtio devices use the packed virtqueue layout, which '
        'needs support in the guest drivers and the host back ends. This '
        'driver keeps the split layout.')),
    base.ExtraSpecValidator(
        name='hw:serial_port_count',
        description=(
            'The number of serial ports the guest gets. This driver gives '
            'every guest one serial console logged to a file, whatever '
            'this key says.'),
        value={'type': 'int', 'description': 'an integer of at least 0',
               'min': 0}),
    base.ExtraSpecValidator(
        name='hw:redirected_usb_ports',
        description=(
            'The number of USB redirection channels, which let a SPICE '
            'client attach its local USB devices to the guest. This driver '
            'builds no SPICE console.'),
        value={'type': 'int', 'description': 'an integer from 0 to 15',
               'min': 0, 'max': 15}),
    _choice('hw:watchdog_action', (
        'What happens when the guest stops feeding an emulated watchdog '
        'device: reset, poweroff, pause, or none (only logged); disabled '
        'gives the guest no watchdog. This driver adds no watchdog '
        'device.'), ('none', 'pause', 'poweroff', 'reset', 'disabled')),
    _choice('hw:sound_model', (
        'The model of emulated sound card the guest gets. This driver '
        'gives guests no sound card; real-time guests have no use for '
        'one.'), ('sb16', 'es1370', 'pcspk', 'ac97', 'ich6', 'ich9', 'usb',
                  'virtio')),
    _choice('hw:usb_model', (
        'The model of USB controller the guest gets, or none for no '
        'controller at all. This driver leaves the controller to the '
        'libvirt defaults.'), ('none', 'nec-xhci', 'qemu-xhci')),
    _choice('hw:pci_numa_affinity_policy', (
        'How strictly PCI devices passed to the guest must sit on the '
        'host NUMA nodes of the guest: required, preferred, legacy or '
        'socket. This driver passes no PCI device (pci_passthrough:alias '
        'is refused), so the policy has nothing to place.'),
        ('required', 'preferred', 'legacy', 'socket')),
    _choice('hw:ephemeral_encryption_format', (
        'The on-disk format of encrypted ephemeral disks (plain, luks or '
        'luksv2); it only matters with hw:ephemeral_encryption, which '
        'this driver refuses.'), ('plain', 'luks', 'luksv2')),
    # Refused: the guest would silently lack a promised device or a
    # security property.
    _flag('hw:mem_encryption', (
        'Whether the guest memory is encrypted by the CPU, so that the '
        'host cannot read it. This driver cannot provide it, so a guest '
        'asking for it is not built.'),
        applies=base.REFUSED, reason=_NO_MEM_ENCRYPTION,
        refused_when=hardware_parse.is_true),
    _choice('hw:mem_encryption_model', (
        'Which CPU memory encryption the guest gets: AMD SEV, SEV-ES, '
        'SEV-SNP or Intel TDX. This driver cannot provide any, so a guest '
        'naming one is not built.'),
        ('amd-sev', 'amd-sev-es', 'amd-sev-snp', 'intel-tdx'),
        applies=base.REFUSED, reason=_NO_MEM_ENCRYPTION),
    _flag('hw:ephemeral_encryption', (
        'Whether the ephemeral disks of the guest are encrypted at rest '
        'on the host. This driver cannot provide it, so a guest asking '
        'for it is not built.'),
        applies=base.REFUSED,
        reason=_('the ephemeral disks would be stored unencrypted'),
        refused_when=hardware_parse.is_true),
    _choice('hw:tpm_version', (
        'The version of the emulated TPM the guest gets (1.2 or 2.0). '
        'This driver cannot provide a TPM, so a guest asking for one is '
        'not built.'), ('1.2', '2.0'),
        applies=base.REFUSED, reason=_NO_TPM),
    _choice('hw:tpm_model', (
        'The model of the emulated TPM the guest gets (tpm-tis or '
        'tpm-crb). This driver cannot provide a TPM, so a guest asking '
        'for one is not built.'), ('tpm-tis', 'tpm-crb'),
        applies=base.REFUSED, reason=_NO_TPM),
    _choice('hw:tpm_secret_security', (
        'Who may read the secret that protects the state of the emulated '
        'TPM: the user, the host or the deployment. This driver cannot '
        'provide a TPM, so a guest asking for one is not built.'),
        ('user', 'host', 'deployment'),
        applies=base.REFUSED, reason=_NO_TPM),
    _choice('hw:viommu_model', (
        'The model of virtual IOMMU the guest gets, which isolates the '
        'DMA of guest devices inside the guest (e.g. for vfio drivers). '
        'This driver cannot provide one, so a guest asking for it is not '
        'built.'), ('intel', 'smmuv3', 'virtio', 'auto'),
        applies=base.REFUSED,
        reason=_('the guest would have no virtual IOMMU, so in-guest '
                 'device isolation (vfio) would be missing')),
    base.ExtraSpecValidator(
        name='hw:pmem',
        description=(
            'The persistent memory namespaces the guest gets, as a '
            'comma-separated list of namespace labels configured on the '
            'host. This driver cannot provide persistent memory, so a '
            'guest asking for it is not built.'),
        value={'type': 'str',
               'description': 'comma-separated labels of letters, digits '
                              'and _, e.g. 4GB,SMALL',
               # Labels, each but the last followed by one comma (a
               # trailing comma is tolerated); written without nested
               # repetition so a long value cannot backtrack.
               'pattern': r'[a-zA-Z0-9_]+(,[a-zA-Z0-9_]+)*,?'},
        applies=base.REFUSED,
        reason=_('the guest would have no persistent memory')),
)

VALIDATORS = VALIDATORS + TOPOLOGY_VALIDATORS + OTHER_VALIDATORS
