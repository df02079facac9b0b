"""Tests of the pure parts of tools/ scripts (tools/ is not a package)."""

import importlib.util
import os

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                    '..', '..'))


def load_tool_module(relpath, name):
    """Import a module from a file below the repository's tools/."""
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(REPO, 'tools', relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
