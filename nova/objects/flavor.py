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
