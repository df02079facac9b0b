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

"""Upstream Nova's functional services on the real libvirt driver.

What upstream Nova would need to gate its libvirt driver on a real
hypervisor. Upstream's functional tests (``nova.tests.functional``) run
the in-process API, scheduler, conductor and compute against a *fake*
libvirt (``nova.tests.fixtures.libvirt``); ``nova.test.TestCase`` also
installs fixtures that make any test fail which touches the real host.
``RealLibvirtFixture`` undoes exactly those, and nothing else, so that
``compute_driver = libvirt.LibvirtDriver`` talks to ``qemu:///system``:

``SysFsPoisonFixture``
    wraps ``open``, ``os.listdir``, ``os.path.isdir``, ``glob.glob`` and
    ``glob.iglob`` to raise for a path under ``/sys``. The real driver
    reads ``/sys/devices/system/cpu/online`` (``Host.get_online_cpus``,
    which checks ``[compute] cpu_dedicated_set``) and the CPU topology:
    the originals are put back.
``GenericPoisonFixture``
    replaces ``os.uname`` (the driver's host architecture) and
    ``psutil.net_if_addrs`` (``init_host`` checks that ``my_ip`` is one
    of the host's addresses) with functions that raise: put back.
``ImportModulePoisonFixture(['libvirt', ...])``
    a ``sys.meta_path`` finder that refuses ``import libvirt`` (and marks
    the test failed at cleanup): ``libvirt`` is taken off its list; the
    other modules (``guestfs``) stay refused.
``PrivsepNoHelperFixture``
    makes starting a privsep helper fail. The driver creates instance
    directories, images and console logs through ``nova.privsep``:
    upstream's ``PrivsepFixture`` runs ``sys_admin_pctxt`` functions in the
    test process instead, which must therefore be root (as nova-compute's
    privsep daemon is).
``PoisonFunctions`` (``Host._init_events``)
    exits the test process when the libvirt event thread starts. It is
    mocked as upstream's ``LibvirtFixture`` mocks it
    (``disable_event_thread``): no lifecycle events reach the compute
    manager, which polls instead (spawn waits through ``get_info``; power
    states through the periodic sync). Nothing a boot or delete needs.

Two things of the guest definition are changed at the one point where
Nova hands XML to libvirt, ``Host.write_instance_config`` (``defineXML``),
and recorded (``defined``: every XML as Nova generated it, before any
change):

``<memoryBacking><locked/>`` (``strip_locked``, default on)
    unpatched Nova puts ``<locked/>`` into every real-time guest. libvirt
    must then raise QEMU's RLIMIT_MEMLOCK, which needs CAP_SYS_RESOURCE;
    the libvirtd of a test machine or container without it (this one:
    memlock 8 MiB) fails every such start, so a real-time boot could never
    go ACTIVE. The fixture removes ``<locked/>`` (and an empty
    ``<memoryBacking>`` left behind), and with it ``<memtune><hard_limit>``
    (the patch series adds one for locked memory), which libvirt also
    makes QEMU's RLIMIT_MEMLOCK; everything else reaches libvirt as Nova
    wrote it. ``strip_locked=False`` keeps it: a test of how Nova
    reports the failure.
A spawn preflight's memory-locking check (``memlock_check``)
    a Nova that checks before spawning whether the host can lock a
    guest's memory refuses such a guest here before defining it, so
    stripping at define time is too late. ``memlock_check`` names the
    check (a dotted path to a method returning ``(error, unknown)``); the
    fixture replaces it with one that finds nothing wrong. Default:
    ``$NOVA_RT_MEMLOCK_PREFLIGHT``, else ``MEMLOCK_PREFLIGHT`` below
    (None: the running Nova has no such check).

Not in this fixture, but required by the tests' set-up (``base``): the
``api-paste.ini`` of the source tree (``$state_path`` is a temporary
directory), instance directories QEMU's user can traverse (``0711``;
QEMU does not run as root, and a ``0700`` temporary directory makes every
spawn fail and reschedule), a raw image whose MBR has one valid
partition entry (``mbr_image``: oslo.utils' format inspector refuses a
bare boot sector, and a guest with nothing to boot spins), no network
(``networks='none'``: no Neutron, no VIF plugging).
"""

import functools
import importlib
import os
import struct
import sys

import fixtures
from lxml import etree
from oslo_log import log as logging

from nova.tests import fixtures as nova_fixtures

LOG = logging.getLogger(__name__)

#: The spawn preflight's memory-locking check, as a dotted path (see the
#: module docstring): the patch series' (upstream/patches, "libvirt:
#: Preflight real-time and locked-memory spawns"), which returns (error,
#: unknown). Ignored when the running Nova has no such method.
MEMLOCK_PREFLIGHT = ('nova.virt.libvirt.driver.LibvirtDriver.'
                     '_check_memory_locking')

# The functions upstream's poison fixtures replace, as they are before any
# test ran (this module is imported at test discovery, before setUp).
_SYSFS_POISONED = ('os.path.isdir', 'builtins.open', 'glob.iglob',
                   'os.listdir', 'glob.glob')
_GENERIC_POISONED = ('os.uname', 'psutil.net_if_addrs')


def _resolve(dotted):
    """The object at ``dotted`` (a module attribute, or deeper: a method)."""
    parts = dotted.split('.')
    for split in range(len(parts) - 1, 0, -1):
        try:
            found = importlib.import_module('.'.join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            found = getattr(found, name)
        return found
    raise ImportError(dotted)


_ORIGINALS = {name: _resolve(name)
              for name in _SYSFS_POISONED + _GENERIC_POISONED}


class RealLibvirtFixture(fixtures.Fixture):
    """Let the real LibvirtDriver run inside ``nova.test.TestCase``.

    Use it after ``TestCase.setUp`` (the poison is in place then), as root,
    with ``compute_driver = libvirt.LibvirtDriver``.
    """

    def __init__(self, strip_locked=True, memlock_check=None):
        """``memlock_check``: dotted path of the preflight check to
        neutralise; None: ``$NOVA_RT_MEMLOCK_PREFLIGHT`` or
        ``MEMLOCK_PREFLIGHT``; False: none (the test wants the refusal).
        """
        super().__init__()
        self.strip_locked = strip_locked
        if memlock_check is None:
            memlock_check = (os.environ.get('NOVA_RT_MEMLOCK_PREFLIGHT') or
                             MEMLOCK_PREFLIGHT)
        self.memlock_check = memlock_check
        #: Every domain XML Nova defined, as Nova generated it.
        self.defined = []
        #: How many <locked/> elements were removed.
        self.stripped = 0

    def _setUp(self):
        # Poison fixtures: the originals back.
        for name in _SYSFS_POISONED + _GENERIC_POISONED:
            self.useFixture(fixtures.MonkeyPatch(name, _ORIGINALS[name]))
        self._allow_import('libvirt')
        # nova.privsep in this (root) process.
        self.useFixture(nova_fixtures.PrivsepFixture())
        # No libvirt event thread (as LibvirtFixture).
        self.useFixture(fixtures.MockPatch(
            'nova.virt.libvirt.host.Host._init_events'))
        # The domain XML on its way to libvirt.
        from nova.virt.libvirt import host
        original = host.Host.write_instance_config

        @functools.wraps(original)
        def write_instance_config(host_self, xml):
            self.defined.append(xml)
            if self.strip_locked:
                xml = self._strip_locked(xml)
            return original(host_self, xml)

        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.host.Host.write_instance_config',
            write_instance_config))
        if self.memlock_check:
            try:
                _resolve(self.memlock_check)
            except (ImportError, AttributeError):
                # This Nova has no preflight: nothing to neutralise.
                return

            def can_lock(*args, **kwargs):
                LOG.info('RealLibvirtFixture: %s neutralised (locked memory '
                         'is stripped at define)', self.memlock_check)
                # (no error, nothing unknown): the check's contract.
                return None, None
            self.useFixture(fixtures.MonkeyPatch(self.memlock_check,
                                                 can_lock))

    def _allow_import(self, module):
        """Take ``module`` off ImportModulePoisonFixture's finders."""
        finder_class = nova_fixtures.ImportModulePoisonFixture.ForbiddenModules
        for finder in list(sys.meta_path):
            if isinstance(finder, finder_class) and module in finder.modules:
                self.addCleanup(setattr, finder, 'modules', finder.modules)
                finder.modules = set(finder.modules) - {module}

    def _strip_locked(self, xml):
        root = etree.fromstring(xml)
        for locked in root.findall('./memoryBacking/locked'):
            backing = locked.getparent()
            backing.remove(locked)
            if not len(backing):
                root.remove(backing)
            self.stripped += 1
            LOG.info('RealLibvirtFixture: <locked/> removed from %s (this '
                     'libvirtd cannot raise RLIMIT_MEMLOCK)',
                     root.findtext('name'))
            # libvirt makes <memtune><hard_limit> QEMU's RLIMIT_MEMLOCK too
            # (the patch series sets one for locked memory): raising it
            # takes the same capability, so it goes with <locked/>.
            for limit in root.findall('./memtune/hard_limit'):
                memtune = limit.getparent()
                memtune.remove(limit)
                if not len(memtune):
                    root.remove(memtune)
        return etree.tostring(root, encoding='unicode')


# -- the image ----------------------------------------------------------------

# cli; hlt; jmp back to hlt: the boot vCPU halts for good (a boot sector of
# zeros would run through memory, keeping a pCPU busy under TCG).
_HALT = b'\xfa\xf4\xeb\xfd'


def mbr_image(size=1024 * 1024):
    """A raw disk: a halting boot sector, one Linux partition, zeros.

    oslo.utils' format inspector (Nova's ``do_image_deep_inspection``)
    reads a disk whose first sector ends with the 0x55AA signature as an
    MBR/GPT disk and refuses one with no partition entry. One entry
    (type 0x83, LBA 1 to the end) makes it a valid ``gpt``-detected disk,
    which Nova accepts for ``disk_format = raw``.
    """
    sectors = size // 512
    mbr = bytearray(512)
    mbr[0:len(_HALT)] = _HALT
    mbr[446:462] = struct.pack('<B3BB3BII', 0x00, 0, 2, 0, 0x83, 0xfe, 0xff,
                               0xff, 1, sectors - 1)
    mbr[510:512] = b'\x55\xaa'
    return bytes(mbr) + bytes(size - 512)
