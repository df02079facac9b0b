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

"""Configuration options, registered on a single ``CONF`` object.

``[placement]`` (nova.conf.placement) is registered only where Placement is
used: by nova.compute.realtime_trait, and by nova.cmd.realtime before it
loads the files for ``advertise``.
"""

import os

from oslo_concurrency import lockutils
from oslo_config import cfg

from nova.conf import compute
from nova.conf import libvirt
from nova.conf import realtime

CONF = cfg.CONF

compute.register_opts(CONF)
libvirt.register_opts(CONF)
realtime.register_opts(CONF)

# Claims (read usage -> fit -> define) are serialised by an external file
# lock; every nova-realtime process on a host must agree on its directory.
lockutils.set_defaults(
    os.environ.get('OSLO_LOCK_PATH', '/var/lib/nova-realtime/lock'))
