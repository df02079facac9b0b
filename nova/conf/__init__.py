"""Configuration options, registered on a single ``CONF`` object."""

import os

from oslo_concurrency import lockutils
from oslo_config import cfg

from nova.conf import compute
from nova.conf import libvirt
from nova.conf import placement
from nova.conf import realtime

CONF = cfg.CONF

compute.register_opts(CONF)
libvirt.register_opts(CONF)
placement.register_opts(CONF)
realtime.register_opts(CONF)

# Claims (read usage -> fit -> define) are serialised by an external file
# lock; every nova-realtime process on a host must agree on its directory.
lockutils.set_defaults(
    os.environ.get('OSLO_LOCK_PATH', '/var/lib/nova-realtime/lock'))
