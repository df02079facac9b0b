import os
import re

from docutils import nodes

project = 'nova-realtime release notes'
copyright = 'nova-realtime developers'
extensions = ['reno.sphinxext']
master_doc = 'index'
html_theme = 'alabaster'

# The version these notes belong to. The repository has no release tag yet,
# so reno files every note under "0.0.0" (and, once a release is tagged,
# later notes under "<tag>-<commits>"); neither is a version anyone can
# install. Such a section is titled instead with the version pbr gives the
# tree, the one "nova-realtime --version" prints, marked as not yet
# released. Notes of a tagged release keep the tag as their title.
# (reno's unreleased_version_title only applies to "<tag>-<commits>".)
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..',
                                         '..'))
UNRELEASED_RE = re.compile(r'^(0\.0\.0|\d+(\.\d+)*-\d+)$')


def pbr_version():
    """The release pbr computes for the source tree ("0.0.1"), or None."""
    try:
        from pbr import packaging
        from pbr import version
    except ImportError:
        return None
    old = os.getcwd()
    try:
        os.chdir(REPO_ROOT)
        full = packaging.get_version('nova-realtime')
    except Exception:
        return None
    finally:
        os.chdir(old)
    return version.SemanticVersion.from_pip_string(full).brief_string()


def unreleased_title():
    found = pbr_version()
    if found is None:
        return 'Not yet released'
    return '%s (not yet released)' % found


def _retitle_unreleased(app, doctree):
    title = None
    for node in list(doctree.findall(nodes.title)):
        if UNRELEASED_RE.match(node.astext()):
            title = title or unreleased_title()
            node.children = [nodes.Text(title)]


def setup(app):
    # Before the table of contents is collected from the titles.
    app.connect('doctree-read', _retitle_unreleased, priority=100)
