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

"""Parsers of the strings operators and tenants write: CPU specs, flags, sizes.

Part of nova.virt.hardware (import everything from there). Pure functions:
nothing here reads nova.conf, libvirt or a file. [compute]
cpu_dedicated_set and cpu_shared_set are read where the host context is
built (nova.virt.libvirt.host.get_host_cpu_sets) and parsed here
(parse_host_cpu_sets); the rules take the result as an argument
(HostCPUSets).

CPU specs are parsed as intervals first, and every bound is checked against
MAX_CPU_NUMBER before any set is built, so a hostile ``^0-999999999`` costs
as little as ``^0``.
"""

import re
import typing as ty

from nova import exception
from nova.i18n import _


class HostCPUSets(ty.NamedTuple):
    """The host CPUs guests may use, as the rules need them.

    ``dedicated``: [compute] cpu_dedicated_set, ``shared``: [compute]
    cpu_shared_set; each a set of host CPU numbers, None when unset. Built
    by parse_host_cpu_sets() from the options' values, or directly (tests,
    tools).
    """

    dedicated: ty.Optional[ty.Set[int]] = None
    shared: ty.Optional[ty.Set[int]] = None


# Highest CPU number a spec may name (Linux's default NR_CPUS is 8192 on
# large builds, but nova-realtime hosts stay far below this).
MAX_CPU_NUMBER = 4095
# Longer inputs are rejected before any parsing.
MAX_CPU_SPEC_LENGTH = 4096

# The most vCPUs one guest may have. QEMU's q35 machine accepts up to 4096
# (with x2apic and an IOMMU; i440fx/pc stops at 255) and libvirt passes that
# through, so no guest nova-realtime can build is refused; above it a flavor
# is a typo or an attack, and every per-vCPU structure stays bounded.
MAX_GUEST_VCPUS = 4096
# The most memory one guest may have: 16 TiB in MiB (2**24). Above the RAM
# of the largest x86 servers sold as single KVM hosts for real-time work and
# above the guest sizes distributions support for KVM; it keeps memory_mb *
# 1024 (KiB for libvirt) and page arithmetic far from any overflow and
# refuses 10**100 MiB before anything is computed from it.
MAX_GUEST_MEMORY_MB = 16 * 1024 * 1024
# Keys of flavor extra specs and image properties: Nova's flavor extra
# specs API and Glance's image_properties table both stop at 255 characters.
MAX_KEY_LENGTH = 255
# Extra spec values: Nova's API schema allows 255 characters.
MAX_EXTRA_SPEC_VALUE_LENGTH = 255
# Extra specs per flavor. Upstream Nova has no count limit; real flavors
# carry a dozen or two (hw:, trait:, resources:, aggregate ...). 128, the
# default of Glance's image_property_quota, is far above that and keeps a
# hostile flavor's validation cost bounded.
MAX_EXTRA_SPECS = 128
# Properties per image: Glance's image_property_quota default (128). A
# bigger image cannot have come from a default Glance and is refused before
# any property is looked at.
MAX_IMAGE_PROPERTIES = 128
# Values of image properties this tree reads (enums, page sizes, CPU masks);
# the CPU masks are also held to MAX_CPU_SPEC_LENGTH by their parser.
MAX_IMAGE_PROPERTY_VALUE_LENGTH = 255
# os_command_line, in UTF-8 bytes: 4096 is the largest COMMAND_LINE_SIZE of
# the Linux architectures (x86, arm64 and powerpc use 2048, s390 4096); the
# guest kernel truncates anything longer, so a longer line can only be a
# mistake (or a way to make the host copy megabytes into domain XML).
MAX_KERNEL_CMDLINE_BYTES = 4096
# Flavor names: Nova's flavor API allows 255 characters.
MAX_FLAVOR_NAME_LENGTH = 255
# Decimal digits an integer input may have before int() sees it: enough for
# any 64-bit value, far below Python's 4300-digit conversion limit (whose
# ValueError would otherwise escape as a traceback).
MAX_INT_DIGITS = 20
# How much of a bad value an error message shows.
DISPLAY_LENGTH = 40

# Characters XML 1.0 cannot carry (the complement of its Char production:
# #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]).
# Libvirt domain XML is XML 1.0, so a value with one of these (NUL, ESC,
# a lone surrogate, U+FFFE ...) can never reach libvirt. Spelt as the
# characters it matches (a Python str holds no code point past U+10FFFF):
# the same set as the negated Char production, which took 10 ms of every
# command's start to compile.
_XML_UNSAFE_RE = re.compile(
    '[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')

# The characters Nova's flavor extra specs API allows in a key: letters,
# digits, '_', '-', '.', ' ' and ':' (also what python-novaclient checks).
_EXTRA_SPEC_KEY_RE = re.compile(r'^[a-zA-Z0-9_\-. :]+$')

# Page size requests that are not a size; real sizes are positive KiB.
MEMPAGES_SMALL = -1
MEMPAGES_LARGE = -2
MEMPAGES_ANY = -3
# Not a request: what a domain's <memoryBacking><hugepages/> without a
# <page> size asks for, the host's default huge page size (host usage
# read from domain XML).
MEMPAGES_DEFAULT_HUGE = -4

# 4 KiB: the smallest page size of every architecture nova-realtime runs on.
SMALLEST_PAGE_KB = 4
# 1 TiB in KiB: bigger than any hardware page size; bounds the parser.
_LARGEST_PAGE_KB = 1 << 30

# A guest NUMA node number in a key (hw:numa_cpus.N, hw_numa_mem.N ...):
# 0 to 999 without leading zeros, so that hw_numa_mem.01 cannot shadow
# hw_numa_mem.1. [0-9] rather than \d: a non-ASCII digit (hw_numa_mem.1\u0660)
# is no node number.
NUMA_NODE_PATTERN = '0|[1-9][0-9]{0,2}'

# One element of a CPU spec: optional '^', a number, optionally '-number'.
# [0-9] rather than \d so that non-ASCII digits are refused.
_CPU_SPEC_PART_RE = re.compile(
    r'^(\^)?\s*([0-9]+)(?:\s*-\s*([0-9]+))?$')

# The one yes/no vocabulary of every boolean flavor extra spec and image
# property (hw:cpu_realtime, hw:pmu, hw:locked_memory, hw_pmu ...), for the
# API validators, the image properties and the guest builders alike. No
# one-letter words (upstream's t, f, y, n): they are too easy to mistype, and
# a typo must never turn a setting off silently.
TRUE_WORDS = ('yes', 'true', 'on', '1')
FALSE_WORDS = ('no', 'false', 'off', '0')
BOOL_DESCRIPTION = ('a yes/no word: yes, no, true, false, on, off, 1 or 0, '
                    'in any case')

_PAGE_SIZE_WORDS = {
    'small': MEMPAGES_SMALL,
    'large': MEMPAGES_LARGE,
    'any': MEMPAGES_ANY,
}
# A page size with an optional binary unit: 2048, 2048K, 2M, 2MB, 2MiB, 1G.
_PAGE_SIZE_RE = re.compile(
    r'^([0-9]{1,13})\s*(?:([kKmMgG])(?:[iI]?[bB])?)?$')
_PAGE_UNIT_KB = {'': 1, 'k': 1, 'm': 1024, 'g': 1024 * 1024}


def display_value(value: ty.Any, limit: int = DISPLAY_LENGTH) -> ty.Any:
    """``value`` shortened for an error message: first ``limit`` chars + '…'.

    Non-strings are returned as they are unless their text is long (a huge
    int is shown by its first digits). repr() of the result, which the
    messages use, escapes control characters, so an error stays one line.
    """
    if isinstance(value, str):
        text = value
    elif isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() < 3 * limit:
            return value
        text = _int_text(value)
    else:
        return value
    if len(text) <= limit:
        return text
    return text[:limit] + '\u2026'


def _int_text(value: int) -> str:
    # str() of an int over 4300 digits raises ValueError; those are shown
    # by their magnitude instead.
    try:
        return str(value)
    except ValueError:
        return '<integer of about %d digits>' % int(
            value.bit_length() * 0.30103)


def xml_unsafe_char(text: str) -> ty.Optional[str]:
    """The first character of ``text`` XML 1.0 cannot carry, or None."""
    match = _XML_UNSAFE_RE.search(text)
    return match.group(0) if match else None


def is_xml_safe(text: str) -> bool:
    """Whether ``text`` (a str) has only characters of XML 1.0's Char.

    False for NUL and the other C0 controls but tab, LF and CR, for lone
    surrogates ('\\ud800') and for U+FFFE/U+FFFF: what lxml or libvirt
    would refuse in domain XML.
    """
    return _XML_UNSAFE_RE.search(text) is None


def xml_unsafe_reason(text: str) -> ty.Optional[str]:
    """Why ``text`` cannot go into XML (for an error message), or None."""
    char = xml_unsafe_char(text)
    if char is None:
        return None
    return _('contains the character U+%(code)04X at position %(pos)d, which '
             'XML 1.0 (and so libvirt domain XML) cannot carry') % {
        'code': ord(char), 'pos': text.index(char)}


def check_text(name: str, value: ty.Any,
               max_length: ty.Optional[int] = None, encoded: bool = False,
               error: ty.Type[exception.NovaException] = (
                   exception.InvalidProperty)) -> str:
    """Refuse a user string that is not a str, too long, or not XML-safe.

    ``name`` is the key (extra spec key, image property name, option) the
    error names; ``max_length`` counts characters, or UTF-8 bytes with
    ``encoded``. The length is checked first, so a huge value costs nothing
    more. Raises ``error`` (InvalidProperty by default) with the value
    shortened for display.
    """
    if not isinstance(value, str):
        raise error(name=name, value=display_value(value),
                    reason=_('must be a string'))
    if max_length is not None:
        length = len(value.encode('utf-8', 'surrogatepass')) if encoded \
            else len(value)
        if length > max_length:
            raise error(
                name=name, value=display_value(value),
                reason=(_('is %(len)d bytes long; at most %(max)d') if encoded
                        else _('is %(len)d characters long; at most %(max)d'))
                % {'len': length, 'max': max_length})
    reason = xml_unsafe_reason(value)
    if reason is not None:
        raise error(name=name, value=display_value(value), reason=reason)
    return value


def check_extra_spec_key(key: ty.Any) -> str:
    """Refuse an extra spec key Nova's API would:

    1-255 characters of letters, digits, '_', '-', '.', ' ' and ':'. Raises
    InvalidProperty.
    """
    check_text('extra spec key', key, MAX_KEY_LENGTH)
    if not _EXTRA_SPEC_KEY_RE.fullmatch(key):
        raise exception.InvalidProperty(
            name='extra spec key', value=display_value(key),
            reason=_('a key is 1 to %d letters, digits, spaces and _ - . : '
                     'characters') % MAX_KEY_LENGTH)
    return key


def check_extra_spec(key: ty.Any, value: ty.Any) -> None:
    """Key rules of check_extra_spec_key, and a bounded XML-safe value.

    The value has at most MAX_EXTRA_SPEC_VALUE_LENGTH characters; errors
    name the key.
    """
    check_extra_spec_key(key)
    check_text(key, value, MAX_EXTRA_SPEC_VALUE_LENGTH)


def check_extra_spec_count(extra_specs: ty.Sized) -> None:
    """At most MAX_EXTRA_SPECS extra specs; InvalidProperty naming both."""
    if len(extra_specs) > MAX_EXTRA_SPECS:
        raise exception.InvalidProperty(
            name='extra_specs', value=_('%d keys') % len(extra_specs),
            reason=_('a flavor may have at most %d extra specs') %
            MAX_EXTRA_SPECS)


def parse_bounded_int(name: str, value: ty.Any,
                      minimum: ty.Optional[int] = None,
                      maximum: ty.Optional[int] = None,
                      rule: ty.Optional[str] = None,
                      error: ty.Type[exception.NovaException] = (
                          exception.InvalidProperty)) -> int:
    """A user string (or int) as an int, digits bounded before int().

    Accepts plain ASCII digits with an optional '-' and surrounding spaces
    (no '+', '_' or non-ASCII digits, all of which int() would take). More
    than MAX_INT_DIGITS digits, or a number outside minimum..maximum, raises
    ``error`` naming ``name``, the value (shortened) and ``rule`` (the
    accepted range in words when not given).
    """
    if rule is None:
        if minimum is not None and maximum is not None:
            rule = _('must be a whole number from %(min)d to %(max)d') % {
                'min': minimum, 'max': maximum}
        elif minimum is not None:
            rule = _('must be a whole number of at least %d') % minimum
        else:
            rule = _('must be a whole number')

    def invalid(reason=rule):
        return error(name=name, value=display_value(value), reason=reason)

    if isinstance(value, bool):
        raise invalid()
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text.startswith('-') else text
        if len(digits) > MAX_INT_DIGITS:
            raise invalid(_('%(rule)s; it has %(n)d characters, more than '
                            'the %(max)d digits any accepted number has') %
                          {'rule': rule, 'n': len(digits),
                           'max': MAX_INT_DIGITS})
        if not digits or not digits.isascii() or not digits.isdigit():
            raise invalid()
        number = int(text)
    else:
        raise invalid()
    if (minimum is not None and number < minimum) or \
            (maximum is not None and number > maximum):
        raise invalid()
    return number


def _parse_cpu_number(spec: str, part: str, digits: str) -> int:
    # A 4096-digit number is cheap to convert, but the length test keeps
    # int() away from absurd inputs altogether.
    if len(digits.lstrip('0')) > len(str(MAX_CPU_NUMBER)):
        number = MAX_CPU_NUMBER + 1
    else:
        number = int(digits)
    if number > MAX_CPU_NUMBER:
        raise exception.InvalidCPUSpec(
            spec=spec, part=part,
            reason=_('CPU %(number)s is above the highest CPU number '
                     '%(max)d') % {'number': digits, 'max': MAX_CPU_NUMBER})
    return number


def _expand(intervals: ty.List[ty.Tuple[int, int]]) -> ty.Set[int]:
    """Expand (start, end) intervals into a set of CPU numbers.

    Overlapping intervals are merged first, so each CPU is added once and
    the work stays bounded by MAX_CPU_NUMBER however often a spec repeats
    ``0-4095``.
    """
    cpus: ty.Set[int] = set()
    merged_end = -1
    for start, end in sorted(intervals):
        start = max(start, merged_end + 1)
        if start <= end:
            cpus.update(range(start, end + 1))
            merged_end = end
    return cpus


def parse_cpu_spec_parts(spec: str) -> ty.Tuple[ty.Set[int], ty.Set[int]]:
    """Parse a CPU spec into ``(included, excluded)`` sets of CPU numbers.

    Elements are comma separated: ``n``, ``a-b`` (inclusive, a <= b), ``^n``
    or ``^a-b`` (excluded); spaces around elements are allowed and empty
    elements (``1,,2``) are skipped. Every number must be at most
    MAX_CPU_NUMBER. Raises InvalidCPUSpec naming the offending element.
    """
    if not isinstance(spec, str):
        raise exception.InvalidCPUSpec(
            spec=spec, part=spec, reason=_('a CPU spec must be a string'))
    if len(spec) > MAX_CPU_SPEC_LENGTH:
        raise exception.InvalidCPUSpec(
            spec=spec[:32] + '...', part=spec[:32] + '...',
            reason=_('longer than %d characters') % MAX_CPU_SPEC_LENGTH)
    included: ty.List[ty.Tuple[int, int]] = []
    excluded: ty.List[ty.Tuple[int, int]] = []
    for raw in spec.split(','):
        part = raw.strip()
        if not part:
            continue
        match = _CPU_SPEC_PART_RE.match(part)
        if match is None:
            raise exception.InvalidCPUSpec(
                spec=spec, part=part,
                reason=_('expected N, A-B, ^N or ^A-B with decimal CPU '
                         'numbers'))
        caret, first, last = match.groups()
        start = _parse_cpu_number(spec, part, first)
        end = start if last is None else _parse_cpu_number(spec, part, last)
        if end < start:
            raise exception.InvalidCPUSpec(
                spec=spec, part=part,
                reason=_('range end %(end)d is below its start %(start)d') %
                {'end': end, 'start': start})
        (excluded if caret else included).append((start, end))
    return _expand(included), _expand(excluded)


def parse_cpu_spec(spec: str) -> ty.Set[int]:
    """Parse a CPU spec into the CPUs it includes minus those it excludes.

    ``'0-3,^2'`` -> ``{0, 1, 3}``. See parse_cpu_spec_parts for the grammar.
    """
    included, excluded = parse_cpu_spec_parts(spec)
    return included - excluded


def format_cpu_spec(cpuset: ty.Iterable[int],
                    allow_ranges: bool = True) -> str:
    """Format CPU numbers as a spec: ``{0, 1, 2, 3, 5, 7, 8}`` ->
    ``0-3,5,7-8``.


    Sorted, duplicates dropped; ``''`` for no CPUs. With allow_ranges=False
    every CPU is listed (``0,1,2,3,5,7,8``).
    """
    numbers = sorted(set(cpuset))
    if not allow_ranges:
        return ','.join(str(cpu) for cpu in numbers)
    parts = []
    index = 0
    while index < len(numbers):
        start = end = numbers[index]
        while index + 1 < len(numbers) and numbers[index + 1] == end + 1:
            index += 1
            end = numbers[index]
        parts.append(str(start) if start == end else '%d-%d' % (start, end))
        index += 1
    return ','.join(parts)


def parse_vcpu_mask(name: str, value: ty.Any,
                    vcpus: ty.Optional[int] = None,
                    error: ty.Type[exception.InvalidProperty] = (
                        exception.InvalidProperty)) -> ty.Set[int]:
    """The vCPUs a mask over guest vCPUs names (hw:cpu_realtime_mask,
    hw_cpu_realtime_mask, hw:cpu_dedicated_mask).

    The one rule for every such mask: starting with ``^``, every vCPU of
    the guest but those excluded (``^0-1``); otherwise the vCPUs included
    minus those excluded (``2-3``, ``0-3,^0``). With ``vcpus`` every vCPU
    the mask names must exist (0 to vcpus-1); without it (the flavor is not
    known yet) the guest is taken to have MAX_GUEST_VCPUS, so what is
    returned is what the mask names in the largest guest. A mask that is
    malformed, names no vCPU at all (``''``, ``,``) or a vCPU outside the
    guest raises ``error`` naming ``name``; the result may be empty
    (``1,^1``), which each caller judges.
    """
    try:
        included, excluded = parse_cpu_spec_parts(value)
    except exception.InvalidCPUSpec as e:
        raise error(name=name, value=display_value(value), reason=str(e))
    if not included and not excluded:
        raise error(name=name, value=display_value(value),
                    reason=_('names no vCPU; list vCPUs (2-3) or exclude '
                             'them (^0)'))
    if vcpus is None:
        vcpus = MAX_GUEST_VCPUS
    outside = {cpu for cpu in included | excluded if cpu >= vcpus}
    if outside:
        raise error(
            name=name, value=display_value(value),
            reason=_('names vCPU %(cpus)s, outside 0-%(last)d of this '
                     '%(n)d-vCPU flavor') %
            {'cpus': format_cpu_spec(outside), 'last': vcpus - 1, 'n': vcpus})
    if value.strip().startswith('^'):
        return set(range(vcpus)) - excluded
    return included - excluded


def parse_property_cpu_spec(name: str, value: ty.Any) -> ty.Set[int]:
    """parse_cpu_spec for a flavor or image property (InvalidProperty)."""
    try:
        return parse_cpu_spec(value)
    except exception.InvalidCPUSpec as e:
        raise exception.InvalidProperty(name=name, value=display_value(value),
                                        reason=str(e))


def parse_property_memory_mb(name: str, value: ty.Any) -> int:
    """A whole number of MiB, 1 to MAX_GUEST_MEMORY_MB (hw:numa_mem.N ...).

    Raises InvalidProperty naming ``name``.
    """
    return parse_bounded_int(
        name, value, minimum=1, maximum=MAX_GUEST_MEMORY_MB,
        rule=_('must be a whole number of MiB, at least 1 and at most %d '
               '(16 TiB)') %
        MAX_GUEST_MEMORY_MB)


def _parse_config_cpu_set(option: str,
                          value: ty.Optional[str]) -> ty.Optional[ty.Set[int]]:
    if value is None or not value.strip():
        return None
    try:
        cpus = parse_cpu_spec(value)
    except exception.InvalidCPUSpec as e:
        raise exception.ConfigurationInvalid(
            group='compute', option=option, value=value, reason=str(e))
    if not cpus:
        raise exception.ConfigurationInvalid(
            group='compute', option=option, value=value,
            reason=_('names no host CPU; leave it unset instead'))
    return cpus


def parse_host_cpu_sets(dedicated: ty.Optional[str],
                        shared: ty.Optional[str]) -> HostCPUSets:
    """[compute] cpu_dedicated_set and cpu_shared_set (their values as
    written, None or blank when unset) as a HostCPUSets.

    Raises ConfigurationInvalid naming the option when one is malformed or
    names no CPU, or when the two overlap.
    """
    dedicated_cpus = _parse_config_cpu_set('cpu_dedicated_set', dedicated)
    shared_cpus = _parse_config_cpu_set('cpu_shared_set', shared)
    if dedicated_cpus and shared_cpus and dedicated_cpus & shared_cpus:
        raise exception.ConfigurationInvalid(
            group='compute', option='cpu_dedicated_set', value=dedicated,
            reason=_('host CPUs %(both)s are also in [compute] '
                     'cpu_shared_set=%(shared)r; a host CPU is either '
                     'dedicated to guests or shared, not both') %
            {'both': format_cpu_spec(dedicated_cpus & shared_cpus),
             'shared': shared})
    return HostCPUSets(dedicated_cpus, shared_cpus)


def parse_bool(name: str, value: ty.Any) -> bool:
    """A yes/no flavor extra spec or image property as a bool.

    Accepts TRUE_WORDS and FALSE_WORDS in any case, with surrounding spaces
    (and bools as they are); anything else raises InvalidProperty naming
    ``name``, so a typo never silently turns a setting off.
    """
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise exception.InvalidProperty(
        name=name, value=display_value(value),
        reason=_('must be %s') % BOOL_DESCRIPTION)


def is_true(value: ty.Any) -> bool:
    """Whether a (valid) yes/no value says yes: the ``refused_when`` of
    yes/no keys and properties (``hw:mem_encryption=false`` asks for
    nothing).
    """
    return parse_bool('value', value)


def parse_mem_page_size(name: str, value: ty.Any) -> int:
    """A page size request as MEMPAGES_SMALL/LARGE/ANY or a size in KiB.

    ``small``, ``large``, ``any`` (any case), or a size: a bare number is
    KiB (``2048``); K/KB/KiB, M/MB/MiB and G/GB/GiB are all binary units, as
    page sizes always are (``2MB`` = ``2MiB`` = 2048 KiB). A size must be a
    power of two of at least 4 KiB.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        text = None
    if text is not None and text.lower() in _PAGE_SIZE_WORDS:
        return _PAGE_SIZE_WORDS[text.lower()]
    match = _PAGE_SIZE_RE.match(text) if text is not None else None
    if match is None:
        raise exception.InvalidProperty(
            name=name, value=display_value(value),
            reason=_('must be small, large, any, or a page size such as '
                     '2048 (KiB), 2MB or 1GB'))
    number, unit = match.groups()
    size_kb = int(number) * _PAGE_UNIT_KB[(unit or '').lower()]
    if (size_kb < SMALLEST_PAGE_KB or size_kb > _LARGEST_PAGE_KB or
            size_kb & (size_kb - 1)):
        raise exception.InvalidProperty(
            name=name, value=value,
            reason=_('a page size must be a power of two from %(min)d KiB '
                     'to 1 TiB; this is %(size)d KiB') %
            {'min': SMALLEST_PAGE_KB, 'size': size_kb})
    return size_kb
