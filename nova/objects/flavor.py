from nova.objects import base
from nova.objects import fields


@base.NovaObjectRegistry.register
class Flavor(base.NovaObject):
    """The operator's sizing and extra specs of an instance.

    Only the fields the real-time path reads; ``extra_specs`` keeps raw
    strings, which nova.virt.hardware parses exactly once.
    """

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'name': fields.StringField(),
        'vcpus': fields.IntegerField(),
        'memory_mb': fields.IntegerField(),
        'extra_specs': fields.DictOfStringsField(default={}),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if 'extra_specs' not in self:
            self.extra_specs = {}
