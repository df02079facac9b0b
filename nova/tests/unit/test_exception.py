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

import inspect

from nova import exception
from nova import test


def _classes():
    return [cls for _name, cls in inspect.getmembers(exception,
                                                     inspect.isclass)
            if issubclass(cls, exception.NovaException)]


class TestMessages(test.TestCase):

    def test_missing_argument_still_gives_the_message(self):
        error = exception.InvalidProperty(name='hw:pmu', value='t')
        self.assertEqual("hw:pmu='t' is invalid: <reason unknown>",
                         str(error))
        self.assertEqual({'name': 'hw:pmu', 'value': 't'}, error.kwargs)

    def test_wrong_argument_type_still_gives_the_message(self):
        error = exception.HostLockTimeout(path='/x', timeout='soon')
        self.assertIn('host lock', str(error))
        self.assertIn('soon', str(error))

    def test_every_class_formats_without_arguments(self):
        for cls in _classes():
            self.assertTrue(str(cls()), cls.__name__)

    def test_moved_classes_live_here(self):
        names = {cls.__name__ for cls in _classes()}
        for name in ('PlacementError', 'PlacementConfigInvalid',
                     'ProviderNotFound', 'NodeIdentityError',
                     'TraitNotWithdrawn', 'GenerationConflict',
                     'GatingWarningInvalid', 'LibvirtUnreachable',
                     'CapabilitiesFileInvalid', 'DomainXMLUnreadable',
                     'UsageError', 'NovaComputeHere', 'AdvertiseInvalid',
                     'LoggingUnavailable'):
            self.assertIn(name, names)

    def test_no_exception_class_outside_this_module(self):
        # Every exception of the package is defined in nova/exception.py.
        import ast
        import os
        root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        found = []
        for directory, _dirs, files in os.walk(root):
            if os.sep + 'tests' in directory[len(root):]:
                continue
            for name in files:
                path = os.path.join(directory, name)
                if not name.endswith('.py') or path == exception.__file__:
                    continue
                with open(path) as f:
                    tree = ast.parse(f.read())
                for node in ast.walk(tree):
                    if isinstance(node, ast.ClassDef) and any(
                            getattr(base, 'attr', getattr(base, 'id', ''))
                            in ('Exception', 'Invalid', 'NovaException')
                            for base in node.bases):
                        found.append('%s: %s' % (path, node.name))
        self.assertEqual([], found)
