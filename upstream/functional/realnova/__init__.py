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


"""Upstream Nova's functional services on the real libvirt driver.

Run from this directory with upstream Nova's source tree first on the path
(see README.rst). As upstream's ``nova/tests/functional/__init__.py``: the
concurrency mode (eventlet unless OS_NOVA_DISABLE_EVENTLET_PATCHING says
otherwise) is set before anything else of Nova is imported.
"""

from nova import monkey_patch ; monkey_patch.patch()  # noqa
