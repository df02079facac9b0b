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

"""Host usage from what libvirt will actually run.

Every defined domain, ours or not, is read from its own domain XML (the live
definition of a running domain and the persistent one that its next start
uses, both): the host CPUs each of its vCPU, emulator and I/O threads may run
on (``<vcpupin>``, ``<emulatorpin>``, ``<iothreadpin>``, ``<vcpu cpuset>``),
and the guest memory bound to each host NUMA node (``<cpu><numa>`` cells,
``<numatune>``, ``<memoryBacking><hugepages>``).

Our own ``<metadata>`` is a record for people and ``list``: it may add pCPUs
(the SMT siblings that ``hw:cpu_thread_policy=isolate`` keeps free, which no
pin shows) but never removes one that a pin names. A domain that cannot be
read completely never blocks the host: what could be read counts as taken,
and the domain is named in a warning.

Nothing here talks to libvirt: ``nova.virt.libvirt.host`` fetches the XML.
"""

import collections
import os

from lxml import etree

from nova import exception
from nova.i18n import _
from nova.virt import hardware
from nova.virt import hardware_fit
from nova.virt.libvirt import config

# Our metadata namespaces (nova.virt.libvirt.config writes them). A domain
# carrying NOVA_RT_NS was created by this tool; BUILD_NS marks a domain
# whose boot has not finished (defined, start not yet confirmed).
NOVA_RT_NS = 'http://openstack.org/xmlns/libvirt/nova-realtime/1.0'
BUILD_NS = 'http://openstack.org/xmlns/libvirt/nova-realtime/build/1.0'
BUILD_PREFIX = 'nrtb'

# Bounds for reading domains we did not write: libvirt itself caps vCPUs
# far below this, and no domain document comes near this size.
MAX_DOMAIN_VCPUS = 16384
MAX_DOMAIN_XML_BYTES = 16 * 1024 * 1024
_MAX_INT_DIGITS = 20

XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True,
                          huge_tree=False, remove_comments=True)


class DomainUsage(object):
    """The host resources one domain holds.

    ``cpus``: host CPUs some thread of the domain may run on (pinned or
    confined). ``unconfined``: names of the threads that may run on every
    host CPU. ``memory``: {(host node, page size KiB, None for small
    pages or hardware.MEMPAGES_DEFAULT_HUGE): KiB}. ``claimed``: pCPUs our
    metadata records (None if not ours or unreadable). ``problems``: what
    could not be read.
    """

    def __init__(self, name, uuid=None, running=False):
        self.name = name
        self.uuid = uuid
        self.running = running
        self.ours = False
        self.building = False
        self.builder = None
        self.cpus = set()
        self.unconfined = []
        self.memory = collections.Counter()
        self.claimed = None
        self.problems = []
        self.xml = None

    @property
    def orphan(self):
        """Ours, defined by a boot that never finished, not running, and
        the process that defined it is gone or is this one (a boot in
        progress in a process with another lock path is not an orphan;
        this process's own boots are serialised by the host lock).
        """
        if not (self.ours and self.building and not self.running):
            return False
        return (not process_alive(self.builder) or
                self.builder == process_identity())

    @property
    def taken(self):
        """Every host CPU this domain keeps from a dedicated vCPU."""
        return self.cpus | (self.claimed or set())

    def __repr__(self):
        return 'DomainUsage(%r, cpus=%s, ours=%s)' % (
            self.name, hardware.format_cpu_spec(self.cpus), self.ours)


def process_identity(pid=None, proc='/proc'):
    """(boot id, pid, start time) naming a process uniquely on this host
    across pid reuse and reboots; None when /proc cannot tell.
    """
    pid = os.getpid() if pid is None else pid
    try:
        with open(os.path.join(proc, 'sys/kernel/random/boot_id')) as f:
            boot = f.read().strip()
        with open(os.path.join(proc, str(pid), 'stat')) as f:
            # Field 22 (start time), counted after the ')' that ends the
            # command name (which may itself hold spaces or parentheses).
            start = f.read().rsplit(')', 1)[1].split()[19]
    except (OSError, IndexError, ValueError):
        return None
    return boot, str(pid), start


def process_alive(identity):
    """Whether the process a build marker names still runs here."""
    if not identity or None in identity:
        return False
    boot, pid, _start = identity
    if not pid.isdigit() or len(pid) > 10:
        return False
    return process_identity(int(pid)) == identity


def read_int(text, what):
    text = (text or '').strip()
    if not text or len(text) > _MAX_INT_DIGITS or not text.isascii() or \
            not text.isdigit():
        raise exception.DomainXMLUnreadable(
            reason=_('%(what)s %(value)r is not a number') % {
                'what': what, 'value': text[:40]})
    return int(text)


def read_cpus(spec, what):
    try:
        return set(hardware.parse_cpu_spec(spec))
    except exception.Invalid as e:
        raise exception.DomainXMLUnreadable(
            reason=_('%(what)s: %(error)s') % {'what': what, 'error': e})


def read_kib(number, unit, what):
    """A libvirt scaled integer (``number`` in ``unit``, KiB when None) in
    KiB.
    """
    try:
        return config.to_kib(read_int(number, what), unit)
    except exception.LibvirtConfigInvalid:
        raise exception.DomainXMLUnreadable(
            reason=_('%(what)s has unknown unit %(unit)r') % {
                'what': what, 'unit': (unit or '')[:20]})


def parse_domain(xml, running=False):
    """A DomainUsage from one domain XML document (bytes or str)."""
    if isinstance(xml, str):
        xml = xml.encode('utf-8')
    if len(xml) > MAX_DOMAIN_XML_BYTES:
        usage = DomainUsage('?', running=running)
        usage.problems.append(_('domain XML larger than %d bytes') %
                              MAX_DOMAIN_XML_BYTES)
        usage.unconfined.append('all threads')
        return usage
    try:
        root = etree.fromstring(xml, XML_PARSER)
    except etree.XMLSyntaxError as e:
        usage = DomainUsage('?', running=running)
        usage.problems.append(_('domain XML does not parse: %s') % e)
        usage.unconfined.append('all threads')
        return usage
    usage = DomainUsage(root.findtext('name') or '?',
                        root.findtext('uuid'), running)
    _read_ownership(root, usage)
    for reader in (_read_cpus, _read_memory):
        try:
            reader(root, usage)
        except exception.DomainXMLUnreadable as e:
            usage.problems.append(str(e))
    return usage


def _read_ownership(root, usage):
    for child in root.iterfind('metadata/*'):
        if not isinstance(child.tag, str):
            continue
        namespace = etree.QName(child).namespace
        if namespace == NOVA_RT_NS:
            usage.ours = True
            claimed = child.findtext('{%s}claimed_pcpus' % NOVA_RT_NS)
            if claimed is not None:
                try:
                    usage.claimed = read_cpus(claimed,
                                              'metadata claimed_pcpus')
                except exception.DomainXMLUnreadable as e:
                    usage.problems.append(str(e))
        elif namespace == BUILD_NS:
            usage.building = True
            usage.builder = (child.get('boot'), child.get('pid'),
                             child.get('start'))


def read_vcpu_count(vcpu):
    """The number of vCPUs in a domain's <vcpu> element (1 without one),
    at most MAX_DOMAIN_VCPUS.
    """
    count = read_int(vcpu.text if vcpu is not None else '1', '<vcpu>')
    if count > MAX_DOMAIN_VCPUS:
        raise exception.DomainXMLUnreadable(
            reason=_('<vcpu> %(n)d is more than %(max)d') % {
                'n': count, 'max': MAX_DOMAIN_VCPUS})
    return count


def _read_cpus(root, usage):
    vcpu = root.find('vcpu')
    count = read_vcpu_count(vcpu)
    default = None
    if vcpu is not None and vcpu.get('cpuset'):
        default = read_cpus(vcpu.get('cpuset'), '<vcpu cpuset>')
    pins = {}
    # Each pin counts as soon as it is read: what could be read holds even
    # when a later part of the document cannot be.
    for pin in root.iterfind('cputune/vcpupin'):
        cpus = read_cpus(pin.get('cpuset'), '<vcpupin cpuset>')
        usage.cpus |= cpus
        pins[read_int(pin.get('vcpu'), '<vcpupin vcpu>')] = cpus
    floating = [v for v in range(count) if v not in pins]
    if floating and default is None:
        usage.unconfined.append(_('vCPU %s') % hardware.format_cpu_spec(
            floating))
    elif floating:
        usage.cpus |= default
    emulator = root.find('cputune/emulatorpin')
    if emulator is not None:
        usage.cpus |= read_cpus(emulator.get('cpuset'), '<emulatorpin cpuset>')
    elif default is not None:
        usage.cpus |= default
    else:
        usage.unconfined.append(_('emulator threads'))
    iothread_pins = {}
    for pin in root.iterfind('cputune/iothreadpin'):
        cpus = read_cpus(pin.get('cpuset'), '<iothreadpin cpuset>')
        usage.cpus |= cpus
        iothread_pins[pin.get('iothread')] = cpus
    iothreads = root.findtext('iothreads')
    if iothreads and read_int(iothreads, '<iothreads>') > len(iothread_pins):
        if default is None:
            usage.unconfined.append(_('I/O threads'))
        else:
            usage.cpus |= default


def _read_memory(root, usage):
    """Guest memory bound to one host node: {(node, pagesize): KiB}."""
    tune = root.find('numatune')
    memnodes = {}
    if tune is not None:
        for memnode in tune.iterfind('memnode'):
            memnodes[read_int(memnode.get('cellid'), '<memnode cellid>')] = \
                read_cpus(memnode.get('nodeset'), '<memnode nodeset>')
    default_nodes = None
    if tune is not None and tune.find('memory') is not None:
        nodeset = tune.find('memory').get('nodeset')
        if nodeset:
            default_nodes = read_cpus(nodeset, '<numatune memory nodeset>')
    pages = []
    for page in root.iterfind('memoryBacking/hugepages/page'):
        size = read_kib(page.get('size'), page.get('unit'),
                    '<hugepages page size>')
        cells = page.get('nodeset')
        pages.append((size, read_cpus(cells, '<page nodeset>')
                      if cells else None))

    def pagesize(cell_id):
        for size, cells in pages:
            if cells is None or cell_id in cells:
                return size
        if root.find('memoryBacking/hugepages') is not None and not pages:
            return hardware.MEMPAGES_DEFAULT_HUGE
        return None

    cells = root.findall('cpu/numa/cell')
    if cells:
        for cell in cells:
            cell_id = read_int(cell.get('id', '0'), '<numa cell id>')
            nodes = memnodes.get(cell_id, default_nodes)
            if nodes is not None and len(nodes) == 1:
                memory = read_kib(cell.get('memory'), cell.get('unit'),
                              '<numa cell memory>')
                usage.memory[(min(nodes), pagesize(cell_id))] += memory
    elif default_nodes is not None and len(default_nodes) == 1:
        memory = root.find('memory')
        if memory is not None:
            usage.memory[(min(default_nodes), pagesize(0))] += read_kib(
                memory.text, memory.get('unit'), '<memory>')


def merge(first, second):
    """One DomainUsage holding both (a running domain's live and next-start
    definitions): a CPU either may run on counts.
    """
    if first is None:
        return second
    first.cpus |= second.cpus
    for thread in second.unconfined:
        if thread not in first.unconfined:
            first.unconfined.append(thread)
    for key, kib in second.memory.items():
        first.memory[key] = max(first.memory[key], kib)
    if second.claimed is not None:
        first.claimed = (first.claimed or set()) | second.claimed
    first.ours = first.ours or second.ours
    first.building = first.building or second.building
    first.builder = first.builder or second.builder
    for problem in second.problems:
        if problem not in first.problems:
            first.problems.append(problem)
    return first


class HostUsage(object):
    """Every domain's usage applied to a host NUMATopology.

    ``topology``: the host topology with pinned_cpus, memory_usage and huge
    page use filled in. ``domains``: the DomainUsage list. ``conflicts``:
    {pCPU: sorted domain names} for each pCPU claimed by one of our guests
    and allowed to another domain too (a double pin). ``unconfined``,
    ``unreadable``, ``orphans``: the domains to warn about.
    """

    def __init__(self, topology, domains):
        self.domains = domains
        self.topology = topology
        self.conflicts = {}
        self.problems = []
        self._apply()

    @property
    def unconfined(self):
        return [d for d in self.domains if d.unconfined]

    @property
    def unreadable(self):
        return [d for d in self.domains if d.problems]

    @property
    def orphans(self):
        return [d for d in self.domains if d.orphan]

    def _apply(self):
        cells = {cell.id: cell for cell in self.topology.cells}
        host_cpus = set()
        for cell in self.topology.cells:
            host_cpus |= cell.pcpuset | cell.cpuset
        for domain in self.domains:
            for cell in self.topology.cells:
                taken = domain.taken & cell.pcpuset
                if taken:
                    cell.pinned_cpus = set(cell.pinned_cpus) | taken
            for (node, pagesize), kib in sorted(
                    domain.memory.items(), key=lambda item: (
                        item[0][0], item[0][1] or 0)):
                cell = cells.get(node)
                if cell is None:
                    continue
                self._add_memory(domain, cell, pagesize, kib)
        self._find_conflicts()

    def _add_memory(self, domain, cell, pagesize, kib):
        if not hardware_fit.add_memory_usage(cell, pagesize, kib):
            self.problems.append(
                _('%(name)s uses huge pages host NUMA node %(node)d '
                  'does not have') % {'name': domain.name, 'node': cell.id})

    def _find_conflicts(self):
        dedicated = set()
        for cell in self.topology.cells:
            dedicated |= cell.pcpuset
        holders = collections.defaultdict(set)
        for domain in self.domains:
            for pcpu in domain.taken & dedicated:
                holders[pcpu].add(domain.name)
        ours = [d for d in self.domains if d.ours]
        for domain in ours:
            exclusive = domain.taken & dedicated
            for pcpu in exclusive:
                if len(holders[pcpu]) > 1:
                    self.conflicts[pcpu] = sorted(holders[pcpu])

    def warnings(self):
        """One line per domain (or pCPU) an operator must hear about."""
        lines = []
        for domain in self.orphans:
            lines.append(
                _('domain %s was defined by a boot that never finished (it '
                  'never started): the next "nova-realtime boot" removes '
                  'it, or run "nova-realtime delete %s"') % (
                    domain.name, domain.name))
        for domain in self.unreadable:
            lines.append(
                _('domain %(name)s could not be read completely (%(why)s); '
                  'every host CPU it names is treated as taken') % {
                    'name': domain.name, 'why': '; '.join(domain.problems)})
        for domain in self.unconfined:
            lines.append(
                _('domain %(name)s may run on every host CPU (%(what)s not '
                  'pinned or confined): it can preempt real-time vCPUs; '
                  'confine it with <vcpu cpuset> / <emulatorpin> to the '
                  'shared CPUs') % {'name': domain.name,
                                    'what': ', '.join(domain.unconfined)})
        for pcpu, names in sorted(self.conflicts.items()):
            lines.append(
                _('host pCPU %(cpu)d is pinned to more than one guest '
                  '(%(names)s): no longer dedicated; delete or re-pin one '
                  'of them') % {'cpu': pcpu, 'names': ', '.join(names)})
        lines.extend(self.problems)
        return lines
