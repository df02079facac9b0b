from nova.objects import base
from nova.objects import fields


@base.NovaObjectRegistry.register
class Instance(base.NovaObject):
    """A guest as nova-compute handles it.

    ``numa_topology`` is the fitted InstanceNUMATopology once the guest has
    claimed host resources (None for a guest without NUMA/pinning needs).
    """

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'uuid': fields.UUIDField(),
        'name': fields.StringField(),
        'flavor': fields.ObjectField('Flavor'),
        'numa_topology': fields.ObjectField('InstanceNUMATopology',
                                            nullable=True, default=None),
    }
