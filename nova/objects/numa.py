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

"""Host and instance NUMA topologies.

Host side: NUMATopology of NUMACell, each with its pCPUs, SMT siblings, memory
and page pools, and the pCPUs already pinned to guests. Instance side:
InstanceNUMATopology of InstanceNUMACell, first as a request (cells, policies,
real-time vCPUs) and, once fitted to a host, with ``host_node``,
``cpu_pinning`` and ``cpuset_reserved`` filled in.
"""

from oslo_utils import versionutils

from nova.objects import base
from nova.objects import fields


@base.NovaObjectRegistry.register
class NUMAPagesTopology(base.NovaObject):
    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'size_kb': fields.IntegerField(),
        'total': fields.IntegerField(),
        'used': fields.IntegerField(default=0),
        'reserved': fields.IntegerField(default=0),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.obj_set_missing_defaults()

    @property
    def free(self):
        return self.total - self.used - self.reserved

    @property
    def free_kb(self):
        return self.free * self.size_kb


@base.NovaObjectRegistry.register
class NUMACell(base.NovaObject):
    """One host NUMA node.

    ``cpuset`` holds the pCPUs usable by shared (floating) guests and
    ``pcpuset`` those usable by dedicated guests ([compute]
    cpu_dedicated_set); ``siblings`` lists the SMT thread groups as sets;
    ``memory`` and ``memory_usage`` are MiB of small-page memory.
    """

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'id': fields.IntegerField(read_only=True),
        'cpuset': fields.SetOfIntegersField(),
        'pcpuset': fields.SetOfIntegersField(),
        'siblings': fields.ListOfSetsOfIntegersField(),
        'memory': fields.IntegerField(),
        'memory_usage': fields.IntegerField(default=0),
        'mempages': fields.ListOfObjectsField('NUMAPagesTopology'),
        'pinned_cpus': fields.SetOfIntegersField(),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, empty in (('cpuset', set()), ('pcpuset', set()),
                            ('siblings', []), ('mempages', []),
                            ('pinned_cpus', set()), ('memory_usage', 0)):
            if name not in self:
                setattr(self, name, empty)

    @property
    def free_pcpus(self):
        return self.pcpuset - self.pinned_cpus

    @property
    def avail_memory(self):
        return self.memory - self.memory_usage

    def pages(self, size_kb):
        """The page pool of ``size_kb`` KiB pages, or None."""
        for pages in self.mempages:
            if pages.size_kb == size_kb:
                return pages
        return None

    def sibling_set(self, cpu):
        """The SMT thread group containing ``cpu`` (``{cpu}`` when none)."""
        for group in self.siblings:
            if cpu in group:
                return group
        return {cpu}


@base.NovaObjectRegistry.register
class NUMATopology(base.NovaObject):
    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'cells': fields.ListOfObjectsField('NUMACell'),
    }

    @property
    def pinned_cpus(self):
        return set().union(*(cell.pinned_cpus for cell in self.cells))


@base.NovaObjectRegistry.register
class InstanceNUMACell(base.NovaObject):
    """One guest NUMA node.

    ``id`` is the guest node number; ``host_node`` is the host cell it was
    fitted to (None until fitted). ``cpuset`` holds the guest vCPUs that
    float (shared), ``pcpuset`` those pinned to a dedicated host pCPU each,
    as upstream Nova splits them: a dedicated cell has only ``pcpuset``, a
    shared one only ``cpuset``, a mixed one both. ``cpu_pinning`` maps each
    vCPU of ``pcpuset`` to its host pCPU. ``cpuset_reserved`` holds the
    host pCPUs reserved for emulator threads
    (``hw:emulator_threads_policy=isolate``, first cell only).
    ``pagesize`` is in KiB, or one of the negative MEMPAGES_* markers of
    nova.virt.hardware (small/large/any) until fitted.
    """

    # Version 1.0: Initial version
    # Version 1.1: cpus split into cpuset (shared vCPUs) and pcpuset
    #              (dedicated vCPUs), for the mixed CPU policy
    VERSION = '1.1'

    fields = {
        'id': fields.IntegerField(),
        'cpuset': fields.SetOfIntegersField(default=set()),
        'pcpuset': fields.SetOfIntegersField(default=set()),
        'memory': fields.IntegerField(),
        'pagesize': fields.IntegerField(nullable=True, default=None),
        'cpu_policy': fields.CPUAllocationPolicyField(nullable=True,
                                                      default=None),
        'cpu_thread_policy': fields.CPUThreadAllocationPolicyField(
            nullable=True, default=None),
        'cpu_pinning': fields.DictOfIntegerToIntegerField(nullable=True,
                                                          default=None),
        'cpuset_reserved': fields.SetOfIntegersField(nullable=True,
                                                     default=None),
        'host_node': fields.IntegerField(nullable=True, default=None),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.obj_set_missing_defaults()

    def obj_make_compatible(self, primitive, target_version):
        super().obj_make_compatible(primitive, target_version)
        target = versionutils.convert_version_to_tuple(target_version)
        if target < (1, 1):
            # 1.0 readers know one set of vCPUs.
            primitive['cpus'] = sorted(
                set(primitive.pop('cpuset', ())) |
                set(primitive.pop('pcpuset', ())))

    @property
    def total_cpus(self):
        """Every vCPU of the cell, shared and dedicated."""
        return self.cpuset | self.pcpuset

    @property
    def cpu_pinning_requested(self):
        return self.cpu_policy in (fields.CPUAllocationPolicy.DEDICATED,
                                   fields.CPUAllocationPolicy.MIXED)


@base.NovaObjectRegistry.register
class InstanceNUMATopology(base.NovaObject):
    """A guest's NUMA layout and CPU policies.

    ``realtime_cpus`` is the set of real-time guest vCPUs (None: not a
    real-time guest). ``emulator_threads_policy`` is None when unset.
    """

    # Version 1.0: Initial version
    # Version 1.1: InstanceNUMACell 1.1 (cpuset/pcpuset)
    VERSION = '1.1'

    obj_relationships = {
        'cells': [('1.0', '1.0'), ('1.1', '1.1')],
    }

    fields = {
        'cells': fields.ListOfObjectsField('InstanceNUMACell'),
        'emulator_threads_policy': fields.CPUEmulatorThreadsPolicyField(
            nullable=True, default=None),
        'realtime_cpus': fields.SetOfIntegersField(nullable=True,
                                                   default=None),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.obj_set_missing_defaults()

    @property
    def cpu_pinning_requested(self):
        # all() of no cells would claim pinning for an empty topology.
        return bool(self.cells) and all(
            cell.cpu_pinning_requested for cell in self.cells)

    @property
    def cpu_pinning(self):
        """Merged vCPU -> pCPU map over every cell (empty when unpinned)."""
        pinning = {}
        for cell in self.cells:
            pinning.update(cell.cpu_pinning or {})
        return pinning

    @property
    def cpuset_reserved(self):
        return set().union(*(cell.cpuset_reserved or set()
                             for cell in self.cells))

    @property
    def vcpus(self):
        return set().union(*(cell.total_cpus for cell in self.cells))

    @property
    def emulator_threads_isolated(self):
        """Whether the emulator threads get a pCPU of their own."""
        return (self.emulator_threads_policy ==
                fields.CPUEmulatorThreadsPolicy.ISOLATE)

    @property
    def is_realtime(self):
        return self.realtime_cpus is not None
