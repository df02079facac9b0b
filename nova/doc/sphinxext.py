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
``.. nova-realtime-commands::``
    Every sub-command of nova-realtime and its options, from its parser.
"""

import argparse
import os
import re

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from nova.doc import image_props
from nova.doc import runner

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


def command_parsers():
    """{sub-command: argparse parser} of nova-realtime, in parser order."""
    from nova.cmd import realtime
    parser = argparse.ArgumentParser(prog=runner.PROG + ' [GLOBAL OPTIONS]')
    subparsers = parser.add_subparsers()
    realtime.add_command_parsers(subparsers)
    return dict(subparsers.choices)


def _option_text(action):
    if action.option_strings:
        names = ', '.join(action.option_strings)
        if action.nargs != 0:
            names += ' ' + (action.metavar or action.dest.upper())
        return names
    return action.metavar or action.dest


class CommandReferenceDirective(_GeneratedRst):

    def rst_lines(self):
        from nova.cmd import realtime
        helps = {}
        probe = argparse.ArgumentParser(prog=runner.PROG)
        sub = probe.add_subparsers()
        realtime.add_command_parsers(sub)
        for action in sub._choices_actions:
            helps[action.dest] = action.help
        for name, parser in command_parsers().items():
            title = '%s %s' % (runner.PROG, name)
            yield '.. _command-%s:' % name
            yield ''
            yield title
            yield '-' * len(title)
            yield ''
            yield escape(helps.get(name) or '')
            yield ''
            yield '.. code-block:: text'
            yield ''
            for line in parser.format_usage().strip().splitlines():
                yield '   ' + line
            yield ''
            for action in parser._actions:
                if isinstance(action, argparse._HelpAction):
                    continue
                yield '``%s``' % _option_text(action)
                text = escape(action.help or '')
                if action.required:
                    text += ' Required.'
                elif action.option_strings and action.default not in (
                        None, [], False):
                    text += ' Default: ``%s``.' % action.default
                yield '   ' + (text.strip() or 'See above.')
                yield ''


def setup(app):
    app.add_directive('nova-realtime', NovaRealtimeDirective)
    app.add_directive('extra-spec-reference', ExtraSpecReferenceDirective)
    app.add_directive('image-property-reference',
                      ImagePropertyReferenceDirective)
    app.add_directive('nova-realtime-commands', CommandReferenceDirective)
    return {'parallel_read_safe': False, 'parallel_write_safe': True}
