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

"""Versioned objects (oslo.versionedobjects, ``nova`` namespace)."""

from nova import deferred_import

# Imported by oslo.versionedobjects, used by no command (see the module).
deferred_import.defer('oslo_messaging',
                      preload=[('serializer', 'NoOpSerializer')])
deferred_import.defer('oslo_utils.strutils')


def register_all():
    # Importing a module registers its objects with NovaObjectRegistry, which
    # also makes them reachable as ``nova.objects.<Name>``.
    __import__('nova.objects.flavor')
    __import__('nova.objects.image_meta')
    __import__('nova.objects.instance')
    __import__('nova.objects.numa')
