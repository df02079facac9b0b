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

import subprocess
import sys

from nova import test


def _nova_api_modules_after(code):
    """The nova.api modules loaded by ``code`` in a fresh interpreter (this
    one has imported everything already).
    """
    code += ('\nimport sys\n'
             'print(sorted(m for m in sys.modules '
             'if m.startswith("nova.api")))\n')
    return subprocess.run([sys.executable, '-c', code], check=True,
                          capture_output=True, text=True).stdout.strip()


class TestLayering(test.TestCase):

    def test_objects_do_not_import_the_api_layer(self):
        self.assertEqual('[]', _nova_api_modules_after(
            'from nova import objects\nobjects.register_all()'))

    def test_driver_does_not_import_the_api_layer(self):
        self.assertEqual('[]', _nova_api_modules_after(
            'from nova.virt.libvirt import driver'))

    def test_the_api_validates_with_the_driver_s_validators(self):
        # One implementation: the API's names are the lower module's.
        from nova.api.validation import extra_specs as api_specs
        from nova.virt import extra_specs
        for name in api_specs.__all__:
            self.assertIs(getattr(extra_specs, name),
                          getattr(api_specs, name), name)
