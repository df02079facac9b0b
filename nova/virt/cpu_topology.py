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

"""Guest CPU topology (sockets, cores, threads): pure rules, no I/O.

What the guest is told about how its vCPUs are arranged, from the flavor
extra specs ``hw:cpu_sockets``, ``hw:cpu_cores``, ``hw:cpu_threads``
(preferred counts) and ``hw:cpu_max_sockets``, ``hw:cpu_max_cores``,
``hw:cpu_max_threads`` (limits), and the image properties of the same names
(``hw_cpu_sockets`` ...). The rules are upstream Nova's:

* an image maximum may only lower the flavor's (above it: a conflict);
* the limits are the image's where set, else the flavor's, else none;
* a preferred count above the limit that applies is an error when both
  come from the same side (flavor, or image); a flavor preference above a
  limit the image lowered is dropped, as upstream drops it; an image
  preference above the flavor's limit is a conflict;
* the image's preferences, when it sets any, replace all of the flavor's;
* among the topologies whose product is the vCPU count and that stay within
  the limits, upstream's order applies: most sockets*cores first (fewest
  threads), then most sockets; then the ones matching more of the preferred
  counts move first. No topology within the limits is an error.

One rule of our own, for guests with a NUMA topology: every core's threads
must lie in one guest NUMA cell. QEMU numbers vCPUs socket by socket, core
by core, thread by thread, so with ``threads`` per core the vCPUs
``k*threads .. k*threads+threads-1`` are one core; a core split over two
guest nodes is a topology no real machine has (the guest kernel warns and
ignores the SMT relation). Topologies that break it are left out; when none
is left the error names the NUMA layout.
"""

import collections

from nova import exception
from nova.i18n import _
from nova.virt import hardware_parse

DIMENSIONS = ('sockets', 'cores', 'threads')
# The biggest count any dimension may have: a guest has at most this many
# vCPUs, so a bigger limit or preference can never matter.
MAX_COUNT = hardware_parse.MAX_GUEST_VCPUS


class Topology(collections.namedtuple('Topology', DIMENSIONS)):
    """sockets, cores (per socket), threads (per core)."""

    __slots__ = ()

    @property
    def vcpus(self):
        return self.sockets * self.cores * self.threads

    def __str__(self):
        return _('%(s)d socket(s) x %(c)d core(s) x %(t)d thread(s)') % {
            's': self.sockets, 'c': self.cores, 't': self.threads}


def flavor_key(dimension, maximum=False):
    return 'hw:cpu_%s%s' % ('max_' if maximum else '', dimension)


def image_key(dimension, maximum=False):
    return 'hw_cpu_%s%s' % ('max_' if maximum else '', dimension)


def _parse(values, key, error):
    value = values.get(key)
    if value is None:
        return None
    return hardware_parse.parse_bounded_int(
        key, value, minimum=1, maximum=MAX_COUNT,
        rule=_('must be a whole number from 1 to %d') % MAX_COUNT,
        error=error)


def get_topology_constraints(extra_specs, image_props):
    """(preferred, maximum, limit_keys) from flavor and image values.

    ``extra_specs`` and ``image_props`` are mappings of the keys above to
    their values (strings, or ints for image properties). ``preferred`` is
    a Topology whose unset counts are 0; ``maximum`` one whose unset limits
    are MAX_COUNT; ``limit_keys`` maps each dimension to the key its limit
    came from (None when unlimited), for error messages.

    Raises InvalidProperty or PropertyConflict naming the key, its value,
    the rule and the fix.
    """
    image_props = image_props or {}
    flavor_max, image_max, flavor_pref, image_pref = {}, {}, {}, {}
    for dim in DIMENSIONS:
        flavor_max[dim] = _parse(extra_specs, flavor_key(dim, True),
                                 exception.InvalidProperty)
        image_max[dim] = _parse(image_props, image_key(dim, True),
                                exception.ImageMetaPropInvalid)
        flavor_pref[dim] = _parse(extra_specs, flavor_key(dim),
                                  exception.InvalidProperty)
        image_pref[dim] = _parse(image_props, image_key(dim),
                                 exception.ImageMetaPropInvalid)

    maximum, limit_keys = {}, {}
    for dim in DIMENSIONS:
        fmax, imax = flavor_max[dim], image_max[dim]
        if fmax is not None and imax is not None and imax > fmax:
            raise exception.PropertyConflict(
                flavor_key=flavor_key(dim, True), flavor_value=fmax,
                image_key=image_key(dim, True), image_value=imax,
                reason=_('an image may only lower the flavor\'s maximum '
                         '%(dim)s; set %(ikey)s to at most %(fmax)d, or '
                         'use a flavor that allows more') % {
                    'dim': dim, 'ikey': image_key(dim, True), 'fmax': fmax})
        if imax is not None:
            maximum[dim], limit_keys[dim] = imax, image_key(dim, True)
        elif fmax is not None:
            maximum[dim], limit_keys[dim] = fmax, flavor_key(dim, True)
        else:
            maximum[dim], limit_keys[dim] = MAX_COUNT, None

    # A flavor that contradicts itself is the operator's mistake: say so
    # (upstream silently ignores the preference). A flavor preference above
    # a limit the image lowered is dropped, as upstream does.
    drop_flavor_pref = False
    for dim in DIMENSIONS:
        pref = flavor_pref[dim]
        if pref is None or pref <= maximum[dim]:
            continue
        if limit_keys[dim] == flavor_key(dim, True):
            raise exception.InvalidProperty(
                name=flavor_key(dim), value=str(pref),
                reason=_('is above the flavor\'s own %(mkey)s=%(max)d; a '
                         'preferred count must be within the maximum: lower '
                         'one or raise the other') % {
                    'mkey': flavor_key(dim, True), 'max': maximum[dim]})
        drop_flavor_pref = True

    for dim in DIMENSIONS:
        pref = image_pref[dim]
        if pref is None or pref <= maximum[dim]:
            continue
        if limit_keys[dim] == image_key(dim, True):
            raise exception.ImageMetaPropInvalid(
                name=image_key(dim), value=str(pref),
                reason=_('is above the image\'s own %(mkey)s=%(max)d; a '
                         'preferred count must be within the maximum: lower '
                         'one or raise the other') % {
                    'mkey': image_key(dim, True), 'max': maximum[dim]})
        raise exception.PropertyConflict(
            flavor_key=limit_keys[dim], flavor_value=maximum[dim],
            image_key=image_key(dim), image_value=pref,
            reason=_('the image prefers more %(dim)s than the flavor '
                     'allows; set %(ikey)s to at most %(max)d, or use a '
                     'flavor that allows more') % {
                'dim': dim, 'ikey': image_key(dim), 'max': maximum[dim]})

    if any(image_pref[dim] is not None for dim in DIMENSIONS):
        chosen = image_pref
    elif drop_flavor_pref:
        chosen = {}
    else:
        chosen = flavor_pref
    preferred = Topology(*(chosen.get(dim) or 0 for dim in DIMENSIONS))
    return preferred, Topology(*(maximum[dim] for dim in DIMENSIONS)), \
        limit_keys


def _divisors(number):
    small = [d for d in range(1, int(number ** 0.5) + 1) if number % d == 0]
    return sorted(set(small + [number // d for d in small]))


def possible_topologies(vcpus, maximum):
    """Every Topology of ``vcpus`` within ``maximum``, upstream's order:
    most sockets*cores first, then most sockets, then most threads.
    """
    possible = []
    for sockets in _divisors(vcpus):
        if sockets > maximum.sockets:
            continue
        rest = vcpus // sockets
        for cores in _divisors(rest):
            threads = rest // cores
            if cores <= maximum.cores and threads <= maximum.threads:
                possible.append(Topology(sockets, cores, threads))
    possible.sort(key=lambda t: (t.sockets * t.cores, t.sockets, t.threads),
                  reverse=True)
    return possible


def _score(topology, preferred):
    return sum(1 for dim in DIMENSIONS
               if getattr(preferred, dim) and
               getattr(topology, dim) == getattr(preferred, dim))


def sort_by_preference(possible, preferred):
    """Stable: topologies matching more preferred counts first."""
    return sorted(possible, key=lambda t: -_score(t, preferred))


def cores_within_cells(topology, cells):
    """Whether every core's threads are in one of ``cells`` (sets of
    vCPU numbers); True without cells.
    """
    if not cells or topology.threads == 1:
        return True
    cell_of = {}
    for index, cpus in enumerate(cells):
        for cpu in cpus:
            cell_of[cpu] = index
    threads = topology.threads
    for first in range(0, topology.vcpus, threads):
        if len({cell_of.get(cpu) for cpu in
                range(first, first + threads)}) != 1:
            return False
    return True


def _describe_limits(maximum, limit_keys):
    parts = ['%s=%d' % (limit_keys[dim], getattr(maximum, dim))
             for dim in DIMENSIONS if limit_keys[dim] is not None]
    return ', '.join(parts)


def get_best_topology(vcpus, extra_specs, image_props, cells=None):
    """The guest's Topology for ``vcpus`` vCPUs.

    ``cells``: the vCPU sets of the guest NUMA cells (None or empty without
    a NUMA topology). Raises InvalidProperty / PropertyConflict when the
    values break a rule or leave no topology.
    """
    preferred, maximum, limit_keys = get_topology_constraints(
        extra_specs, image_props)
    possible = possible_topologies(vcpus, maximum)
    if not possible:
        limited = [dim for dim in DIMENSIONS if limit_keys[dim] is not None]
        key = limit_keys[limited[0]]
        error = (exception.ImageMetaPropInvalid if key.startswith('hw_')
                 else exception.InvalidProperty)
        raise error(
            name=key, value=str(getattr(maximum, limited[0])),
            reason=_('no sockets x cores x threads within %(limits)s makes '
                     'the %(n)d vCPUs of the flavor (sockets x cores x '
                     'threads must equal %(n)d); raise a limit') % {
                'limits': _describe_limits(maximum, limit_keys),
                'n': vcpus})
    fitting = [t for t in possible if cores_within_cells(t, cells)]
    if not fitting:
        # threads=1 always fits, and sockets=vCPUs, cores=threads=1 is
        # possible unless sockets or cores are limited: one of them forced
        # the threads up.
        dim = next(dim for dim in ('cores', 'sockets')
                   if limit_keys[dim] is not None)
        key, value = limit_keys[dim], getattr(maximum, dim)
        error = (exception.ImageMetaPropInvalid if key.startswith('hw_')
                 else exception.InvalidProperty)
        raise error(
            name=key, value=str(value),
            reason=_('every topology of %(n)d vCPUs within %(limits)s has '
                     'more threads per core than fit in the guest NUMA '
                     'cells (vCPUs %(cells)s; a core\'s threads must be in '
                     'one cell): allow more sockets or cores, or size the '
                     'cells in whole cores') % {
                'n': vcpus,
                'limits': _describe_limits(maximum, limit_keys) or _(
                    'no limits'),
                'cells': ' | '.join(
                    hardware_parse.format_cpu_spec(cpus) for cpus in cells)})
    return sort_by_preference(fitting, preferred)[0]
