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

"""Libvirt driver: turns flavor + image + host into a running guest.

``nova.virt.hardware`` decides (what the guest asks for, where it fits),
``nova.virt.libvirt.config`` writes XML, ``nova.virt.libvirt.host`` talks to
libvirt. This module assembles the guest config from the fitted topology and
runs the claim -> define -> start sequence with nothing left behind on
failure.
"""

import collections
import contextlib
import os
import shutil
import signal
import threading
import time
from urllib import parse as urlparse

import libvirt
from oslo_concurrency import lockutils
from oslo_log import log as logging

import nova.conf
from nova import exception
from nova.i18n import _
from nova.objects import fields
from nova.virt import cpu_topology
from nova.virt import extra_specs
from nova.virt import hardware
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import guest_cpu
from nova.virt.libvirt import host as host_mod
from nova.virt.libvirt import host_checks
from nova.virt.libvirt import host_facts
from nova.virt.libvirt import usage as usage_mod

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

# One lock for "read host usage, fit, define": held across processes (an
# external file lock in [oslo_concurrency] lock_path) so two spawns can never
# both see a pCPU free and both pin it.
CLAIM_LOCK = 'host-resources'
LOCK_PREFIX = 'nova-realtime-'

# Longest guest name: libvirt names its files NAME.xml, NAME.log... and a
# file name is at most 255 bytes.
MAX_NAME_BYTES = 200

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


# A guest CPU feature the host CPU (or QEMU's TCG) cannot provide: libvirt
# says "Host CPU does not provide required features: tsc-deadline" (checked
# against the host CPU) or "guest CPU doesn't match specification: missing
# features: avx512f" (check='full', after QEMU started); the names are
# taken from the message (guest_cpu.missing_cpu_features).
CPU_FEATURE_REASON = _('the host CPU does not provide the CPU feature(s) '
                       '%(names)s the guest requires')
CPU_FEATURE_FIX = _(
    'run the guest on a host whose CPU has them (their flags in '
    '/proc/cpuinfo; tsc-deadline is tsc_deadline_timer there, which '
    'real-time guests require, see check-host cpu.tsc), or stop requiring '
    'them: [libvirt] cpu_model_extra_flags, cpu_mode, cpu_models')


def translate_start_error(name, error):
    """A NovaException for libvirt's refusal to start ``name``."""
    message = error.get_error_message() or str(error)
    for needle, exc_class, reason, fix in _START_FAULTS:
        if needle in message:
            return exc_class(
                reason=_('%(reason)s: libvirt said "%(msg)s"') % {
                    'reason': reason, 'msg': message},
                fix=fix)
    missing = guest_cpu.missing_cpu_features(message)
    if missing:
        return exception.HostNotReady(
            reason=_('%(reason)s: libvirt said "%(msg)s"') % {
                'reason': CPU_FEATURE_REASON % {'names': ', '.join(missing)},
                'msg': message},
            fix=CPU_FEATURE_FIX)
    return exception.InstanceStartFailed(name=name, reason=message)


class HostContext(collections.namedtuple('HostContext', (
        'cpu_sets', 'realtime_priority', 'cpu_mode', 'cpu_models',
        'cpu_model_extra_flags', 'instances_path', 'cpu_model_names',
        'cpu_feature_names', 'online_cpus'), defaults=(None, None, None))):
    """The host facts and operator settings a guest config is built from.

    Built once per plan or spawn (from_conf; for a live host, with the
    online CPUs (LibvirtDriver._with_online_cpus) and with_cpu_names) and
    passed down, so the builders and rules below read no configuration,
    libvirt or file: the same inputs give the same guest, and tests can
    build any host without touching CONF. ``cpu_sets`` is
    hardware.HostCPUSets ([compute] cpu_dedicated_set and cpu_shared_set);
    ``instances_path`` is [libvirt] instances_path (the guests' directories
    and console logs); ``cpu_model_names`` and ``cpu_feature_names`` are
    the CPU models and features the host's libvirt knows, which [libvirt]
    cpu_models and cpu_model_extra_flags are checked against (None: not
    known, not checked; a plan against a saved capabilities document);
    ``online_cpus`` the host CPUs libvirt reports online, which limit the
    host topology the fit uses (None: not known, every CPU of the
    capabilities).
    """

    @classmethod
    def from_conf(cls):
        """The operator's settings; no host fact read yet."""
        return cls(
            cpu_sets=host_mod.get_host_cpu_sets(),
            realtime_priority=CONF.libvirt.realtime_scheduler_priority,
            cpu_mode=CONF.libvirt.cpu_mode,
            cpu_models=list(CONF.libvirt.cpu_models or []),
            cpu_model_extra_flags=list(
                CONF.libvirt.cpu_model_extra_flags or []),
            instances_path=CONF.libvirt.instances_path)

    def with_cpu_names(self, host, virt_type):
        """This context with the CPU model and feature names of the live
        ``host`` (whose libvirt runs guests of ``virt_type``), read only
        when the settings need them: models for cpu_mode=custom, features
        for cpu_model_extra_flags, from libvirt's cpu_map when libvirt runs
        on this machine.
        """
        if virt_type not in guest_cpu.MODEL_VIRT_TYPES:
            return self
        models = features = None
        if self.cpu_mode == 'custom':
            models = _host_cpu_models(host)
        if self.cpu_model_extra_flags and \
                not urlparse.urlsplit(host.uri).hostname:
            features = _libvirt_cpu_features()
        return self._replace(cpu_model_names=models,
                             cpu_feature_names=features)


class GuestRequest(collections.namedtuple('GuestRequest', (
        'numa', 'cpu_topology', 'pmu', 'locked_memory', 'kernel_cmdline',
        'not_applied'), defaults=((),))):
    """What a flavor and image ask for, validated and resolved once, before
    the claim (LibvirtDriver.get_instance_constraints).

    ``numa``: the requested InstanceNUMATopology (NUMA layout, pinning,
    real-time vCPUs, emulator threads policy, page size), None when nothing
    NUMA-related is asked; ``cpu_topology``: the guest's sockets, cores and
    threads (cpu_topology.Topology); ``pmu``: True/False for <pmu state>,
    None to leave it to QEMU; ``locked_memory``: hw:locked_memory /
    hw_locked_memory asked for locking; ``kernel_cmdline``: the image's
    os_command_line, or None; ``not_applied``: the valid flavor keys and
    image properties this driver accepts without applying (sorted, flavor
    keys first), which the guest will not get.
    """


def _image_props(image_meta):
    """The ImageMetaProps of ``image_meta``, None when it has none."""
    if image_meta is None or not image_meta.obj_attr_is_set('properties'):
        return None
    return image_meta.properties


class LibvirtDriver(object):
    def __init__(self, host=None, host_root='/'):
        self._host = host or host_mod.Host()
        # Where the preflight reads /proc and /sys (a fake tree in tests).
        self._host_facts = host_facts.HostFacts(host_root)

    @property
    def host(self):
        return self._host

    def _with_online_cpus(self, context):
        """``context`` with the online CPUs of the live host: read after
        the request is resolved, so a bad flavor waits for no libvirt.
        """
        return context._replace(online_cpus=self._host.get_online_cpus())

    # -- planning -----------------------------------------------------------

    @staticmethod
    def get_instance_constraints(flavor, image_meta, context=None):
        """Validate flavor + image, once, into the GuestRequest the claim
        and the builders read.

        Everything the flavor extra specs and image properties ask for is
        resolved here, before the claim and outside the host lock: every
        extra spec is validated (nova.virt.extra_specs, the API's rules),
        then the NUMA constraints and pinning, the guest CPU topology, the
        PMU, locked memory and the kernel command line are resolved.
        Nothing after the claim reads a flavor or image key again.

        A flavor key asking for what this driver cannot provide (a virtual
        TPM, encrypted memory, a PCI device...) is refused here: ignoring
        it would weaken what the guest was promised. (The image's refused
        properties are refused when its metadata is read, by
        ImageMeta.from_dict, which also validated every property.) The
        valid keys this driver does not apply are logged in one warning
        and kept in the request.
        """
        specs = flavor.extra_specs
        not_applied = extra_specs.refuse_unsupported(specs)
        props = _image_props(image_meta)
        if props is not None:
            not_applied += list(props.not_applied())
        if not_applied:
            LOG.warning('accepted, not applied by this driver: %s',
                        ', '.join(not_applied))
        context = context or HostContext.from_conf()
        numa = hardware.numa_get_constraints(
            flavor, image_meta, host_cpus=context.cpu_sets)
        realtime = numa is not None and numa.is_realtime
        image_props = guest_cpu.image_values(image_meta)
        cells = numa.cells if numa is not None else []
        return GuestRequest(
            numa=numa,
            cpu_topology=cpu_topology.get_best_topology(
                flavor.vcpus, specs, image_props,
                [set(cell.total_cpus) for cell in cells]),
            pmu=guest_cpu.get_pmu_state(specs, image_props, realtime),
            locked_memory=bool(guest_cpu.get_locked_memory_constraint(
                specs, image_props)),
            kernel_cmdline=(props.get('os_command_line')
                            if props is not None else None),
            not_applied=tuple(not_applied))

    def _claim(self, instance, request, host_topology=None, context=None):
        """Fit a GuestRequest to the host; set instance.numa_topology.

        Returns the host topology the fit used (when not given, read from
        libvirt with the CPU sets and online CPUs of ``context``, a
        HostContext). Raises ComputeResourcesUnavailable, saying what was
        short, when the host has no room.
        """
        if host_topology is None:
            context = context or self._with_online_cpus(
                HostContext.from_conf())
            host_topology = self._host.get_host_numa_topology(
                context.cpu_sets, context.online_cpus)
        if request.numa is None:
            instance.numa_topology = None
            return host_topology
        fitted = hardware.numa_fit_instance_to_host(host_topology,
                                                    request.numa)
        if fitted is None:
            raise exception.ComputeResourcesUnavailable(
                reason=describe_no_fit(host_topology, request.numa))
        instance.numa_topology = fitted
        return host_topology

    def plan(self, instance, image_meta, host_topology=None):
        """Claim and build without defining anything.

        ``host_topology`` plans against that topology (a saved capabilities
        document) with [libvirt] virt_type; None plans against the live
        host.
        """
        validate_instance_name(instance.name)
        context = HostContext.from_conf()
        request = self.get_instance_constraints(instance.flavor, image_meta,
                                                context)
        if host_topology is None:
            context = self._with_online_cpus(context)
        used = self._claim(instance, request, host_topology, context)
        guest = self._build_guest(
            instance, request, used, context,
            virt_type=None if host_topology is None
            else CONF.libvirt.virt_type)
        _record_claimed_pcpus(guest, used, instance.numa_topology)
        return guest

    # -- guest config -------------------------------------------------------

    def _build_guest(self, instance, request, host_topology, context,
                     virt_type=None):
        """Assemble the config from a claimed instance, its GuestRequest
        and the host topology the claim used. Reads no flavor or image key.
        """
        flavor = instance.flavor
        topology = instance.numa_topology
        # No virt_type: built for the live host (else a saved document,
        # whose CPU model and feature names are not known: not checked).
        if virt_type is None:
            virt_type = self._host.get_domain_type()
            context = context.with_cpu_names(self._host, virt_type)
        floating = floating_pcpus(host_topology, topology, context.cpu_sets)

        guest = vconfig.LibvirtConfigGuest()
        guest.virt_type = virt_type
        guest.name = instance.name
        guest.uuid = instance.uuid
        guest.memory = flavor.memory_mb * 1024
        guest.vcpus = flavor.vcpus
        guest.os_type = 'hvm'
        _set_direct_kernel_boot(guest, instance, request.kernel_cmdline)
        realtime = topology is not None and topology.is_realtime
        guest.features = [vconfig.LibvirtConfigGuestFeature('acpi'),
                          vconfig.LibvirtConfigGuestFeature('apic')]
        if request.pmu is not None:
            guest.features.append(
                vconfig.LibvirtConfigGuestFeaturePMU(request.pmu))
        guest.on_poweroff = 'destroy'
        guest.on_reboot = 'restart'
        guest.on_crash = 'destroy'
        guest.cpu = _get_guest_cpu_config(request.cpu_topology, topology,
                                          context, virt_type)
        guest.cputune = _get_guest_cputune(topology, host_topology, floating,
                                           context)
        if topology is not None:
            guest.numatune = _get_guest_numatune(topology)
        elif floating is not None:
            # A floating guest runs on the shared CPUs only, never on a
            # pCPU that a dedicated (real-time) vCPU may be pinned to.
            guest.cpuset = set(floating)
        guest.membacking = _get_guest_memory_backing(topology,
                                                     request.locked_memory)
        guest.memtune = guest_cpu.get_memtune(guest.membacking, guest.memory,
                                              guest.vcpus, virt_type)
        guest.devices = _get_guest_devices(
            None if virt_type == 'test' else console_log_path(
                instance.name, context.instances_path),
            realtime)
        guest.metadata = [_get_guest_metadata(instance, topology)]
        return guest

    # -- lifecycle ----------------------------------------------------------

    def spawn(self, instance, image_meta, adjust_guest=None):
        """Claim, define and start; on any failure leave nothing behind.

        The whole claim -> define -> start runs under the host lock, so a
        domain that carries the build marker while the lock is free was
        left by a boot that died: the next boot removes it.

        ``adjust_guest(guest)``, when given, may change the built config
        before it is defined. It exists for functional tests and
        benchmarks that must run a driver-built guest on a host unable to
        grant part of it (memory locking, on a host without
        CAP_SYS_RESOURCE); production callers never pass it.
        """
        # Validate before taking the host lock: bad input waits for nobody.
        validate_instance_name(instance.name)
        context = HostContext.from_conf()
        request = self.get_instance_constraints(instance.flavor, image_meta,
                                                context)
        with host_lock():
            context = self._with_online_cpus(context)
            usage = self._host.get_host_usage(
                cpu_sets=context.cpu_sets, online_cpus=context.online_cpus)
            if usage.orphans:
                self._remove_orphans(usage.orphans, context.instances_path)
                usage = self._host.get_host_usage(
                    cpu_sets=context.cpu_sets,
                    online_cpus=context.online_cpus)
            for line in usage.warnings():
                LOG.warning('%s', line)
            if instance.name in {d.name for d in usage.domains}:
                raise exception.InstanceExists(name=instance.name)
            host_topology = self._claim(instance, request, usage.topology)
            guest = self._build_guest(instance, request, host_topology,
                                      context)
            _record_claimed_pcpus(guest, host_topology,
                                  instance.numa_topology)
            guest.metadata.append(_build_marker())
            if adjust_guest is not None:
                adjust_guest(guest)
            self._preflight(guest)
            xml = guest.to_xml()
            self._define_and_start(instance, guest, xml,
                                   context.instances_path)
        guest.metadata = [item for item in guest.metadata
                          if not _is_build_marker(item)]
        LOG.info('Started %s', instance.name)
        return guest

    def _define_and_start(self, instance, guest, xml, instances_path):
        dir_created = False
        try:
            LOG.debug('Defining %s:\n%s', instance.name, xml)
            domain = self._define(instance.name, xml)
            # After define: a process killed in between leaves a marked
            # domain (found and removed later), never a lone directory.
            if guest.virt_type != 'test':
                make_instance_dir(instance.name, instances_path)
                dir_created = True
            try:
                self._start(domain, instance.name)
            except libvirt.libvirtError as e:
                raise translate_start_error(instance.name, e)
            self._finish_build(domain, instance)
        except BaseException as error:
            LOG.error('Booting %s failed, removing what it defined: %s',
                      instance.name, error)
            with _signals_deferred():
                self._clean_up_failed_boot(
                    instance, instances_path if dir_created else None)
            raise

    def _define(self, name, xml):
        try:
            return self._host.define(xml)
        except libvirt.libvirtError as e:
            raise exception.InstanceStartFailed(
                name=name, reason=e.get_error_message())

    def _finish_build(self, domain, instance):
        """Drop the build marker: the guest runs, the boot is done."""
        for attempt in (1, 2):
            try:
                domain.setMetadata(
                    libvirt.VIR_DOMAIN_METADATA_ELEMENT, None, None,
                    usage_mod.BUILD_NS,
                    libvirt.VIR_DOMAIN_AFFECT_LIVE |
                    libvirt.VIR_DOMAIN_AFFECT_CONFIG)
                return
            except libvirt.libvirtError as e:
                if attempt == 2 or \
                        e.get_error_code() not in host_mod.CONNECTION_ERRORS:
                    raise
                domain = self._host.lookup_by_uuid(instance.uuid)

    def _clean_up_failed_boot(self, instance, instances_path):
        """Undefine what this boot defined (found by its UUID), retrying
        through new connections for [libvirt] cleanup_timeout seconds
        while libvirt is unreachable; then remove the instance directory
        this boot created below ``instances_path`` (None: it created
        none).
        """
        deadline = time.monotonic() + CONF.libvirt.cleanup_timeout
        delay = 0.1
        while True:
            try:
                self._undefine_uuid(instance.uuid)
                break
            except (exception.HypervisorUnavailable,
                    libvirt.libvirtError) as e:
                if time.monotonic() >= deadline:
                    LOG.error(
                        'Could not undefine %(name)s after its failed boot '
                        '(%(error)s); the next "nova-realtime boot" '
                        'removes it', {'name': instance.name, 'error': e})
                    return
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        if instances_path is not None:
            remove_instance_dir(instance.name, instances_path)

    def _undefine_uuid(self, uuid):
        try:
            domain = self._host.lookup_by_uuid(uuid)
        except exception.InstanceNotFound:
            return
        self._stop_and_undefine(domain)

    @staticmethod
    def _stop_and_undefine(domain):
        try:
            if domain.isActive():
                domain.destroy()
        except libvirt.libvirtError as e:
            if e.get_error_code() not in (libvirt.VIR_ERR_OPERATION_INVALID,
                                          libvirt.VIR_ERR_NO_DOMAIN):
                raise
        try:
            domain.undefine()
        except libvirt.libvirtError as e:
            if e.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise

    def _remove_orphans(self, orphans, instances_path):
        """Remove domains left by boots that died (call under the lock)."""
        for orphan in orphans:
            LOG.warning('Removing %s: defined by a boot that never '
                        'finished, never started', orphan.name)
            try:
                self._stop_and_undefine(self._host.lookup_by_uuid(
                    orphan.uuid))
            except exception.InstanceNotFound:
                pass
            remove_instance_dir(orphan.name, instances_path)

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
        keeps the definition; the old domain handle is dead).
        """
        try:
            domain.create()
        except libvirt.libvirtError as e:
            if e.get_error_code() not in host_mod.CONNECTION_ERRORS or \
                    not self._reconnected(domain):
                raise
            LOG.warning('Lost libvirt while starting %s (%s); retrying on '
                        'a new connection', name, e.get_error_message())
            self._host.lookup(name).create()

    def _reconnected(self, domain):
        """True when ``domain``'s connection died and Host made a new one
        (raises HypervisorUnavailable while the daemon is still down).
        """
        return self._host.get_connection() is not domain.connect()

    def destroy(self, name):
        """Stop (if running) and undefine a guest this tool created, and
        remove its instance directory. Any other domain is refused.
        """
        # A name no guest of ours can have (and that must not reach a
        # terminal raw: control characters) is refused before any lookup.
        validate_instance_name(name)
        domain = self._host.lookup(name)
        usage = self._host.domain_usage(domain)
        if not usage.ours:
            raise exception.InstanceNotOwned(name=name, action='delete')
        self._stop_and_undefine(domain)
        remove_instance_dir(name, CONF.libvirt.instances_path)
        LOG.info('Destroyed %s', name)

    def list_instances(self):
        """[(name, running, LibvirtConfigGuest or None, DomainUsage)] for
        our guests; logs a warning for what an operator must look at
        (orphans, domains it cannot read, unconfined domains, double
        pins).
        """
        guests = self._host.list_guests()
        try:
            host_usage = self._host.get_host_usage(
                [item[3] for item in guests])
        except exception.NovaException as e:
            LOG.warning('Cannot read the host topology: %s', e)
        else:
            for line in host_usage.warnings():
                LOG.warning('%s', line)
        return [item for item in guests if item[3].ours]


def validate_instance_name(name):
    """Refuse a name libvirt would refuse, or that would escape
    [libvirt] instances_path, before anything touches the disk.

    libvirt refuses '/' in a domain name; its own files are named after
    the domain (``NAME.xml``, ``NAME.log``), so the name must fit a file
    name (255 bytes) with room for those suffixes.
    """
    if not isinstance(name, str) or not name:
        raise exception.InvalidInstanceName(name=name,
                                            reason=_('must not be empty'))
    if '/' in name:
        raise exception.InvalidInstanceName(
            name=name, reason=_("must not contain '/'"))
    if name in ('.', '..'):
        raise exception.InvalidInstanceName(
            name=name, reason=_("must not be '.' or '..'"))
    if not name.isprintable():
        raise exception.InvalidInstanceName(
            name=name, reason=_('must contain printable characters only '
                                '(no control characters)'))
    if name != name.strip():
        raise exception.InvalidInstanceName(
            name=name, reason=_('must not start or end with white space'))
    if len(name.encode('utf-8', 'surrogatepass')) > MAX_NAME_BYTES:
        raise exception.InvalidInstanceName(
            name=name[:40] + '...',
            reason=_('must be at most %d bytes (UTF-8)') % MAX_NAME_BYTES)


def instance_dir(name, instances_path):
    """``instances_path``/NAME (``instances_path``: [libvirt]
    instances_path, HostContext.instances_path). The name is checked first
    (validate_instance_name: no '/', not '.' or '..'), so the path always
    stays directly below instances_path.
    """
    validate_instance_name(name)
    return os.path.join(os.path.realpath(instances_path), name)


def make_instance_dir(name, instances_path):
    """Create the guest's directory; refuse one that already exists (it is
    not ours to reuse or, later, to remove).
    """
    path = instance_dir(name, instances_path)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    try:
        os.mkdir(path, 0o755)
    except FileExistsError:
        raise exception.InstanceExists(
            name=_('%(name)s (its directory %(path)s exists; remove it if '
                   'nothing uses it)') % {'name': name, 'path': path})
    except OSError as e:
        raise exception.ConfigurationInvalid(
            group='libvirt', option='instances_path',
            value=instances_path,
            reason=_('cannot create %(path)s: %(error)s') % {
                'path': path, 'error': e.strerror})
    return path


def remove_instance_dir(name, instances_path):
    """Remove a guest's directory below ``instances_path`` (only a real
    directory, never through a symbolic link). A name no guest can have
    has no directory of ours.
    """
    try:
        path = instance_dir(name, instances_path)
    except exception.InvalidInstanceName:
        return
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT, SIGTERM and SIGHUP while cleaning up, so a second
    Ctrl-C cannot leave half of it undone; delivered afterwards.
    """
    signals = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


_THREAD_LOCK = threading.Lock()


@contextlib.contextmanager
def host_lock():
    """The host lock: this process's threads, then every process on the
    host (an external file lock in [oslo_concurrency] lock_path).

    Says so (a warning marked for immediate display) after a second of
    waiting; gives up after [libvirt] host_lock_timeout with
    HostLockTimeout.
    """
    timeout = CONF.libvirt.host_lock_timeout
    deadline = time.monotonic() + timeout
    lock_path = CONF.oslo_concurrency.lock_path
    path = os.path.join(lock_path, LOCK_PREFIX + CLAIM_LOCK)
    announced = []

    def wait(acquire):
        first = min(1.0, timeout)
        if acquire(first):
            return
        if time.monotonic() < deadline:
            if not announced:
                announced.append(True)
                LOG.warning('Waiting for the host lock %s (another '
                            'nova-realtime process holds it; giving up '
                            'after %d s)', path, timeout,
                            extra={'immediate': True})
            if acquire(max(0.0, deadline - time.monotonic())):
                return
        raise exception.HostLockTimeout(path=path, timeout=timeout)

    wait(lambda seconds: _THREAD_LOCK.acquire(timeout=seconds))
    try:
        external = lockutils.external_lock(CLAIM_LOCK, LOCK_PREFIX,
                                           lock_path)
        try:
            wait(lambda seconds: external.acquire(
                blocking=True, timeout=seconds, delay=0.01, max_delay=0.1))
        except OSError as e:
            raise exception.ConfigurationInvalid(
                group='oslo_concurrency', option='lock_path',
                value=lock_path,
                reason=_('cannot take the host lock %(path)s: %(error)s') % {
                    'path': path, 'error': e.strerror or e})
        try:
            yield
        finally:
            external.release()
    finally:
        _THREAD_LOCK.release()


def _build_marker():
    """Metadata marking a domain whose boot has not finished."""
    boot, pid, start = usage_mod.process_identity() or ('', '', '')
    return vconfig.LibvirtConfigRawElement(
        xml='<%(p)s:building xmlns:%(p)s="%(ns)s" boot="%(boot)s" '
            'pid="%(pid)s" start="%(start)s"/>' % {
                'p': usage_mod.BUILD_PREFIX, 'ns': usage_mod.BUILD_NS,
                'boot': boot, 'pid': pid, 'start': start})


def _is_build_marker(item):
    return isinstance(item, vconfig.LibvirtConfigRawElement) and \
        item.tag == '{%s}building' % usage_mod.BUILD_NS


def describe_no_fit(host_topology, request):
    """Why a request does not fit: what each host cell has free."""
    need_cpus = [len(cell.pcpuset or cell.cpuset) for cell in request.cells]
    need_mem = [cell.memory for cell in request.cells]
    pagesize = request.cells[0].pagesize
    wants_huge = pagesize is not None and pagesize != hardware.MEMPAGES_SMALL

    mixed = any(cell.cpuset and cell.pcpuset for cell in request.cells)

    def describe_cell(cell):
        text = _('cell %(id)d: %(cpus)d free dedicated pCPUs, %(mem)d '
                 'MiB') % {'id': cell.id, 'cpus': len(cell.free_pcpus),
                           'mem': cell.avail_memory}
        if mixed:
            text += _(', %d shared CPUs for the floating vCPUs') % len(
                cell.cpuset)
        if wants_huge:
            huge = [pages for pages in cell.mempages
                    if pages.size_kb > hardware.SMALLEST_PAGE_KB]
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

def _get_guest_cpu_config(best, topology, context, virt_type='kvm'):
    """<cpu>: mode, model and features ([libvirt] cpu_mode, cpu_models,
    cpu_model_extra_flags, checked against the context's CPU model and
    feature names when known; real-time needs), the topology ``best`` (a
    cpu_topology.Topology, resolved with the request) and the guest NUMA
    cells.
    """
    cells = topology.cells if topology is not None else []
    realtime = topology is not None and topology.is_realtime
    return guest_cpu.get_cpu(
        virt_type, context.cpu_mode, context.cpu_models,
        context.cpu_model_extra_flags, realtime, topology=best,
        numa_cells=[guest_cpu.get_numa_cell(cell, hardware.SMALLEST_PAGE_KB)
                    for cell in cells],
        known_models=context.cpu_model_names,
        known_features=context.cpu_feature_names)


def _host_cpu_models(host):
    """CPU model names the host's libvirt knows for its architecture, or
    None when it cannot say (libvirt then judges the model at start).
    """
    try:
        arch = host.get_capabilities().host.arch
        return host.get_connection().getCPUModelNames(arch, 0)
    except (libvirt.libvirtError, exception.NovaException) as e:
        LOG.debug('Cannot list the host CPU models: %s', e)
        return None


LIBVIRT_CPU_FEATURES = '/usr/share/libvirt/cpu_map/x86_features.xml'


def _libvirt_cpu_features(path=LIBVIRT_CPU_FEATURES):
    """libvirt's x86 CPU feature names (None when unreadable)."""
    try:
        with open(path) as f:
            return guest_cpu.parse_cpu_map_features(f.read(1 << 22))
    except (OSError, UnicodeDecodeError):
        return None


def floating_pcpus(host_topology, topology, cpu_sets):
    """Host CPUs that floating (unpinned) vCPUs and emulator threads may run
    on: [compute] cpu_shared_set; with only cpu_dedicated_set set, every
    online CPU outside it (upstream Nova would let them float everywhere);
    None when neither is set (no CPU is kept from floating guests).

    Raises ConfigurationInvalid when the guest (``topology``: its fitted
    InstanceNUMATopology, None for a guest without one) has floating vCPUs
    and cpu_dedicated_set takes every online CPU, leaving none for them.
    """
    if cpu_sets.dedicated is None and cpu_sets.shared is None:
        return None
    cpus = set().union(*(cell.cpuset for cell in host_topology.cells))
    floats = topology is None or any(cell.cpuset for cell in topology.cells)
    if not cpus and floats:
        raise exception.ConfigurationInvalid(
            group='compute', option='cpu_dedicated_set',
            value=hardware.format_cpu_spec(cpu_sets.dedicated or ()),
            reason=_('takes every online host CPU, so guests without '
                     'hw:cpu_policy=dedicated have nowhere to run; leave '
                     'CPUs for them in [compute] cpu_shared_set'))
    return cpus


def _get_guest_cputune(topology, host_topology, floating, context):
    """vcpupin for every vCPU, emulatorpin, and vcpusched for RT vCPUs.

    Dedicated vCPUs: each on its pCPU. Floating vCPUs (a shared guest
    with a NUMA layout, or the shared vCPUs of a mixed guest): on the
    floating CPUs of their host cell (every CPU of that cell when no CPU
    set is configured), as upstream pins each guest cell to its host cell.
    The emulator threads of a floating guest with a NUMA layout run on
    the CPUs of its vCPUs (the union of its cells' CPUs, as upstream); of
    a mixed guest without an emulator threads policy, on those of its
    floating vCPUs only (upstream adds the pCPUs of its non-real-time
    dedicated vCPUs: see upstream-differences.rst,
    ``upstream-difference-mixed-emulator``). A floating guest without a
    NUMA layout: emulatorpin on the floating CPUs (its vCPUs get ``<vcpu
    cpuset>``). None when nothing confines the guest.
    """
    cputune = vconfig.LibvirtConfigGuestCPUTune()
    pinning = topology.cpu_pinning if topology is not None else {}
    shared = set()
    if topology is not None:
        cells = {cell.id: cell for cell in host_topology.cells}
        for cell in topology.cells:
            allowed = cells[cell.host_node].cpuset
            if floating is not None:
                allowed = allowed & floating
            for vcpu in cell.cpuset:
                shared |= allowed
                cputune.vcpupin.append(
                    vconfig.LibvirtConfigGuestCPUTuneVCPUPin(
                        id=vcpu, cpuset=set(allowed)))
    for vcpu in pinning:
        cputune.vcpupin.append(vconfig.LibvirtConfigGuestCPUTuneVCPUPin(
            id=vcpu, cpuset={pinning[vcpu]}))
    cputune.vcpupin.sort(key=lambda pin: pin.id)
    if not pinning:
        if topology is not None:
            emulator = shared
        elif floating is None:
            return None
        else:
            emulator = floating
        cputune.emulatorpin = vconfig.LibvirtConfigGuestCPUTuneEmulatorPin(
            cpuset=set(emulator))
        return cputune
    if shared and topology.emulator_threads_policy is None:
        # Mixed: the emulator threads float with the shared vCPUs, off
        # every dedicated (and real-time) pCPU.
        emulator = shared
    else:
        emulator = hardware.get_emulator_thread_pcpus(
            topology, context.cpu_sets.shared)
    cputune.emulatorpin = vconfig.LibvirtConfigGuestCPUTuneEmulatorPin(
        cpuset=emulator)
    if topology.realtime_cpus:
        cputune.vcpusched.append(vconfig.LibvirtConfigGuestCPUTuneVCPUSched(
            vcpus=set(topology.realtime_cpus), scheduler='fifo',
            priority=context.realtime_priority))
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


def _get_guest_memory_backing(topology, locked=False):
    """Huge pages per guest cell; nosharepages + locked for real time;
    locked for hw:locked_memory / hw_locked_memory=true (``locked``, which
    needs a page size, so a NUMA topology).
    """
    if topology is None:
        return None
    by_size = {}
    for cell in topology.cells:
        if cell.pagesize and cell.pagesize > hardware.SMALLEST_PAGE_KB:
            by_size.setdefault(cell.pagesize, set()).add(cell.id)
    if not by_size and not topology.is_realtime and not locked:
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
    if locked:
        backing.locked = True
    return backing


def console_log_path(name, instances_path):
    """The serial console log of guest ``name`` under ``instances_path``
    (HostContext.instances_path).
    """
    return os.path.join(instances_path, name,
                        'console.log')


def _set_direct_kernel_boot(guest, instance, cmdline):
    """Kernel, initramfs and command line for a guest booted without disk.

    The command line (image property os_command_line) only means something
    with a kernel to pass it to.
    """
    if not instance.kernel_path:
        return
    guest.os_kernel = instance.kernel_path
    if instance.ramdisk_path:
        guest.os_initrd = instance.ramdisk_path
    if cmdline:
        guest.os_cmdline = cmdline


def _get_guest_devices(log_path, realtime=False):
    """Serial console (to a log file on real hypervisors), no balloon; no
    USB controller for real-time guests.
    """
    if log_path:
        serial = vconfig.LibvirtConfigGuestSerial(type='file',
                                                  source_path=log_path)
        devices = [serial]
    else:
        devices = [vconfig.LibvirtConfigGuestSerial(type='pty'),
                   vconfig.LibvirtConfigGuestConsole(type='pty')]
    usb = guest_cpu.get_usb_controller(realtime)
    if usb is not None:
        devices.append(usb)
    # No balloon: its host-side work and memory churn are latency sources,
    # and a dedicated guest's memory is not meant to move.
    devices.append(vconfig.LibvirtConfigGuestMemballoon(model='none'))
    return devices


def _record_claimed_pcpus(guest, host_topology, fitted):
    """Write every host pCPU the guest takes into its metadata: pins,
    the reserved emulator pCPU and SMT siblings kept free by the thread
    policy (which only the host topology knows).
    """
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
