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

"""Fitting a requested guest NUMA topology to a host, and host usage.

Part of nova.virt.hardware (import everything from there).

Fitting is a matching problem: each guest cell needs its own host cell, and
whether guest cell g fits host cell h does not depend on where the other
guest cells go (the emulator pCPU reserved under
``hw:emulator_threads_policy=isolate`` only adds one pCPU to guest cell 0's
need). So feasibility is computed per (guest cell, host cell) pair from
per-host-cell counts that are worked out once, a bipartite matching
(augmenting paths, low host cell ids first) picks the host cells, and only
the matched pairs are then pinned. No permutation of host cells is ever
tried.

SMT thread policies, for dedicated guests:

* prefer (and unset): any free pCPUs, packed onto the sibling threads of as
  few cores as possible; a remainder goes to the smallest partly free core
  that holds it, keeping whole cores free for isolate/require guests.
* isolate: each vCPU gets a whole free core (every thread free and in
  pcpuset) and is pinned to its first thread; the other threads are claimed
  too, so no one else runs there.
* require: vCPUs fill whole free multi-thread cores, sibling by sibling; a
  last core's unused threads are claimed as well. Fails without SMT.

The emulator pCPU of ``isolate`` follows the guest's thread policy: a whole
core of its own under isolate, the next thread under require/prefer.
"""

import itertools
import operator
import typing as ty

from nova import exception
from nova.i18n import _
from nova import objects as _objects
from nova.objects import fields
from nova.virt.hardware_parse import format_cpu_spec
from nova.virt.hardware_parse import MEMPAGES_ANY
from nova.virt.hardware_parse import MEMPAGES_DEFAULT_HUGE
from nova.virt.hardware_parse import MEMPAGES_LARGE
from nova.virt.hardware_parse import MEMPAGES_SMALL
from nova.virt.hardware_parse import SMALLEST_PAGE_KB

# Objects are registered as attributes of nova.objects at run time
# (register_all), which a type checker cannot see.
objects: ty.Any = _objects

DEDICATED = fields.CPUAllocationPolicy.DEDICATED
MIXED = fields.CPUAllocationPolicy.MIXED
# Policies whose guests have pinned (dedicated) vCPUs.
PINNED_POLICIES = (DEDICATED, MIXED)
ISOLATE = fields.CPUThreadAllocationPolicy.ISOLATE
REQUIRE = fields.CPUThreadAllocationPolicy.REQUIRE
EMULATOR_ISOLATE = fields.CPUEmulatorThreadsPolicy.ISOLATE
EMULATOR_SHARE = fields.CPUEmulatorThreadsPolicy.SHARE

# oslo.versionedobjects classes carry no type information.
NUMATopology = ty.Any
InstanceNUMATopology = ty.Any

_NO_FIT = object()
_UNKNOWN = object()


def _reader(*names):
    """A function giving the tuple of those fields of an object.

    Read straight from oslo.versionedobjects' storage attributes: the
    field properties cost a Python call each, and the fit reads about
    forty fields per host. When a field is unset, the object API's own
    answer (lazy load, or its error).
    """
    get = operator.itemgetter(*['_obj_' + name for name in names])

    def read(obj):
        try:
            return get(obj.__dict__)
        except (KeyError, AttributeError):
            return tuple(getattr(obj, name) for name in names)
    return read


_read_host_cell = _reader('id', 'pcpuset', 'pinned_cpus', 'siblings')
_read_host_memory = _reader('mempages', 'memory', 'memory_usage')
_read_pages = _reader('size_kb', 'total', 'used', 'reserved')
_read_guest_cell = _reader('id', 'cpuset', 'pcpuset', 'memory', 'pagesize',
                           'cpu_policy', 'cpu_thread_policy')


_storage = operator.attrgetter('__dict__')


def _field(obj, name):
    """``obj.name`` read from the object's storage (as _reader)."""
    try:
        return obj.__dict__['_obj_' + name]
    except (KeyError, AttributeError):
        return getattr(obj, name)


class _HostCell(object):
    """Free resources of one host cell, each worked out at most once.

    Cores are the host's SMT sibling groups plus one-thread cores for
    pCPUs in no group; they are ordered by their lowest thread, and a
    core's threads are sorted only when it is picked. Everything but the
    free pCPUs is computed on first use (plain attributes, not
    functools.cached_property, which takes a lock on Python 3.11).
    """

    # Slots: one is built per host cell looked at, on every fit.
    __slots__ = ('cell', 'id', 'pcpuset', 'siblings', 'free', '_pagesizes',
                 '_whole_groups', '_covered', '_smt_threads', '_core_size',
                 '_singles', '_pages')

    def __init__(self, cell):
        self.cell = cell
        self.id, self.pcpuset, pinned, self.siblings = _read_host_cell(cell)
        # Only read, never changed: with nothing pinned, pcpuset itself.
        self.free = (set.difference(self.pcpuset, pinned) if pinned
                     else self.pcpuset)
        self._pagesizes = {}
        # Set together by _find_whole: the whole groups, whether they hold
        # every free pCPU, and their threads in groups of two or more.
        self._whole_groups: ty.Any = None
        self._covered = None
        self._smt_threads = 0
        # The one thread count of every whole core (covered cells), or 0
        # when they differ.
        self._core_size = 0
        self._singles = None
        self._pages = None

    def cpu_count(self):
        # Set operators that build a new set from an object's field copy it
        # element by element (oslo's CoercedSet): use the plain set ones.
        return len(set.union(self.cell.cpuset, self.pcpuset))

    def free_singles(self):
        """Free pCPUs that belong to no SMT sibling group, as 1-cores."""
        if self._singles is None:
            if self._whole_groups is None:
                self._find_whole()
            self._singles = [] if self._covered else [
                (cpu,) for cpu in set.difference(self.free, *self.siblings)]
        return self._singles

    def whole_groups(self):
        """Sibling groups with every thread free (and in pcpuset)."""
        if self._whole_groups is None:
            self._find_whole()
        return self._whole_groups

    def covered(self):
        """Whether the whole sibling groups hold every free pCPU.

        Sibling groups are disjoint (a thread belongs to one core), so
        their sizes adding up to the free count says it: no free pCPU is
        then in no group (free_singles is empty) nor in a group with a
        pinned thread. On an idle host cell it is so; then the cores can
        be walked in order (cores_in_order) instead of sorted.
        """
        if self._whole_groups is None:
            self._find_whole()
        return self._covered

    def _find_whole(self):
        """whole_groups, covered and whole_smt_threads, together."""
        whole = self._whole_groups = list(filter(self.free.issuperset,
                                                 self.siblings))
        sizes = set(map(len, whole))
        if len(sizes) == 1:
            # Cores all alike (the usual case): no per-core sums.
            size = sizes.pop()
            threads = size * len(whole)
            self._smt_threads = threads if size > 1 else 0
        else:
            lengths = list(map(len, whole))
            threads = sum(lengths)
            self._smt_threads = threads - lengths.count(1)
            size = 0
        self._covered = covered = bool(whole) and threads == len(self.free)
        if covered:
            self._core_size = size

    def cores_in_order(self):
        """(lowest thread, core) of each whole group, lowest first; only
        when covered().

        Walks the free pCPUs in order: the first thread met of each core
        is its lowest, so the cores come lowest first without calling
        min() on each (the cost of sorting them); callers stop early.
        """
        whole = self.whole_groups()
        last = len(whole) - 1
        taken = set()
        # Where the last core was found: host cells list their cores in
        # order more often than not, so the next one is usually next.
        at = 0
        for cpu in sorted(self.free):
            if cpu not in taken:
                while cpu not in whole[at]:
                    at = at + 1 if at < last else 0
                core = whole[at]
                taken.update(core)
                yield cpu, core

    def lowest_cores(self, count):
        """cores_in_order's first ``count`` (cpu, core) pairs, as a list."""
        if count <= 0:
            return []
        return list(itertools.islice(self.cores_in_order(), count))

    def whole_core_count(self):
        return len(self.whole_groups()) + len(self.free_singles())

    def whole_smt_threads(self):
        if self._whole_groups is None:
            self._find_whole()
        return self._smt_threads

    def whole_cores(self):
        """Cores with every thread free, lowest first."""
        if self.covered():
            return [core for _cpu, core in self.cores_in_order()]
        return sorted(self.whole_groups() + self.free_singles(), key=min)

    def pages(self):
        """(free pages by size in KiB, the small page size in KiB, free
        small-page memory in MiB).
        """
        if self._pages is None:
            mempages, memory, memory_usage = _read_host_memory(self.cell)
            try:
                # NUMAPagesTopology.free of each pool, read from storage.
                free = {d['_obj_size_kb']: d['_obj_total'] - d['_obj_used'] -
                        d['_obj_reserved'] for d in map(_storage, mempages)}
            except (KeyError, AttributeError):
                free = {}
                for pages in mempages:
                    size_kb, total, used, reserved = _read_pages(pages)
                    free[size_kb] = total - used - reserved
            small_kb = min(free) if free else SMALLEST_PAGE_KB
            self._pages = (free, small_kb, memory - memory_usage)
        return self._pages

    def small_pages_fit(self, memory_mb):
        free, small_kb, avail_memory = self.pages()
        return _small_pages_fit(free, small_kb, avail_memory, memory_mb)

    def huge_page_fits(self, size_kb, memory_mb):
        return _huge_page_fits(self.pages()[0], size_kb, memory_mb)

    def choose_pagesize(self, request, memory_mb):
        """The page size (KiB) a guest cell gets here, or _NO_FIT.

        An unset request stays None (nothing asked of the driver). Guest
        cells mostly ask the same, so answers are remembered.
        """
        key = (request, memory_mb)
        # get, not try/except KeyError: the first look always misses, and
        # raising costs more than the lookup.
        size = self._pagesizes.get(key, _UNKNOWN)
        if size is _UNKNOWN:
            size = self._pagesizes[key] = self._choose_pagesize(request,
                                                                memory_mb)
        return size

    def _choose_pagesize(self, request, memory_mb):
        free, small_kb, avail = self.pages()
        if request is None:
            return None if _small_pages_fit(free, small_kb, avail,
                                            memory_mb) else _NO_FIT
        if request == MEMPAGES_SMALL or request == small_kb:
            return small_kb if _small_pages_fit(free, small_kb, avail,
                                                memory_mb) else _NO_FIT
        if request in (MEMPAGES_LARGE, MEMPAGES_ANY):
            for size_kb in sorted(free, reverse=True):
                if size_kb > small_kb and \
                        _huge_page_fits(free, size_kb, memory_mb):
                    return size_kb
            if request == MEMPAGES_ANY and _small_pages_fit(
                    free, small_kb, avail, memory_mb):
                return small_kb
            return _NO_FIT
        return request if _huge_page_fits(free, request, memory_mb) \
            else _NO_FIT

    def has_shared_cpus(self):
        return bool(self.cell.cpuset)

    def cpus_fit(self, count, dedicated, thread_policy):
        if not dedicated:
            # Floating vCPUs: a guest node no bigger than the host node.
            return count <= self.cpu_count()
        if len(self.free) < count:
            return False
        if thread_policy == ISOLATE:
            # The whole groups alone may be enough: then no single pCPU
            # needs finding.
            return (len(self.whole_groups()) >= count or
                    self.whole_core_count() >= count)
        if thread_policy == REQUIRE:
            return self.whole_smt_threads() >= count
        return True

    def pick(self, count, thread_policy):
        """``count`` distinct free pCPUs in pinning order."""
        if self._whole_groups is None:
            self._find_whole()
        size = self._core_size
        if thread_policy == ISOLATE:
            # The first thread of each of the lowest whole cores.
            if self._covered:
                return [cpu for cpu, _core in self.lowest_cores(count)]
            return sorted(map(min, self._whole_groups +
                              self.free_singles()))[:count]
        if size > 1:
            # Covered, every whole core of ``size`` threads: require and
            # prefer both take the lowest cores' threads in order (the
            # loop below and _pack_whole, for cores all alike).
            threads = []
            for _cpu, core in self.lowest_cores(-(-count // size)):
                threads.extend(sorted(core))
            return threads[:count]
        if thread_policy == REQUIRE:
            threads = []
            # Not covered: the whole groups alone, lowest first. The free
            # pCPUs in no group would be one-thread cores, which require
            # skips anyway, so they need not be found.
            cores = (map(operator.itemgetter(1), self.cores_in_order())
                     if self._covered else
                     sorted(self._whole_groups, key=min))
            for core in cores:
                if len(core) > 1:
                    threads.extend(sorted(core))
                    if len(threads) >= count:
                        break
            return threads[:count]
        if self.covered():
            sizes = set(map(len, self.whole_groups()))
            if len(sizes) == 1:
                return _pack_whole(self.cores_in_order(), sizes.pop(),
                                   count)
        elif count and set(map(len, self.siblings)) == {2}:
            whole = self.whole_groups()
            return _pack_pairs(sorted(whole, key=min),
                               sorted(set.difference(self.free, *whole)),
                               count)
        return _pack(self.free, self.siblings, self.free_singles(), count)


def _small_pages_fit(free, small_kb, avail_memory, memory_mb):
    """Whether ``memory_mb`` fits in a host cell's small pages (pages())."""
    if avail_memory < memory_mb:
        return False
    small_pool = free.get(small_kb)
    return (small_pool is None or
            small_pool * small_kb >= memory_mb * 1024)


def _huge_page_fits(free, size_kb, memory_mb):
    """Whether ``memory_mb`` fits in a host cell's pool of ``size_kb``."""
    need_kb = memory_mb * 1024
    return (size_kb in free and need_kb % size_kb == 0 and
            free[size_kb] * size_kb >= need_kb)


def _pack_whole(cores, size, count):
    """_pack when every free pCPU is in a whole core of ``size`` threads.

    ``cores``: (lowest thread, core), lowest first. _pack then takes the
    lowest count // size cores, and a remainder's threads from the next
    one (the smallest core left that holds it: they are all alike).
    """
    chosen = []
    for _cpu, core in cores:
        threads = sorted(core)
        if count < size:
            chosen.extend(threads[:count])
            return chosen
        chosen.extend(threads)
        count -= size
        if not count:
            return chosen
    return chosen


def _pack_pairs(whole, lone, count):
    """_pack when every sibling group has two threads (SMT2).

    Its buckets are then the whole cores (two free threads; ``whole``,
    lowest first) and the lone free threads (of a core with a pinned
    thread or a thread outside pcpuset, or in no core; ``lone``, sorted).
    _pack takes the lowest count // 2 whole cores; an odd last vCPU gets
    the lowest lone thread, else the first thread of the next whole core;
    when whole cores run short, the lowest lone threads make up the rest.
    """
    half, odd = divmod(count, 2)
    chosen = []
    for core in whole[:half]:
        chosen.extend(sorted(core))
    if len(whole) >= half:
        if odd:
            chosen.append(lone[0] if lone else min(whole[half]))
        return chosen
    chosen.extend(lone[:count - len(chosen)])
    return chosen


def _pack(free, siblings, singles, count):
    """Prefer policy: fill the cores with the most free threads first.

    A remainder smaller than every core left goes to the smallest one that
    holds it, so larger free cores stay whole for isolate/require guests.
    """
    # The free threads of each core that has any (C loops; one Python loop
    # only when cores differ in free threads).
    cores = list(filter(None, map(free.intersection, siblings)))
    sizes = list(map(len, cores))
    by_free: ty.Dict[int, ty.List[ty.Any]] = {}
    if cores:
        largest = max(sizes)
        if largest == min(sizes):
            by_free[largest] = cores
        else:
            for threads, size in zip(cores, sizes):
                if size in by_free:
                    by_free[size].append(threads)
                else:
                    by_free[size] = [threads]
    if singles:
        by_free.setdefault(1, []).extend(singles)
    chosen = []
    remaining = count
    for size in sorted(by_free, reverse=True):
        if size > remaining:
            continue
        for threads in sorted(by_free.pop(size), key=min):
            if size > remaining:
                by_free[size] = [threads]
                break
            chosen.extend(sorted(threads))
            remaining -= size
        if not remaining:
            return chosen
    # Every core left holds more than what remains.
    size = min(by_free)
    best = min(by_free[size], key=min)
    chosen.extend(sorted(best)[:remaining])
    return chosen


class _Ask(ty.NamedTuple):
    """What one guest cell asks, its fields read once from the object."""

    id: int
    cpuset: ty.Set[int]
    pcpuset: ty.Set[int]
    memory: int
    pagesize: ty.Optional[int]
    cpu_policy: ty.Optional[str]
    thread_policy: ty.Optional[str]
    # Pinned vCPUs (+1 emulator pCPU), or the vCPU count without pinning.
    need: int
    dedicated: bool
    # Shared vCPUs of a mixed cell float on the host cell's shared CPUs.
    floats: bool


def _ask(emulator_policy: ty.Optional[str], index: int, cell: ty.Any) -> _Ask:
    (cell_id, cpuset, pcpuset, memory, pagesize, cpu_policy,
     thread_policy) = _read_guest_cell(cell)
    dedicated = cpu_policy in PINNED_POLICIES
    if not dedicated:
        count = len(cpuset)
    else:
        count = len(pcpuset)
        if index == 0 and emulator_policy == EMULATOR_ISOLATE:
            count += 1
    return _Ask(cell_id, cpuset, pcpuset, memory, pagesize,
                cpu_policy, thread_policy, count, dedicated,
                dedicated and bool(cpuset))


def _match(guest_count, host_count, fits):
    """Assign each guest cell a distinct host cell; None when impossible.

    ``fits(g, h)`` says whether guest cell g fits host cell h (evaluated
    lazily and remembered: a guest cell usually takes the first free host
    cell it fits, so most pairs are never looked at). Kuhn's augmenting
    paths, low host ids first: deterministic.
    """
    if guest_count == 1:
        # One guest cell: the first host cell it fits (what the general
        # case below finds too), without its bookkeeping.
        for host in range(host_count):
            if fits(0, host):
                return {0: host}
        return None
    known = {}

    def fit(guest, host):
        key = (guest, host)
        if key not in known:
            known[key] = fits(guest, host)
        return known[key]

    owner: ty.Dict[int, int] = {}

    def augment(guest, seen):
        for host in range(host_count):
            if host in seen or not fit(guest, host):
                continue
            seen.add(host)
            if host not in owner or augment(owner[host], seen):
                owner[host] = guest
                return True
        return False

    for guest in range(guest_count):
        # A free host cell first, so earlier guest cells keep the low ids
        # they took; augmenting paths only when every fitting one is taken.
        # Each of this guest cell's pairs is new here (only its own
        # augmenting path below, or a later cell's, looks at it again).
        for host in range(host_count):
            if host not in owner:
                fitting = known[guest, host] = fits(guest, host)
                if fitting:
                    owner[host] = guest
                    break
        else:
            if not augment(guest, set()):
                return None
    return {guest: host for host, guest in owner.items()}


def _by_id(cells):
    """Host cells sorted by id (stable), read from the objects' storage."""
    try:
        ids = [cell._obj_id for cell in cells]
    except AttributeError:
        ids = [cell.id for cell in cells]
    if all(map(operator.lt, ids, ids[1:])):
        return list(cells)
    return [cells[i] for i in sorted(range(len(ids)), key=ids.__getitem__)]


def _check_pci(pci_requests: ty.Any, pci_stats: ty.Any) -> None:
    requests = getattr(pci_requests, 'requests', pci_requests)
    if requests or pci_stats is not None:
        raise NotImplementedError(
            _('numa_fit_instance_to_host: PCI devices are not supported by '
              'nova-realtime; pci_requests and pci_stats must be None (or '
              'no requests)'))


def _within_limits(limits: ty.Any, host: '_HostCell', count: int,
                   memory: int) -> bool:
    """Upstream's allocation ratio ceilings, for floating vCPUs.

    For guest cells with ``count`` floating vCPUs (shared or mixed).

    The host cells here track no floating CPU usage, so the CPU ratio
    bounds one guest cell's vCPUs by the host cell's shared CPUs times
    cpu_allocation_ratio; memory_usage plus the guest cell's memory must
    stay within memory times ram_allocation_ratio. Limits only refuse:
    a free-memory shortage is never overcommitted.
    """
    cpu_ratio = getattr(limits, 'cpu_allocation_ratio', None)
    if cpu_ratio is not None and \
            count > len(host.cell.cpuset) * cpu_ratio:
        return False
    ram_ratio = getattr(limits, 'ram_allocation_ratio', None)
    if ram_ratio is not None and \
            host.cell.memory_usage + memory > host.cell.memory * ram_ratio:
        return False
    return True


def numa_fit_instance_to_host(
        host_topology: NUMATopology,
        instance_topology: InstanceNUMATopology,
        provider_mapping: ty.Optional[ty.Dict[str, ty.List[str]]] = None,
        limits: ty.Any = None,
        pci_requests: ty.Any = None,
        pci_stats: ty.Any = None) -> ty.Optional[InstanceNUMATopology]:
    """Fit a requested guest NUMA topology to a host; None when it can't.

    Returns a new InstanceNUMATopology (inputs untouched) whose cells each
    sit on a distinct host cell (``host_node``; ``id`` stays the guest
    cell's), with ``pagesize`` the chosen page size in KiB (None when none
    was asked) and, for dedicated cells, ``cpu_pinning`` {vCPU: pCPU} over
    free pCPUs of the host cell's pcpuset, plus ``cpuset_reserved`` on cell
    0 for isolated emulator threads.

    Upstream's signature: ``provider_mapping`` only routes PCI requests and
    is ignored; ``limits`` (a NUMATopologyLimits or anything with
    cpu_allocation_ratio / ram_allocation_ratio) bounds the cells with
    floating vCPUs as _within_limits says; PCI is not supported, so
    ``pci_requests`` with requests or a ``pci_stats`` raise
    NotImplementedError.
    """
    if pci_requests is not None or pci_stats is not None:
        _check_pci(pci_requests, pci_stats)
    found = _matching(host_topology, instance_topology, limits)
    if found is None:
        return None
    asks, hosts, matching, emulator_policy = found
    fitted_cells = []
    build_cell = _fitted_cell()
    for index, ask in enumerate(asks):
        host = hosts[matching[index]]
        pinning = reserved = None
        if ask.dedicated:
            pcpus = host.pick(ask.need, ask.thread_policy)
            vcpus = sorted(ask.pcpuset)
            pinning = dict(zip(vcpus, pcpus))
            if ask.need > len(vcpus):
                reserved = set(pcpus[len(vcpus):])
        # Copies of every set and dict: the fitted cells share nothing with
        # the request. obj_from_coerced (its builder, by position): the
        # constructor without coercing each element again (they come from
        # the request's fields).
        fitted_cells.append(build_cell(
            ask.id, ask.cpuset, ask.pcpuset, ask.memory,
            host.choose_pagesize(ask.pagesize, ask.memory),
            ask.cpu_policy, ask.thread_policy, pinning, reserved, host.id))
    return _fitted_topology()(
        fitted_cells, emulator_policy,
        _field(instance_topology, 'realtime_cpus'))


def numa_instance_fits_host(
        host_topology: NUMATopology,
        instance_topology: InstanceNUMATopology,
        provider_mapping: ty.Optional[ty.Dict[str, ty.List[str]]] = None,
        limits: ty.Any = None,
        pci_requests: ty.Any = None,
        pci_stats: ty.Any = None) -> bool:
    """Whether numa_fit_instance_to_host would fit; nothing is built.

    A scheduler filter's question: the same arguments, the same answer
    (``numa_fit_instance_to_host(...) is not None``; test_hardware_fit
    holds the two to it), but only the host cells are chosen: no pCPU is
    picked and no object made, which is most of a fit's cost when the
    host has room. Only the host finally chosen needs the fit itself.
    """
    if pci_requests is not None or pci_stats is not None:
        _check_pci(pci_requests, pci_stats)
    return _matching(host_topology, instance_topology, limits) is not None


def _matching(host_topology: NUMATopology,
              instance_topology: InstanceNUMATopology, limits: ty.Any
              ) -> ty.Optional[ty.Tuple[ty.List[_Ask], ty.List[ty.Any],
                                        ty.Dict[int, int],
                                        ty.Optional[str]]]:
    """(asks, host cells, {guest cell: host cell position}, emulator
    policy) of a fit, or None when there is none.

    The host cells are _HostCell at each position looked at (every matched
    one), None elsewhere: each is built on first use.
    """
    if host_topology is None or instance_topology is None:
        return None
    guest_cells = list(_field(instance_topology, 'cells'))
    host_cells = _by_id(_field(host_topology, 'cells'))
    if not guest_cells or len(guest_cells) > len(host_cells):
        return None
    hosts: ty.List[ty.Optional[_HostCell]] = [None] * len(host_cells)
    emulator_policy = _field(instance_topology, 'emulator_threads_policy')
    asks = [_ask(emulator_policy, index, cell)
            for index, cell in enumerate(guest_cells)]

    def fits(guest: int, position: int) -> bool:
        ask = asks[guest]
        host = hosts[position]
        if host is None:
            host = hosts[position] = _HostCell(host_cells[position])
        return (host.cpus_fit(ask.need, ask.dedicated,
                              ask.thread_policy) and
                (not ask.floats or host.has_shared_cpus()) and
                (limits is None or not ask.cpuset or
                 _within_limits(limits, host, len(ask.cpuset),
                                ask.memory)) and
                host.choose_pagesize(ask.pagesize, ask.memory) is not _NO_FIT)

    matching = _match(len(guest_cells), len(host_cells), fits)
    if matching is None:
        return None
    return asks, hosts, matching, emulator_policy


def _fitted_cell():
    """InstanceNUMACell.obj_from_coerced of every field, by position."""
    return objects.InstanceNUMACell.obj_coerced_builder(
        'id', 'cpuset', 'pcpuset', 'memory', 'pagesize', 'cpu_policy',
        'cpu_thread_policy', 'cpu_pinning', 'cpuset_reserved', 'host_node')


def _fitted_topology():
    """InstanceNUMATopology.obj_from_coerced of every field, by position."""
    return objects.InstanceNUMATopology.obj_coerced_builder(
        'cells', 'emulator_threads_policy', 'realtime_cpus')


def _host_cells_by_id(host_topology: NUMATopology) -> ty.Dict[int, ty.Any]:
    return {cell.id: cell for cell in host_topology.cells}


def _cell_claim(host_cell: ty.Any, cell: ty.Any) -> ty.Set[int]:
    """Host pCPUs one fitted guest cell takes from ``host_cell``."""
    pcpus = set((cell.cpu_pinning or {}).values())
    pcpus |= cell.cpuset_reserved or set()
    if cell.cpu_thread_policy in (ISOLATE, REQUIRE):
        for pcpu in list(pcpus):
            pcpus |= host_cell.sibling_set(pcpu)
    return pcpus


def _host_node(cell: ty.Any) -> int:
    # host_node, set by numa_fit_instance_to_host; a topology fitted the
    # upstream way carries the host cell in ``id``.
    return cell.host_node if cell.host_node is not None else cell.id


def _fitted_host_cell(by_id: ty.Dict[int, ty.Any], cell: ty.Any) -> ty.Any:
    host_cell = by_id.get(_host_node(cell))
    if host_cell is None:
        raise exception.InternalError(
            reason=_('guest NUMA node %(node)s is fitted to host NUMA node '
                     '%(host)s, which this host does not have') %
            {'node': cell.id, 'host': _host_node(cell)})
    return host_cell


def numa_claimed_pcpus(host_topology: NUMATopology,
                       fitted: InstanceNUMATopology) -> ty.Set[int]:
    """Every host pCPU a fitted guest takes.

    The pinned pCPUs, the reserved emulator pCPU, and for the isolate and
    require thread policies every SMT sibling of those (kept from others).
    """
    by_id = _host_cells_by_id(host_topology)
    claimed: ty.Set[int] = set()
    for cell in fitted.cells:
        claimed |= _cell_claim(_fitted_host_cell(by_id, cell), cell)
    return claimed


def numa_usage_from_instance_numa(host_topology: NUMATopology,
                                  instance_topology: InstanceNUMATopology,
                                  free: bool = False) -> NUMATopology:
    """A new host topology with one fitted guest's usage added.

    With ``free``, removed instead; ``host_topology`` itself is untouched.

    Adds the guest's claimed pCPUs to pinned_cpus, small-page memory to
    memory_usage (and to the smallest page pool, when listed), huge pages to
    their pool's ``used``. A pCPU claimed twice (already pinned) raises
    InternalError: two real-time vCPUs on one pCPU is a fault to surface,
    not to count; so does freeing a pCPU that is not pinned. Memory beyond a
    pool's size is recorded as is (the guest exists; the pool then simply
    has no room); freed memory stops at zero. Either topology None: the
    host topology is returned as it is.
    """
    if host_topology is None or instance_topology is None:
        return host_topology
    usage = host_topology.obj_clone()
    by_id = _host_cells_by_id(usage)
    sign = -1 if free else 1
    for cell in instance_topology.cells:
        host_cell = _fitted_host_cell(by_id, cell)
        claim = _cell_claim(host_cell, cell)
        if free:
            missing = claim - host_cell.pinned_cpus
            if missing:
                raise exception.InternalError(
                    reason=_('host pCPU %(cpus)s of host NUMA node %(host)d '
                             'is not pinned, so it cannot be freed') %
                    {'cpus': format_cpu_spec(missing), 'host': host_cell.id})
            host_cell.pinned_cpus = set(host_cell.pinned_cpus) - claim
        else:
            twice = claim & host_cell.pinned_cpus
            if twice:
                raise exception.InternalError(
                    reason=_('host pCPU %(cpus)s of host NUMA node %(host)d '
                             'is pinned to more than one guest vCPU or '
                             'emulator thread') %
                    {'cpus': format_cpu_spec(twice), 'host': host_cell.id})
            host_cell.pinned_cpus = set(host_cell.pinned_cpus) | claim
        _add_memory_usage(host_cell, cell, sign)
    return usage


def _add_memory_usage(host_cell: ty.Any, cell: ty.Any, sign: int) -> None:
    if not add_memory_usage(host_cell, cell.pagesize, cell.memory * 1024,
                            sign):
        raise exception.InternalError(
            reason=_('guest NUMA node %(node)d uses %(size)d KiB pages, '
                     'which host NUMA node %(host)d does not have') %
            {'node': cell.id, 'size': cell.pagesize, 'host': host_cell.id})


def add_memory_usage(host_cell: ty.Any, pagesize: ty.Optional[int],
                     memory_kib: int, sign: int = 1) -> bool:
    """Count ``memory_kib`` of guest memory on ``host_cell`` (a NUMACell);
    ``sign`` -1 uncounts it. The one page accounting rule, for fitted
    guests and for the domains libvirt reports alike.

    ``pagesize``: None, a request word (MEMPAGES_SMALL/LARGE/ANY, as an
    unfitted cell carries) or the host's small page size: small pages, so
    the MiB go to memory_usage and the pages to the small pool when the cell
    lists one. MEMPAGES_DEFAULT_HUGE: the cell's first huge page size.
    Otherwise the huge page pool of that size. Used memory and pages stop
    at zero. Returns False, counting nothing, when the cell has no pool of
    the huge page size asked for.
    """
    sizes = sorted(pages.size_kb for pages in host_cell.mempages)
    small_kb = sizes[0] if sizes else SMALLEST_PAGE_KB
    if pagesize == MEMPAGES_DEFAULT_HUGE:
        huge = [size for size in sizes if size != small_kb]
        if not huge:
            return False
        pagesize = huge[0]
    if pagesize is None or pagesize < 0 or pagesize == small_kb:
        host_cell.memory_usage = max(
            0, host_cell.memory_usage + sign * (memory_kib // 1024))
        pagesize = small_kb
    pool = host_cell.pages(pagesize)
    if pool is None:
        return pagesize == small_kb
    pool.used = max(0, pool.used + sign * (memory_kib // pagesize))
    return True


def get_emulator_thread_pcpus(fitted: InstanceNUMATopology,
                              shared_set: ty.Optional[ty.Set[int]] = None
                              ) -> ty.Set[int]:
    """Host pCPUs the emulator threads of a fitted guest should run on.

    isolate: the reserved pCPU. share: ``shared_set``, the host's [compute]
    cpu_shared_set (the caller passes it: HostContext.cpu_sets.shared);
    when None, a real-time guest is refused (its emulator threads would
    otherwise preempt real-time vCPUs) and any other guest uses all its
    pinned pCPUs.
    No policy: for a real-time guest the pCPUs of its non-real-time vCPUs,
    otherwise all its pinned pCPUs. An empty set means the guest is not
    pinned, so its emulator threads float with its vCPUs.
    """
    pinning = fitted.cpu_pinning
    if not pinning:
        return set()
    policy = fitted.emulator_threads_policy
    if policy == EMULATOR_ISOLATE:
        reserved = fitted.cpuset_reserved
        if not reserved:
            raise exception.InternalError(
                reason=_('emulator threads policy isolate, but the fitted '
                         'guest has no reserved pCPU (cpuset_reserved)'))
        return set(reserved)
    if policy == EMULATOR_SHARE:
        if shared_set is not None:
            return set(shared_set)
        if fitted.is_realtime:
            raise exception.ConfigurationInvalid(
                group='compute', option='cpu_shared_set', value=None,
                reason=_('must be set on this host for a real-time guest '
                         'with hw:emulator_threads_policy=share, or its '
                         'emulator threads would run on real-time pCPUs'))
        return set(pinning.values())
    if fitted.is_realtime:
        housekeeping = {pcpu for vcpu, pcpu in pinning.items()
                        if vcpu not in fitted.realtime_cpus}
        if not housekeeping:
            raise exception.InternalError(
                reason=_('every vCPU of this real-time guest is real time '
                         'and it has no emulator threads policy; its '
                         'emulator threads have nowhere to run'))
        return housekeeping
    return set(pinning.values())
