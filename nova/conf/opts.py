"""Entry point for oslo-config-generator and the Sphinx config extension."""

from nova.conf import compute
from nova.conf import libvirt
from nova.conf import realtime


def list_opts():
    opts = {}
    for module in (compute, libvirt):
        opts.update(module.list_opts())
    opts.update(realtime.list_opts())
    return [(group, options) for group, options in opts.items()]
