"""Helpers that build parts of the documentation from the code itself.

``runner`` runs ``nova-realtime`` in-process for the examples the docs show,
``image_props`` reads the image property descriptions from
nova/objects/image_meta.py, ``sphinxext`` is the Sphinx extension that puts
both (and the extra spec and command references) into the pages.
"""
