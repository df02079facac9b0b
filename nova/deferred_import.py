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

"""Modules that libraries import but only use later, loaded on first use.

oslo.versionedobjects imports oslo.messaging (for one base class,
``NoOpSerializer``; the package pulls in eventlet, oslo.service and a DNS
resolver: half a second of CPU) and oslo_utils.strutils (for two functions
called when a field is coerced or printed; it compiles its password
patterns on import). Every nova-realtime command builds objects; none sends
a message. ``defer`` puts a module object for such a module in
``sys.modules`` that holds only the names given to it; the first time
anything else is read from it, the real module runs inside that very
object, so every reference anyone took stays valid and from then on it is
the ordinary module.
"""

import importlib
import importlib.util
import sys
import types


class _DeferredModule(types.ModuleType):

    def __getattr__(self, name):
        # Only called for a name the module does not hold (yet).
        if name.startswith('__') and name.endswith('__'):
            # Introspection (copy, pickle, inspect, doctest) asking for an
            # optional dunder: the real module would not have it either.
            raise AttributeError(name)
        self.__class__ = types.ModuleType
        self.__spec__.loader.exec_module(self)
        return getattr(self, name)


def defer(name, preload=()):
    """Make ``import name`` cheap until the module is really used.

    ``preload`` lists (submodule, attribute) pairs whose submodule is
    imported now and whose attribute is set on the deferred package (as
    its ``__init__`` would). Nothing happens when the module is imported
    already or cannot be found. Returns the module in ``sys.modules``.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _DeferredModule
    sys.modules[name] = module
    parent, _dot, child = name.rpartition('.')
    if parent:
        setattr(sys.modules[parent], child, module)
    for submodule, attribute in preload:
        sub = importlib.import_module('%s.%s' % (name, submodule))
        setattr(module, attribute, getattr(sub, attribute))
    return module
