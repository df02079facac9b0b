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

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields as ovo_fields

import nova.objects


class NovaObjectRegistry(ovo_base.VersionedObjectRegistry):
    def registration_hook(self, cls, index):
        # Expose the newest registered version as nova.objects.<Name>.
        version = tuple(int(x) for x in cls.VERSION.split('.'))
        current = getattr(nova.objects, cls.obj_name(), None)
        if current is None or version >= tuple(
                int(x) for x in current.VERSION.split('.')):
            setattr(nova.objects, cls.obj_name(), cls)


class NovaObject(ovo_base.VersionedObject):
    OBJ_SERIAL_NAMESPACE = 'nova_object'
    OBJ_PROJECT_NAMESPACE = 'nova'

    def obj_set_missing_defaults(self):
        """Set the defaults of the fields that are not set yet.

        obj_set_defaults() deep-copies every field's default before it
        looks whether the field is set; the NUMA fit builds many objects
        with most fields given, so skip those.
        """
        missing = [name for name, field in self.fields.items()
                   if field.default is not ovo_fields.UnspecifiedDefault and
                   not self.obj_attr_is_set(name)]
        if missing:
            self.obj_set_defaults(*missing)
