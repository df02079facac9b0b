"""Host capabilities (``virConnectGetCapabilities``) as Python objects.

Only what nova-realtime needs to build a host NUMATopology is modelled: the
host CPU (arch, model, topology, page sizes), the NUMA cells (memory, page
pools, CPUs with their SMT siblings) and the guest types. Each class parses
its element and formats it back (so round trips are testable); unmodelled
children are ignored. Memory is KiB, page sizes are KiB.

Re-exported by ``nova.virt.libvirt.config``.
"""

from nova.virt.libvirt import config


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
        self.size_kb = config.to_kib(xmldoc.get('size'), xmldoc.get('unit'))
        self.total = int(xmldoc.text or 0)


class LibvirtConfigCapsNUMACPU(config.LibvirtConfigObject):
    """``<cpu id= socket_id= die_id= core_id= siblings=/>``.

    Some hosts report only ``id``: then socket_id, core_id and ``siblings``
    are None (read None siblings as "no SMT sibling known": ``{id}``).
    """

    ROOT_NAME = 'cpu'
    FIELDS = (('id', None), ('socket_id', None), ('core_id', None),
              ('siblings', None), ('die_id', None))

    def format_dom(self):
        if self.id is None:
            raise self._invalid('id', self.id, 'is required')
        siblings = (config._cpu_spec(self.siblings)
                    if self.siblings else None)
        return self._new_node(id=self.id, socket_id=self.socket_id,
                              die_id=self.die_id, core_id=self.core_id,
                              siblings=siblings)

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.id = config._int(xmldoc.get('id'))
        self.socket_id = config._int(xmldoc.get('socket_id'))
        self.die_id = config._int(xmldoc.get('die_id'))
        self.core_id = config._int(xmldoc.get('core_id'))
        self.siblings = config._cpu_set(xmldoc.get('siblings'))


class LibvirtConfigCapsNUMACell(config.LibvirtConfigObject):
    """One host NUMA node: ``memory`` KiB, ``mempages``, ``cpus``."""

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
        self.id = config._int(xmldoc.get('id'))
        for child in xmldoc:
            if child.tag == 'memory':
                self.memory = config.to_kib(child.text, child.get('unit'))
            elif child.tag == 'pages':
                self.mempages.append(LibvirtConfigCapsNUMAPages.from_dom(
                    child))
            elif child.tag == 'cpus':
                self.cpus = [LibvirtConfigCapsNUMACPU.from_dom(cpu)
                             for cpu in child if cpu.tag == 'cpu']


class LibvirtConfigCapsNUMATopology(config.LibvirtConfigObject):
    """``<topology><cells num=N>...</cells></topology>`` of the host."""

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
        for cells in xmldoc.iterchildren('cells'):
            self.cells = [LibvirtConfigCapsNUMACell.from_dom(cell)
                          for cell in cells if cell.tag == 'cell']


class LibvirtConfigCapsHost(config.LibvirtConfigObject):
    """``<host>``: uuid, CPU arch/model/vendor/topology, the page sizes the
    host CPU supports (``page_sizes``, KiB) and the NUMA ``topology``."""

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
        for child in cpu:
            if child.tag == 'arch':
                self.arch = child.text
            elif child.tag == 'model':
                self.model = child.text
            elif child.tag == 'vendor':
                self.vendor = child.text
            elif child.tag == 'topology':
                self.cpu_topology = (
                    config.LibvirtConfigGuestCPUTopology.from_dom(child))
            elif child.tag == 'pages':
                self.page_sizes.append(
                    config.to_kib(child.get('size'), child.get('unit')))

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        for child in xmldoc:
            if child.tag == 'uuid':
                self.uuid = child.text
            elif child.tag == 'cpu':
                self._parse_cpu(child)
            elif child.tag == 'topology':
                self.topology = LibvirtConfigCapsNUMATopology.from_dom(child)


class LibvirtConfigCapsGuest(config.LibvirtConfigObject):
    """``<guest>``: an OS type on an arch and the domain types for it."""

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
        for child in xmldoc:
            if child.tag == 'os_type':
                self.os_type = child.text
            elif child.tag == 'arch':
                self.arch = child.get('name')
                for sub in child:
                    if sub.tag == 'wordsize':
                        self.wordsize = int(sub.text)
                    elif sub.tag == 'emulator':
                        self.emulator = sub.text
                    elif sub.tag == 'domain':
                        self.domain_types.append(sub.get('type'))


class LibvirtConfigCaps(config.LibvirtConfigObject):
    """``<capabilities>``: ``host`` and a list of ``guests``."""

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
        for child in xmldoc:
            if child.tag == 'host':
                self.host = LibvirtConfigCapsHost.from_dom(child)
            elif child.tag == 'guest':
                self.guests.append(LibvirtConfigCapsGuest.from_dom(child))

    def domain_types(self, os_type='hvm', arch=None):
        """Domain types (kvm, qemu, test...) offered for os_type/arch."""
        types = []
        for guest in self.guests:
            if guest.os_type == os_type and arch in (None, guest.arch):
                types.extend(t for t in guest.domain_types if t not in types)
        return types
