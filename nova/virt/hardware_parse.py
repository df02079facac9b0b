"""Parsers of the strings operators and tenants write: CPU specs, flags, sizes.

Part of nova.virt.hardware (import everything from there). Pure functions: the
only outside state read is nova.conf for [compute] cpu_dedicated_set and
cpu_shared_set.

CPU specs are parsed as intervals first, and every bound is checked against
MAX_CPU_NUMBER before any set is built, so a hostile ``^0-999999999`` costs
as little as ``^0``.
"""

import re

from nova import exception
from nova.i18n import _
import nova.conf

CONF = nova.conf.CONF

# Highest CPU number a spec may name (Linux's default NR_CPUS is 8192 on
# large builds, but nova-realtime hosts stay far below this).
MAX_CPU_NUMBER = 4095
# Longer inputs are rejected before any parsing.
MAX_CPU_SPEC_LENGTH = 4096

# Page size requests that are not a size; real sizes are positive KiB.
MEMPAGES_SMALL = -1
MEMPAGES_LARGE = -2
MEMPAGES_ANY = -3

# 4 KiB: the smallest page size of every architecture nova-realtime runs on.
SMALLEST_PAGE_KB = 4
# 1 TiB in KiB: bigger than any hardware page size; bounds the parser.
_LARGEST_PAGE_KB = 1 << 30

# One element of a CPU spec: optional '^', a number, optionally '-number'.
# [0-9] rather than \d so that non-ASCII digits are refused.
_CPU_SPEC_PART_RE = re.compile(
    r'^(\^)?\s*([0-9]+)(?:\s*-\s*([0-9]+))?$')

_TRUE_STRINGS = ('yes', 'true', '1', 'on')
_FALSE_STRINGS = ('no', 'false', '0', 'off')

_PAGE_SIZE_WORDS = {
    'small': MEMPAGES_SMALL,
    'large': MEMPAGES_LARGE,
    'any': MEMPAGES_ANY,
}
# A page size with an optional binary unit: 2048, 2048K, 2M, 2MB, 2MiB, 1G.
_PAGE_SIZE_RE = re.compile(
    r'^([0-9]{1,13})\s*(?:([kKmMgG])(?:[iI]?[bB])?)?$')
_PAGE_UNIT_KB = {'': 1, 'k': 1, 'm': 1024, 'g': 1024 * 1024}


def _parse_cpu_number(spec, part, digits):
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


def _expand(intervals):
    """Expand (start, end) intervals into a set of CPU numbers.

    Overlapping intervals are merged first, so each CPU is added once and
    the work stays bounded by MAX_CPU_NUMBER however often a spec repeats
    ``0-4095``.
    """
    cpus = set()
    merged_end = -1
    for start, end in sorted(intervals):
        start = max(start, merged_end + 1)
        if start <= end:
            cpus.update(range(start, end + 1))
            merged_end = end
    return cpus


def parse_cpu_spec_parts(spec):
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
    included = []
    excluded = []
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


def parse_cpu_spec(spec):
    """Parse a CPU spec into the set of CPUs it includes minus those it excludes.

    ``'0-3,^2'`` -> ``{0, 1, 3}``. See parse_cpu_spec_parts for the grammar.
    """
    included, excluded = parse_cpu_spec_parts(spec)
    return included - excluded


def format_cpu_spec(cpus, allow_ranges=True):
    """Format CPU numbers as a spec: ``{0, 1, 2, 3, 5, 7, 8}`` -> ``0-3,5,7-8``.

    Sorted, duplicates dropped; ``''`` for no CPUs. With allow_ranges=False
    every CPU is listed (``0,1,2,3,5,7,8``).
    """
    numbers = sorted(set(cpus))
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


def parse_property_cpu_spec(name, value):
    """parse_cpu_spec for a flavor or image property: InvalidProperty on error."""
    try:
        return parse_cpu_spec(value)
    except exception.InvalidCPUSpec as e:
        raise exception.InvalidProperty(name=name, value=value, reason=str(e))


def parse_property_memory_mb(name, value):
    """A whole number of MiB, at least 1 (hw:numa_mem.N, hw_numa_mem.N).

    Raises InvalidProperty naming ``name``.
    """
    try:
        memory = int(value)
    except (TypeError, ValueError):
        memory = 0
    if memory < 1:
        raise exception.InvalidProperty(
            name=name, value=value,
            reason=_('must be a whole number of MiB, at least 1'))
    return memory


def _parse_config_cpu_set(option):
    value = getattr(CONF.compute, option)
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


def _config_cpu_sets():
    dedicated = _parse_config_cpu_set('cpu_dedicated_set')
    shared = _parse_config_cpu_set('cpu_shared_set')
    if dedicated and shared and dedicated & shared:
        raise exception.ConfigurationInvalid(
            group='compute', option='cpu_dedicated_set',
            value=CONF.compute.cpu_dedicated_set,
            reason=_('host CPUs %(both)s are also in [compute] '
                     'cpu_shared_set=%(shared)r; a host CPU is either '
                     'dedicated to guests or shared, not both') %
            {'both': format_cpu_spec(dedicated & shared),
             'shared': CONF.compute.cpu_shared_set})
    return dedicated, shared


def get_cpu_dedicated_set():
    """[compute] cpu_dedicated_set as a set of host CPUs, None when unset.

    Raises ConfigurationInvalid when it (or cpu_shared_set) is malformed,
    names no CPU, or the two overlap.
    """
    return _config_cpu_sets()[0]


def get_cpu_shared_set():
    """[compute] cpu_shared_set as a set of host CPUs, None when unset.

    Same checks as get_cpu_dedicated_set.
    """
    return _config_cpu_sets()[1]


def parse_realtime_flag(name, value):
    """A yes/no property (``hw:cpu_realtime``) as a bool.

    Accepts yes/no, true/false, on/off, 1/0 in any case; anything else raises
    InvalidProperty, so a typo never silently turns real time off.
    """
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in _TRUE_STRINGS:
        return True
    if word in _FALSE_STRINGS:
        return False
    raise exception.InvalidProperty(
        name=name, value=value,
        reason=_('must be one of %s (any case)') %
        ', '.join(_TRUE_STRINGS + _FALSE_STRINGS))


def parse_mem_page_size(name, value):
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
            name=name, value=value,
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
