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

"""Sphinx directives that take their content from the code.

``.. nova-realtime::``
    Runs the command line in its content (as a reader would type it) in
    ``doc/source/examples`` (or ``:cwd:``) and shows it with its output. The
    build fails when the exit status is not ``:returncode:`` (default 0).
    ``:xml: cputune memoryBacking`` shows only those elements of the domain
    XML that plan prints; the random guest UUID is shown as ``(random)``.
``.. extra-spec-reference::``
    Every flavor extra spec, from nova.api.validation.extra_specs.
``.. image-property-reference::``
    Every image property, from ImageMetaProps and its field comments.
``.. upstream-object-versions::``
    This tree's versioned objects and their versions, next to upstream's.
``.. upstream-input-limits::``
    The input bounds of nova.virt.hardware_parse, next to upstream's.
``.. upstream-own-options::``
    The options upstream Nova does not have.
``.. nova-conf-options-read::``
    Every nova.conf option nova-realtime registers, as a list.
``.. nova-realtime-sub-commands::``
    Every sub-command of nova-realtime with its help, from its parser.
``.. upstream-series::``
    Every patch of upstream/patches: its subject, why (its commit message),
    the Nova services that run the code it changes and its release note.
"""

import os
import re

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from nova.doc import image_props
from nova.doc import runner
from nova.doc import series
from nova.doc import upstream

EXAMPLES_DIR = 'examples'
_RST_SPECIAL = re.compile(r'([\\*`|_\[\]<>])')


def escape(text):
    """Plain text made safe to embed in reStructuredText."""
    return _RST_SPECIAL.sub(r'\\\1', text)


def _slug(name):
    return re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')


def extra_spec_label(name):
    """The reference label of a flavor extra spec (hw:cpu_realtime)."""
    return 'extra-spec-' + _slug(name)


def image_property_label(name):
    """The reference label of an image property (hw_cpu_realtime_mask)."""
    return 'image-property-' + _slug(name)


def _literal(text, language):
    block = nodes.literal_block(text, text)
    block['language'] = language
    return block


class _GeneratedRst(SphinxDirective):
    """Base: a directive whose body is generated reStructuredText."""

    def rst_lines(self):
        raise NotImplementedError

    def run(self):
        lines = StringList()
        source = self.get_source_info()[0]
        for line in self.rst_lines():
            lines.append(line, source)
        container = nodes.section()
        container.document = self.state.document
        self.state.nested_parse(lines, self.content_offset, container,
                                match_titles=True)
        return container.children


class NovaRealtimeDirective(SphinxDirective):
    has_content = True
    option_spec = {
        'returncode': directives.nonnegative_int,
        'cwd': directives.unchanged,
        'xml': directives.unchanged,
    }

    def run(self):
        shown = '\n'.join(self.content)
        cwd = os.path.join(self.env.srcdir,
                           self.options.get('cwd', EXAMPLES_DIR))
        try:
            result = runner.run_shown(shown, cwd)
        except ValueError as e:
            raise self.error(str(e))
        expected = self.options.get('returncode', 0)
        if result.returncode != expected:
            raise self.error(
                'nova-realtime example exited %s, expected %s:\n%s\n%s'
                % (result.returncode, expected, shown, result.output))
        prompt = runner.PROMPT + shown
        if result.stdout.startswith('<domain'):
            xml = result.stdout
            if self.options.get('xml'):
                try:
                    xml = runner.xml_excerpt(xml,
                                             self.options['xml'].split())
                except ValueError as e:
                    raise self.error(str(e))
            blocks = [_literal(prompt, 'console'), _literal(xml, 'xml')]
            if result.stderr:
                blocks.append(_literal(result.stderr, 'text'))
            return blocks
        return [_literal(prompt + '\n' + result.output.rstrip('\n'),
                         'console')]


class ExtraSpecReferenceDirective(_GeneratedRst):

    def rst_lines(self):
        from nova.api.validation import extra_specs
        image_fields = {name for name, _d, _f in
                        image_props.describe_fields()}
        for validator in extra_specs.get_validators():
            name = validator.name
            yield '.. _%s:' % extra_spec_label(name)
            yield ''
            yield '``%s``' % name
            yield '-' * (len(name) + 4)
            yield ''
            yield escape(validator.description)
            yield ''
            value = validator.value
            yield ':Value: %s (%s)' % (escape(value['description']),
                                       value['type'])
            if value.get('enum'):
                yield ':Accepted: %s' % ', '.join(
                    '``%s``' % v for v in value['enum'])
            if value.get('min') is not None:
                yield ':Minimum: %d' % value['min']
            for param in validator.parameters:
                yield ':%s: %s' % (param.name, escape(param.description))
            image_name = 'hw_' + name[3:].replace('.{N}', '')
            if image_name in image_fields:
                yield ':Image property: :ref:`%s <%s>`' % (
                    image_name, image_property_label(image_name))
            yield ''


def _field_kind(field):
    from nova.objects import fields
    valid = getattr(getattr(field, 'AUTO_TYPE', None), 'valid_values', None)
    if valid:
        return 'one of %s' % ', '.join('``%s``' % v for v in valid)
    if isinstance(field, fields.IntegerField):
        return 'an integer'
    if isinstance(field, (fields.ListOfSetsOfIntegersField,)):
        return 'a CPU spec of guest vCPUs per node'
    if isinstance(field, fields.ListOfIntegersField):
        return 'an integer per node'
    return 'a string'


class ImagePropertyReferenceDirective(_GeneratedRst):

    def rst_lines(self):
        from nova.api.validation import extra_specs
        from nova.objects import image_meta
        flavor_keys = {v.name for v in extra_specs.get_validators()}
        indexed = set(image_meta._INDEXED_PROPS)
        for name, description, field in image_props.describe_fields():
            shown = name + '.N' if name in indexed else name
            yield '.. _%s:' % image_property_label(name)
            yield ''
            yield '``%s``' % shown
            yield '-' * (len(shown) + 4)
            yield ''
            yield escape(description)
            yield ''
            yield ':Value: %s' % _field_kind(field)
            flavor_key = 'hw:' + name[3:] + ('.{N}' if name in indexed
                                             else '')
            if name.startswith('hw_') and flavor_key in flavor_keys:
                yield ':Flavor extra spec: :ref:`%s <%s>`' % (
                    flavor_key, extra_spec_label(flavor_key))
            yield ''


def _list_table(header, rows):
    """A list-table of plain-text cells (already escaped)."""
    yield '.. list-table::'
    yield '   :header-rows: 1'
    yield ''
    for row in [header] + rows:
        for index, cell in enumerate(row):
            yield '   %s %s' % ('* -' if index == 0 else '  -', cell)
    yield ''


def object_versions():
    """[(class name, this tree's VERSION, upstream's VERSION)]."""
    from nova.objects import base
    classes = base.NovaObjectRegistry.obj_classes()
    return [(name, classes[name][0].VERSION,
             upstream.UPSTREAM_OBJECT_VERSIONS.get(name))
            for name in sorted(classes)]


class ObjectVersionsDirective(_GeneratedRst):

    def rst_lines(self):
        rows = [['``%s``' % name, ours, theirs or '(none)']
                for name, ours, theirs in object_versions()]
        yield from _list_table(
            ['Object', 'nova-realtime', 'upstream Nova %s'
             % upstream.UPSTREAM_RELEASE], rows)


def input_limits():
    """[(constant, what, unit, value, upstream)] from hardware_parse."""
    from nova.virt import hardware_parse
    return [(name, what, unit, getattr(hardware_parse, name), theirs)
            for name, what, unit, theirs in upstream.INPUT_LIMITS]


def _amount(value, unit):
    text = ('%d %s' % (value, unit)).strip()
    if unit == 'MiB' and value >= 1024 * 1024:
        text += ' (%g TiB)' % (value / 1024.0 / 1024.0)
    return text


class InputLimitsDirective(_GeneratedRst):

    def rst_lines(self):
        rows = [[escape(what), _amount(value, unit), escape(theirs)]
                for _name, what, unit, value, theirs in input_limits()]
        yield from _list_table(
            ['Input', 'nova-realtime accepts at most', 'upstream Nova %s'
             % upstream.UPSTREAM_RELEASE], rows)


class OwnOptionsDirective(_GeneratedRst):

    def rst_lines(self):
        from nova.conf import opts
        defaults = {(group.name, opt.name): opt.default
                    for group, options in opts.list_opts()
                    for opt in options}
        for group, name, why in upstream.OWN_OPTIONS:
            yield '``[%s] %s``' % (group, name)
            yield '   Default ``%s``. %s.' % (defaults[(group, name)],
                                              escape(why[0].upper() +
                                                     why[1:]))
            yield ''



class OptionsReadDirective(_GeneratedRst):

    def rst_lines(self):
        from nova.conf import opts
        for group, options in opts.list_opts():
            name = getattr(group, 'name', group)
            for opt in options:
                # dest: the name as written in nova.conf (auth_url, not
                # keystoneauth1's auth-url).
                yield '* ``[%s] %s``' % (name, opt.dest)
        yield ''


class SubCommandsDirective(_GeneratedRst):

    def rst_lines(self):
        import argparse

        from nova.doc import cli
        top = cli.parser()
        for action in top._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    yield '``%s``' % choice.dest
                    yield '   %s' % escape(' '.join(
                        (choice.help or '').split()))
                    yield ''


class SeriesDirective(_GeneratedRst):

    SECTIONS = (('features', 'New'), ('fixes', 'Fixed'),
                ('upgrade', 'Upgrade'), ('security', 'Security'))

    def rst_lines(self):
        found = series.patches()
        if not found:
            raise self.error('no patches in %s' % series.PATCHES)
        for number, patch in enumerate(found, 1):
            yield '.. rubric:: %d. %s' % (number, escape(patch.subject))
            yield ''
            yield ':Patch: ``upstream/patches/%s``' % patch.name
            yield ':Runs in: %s' % (', '.join(series.services(patch.files))
                                    or 'tests only')
            yield ''
            for para in series.paragraphs(patch.body):
                if isinstance(para, list):
                    for item in para:
                        yield '* ' + escape(item)
                else:
                    yield escape(para)
                yield ''
            for key, title in self.SECTIONS:
                items = (patch.note or {}).get(key) or []
                if items:
                    yield '%s (release note):' % title
                    yield ''
                    for item in items:
                        lines = item.strip('\n').splitlines()
                        yield '* ' + lines[0]
                        for line in lines[1:]:
                            yield '  ' + line
                    yield ''


def setup(app):
    app.add_directive('nova-realtime', NovaRealtimeDirective)
    app.add_directive('extra-spec-reference', ExtraSpecReferenceDirective)
    app.add_directive('image-property-reference',
                      ImagePropertyReferenceDirective)
    app.add_directive('upstream-object-versions', ObjectVersionsDirective)
    app.add_directive('upstream-input-limits', InputLimitsDirective)
    app.add_directive('upstream-own-options', OwnOptionsDirective)
    app.add_directive('nova-conf-options-read', OptionsReadDirective)
    app.add_directive('nova-realtime-sub-commands', SubCommandsDirective)
    app.add_directive('upstream-series', SeriesDirective)
    return {'parallel_read_safe': False, 'parallel_write_safe': True}
