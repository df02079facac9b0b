"""Configuration options, registered on a single ``CONF`` object."""

from oslo_config import cfg

from nova.conf import compute
from nova.conf import libvirt

CONF = cfg.CONF

compute.register_opts(CONF)
libvirt.register_opts(CONF)
