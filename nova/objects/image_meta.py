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

"""Image properties as nova-compute reads them: validated, then modelled.

Two kinds of property are validated. The ones this tree applies to the
guest it builds (CPU policies, NUMA, pages, the real-time mask, the kernel
command line, and since 1.2 the CPU topology, PMU and memory locking) are
fields of ImageMetaProps, versioned and serialisable. Every other property
upstream Nova's ImageMetaProps knows (about 70 more: disk buses, video,
TPM, firmware, signatures ...) is checked against a declarative table,
``_OTHER_PROPS``, with upstream's value type or enum, and its coerced value
is kept on the object outside the fields, readable with ``get()`` but not
serialised. Making them fields would mean a version bump, a fingerprint and
a documented field for each of ~70 properties nothing here reads; a
property moves from the table to the fields (with a version bump and
obj_make_compatible dropping it for older readers) when this driver starts
applying it.

Names: Glance keys are case-sensitive and arbitrary properties are allowed
(and ignored), as upstream. But a property named like Nova's (``hw_``,
``os_``, ``img_``) that Nova does not know, or a known name in another case
(``HW_CPU_REALTIME_MASK``), is an error with the closest known name: a
misspelt property would otherwise be silently ignored. Upstream's legacy
names (``architecture``, ``hypervisor_type`` ...) are validated as the
property they stand for.

What this driver does with each property is what it does with the flavor
extra specs (fields.DriverSupport): applied, used by the scheduler,
accepted but not applied, or refused when ignoring it would leave the guest
without something it asks for (memory encryption, a TPM, Secure Boot ...).
``from_dict`` raises for a refused property; ``classify_properties`` lists
both kinds.
"""

import difflib
import re

from oslo_utils import uuidutils
from oslo_utils import versionutils
from oslo_versionedobjects import fields as ovo_fields

from nova import exception
from nova.i18n import _
from nova.objects import base
from nova.objects import fields
from nova.virt import hardware_parse

_SUPPORT = fields.DriverSupport

# Image properties that come as a numbered family (hw_numa_cpus.0,
# hw_numa_cpus.1, ...) and are held as one list field.
_INDEXED_PROPS = ('hw_numa_cpus', 'hw_numa_mem')
# N is written without leading zeros, so one node has one spelling.
# Properties a tenant might expect on an image but that only the operator's
# flavor may set: refused with the reason, rather than silently ignored like
# the many unrelated properties images carry.
_FLAVOR_ONLY_PROPS = {
    'hw_cpu_realtime': _(
        'real time is enabled only by the flavor extra spec hw:cpu_realtime '
        '(an operator choice); an image can only choose which vCPUs are '
        'real time, with hw_cpu_realtime_mask'),
}
_INDEXED_RE = re.compile(r'^(%s)\.(%s)$' % (
    '|'.join(_INDEXED_PROPS), hardware_parse.NUMA_NODE_PATTERN))
# The most characters (UTF-8 bytes for os_command_line) a value of each
# string property may have; every string value must also be XML-safe, as
# it may end up in domain XML (os_command_line does, verbatim). CPU masks
# share the limit of their parser.
_VALUE_LIMITS = {
    'os_command_line': hardware_parse.MAX_KERNEL_CMDLINE_BYTES,
    'hw_cpu_realtime_mask': hardware_parse.MAX_CPU_SPEC_LENGTH,
}

# Longest value accepted for a property this tree does not apply: Glance's
# own limit on a property value (its image_properties.value column).
_MAX_OTHER_VALUE_LENGTH = 65535

_BUSES = ('fdc', 'ide', 'sata', 'scsi', 'usb', 'virtio', 'xen', 'lxc', 'uml')
_ARCHES = (
    'alpha', 'armv6', 'armv7l', 'armv7b', 'aarch64', 'cris', 'i686', 'ia64',
    'lm32', 'm68k', 'microblaze', 'microblazeel', 'mips', 'mipsel',
    'mips64', 'mips64el', 'openrisc', 'parisc', 'parisc64', 'ppc', 'ppcle',
    'ppc64', 'ppc64le', 'ppcemb', 's390', 's390x', 'sh4', 'sh4eb', 'sparc',
    'sparc64', 'unicore32', 'x86_64', 'xtensa', 'xtensaeb')
_HV_TYPES = (
    'baremetal', 'bhyve', 'docker', 'fake', 'hyperv', 'ironic', 'kqemu',
    'kvm', 'lxc', 'lxd', 'openvz', 'parallels', 'phyp', 'qemu', 'test',
    'uml', 'vbox', 'vz', 'vmware', 'xen', 'zvm', 'prsm')
# Enums upstream reads in any case (lower-cased first), and the old
# spellings it still maps (upstream's canonicalize()).
_ALIASES = {
    'arch': {'i386': 'i686', 'i486': 'i686', 'i586': 'i686',
             'x86_32': 'i686', 'x86_32p': 'i686', 'amd64': 'x86_64'},
    'hv': {'xapi': 'xen'},
    'vm_mode': {'pv': 'xen', 'hv': 'hvm', 'baremetal': 'hvm'},
    # VMware adapter names, as upstream still reads them.
    'scsi': {'lsilogicsas': 'lsisas1068', 'paravirtual': 'vmpvscsi'},
    'vif': {'virtuale1000': 'e1000', 'virtuale1000e': 'e1000e',
            'virtualpcnet32': 'pcnet', 'virtualsriovethernetcard': 'sriov',
            'virtualvmxnet': 'vmxnet', 'virtualvmxnet3': 'vmxnet3'},
    # Only case differs.
    'os_type': {},
}
_NO_MEM_ENCRYPTION = _('the guest memory would not be encrypted; this driver '
                       'does not build AMD SEV or Intel TDX guests')
_NO_TPM = _('the guest would have no virtual TPM')


def _prop(kind, applies=_SUPPORT.NOT_APPLIED, values=None, minimum=None,
          reason=None, refused_when=None, alias=None):
    return {'kind': kind, 'applies': applies, 'values': values,
            'min': minimum, 'reason': reason, 'refused_when': refused_when,
            'alias': alias}


def _bool(**kw):
    return _prop('bool', **kw)


def _int(**kw):
    return _prop('int', **kw)


def _str(**kw):
    return _prop('str', **kw)


def _enum(*values, **kw):
    return _prop('enum', values=values, **kw)


_TOPOLOGY = _int(applies=_SUPPORT.APPLIED, minimum=1)
# Fields added by ImageMetaProps 1.2, validated by their _OTHER_PROPS rule.
_FIELDS_1_2 = ('hw_cpu_sockets', 'hw_cpu_cores', 'hw_cpu_threads',
               'hw_cpu_max_sockets', 'hw_cpu_max_cores',
               'hw_cpu_max_threads', 'hw_pmu', 'hw_locked_memory')

# Every upstream ImageMetaProps property that is not a field here (and the
# rules of the 1.2 fields), with upstream's value type, and what this driver
# does with it.
_OTHER_PROPS = {
    # Applied, and fields (1.2): the guest CPU topology, PMU, locking.
    'hw_cpu_sockets': _TOPOLOGY,
    'hw_cpu_cores': _TOPOLOGY,
    'hw_cpu_threads': _TOPOLOGY,
    'hw_cpu_max_sockets': _TOPOLOGY,
    'hw_cpu_max_cores': _TOPOLOGY,
    'hw_cpu_max_threads': _TOPOLOGY,
    'hw_pmu': _bool(applies=_SUPPORT.APPLIED),
    'hw_locked_memory': _bool(applies=_SUPPORT.APPLIED),
    # Used by the scheduler (ImagePropertiesFilter, trait requests).
    'hw_architecture': _enum(*_ARCHES, applies=_SUPPORT.SCHEDULER,
                             alias='arch'),
    'img_hv_type': _enum(*_HV_TYPES, applies=_SUPPORT.SCHEDULER,
                         alias='hv'),
    'img_hv_requested_version': _prop('version',
                                      applies=_SUPPORT.SCHEDULER),
    'hw_vm_mode': _enum('hvm', 'xen', 'uml', 'exe',
                        applies=_SUPPORT.SCHEDULER, alias='vm_mode'),
    'traits_required': _prop('list', applies=_SUPPORT.SCHEDULER),
    # Refused: the guest would silently lack what the image asks for.
    'hw_mem_encryption': _bool(applies=_SUPPORT.REFUSED,
                               reason=_NO_MEM_ENCRYPTION,
                               refused_when=hardware_parse.is_true),
    'hw_mem_encryption_model': _enum(
        'amd-sev', 'amd-sev-es', 'amd-sev-snp', 'intel-tdx',
        applies=_SUPPORT.REFUSED, reason=_NO_MEM_ENCRYPTION),
    'hw_ephemeral_encryption': _bool(
        applies=_SUPPORT.REFUSED,
        reason=_('the ephemeral disks would be stored unencrypted'),
        refused_when=hardware_parse.is_true),
    'hw_tpm_model': _enum('tpm-tis', 'tpm-crb', applies=_SUPPORT.REFUSED,
                          reason=_NO_TPM),
    'hw_tpm_version': _enum('1.2', '2.0', applies=_SUPPORT.REFUSED,
                            reason=_NO_TPM),
    'hw_viommu_model': _enum(
        'intel', 'smmuv3', 'virtio', 'auto', applies=_SUPPORT.REFUSED,
        reason=_('the guest would have no virtual IOMMU, so in-guest '
                 'device isolation (vfio) would be missing')),
    'os_secure_boot': _enum(
        'required', 'disabled', 'optional', applies=_SUPPORT.REFUSED,
        reason=_('the guest firmware would run unsigned boot code (no '
                 'UEFI Secure Boot)'),
        refused_when=lambda value: value == 'required'),
    'img_config_drive': _enum(
        'optional', 'mandatory', applies=_SUPPORT.REFUSED,
        reason=_('the guest would have no config drive'),
        refused_when=lambda value: value == 'mandatory'),
    # Accepted, not applied by this driver.
    'hw_auto_disk_config': _str(),
    'hw_boot_menu': _bool(),
    'hw_cdrom_bus': _enum(*_BUSES),
    'hw_device_id': _int(),
    'hw_disk_bus': _enum(*_BUSES),
    'hw_disk_type': _str(),
    'hw_emulation_architecture': _enum(*_ARCHES, alias='arch'),
    'hw_ephemeral_encryption_format': _enum('plain', 'luks', 'luksv2'),
    'hw_ephemeral_encryption_secret_uuid': _prop('uuid'),
    'hw_firmware_stateless': _bool(),
    'hw_firmware_type': _enum('uefi', 'bios'),
    'hw_floppy_bus': _enum(*_BUSES),
    'hw_input_bus': _enum('usb', 'virtio'),
    'hw_ipxe_boot': _bool(),
    'hw_machine_type': _str(),
    'hw_maxphysaddr_bits': _int(),
    'hw_maxphysaddr_mode': _enum('passthrough', 'emulate'),
    'hw_pci_numa_affinity_policy': _enum('required', 'legacy', 'preferred',
                                         'socket'),
    'hw_pointer_model': _enum('usbtablet'),
    'hw_qemu_guest_agent': _bool(),
    'hw_redirected_usb_ports': _int(),
    'hw_rescue_bus': _enum(*_BUSES),
    'hw_rescue_device': _enum('cdrom', 'disk', 'floppy', 'fs', 'lun'),
    'hw_rng_model': _enum('virtio'),
    'hw_scsi_model': _enum('buslogic', 'ibmvscsi', 'lsilogic', 'lsisas1068',
                           'lsisas1078', 'virtio-scsi', 'vmpvscsi',
                           alias='scsi'),
    'hw_serial_port_count': _int(),
    'hw_sound_model': _enum('sb16', 'es1370', 'pcspk', 'ac97', 'ich6',
                            'ich9', 'usb', 'virtio'),
    'hw_time_hpet': _bool(),
    'hw_usb_model': _enum('none', 'nec-xhci', 'qemu-xhci'),
    'hw_video_model': _enum('cirrus', 'qxl', 'vga', 'vmvga', 'xen',
                            'virtio', 'gop', 'none', 'bochs'),
    'hw_video_ram': _int(),
    'hw_vif_model': _enum('virtio', 'ne2k_pci', 'pcnet', 'rtl8139', 'e1000',
                          'e1000e', 'netfront', 'spapr-vlan', 'lan9118',
                          'sriov', 'vmxnet', 'vmxnet3', 'igb', alias='vif'),
    'hw_vif_multiqueue_enabled': _bool(),
    'hw_virtio_packed_ring': _bool(),
    'hw_watchdog_action': _enum('none', 'pause', 'poweroff', 'reset',
                                'disabled'),
    'img_bdm_v2': _bool(),
    'img_bittorrent': _bool(),
    'img_block_device_mapping': _prop('list'),
    'img_cache_in_nova': _bool(),
    'img_compression_level': _int(),
    'img_hide_hypervisor_id': _bool(),
    'img_linked_clone': _bool(),
    'img_mappings': _prop('list'),
    'img_owner_id': _str(),
    'img_root_device_name': _str(),
    'img_signature': _str(),
    'img_signature_certificate_uuid': _prop('uuid'),
    'img_signature_hash_method': _enum('SHA-224', 'SHA-256', 'SHA-384',
                                       'SHA-512'),
    'img_signature_key_type': _enum(
        'DSA', 'ECC_SECP384R1', 'ECC_SECP521R1', 'ECC_SECT409K1',
        'ECC_SECT409R1', 'ECC_SECT571K1', 'ECC_SECT571R1', 'RSA-PSS'),
    'img_use_agent': _bool(),
    'img_version': _int(),
    'os_admin_user': _str(),
    'os_distro': _str(),
    'os_require_quiesce': _bool(),
    'os_skip_agent_inject_files_at_boot': _bool(),
    'os_skip_agent_inject_ssh': _bool(),
    'os_type': _enum('linux', 'windows', alias='os_type'),
    # Read by nova-compute outside ImageMetaProps: the graceful shutdown
    # timeout in seconds.
    'os_shutdown_timeout': _int(),
}
# Upstream's legacy names, validated (and classified) as the property each
# stands for; the current name wins when both are set, as upstream.
_LEGACY_NAMES = {
    'architecture': 'hw_architecture',
    'owner_id': 'img_owner_id',
    'vmware_disktype': 'hw_disk_type',
    'vmware_image_version': 'img_version',
    'vmware_ostype': 'os_distro',
    'auto_disk_config': 'hw_auto_disk_config',
    'ipxe_boot': 'hw_ipxe_boot',
    'xenapi_device_id': 'hw_device_id',
    'xenapi_image_compression_level': 'img_compression_level',
    'vmware_linked_clone': 'img_linked_clone',
    'xenapi_use_agent': 'img_use_agent',
    'xenapi_skip_agent_inject_ssh': 'os_skip_agent_inject_ssh',
    'xenapi_skip_agent_inject_files_at_boot':
        'os_skip_agent_inject_files_at_boot',
    'cache_in_nova': 'img_cache_in_nova',
    'vm_mode': 'hw_vm_mode',
    'bittorrent': 'img_bittorrent',
    'mappings': 'img_mappings',
    'block_device_mapping': 'img_block_device_mapping',
    'bdm_v2': 'img_bdm_v2',
    'root_device_name': 'img_root_device_name',
    'hypervisor_version_requires': 'img_hv_requested_version',
    'hypervisor_type': 'img_hv_type',
}
# Names in Nova's prefixes that are not Nova's: Glance's own (os_hash_*,
# os_hidden, os_glance_* ...) and the metadata definitions' os_version.
# They are ignored like any other foreign property.
_FOREIGN_NAMES = ('os_hash_algo', 'os_hash_value', 'os_hidden', 'os_version')
_FOREIGN_PREFIXES = ('os_glance_',)
# Prefixes whose names are Nova's: an unknown name there is a typo.
_NOVA_PREFIXES = ('hw_', 'os_', 'img_')


def _shown_key(key):
    """A property name as an error shows it: shortened, and quoted with
    escapes when it has characters (a newline ...) that would break the
    one-line message.
    """
    shown = hardware_parse.display_value(key)
    return shown if shown.isprintable() else repr(shown)


def _known_names():
    """Every property name Nova knows, as it is spelt."""
    names = set(ImageMetaProps.fields) | set(_OTHER_PROPS) | set(
        _LEGACY_NAMES) | set(_FLAVOR_ONLY_PROPS)
    names -= set(_INDEXED_PROPS)
    names |= {'%s.N' % family for family in _INDEXED_PROPS}
    return names


def _check_unknown_name(key, value):
    """Refuse a property named like Nova's that Nova does not know."""
    lowered = key.lower()
    known = _known_names()
    by_lower = {name.lower(): name for name in known}
    match = _INDEXED_RE.fullmatch(lowered)
    spelt = key.lower() if match else by_lower.get(lowered)
    if spelt is not None:
        raise exception.ImageMetaPropInvalid(
            name=_shown_key(key), value=hardware_parse.display_value(value),
            reason=_('property names are case-sensitive; did you mean '
                     '%s?') % spelt)
    if not key.startswith(_NOVA_PREFIXES) or key in _FOREIGN_NAMES or \
            key.startswith(_FOREIGN_PREFIXES):
        return
    close = difflib.get_close_matches(
        lowered, sorted(by_lower), n=1, cutoff=0.6)
    if close:
        hint = _('did you mean %s?') % by_lower[close[0]]
    else:
        hint = _('see the image property reference')
    raise exception.ImageMetaPropInvalid(
        name=_shown_key(key), value=hardware_parse.display_value(value),
        reason=_('unknown image property in Nova\'s %(prefix)s names; '
                 '%(hint)s') % {'prefix': key.split('_')[0] + '_',
                                'hint': hint})


def _coerce_other(key, value, rule):
    """A value of an _OTHER_PROPS property, checked against its rule."""
    kind = rule['kind']

    def invalid(reason):
        return exception.ImageMetaPropInvalid(
            name=key, value=hardware_parse.display_value(value),
            reason=reason)

    if kind == 'list':
        if not isinstance(value, list) or not all(
                isinstance(item, (dict, str)) for item in value):
            raise invalid(_('must be a list'))
        return value
    if isinstance(value, bool):
        if kind == 'bool':
            return value
        raise invalid(_('must be a string'))
    if kind == 'int':
        return hardware_parse.parse_bounded_int(
            key, value, minimum=rule['min'],
            maximum=(hardware_parse.MAX_GUEST_VCPUS
                     if rule['applies'] == _SUPPORT.APPLIED else None),
            error=exception.ImageMetaPropInvalid)
    if isinstance(value, int):
        # A number from a dict: its text, unless too long to be a value
        # (str() itself refuses beyond 4300 digits).
        if value.bit_length() > 64:
            raise invalid(_('must be a string'))
        value = str(value)
    hardware_parse.check_text(key, value, _MAX_OTHER_VALUE_LENGTH,
                              error=exception.ImageMetaPropInvalid)
    if kind == 'bool':
        try:
            return hardware_parse.parse_bool(key, value)
        except exception.InvalidProperty as e:
            raise exception.ImageMetaPropInvalid(**e.kwargs)
    if kind == 'enum':
        word = value
        if rule['alias']:
            word = value.lower()
            word = _ALIASES[rule['alias']].get(word, word)
        if word not in rule['values']:
            raise invalid(_('must be one of: %s') % ', '.join(
                rule['values']))
        return word
    if kind == 'uuid':
        if not uuidutils.is_uuid_like(value):
            raise invalid(_('must be a UUID'))
        return value
    if kind == 'version':
        try:
            return ovo_fields.VersionPredicate().coerce(None, key, value)
        except ValueError:
            raise invalid(_('must be a version predicate such as >=2.6 or '
                            '>=2.6, <3.0'))
    return value


@base.NovaObjectRegistry.register
class ImageMetaProps(base.NovaObject):
    """The tenant-controlled properties of an image this tree reads."""

    # Version 1.0: Initial version
    # Version 1.1: Added hw_cpu_realtime_mask
    # Version 1.2: Added hw_cpu_sockets, hw_cpu_cores, hw_cpu_threads,
    #              hw_cpu_max_sockets, hw_cpu_max_cores, hw_cpu_max_threads,
    #              hw_pmu and hw_locked_memory
    VERSION = '1.2'

    fields = {
        # CPU allocation policy: dedicated pins each vCPU to a host CPU of
        # its own, shared lets vCPUs float. When the flavor sets
        # hw:cpu_policy the image may only repeat it; when the flavor does
        # not, the image chooses. Real-time guests need dedicated.
        'hw_cpu_policy': fields.CPUAllocationPolicyField(),
        # How pinned vCPUs use SMT siblings: prefer, isolate (a core per
        # vCPU, its siblings left idle) or require (whole cores). Needs the
        # dedicated CPU policy; when the flavor sets hw:cpu_thread_policy the
        # image may only repeat it.
        'hw_cpu_thread_policy': fields.CPUThreadAllocationPolicyField(),
        # Where QEMU's emulator threads run: share (on the host's [compute]
        # cpu_shared_set) or isolate (on one more dedicated host CPU of
        # their own). Needs the dedicated CPU policy; when the flavor sets
        # hw:emulator_threads_policy the image may only repeat it.
        'hw_emulator_threads_policy':
            fields.CPUEmulatorThreadsPolicyField(),
        # Number of guest NUMA nodes, from 1 to the flavor's vCPUs. The
        # NUMA layout comes from the flavor (hw:numa_nodes) or from the
        # image, never both.
        'hw_numa_nodes': fields.IntegerField(),
        # Guest vCPUs of guest NUMA node N, one property hw_numa_cpus.N per
        # node (hw_numa_cpus.0=0-1), for an uneven split; set it with
        # hw_numa_mem.N for every node, each vCPU in exactly one node.
        'hw_numa_cpus': fields.ListOfSetsOfIntegersField(),
        # Guest memory in MiB of guest NUMA node N, one property
        # hw_numa_mem.N per node; the sizes add up to the flavor's memory.
        'hw_numa_mem': fields.ListOfIntegersField(),
        # Page size backing guest RAM: small, large, any or a size (2048,
        # 2MB, 1GB). Honoured only where the flavor's hw:mem_page_size
        # leaves a choice: under large, large or a huge page size; under
        # any, anything.
        'hw_mem_page_size': fields.StringField(),
        # Which vCPUs of a real-time flavor (hw:cpu_realtime=yes) are real
        # time, as a mask over vCPU numbers: ^0-1 (all but vCPUs 0 and 1)
        # or 2-3. Overrides the flavor's hw:cpu_realtime_mask; cannot turn
        # real time on. Every vCPU it names must exist in the flavor.
        'hw_cpu_realtime_mask': fields.StringField(),
        # Kernel command line for a guest booted directly from a kernel.
        'os_command_line': fields.StringField(),
        # Guest CPU sockets the image asks for; with hw_cpu_cores and
        # hw_cpu_threads a topology of the flavor's vCPUs, within what the
        # flavor's hw:cpu_max_sockets allows. At least 1.
        'hw_cpu_sockets': fields.IntegerField(),
        # Cores per guest socket the image asks for, within the flavor's
        # hw:cpu_max_cores. At least 1.
        'hw_cpu_cores': fields.IntegerField(),
        # Threads per guest core the image asks for, within the flavor's
        # hw:cpu_max_threads; 1 shows the guest no SMT. At least 1.
        'hw_cpu_threads': fields.IntegerField(),
        # The most sockets the image wants the guest topology to use; can
        # only lower the flavor's hw:cpu_max_sockets. At least 1.
        'hw_cpu_max_sockets': fields.IntegerField(),
        # The most cores per socket the image wants; can only lower the
        # flavor's hw:cpu_max_cores. At least 1.
        'hw_cpu_max_cores': fields.IntegerField(),
        # The most threads per core the image wants; can only lower the
        # flavor's hw:cpu_max_threads. At least 1.
        'hw_cpu_max_threads': fields.IntegerField(),
        # Whether the guest gets a virtual performance monitoring unit
        # (yes/no, true/false ...); real-time guests run without one.
        'hw_pmu': fields.BooleanField(),
        # Whether guest memory is locked in host RAM (yes/no ...); needs
        # huge pages, and real-time guests are always locked.
        'hw_locked_memory': fields.BooleanField(),
    }

    def obj_make_compatible(self, primitive, target_version):
        super().obj_make_compatible(primitive, target_version)
        target = versionutils.convert_version_to_tuple(target_version)
        if target < (1, 2):
            for name in _FIELDS_1_2:
                primitive.pop(name, None)
        if target < (1, 1):
            primitive.pop('hw_cpu_realtime_mask', None)

    def get(self, name, default=None):
        """The value of a property, or ``default`` when it is unset.

        Fields, and the properties of ``_OTHER_PROPS`` as from_dict
        validated them (not serialised); AttributeError for other names.
        """
        if name in _OTHER_PROPS and name not in self.fields:
            return getattr(self, '_other', {}).get(name, default)
        if name not in self.fields:
            raise AttributeError(name)
        if not self.obj_attr_is_set(name):
            return default
        return getattr(self, name)

    @classmethod
    def from_dict(cls, image_props):
        obj, not_applied, refused = cls._build(image_props)
        if refused:
            key, value, reason = refused[0]
            raise exception.ImageMetaPropInvalid(
                name=key, value=hardware_parse.display_value(value),
                reason=_('requested but this driver cannot provide it: %s')
                % reason)
        # Kept from this one validation for the driver's request (like
        # _other, not serialised).
        obj._not_applied = tuple(not_applied)
        return obj

    def not_applied(self):
        """The sorted names of the properties from_dict accepted that this
        driver does not apply (() for an object not built by from_dict).
        """
        return getattr(self, '_not_applied', ())

    @classmethod
    def classify_properties(cls, image_props):
        """``(not_applied, refused)`` for an image's raw properties.

        Validates them as from_dict does (ImageMetaPropInvalid for a bad
        name or value) but does not raise for refused properties: returns
        the sorted names of the Nova properties this driver accepts without
        applying, and ``(name, reason)`` for each property whose value asks
        for what this driver cannot provide.
        """
        _obj, not_applied, refused = cls._build(image_props)
        return not_applied, [(key, reason) for key, _v, reason in refused]

    @classmethod
    def _build(cls, image_props):
        """The object, the not-applied names and (name, value, reason) of
        each refused property. The docstring of from_dict says the rest.
        """
        """Build from the image's raw properties (strings, as Glance stores).

        Arbitrary properties are ignored, as every image carries many that
        are not Nova's. Every property Nova knows is validated (see the
        module docstring); an unknown name in Nova's prefixes (hw_, os_,
        img_), or a known name in another case, raises ImageMetaPropInvalid
        with the closest known name. A value that cannot be coerced raises
        ImageMetaPropInvalid naming the property, and so does a property
        this driver refuses (hw_tpm_version, hw_mem_encryption=true ...).

        Bounds, checked before a value is coerced: at most
        MAX_IMAGE_PROPERTIES properties (Glance's default
        image_property_quota; checked before any property is looked at);
        string values XML-safe and at most 255 characters, os_command_line
        at most MAX_KERNEL_CMDLINE_BYTES UTF-8 bytes and CPU masks at most
        MAX_CPU_SPEC_LENGTH characters; integers at most MAX_INT_DIGITS
        digits.
        """
        obj = cls()
        obj._other = {}
        indexed = {}
        not_applied = []
        refused = []
        # Table properties set by their current name (which wins over a
        # legacy name).
        seen = set()
        image_props = image_props or {}
        if len(image_props) > hardware_parse.MAX_IMAGE_PROPERTIES:
            raise exception.ImageMetaPropInvalid(
                name='properties', value=_('%d properties') % len(image_props),
                reason=_('an image may have at most %d properties (Glance\'s '
                         'default image_property_quota)') %
                hardware_parse.MAX_IMAGE_PROPERTIES)
        for key, value in image_props.items():
            if not isinstance(key, str):
                raise exception.ImageMetaPropInvalid(
                    name=_('property name'),
                    value=hardware_parse.display_value(key),
                    reason=_('must be a string'))
            match = _INDEXED_RE.fullmatch(key)
            if match:
                indexed.setdefault(match.group(1), {})[
                    int(match.group(2))] = (key, value)
                continue
            family = key.partition('.')[0]
            if family in _INDEXED_PROPS:
                # Bare (hw_numa_cpus) or with a malformed node number.
                raise exception.ImageMetaPropInvalid(
                    name=_shown_key(key),
                    value=hardware_parse.display_value(value),
                    reason=_('set it per guest NUMA node as %s.N, N a node '
                             'number 0, 1, 2 ...') % family)
            if key in _FLAVOR_ONLY_PROPS:
                raise exception.ImageMetaPropInvalid(
                    name=key, value=hardware_parse.display_value(value),
                    reason=_FLAVOR_ONLY_PROPS[key])
            if key in _FIELDS_1_2:
                setattr(obj, key, _coerce_other(key, value,
                                                _OTHER_PROPS[key]))
                continue
            if key not in cls.fields:
                cls._other_property(obj, key, value, seen, not_applied,
                                    refused)
                continue
            cls._set_coerced(obj, key, key, value)
            if key == 'hw_numa_nodes' and obj.hw_numa_nodes < 1:
                raise exception.ImageMetaPropInvalid(
                    name=key, value=value,
                    reason=_('must be an integer of at least 1'))

        for name, by_index in indexed.items():
            count = len(by_index)
            if sorted(by_index) != list(range(count)):
                missing = sorted(set(range(max(by_index) + 1)) -
                                 set(by_index))
                key = '%s.%d' % (name, missing[0])
                raise exception.ImageMetaPropInvalid(
                    name=key, value=None,
                    reason=_('%(name)s.N must be set for every guest NUMA '
                             'node 0..%(last)d') %
                    {'name': name, 'last': max(by_index)})
            values = []
            for index in range(count):
                key, value = by_index[index]
                values.append(cls._coerce_element(name, key, value))
            setattr(obj, name, values)
        not_applied.sort()
        refused.sort()
        return obj, not_applied, refused

    @classmethod
    def _other_property(cls, obj, key, value, seen, not_applied, refused):
        """Validate a property that is not a field, and classify it."""
        name = _LEGACY_NAMES.get(key, key)
        rule = _OTHER_PROPS.get(name)
        if rule is None:
            _check_unknown_name(key, value)
            return
        coerced = _coerce_other(key, value, rule)
        if key == name:
            seen.add(name)
            obj._other[name] = coerced
        elif name not in seen:
            obj._other.setdefault(name, coerced)
        if rule['applies'] == _SUPPORT.NOT_APPLIED:
            not_applied.append(key)
        elif rule['applies'] == _SUPPORT.REFUSED and (
                rule['refused_when'] is None or
                rule['refused_when'](coerced)):
            refused.append((key, value, rule['reason']))

    @classmethod
    def _set_coerced(cls, obj, name, key, value):
        field = cls.fields[name]
        if isinstance(value, str):
            if isinstance(field, fields.IntegerField):
                # Digits bounded before int() (Python's own limit is a
                # ValueError at 4300 digits).
                value = hardware_parse.parse_bounded_int(
                    key, value, rule=cls._rule(name),
                    error=exception.ImageMetaPropInvalid)
            else:
                hardware_parse.check_text(
                    key, value, _VALUE_LIMITS.get(
                        name, hardware_parse.MAX_IMAGE_PROPERTY_VALUE_LENGTH),
                    encoded=name == 'os_command_line',
                    error=exception.ImageMetaPropInvalid)
        try:
            setattr(obj, name, value)
        except ValueError:
            raise exception.ImageMetaPropInvalid(
                name=key, value=hardware_parse.display_value(value),
                reason=cls._rule(name))
        coerced = getattr(obj, name)
        if isinstance(coerced, str) and not isinstance(value, str):
            # A non-string value (an int from a dict) coerced to text.
            hardware_parse.check_text(
                key, coerced, hardware_parse.MAX_IMAGE_PROPERTY_VALUE_LENGTH,
                error=exception.ImageMetaPropInvalid)

    @classmethod
    def _rule(cls, name):
        """The rule a value of property ``name`` must follow, as prose."""
        field_type = getattr(cls.fields[name], 'AUTO_TYPE', None)
        valid = getattr(field_type, 'valid_values', None)
        if valid:
            return _('must be one of: %s') % ', '.join(valid)
        if isinstance(cls.fields[name], fields.IntegerField):
            return _('must be an integer')
        return _('must be a string')

    @staticmethod
    def _coerce_element(name, key, value):
        parse = (hardware_parse.parse_property_cpu_spec
                 if name == 'hw_numa_cpus'
                 else hardware_parse.parse_property_memory_mb)
        try:
            return parse(key, value)
        except exception.InvalidProperty as e:
            # Callers catch ImageMetaPropInvalid for every bad property.
            raise exception.ImageMetaPropInvalid(**e.kwargs)


@base.NovaObjectRegistry.register
class ImageMeta(base.NovaObject):
    """An image as nova-compute sees it: a name and its properties."""

    # Version 1.0: Initial version
    # Version 1.1: ImageMetaProps version 1.1
    # Version 1.2: ImageMetaProps version 1.2
    VERSION = '1.2'

    fields = {
        'name': fields.StringField(),
        'properties': fields.ObjectField('ImageMetaProps'),
    }

    # Which ImageMetaProps version each ImageMeta version carries, so a
    # backport without a version manifest still downgrades the properties.
    obj_relationships = {
        'properties': [('1.0', '1.0'), ('1.1', '1.1'), ('1.2', '1.2')],
    }

    @classmethod
    def from_dict(cls, image_meta):
        image_meta = dict(image_meta or {})
        obj = cls(properties=ImageMetaProps.from_dict(
            image_meta.get('properties', {})))
        if image_meta.get('name') is not None:
            # Glance image names are at most 255 characters.
            obj.name = hardware_parse.check_text(
                'image name', image_meta['name'],
                hardware_parse.MAX_KEY_LENGTH,
                error=exception.ImageMetaPropInvalid)
        return obj
