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

"""Host capabilities (``virConnectGetCapabilities``) as Python objects.

Only what nova-realtime needs to build a host NUMATopology is modelled: the
host CPU (arch, model, topology, page sizes), the NUMA cells (memory, page
pools, CPUs with their SMT siblings) and the guest types. Each class parses
its element and formats it back (so round trips are testable); unmodelled
children are ignored. Memory is KiB, page sizes are KiB.

The document may come from an operator's file (``nova-realtime plan
--host-capabilities``) as well as from libvirt, so parsing trusts nothing:
every element and attribute nova-realtime uses is checked (present, a
bounded whole number, in range) before it is converted, and the document
must describe a host that can exist: unique cell ids, every CPU in exactly
one cell, SMT siblings within the CPU's own cell. Anything else raises
``nova.exception.LibvirtConfigInvalid`` naming the element by its path in
the document (``capabilities/host/topology/cells/cell[2]/cpus/cpu[3]``),
the attribute, the value (shortened) and the rule broken.
``load_capabilities_file`` reads a saved document within fixed bounds.

Re-exported by ``nova.virt.libvirt.config``.
"""

import os
import re
import stat

from nova import exception
from nova.i18n import _
from nova.virt import hardware
from nova.virt.libvirt import config

# Highest CPU id a host may report: the bound every CPU spec in
# nova-realtime has (nova.virt.hardware), so any CPU the capabilities list
# can be named in [compute] cpu_dedicated_set and in a guest's cpuset.
MAX_CPU_NUMBER = hardware.MAX_CPU_NUMBER
# Highest NUMA node id: Linux's largest CONFIG_NODES_SHIFT (10) allows 1024
# nodes.
MAX_NUMA_NODE = 1023
# Most SMT siblings (threads of one core) a CPU may list: 8 on the largest
# (POWER SMT8, SPARC); the bound keeps a short hostile document (every CPU
# "sibling" of every other) from costing a set of 4096 CPUs per CPU.
MAX_SMT_SIBLINGS = 64
# libvirt's schema types (basictypes.rng): unsignedInt and unsignedLong.
MAX_UINT32 = 2 ** 32 - 1
MAX_UINT64 = 2 ** 64 - 1
# Largest page size: 1 TiB in KiB, above any hardware page (1 GiB on x86,
# 16 GiB on POWER).
MAX_PAGE_SIZE_KB = 1 << 30
# libvirt lists one <guest> per OS type and architecture (a host with every
# qemu-system-* emulator installed has a few dozen) and a handful of domain
# types for each; far larger counts only cost memory.
MAX_GUESTS = 1024
MAX_DOMAIN_TYPES = 64
# Largest capabilities file load_capabilities_file reads: 8 MiB. libvirt
# never sends a capabilities document over 4 MiB (REMOTE_STRING_MAX, the
# longest string its RPC carries; ``virsh capabilities`` goes through it),
# and a 4096-CPU host's document is well under 1 MiB. Twice that bound
# leaves room for re-indented or annotated copies, while the parsed tree of
# the worst 8 MiB document (millions of empty elements) stays near 300 MB.
MAX_CAPABILITIES_FILE_BYTES = 8 * 1024 * 1024

# Values are shown shortened in errors: a 5000-digit number or a huge
# attribute must not make a huge error line.
_SHOWN_LENGTH = 40
# Whole numbers in libvirt XML: ASCII digits only (int() would also accept
# '+1', '1_000' and non-ASCII digits), optional surrounding whitespace.
_DIGITS_RE = re.compile(r'[0-9]+')
_XML_SPACE = ' \t\r\n'

# Scaled-integer units libvirt accepts (virScaleInteger; basictypes.rng
# 'unit'), lower-cased: bytes, powers of 1024 and powers of 1000.
_UNIT_BYTES = {'b': 1, 'byte': 1, 'bytes': 1}
for _power, _letter in enumerate('kmgtpe', start=1):
    _UNIT_BYTES[_letter] = 1024 ** _power
    _UNIT_BYTES[_letter + 'ib'] = 1024 ** _power
    _UNIT_BYTES[_letter + 'b'] = 1000 ** _power
del _power, _letter


# -- checked parsing helpers --------------------------------------------------

def _shown(value):
    """``value`` shortened for an error message (repr() escapes the rest)."""
    if isinstance(value, str) and len(value) > _SHOWN_LENGTH:
        return '%s...(%d characters)' % (value[:_SHOWN_LENGTH], len(value))
    return value


def _where(node):
    """The path of ``node`` in its document, e.g.
    ``capabilities/host/topology/cells/cell[2]``: what to look at.
    """
    try:
        return node.getroottree().getpath(node).lstrip('/')
    except (TypeError, ValueError):
        return str(node.tag)


def _bad(node, attribute, value, reason):
    return exception.LibvirtConfigInvalid(
        element=_where(node), attribute=attribute, value=_shown(value),
        reason=reason)


def _uint(node, attribute, text, high, low=0):
    """``text`` (an attribute value or element text of ``node``) as an int
    in [low, high]; its length is checked before any conversion.
    """
    if text is None:
        raise _bad(node, attribute, text, _('is required'))
    value = text.strip(_XML_SPACE)
    if value.startswith('-') and _DIGITS_RE.fullmatch(value[1:]):
        raise _bad(node, attribute, text, _('must not be negative'))
    if not _DIGITS_RE.fullmatch(value):
        raise _bad(node, attribute, text,
                   _('is not a whole number (decimal digits)'))
    if len(value.lstrip('0')) > len(str(high)):
        raise _bad(node, attribute, text,
                   _('has %(n)d digits; the largest allowed is %(max)d') %
                   {'n': len(value.lstrip('0')), 'max': high})
    number = int(value)
    if not low <= number <= high:
        raise _bad(node, attribute, text,
                   _('must be between %(low)d and %(high)d') %
                   {'low': low, 'high': high})
    return number


def _uint_attr(node, attribute, high, low=0, required=True):
    text = node.get(attribute)
    if text is None and not required:
        return None
    return _uint(node, attribute, text, high, low)


def _unit_bytes(node, unit, default='KiB'):
    """Bytes per ``unit`` (libvirt's units, case-insensitive)."""
    name = default if unit is None else unit
    factor = _UNIT_BYTES.get(name.strip(_XML_SPACE).lower())
    if factor is None:
        raise _bad(node, 'unit', unit,
                   _('not a unit libvirt knows (b, KiB, MiB, GiB, TiB, KB, '
                     'MB...)'))
    return factor


def _scaled_kib(node, attribute, text, unit):
    """A libvirt scaled integer (``text`` in ``unit``, default KiB) as KiB;
    at most 2^64-1 bytes, libvirt's own bound.
    """
    factor = _unit_bytes(node, unit)
    number = _uint(node, attribute, text, MAX_UINT64 // factor)
    return number * factor // 1024


def _page_size_kb(node):
    """``size`` and ``unit`` of a ``<pages>`` element as KiB: a power of two
    between 1 KiB and MAX_PAGE_SIZE_KB.
    """
    size = node.get('size')
    size_kb = _scaled_kib(node, 'size', size, node.get('unit'))
    if (not 1 <= size_kb <= MAX_PAGE_SIZE_KB
            or size_kb & (size_kb - 1)):
        raise _bad(node, 'size', size,
                   _('a page size is a power of two between 1 KiB and '
                     '%d KiB') % MAX_PAGE_SIZE_KB)
    return size_kb


def _cpu_set(node, attribute):
    text = node.get(attribute)
    if text is None:
        return None
    try:
        return hardware.parse_cpu_spec(text)
    except exception.InvalidCPUSpec as e:
        raise _bad(node, attribute, text, '%s (at %r)' % (
            e.kwargs.get('reason'), _shown(e.kwargs.get('part'))))


def _only(parent, tag, required=False):
    """The one child ``tag`` of ``parent`` (None if absent and allowed);
    a repeated element is refused rather than one copy silently used.
    """
    found = None
    for child in parent.iterchildren(tag):
        if found is not None:
            raise _bad(child, 'element', tag,
                       _('<%s> appears more than once') % tag)
        found = child
    if found is None and required:
        raise _bad(parent, tag, None, _('<%s> is required') % tag)
    return found


def _text(node, required=True):
    """The text of ``node`` (stripped); required unless told otherwise."""
    text = (node.text or '').strip(_XML_SPACE)
    if not text and required:
        raise _bad(node, 'text', node.text, _('is required'))
    return text or None


# -- the classes --------------------------------------------------------------

class LibvirtConfigCapsNUMAPages(config.LibvirtConfigObject):
    """``<pages unit='KiB' size='2048'>total</pages>`` of one NUMA cell.

    Iterates as ``(size_kb, total)`` so ``for size_kb, total in
    cell.mempages`` works.
    """

    ROOT_NAME = 'pages'
    FIELDS = (('size_kb', None), ('total', 0))

    def __iter__(self):
        return iter((self.size_kb, self.total))

    def format_dom(self):
        self._require('size_kb')
        node = self._new_node(unit='KiB', size=self.size_kb)
        node.text = str(self.total)
        return node

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.size_kb = _page_size_kb(xmldoc)
        self.total = _uint(xmldoc, 'text', xmldoc.text, MAX_UINT64)


class LibvirtConfigCapsNUMACPU(config.LibvirtConfigObject):
    """``<cpu id= socket_id= die_id= core_id= siblings=/>``.

    Some hosts report only ``id``: then socket_id, core_id and ``siblings``
    are None (read None siblings as "no SMT sibling known": ``{id}``). When
    given, ``siblings`` includes the CPU itself (as Linux's
    thread_siblings_list does).
    """

    ROOT_NAME = 'cpu'
    FIELDS = (('id', None), ('socket_id', None), ('core_id', None),
              ('siblings', None), ('die_id', None))

    def format_dom(self):
        if self.id is None:
            raise self._invalid('id', self.id, _('is required'))
        siblings = (config._cpu_spec(self.siblings)
                    if self.siblings else None)
        return self._new_node(id=self.id, socket_id=self.socket_id,
                              die_id=self.die_id, core_id=self.core_id,
                              siblings=siblings)

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.id = _uint_attr(xmldoc, 'id', MAX_CPU_NUMBER)
        self.socket_id = _uint_attr(xmldoc, 'socket_id', MAX_UINT32,
                                    required=False)
        self.die_id = _uint_attr(xmldoc, 'die_id', MAX_UINT32,
                                 required=False)
        self.core_id = _uint_attr(xmldoc, 'core_id', MAX_UINT32,
                                  required=False)
        self.siblings = _cpu_set(xmldoc, 'siblings')
        if self.siblings is None:
            return
        if self.id not in self.siblings:
            raise _bad(xmldoc, 'siblings', xmldoc.get('siblings'),
                       _('does not include the CPU itself (%d)') % self.id)
        if len(self.siblings) > MAX_SMT_SIBLINGS:
            raise _bad(xmldoc, 'siblings', xmldoc.get('siblings'), _(
                'names %(n)d CPUs; a core has at most %(max)d threads') % {
                'n': len(self.siblings), 'max': MAX_SMT_SIBLINGS})


class LibvirtConfigCapsNUMACell(config.LibvirtConfigObject):
    """One host NUMA node: ``memory`` KiB, ``mempages``, ``cpus``.

    Parsing requires ``id`` (a cell without ``<memory>`` has 0 KiB, as
    libvirt means it), refuses a CPU id or page size listed twice, and
    siblings naming a CPU not in this cell or disagreeing with that CPU's
    own siblings (SMT threads of one core are one group).
    """

    ROOT_NAME = 'cell'
    FIELDS = (('id', None), ('memory', None), ('mempages', list),
              ('cpus', list))

    def format_dom(self):
        root = self._new_node(id=self.id)
        if self.memory is not None:
            self._sub(root, 'memory', self.memory, unit='KiB')
        for pages in self.mempages:
            root.append(pages.format_dom())
        cpus = self._sub(root, 'cpus', num=len(self.cpus))
        for cpu in self.cpus:
            cpus.append(cpu.format_dom())
        return root

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.id = _uint_attr(xmldoc, 'id', MAX_NUMA_NODE)
        memory = _only(xmldoc, 'memory')
        # libvirt leaves <memory> out when the node has none (a memoryless
        # node) or its size is unknown: 0 KiB, nothing to place there.
        self.memory = 0 if memory is None else _scaled_kib(
            memory, 'text', memory.text, memory.get('unit'))
        for node in xmldoc.iterchildren('pages'):
            pages = LibvirtConfigCapsNUMAPages.from_dom(node)
            if any(p.size_kb == pages.size_kb for p in self.mempages):
                raise _bad(node, 'size', node.get('size'), _(
                    'a second <pages> of %d KiB in this cell') %
                    pages.size_kb)
            self.mempages.append(pages)
        cpus = _only(xmldoc, 'cpus')
        nodes = {}
        if cpus is not None:
            for node in cpus.iterchildren('cpu'):
                cpu = LibvirtConfigCapsNUMACPU.from_dom(node)
                if cpu.id in nodes:
                    raise _bad(node, 'id', node.get('id'), _(
                        'CPU %d is listed twice in this cell') % cpu.id)
                nodes[cpu.id] = node
                self.cpus.append(cpu)
        self._check_siblings(nodes)

    def _check_siblings(self, nodes):
        by_id = {cpu.id: cpu for cpu in self.cpus}
        ids = set(by_id)
        for cpu in self.cpus:
            if cpu.siblings is None:
                continue
            outside = cpu.siblings - ids
            if outside:
                raise _bad(nodes[cpu.id], 'siblings',
                           nodes[cpu.id].get('siblings'), _(
                               'names CPUs %(cpus)s that are not in cell '
                               '%(cell)d') % {
                    'cpus': config._cpu_spec(outside), 'cell': self.id})
            for other in sorted(cpu.siblings):
                theirs = by_id[other].siblings
                if theirs is not None and theirs != cpu.siblings:
                    raise _bad(nodes[cpu.id], 'siblings',
                               nodes[cpu.id].get('siblings'), _(
                                   'CPU %(other)d, listed as a sibling, '
                                   'has siblings %(theirs)s') % {
                        'other': other,
                        'theirs': config._cpu_spec(theirs)})


class LibvirtConfigCapsNUMATopology(config.LibvirtConfigObject):
    """``<topology><cells num=N>...</cells></topology>`` of the host.

    Parsing requires one ``<cells>`` with at least one ``<cell>``, and
    refuses a cell id used twice or a CPU listed in two cells (it would be
    pinned to guests of both).
    """

    ROOT_NAME = 'topology'
    FIELDS = (('cells', list),)

    def format_dom(self):
        root = self._new_node()
        cells = self._sub(root, 'cells', num=len(self.cells))
        for cell in self.cells:
            cells.append(cell.format_dom())
        return root

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        cells = _only(xmldoc, 'cells', required=True)
        cell_ids = set()
        cpu_cells = {}
        for node in cells.iterchildren('cell'):
            cell = LibvirtConfigCapsNUMACell.from_dom(node)
            if cell.id in cell_ids:
                raise _bad(node, 'id', node.get('id'),
                           _('cell %d is listed twice') % cell.id)
            cell_ids.add(cell.id)
            for cpu in cell.cpus:
                if cpu.id in cpu_cells:
                    raise _bad(node, 'cpus', cpu.id, _(
                        'CPU %(cpu)d is also in cell %(other)d: a CPU '
                        'belongs to one NUMA cell') % {
                        'cpu': cpu.id, 'other': cpu_cells[cpu.id]})
                cpu_cells[cpu.id] = cell.id
            self.cells.append(cell)
        if not self.cells:
            raise _bad(cells, 'cell', None,
                       _('at least one <cell> is required'))


class LibvirtConfigCapsHost(config.LibvirtConfigObject):
    """``<host>``: uuid, CPU arch/model/vendor/topology, the page sizes the
    host CPU supports (``page_sizes``, KiB) and the NUMA ``topology``.

    ``<cpu>`` with its ``<arch>`` is required; ``<topology>`` is optional
    here (libvirt's schema), required by ``LibvirtConfigCaps``.
    """

    ROOT_NAME = 'host'
    FIELDS = (('uuid', None), ('arch', None), ('model', None),
              ('vendor', None), ('cpu_topology', None), ('page_sizes', list),
              ('topology', None))

    def format_dom(self):
        self._require('arch')
        root = self._new_node()
        if self.uuid is not None:
            self._sub(root, 'uuid', self.uuid)
        cpu = self._sub(root, 'cpu')
        self._sub(cpu, 'arch', self.arch)
        if self.model is not None:
            self._sub(cpu, 'model', self.model)
        if self.vendor is not None:
            self._sub(cpu, 'vendor', self.vendor)
        if self.cpu_topology is not None:
            cpu.append(self.cpu_topology.format_dom())
        for size in self.page_sizes:
            self._sub(cpu, 'pages', unit='KiB', size=size)
        if self.topology is not None:
            root.append(self.topology.format_dom())
        return root

    def _parse_cpu(self, cpu):
        self.arch = _text(_only(cpu, 'arch', required=True))
        for tag in ('model', 'vendor'):
            node = _only(cpu, tag)
            if node is not None:
                setattr(self, tag, _text(node, required=False))
        node = _only(cpu, 'topology')
        if node is not None:
            # Each at least 1 (what format_dom requires); bounded by the
            # number of CPUs a host may have.
            counts = [_uint_attr(node, name, MAX_CPU_NUMBER + 1, low=1)
                      for name in ('sockets', 'cores', 'threads')]
            self.cpu_topology = config.LibvirtConfigGuestCPUTopology(
                *counts)
        for node in cpu.iterchildren('pages'):
            size_kb = _page_size_kb(node)
            if size_kb in self.page_sizes:
                raise _bad(node, 'size', node.get('size'),
                           _('page size %d KiB is listed twice') % size_kb)
            self.page_sizes.append(size_kb)

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        uuid = _only(xmldoc, 'uuid')
        if uuid is not None:
            self.uuid = _text(uuid, required=False)
        self._parse_cpu(_only(xmldoc, 'cpu', required=True))
        topology = _only(xmldoc, 'topology')
        if topology is not None:
            self.topology = LibvirtConfigCapsNUMATopology.from_dom(topology)


class LibvirtConfigCapsGuest(config.LibvirtConfigObject):
    """``<guest>``: an OS type on an arch and the domain types for it.

    ``<os_type>``, ``<arch name=>`` and at least one ``<domain type=>``
    are required (what format_dom writes).
    """

    ROOT_NAME = 'guest'
    FIELDS = (('os_type', None), ('arch', None), ('wordsize', None),
              ('emulator', None), ('domain_types', list))

    def format_dom(self):
        self._require('os_type', 'arch', 'domain_types')
        root = self._new_node()
        self._sub(root, 'os_type', self.os_type)
        arch = self._sub(root, 'arch', name=self.arch)
        if self.wordsize is not None:
            self._sub(arch, 'wordsize', self.wordsize)
        if self.emulator is not None:
            self._sub(arch, 'emulator', self.emulator)
        for domain_type in self.domain_types:
            self._sub(arch, 'domain', type=domain_type)
        return root

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.os_type = _text(_only(xmldoc, 'os_type', required=True))
        arch = _only(xmldoc, 'arch', required=True)
        self.arch = arch.get('name')
        if not self.arch:
            raise _bad(arch, 'name', self.arch, _('is required'))
        wordsize = _only(arch, 'wordsize')
        if wordsize is not None:
            self.wordsize = _uint(wordsize, 'text', wordsize.text,
                                  MAX_UINT32)
        emulator = _only(arch, 'emulator')
        if emulator is not None:
            self.emulator = _text(emulator, required=False)
        for node in arch.iterchildren('domain'):
            domain_type = node.get('type')
            if not domain_type:
                raise _bad(node, 'type', domain_type, _('is required'))
            if domain_type in self.domain_types:
                raise _bad(node, 'type', domain_type,
                           _('domain type listed twice'))
            if len(self.domain_types) == MAX_DOMAIN_TYPES:
                raise _bad(node, 'type', domain_type, _(
                    'more than %d domain types') % MAX_DOMAIN_TYPES)
            self.domain_types.append(domain_type)
        if not self.domain_types:
            raise _bad(arch, 'domain', None,
                       _('at least one <domain type=...> is required'))


class LibvirtConfigCaps(config.LibvirtConfigObject):
    """``<capabilities>``: ``host`` and a list of ``guests``.

    Parsing requires ``<host>`` with its NUMA ``<topology>``: nova-realtime
    places guests on NUMA cells, and libvirt reports one cell even for a
    host without NUMA.
    """

    ROOT_NAME = 'capabilities'
    FIELDS = (('host', None), ('guests', list))

    def format_dom(self):
        self._require('host')
        root = self._new_node()
        root.append(self.host.format_dom())
        for guest in self.guests:
            root.append(guest.format_dom())
        return root

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        host = _only(xmldoc, 'host', required=True)
        self.host = LibvirtConfigCapsHost.from_dom(host)
        if self.host.topology is None:
            raise _bad(host, 'topology', None, _(
                '<topology> (the host NUMA cells) is required to place '
                'guests'))
        for node in xmldoc.iterchildren('guest'):
            if len(self.guests) == MAX_GUESTS:
                raise _bad(node, 'element', 'guest',
                           _('more than %d <guest> elements') % MAX_GUESTS)
            self.guests.append(LibvirtConfigCapsGuest.from_dom(node))

    @classmethod
    def from_file(cls, path):
        """A saved document, read within bounds: load_capabilities_file."""
        return load_capabilities_file(path)

    def domain_types(self, os_type='hvm', arch=None):
        """Domain types (kvm, qemu, test...) offered for os_type/arch."""
        types = []
        for guest in self.guests:
            if guest.os_type == os_type and arch in (None, guest.arch):
                types.extend(t for t in guest.domain_types if t not in types)
        return types


# -- saved documents ----------------------------------------------------------

_FILE_KINDS = (
    (stat.S_ISDIR, _('a directory')),
    (stat.S_ISCHR, _('a character device')),
    (stat.S_ISBLK, _('a block device')),
    (stat.S_ISFIFO, _('a FIFO (named pipe)')),
    (stat.S_ISSOCK, _('a socket')),
)


def _not_regular(mode):
    """Why a file of ``mode`` is refused, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, kind in _FILE_KINDS:
        if test(mode):
            return _('is %s, not a regular file') % kind
    return _('is not a regular file')


def load_capabilities_file(path, max_bytes=MAX_CAPABILITIES_FILE_BYTES):
    """Read and parse a saved ``virsh capabilities`` document.

    Only a regular file of at most ``max_bytes`` is read: stat() refuses
    anything else before it is opened, the open is non-blocking (a FIFO
    swapped in meanwhile cannot hang it) and fstat() checks what was opened;
    at most ``max_bytes + 1`` bytes are read whatever the file claims. The
    XML is parsed without entity expansion or network access and checked
    like what libvirt returns. Returns a LibvirtConfigCaps; raises
    exception.CapabilitiesFileInvalid naming the file and the problem.
    """
    def fail(reason):
        return exception.CapabilitiesFileInvalid(path=path, reason=reason)

    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        raise fail(e.strerror or str(e))
    except ValueError as e:  # a NUL in the path
        raise fail(str(e))
    reason = _not_regular(mode)
    if reason:
        raise fail(reason)
    too_big = _('is larger than %d bytes (%d MiB); a libvirt capabilities '
                'document is far smaller') % (max_bytes, max_bytes >> 20)
    flags = (os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_NOCTTY', 0)
             | getattr(os, 'O_CLOEXEC', 0))
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise fail(e.strerror or str(e))
    try:
        info = os.fstat(fd)
        reason = _not_regular(info.st_mode)
        if reason:
            raise fail(reason)
        if info.st_size > max_bytes:
            raise fail(too_big)
        chunks = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as e:
        raise fail(e.strerror or str(e))
    finally:
        os.close(fd)
    data = b''.join(chunks)
    if len(data) > max_bytes:
        raise fail(too_big)
    if not data.strip():
        raise fail(_('is empty'))
    try:
        data.decode('utf-8')
    except UnicodeDecodeError as e:
        raise fail(_('is not UTF-8 text (byte 0x%(byte)02x at offset '
                     '%(offset)d); libvirt writes capabilities as UTF-8') %
                   {'byte': data[e.start], 'offset': e.start})
    try:
        return LibvirtConfigCaps.from_xml(data)
    except exception.LibvirtConfigInvalid as e:
        raise fail(str(e))
