"""Libvirt driver: turns flavor + image + host into a running guest.

``nova.virt.hardware`` decides (what the guest asks for, where it fits),
``nova.virt.libvirt.config`` writes XML, ``nova.virt.libvirt.host`` talks to
libvirt. This module assembles the guest config from the fitted topology and
runs the claim -> define -> start sequence with nothing left behind on
failure.
"""

import os
from urllib import parse as urlparse

import libvirt
from oslo_concurrency import lockutils
from oslo_log import log as logging

import nova.conf
from nova import exception
from nova.i18n import _
from nova.objects import fields
from nova.virt import hardware
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import host as host_mod
from nova.virt.libvirt import host_checks
from nova.virt.libvirt import host_facts

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

# One lock for "read host usage, fit, define": held across processes (an
# external file lock in [oslo_concurrency] lock_path) so two spawns can never
# both see a pCPU free and both pin it.
CLAIM_LOCK = 'host-resources'
LOCK_PREFIX = 'nova-realtime-'

SMALL_PAGE_KB = 4

# Host faults libvirt reports when it cannot start a real-time guest, and
# what the operator must change. Matched on libvirt's message text, which is
# all libvirt gives (both come back as generic system/internal errors).
_START_FAULTS = (
    ('Cannot set scheduler parameters',
     exception.RealtimeBudgetUnavailable,
     host_checks.RT_BUDGET_REASON, host_checks.RT_BUDGET_FIX),
    ('cannot limit locked memory',
     exception.MemoryLockingUnavailable,
     host_checks.MEMLOCK_REASON, host_checks.MEMLOCK_FIX),
)


def translate_start_error(name, error):
    """A NovaException for libvirt's refusal to start ``name``."""
    message = error.get_error_message() or str(error)
    for needle, exc_class, reason, fix in _START_FAULTS:
        if needle in message:
            return exc_class(
                reason=_('%(reason)s: libvirt said "%(msg)s"') % {
                    'reason': reason, 'msg': message},
                fix=fix)
    return exception.InstanceStartFailed(name=name, reason=message)


class LibvirtDriver(object):
    def __init__(self, host=None, host_root='/'):
        self._host = host or host_mod.Host()
        # Where the preflight reads /proc and /sys (a fake tree in tests).
        self._host_facts = host_facts.HostFacts(host_root)

    @property
    def host(self):
        return self._host

    # -- planning -----------------------------------------------------------

    @staticmethod
    def get_instance_constraints(flavor, image_meta):
        """Validate flavor + image; the requested InstanceNUMATopology."""
        return hardware.numa_get_constraints(flavor, image_meta)

    def claim(self, instance, image_meta, host_topology=None):
        """Fit the instance to the host; set instance.numa_topology.

        Raises ComputeResourcesUnavailable, saying what was short, when the
        host has no room. Call under CLAIM_LOCK and define before releasing
        it, or the claim means nothing to the next caller.
        """
        request = self.get_instance_constraints(instance.flavor, image_meta)
        self._claim(instance, request, host_topology)
        return instance.numa_topology

    def _claim(self, instance, request, host_topology=None):
        """claim() for an already validated request.

        Returns the host topology the fit used (read from libvirt when not
        given), or None when the guest needs no NUMA placement or pinning.
        """
        if request is None:
            instance.numa_topology = None
            return None
        if host_topology is None:
            host_topology = self._host.get_host_numa_topology()
        fitted = hardware.numa_fit_instance_to_host(host_topology, request)
        if fitted is None:
            raise exception.ComputeResourcesUnavailable(
                reason=describe_no_fit(host_topology, request))
        instance.numa_topology = fitted
        return host_topology

    def plan(self, instance, image_meta, host_topology=None):
        """Claim and build without defining anything.

        ``host_topology`` plans against that topology (a saved capabilities
        document) with [libvirt] virt_type; None plans against the live
        host.
        """
        request = self.get_instance_constraints(instance.flavor, image_meta)
        used = self._claim(instance, request, host_topology)
        guest = self._build_guest(
            instance, image_meta,
            virt_type=None if host_topology is None
            else CONF.libvirt.virt_type)
        _record_claimed_pcpus(guest, used, instance.numa_topology)
        return guest

    # -- guest config -------------------------------------------------------

    def get_guest_config(self, instance, image_meta, virt_type=None):
        """The LibvirtConfigGuest for an instance.

        Uses instance.numa_topology when already fitted (claimed); otherwise
        fits it against the live host now without defining anything.
        ``virt_type`` defaults to what the connection runs.
        """
        request = self.get_instance_constraints(instance.flavor, image_meta)
        if request is not None and not _is_fitted(instance.numa_topology):
            self._claim(instance, request)
        return self._build_guest(instance, image_meta, virt_type)

    def _build_guest(self, instance, image_meta, virt_type=None):
        """Assemble the config from a validated, claimed instance."""
        flavor = instance.flavor
        topology = instance.numa_topology
        if virt_type is None:
            virt_type = self._host.get_domain_type()

        guest = vconfig.LibvirtConfigGuest()
        guest.virt_type = virt_type
        guest.name = instance.name
        guest.uuid = instance.uuid
        guest.memory = flavor.memory_mb * 1024
        guest.vcpus = flavor.vcpus
        guest.os_type = 'hvm'
        _set_direct_kernel_boot(guest, instance, image_meta)
        guest.features = [vconfig.LibvirtConfigGuestFeature('acpi'),
                          vconfig.LibvirtConfigGuestFeature('apic')]
        guest.on_poweroff = 'destroy'
        guest.on_reboot = 'restart'
        guest.on_crash = 'destroy'
        guest.cpu = _get_guest_cpu_config(flavor, topology)
        if topology is not None:
            guest.cputune = _get_guest_cputune(topology)
            guest.numatune = _get_guest_numatune(topology)
            guest.membacking = _get_guest_memory_backing(topology)
        guest.devices = _get_guest_devices(
            None if virt_type == 'test' else console_log_path(instance.name))
        guest.metadata = [_get_guest_metadata(instance, topology)]
        return guest

    # -- lifecycle ----------------------------------------------------------

    def spawn(self, instance, image_meta, adjust_guest=None):
        """Claim, define and start; on any failure leave nothing defined.

        ``adjust_guest(guest)``, when given, may change the built config
        before it is defined. It exists for functional tests and
        benchmarks that must run a driver-built guest on a host unable to
        grant part of it (memory locking, on a host without
        CAP_SYS_RESOURCE); production callers never pass it.
        """
        # Validate before taking the host lock: bad input waits for nobody.
        request = self.get_instance_constraints(instance.flavor, image_meta)
        lock = lockutils.lock(CLAIM_LOCK, lock_file_prefix=LOCK_PREFIX,
                              external=True)
        with lock:
            if instance.name in self._defined_names():
                raise exception.InstanceExists(name=instance.name)
            host_topology = self._claim(instance, request)
            guest = self._build_guest(instance, image_meta)
            _record_claimed_pcpus(guest, host_topology,
                                  instance.numa_topology)
            if adjust_guest is not None:
                adjust_guest(guest)
            self._preflight(guest)
            if guest.virt_type != 'test':
                os.makedirs(os.path.dirname(console_log_path(instance.name)),
                            exist_ok=True)
            xml = guest.to_xml()
            LOG.debug('Defining %s:\n%s', instance.name, xml)
            try:
                domain = self._host.define(xml)
            except libvirt.libvirtError as e:
                raise exception.InstanceStartFailed(
                    name=instance.name, reason=e.get_error_message())
        try:
            self._start(domain, instance.name)
        except libvirt.libvirtError as e:
            error = translate_start_error(instance.name, e)
            domain = self._current_domain(domain, instance.name)
            LOG.error('Starting %s failed, undefining it: %s',
                      instance.name, error)
            self._undefine_quietly(domain)
            raise error
        LOG.info('Started %s', instance.name)
        return guest

    def preflight_applies(self, guest):
        """Whether the preflight can judge where ``guest`` would run.

        It reads this machine's /proc and /sys, so it is skipped for a
        remote connection URI (another host's kernel decides there) and for
        libvirt's test driver, which starts no process and applies neither
        scheduling policies nor memory limits: checking the machine that
        runs the unit tests would judge the wrong thing.
        """
        if not CONF.libvirt.realtime_preflight or guest.virt_type == 'test':
            return False
        return not urlparse.urlsplit(self._host.uri).hostname

    def _preflight(self, guest):
        """Refuse a real-time guest libvirt would refuse, before defining."""
        if self.preflight_applies(guest):
            host_checks.preflight(guest, self._host_facts)

    def _start(self, domain, name):
        """Start a defined domain, once more through a fresh connection if
        the libvirt daemon went away between define and start (a restart
        keeps the definition; the old domain handle is dead)."""
        try:
            domain.create()
        except libvirt.libvirtError as e:
            if e.get_error_code() not in host_mod.CONNECTION_ERRORS or \
                    not self._reconnected(domain):
                raise
            LOG.warning('Lost libvirt while starting %s (%s); retrying on '
                        'a new connection', name, e.get_error_message())
            self._host.lookup(name).create()

    def _current_domain(self, domain, name):
        """A live handle on ``name``: the old one may belong to a
        connection that died, which would leave the domain defined."""
        try:
            if not self._reconnected(domain):
                return domain
            return self._host.lookup(name)
        except (exception.NovaException, libvirt.libvirtError):
            return domain

    def _reconnected(self, domain):
        """True when ``domain``'s connection died and Host made a new one
        (raises HypervisorUnavailable while the daemon is still down)."""
        return self._host.get_connection() is not domain.connect()

    def destroy(self, name):
        """Stop (if running) and undefine a guest."""
        domain = self._host.lookup(name)
        try:
            if domain.isActive():
                domain.destroy()
        except libvirt.libvirtError as e:
            if e.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:
                raise
        domain.undefine()
        LOG.info('Destroyed %s', name)

    def list_instances(self):
        """[(name, running: bool, LibvirtConfigGuest)] for our guests."""
        return [item for item in self._host.list_guests()
                if item[2].get_metadata() is not None]

    def _defined_names(self):
        return {domain.name() for domain in self._host.list_domains()}

    @staticmethod
    def _undefine_quietly(domain):
        try:
            if domain.isActive():
                domain.destroy()
        except libvirt.libvirtError:
            pass
        try:
            domain.undefine()
        except libvirt.libvirtError as e:
            LOG.error('Could not undefine %s after a failed start: %s',
                      domain.name(), e)


def _is_fitted(topology):
    return topology is not None and all(
        cell.host_node is not None for cell in topology.cells)


def describe_no_fit(host_topology, request):
    """Why a request does not fit: what each host cell has free."""
    need_cpus = [len(cell.cpus) for cell in request.cells]
    need_mem = [cell.memory for cell in request.cells]
    pagesize = request.cells[0].pagesize
    wants_huge = pagesize is not None and pagesize != hardware.MEMPAGES_SMALL

    def describe_cell(cell):
        text = _('cell %(id)d: %(cpus)d free dedicated pCPUs, %(mem)d '
                 'MiB') % {'id': cell.id, 'cpus': len(cell.free_pcpus),
                           'mem': cell.avail_memory}
        if wants_huge:
            huge = [pages for pages in cell.mempages
                    if pages.size_kb > SMALL_PAGE_KB]
            text += ', ' + (', '.join(
                _('%(free)d free %(size)d KiB pages') % {
                    'free': pages.free, 'size': pages.size_kb}
                for pages in huge) or _('no huge pages'))
        return text
    free = '; '.join(describe_cell(cell) for cell in host_topology.cells)
    extra = ''
    if request.emulator_threads_policy == \
            fields.CPUEmulatorThreadsPolicy.ISOLATE:
        extra = _(' plus 1 pCPU for the isolated emulator threads')
    return _('no host NUMA cell placement for %(n)d guest cell(s) needing '
             '%(cpus)s vCPUs%(extra)s and %(mem)s MiB (page size '
             '%(page)s); host has %(free)s') % {
        'n': len(request.cells), 'cpus': need_cpus, 'extra': extra,
        'mem': need_mem,
        'page': _describe_pagesize(pagesize),
        'free': free}


def _describe_pagesize(pagesize):
    return {None: 'default', hardware.MEMPAGES_SMALL: 'small',
            hardware.MEMPAGES_LARGE: 'large',
            hardware.MEMPAGES_ANY: 'any'}.get(pagesize, '%s KiB' % pagesize)


# -- pure builders: fitted topology -> config elements ------------------------

def _get_guest_cpu_config(flavor, topology):
    cpu = vconfig.LibvirtConfigGuestCPU()
    cells = topology.cells if topology is not None else []
    sockets = len(cells) or 1
    if flavor.vcpus % sockets:
        sockets = 1
    cpu.topology = vconfig.LibvirtConfigGuestCPUTopology(
        sockets=sockets, cores=flavor.vcpus // sockets, threads=1)
    if cells:
        numa = vconfig.LibvirtConfigGuestCPUNUMA()
        numa.cells = [vconfig.LibvirtConfigGuestCPUNUMACell(
            id=cell.id, cpus=set(cell.cpus), memory=cell.memory * 1024)
            for cell in cells]
        cpu.numa = numa
    return cpu


def _get_guest_cputune(topology):
    """vcpupin for every vCPU, emulatorpin, and vcpusched for RT vCPUs."""
    cputune = vconfig.LibvirtConfigGuestCPUTune()
    pinning = topology.cpu_pinning
    if not pinning:
        # Shared guest with a NUMA layout: float within its host cells.
        return None
    for vcpu in sorted(pinning):
        cputune.vcpupin.append(vconfig.LibvirtConfigGuestCPUTuneVCPUPin(
            id=vcpu, cpuset={pinning[vcpu]}))
    cputune.emulatorpin = vconfig.LibvirtConfigGuestCPUTuneEmulatorPin(
        cpuset=hardware.get_emulator_thread_pcpus(topology))
    if topology.realtime_cpus:
        cputune.vcpusched.append(vconfig.LibvirtConfigGuestCPUTuneVCPUSched(
            vcpus=set(topology.realtime_cpus), scheduler='fifo',
            priority=CONF.libvirt.realtime_scheduler_priority))
    return cputune


def _get_guest_numatune(topology):
    numatune = vconfig.LibvirtConfigGuestNUMATune()
    numatune.memory = vconfig.LibvirtConfigGuestNUMATuneMemory(
        mode='strict',
        nodeset={cell.host_node for cell in topology.cells})
    numatune.memnodes = [vconfig.LibvirtConfigGuestNUMATuneMemNode(
        cellid=cell.id, mode='strict', nodeset={cell.host_node})
        for cell in topology.cells]
    return numatune


def _get_guest_memory_backing(topology):
    """Huge pages per guest cell; nosharepages + locked for real time."""
    by_size = {}
    for cell in topology.cells:
        if cell.pagesize and cell.pagesize > SMALL_PAGE_KB:
            by_size.setdefault(cell.pagesize, set()).add(cell.id)
    if not by_size and not topology.is_realtime:
        return None
    backing = vconfig.LibvirtConfigGuestMemoryBacking()
    backing.hugepages = [
        vconfig.LibvirtConfigGuestMemoryBackingPage(
            size_kb=size, nodeset=nodes)
        for size, nodes in sorted(by_size.items())]
    if topology.is_realtime:
        # Real-time guests must never wait on a page fault: keep KSM from
        # merging their pages and lock all of QEMU's memory.
        backing.sharedpages = False
        backing.locked = True
    return backing


def console_log_path(name):
    return os.path.join(CONF.libvirt.instances_path, name, 'console.log')


def _set_direct_kernel_boot(guest, instance, image_meta):
    """Kernel, initramfs and command line for a guest booted without disk.

    The command line (image property os_command_line) only means something
    with a kernel to pass it to.
    """
    if not instance.kernel_path:
        return
    guest.os_kernel = instance.kernel_path
    if instance.ramdisk_path:
        guest.os_initrd = instance.ramdisk_path
    cmdline = image_meta.properties.get('os_command_line')
    if cmdline:
        guest.os_cmdline = cmdline


def _get_guest_devices(log_path):
    """Serial console (to a log file on real hypervisors), no balloon."""
    if log_path:
        serial = vconfig.LibvirtConfigGuestSerial(type='file',
                                                  source_path=log_path)
        devices = [serial]
    else:
        devices = [vconfig.LibvirtConfigGuestSerial(type='pty'),
                   vconfig.LibvirtConfigGuestConsole(type='pty')]
    # No balloon: its host-side work and memory churn are latency sources,
    # and a dedicated guest's memory is not meant to move.
    devices.append(vconfig.LibvirtConfigGuestMemballoon(model='none'))
    return devices


def _record_claimed_pcpus(guest, host_topology, fitted):
    """Write every host pCPU the guest takes into its metadata: pins,
    the reserved emulator pCPU and SMT siblings kept free by the thread
    policy (which only the host topology knows)."""
    if fitted is not None and host_topology is not None:
        guest.get_metadata().claimed_pcpus = hardware.numa_claimed_pcpus(
            host_topology, fitted)


def _get_guest_metadata(instance, topology):
    meta = vconfig.LibvirtConfigGuestMetaNovaRealtime()
    flavor = instance.flavor
    meta.flavor_name = flavor.name
    meta.vcpus = flavor.vcpus
    meta.memory_mb = flavor.memory_mb
    meta.extra_specs = dict(flavor.extra_specs)
    if topology is not None:
        meta.realtime_vcpus = set(topology.realtime_cpus or ())
        meta.emulator_threads_policy = topology.emulator_threads_policy
        meta.set_numa_topology(topology)
    return meta
