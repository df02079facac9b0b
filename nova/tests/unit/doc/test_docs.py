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
from nova.doc import cli
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
from nova.virt import upstream_notes

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
            if 'plan' not in runner.split_command(example.command):
                self.assertEqual('', result.stderr, where)
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
            elif argv[1:3] == ['flavor', 'set'] and argv[3] in flavors:
                flavors[argv[3]]['specs'].update(
                    _properties(argv, '--property'))
        return flavors

    def test_flavor_changes_of_flavors_made_elsewhere_are_valid(self):
        """A page may change a flavor created on another page (the
        operations page adds the trait to rt.medium): its keys are valid.
        """
        checked = 0
        for page, text in sorted(self.pages.items()):
            created = set(self._flavors(text))
            for argv in console_commands(text, 'openstack'):
                if argv[1:3] == ['flavor', 'set'] and argv[3] not in created:
                    extra_specs.validate_all(_properties(argv, '--property'))
                    checked += 1
        self.assertGreaterEqual(checked, 1)

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

    def test_command_parser_is_the_command_s(self):
        """The reference's parser has every sub-command and option the
        command has, and every global option it accepts after them.
        """
        import argparse

        from nova.cmd import realtime
        probe = argparse.ArgumentParser()
        real = probe.add_subparsers()
        realtime.add_command_parsers(real)
        documented = cli.sub_commands()
        self.assertEqual(list(real.choices), list(documented))
        for name, parser in real.choices.items():
            self.assertEqual(
                [a.option_strings or [a.dest] for a in parser._actions],
                [a.option_strings or [a.dest]
                 for a in documented[name]._actions], name)
        top = {o for a in cli.parser()._actions for o in a.option_strings}
        for option in realtime.GLOBAL_OPTIONS:
            if option != '--nodebug':
                self.assertIn(option, top)
        self.assertIn('--version', top)

    def test_reference_page_uses_the_parser(self):
        text = rst_pages()[os.path.join('reference', 'nova-realtime.rst')]
        self.assertIn('.. argparse::\n   :module: nova.doc.cli\n'
                      '   :func: parser\n', text)

    def test_escape(self):
        self.assertEqual(r'a\*b\_ \`c\` \|d\|',
                         sphinxext.escape('a*b_ `c` |d|'))


def _plan(*args, config='nova.conf'):
    argv = (['--config-file', config] if config else []) + ['plan'] + [
        str(a) for a in args] + ['--host-capabilities', 'capabilities.xml']
    return runner.run(argv, EXAMPLES)


def _dedicated_rt(*extra, vcpus=4):
    args = ['--vcpus', vcpus, '--ram', 2048,
            '--property', 'hw:cpu_policy=dedicated',
            '--property', 'hw:cpu_realtime=yes']
    for spec in extra:
        args += ['--image-property' if spec.startswith('hw_')
                 else '--property', spec]
    return _plan(*args)


def _refused(test, result, *needles):
    test.assertEqual(2, result.returncode, result.output)
    test.assertEqual('', result.stdout)
    test.assertRegex(result.stderr, r'^ERROR: [^\n]+\n$')
    for needle in needles:
        test.assertIn(needle, result.stderr)


def _domain(result):
    return etree.fromstring(result.stdout.replace(
        runner.UUID_PLACEHOLDER,
        '00000000-0000-4000-8000-000000000000').encode())


class TestUpstreamDifferences(test.TestCase):
    """Each section of admin/upstream-differences.rst against the code.

    The page gives every difference a label ``upstream-difference-ID``;
    this class has one ``test_difference_ID`` (``-`` as ``_``) per label,
    and no other, so a difference is never listed without a check.
    """

    PAGE = os.path.join('admin', 'upstream-differences.rst')

    def setUp(self):
        super().setUp()
        self.text = rst_pages()[self.PAGE]

    def test_every_listed_difference_is_checked(self):
        labels = set(re.findall(r'^\.\. _upstream-difference-([a-z-]+):$',
                                self.text, re.M))
        checks = {name[len('test_difference_'):].replace('_', '-')
                  for name in dir(self)
                  if name.startswith('test_difference_')}
        self.assertEqual(checks, labels)

    # tools/upstream-compare/compare.py runs upstream Nova's own unit test
    # inputs through both trees and accepts only the differences listed in
    # its DESIGN table: each of them must be a section of the page.
    DESIGN_SECTIONS = {
        'default real-time mask ^0': 'default-mask',
        'emulator share needs pinning': 'emulator-share-unpinned',
        'placement-only CPU keys': 'placement-keys',
        'no vPMEM': 'no-vpmem',
        'pCPU choice': 'pcpu-choice',
        'host cell order': 'host-cell-order',
        'emulator pCPU on a whole core': 'emulator-isolate',
        'isolate on SMT hosts': 'emulator-isolate',
        'no memory overcommit': 'no-memory-overcommit',
        'mask outside the flavor': 'mask-outside-flavor',
        'mask outside the flavor, existing instances': 'mask-outside-flavor',
        'bounded CPU specs': 'input-limits',
        'CPU spec limits': 'input-limits',
        'errors name the key': 'input-limits',
    }

    def _design(self):
        import ast
        path = os.path.join(os.path.dirname(os.path.dirname(DOC_SOURCE)),
                            'tools', 'upstream-compare', 'compare.py')
        if not os.path.exists(path):
            self.skipTest('no tools/upstream-compare')
        with open(path) as f:
            tree = ast.parse(f.read())
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                    getattr(t, 'id', None) == 'DESIGN' for t in node.targets):
                return [(elt.elts[0].value, elt.elts[2].value)
                        for elt in node.value.elts]
        self.fail('compare.py has no DESIGN table')

    def test_compare_tool_differences_are_on_the_page(self):
        import importlib
        design = self._design()
        self.assertEqual(set(self.DESIGN_SECTIONS),
                         {label for label, _test in design})
        for label, test_name in design:
            self.assertIn('.. _upstream-difference-%s:'
                          % self.DESIGN_SECTIONS[label], self.text)
            # The behaviour test the table names exists.
            module, cls, method = test_name.split('.')
            found = importlib.import_module('nova.tests.unit.virt.' + module)
            self.assertTrue(callable(getattr(getattr(found, cls), method)),
                            test_name)

    def _design_test(self, section):
        import importlib
        for label, test_name in self._design():
            if self.DESIGN_SECTIONS[label] == section:
                module, cls, method = test_name.split('.')
                found = importlib.import_module('nova.tests.unit.virt.' +
                                                module)
                case = getattr(found, cls)(method)
                result = case.run()
                self.assertTrue(result.wasSuccessful(), test_name)
                return
        self.fail('no DESIGN entry for %s' % section)

    def test_difference_emulator_share_unpinned(self):
        _refused(self, _plan('--vcpus', 2, '--ram', 1024, '--property',
                             'hw:emulator_threads_policy=share'),
                 'hw:emulator_threads_policy')

    def test_difference_placement_keys(self):
        dom = _domain(_plan('--vcpus', 2, '--ram', 1024,
                            '--property', 'resources:PCPU=2'))
        self.assertEqual('0,4,8,12', dom.find('vcpu').get('cpuset'))
        self.assertEqual([], dom.findall('cputune/vcpupin'))
        # A forbidden hyper-threading trait is not the isolate policy:
        # the two vCPUs share a core (CPU n and n+8 are siblings).
        dom = _domain(_plan('--vcpus', 2, '--ram', 1024,
                            '--property', 'hw:cpu_policy=dedicated',
                            '--property',
                            'trait:HW_CPU_HYPERTHREADING=forbidden'))
        pins = sorted(int(p.get('cpuset'))
                      for p in dom.findall('cputune/vcpupin'))
        self.assertEqual(8, pins[1] - pins[0])
        self._design_test('placement-keys')

    def test_difference_no_vpmem(self):
        result = _plan('--vcpus', 2, '--ram', 1024,
                       '--property', 'hw:pmem=SMALL')
        if result.returncode:
            _refused(self, result, 'hw:pmem')
        else:
            dom = _domain(result)
            self.assertEqual([], dom.findall("devices/memory"))
            self.assertIsNone(dom.find('cpu/numa'))
        self._design_test('no-vpmem')

    def test_difference_pcpu_choice(self):
        self._design_test('pcpu-choice')

    def test_difference_host_cell_order(self):
        self._design_test('host-cell-order')
        from nova.conf import opts
        self.assertNotIn('packing_host_numa_cells_allocation_strategy',
                         [o.name for _g, options in opts.list_opts()
                          for o in options])

    def test_difference_no_memory_overcommit(self):
        self._design_test('no-memory-overcommit')

    def test_difference_default_mask(self):
        # Every vCPU but 0 when there is no emulator threads policy
        # (upstream: every vCPU, refused without a policy).
        dom = _domain(_dedicated_rt())
        self.assertEqual('1-3', dom.find('cputune/vcpusched').get('vcpus'))
        pins = {p.get('vcpu'): p.get('cpuset')
                for p in dom.findall('cputune/vcpupin')}
        self.assertEqual(pins['0'],
                         dom.find('cputune/emulatorpin').get('cpuset'))
        # With an emulator threads policy too (upstream: every vCPU).
        dom = _domain(_dedicated_rt('hw:emulator_threads_policy=isolate'))
        self.assertEqual('1-3', dom.find('cputune/vcpusched').get('vcpus'))
        self._design_test('default-mask')

    def test_difference_mask_outside_flavor(self):
        for mask in ('^0,^5', '^5', '1-5'):
            _refused(self, _dedicated_rt('hw:cpu_realtime_mask=' + mask),
                     'outside 0-3 of this 4-vCPU flavor')

    def test_difference_image_realtime(self):
        _refused(self, _dedicated_rt('hw_cpu_realtime=yes'),
                 "hw_cpu_realtime='yes'", 'hw:cpu_realtime')

    def test_difference_realtime_words(self):
        from nova.virt import hardware_parse
        words = re.search(r'^nova-realtime\n   ``yes``, ``no``.*?case',
                          self.text, re.M | re.S).group(0)
        documented = set(re.findall(r'``([a-z0-9]+)``', words))
        self.assertEqual({'yes', 'no', 'true', 'false', 'on', 'off', '1',
                          '0'}, documented)
        for word in documented:
            for spelling in (word, word.upper(), word.capitalize()):
                self.assertIn(hardware_parse.parse_bool(
                    'hw:cpu_realtime', spelling), (True, False))
        # oslo.utils' strict words upstream's API also takes, and a typo.
        for word in ('t', 'f', 'y', 'n', 'maybe', 'yes please', ''):
            self.assertRaises(exception.Invalid,
                              hardware_parse.parse_bool,
                              'hw:cpu_realtime', word)
        result = _plan('--vcpus', 4, '--ram', 2048,
                       '--property', 'hw:cpu_policy=dedicated',
                       '--property', 'hw:cpu_realtime=y')
        _refused(self, result, "hw:cpu_realtime='y'")

    def test_difference_key_case(self):
        for key in ('HW:CPU_REALTIME', 'hw:CPU_realtime', 'Hw:cpu_realtime'):
            error = self.assertRaises(exception.Invalid,
                                      extra_specs.validate, key, 'yes')
            self.assertIn('hw:cpu_realtime', str(error))

    def test_difference_mixed_default_mask(self):
        dom = _domain(_plan('--vcpus', 4, '--ram', 2048,
                            '--property', 'hw:cpu_policy=mixed',
                            '--property', 'hw:cpu_realtime=yes'))
        self.assertEqual('1-3', dom.find('cputune/vcpusched').get('vcpus'))
        pins = {p.get('vcpu'): p.get('cpuset')
                for p in dom.findall('cputune/vcpupin')}
        # vCPU 0 floats on node 0's shared CPUs, with the emulator threads.
        self.assertEqual('0,8', pins['0'])
        self.assertEqual('0,8', dom.find('cputune/emulatorpin').get('cpuset'))
        for vcpu in ('1', '2', '3'):
            self.assertNotIn(',', pins[vcpu])

    def test_difference_mixed_emulator(self):
        result = _plan('--vcpus', 3, '--ram', 1024,
                       '--property', 'hw:cpu_policy=mixed',
                       '--property', 'hw:cpu_dedicated_mask=^0')
        dom = _domain(result)
        pins = {p.get('vcpu'): p.get('cpuset')
                for p in dom.findall('cputune/vcpupin')}
        self.assertEqual('0,8', pins['0'])
        self.assertIsNone(dom.find('cputune/vcpusched'))
        # Upstream: 0,8 plus the pCPUs of vCPUs 1 and 2.
        self.assertEqual('0,8', dom.find('cputune/emulatorpin').get('cpuset'))
        self.assertIn('not as upstream: %s lets the emulator threads run '
                      'on the pCPUs of the dedicated vCPUs'
                      % upstream_notes.UPSTREAM, result.stderr)
        # A floating guest with a NUMA layout is built as upstream: each
        # cell on its host cell's shared CPUs, the emulator threads there.
        dom = _domain(_plan('--vcpus', 2, '--ram', 1024,
                            '--property', 'hw:numa_nodes=1'))
        pins = {p.get('vcpu'): p.get('cpuset')
                for p in dom.findall('cputune/vcpupin')}
        self.assertEqual({'0': '0,8', '1': '0,8'}, pins)
        self.assertEqual('0,8', dom.find('cputune/emulatorpin').get('cpuset'))

    def test_difference_cpu_model(self):
        dom = _domain(_dedicated_rt(vcpus=2))
        self.assertEqual('host-passthrough', dom.find('cpu').get('mode'))
        self.assertEqual('require', dom.find(
            "cpu/feature[@name='tsc-deadline']").get('policy'))
        self.assertEqual('off', dom.find('features/pmu').get('state'))
        dom = _domain(_dedicated_rt('hw:pmu=true', vcpus=2))
        self.assertEqual('on', dom.find('features/pmu').get('state'))
        # Not real time: upstream's default.
        dom = _domain(_plan('--vcpus', 2, '--ram', 1024,
                            '--property', 'hw:cpu_policy=dedicated'))
        self.assertEqual('host-model', dom.find('cpu').get('mode'))

    def test_difference_preflight(self):
        from nova.tests.unit.virt.libvirt import test_host_checks
        for method in ('test_no_budget', 'test_no_memlock'):
            result = test_host_checks.TestPreflight(method).run()
            self.assertTrue(result.wasSuccessful(), method)
        import nova.conf
        self.assertTrue(nova.conf.CONF.libvirt.realtime_preflight)

    def test_every_difference_says_what_the_series_does(self):
        """Each section has an "In the series" entry, and each patch it
        names by subject is one of upstream/patches.
        """
        from nova.doc import series
        subjects = {patch.subject for patch in series.patches()}
        sections = re.split(r'(?m)^\.\. _upstream-difference-', self.text)[1:]
        for section in sections:
            label = section.split(':', 1)[0]
            self.assertIn('\nIn the series\n', section, label)
            entry = section.split('\nIn the series\n', 1)[1]
            entry = ' '.join(entry.split('\n\n', 1)[0].split())
            self.assertRegex(entry, r'^(Carried|Not carried|Not needed|'
                                    r'Not applicable)', label)
            for subject in re.findall(r'the patch "([^"]+)"', entry):
                self.assertIn(subject, subjects, label)
            if entry.startswith('Carried'):
                self.assertIn('the patch "', entry, label)

    def test_difference_locked_memory_limit(self):
        from nova.virt.libvirt import guest_cpu
        dom = _domain(_plan('--vcpus', 2, '--ram', 2048,
                            '--property', 'hw:cpu_policy=dedicated',
                            '--property', 'hw:cpu_realtime=yes'))
        self.assertIsNotNone(dom.find('memoryBacking/locked'))
        limit = dom.find('memtune/hard_limit')
        self.assertEqual('KiB', limit.get('unit'))
        expected = guest_cpu.locked_memory_limit_kib(2048 * 1024, 2, 'kvm')
        self.assertEqual(expected, int(limit.text))
        # The figures the page states.
        self.assertEqual((2048 + 1024 + 2 * 16) * 1024, expected)
        self.assertEqual(
            expected + 1024 * 1024,
            guest_cpu.locked_memory_limit_kib(2048 * 1024, 2, 'qemu'))
        # Nothing locked, no limit.
        dom = _domain(_plan('--vcpus', 2, '--ram', 2048,
                            '--property', 'hw:cpu_policy=dedicated'))
        self.assertIsNone(dom.find('memtune'))

    def test_difference_input_limits(self):
        from nova.virt import hardware_parse
        limits = {name: value for name, _w, _u, value, _t
                  in sphinxext.input_limits()}
        self.assertEqual(128, limits['MAX_EXTRA_SPECS'])
        self.assertEqual(128, limits['MAX_IMAGE_PROPERTIES'])
        self.assertEqual(4096, limits['MAX_GUEST_VCPUS'])
        self.assertEqual(16 * 1024 * 1024, limits['MAX_GUEST_MEMORY_MB'])
        self.assertEqual(hardware_parse.MAX_CPU_NUMBER,
                         limits['MAX_CPU_NUMBER'])
        ram = limits['MAX_GUEST_MEMORY_MB']
        vcpus = limits['MAX_GUEST_VCPUS']
        # Each bound: its value passes, one more is refused.
        self.assertEqual(0, _plan('--vcpus', 1, '--ram', 512).returncode)
        _refused(self, _plan('--vcpus', vcpus + 1, '--ram', 512),
                 '--vcpus')
        _refused(self, _plan('--vcpus', 1, '--ram', ram + 1), '--ram')
        for option, limit, what in (
                ('--property', limits['MAX_EXTRA_SPECS'], 'extra specs'),
                ('--image-property', limits['MAX_IMAGE_PROPERTIES'],
                 'properties')):
            args = ['--vcpus', 1, '--ram', 512]
            for index in range(limit):
                args += [option, 'custom%d=x' % index]
            self.assertNotIn(what, _plan(*args).stderr)
            _refused(self, _plan(*(args + [option, 'one=more'])),
                     'at most %d %s' % (limit, what))
        _refused(self, _dedicated_rt(
            'hw_cpu_realtime_mask=^0-%d' % (limits['MAX_CPU_NUMBER'] + 1)),
            'hw_cpu_realtime_mask')

    def test_difference_emulator_isolate(self):
        dom = _domain(_plan('--vcpus', 2, '--ram', 1024,
                            '--property', 'hw:cpu_policy=dedicated',
                            '--property', 'hw:cpu_thread_policy=isolate',
                            '--property', 'hw:cpu_realtime=yes',
                            '--property', 'hw:cpu_realtime_mask=0-1',
                            '--property',
                            'hw:emulator_threads_policy=isolate'))
        ns = {'nrt': 'http://openstack.org/xmlns/libvirt/nova-realtime/1.0'}
        claimed = dom.find('metadata/nrt:instance/nrt:claimed_pcpus',
                           ns).text
        pins = [p.get('cpuset') for p in dom.findall('cputune/vcpupin')]
        emulator = dom.find('cputune/emulatorpin').get('cpuset')
        # The example host: CPU n and n+8 are SMT siblings.
        self.assertEqual(['1', '2'], pins)
        self.assertEqual('3', emulator)
        self.assertEqual('1-3,9-11', claimed)
        self.assertIn('``claimed_pcpus`` holds their siblings 9-11',
                      ' '.join(self.text.split()))

    def test_difference_floating_confined(self):
        dom = _domain(_plan('--vcpus', 2, '--ram', 1024,
                            config='dedicated-only.conf'))
        self.assertEqual('0,4,8,12', dom.find('vcpu').get('cpuset'))
        self.assertEqual('0,4,8,12',
                         dom.find('cputune/emulatorpin').get('cpuset'))
        _refused(self, _plan('--vcpus', 2, '--ram', 1024,
                             config='all-dedicated.conf'),
                 'cpu_dedicated_set')
        # A fully dedicated guest still fits such a host.
        self.assertEqual(0, _plan('--vcpus', 2, '--ram', 1024,
                                  '--property', 'hw:cpu_policy=dedicated',
                                  config='all-dedicated.conf').returncode)

    def test_difference_usage_from_libvirt(self):
        from nova.virt.libvirt import usage
        # Someone else's domain, pinned by hand: its CPUs are taken.
        xml = ('<domain type="kvm"><name>web-1</name>'
               '<uuid>11111111-2222-3333-4444-555555555555</uuid>'
               '<memory unit="KiB">1048576</memory>'
               '<vcpu cpuset="6-7">2</vcpu><cputune>'
               '<vcpupin vcpu="0" cpuset="3"/><vcpupin vcpu="1" cpuset="5"/>'
               '<emulatorpin cpuset="13"/></cputune>'
               '<os><type>hvm</type></os></domain>')
        found = usage.parse_domain(xml, running=False)
        self.assertFalse(found.ours)
        self.assertEqual({3, 5, 13}, found.cpus)

    def test_difference_commands(self):
        section = self.text[self.text.index(
            '_upstream-difference-commands:'):self.text.index(
            '_upstream-difference-own-options:')]
        self.assertIn('.. nova-realtime-sub-commands::', section)
        rst = '\n'.join(sphinxext.SubCommandsDirective.rst_lines(None))
        commands = set(cli.sub_commands())
        self.assertEqual(commands, set(re.findall(r'^``([a-z-]+)``$', rst,
                                                  re.M)))
        self.assertLessEqual({'plan', 'boot', 'check-host', 'verify'},
                             commands)
        # The prose names only real sub-commands.
        prose = set(re.findall(r'``([a-z-]+)``', section)) - {
            'nova-realtime'}
        self.assertLessEqual(prose, commands)

    def test_difference_own_options(self):
        from nova.conf import opts
        from nova.doc import upstream
        # The page's section covers the sections upstream Nova also reads.
        ours = {(group.name, opt.name) for group, options in opts.list_opts()
                for opt in options if group.name in ('compute', 'libvirt')}
        own = {(group, name) for group, name, _why in upstream.OWN_OPTIONS}
        self.assertLessEqual(own, ours)
        theirs = _upstream_options()
        if theirs is None:
            self.skipTest('no upstream Nova installed to compare with')
        self.assertEqual(own, {(g, n) for g, n in ours
                               if (g, n) not in theirs})
        self.assertIn(('DEFAULT', 'instances_path'), theirs)

    def test_difference_object_versions(self):
        from nova.doc import upstream
        objects.register_all()
        rows = sphinxext.object_versions()
        self.assertEqual(sorted(upstream.UPSTREAM_OBJECT_VERSIONS),
                         [name for name, _o, _t in rows])
        for name, ours, theirs in rows:
            self.assertNotEqual(ours, theirs, name)
        theirs = _upstream_object_versions()
        if theirs is None:
            self.skipTest('no upstream Nova installed to compare with')
        for name, version in upstream.UPSTREAM_OBJECT_VERSIONS.items():
            self.assertEqual(theirs[name], version, name)


UPSTREAM_NOVA = os.path.join(
    os.path.dirname(DOC_SOURCE), '..', '.upstream-venv', 'lib',
    'python3.11', 'site-packages', 'nova')


def _upstream_sources(subdir):
    """{file name: text} of an upstream Nova install's nova/SUBDIR, or
    None when there is none (only read, never imported).
    """
    path = os.path.join(os.environ.get('NOVA_UPSTREAM_SOURCE',
                                       UPSTREAM_NOVA), subdir)
    if not os.path.isdir(path):
        return None
    texts = {}
    for name in os.listdir(path):
        if name.endswith('.py'):
            with open(os.path.join(path, name)) as f:
                texts[name] = f.read()
    return texts


def _upstream_object_versions():
    texts = _upstream_sources('objects')
    if texts is None:
        return None
    versions = {}
    for text in texts.values():
        for match in re.finditer(
                r'^class (\w+)\(.*?\n    VERSION = [\'"]([0-9.]+)[\'"]',
                text, re.M | re.S):
            versions.setdefault(match.group(1), match.group(2))
    return versions


def _upstream_options():
    """{(group, option)} upstream registers in [DEFAULT], [libvirt] and
    [compute] (its conf modules read as text).
    """
    texts = _upstream_sources('conf')
    if texts is None:
        return None
    names = set()
    for module, group in (('libvirt.py', 'libvirt'),
                          ('compute.py', None)):
        for name in re.findall(r'cfg\.\w+Opt\(\s*[\'"]([\w-]+)[\'"]',
                               texts[module]):
            names.add((group, name.replace('-', '_')))
    found = set()
    for group, name in names:
        if group:
            found.add((group, name))
        else:
            # compute.py registers both [DEFAULT] and [compute] options.
            found.add(('DEFAULT', name))
            found.add(('compute', name))
    return found


class TestInstallation(test.TestCase):

    def setUp(self):
        super().setUp()
        self.text = rst_pages()[os.path.join('admin', 'installation.rst')]

    def test_options_read_are_the_registered_ones(self):
        from nova.conf import opts
        block = self.text[self.text.index('.. _options-read:'):]
        self.assertIn('.. nova-conf-options-read::', block[:200])
        listed = set(re.findall(
            r'^\* ``\[(\w+)\] (\w+)``$',
            '\n'.join(sphinxext.OptionsReadDirective.rst_lines(None)),
            re.M))
        registered = {(getattr(group, 'name', group), opt.dest)
                      for group, options in opts.list_opts()
                      for opt in options}
        self.assertEqual(registered, listed)
        self.assertIn(('libvirt', 'realtime_scheduler_priority'), listed)
        self.assertIn('``[oslo_concurrency] lock_path``', block)

    def test_own_options_named_are_the_own_options(self):
        from nova.doc import upstream
        sentence = ' '.join(self.text.split())
        start = sentence.index('``[libvirt] instances_path``, ')
        named = re.findall(r'``(?:\[libvirt\] )?(\w+)``', sentence[
            start:sentence.index(' are this project', start)])
        self.assertEqual({name for _g, name, _w in upstream.OWN_OPTIONS},
                         set(named))

    def test_misspelt_conf_is_the_compute_conf_with_one_typo(self):
        with open(os.path.join(EXAMPLES, 'compute-nova.conf')) as f:
            good = f.read()
        with open(os.path.join(EXAMPLES, 'misspelt.conf')) as f:
            bad = f.read()
        self.assertEqual(good.replace('realtime_scheduler_priority',
                                      'realtime_scheduler_prority'), bad)
        self.assertNotEqual(good, bad)

    def test_no_dashes_made_of_hyphens(self):
        """"--kernel" stays two hyphens in the HTML (no smart dashes)."""
        with open(os.path.join(DOC_SOURCE, 'conf.py')) as f:
            conf = {}
            exec(f.read(), conf)
        self.assertNotIn('d', conf.get('smartquotes_action', 'qDe'))


class TestScheduler(test.TestCase):

    def test_enabled_filters_append_to_upstream_default(self):
        from nova.doc import upstream
        text = rst_pages()[os.path.join('admin', 'realtime-flavors.rst')]
        shown = re.findall(r'^   enabled_filters = (\S+)$', text, re.M)
        self.assertEqual(1, len(shown))
        self.assertEqual(
            list(upstream.UPSTREAM_DEFAULT_FILTERS +
                 upstream.REALTIME_FILTERS), shown[0].split(','))
        texts = _upstream_sources('conf')
        if texts is None:
            self.skipTest('no upstream Nova installed to compare with')
        block = texts['scheduler.py'].split(
            'ListOpt("enabled_filters"', 1)[1].split('],', 1)[0]
        self.assertEqual(list(upstream.UPSTREAM_DEFAULT_FILTERS),
                         re.findall(r'"(\w+Filter)"', block))


class TestPriorityAdvice(test.TestCase):

    def test_documented_range_and_default_are_the_option_s(self):
        from nova.conf import libvirt as libvirt_conf
        opt = [o for o in libvirt_conf.libvirt_opts
               if o.name == 'realtime_scheduler_priority'][0]
        text = ' '.join(rst_pages()[os.path.join(
            'admin', 'realtime-flavors.rst')].split())
        self.assertIn('(%d-%d, default %d)' % (
            opt.type.min, opt.type.max, opt.default), text)
        self.assertIn(':ref:`kthread-priorities`', text)
        host = rst_pages()[os.path.join('admin', 'realtime-host-setup.rst')]
        self.assertIn('.. _kthread-priorities:', host)


RELEASENOTES = os.path.join(os.path.dirname(os.path.dirname(DOC_SOURCE)),
                            'releasenotes')


class TestReleaseNotes(test.TestCase):
    """Release notes are for operators: one prelude, no development tools,
    and the version title is the one the command reports.
    """

    def _notes(self):
        import yaml
        notes = {}
        directory = os.path.join(RELEASENOTES, 'notes')
        for name in sorted(os.listdir(directory)):
            if name.endswith('.yaml'):
                with open(os.path.join(directory, name)) as f:
                    notes[name] = yaml.safe_load(f)
        return notes

    def test_one_prelude(self):
        preludes = [name for name, note in self._notes().items()
                    if note.get('prelude')]
        self.assertEqual(1, len(preludes), preludes)

    def test_no_development_tools(self):
        for name, note in self._notes().items():
            text = ' '.join(str(value) for value in note.values())
            for word in ('tox', 'tools/', 'unit test', 'functional test',
                         'stestr', '.venv'):
                self.assertNotIn(word, text, name)

    def test_unreleased_title_is_the_command_s_version(self):
        from nova.cmd import realtime
        conf = {'__file__': os.path.join(RELEASENOTES, 'source', 'conf.py')}
        with open(conf['__file__']) as f:
            exec(f.read(), conf)
        found = conf['pbr_version']()
        if found is None:
            self.skipTest('pbr cannot compute the version here (no git)')
        self.assertEqual(realtime.version_string(), found)
        self.assertEqual('%s (not yet released)' % found,
                         conf['unreleased_title']())
        for title in ('0.0.0', '1.0.0-3'):
            self.assertTrue(conf['UNRELEASED_RE'].match(title))
        self.assertFalse(conf['UNRELEASED_RE'].match('1.0.0'))


class TestDefaultMaskProse(test.TestCase):
    """What the guides say the default mask is, against the code."""

    def test_default_mask_with_and_without_emulator_policy(self):
        without = _domain(_dedicated_rt()).find('cputune/vcpusched')
        self.assertEqual('1-3', without.get('vcpus'))
        for policy in ('isolate', 'share'):
            dom = _domain(_dedicated_rt('hw:emulator_threads_policy=' +
                                        policy))
            self.assertEqual('1-3',
                             dom.find('cputune/vcpusched').get('vcpus'))
        pages = rst_pages()
        for page in (os.path.join('admin', 'realtime.rst'),
                     os.path.join('admin', 'realtime-flavors.rst'),
                     os.path.join('user', 'realtime-guests.rst')):
            text = ' '.join(pages[page].split())
            self.assertIn('hw:emulator_threads_policy', text, page)
            self.assertRegex(text, r'(every vCPU|all) but vCPU 0', page)
