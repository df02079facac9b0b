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

"""Guest CPU model, CPU features, PMU and locked-memory bounds: pure rules.

Every function takes what it needs as arguments (the [libvirt] options,
the flavor extra specs and image properties as plain mappings, what the
host's libvirt knows): no nova.conf, no libvirt connection, no file. The
driver reads those and passes them in.

What a real-time guest gets, after libvirt's "KVM Real Time Guest Config"
guide (https://libvirt.org/kbase/kvm-realtime.html):

* on ``kvm``, ``host-passthrough`` unless [libvirt] cpu_mode says otherwise;
* the ``tsc-deadline`` CPU feature required: the guest kernel programs its
  timer interrupts through the TSC deadline timer, and without it falls
  back to the far slower, exit-heavy LAPIC timer;
* its virtual PMU off (``<pmu state='off'/>``) unless the flavor or image
  asks for it with hw:pmu / hw_pmu: the PMU's MSR accesses trap to the
  host and add latency;
* no USB controller (``<controller type='usb' model='none'/>``): the
  default UHCI/xHCI controller polls from a QEMU timer;
* ``<locked/>`` memory bounded by ``<memtune><hard_limit>`` (see
  locked_memory_limit_kib).
"""

import re

from lxml import etree

from nova import exception
from nova.i18n import _
from nova.virt import hardware_parse
from nova.virt.libvirt import config as vconfig

CPU_MODES = ('host-model', 'host-passthrough', 'custom', 'none')
# Virt types whose guests have a selectable CPU model.
MODEL_VIRT_TYPES = ('kvm', 'qemu', 'test')

# Required by real-time guests (see the module docstring).
REALTIME_CPU_FEATURES = ('tsc-deadline',)

# libvirt CPU feature names: lowercase letters, digits, '-', '_' and '.'
# (cpu_map/x86_features.xml has names such as 'tsc-deadline', 'avx512f',
# 'pclmuldq', 'sse4.1').
_FEATURE_NAME_RE = re.compile(r'^[a-z0-9][a-z0-9_.\-]{0,63}$')

# -- locked memory bounds ---------------------------------------------------
#
# <locked/> without <memtune><hard_limit> makes libvirt lift QEMU's
# RLIMIT_MEMLOCK entirely (libvirt's domain XML documentation, "Memory
# Backing": with locked memory "it may be necessary to set the hard_limit
# ... otherwise the limit is set to unlimited"); with hard_limit, libvirt
# uses it as the memlock limit and as the memory cgroup's limit of the
# whole QEMU process. (libvirt 9.0 sets that memlock limit from hard_limit
# even without <locked/>: on a host whose libvirt lacks CAP_SYS_RESOURCE a
# guest with <memtune> fails to start with "cannot limit locked memory of
# process N to <hard_limit in bytes>", as <locked/> alone does; so a
# <memtune> goes with <locked/> only.) Too low a limit makes QEMU fail to
# lock its memory or be killed by the kernel's OOM killer, so the overhead
# above guest RAM is generous:
#
# Measured on this project's CI host (QEMU 7.2, libvirt 9.0, TCG, a
# diskless guest with a serial console, no balloon, no USB): the mappings
# QEMU could lock (everything but PROT_NONE guard regions) beyond guest RAM
# were 1156220 KiB for 2 vCPUs and 256 MiB RAM, 1174864 KiB for 4 vCPUs and
# 1 GiB RAM; 1 GiB of that is TCG's translation buffer (16 rwx regions),
# the rest (105-123 MiB: binary and libraries, heap, one 8 MiB stack per
# thread) does not depend on RAM and grows by about 9 MiB per vCPU. At
# idle, VmRSS was 38-39 MB with VmLck 0 (no <locked/>: this host cannot
# grant it) and VmPeak 1.6-2.5 GB (guest RAM reserved, barely touched).
#
# So: 1 GiB base overhead, which is also what libvirt itself adds to guest
# RAM when it must compute a memlock limit (for VFIO devices) and 8x the
# measured non-RAM mappings of a small guest; plus 16 MiB per vCPU (the
# measured 9 MiB per vCPU rounded up: thread stack, vCPU state, KVM's
# per-vCPU run area); plus 1 GiB more with TCG (virt_type qemu), whose
# translation buffer is locked too.
LOCKED_OVERHEAD_KIB = 1024 * 1024
LOCKED_OVERHEAD_PER_VCPU_KIB = 16 * 1024
TCG_TRANSLATION_BUFFER_KIB = 1024 * 1024


def locked_memory_limit_kib(memory_kib, vcpus, virt_type):
    """<memtune><hard_limit> for a guest with <locked/> memory: guest RAM
    plus the overhead justified above.
    """
    limit = memory_kib + LOCKED_OVERHEAD_KIB + \
        vcpus * LOCKED_OVERHEAD_PER_VCPU_KIB
    if virt_type == 'qemu':
        limit += TCG_TRANSLATION_BUFFER_KIB
    return limit


def get_memtune(membacking, memory_kib, vcpus, virt_type):
    """<memtune> bounding a guest's locked memory; None when it has no
    <locked/> (nothing to bound).
    """
    if membacking is None or not membacking.locked:
        return None
    return vconfig.LibvirtConfigGuestMemoryTune(
        hard_limit=locked_memory_limit_kib(memory_kib, vcpus, virt_type))


# -- flavor / image flags ---------------------------------------------------

def _flag(values, key, error):
    value = (values or {}).get(key)
    if value is None:
        return None
    try:
        return hardware_parse.parse_bool(key, value)
    except exception.InvalidProperty as e:
        if error is exception.InvalidProperty:
            raise
        raise error(**e.kwargs)


def _flavor_image_flag(extra_specs, image_props, name):
    """(value, key) of a yes/no hw:NAME / hw_NAME pair; (None, None) when
    neither is set; PropertyConflict when they disagree.
    """
    fkey, ikey = 'hw:%s' % name, 'hw_%s' % name
    fvalue = _flag(extra_specs, fkey, exception.InvalidProperty)
    ivalue = _flag(image_props, ikey, exception.ImageMetaPropInvalid)
    if fvalue is not None and ivalue is not None and fvalue != ivalue:
        raise exception.PropertyConflict(
            flavor_key=fkey, flavor_value=extra_specs[fkey],
            image_key=ikey, image_value=image_props[ikey],
            reason=_('the image may only repeat the flavor\'s choice; '
                     'remove the image property or use another flavor'))
    if fvalue is not None:
        return fvalue, fkey
    if ivalue is not None:
        return ivalue, ikey
    return None, None


def get_pmu_constraint(extra_specs, image_props):
    """hw:pmu / hw_pmu: True (PMU on), False (off), None (unset)."""
    return _flavor_image_flag(extra_specs, image_props, 'pmu')[0]


def get_pmu_state(extra_specs, image_props, realtime):
    """<pmu state> for the guest: True (on), False (off), None to leave it
    to QEMU.

    hw:pmu / hw_pmu decide for any guest; a real-time guest without them
    gets the PMU off.
    """
    pmu = get_pmu_constraint(extra_specs, image_props)
    if pmu is None and realtime:
        return False
    return pmu


def get_locked_memory_constraint(extra_specs, image_props):
    """hw:locked_memory / hw_locked_memory as a bool, None when unset.

    As upstream: locking needs an explicit page size (hw:mem_page_size or
    hw_mem_page_size): with small pages left to the kernel's choice the
    guest could be backed by pages it cannot lock as a whole.
    """
    locked, key = _flavor_image_flag(extra_specs, image_props,
                                     'locked_memory')
    if locked and (extra_specs or {}).get('hw:mem_page_size') is None and \
            (image_props or {}).get('hw_mem_page_size') is None:
        values = extra_specs if key.startswith('hw:') else image_props
        error = (exception.InvalidProperty if key.startswith('hw:')
                 else exception.ImageMetaPropInvalid)
        raise error(
            name=key, value=values[key],
            reason=_('locked memory needs an explicit page size: set '
                     'hw:mem_page_size (small, large, any or a size) in the '
                     'flavor, or hw_mem_page_size in the image'))
    return locked


# -- CPU mode, model, features ---------------------------------------------

def _conf_error(option, value, reason):
    if isinstance(value, list):
        value = ', '.join(value)
    return exception.ConfigurationInvalid(group='libvirt', option=option,
                                          value=value, reason=reason)


def parse_extra_flag(flag):
    """``+flag``/``flag`` -> (name, 'require'), ``-flag`` -> (name,
    'disable'); the name lowercased (libvirt's names are).
    """
    text = flag.strip().lower()
    policy = 'require'
    if text.startswith('-'):
        policy = 'disable'
        text = text[1:]
    elif text.startswith('+'):
        text = text[1:]
    return text, policy


def parse_cpu_map_features(xml_text):
    """Feature names of a libvirt cpu_map features file (x86_features.xml),
    a set; None when it cannot be parsed.
    """
    try:
        root = etree.fromstring(xml_text.encode('utf-8'),
                                vconfig.SAFE_XML_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    return {node.get('name') for node in root.iter('feature')
            if node.get('name')}


def resolve_cpu_mode(virt_type, cpu_mode, realtime):
    """The CPU mode a guest gets: [libvirt] cpu_mode, or when unset
    host-model (upstream's default for kvm and qemu) and host-passthrough
    for a real-time guest on kvm (libvirt's real-time guide: the guest
    sees the host CPU as is, TSC deadline timer included). 'none' means no
    mode. The test driver is treated as kvm: it stands in for a KVM host.
    """
    if cpu_mode is not None:
        return cpu_mode
    if realtime and virt_type in ('kvm', 'test'):
        return 'host-passthrough'
    return 'host-model'


def check_cpu_options(virt_type, cpu_mode, cpu_models, extra_flags,
                      known_models=None, known_features=None,
                      realtime=False):
    """Validate [libvirt] cpu_mode, cpu_models and cpu_model_extra_flags.

    Returns (mode or None, model or None, [(feature, policy)]).
    ``known_models`` (libvirt's getCPUModelNames for the host
    architecture) and ``known_features`` (libvirt's feature names), when
    given, must contain every configured model and flag; None skips that
    check (planning against a saved capabilities document).

    Raises ConfigurationInvalid naming the option, value, rule and fix.
    """
    if virt_type not in MODEL_VIRT_TYPES and cpu_mode not in (None, 'none'):
        raise _conf_error('cpu_mode', cpu_mode, _(
            'virt_type %s has no selectable CPU model; leave cpu_mode '
            'unset') % virt_type)
    if cpu_mode is not None and cpu_mode not in CPU_MODES:
        raise _conf_error('cpu_mode', cpu_mode, _(
            'must be one of %s') % ', '.join(CPU_MODES))
    if cpu_mode == 'host-passthrough' and virt_type == 'qemu':
        raise _conf_error('cpu_mode', cpu_mode, _(
            'QEMU\'s TCG (virt_type qemu) cannot run the host CPU model: '
            'libvirt refuses to start such a guest; use host-model, or '
            'virt_type kvm'))
    if cpu_mode != 'custom' and cpu_models:
        raise _conf_error('cpu_models', cpu_models, _(
            'is only used with cpu_mode=custom (cpu_mode is %s); remove '
            'cpu_models or set cpu_mode=custom') % (cpu_mode or _('unset')))
    model = None
    if cpu_mode == 'custom':
        if not cpu_models:
            raise _conf_error('cpu_models', cpu_models, _(
                'cpu_mode=custom needs at least one CPU model (see virsh '
                'cpu-models x86_64)'))
        model = cpu_models[0].strip()
        if known_models is not None:
            by_lower = {name.lower(): name for name in known_models}
            for wanted in cpu_models:
                if wanted.strip().lower() not in by_lower:
                    raise _conf_error('cpu_models', cpu_models, _(
                        '%s is not a CPU model the host\'s libvirt knows '
                        'for its architecture (virsh cpu-models lists '
                        'them)') % wanted.strip())
            model = by_lower[model.lower()]
    if extra_flags and cpu_mode not in ('custom', 'host-model',
                                        'host-passthrough', None):
        raise _conf_error('cpu_model_extra_flags', extra_flags, _(
            'extra CPU flags need a CPU model: cpu_mode custom, host-model '
            'or host-passthrough (it is %s)') % cpu_mode)
    features = []
    seen = {}
    for flag in extra_flags or ():
        name, policy = parse_extra_flag(flag)
        if not _FEATURE_NAME_RE.fullmatch(name):
            raise _conf_error('cpu_model_extra_flags', extra_flags, _(
                '%r is not a CPU feature name (+name, -name or name; '
                'letters, digits, -, _ and .)') % flag)
        if known_features is not None and name not in known_features:
            raise _conf_error('cpu_model_extra_flags', extra_flags, _(
                '%s is not a CPU feature libvirt knows (see '
                '/usr/share/libvirt/cpu_map/x86_features.xml)') % name)
        if name in seen:
            raise _conf_error('cpu_model_extra_flags', extra_flags, _(
                '%s is listed twice; keep one') % name)
        if realtime and policy == 'disable' and \
                name in REALTIME_CPU_FEATURES:
            raise _conf_error('cpu_model_extra_flags', extra_flags, _(
                'real-time guests need %s (their timer interrupts use it); '
                'remove -%s') % (name, name))
        seen[name] = policy
        features.append((name, policy))
    mode = resolve_cpu_mode(virt_type, cpu_mode, realtime)
    return (None if mode == 'none' else mode), model, features


def get_cpu(virt_type, cpu_mode, cpu_models, extra_flags, realtime,
            topology=None, numa_cells=None, known_models=None,
            known_features=None):
    """The guest's <cpu>: mode, model, features, topology and NUMA cells.

    ``topology`` is a cpu_topology.Topology; ``numa_cells`` a list of
    LibvirtConfigGuestCPUNUMACell (None: no guest NUMA). A real-time guest
    requires REALTIME_CPU_FEATURES, except under TCG (virt_type qemu),
    which cannot provide a TSC deadline timer: libvirt refuses to start it
    ("Host CPU does not provide required features: tsc-deadline"), and a
    guest without a CPU mode (cpu_mode=none), where libvirt takes no
    features without a model.
    """
    mode, model, features = check_cpu_options(
        virt_type, cpu_mode, cpu_models, extra_flags, known_models,
        known_features, realtime)
    cpu = vconfig.LibvirtConfigGuestCPU(mode=mode, model=model)
    if mode is not None:
        cpu.features = [vconfig.LibvirtConfigGuestCPUFeature(name, policy)
                        for name, policy in features]
        if realtime and virt_type != 'qemu':
            named = {feature.name for feature in cpu.features}
            for name in REALTIME_CPU_FEATURES:
                if name not in named:
                    cpu.features.append(
                        vconfig.LibvirtConfigGuestCPUFeature(name,
                                                             'require'))
    if topology is not None:
        cpu.topology = vconfig.LibvirtConfigGuestCPUTopology(
            sockets=topology.sockets, cores=topology.cores,
            threads=topology.threads)
    if numa_cells:
        cpu.numa = vconfig.LibvirtConfigGuestCPUNUMA(cells=numa_cells)
    return cpu


def get_numa_cell(cell, small_page_kb=hardware_parse.SMALLEST_PAGE_KB):
    """<cell> for a fitted InstanceNUMACell: memAccess='shared' when it is
    backed by huge pages, as upstream does (vhost-user back ends, which
    may be hot-plugged, map guest memory from another process: only file
    backed, shared memory allows it, and the flag cannot change while the
    guest runs).
    """
    shared = cell.pagesize is not None and cell.pagesize > small_page_kb
    return vconfig.LibvirtConfigGuestCPUNUMACell(
        id=cell.id, cpus=set(cell.total_cpus), memory=cell.memory * 1024,
        memAccess='shared' if shared else None)


def get_usb_controller(realtime):
    """<controller type='usb' model='none'/> for a real-time guest (x86
    machine types add a USB controller unless told not to), else None.
    """
    if not realtime:
        return None
    return vconfig.LibvirtConfigGuestController(type='usb', model='none')


# -- start errors -----------------------------------------------------------

# libvirt's words when a guest CPU feature cannot be given (libvirt 9.0,
# provoked on this project's CI host): host-model/custom checked against
# the host CPU, and check='full' after QEMU started.
_MISSING_FEATURE_RES = (
    re.compile(r'Host CPU does not provide required features: '
               r'(?P<names>[A-Za-z0-9_.,\- ]+)'),
    re.compile(r'guest CPU doesn\'t match specification: .*?missing '
               r'features: (?P<names>[A-Za-z0-9_.,\-]+)'),
)


def missing_cpu_features(message):
    """The CPU feature names libvirt's start error says are missing, as a
    sorted list ([] when the message is about something else).
    """
    for pattern in _MISSING_FEATURE_RES:
        match = pattern.search(message or '')
        if match:
            return sorted({name.strip() for name in
                           match.group('names').split(',')
                           if name.strip()})
    return []


# Image properties read here (those ImageMetaProps defines are passed on).
IMAGE_KEYS = tuple(
    'hw_cpu_%s%s' % (prefix, dim) for prefix in ('', 'max_')
    for dim in ('sockets', 'cores', 'threads')) + (
    'hw_pmu', 'hw_locked_memory', 'hw_mem_page_size')


def image_values(image_meta, keys=IMAGE_KEYS):
    """{key: value} of the image properties in ``keys`` that are set."""
    props = getattr(image_meta, 'properties', None)
    if props is None or (hasattr(image_meta, 'obj_attr_is_set') and
                         not image_meta.obj_attr_is_set('properties')):
        return {}
    values = {}
    for key in keys:
        if key in getattr(props, 'fields', {}):
            value = props.get(key)
            if value is not None:
                values[key] = value
    return values
