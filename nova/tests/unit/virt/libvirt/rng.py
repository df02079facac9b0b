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

"""Validate generated XML against libvirt's own RelaxNG schemas.

libvirt ships its schemas (``/usr/share/libvirt/schemas``, Debian package
libvirt0); a domain that does not validate is a bug even when a test that
looked at a few attributes passed. lxml loads these schemas directly, so
each one is loaded once per process and cached. If lxml ever cannot load a
schema, validation falls back to libvirt's ``virt-xml-validate`` tool.

Use::

    from nova.tests.unit.virt.libvirt import rng
    rng.assert_domain_valid(guest.to_xml())
"""

import functools
import os
import subprocess
import tempfile

from lxml import etree

SCHEMA_DIR = os.environ.get('LIBVIRT_SCHEMA_DIR', '/usr/share/libvirt/schemas')


class SchemaUnavailable(Exception):
    """libvirt's schemas are not installed where we look for them."""


@functools.lru_cache(maxsize=None)
def load_schema(name):
    """The lxml RelaxNG for ``<name>.rng``, or None to use the CLI fallback.

    Raises SchemaUnavailable when the file is missing: install the libvirt0
    package (or point LIBVIRT_SCHEMA_DIR at the schemas).
    """
    path = os.path.join(SCHEMA_DIR, '%s.rng' % name)
    if not os.path.exists(path):
        raise SchemaUnavailable(
            '%s not found: install libvirt0 (it ships the schemas) or set '
            'LIBVIRT_SCHEMA_DIR' % path)
    try:
        return etree.RelaxNG(file=path)
    except etree.RelaxNGParseError:
        return None


def _to_bytes(xml):
    if isinstance(xml, etree._Element):
        return etree.tostring(xml)
    if isinstance(xml, str):
        return xml.encode('utf-8')
    return xml


def validation_errors(xml, schema='domain'):
    """A list of error strings (empty when ``xml`` is valid)."""
    data = _to_bytes(xml)
    relaxng = load_schema(schema)
    if relaxng is not None:
        doc = etree.fromstring(data)
        if relaxng.validate(doc):
            return []
        return ['line %d: %s' % (err.line, err.message)
                for err in relaxng.error_log]
    with tempfile.NamedTemporaryFile(suffix='.xml') as tmp:
        tmp.write(data)
        tmp.flush()
        proc = subprocess.run(['virt-xml-validate', tmp.name, schema],
                              capture_output=True, text=True, check=False)
    if proc.returncode == 0:
        return []
    return [line for line in (proc.stdout + proc.stderr).splitlines()
            if line.strip()] or ['virt-xml-validate exited %d'
                                 % proc.returncode]


def assert_valid(xml, schema='domain'):
    errors = validation_errors(xml, schema)
    if errors:
        text = xml if isinstance(xml, str) else _to_bytes(xml).decode()
        raise AssertionError(
            'XML does not validate against libvirt schema %s.rng:\n  %s\n'
            '--- XML ---\n%s' % (schema, '\n  '.join(errors), text))


def assert_domain_valid(xml_str):
    """Fail (AssertionError with libvirt's schema errors) unless valid."""
    assert_valid(xml_str, 'domain')


def assert_capabilities_valid(xml_str):
    assert_valid(xml_str, 'capability')
