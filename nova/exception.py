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

"""Exceptions raised by nova-realtime.

Every message names what was wrong (the property and its value), the rule it
broke and, for host faults, what to change on the host.  Callers never need to
parse a message: the keyword arguments stay available as ``exc.kwargs``.
"""

from nova.i18n import _


class NovaException(Exception):
    """Base exception: subclasses set ``msg_fmt`` (a %-format over kwargs)."""

    msg_fmt = _("An unknown exception occurred.")

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            message = self._format(kwargs)
        self.message = message
        super().__init__(message)

    def _format(self, kwargs):
        """msg_fmt over ``kwargs``; never raises. An argument the format
        names but the raiser left out is shown as ``<name unknown>``, so a
        bug in a raise still gives the user the message.
        """
        class Args(dict):
            def __missing__(self, key):
                return '<%s unknown>' % key
        try:
            return self.msg_fmt % Args(kwargs)
        except (TypeError, ValueError):
            # A format that does not match its arguments' types.
            return '%s %s' % (self.msg_fmt, kwargs)

    def __str__(self):
        return self.message


class Invalid(NovaException):
    msg_fmt = _("Invalid input: %(reason)s")


class InvalidCPUSpec(Invalid):
    """A CPU spec string (``0-3,^2``) is malformed (parse_cpu_spec)."""

    msg_fmt = _("CPU spec %(spec)r is malformed at %(part)r: %(reason)s")


class InvalidProperty(Invalid):
    """A flavor extra spec or image property has a value that breaks a rule.

    ``name`` is the key as the user wrote it: ``hw:cpu_realtime`` for a
    flavor extra spec, ``hw_cpu_realtime_mask`` for an image property.
    """

    msg_fmt = _("%(name)s=%(value)r is invalid: %(reason)s")


# The classes below carry upstream Nova's names (what callers and tests
# written against upstream catch) but this tree's keyword arguments and
# messages: each names the key, its value and the rule (InvalidProperty) or
# both keys and values (PropertyConflict).


class RealtimeMaskNotFoundOrInvalid(InvalidProperty):
    """A real-time mask is malformed, wrong for the flavor, or empty.

    hw:cpu_realtime_mask / hw_cpu_realtime_mask names a vCPU the flavor
    lacks, or leaves no (or only) real-time vCPUs.
    """


class RealtimeConfigurationInvalid(InvalidProperty):
    """Real time asked without pinned CPUs, or unusable on this host.

    Without dedicated (or mixed) CPUs, or with an emulator threads policy
    the host cannot honour.
    """


class InvalidCPUAllocationPolicy(InvalidProperty):
    """hw:cpu_policy / hw_cpu_policy is not shared, dedicated or mixed."""


class InvalidCPUThreadAllocationPolicy(InvalidProperty):
    """hw:cpu_thread_policy is not prefer, isolate or require."""


class CPUThreadPolicyConfigurationInvalid(InvalidProperty):
    """A CPU thread policy without dedicated (or mixed) CPUs."""


class InvalidEmulatorThreadsPolicy(InvalidProperty):
    """hw:emulator_threads_policy is not share or isolate."""


class BadRequirementEmulatorThreadsPolicy(InvalidProperty):
    """An emulator threads policy without dedicated (or mixed) CPUs."""


class RequiredMixedInstancePolicy(InvalidProperty):
    """hw:cpu_dedicated_mask without hw:cpu_policy=mixed."""


class RequiredMixedOrRealtimeCPUMask(InvalidProperty):
    """Mixed needs one of hw:cpu_dedicated_mask and a real-time mask."""


class InvalidMixedInstanceDedicatedMask(InvalidProperty):
    """hw:cpu_dedicated_mask is malformed or wrong for the flavor.

    It names a vCPU the flavor lacks, or leaves no dedicated or no shared
    vCPU.
    """


class MemoryPageSizeInvalid(InvalidProperty):
    """hw:mem_page_size / hw_mem_page_size is no page size."""


class InvalidNUMANodesNumber(InvalidProperty):
    """hw:numa_nodes / hw_numa_nodes is not 1 to the flavor's vCPUs."""


class ImageNUMATopologyIncomplete(InvalidProperty):
    """A per-node NUMA split misses a node's vCPUs or memory."""


class ImageNUMATopologyAsymmetric(InvalidProperty):
    """vCPUs or memory do not divide evenly over the NUMA nodes."""


class ImageNUMATopologyCPUOutOfRange(InvalidProperty):
    """A per-node vCPU list names a vCPU (or node) that does not exist."""


class ImageNUMATopologyCPUDuplicates(InvalidProperty):
    """A vCPU is in two guest NUMA nodes."""


class ImageNUMATopologyCPUsUnassigned(InvalidProperty):
    """A vCPU is in no guest NUMA node."""


class ImageNUMATopologyMemoryOutOfRange(InvalidProperty):
    """The per-node memory does not add up to the flavor's."""


class PropertyConflict(Invalid):
    """A flavor extra spec and an image property disagree."""

    msg_fmt = _("flavor %(flavor_key)s=%(flavor_value)r conflicts with image "
                "%(image_key)s=%(image_value)r: %(reason)s")


class ImageCPUPinningForbidden(PropertyConflict):
    """The image asks a CPU policy the flavor forbids."""


class ImageCPUThreadPolicyForbidden(PropertyConflict):
    """The image asks a CPU thread policy other than the flavor's."""


class ImageNUMATopologyForbidden(PropertyConflict):
    """Both flavor and image set a NUMA layout."""


class MemoryPageSizeForbidden(PropertyConflict):
    """The image asks a page size the flavor does not leave open."""


class ImageMetaPropInvalid(InvalidProperty):
    pass


class ConfigurationInvalid(Invalid):
    """A nova.conf option has a value that cannot be used."""

    msg_fmt = _("[%(group)s] %(option)s=%(value)r is invalid: %(reason)s")


class ComputeResourcesUnavailable(NovaException):
    msg_fmt = _("Insufficient compute resources: %(reason)s")


class HypervisorUnavailable(NovaException):
    msg_fmt = _("Connection to the hypervisor %(uri)s failed: %(reason)s")


class InstanceNotFound(NovaException):
    msg_fmt = _("Instance %(name)s could not be found.")


class InstanceExists(NovaException):
    msg_fmt = _("Instance %(name)s already exists.")


class InternalError(NovaException):
    msg_fmt = _("%(reason)s")


class HostNotReady(NovaException):
    """The host cannot run the guest as configured; ``fix`` says what to do."""

    msg_fmt = _("%(reason)s. Fix on the host: %(fix)s")


class RealtimeBudgetUnavailable(HostNotReady):
    pass


class MemoryLockingUnavailable(HostNotReady):
    pass


class InstanceStartFailed(NovaException):
    msg_fmt = _("Instance %(name)s failed to start: %(reason)s")


class CommandLineInvalid(Invalid):
    """argparse refused the command line (unknown option, ...).

    One line, with where to look for the right usage.
    """

    msg_fmt = _("%(reason)s (see '%(usage)s --help')")


class InvalidInstanceName(Invalid):
    msg_fmt = _("guest name %(name)r is invalid: %(reason)s")


class InstanceNotOwned(NovaException):
    """A libvirt domain this tool did not create: it is never touched."""

    msg_fmt = _("domain %(name)s was not created by nova-realtime (it has "
                "no nova-realtime metadata); refusing to %(action)s it. "
                "Manage it with the tool that created it (or virsh).")


class HostLockTimeout(NovaException):
    msg_fmt = _("another nova-realtime process held the host lock "
                "%(path)s for more than %(timeout)d s ([libvirt] "
                "host_lock_timeout); try again, or find the process with "
                "'fuser %(path)s'")


class LibvirtConfigInvalid(Invalid, ValueError):
    """A libvirt config object cannot be written as valid domain XML.

    ``element`` is the XML element (``cputune/vcpusched``), ``attribute`` the
    attribute or child that is wrong. Also a ValueError, so generic callers
    can catch it without importing nova.exception.
    """

    msg_fmt = _("libvirt <%(element)s> %(attribute)s=%(value)r is invalid: "
                "%(reason)s")


class ConfigFileInvalid(Invalid):
    """nova.conf cannot be used: a file, a section or an option value.

    The message is ``<file>:<line>: [section] option = value: <rule>``, each
    part present when known (``path``, ``line``, ``section``, ``option``,
    ``value``, ``reason`` stay available in ``kwargs``). Raised by
    nova.conf.validation before any command runs.
    """

    msg_fmt = _("%(path)s: [%(section)s] %(option)s = %(value)s: %(reason)s")


class PlacementError(NovaException):
    msg_fmt = _('Placement: %(reason)s')


class PlacementConfigInvalid(Invalid):
    msg_fmt = _('[placement] %(reason)s')


class ProviderNotFound(PlacementError):
    msg_fmt = _('no resource provider %(what)s in Placement (%(source)s): '
                'nova-compute has not registered this host yet (start '
                'nova-compute and run again)%(hint)s; the trait was not '
                'changed')


class NodeIdentityError(NovaException):
    msg_fmt = _('cannot tell which compute node this host is: %(reason)s '
                '(nova-compute refuses to start with it too); the trait was '
                'not changed')


class TraitNotWithdrawn(Invalid):
    msg_fmt = _('%(problem)s; the trait could not be taken off: %(error)s')


class GenerationConflict(PlacementError):
    msg_fmt = _('resource provider %(name)s (%(uuid)s) changed under us '
                '%(attempts)d times in a row (generation conflicts); '
                '%(trait)s not %(action)s, nothing changed: run again')


class GatingWarningInvalid(Invalid):
    msg_fmt = _('[realtime] advertise_gating_warnings: %(ids)s is not a '
                'check of check-host; its checks: %(known)s')


class LibvirtUnreachable(NovaException):
    msg_fmt = _('libvirt: %(reason)s (the host was judged NOT READY: '
                '%(state)s)')


class CapabilitiesFileInvalid(Invalid):
    """A saved capabilities file cannot be read or is not a valid
    document; ``path`` is the file, ``reason`` why.
    """

    msg_fmt = _('host capabilities file %(path)r: %(reason)s')


class DomainXMLUnreadable(NovaException):
    """One part of a domain's XML could not be understood (nova.virt.
    libvirt.usage and verify record ``reason`` as a problem of that domain
    and go on with the rest).
    """

    msg_fmt = _('%(reason)s')


class UsageError(Invalid):
    """A nova-realtime command-line option has a value that breaks a rule:
    ``option`` (as written), its ``value`` and the ``reason``.
    """

    msg_fmt = _('%(option)s=%(value)r is invalid: %(reason)s')


class NovaComputeHere(Invalid):
    msg_fmt = _('this host is a Nova compute node (%(evidence)s): a guest '
                'booted here is unknown to Nova and Placement, and '
                'nova-compute pins its own guests to the same [compute] '
                'cpu_dedicated_set; boot real-time guests through Nova '
                '(openstack server create with a real-time flavor), or pass '
                '--beside-nova-compute to boot anyway')


class AdvertiseInvalid(Invalid):
    """nova-realtime advertise cannot run: the ``problem`` and the
    ``state`` the trait was left in.
    """

    msg_fmt = _('%(problem)s; %(state)s')


class LoggingUnavailable(Invalid):
    msg_fmt = _('%(problem)s; %(command)s changes guests and keeps its log: '
                'nothing was done (fix the option, or run it with '
                '--log-file pointing somewhere writable)')
