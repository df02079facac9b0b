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

"""What ``nova-realtime plan`` imports (so the import cost cannot creep back).

Each check runs in a fresh interpreter: the test process has imported
everything already.
"""

import json
import os
import subprocess
import sys

import testtools

from nova import deferred_import

# The tree holding this nova package (not whichever one is installed).
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))

# Modules plan must not load: os-traits is read at the first trait: key,
# oslo.messaging (and eventlet under it) and oslo_utils.strutils are only
# imported by oslo.versionedobjects, never used by a command; keystoneauth1
# (and requests under it) only by advertise, for [placement]. What
# nova.cmd defers (oslo.config's URI types and source drivers, oslo.log's
# formatters' JSON and time zones, deprecation warnings, oslo.concurrency's
# lock timing, oslo.log's configuration file parser, oslo.config's state
# serialisation, netaddr's debug printing) and pbr's version lookup
# (importlib.metadata, for --version only) stay unloaded too.
NOT_FOR_PLAN = ('os_traits', 'oslo_messaging', 'eventlet',
                'oslo_service', 'oslo_utils.strutils', 'keystoneauth1',
                'requests', 'urllib3', 'rfc3986', 'stevedore',
                'debtcollector', 'oslo_serialization.jsonutils',
                'dateutil.tz', 'netaddr.eui', 'importlib.metadata',
                'pbr.version', 'oslo_utils.timeutils', 'iso8601',
                'configparser', 'pickle', 'pprint', 'dataclasses')
# The one submodule of a deferred package loaded up front (nova.objects).
PRELOADED = ('oslo_messaging.serializer',)

_CHILD = '''
import json, sys, types
sys.argv = ['nova-realtime', 'plan', '--vcpus', '4', '--ram', '1024',
            '--property', 'hw:cpu_policy=dedicated', '--property',
            'hw:cpu_realtime=yes', '--property', 'trait:CUSTOM_RT=required',
            '--connection', 'test:///default']
from nova.cmd import realtime
try:
    code = realtime.main()
except SystemExit as e:
    code = e.code
loaded = [name for name, module in sys.modules.items()
          if type(module) is types.ModuleType]
import nova
print(json.dumps({'code': code, 'loaded': loaded, 'nova': nova.__file__}))
'''


class PlanImportsTest(testtools.TestCase):

    def test_plan_loads_no_unused_library(self):
        proc = subprocess.run(
            [sys.executable, '-c', _CHILD], cwd=REPO_ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            timeout=120, env=dict(os.environ, PYTHONPATH=REPO_ROOT))
        self.assertEqual(0, proc.returncode, proc.stderr)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        self.assertEqual(0, result['code'], proc.stderr)
        loaded = set(result['loaded'])
        self.assertIn('nova.virt.hardware_fit', loaded)
        self.assertEqual(os.path.join(REPO_ROOT, 'nova', '__init__.py'),
                         result['nova'])
        self.assertEqual([], sorted(
            name for name in loaded
            if name not in PRELOADED and (
                name in NOT_FOR_PLAN or name.split('.')[0] in NOT_FOR_PLAN)))


class DeferredImportTest(testtools.TestCase):

    def test_loads_on_first_use_in_place(self):
        name = 'nova.tests.unit._deferred_probe'
        self.addCleanup(sys.modules.pop, name, None)
        sys.modules.pop(name, None)
        module = deferred_import.defer(name)
        self.assertIs(module, sys.modules[name])
        self.assertNotIn('VALUE', vars(module))
        self.assertEqual(42, module.VALUE)
        self.assertIs(module, sys.modules[name])
        self.assertIs(type(module), type(sys))
        self.assertRaises(AttributeError, getattr, module, 'missing')

    def test_already_imported_is_left_alone(self):
        self.assertIs(sys.modules['json'], deferred_import.defer('json'))
