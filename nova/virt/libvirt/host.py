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

"""The only module that talks to libvirt.

``Host`` owns the connection and turns what libvirt reports into objects:
capabilities into a host NUMATopology, and the domains libvirt has defined
into the pCPUs, memory and pages already taken. Nothing is cached between
calls that could go stale: libvirt is the source of truth, so a restarted
nova-compute (or a second process) sees exactly what the first one left.
"""

import libvirt
from oslo_log import log as logging

import nova.conf
from nova import exception
from nova.i18n import _
from nova import objects
from nova.virt import hardware
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import config_caps
from nova.virt.libvirt import usage as usage_mod

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


def _ignore_libvirt_error(_ctx, _error):
    """libvirt's default handler prints every error to stderr; ours are
    raised as exceptions and translated, so keep the terminal clean.
    """


libvirt.registerErrorHandler(_ignore_libvirt_error, None)

# Errors after which the connection is dead and worth one reconnect.
CONNECTION_ERRORS = (
    libvirt.VIR_ERR_SYSTEM_ERROR,
    libvirt.VIR_ERR_INTERNAL_ERROR,
    libvirt.VIR_ERR_NO_CONNECT,
    libvirt.VIR_ERR_INVALID_CONN,
    libvirt.VIR_ERR_RPC,
)


def get_host_cpu_sets():
    """[compute] cpu_dedicated_set and cpu_shared_set, read and checked
    once, as a hardware.HostCPUSets: what the host context carries to the
    rules (ConfigurationInvalid when malformed or overlapping).
    """
    return hardware.parse_host_cpu_sets(CONF.compute.cpu_dedicated_set,
                                        CONF.compute.cpu_shared_set)


def host_topology_from_caps(caps, cpu_sets, online_cpus=None):
    """Build the host NUMATopology (no usage) from parsed capabilities.

    ``cpu_sets`` (a hardware.HostCPUSets: [compute] cpu_dedicated_set and
    cpu_shared_set) decides which pCPUs dedicated and shared guests may
    use; when neither is set, every online pCPU may be dedicated, and a
    warning says so. ``online_cpus`` limits the usable pCPUs (None: every
    CPU the capabilities list).
    """
    dedicated, shared = cpu_sets.dedicated, cpu_sets.shared
    all_cpus = set()
    cells = []
    for cell in caps.host.topology.cells:
        cpus = {cpu.id for cpu in cell.cpus}
        if online_cpus is not None:
            cpus &= online_cpus
        all_cpus |= cpus
        siblings = []
        for cpu in cell.cpus:
            group = set(cpu.siblings or {cpu.id}) & cpus
            if len(group) > 1 and group not in siblings:
                siblings.append(group)
        mempages = [objects.NUMAPagesTopology(size_kb=pages.size_kb,
                                              total=pages.total)
                    for pages in cell.mempages]
        if shared is not None:
            floating = cpus & shared
        elif dedicated is not None:
            floating = cpus - dedicated
        else:
            floating = cpus
        cells.append(objects.NUMACell(
            id=cell.id,
            cpuset=floating,
            pcpuset=cpus & dedicated if dedicated is not None else cpus,
            siblings=siblings,
            memory=cell.memory // 1024,
            mempages=mempages))
    if dedicated is None:
        LOG.warning('[compute] cpu_dedicated_set is not set: every online '
                    'host CPU (%s) may be pinned to guests, leaving none '
                    'reserved for the host.',
                    hardware.format_cpu_spec(all_cpus))
    for option, cpus in (('cpu_dedicated_set', dedicated),
                         ('cpu_shared_set', shared)):
        if cpus is not None and not cpus <= all_cpus:
            raise exception.ConfigurationInvalid(
                group='compute', option=option,
                value=hardware.format_cpu_spec(cpus),
                reason=_('host CPUs %(missing)s do not exist or are not '
                         'online on this host (online: %(online)s)') % {
                    'missing': hardware.format_cpu_spec(cpus - all_cpus),
                    'online': hardware.format_cpu_spec(all_cpus)})
    return objects.NUMATopology(cells=cells)


# [libvirt] connection_uri when it is empty, by [libvirt] virt_type.
_DEFAULT_URIS = {'kvm': 'qemu:///system', 'qemu': 'qemu:///system',
                 'test': 'test:///default'}


def uri_for_virt_type(virt_type):
    """The libvirt URI a compute host with ``virt_type`` talks to."""
    return _DEFAULT_URIS.get(virt_type, 'qemu:///system')


class Host(object):
    def __init__(self, uri=None):
        self._uri = uri
        self._conn = None

    @property
    def uri(self):
        return (self._uri or CONF.libvirt.connection_uri or
                uri_for_virt_type(CONF.libvirt.virt_type))

    # -- connection ---------------------------------------------------------

    def get_connection(self):
        """An open connection, reconnecting once if the last one died."""
        conn = self._conn
        if conn is not None:
            try:
                if conn.isAlive():
                    return conn
            except libvirt.libvirtError:
                pass
            LOG.warning('Connection to %s was lost; reconnecting', self.uri)
            self._conn = None
        try:
            self._conn = libvirt.open(self.uri)
        except libvirt.libvirtError as e:
            raise exception.HypervisorUnavailable(
                uri=self.uri, reason=e.get_error_message())
        return self._conn

    def close(self):
        if self._conn is not None:
            try:
                self._conn.close()
            except libvirt.libvirtError:
                pass
            self._conn = None

    def _call(self, func, *args):
        """Run ``func(conn, *args)``, retrying once on a dead connection."""
        for attempt in (1, 2):
            conn = self.get_connection()
            try:
                return func(conn, *args)
            except libvirt.libvirtError as e:
                if (attempt == 1 and e.get_error_code() in CONNECTION_ERRORS
                        and not self._alive(conn)):
                    self._conn = None
                    continue
                raise

    @staticmethod
    def _alive(conn):
        try:
            return bool(conn.isAlive())
        except libvirt.libvirtError:
            return False

    def is_test_driver(self):
        return self._call(lambda conn: conn.getType()) == 'TEST'

    def get_domain_type(self):
        """The domain type guests get: [libvirt] virt_type.

        libvirt's test driver runs only domains of type ``test``, whatever
        virt_type says.
        """
        if self.is_test_driver():
            return 'test'
        return CONF.libvirt.virt_type

    def get_version(self):
        return self._call(lambda conn: conn.getLibVersion())

    # -- host resources -----------------------------------------------------

    def get_capabilities(self):
        xml = self._call(lambda conn: conn.getCapabilities())
        return config_caps.LibvirtConfigCaps.from_xml(xml)

    def get_online_cpus(self):
        """Online host CPUs, or None when libvirt cannot tell.

        The test driver's CPU map is a fixed sample that disagrees with its
        own capabilities (8 CPUs against 16), so it is not consulted.
        """
        if self.is_test_driver():
            return None
        try:
            _count, cpumap, _online = self._call(
                lambda conn: conn.getCPUMap())
        except libvirt.libvirtError as e:
            LOG.warning('Cannot read the online CPU map (%s); treating every '
                        'CPU in the capabilities as online', e)
            return None
        return {cpu for cpu, online in enumerate(cpumap) if online}

    def get_host_usage(self, domains=None, cpu_sets=None, online_cpus=None):
        """HostUsage: the host NUMATopology with what every defined domain
        (ours or not) holds, read from the domains' own XML (``domains``:
        DomainUsage list already read, else read now).

        ``cpu_sets`` and ``online_cpus`` are the host context's facts
        (driver.HostContext); each is read now when not given
        (get_host_cpu_sets, get_online_cpus).
        """
        if cpu_sets is None:
            cpu_sets = get_host_cpu_sets()
        if online_cpus is None:
            online_cpus = self.get_online_cpus()
        topology = host_topology_from_caps(self.get_capabilities(),
                                           cpu_sets, online_cpus)
        if domains is None:
            domains = [usage for _dom, usage in self.get_domain_usages()]
        return usage_mod.HostUsage(topology, domains)

    def get_host_numa_topology(self, cpu_sets=None, online_cpus=None):
        """Host NUMATopology with the usage of every domain libvirt knows;
        logs a warning for each domain an operator must look at.
        ``cpu_sets`` and ``online_cpus`` as for get_host_usage.
        """
        host_usage = self.get_host_usage(cpu_sets=cpu_sets,
                                         online_cpus=online_cpus)
        for line in host_usage.warnings():
            LOG.warning('%s', line)
        return host_usage.topology

    # -- domains ------------------------------------------------------------

    def list_domains(self):
        return self._call(lambda conn: conn.listAllDomains())

    @staticmethod
    def domain_usage(dom):
        """The DomainUsage of one domain, from its own XML: a running
        domain's live definition merged with the persistent one its next
        start uses (a CPU either may run on counts).
        """
        running = bool(dom.isActive())
        xmls = [dom.XMLDesc(0)]
        if running and dom.isPersistent():
            xmls.append(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        merged = None
        for xml in xmls:
            merged = usage_mod.merge(merged,
                                     usage_mod.parse_domain(xml, running))
        merged.name = dom.name()
        merged.xml = xmls[0]
        return merged

    def get_domain_usages(self):
        """[(virDomain, DomainUsage)] for every defined or running domain,
        sorted by name; a domain undefined while we list is skipped.
        """
        result = []
        for dom in self.list_domains():
            try:
                result.append((dom, self.domain_usage(dom)))
            except libvirt.libvirtError as e:
                if e.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise
        return sorted(result, key=lambda item: item[1].name)

    def list_guests(self):
        """[(name, running, LibvirtConfigGuest or None, DomainUsage)] for
        every domain, sorted by name. The config is None for a domain
        whose XML this tree cannot model (it is still listed).
        """
        guests = []
        for _dom, usage in self.get_domain_usages():
            try:
                guest = vconfig.LibvirtConfigGuest.from_xml(usage.xml)
            except Exception as e:  # any hostile document: list it anyway
                LOG.debug('Cannot model domain %s: %s', usage.name, e)
                guest = None
            guests.append((usage.name, usage.running, guest, usage))
        return guests

    def _lookup(self, func, key):
        """``func(conn, key)``; InstanceNotFound (naming ``key``) when
        libvirt has no such domain.
        """
        try:
            return self._call(func, key)
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise exception.InstanceNotFound(name=key)
            raise

    def lookup(self, name):
        return self._lookup(lambda conn, name: conn.lookupByName(name), name)

    def lookup_by_uuid(self, uuid):
        return self._lookup(
            lambda conn, uuid: conn.lookupByUUIDString(uuid), uuid)

    def define(self, xml):
        return self._call(lambda conn: conn.defineXML(xml))
