"""Entry point for oslo-config-generator and the Sphinx config extension."""

from nova.conf import compute
from nova.conf import libvirt


def list_opts():
    opts = {}
    for module in (compute, libvirt):
        opts.update(module.list_opts())
    return [(group, options) for group, options in opts.items()]
