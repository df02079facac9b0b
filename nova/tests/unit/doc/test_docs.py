"""The documentation's examples, run against the code.

Every ``.. nova-realtime::`` example is run (the Sphinx build runs them too,
this checks what they show); every ``openstack flavor`` example is validated
and must be the flavor a plan example on the same page shows; every
``openstack image set`` property is read as nova-compute reads it; every
check-host line quoted has a real check id and the format check-host
prints; the host-fault messages the troubleshooting page quotes are the
code's own words; the generated references cover every extra spec and
image property.
"""

import collections
import configparser
import os
import re
import shlex

import fixtures
from lxml import etree

from nova.api.validation import extra_specs
from nova.doc import image_props
from nova.doc import runner
from nova.doc import sphinxext
from nova import exception
from nova import objects
from nova import test
from nova.tests.unit.virt.libvirt import rng
from nova.virt.libvirt import driver
from nova.virt.libvirt import host as host_mod
from nova.virt.libvirt import host_checks
from nova.virt.libvirt import host_facts

DOC_SOURCE = os.path.normpath(os.path.join(
    os.path.dirname(__file__), '..', '..', '..', '..', 'doc', 'source'))
EXAMPLES = os.path.join(DOC_SOURCE, sphinxext.EXAMPLES_DIR)

Example = collections.namedtuple('Example', 'page line options command')


def rst_pages():
    pages = {}
    for root, _dirs, files in os.walk(DOC_SOURCE):
        for name in files:
            if name.endswith('.rst'):
                path = os.path.join(root, name)
                with open(path) as f:
                    pages[os.path.relpath(path, DOC_SOURCE)] = f.read()
    return pages


def _indented_block(lines, start):
    """The lines indented more than lines[start-1], from start on."""
    indent = len(lines[start - 1]) - len(lines[start - 1].lstrip())
    block = []
    index = start
    while index < len(lines):
        line = lines[index]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line)
        index += 1
    return block


def run_examples(pages):
    """Every ``.. nova-realtime::`` directive: [Example]."""
    found = []
    for page, text in sorted(pages.items()):
        lines = text.splitlines()
        for number, line in enumerate(lines):
            if not re.match(r'^\s*\.\. nova-realtime::\s*$', line):
                continue
            options, command = {}, []
            for body in _indented_block(lines, number + 1):
                option = re.match(r'^\s*:([a-z]+):\s*(.*)$', body)
                if option and not command:
                    options[option.group(1)] = option.group(2).strip()
                elif body.strip():
                    command.append(body.strip())
            found.append(Example(page, number + 1, options,
                                 '\n'.join(command)))
    return found


def console_commands(text, program):
    """Shell commands of ``program`` shown after a ``$`` prompt, joined."""
    commands = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        if line.startswith('$ %s ' % program):
            command = line[2:]
            while command.endswith('\\'):
                index += 1
                command = command[:-1] + ' ' + lines[index].strip()
            commands.append(shlex.split(command))
        index += 1
    return commands


def _properties(argv, option):
    return dict(argv[i + 1].split('=', 1) for i, word in enumerate(argv)
                if word == option)


class TestRunner(test.TestCase):

    def test_split_command_joins_continuations(self):
        self.assertEqual(
            ['plan', '--vcpus', '4', '--property', 'hw:cpu_realtime=yes'],
            runner.split_command('$ nova-realtime plan --vcpus 4 \\\n'
                                 '    --property hw:cpu_realtime=yes'))

    def test_split_command_rejects_other_programs(self):
        self.assertRaises(ValueError, runner.split_command, 'virsh list')

    def test_normalise_replaces_only_the_uuid(self):
        xml = '<uuid>c4203d6c-4de9-4b77-ab9e-a23e7058b40a</uuid><name>x</name>'
        self.assertEqual('<uuid>(random)</uuid><name>x</name>',
                         runner.normalise(xml))

    def test_xml_excerpt(self):
        xml = ('<domain>\n  <a>\n    <b/>\n  </a>\n  <c x="1"/>\n'
               '  <d>\n  </d>\n</domain>\n')
        self.assertEqual('<c x="1"/>\n<a>\n  <b/>\n</a>\n',
                         runner.xml_excerpt(xml, ['c', 'a']))
        self.assertRaises(ValueError, runner.xml_excerpt, xml, ['e'])

    def test_run_restores_configuration(self):
        result = runner.run(['--config-file', 'nova.conf', 'plan', '--vcpus',
                             '1', '--ram', '512', '--host-capabilities',
                             'capabilities.xml'], EXAMPLES)
        self.assertEqual(0, result.returncode, result.output)
        # The example nova.conf does not leak into the next command.
        after = runner.run(['plan', '--vcpus', '1', '--ram', '512',
                            '--property', 'hw:cpu_policy=dedicated',
                            '--property', 'hw:cpu_realtime=yes',
                            '--property', 'hw:cpu_realtime_mask=0',
                            '--property', 'hw:emulator_threads_policy=share',
                            '--host-capabilities', 'capabilities.xml'],
                           EXAMPLES)
        self.assertEqual(2, after.returncode, after.output)
        self.assertIn('cpu_shared_set', after.stderr)


class TestRunExamples(test.TestCase):
    """Each ``.. nova-realtime::`` example does what the page shows."""

    def setUp(self):
        super().setUp()
        self.pages = rst_pages()
        self.examples = run_examples(self.pages)

    def test_there_are_examples_of_success_and_failure(self):
        codes = {int(e.options.get('returncode', 0)) for e in self.examples}
        self.assertEqual({0, 1, 2}, codes)

    def test_each_example(self):
        for example in self.examples:
            where = '%s:%d' % (example.page, example.line)
            cwd = os.path.join(DOC_SOURCE,
                               example.options.get('cwd',
                                                   sphinxext.EXAMPLES_DIR))
            result = runner.run_shown(example.command, cwd)
            expected = int(example.options.get('returncode', 0))
            self.assertEqual(expected, result.returncode,
                             '%s: %s' % (where, result.output))
            if expected:
                # One line naming the problem, nothing on stdout.
                self.assertEqual('', result.stdout, where)
                self.assertRegex(result.stderr, r'^ERROR: [^\n]+\n$', where)
                continue
            self.assertIn('<uuid>(random)</uuid>', result.stdout, where)
            real = result.stdout.replace('(random)',
                                         '00000000-0000-4000-8000-'
                                         '000000000000')
            rng.assert_domain_valid(real)
            if example.options.get('xml'):
                runner.xml_excerpt(result.stdout,
                                   example.options['xml'].split())

    def test_realtime_examples_pin_and_schedule(self):
        """What the prose around the main example says about its XML."""
        main = [e for e in self.examples
                if 'rt.medium' in e.command][0]
        xml = runner.run_shown(main.command, EXAMPLES).stdout
        dom = etree.fromstring(xml.encode())
        sched = dom.find('cputune/vcpusched')
        self.assertEqual(('1-3', 'fifo', '1'),
                         (sched.get('vcpus'), sched.get('scheduler'),
                          sched.get('priority')))
        pins = {p.get('vcpu'): p.get('cpuset')
                for p in dom.findall('cputune/vcpupin')}
        self.assertEqual({'0': '1', '1': '2', '2': '5', '3': '6'}, pins)
        self.assertEqual('1', dom.find('cputune/emulatorpin').get('cpuset'))
        self.assertIsNotNone(dom.find('memoryBacking/locked'))


class TestOpenstackExamples(test.TestCase):

    def setUp(self):
        super().setUp()
        self.pages = rst_pages()

    def _flavors(self, text):
        flavors = {}
        for argv in console_commands(text, 'openstack'):
            if argv[1:3] == ['flavor', 'create']:
                flavors[argv[-1]] = {
                    'vcpus': int(argv[argv.index('--vcpus') + 1]),
                    'ram': int(argv[argv.index('--ram') + 1]),
                    'specs': {}}
            elif argv[1:3] == ['flavor', 'set']:
                flavors[argv[3]]['specs'].update(
                    _properties(argv, '--property'))
        return flavors

    def test_flavors_are_valid_and_match_a_plan_example(self):
        # Validated on the example host, whose nova.conf the plans use.
        parser = configparser.ConfigParser()
        parser.read(os.path.join(EXAMPLES, 'nova.conf'))
        for option in ('cpu_dedicated_set', 'cpu_shared_set'):
            self.flags(group='compute', **{option: parser['compute'][option]})
        checked = 0
        for page, text in sorted(self.pages.items()):
            plans = []
            for example in run_examples({page: text}):
                argv = runner.split_command(example.command)
                if 'plan' in argv and not example.options.get('returncode'):
                    plans.append((
                        int(argv[argv.index('--vcpus') + 1]),
                        int(argv[argv.index('--ram') + 1]),
                        _properties(argv, '--property')))
            for name, flavor in self._flavors(text).items():
                specs = flavor['specs']
                extra_specs.validate_all(specs, flavor['vcpus'],
                                         flavor['ram'])
                if specs.get('hw:cpu_realtime') == 'yes':
                    self.assertIn(specs.get('hw:cpu_policy'),
                                  ('dedicated', 'mixed'), name)
                    self.assertEqual(
                        'true',
                        specs.get('aggregate_instance_extra_specs:realtime'),
                        name)
                hw = {k: v for k, v in specs.items() if k.startswith('hw:')}
                self.assertIn((flavor['vcpus'], flavor['ram'], hw), plans,
                              '%s: flavor %s has no plan example showing '
                              'its XML' % (page, name))
                checked += 1
        self.assertGreaterEqual(checked, 3)

    def test_image_properties_are_read(self):
        checked = 0
        for page, text in sorted(self.pages.items()):
            for argv in console_commands(text, 'openstack'):
                if argv[1:3] != ['image', 'set']:
                    continue
                props = _properties(argv, '--property')
                image = objects.ImageMeta.from_dict({'properties': props})
                for key, value in props.items():
                    self.assertEqual(value, image.properties.get(key))
                    checked += 1
        self.assertGreaterEqual(checked, 2)

    def test_user_guide_mask_errors_are_the_real_messages(self):
        text = self.pages[os.path.join('user', 'realtime-guests.rst')]
        lines = re.findall(r"^\s+(hw_cpu_realtime_mask='([^']*)' is "
                           r"invalid: .*)$", text, re.M)
        self.assertGreaterEqual(len(lines), 3)
        for line, mask in lines:
            result = runner.run(
                ['plan', '--vcpus', '4', '--ram', '2048',
                 '--property', 'hw:cpu_policy=dedicated',
                 '--property', 'hw:cpu_realtime=yes',
                 '--image-property', 'hw_cpu_realtime_mask=' + mask,
                 '--host-capabilities', 'capabilities.xml'], EXAMPLES)
            self.assertEqual('ERROR: %s\n' % line, result.stderr)


class TestCheckHostLines(test.TestCase):

    def _check_ids(self):
        root = self.useFixture(fixtures.TempDir()).path
        results = host_checks.run_checks(
            host_facts.HostFacts(root), None,
            host_mod.Host(uri='test:///default'), 'kvm')
        return {result.id for result in results}

    def test_quoted_lines_are_real_checks_in_check_host_format(self):
        ids = self._check_ids()
        text = rst_pages()[os.path.join('admin', 'realtime-host-setup.rst')]
        lines = re.findall(r'^   ((OK|WARN|FAIL) +(\S+) +(.*))$', text, re.M)
        quoted = set()
        for line, status, check_id, rest in lines:
            self.assertIn(check_id, ids, line)
            found, _sep, fix = rest.partition(' | fix: ')
            self.assertEqual(line, host_checks.CheckResult(
                check_id, status, found, fix).format())
            quoted.add(check_id)
        # Every check the host setup steps talk about is quoted.
        self.assertEqual(ids, quoted)

    def test_fix_texts_are_the_code_s(self):
        text = rst_pages()[os.path.join('admin', 'realtime-host-setup.rst')]
        self.assertIn(host_checks.RT_BUDGET_FIX, text)
        self.assertIn(host_checks.MEMLOCK_FIX, text)


class TestTroubleshootingQuotesTheCode(test.TestCase):

    def test_start_fault_messages(self):
        text = rst_pages()[os.path.join('admin',
                                        'realtime-troubleshooting.rst')]
        flat = ' '.join(text.replace('``', '').split())
        for needle, exc_class, reason, fix in driver._START_FAULTS:
            self.assertTrue(issubclass(exc_class, exception.HostNotReady))
            for quoted in (needle, reason, fix):
                self.assertIn(' '.join(quoted.split()), flat)
        self.assertIn('Fix on the host:',
                      exception.HostNotReady.msg_fmt)


class TestReferences(test.TestCase):

    def test_extra_spec_reference_lists_every_validator(self):
        rst = '\n'.join(sphinxext.ExtraSpecReferenceDirective.rst_lines(
            None))
        for validator in extra_specs.get_validators():
            self.assertIn('``%s``' % validator.name, rst)
            self.assertIn(
                '.. _%s:' % sphinxext.extra_spec_label(validator.name), rst)
        self.assertIn(':Image property: :ref:`hw_cpu_realtime_mask',
                      rst)

    def test_image_property_reference_lists_every_field(self):
        rst = '\n'.join(sphinxext.ImagePropertyReferenceDirective.rst_lines(
            None))
        for name in objects.ImageMetaProps.fields:
            self.assertIn(
                '.. _%s:' % sphinxext.image_property_label(name), rst)
        self.assertIn('``hw_numa_cpus.N``', rst)
        self.assertIn(':Flavor extra spec: :ref:`hw:numa_cpus.{N}', rst)

    def test_every_image_property_has_a_description(self):
        described = image_props.describe_fields()
        self.assertEqual(sorted(objects.ImageMetaProps.fields),
                         [name for name, _d, _f in described])
        for name, description, _field in described:
            self.assertGreater(len(description), 20, name)

    def test_field_comments_parser(self):
        source = (
            "class Other(object):\n    fields = {\n        # no\n"
            "        'x': 1,\n    }\n\n"
            "class ImageMetaProps(base.NovaObject):\n    fields = {\n"
            "        # First line\n        # second line.\n"
            "        'hw_a': fields.StringField(),\n"
            "        'hw_b':\n            fields.IntegerField(),\n    }\n")
        self.assertEqual({'hw_a': 'First line second line.', 'hw_b': ''},
                         image_props.field_comments(source))

    def test_command_reference_covers_every_sub_command(self):
        rst = '\n'.join(sphinxext.CommandReferenceDirective.rst_lines(None))
        for name, parser in sphinxext.command_parsers().items():
            self.assertIn('nova-realtime %s\n' % name, rst)
            for action in parser._actions:
                for option in action.option_strings:
                    if option not in ('-h', '--help'):
                        self.assertIn('``%s' % option, rst)

    def test_escape(self):
        self.assertEqual(r'a\*b\_ \`c\` \|d\|',
                         sphinxext.escape('a*b_ `c` |d|'))
