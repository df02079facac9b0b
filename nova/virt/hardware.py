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

"""Pure rules for guest CPU, memory and NUMA placement: no I/O.

This module is the import point for all of it:

* parsing (hardware_parse): CPU specs, the values of [compute]
  cpu_dedicated_set and cpu_shared_set (which the host layer reads and
  passes in), yes/no flags, page sizes;
* constraints (here): flavor extra specs + image properties -> the requested
  InstanceNUMATopology, with every rule checked (numa_get_constraints is the
  one entry point that validates a flavor and image together);
* fitting (hardware_fit): request + host NUMATopology -> a fitted
  InstanceNUMATopology with pCPU pinning, and host usage from fitted guests.

Flavor extra specs are named ``hw:x``, image properties ``hw_x``; every error
names the key it read, the value and the rule.
"""

import re
import typing as ty

from nova import exception
from nova.i18n import _
from nova import objects as _objects
from nova.objects import fields
from nova.virt.hardware_fit import add_memory_usage
from nova.virt.hardware_fit import DEDICATED
from nova.virt.hardware_fit import EMULATOR_ISOLATE
from nova.virt.hardware_fit import EMULATOR_SHARE
from nova.virt.hardware_fit import get_emulator_thread_pcpus
from nova.virt.hardware_fit import MIXED
from nova.virt.hardware_fit import numa_claimed_pcpus
from nova.virt.hardware_fit import numa_fit_instance_to_host
from nova.virt.hardware_fit import numa_instance_fits_host
from nova.virt.hardware_fit import numa_usage_from_instance_numa
from nova.virt.hardware_fit import PINNED_POLICIES
from nova.virt.hardware_parse import check_extra_spec
from nova.virt.hardware_parse import check_extra_spec_count
from nova.virt.hardware_parse import check_text
from nova.virt.hardware_parse import display_value
from nova.virt.hardware_parse import format_cpu_spec
from nova.virt.hardware_parse import HostCPUSets
from nova.virt.hardware_parse import is_xml_safe
from nova.virt.hardware_parse import MAX_CPU_NUMBER
from nova.virt.hardware_parse import MAX_EXTRA_SPEC_VALUE_LENGTH
from nova.virt.hardware_parse import MAX_EXTRA_SPECS
from nova.virt.hardware_parse import MAX_FLAVOR_NAME_LENGTH
from nova.virt.hardware_parse import MAX_GUEST_MEMORY_MB
from nova.virt.hardware_parse import MAX_GUEST_VCPUS
from nova.virt.hardware_parse import MAX_KEY_LENGTH
from nova.virt.hardware_parse import MEMPAGES_ANY
from nova.virt.hardware_parse import MEMPAGES_DEFAULT_HUGE
from nova.virt.hardware_parse import MEMPAGES_LARGE
from nova.virt.hardware_parse import MEMPAGES_SMALL
from nova.virt.hardware_parse import NUMA_NODE_PATTERN
from nova.virt.hardware_parse import parse_bool
from nova.virt.hardware_parse import parse_bounded_int
from nova.virt.hardware_parse import parse_cpu_spec
from nova.virt.hardware_parse import parse_cpu_spec_parts
from nova.virt.hardware_parse import parse_host_cpu_sets
from nova.virt.hardware_parse import parse_mem_page_size
from nova.virt.hardware_parse import parse_property_cpu_spec
from nova.virt.hardware_parse import parse_property_memory_mb
from nova.virt.hardware_parse import parse_vcpu_mask
from nova.virt.hardware_parse import SMALLEST_PAGE_KB
from nova.virt.hardware_parse import xml_unsafe_char
from nova.virt.hardware_parse import xml_unsafe_reason

# Objects are registered as attributes of nova.objects at run time
# (register_all), which a type checker cannot see.
objects: ty.Any = _objects

SHARED = fields.CPUAllocationPolicy.SHARED
PREFER = fields.CPUThreadAllocationPolicy.PREFER

# The default real-time mask: vCPU 0 stays for housekeeping.
DEFAULT_REALTIME_MASK = '^0'

_FLAVOR_NUMA_RE = re.compile(
    r'^hw:numa_(cpus|mem)\.(%s)$' % NUMA_NODE_PATTERN)


Flavor = ty.Any  # objects.Flavor (oslo objects are untyped)
ImageMeta = ty.Any  # objects.ImageMeta, or None


def _image_props(image_meta: ImageMeta) -> ty.Any:
    if image_meta is None or not image_meta.obj_attr_is_set('properties'):
        return objects.ImageMetaProps()
    return image_meta.properties


def _check_choice(key: str, value: ty.Any, valid: ty.Sequence[str],
                  error: ty.Type[exception.InvalidProperty]) -> None:
    if value is not None and value not in valid:
        raise error(name=key, value=display_value(value),
                    reason=_('must be one of: %s') % ', '.join(valid))


def _flavor_and_image(flavor: Flavor, image_meta: ImageMeta, flavor_key: str,
                      image_key: str, valid: ty.Sequence[str],
                      error: ty.Type[exception.InvalidProperty]
                      ) -> ty.Tuple[ty.Any, ty.Any]:
    """(flavor value, image value), each None when unset, both checked."""
    flavor_value = flavor.extra_specs.get(flavor_key)
    image_value = _image_props(image_meta).get(image_key)
    _check_choice(flavor_key, flavor_value, valid, error)
    _check_choice(image_key, image_value, valid, error)
    return flavor_value, image_value


def get_cpu_policy_constraint(flavor: Flavor,
                              image_meta: ImageMeta) -> ty.Optional[str]:
    """The CPU policy (shared/dedicated/mixed) from flavor and image.

    The flavor's choice stands; the image may pick one only where the
    flavor leaves it: under an unset flavor policy anything, under ``mixed``
    not ``dedicated``, under ``shared`` only ``shared``; an image's choice
    under ``dedicated`` is ignored. Raises InvalidCPUAllocationPolicy for a
    value that is no policy, ImageCPUPinningForbidden for a choice the
    flavor forbids.
    """
    flavor_value, image_value = _flavor_and_image(
        flavor, image_meta, 'hw:cpu_policy', 'hw_cpu_policy',
        fields.CPUAllocationPolicy.ALL, exception.InvalidCPUAllocationPolicy)
    if flavor_value is None:
        return image_value
    forbidden = {MIXED: (DEDICATED,), SHARED: (DEDICATED, MIXED)}
    if image_value in forbidden.get(flavor_value, ()):
        raise exception.ImageCPUPinningForbidden(
            flavor_key='hw:cpu_policy', flavor_value=flavor_value,
            image_key='hw_cpu_policy', image_value=image_value,
            reason=_('the image may not ask for more pinning than the '
                     'flavor allows'))
    return flavor_value


def get_cpu_thread_policy_constraint(flavor: Flavor, image_meta: ImageMeta
                                     ) -> ty.Optional[str]:
    """The SMT thread policy (prefer/isolate/require), or None.

    Under an unset flavor policy the image's; under ``prefer`` the flavor's
    (``prefer`` leaves the placement open, the image cannot tighten it);
    under isolate/require the image may only repeat it
    (ImageCPUThreadPolicyForbidden). A value that is no policy raises
    InvalidCPUThreadAllocationPolicy. Meaningful only for pinned vCPUs,
    which numa_get_constraints checks (CPUThreadPolicyConfigurationInvalid).
    """
    flavor_value, image_value = _flavor_and_image(
        flavor, image_meta, 'hw:cpu_thread_policy', 'hw_cpu_thread_policy',
        fields.CPUThreadAllocationPolicy.ALL,
        exception.InvalidCPUThreadAllocationPolicy)
    if flavor_value is None or flavor_value == PREFER:
        return flavor_value or image_value
    if image_value is not None and image_value != flavor_value:
        raise exception.ImageCPUThreadPolicyForbidden(
            flavor_key='hw:cpu_thread_policy', flavor_value=flavor_value,
            image_key='hw_cpu_thread_policy', image_value=image_value,
            reason=_('the image may only repeat the flavor\'s isolate or '
                     'require'))
    return flavor_value


def get_dedicated_cpu_constraint(flavor: Flavor) -> ty.Optional[ty.Set[int]]:
    """The vCPUs hw:cpu_dedicated_mask pins (mixed policy), or None.

    Same syntax as the real-time mask (``^0-1`` = every vCPU but 0 and
    1). Raises InvalidMixedInstanceDedicatedMask when it is malformed,
    names a vCPU the flavor lacks, or leaves no dedicated or no shared
    vCPU. Only meaningful with hw:cpu_policy=mixed, which
    numa_get_constraints checks (RequiredMixedInstancePolicy).
    """
    value = flavor.extra_specs.get('hw:cpu_dedicated_mask')
    if value is None:
        return None
    key = 'hw:cpu_dedicated_mask'
    error = exception.InvalidMixedInstanceDedicatedMask
    dedicated = parse_vcpu_mask(key, value, flavor.vcpus, error)
    if not dedicated or len(dedicated) == flavor.vcpus:
        raise error(
            name=key, value=value,
            reason=_('hw:cpu_policy=mixed needs at least one dedicated and '
                     'one shared vCPU; this mask makes %(n)d of %(all)d '
                     'vCPUs dedicated') % {'n': len(dedicated),
                                           'all': flavor.vcpus})
    return dedicated


def _policy_name(cpu_policy: ty.Optional[str]) -> str:
    return cpu_policy or _('unset, i.e. shared')


def _mixed_dedicated_cpus(flavor: Flavor, cpu_policy: ty.Optional[str],
                          realtime: ty.Optional[ty.Set[int]]
                          ) -> ty.Optional[ty.Set[int]]:
    """The dedicated vCPUs of a mixed guest; None for other policies.

    Mixed: the real-time vCPUs are the dedicated ones (the real-time mask
    says which), else hw:cpu_dedicated_mask does; both is an error, and
    there must be at least one vCPU of each kind.
    """
    dedicated = get_dedicated_cpu_constraint(flavor)
    if cpu_policy != MIXED:
        if dedicated is not None:
            raise exception.RequiredMixedInstancePolicy(
                name='hw:cpu_dedicated_mask',
                value=flavor.extra_specs['hw:cpu_dedicated_mask'],
                reason=_('only means something with hw:cpu_policy=mixed; '
                         'the CPU policy here is %s') %
                _policy_name(cpu_policy))
        return None
    if realtime is not None and dedicated is not None:
        raise exception.RequiredMixedOrRealtimeCPUMask(
            name='hw:cpu_dedicated_mask',
            value=flavor.extra_specs['hw:cpu_dedicated_mask'],
            reason=_('with hw:cpu_policy=mixed and real time, the real-time '
                     'mask already says which vCPUs are dedicated (the '
                     'real-time ones); drop hw:cpu_dedicated_mask'))
    if realtime is None and dedicated is None:
        raise exception.RequiredMixedOrRealtimeCPUMask(
            name='hw:cpu_policy', value=cpu_policy,
            reason=_('mixed needs hw:cpu_dedicated_mask (which vCPUs are '
                     'pinned), or hw:cpu_realtime=yes (then the real-time '
                     'vCPUs are)'))
    if dedicated is None:
        dedicated = set(ty.cast(ty.Set[int], realtime))
        if len(dedicated) == flavor.vcpus:
            raise exception.RealtimeMaskNotFoundOrInvalid(
                name='hw:cpu_realtime_mask',
                value=flavor.extra_specs.get('hw:cpu_realtime_mask',
                                             DEFAULT_REALTIME_MASK),
                reason=_('hw:cpu_policy=mixed needs at least one shared '
                         'vCPU; this mask makes all %d vCPUs real time, '
                         'i.e. dedicated') % flavor.vcpus)
    return dedicated


def get_emulator_thread_policy_constraint(
        flavor: Flavor, image_meta: ImageMeta = None) -> ty.Optional[str]:
    """The emulator threads policy (share/isolate), or None.

    From hw:emulator_threads_policy, else the image's
    hw_emulator_threads_policy (when ``image_meta`` is given); both set and
    different is a PropertyConflict, a value that is no policy an
    InvalidEmulatorThreadsPolicy. Meaningful only for pinned vCPUs, which
    numa_get_constraints checks (BadRequirementEmulatorThreadsPolicy).
    """
    flavor_value, image_value = _flavor_and_image(
        flavor, image_meta, 'hw:emulator_threads_policy',
        'hw_emulator_threads_policy', fields.CPUEmulatorThreadsPolicy.ALL,
        exception.InvalidEmulatorThreadsPolicy)
    if flavor_value is not None and image_value is not None and \
            flavor_value != image_value:
        raise exception.PropertyConflict(
            flavor_key='hw:emulator_threads_policy',
            flavor_value=flavor_value,
            image_key='hw_emulator_threads_policy', image_value=image_value,
            reason=_('the image may only repeat the flavor\'s choice; '
                     'remove the image property or use another flavor'))
    return flavor_value if flavor_value is not None else image_value


def _image_page_size_allowed(flavor_size: int, image_size: int) -> bool:
    if flavor_size == image_size:
        return True
    if flavor_size == MEMPAGES_ANY:
        return True
    if flavor_size == MEMPAGES_LARGE:
        return image_size == MEMPAGES_LARGE or image_size > SMALLEST_PAGE_KB
    return False


def _page_size(key: str, value: ty.Any) -> int:
    try:
        return parse_mem_page_size(key, value)
    except exception.InvalidProperty as e:
        raise exception.MemoryPageSizeInvalid(**e.kwargs)


def get_mem_page_size_constraint(flavor: Flavor,
                                 image_meta: ImageMeta) -> ty.Optional[int]:
    """The page size backing guest RAM: MEMPAGES_* or KiB, None when unset.

    Upstream Nova's private _get_numa_pagesize_constraint. The flavor's
    hw:mem_page_size rules; the image's hw_mem_page_size may narrow it only
    where the flavor leaves a choice: under ``large`` to ``large`` or a
    specific huge page size, under ``any`` to anything. An image repeating
    the flavor's exact value is accepted; anything else is a
    MemoryPageSizeForbidden, a value that is no page size a
    MemoryPageSizeInvalid.
    """
    flavor_value = flavor.extra_specs.get('hw:mem_page_size')
    flavor_size = None
    if flavor_value is not None:
        flavor_size = _page_size('hw:mem_page_size', flavor_value)
    image_value = _image_props(image_meta).get('hw_mem_page_size')
    if image_value is None:
        return flavor_size
    image_size = _page_size('hw_mem_page_size', image_value)
    if flavor_size is None or not _image_page_size_allowed(flavor_size,
                                                           image_size):
        raise exception.MemoryPageSizeForbidden(
            flavor_key='hw:mem_page_size', flavor_value=flavor_value,
            image_key='hw_mem_page_size', image_value=image_value,
            reason=_('an image may choose the page size only when the '
                     'flavor sets hw:mem_page_size=large (then: large or a '
                     'huge page size) or any (then: anything)'))
    return image_size


def is_realtime_enabled(flavor: Flavor) -> bool:
    """Whether hw:cpu_realtime asks for real time (absent: no).

    A value that is not a yes/no word raises InvalidProperty. Real time is
    the operator's decision: no image property enables it.
    """
    value = flavor.extra_specs.get('hw:cpu_realtime')
    if value is None:
        return False
    return parse_bool('hw:cpu_realtime', value)


def _realtime_masks(flavor: Flavor, image_meta: ImageMeta
                    ) -> ty.List[ty.Tuple[str, str]]:
    """Every real-time mask set, checked as far as it can be without the
    vCPU count: [(key, value)], the one used first (the image's overrides
    the flavor's).

    A malformed or empty mask is an error whenever it is set, even when
    real time is off or the image overrides it, so a broken flavor is
    caught before the first image that relies on it.
    """
    masks = []
    for key, value in (
            ('hw_cpu_realtime_mask',
             _image_props(image_meta).get('hw_cpu_realtime_mask')),
            ('hw:cpu_realtime_mask',
             flavor.extra_specs.get('hw:cpu_realtime_mask'))):
        if value is None:
            continue
        if not value.strip():
            raise exception.RealtimeMaskNotFoundOrInvalid(
                name=key, value=value,
                reason=_('is empty; write e.g. ^0 to keep vCPU 0 for '
                         'housekeeping'))
        parse_vcpu_mask(key, value, None,
                        exception.RealtimeMaskNotFoundOrInvalid)
        masks.append((key, value))
    return masks


def _realtime_cpus(flavor: Flavor, image_meta: ImageMeta,
                   emulator_policy: ty.Optional[str]
                   ) -> ty.Optional[ty.Set[int]]:
    masks = _realtime_masks(flavor, image_meta)
    if not is_realtime_enabled(flavor):
        return None
    vcpus = flavor.vcpus
    # Unset means ^0 whatever the emulator threads policy (upstream makes
    # every vCPU real time when a policy is set, and refuses otherwise):
    # one housekeeping vCPU is what nearly every real-time guest needs; a
    # flavor wanting all vCPUs says so with a mask.
    key, value = masks[0] if masks else ('hw:cpu_realtime_mask',
                                         DEFAULT_REALTIME_MASK)
    realtime = parse_vcpu_mask(key, value, vcpus,
                               exception.RealtimeMaskNotFoundOrInvalid)
    if not realtime:
        raise exception.RealtimeMaskNotFoundOrInvalid(
            name=key, value=value,
            reason=_('leaves no real-time vCPU in a %d-vCPU flavor') % vcpus)
    if len(realtime) == vcpus and emulator_policy is None:
        raise exception.RealtimeMaskNotFoundOrInvalid(
            name=key, value=value,
            reason=_('makes all %d vCPUs real time, leaving no '
                     'non-real-time vCPU for the emulator threads; keep one '
                     'out of the mask (e.g. ^0), or set '
                     'hw:emulator_threads_policy=isolate (or share with '
                     '[compute] cpu_shared_set)') % vcpus)
    return realtime


def _check_realtime_host(flavor: Flavor, realtime: ty.Optional[ty.Set[int]],
                         emulator_policy: ty.Optional[str],
                         host_cpus: ty.Optional[HostCPUSets]) -> None:
    """The one rule that depends on the host.

    A real-time guest whose emulator threads share needs [compute]
    cpu_shared_set there.
    """
    if realtime is None or host_cpus is None:
        return
    if emulator_policy == EMULATOR_SHARE and host_cpus.shared is None:
        raise exception.RealtimeConfigurationInvalid(
            name='hw:emulator_threads_policy', value=emulator_policy,
            reason=_('a real-time guest with emulator threads policy share '
                     'needs [compute] cpu_shared_set, which is unset on this '
                     'host; set it, or use isolate'))


def get_realtime_cpu_constraint(flavor: Flavor, image_meta: ImageMeta
                                ) -> ty.Optional[ty.Set[int]]:
    """The set of real-time vCPUs, or None when real time is off.

    hw:cpu_realtime=yes turns real time on. The mask is the image's
    hw_cpu_realtime_mask, else the flavor's hw:cpu_realtime_mask, else
    ``^0`` (every vCPU but vCPU 0), whatever the emulator threads policy
    (upstream makes every vCPU real time when a policy is set and refuses
    otherwise; see the differences page). A mask is read by
    parse_vcpu_mask: every vCPU it names must exist in the flavor; at
    least one vCPU must be real time, and every vCPU may be real time only
    with an emulator threads policy (the emulator threads need somewhere
    else to run). Raises RealtimeMaskNotFoundOrInvalid.

    The CPU policy (real time needs dedicated or mixed) is
    numa_get_constraints' check, as is the host's cpu_shared_set for
    emulator threads policy share. Masks are syntax-checked whenever set,
    even with real time off (then the answer is None): a malformed mask is
    an error whenever it is read.
    """
    if not is_realtime_enabled(flavor):
        _realtime_masks(flavor, image_meta)
        return None
    emulator_policy = get_emulator_thread_policy_constraint(flavor,
                                                            image_meta)
    return _realtime_cpus(flavor, image_meta, emulator_policy)


def _parse_node_count(key: str, value: ty.Any, vcpus: int) -> int:
    rule = _('must be a whole number from 1 to the flavor\'s %d '
             'vCPUs') % vcpus
    # Digits are bounded before int(), and the range before str().
    nodes = parse_bounded_int(key, value, minimum=1, maximum=vcpus,
                              rule=rule,
                              error=exception.InvalidNUMANodesNumber)
    if str(value).strip() != str(nodes):
        raise exception.InvalidNUMANodesNumber(
            name=key, value=display_value(value), reason=rule)
    return nodes


_Layout = ty.Tuple[int, ty.Dict[int, ty.Tuple[str, ty.Any, ty.Any]],
                   ty.Dict[int, ty.Tuple[str, ty.Any, ty.Any]]]


def _flavor_numa_layout(flavor: Flavor) -> ty.Optional[_Layout]:
    """hw:numa_nodes, hw:numa_cpus.N and hw:numa_mem.N, parsed.

    Returns None when the flavor sets none of them, else
    ``(nodes, {N: cpus}, {N: (key, value)})`` for hw:numa_cpus/hw:numa_mem.
    """
    specs = flavor.extra_specs
    cpus, mems = {}, {}
    for key, value in specs.items():
        if not key.startswith(('hw:numa_cpus', 'hw:numa_mem')):
            continue
        match = _FLAVOR_NUMA_RE.fullmatch(key)
        if match is None:
            raise exception.InvalidProperty(
                name=key, value=value,
                reason=_('set it per guest NUMA node as hw:numa_cpus.N or '
                         'hw:numa_mem.N, N a node number 0, 1, 2 ...'))
        node = int(match.group(2))
        if match.group(1) == 'cpus':
            cpus[node] = (key, value, parse_property_cpu_spec(key, value))
        else:
            mems[node] = (key, value, parse_property_memory_mb(key, value))
    if 'hw:numa_nodes' not in specs:
        if cpus or mems:
            key, value, _unused = (cpus or mems)[min(cpus or mems)]
            raise exception.ImageNUMATopologyIncomplete(
                name=key, value=value,
                reason=_('needs hw:numa_nodes, the number of guest NUMA '
                         'nodes'))
        return None
    nodes = _parse_node_count('hw:numa_nodes', specs['hw:numa_nodes'],
                              flavor.vcpus)
    return nodes, cpus, mems


def _image_numa_layout(props: ty.Any) -> ty.Optional[_Layout]:
    nodes = props.get('hw_numa_nodes')
    cpu_list = props.get('hw_numa_cpus')
    mem_list = props.get('hw_numa_mem')
    if nodes is None:
        if cpu_list is not None or mem_list is not None:
            key = 'hw_numa_cpus.0' if cpu_list is not None else 'hw_numa_mem.0'
            value = (format_cpu_spec(cpu_list[0]) if cpu_list is not None
                     else mem_list[0])
            raise exception.ImageNUMATopologyIncomplete(
                name=key, value=value,
                reason=_('needs hw_numa_nodes, the number of guest NUMA '
                         'nodes'))
        return None
    cpus = {n: ('hw_numa_cpus.%d' % n, format_cpu_spec(c), set(c))
            for n, c in enumerate(cpu_list or [])}
    mems = {n: ('hw_numa_mem.%d' % n, m, m)
            for n, m in enumerate(mem_list or [])}
    return nodes, cpus, mems


def _even_split(nodes_key: str, nodes: int, vcpus: int, memory_mb: int
                ) -> ty.List[ty.Tuple[ty.Set[int], int]]:
    if vcpus % nodes or memory_mb % nodes:
        raise exception.ImageNUMATopologyAsymmetric(
            name=nodes_key, value=nodes,
            reason=_('%(v)d vCPUs and %(m)d MiB do not split evenly over '
                     '%(n)d guest NUMA nodes; set the split per node with '
                     '%(pre)s_cpus.N and %(pre)s_mem.N') %
            {'v': vcpus, 'm': memory_mb, 'n': nodes,
             'pre': nodes_key[:-len('_nodes')]})
    per_cpu, per_mem = vcpus // nodes, memory_mb // nodes
    return [(set(range(n * per_cpu, (n + 1) * per_cpu)), per_mem)
            for n in range(nodes)]


def _explicit_split(nodes: int,
                    cpus: ty.Dict[int, ty.Tuple[str, ty.Any, ty.Any]],
                    mems: ty.Dict[int, ty.Tuple[str, ty.Any, ty.Any]],
                    vcpus: int, memory_mb: int
                    ) -> ty.List[ty.Tuple[ty.Set[int], int]]:
    """Check an explicit per-node split; [(cpus, memory)] per node."""
    for given in (cpus, mems):
        for node in sorted(given):
            if node >= nodes:
                key, value, _unused = given[node]
                raise exception.ImageNUMATopologyIncomplete(
                    name=key, value=value,
                    reason=_('names guest NUMA node %(node)d, but there are '
                             'only nodes 0-%(last)d') %
                    {'node': node, 'last': nodes - 1})
    # 'hw:' for flavor extra specs, 'hw_' for image properties.
    prefix = (cpus or mems)[min(cpus or mems)][0][:3]
    for family, given in (('cpus', cpus), ('mem', mems)):
        missing = [n for n in range(nodes) if n not in given]
        if missing:
            raise exception.ImageNUMATopologyIncomplete(
                name='%snuma_%s.%d' % (prefix, family, missing[0]),
                value=None,
                reason=_('with a per-node split, numa_cpus.N and numa_mem.N '
                         'must be set for every guest NUMA node 0-%d') %
                (nodes - 1))
    seen: ty.Dict[int, str] = {}
    for node in range(nodes):
        key, value, node_cpus = cpus[node]
        if not node_cpus:
            raise exception.ImageNUMATopologyIncomplete(
                name=key, value=value, reason=_('names no vCPU'))
        outside = {cpu for cpu in node_cpus if cpu >= vcpus}
        if outside:
            raise exception.ImageNUMATopologyCPUOutOfRange(
                name=key, value=value,
                reason=_('names vCPU %(cpus)s, outside 0-%(last)d of this '
                         '%(n)d-vCPU flavor') %
                {'cpus': format_cpu_spec(outside), 'last': vcpus - 1,
                 'n': vcpus})
        for cpu in sorted(node_cpus):
            if cpu in seen:
                raise exception.ImageNUMATopologyCPUDuplicates(
                    name=key, value=value,
                    reason=_('vCPU %(cpu)d is already in %(other)s; each '
                             'vCPU belongs to exactly one guest NUMA node') %
                    {'cpu': cpu, 'other': seen[cpu]})
            seen[cpu] = key
    missing_cpus = set(range(vcpus)) - set(seen)
    if missing_cpus:
        raise exception.ImageNUMATopologyCPUsUnassigned(
            name='%snuma_cpus.N' % prefix,
            value=format_cpu_spec(seen),
            reason=_('vCPU %(cpus)s of the %(n)d-vCPU flavor is in no guest '
                     'NUMA node') % {'cpus': format_cpu_spec(missing_cpus),
                                     'n': vcpus})
    total = sum(mems[node][2] for node in range(nodes))
    if total != memory_mb:
        raise exception.ImageNUMATopologyMemoryOutOfRange(
            name='%snuma_mem.N' % prefix,
            value=', '.join(str(mems[node][2]) for node in range(nodes)),
            reason=_('adds up to %(total)d MiB, but the flavor has '
                     '%(mem)d MiB') % {'total': total, 'mem': memory_mb})
    return [(cpus[node][2], mems[node][2]) for node in range(nodes)]


def _numa_layout(flavor: Flavor, image_meta: ImageMeta
                 ) -> ty.Optional[ty.List[ty.Tuple[ty.Set[int], int]]]:
    """[(cpus, memory_mb)] per guest NUMA node, or None when none asked."""
    flavor_layout = _flavor_numa_layout(flavor)
    image_layout = _image_numa_layout(_image_props(image_meta))
    if flavor_layout is not None and image_layout is not None:
        props = _image_props(image_meta)
        raise exception.ImageNUMATopologyForbidden(
            flavor_key='hw:numa_nodes',
            flavor_value=flavor.extra_specs['hw:numa_nodes'],
            image_key='hw_numa_nodes', image_value=props.hw_numa_nodes,
            reason=_('the NUMA layout is set by either the flavor or the '
                     'image, not both'))
    if flavor_layout is not None:
        nodes_key = 'hw:numa_nodes'
        nodes, cpus, mems = flavor_layout
    elif image_layout is not None:
        nodes_key = 'hw_numa_nodes'
        nodes, cpus, mems = image_layout
        nodes = _parse_node_count(nodes_key, nodes, flavor.vcpus)
    else:
        return None
    if not cpus and not mems:
        return _even_split(nodes_key, nodes, flavor.vcpus, flavor.memory_mb)
    return _explicit_split(nodes, cpus, mems, flavor.vcpus, flavor.memory_mb)


def _check_page_multiple(flavor: Flavor, image_meta: ImageMeta,
                         pagesize: ty.Optional[int],
                         layout: ty.List[ty.Tuple[ty.Set[int], int]]
                         ) -> None:
    if pagesize is None or pagesize < 0:
        return
    for node, (_cpus, memory) in enumerate(layout):
        if (memory * 1024) % pagesize:
            image_value = _image_props(image_meta).get('hw_mem_page_size')
            key, value = (('hw_mem_page_size', image_value)
                          if image_value is not None else
                          ('hw:mem_page_size',
                           flavor.extra_specs['hw:mem_page_size']))
            raise exception.MemoryPageSizeInvalid(
                name=key, value=value,
                reason=_('guest NUMA node %(node)d has %(mem)d MiB, not a '
                         'whole number of %(size)d KiB pages') %
                {'node': node, 'mem': memory, 'size': pagesize})


def check_flavor_bounds(flavor: Flavor) -> None:
    """Refuse a flavor no guest can have, before anything is sized by it.

    vcpus from 1 to MAX_GUEST_VCPUS, memory_mb from 1 to
    MAX_GUEST_MEMORY_MB, a name of at most MAX_FLAVOR_NAME_LENGTH
    XML-safe characters, at most MAX_EXTRA_SPECS extra specs with keys and
    values of at most 255 XML-safe characters. Checked first by
    numa_get_constraints, so nova-compute refuses a 10**8-vCPU flavor
    before building a set of 10**8 vCPUs.
    """
    parse_bounded_int(
        'vcpus', flavor.vcpus, minimum=1, maximum=MAX_GUEST_VCPUS,
        rule=_('must be a whole number from 1 to %d, the most vCPUs '
               'QEMU gives one guest') % MAX_GUEST_VCPUS)
    parse_bounded_int(
        'memory_mb', flavor.memory_mb, minimum=1,
        maximum=MAX_GUEST_MEMORY_MB,
        rule=_('must be a whole number of MiB, at least 1 and at most %d '
               '(16 TiB)') %
        MAX_GUEST_MEMORY_MB)
    if flavor.obj_attr_is_set('name') and flavor.name is not None:
        check_text('flavor name', flavor.name, MAX_FLAVOR_NAME_LENGTH)
    check_extra_spec_count(flavor.extra_specs)
    for key, value in flavor.extra_specs.items():
        check_extra_spec(key, value)


def _check_pinning_policies(flavor: Flavor, cpu_policy: ty.Optional[str],
                            thread_policy: ty.Optional[str],
                            emulator_policy: ty.Optional[str],
                            realtime: ty.Optional[ty.Set[int]]) -> None:
    """What only pinned (dedicated or mixed) vCPUs may ask for."""
    if cpu_policy in PINNED_POLICIES:
        return
    if realtime is not None:
        raise exception.RealtimeConfigurationInvalid(
            name='hw:cpu_realtime',
            value=flavor.extra_specs['hw:cpu_realtime'],
            reason=_('hw:cpu_realtime=yes requires hw:cpu_policy=dedicated '
                     'or mixed; the CPU policy here is %s') %
            _policy_name(cpu_policy))
    for value, flavor_key, image_key, error in (
            (thread_policy, 'hw:cpu_thread_policy', 'hw_cpu_thread_policy',
             exception.CPUThreadPolicyConfigurationInvalid),
            (emulator_policy, 'hw:emulator_threads_policy',
             'hw_emulator_threads_policy',
             exception.BadRequirementEmulatorThreadsPolicy)):
        if value is None:
            continue
        key = (flavor_key if flavor_key in flavor.extra_specs else image_key)
        raise error(
            name=key, value=value,
            reason=_('requires hw:cpu_policy=dedicated or mixed (or image '
                     'hw_cpu_policy); the CPU policy here is %s') %
            _policy_name(cpu_policy))


def numa_get_constraints(flavor: Flavor, image_meta: ImageMeta,
                         host_cpus: ty.Optional[HostCPUSets] = None
                         ) -> ty.Any:
    """Validate a flavor + image and build the requested guest NUMA topology.

    Returns None when nothing NUMA-related is asked (no hw:numa_nodes /
    hw_numa_nodes, no dedicated or mixed CPU policy, no page size).
    Otherwise an InstanceNUMATopology whose cells carry the vCPUs (floating
    in ``cpuset``, pinned in ``pcpuset``), memory (MiB), CPU and thread
    policies and page size (MEMPAGES_* or KiB), and whose topology carries
    realtime_cpus and emulator_threads_policy. Pinned CPUs or a page size
    without a NUMA layout give one cell with everything.

    ``host_cpus`` (a HostCPUSets, the host context's cpu_sets) is the host the
    guest is for; with it, the rules that depend on the host are checked
    too (a real-time guest with emulator threads policy share needs
    [compute] cpu_shared_set). Without it (API, scheduler), only the
    flavor and image are.

    A NUMA layout with no per-node split divides vCPUs and memory evenly
    (vCPUs in order: node 0 gets the lowest); when they do not divide, the
    error (ImageNUMATopologyAsymmetric) names hw:numa_nodes and asks for an
    explicit split, rather than silently building lopsided nodes.

    Every rule of the getters above is checked here, even when the result is
    None (a malformed real-time flag or mask is always an error), after the
    bounds of check_flavor_bounds. Errors are the exceptions upstream Nova
    raises (RealtimeConfigurationInvalid, CPUThreadPolicyConfigurationInvalid,
    BadRequirementEmulatorThreadsPolicy, RequiredMixedInstancePolicy, ...),
    all InvalidProperty or PropertyConflict naming the key and value.
    """
    check_flavor_bounds(flavor)
    cpu_policy = get_cpu_policy_constraint(flavor, image_meta)
    thread_policy = get_cpu_thread_policy_constraint(flavor, image_meta)
    emulator_policy = get_emulator_thread_policy_constraint(flavor,
                                                            image_meta)
    realtime = _realtime_cpus(flavor, image_meta, emulator_policy)
    _check_pinning_policies(flavor, cpu_policy, thread_policy,
                            emulator_policy, realtime)
    mixed = _mixed_dedicated_cpus(flavor, cpu_policy, realtime)
    _check_realtime_host(flavor, realtime, emulator_policy, host_cpus)
    pagesize = get_mem_page_size_constraint(flavor, image_meta)
    layout = _numa_layout(flavor, image_meta)
    if layout is None:
        if cpu_policy not in PINNED_POLICIES and pagesize is None:
            return None
        layout = [(set(range(flavor.vcpus)), flavor.memory_mb)]
    _check_page_multiple(flavor, image_meta, pagesize, layout)
    if cpu_policy == DEDICATED:
        dedicated = set(range(flavor.vcpus))
    else:
        dedicated = mixed or set()
    cells = [
        objects.InstanceNUMACell(
            id=node, cpuset=cpus - dedicated, pcpuset=cpus & dedicated,
            memory=memory, pagesize=pagesize,
            cpu_policy=cpu_policy, cpu_thread_policy=thread_policy)
        for node, (cpus, memory) in enumerate(layout)]
    return objects.InstanceNUMATopology(
        cells=cells, realtime_cpus=realtime,
        emulator_threads_policy=emulator_policy)


__all__ = [
    'MAX_CPU_NUMBER', 'MAX_GUEST_VCPUS', 'MAX_GUEST_MEMORY_MB',
    'MAX_EXTRA_SPEC_VALUE_LENGTH', 'MAX_EXTRA_SPECS', 'MAX_KEY_LENGTH',
    'MAX_FLAVOR_NAME_LENGTH', 'SMALLEST_PAGE_KB', 'NUMA_NODE_PATTERN',
    'DEDICATED', 'MIXED', 'SHARED', 'PINNED_POLICIES', 'EMULATOR_ISOLATE',
    'EMULATOR_SHARE', 'DEFAULT_REALTIME_MASK', 'HostCPUSets',
    'is_xml_safe', 'xml_unsafe_char', 'xml_unsafe_reason', 'display_value',
    'check_text', 'check_extra_spec', 'check_extra_spec_count',
    'parse_bounded_int', 'check_flavor_bounds',
    'MEMPAGES_SMALL', 'MEMPAGES_LARGE', 'MEMPAGES_ANY',
    'MEMPAGES_DEFAULT_HUGE',
    'parse_cpu_spec_parts', 'parse_cpu_spec', 'format_cpu_spec',
    'parse_property_cpu_spec', 'parse_property_memory_mb', 'parse_vcpu_mask',
    'parse_host_cpu_sets',
    'parse_bool', 'is_realtime_enabled', 'parse_mem_page_size',
    'get_cpu_policy_constraint', 'get_cpu_thread_policy_constraint',
    'get_emulator_thread_policy_constraint', 'get_mem_page_size_constraint',
    'get_realtime_cpu_constraint', 'numa_get_constraints',
    'get_dedicated_cpu_constraint',
    'numa_fit_instance_to_host', 'numa_instance_fits_host',
    'numa_claimed_pcpus',
    'numa_usage_from_instance_numa', 'add_memory_usage',
    'get_emulator_thread_pcpus',
]
