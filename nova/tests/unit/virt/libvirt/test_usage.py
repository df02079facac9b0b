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

"""Host usage read from domain XML: real pins, not our metadata."""

import subprocess

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nova import objects
from nova import test
from nova.virt.libvirt import usage

NS = usage.NOVA_RT_NS


def domain(body='', vcpus='2', vcpu_attrs='', metadata='', name='d'):
    return ('<domain type="kvm"><name>%s</name>'
            '<uuid>11111111-2222-3333-4444-555555555555</uuid>'
            '<metadata>%s</metadata><memory unit="KiB">1048576</memory>'
            '<vcpu%s>%s</vcpu>%s<os><type>hvm</type></os></domain>' % (
                name, metadata, vcpu_attrs, vcpus, body))


def ours(inner='', attrs=''):
    return '<nrt:instance xmlns:nrt="%s"%s>%s</nrt:instance>' % (
        NS, attrs, inner)


def host(cpus=8, cells=1, small_pages=262144, huge=0):
    per_cell = cpus // cells
    return objects.NUMATopology(cells=[
        objects.NUMACell(
            id=i, cpuset=set(range(i * per_cell, (i + 1) * per_cell)),
            pcpuset=set(range(i * per_cell, (i + 1) * per_cell)),
            siblings=[], memory=4096, memory_usage=0, pinned_cpus=set(),
            mempages=[objects.NUMAPagesTopology(size_kb=4,
                                                total=small_pages),
                      objects.NUMAPagesTopology(size_kb=2048, total=huge)])
        for i in range(cells)])


class ParseDomainTest(test.TestCase):
    def test_vcpupin_and_emulatorpin_are_taken(self):
        u = usage.parse_domain(domain(
            '<cputune><vcpupin vcpu="0" cpuset="2"/>'
            '<vcpupin vcpu="1" cpuset="3"/>'
            '<emulatorpin cpuset="5"/></cputune>'))
        self.assertEqual({2, 3, 5}, u.cpus)
        self.assertEqual([], u.unconfined)
        self.assertFalse(u.ours)

    def test_vcpu_cpuset_confines_unpinned_vcpus_and_emulator(self):
        # A domain we did not create, confined by <vcpu cpuset> alone.
        u = usage.parse_domain(domain(vcpu_attrs=' cpuset="0"'))
        self.assertEqual({0}, u.cpus)
        self.assertEqual([], u.unconfined)

    def test_unpinned_domain_is_unconfined_not_taken(self):
        u = usage.parse_domain(domain())
        self.assertEqual(set(), u.cpus)
        self.assertEqual(['vCPU 0-1', 'emulator threads'], u.unconfined)

    def test_partly_pinned_domain(self):
        u = usage.parse_domain(domain(
            '<cputune><vcpupin vcpu="0" cpuset="4"/></cputune>'))
        self.assertEqual({4}, u.cpus)
        self.assertIn('vCPU 1', u.unconfined)

    def test_iothread_pins_count(self):
        u = usage.parse_domain(domain(
            '<iothreads>1</iothreads><cputune>'
            '<vcpupin vcpu="0" cpuset="1"/><vcpupin vcpu="1" cpuset="2"/>'
            '<emulatorpin cpuset="1"/><iothreadpin iothread="1" '
            'cpuset="6"/></cputune>'))
        self.assertEqual({1, 2, 6}, u.cpus)

    def test_metadata_understating_pins_does_not_hide_them(self):
        u = usage.parse_domain(domain(
            '<cputune><vcpupin vcpu="0" cpuset="1"/>'
            '<vcpupin vcpu="1" cpuset="2"/><emulatorpin cpuset="1"/>'
            '</cputune>',
            metadata=ours('<nrt:claimed_pcpus>1</nrt:claimed_pcpus>')))
        self.assertTrue(u.ours)
        self.assertEqual({1, 2}, u.taken)

    def test_metadata_adds_siblings(self):
        u = usage.parse_domain(domain(
            '<cputune><vcpupin vcpu="0" cpuset="1"/>'
            '<vcpupin vcpu="1" cpuset="2"/><emulatorpin cpuset="1"/>'
            '</cputune>',
            metadata=ours('<nrt:claimed_pcpus>1-2,5-6'
                          '</nrt:claimed_pcpus>')))
        self.assertEqual({1, 2, 5, 6}, u.taken)

    def test_hostile_metadata_is_a_problem_not_an_error(self):
        for inner in ('<nrt:claimed_pcpus>abc</nrt:claimed_pcpus>',
                      '<nrt:claimed_pcpus>-1-0</nrt:claimed_pcpus>',
                      '<nrt:claimed_pcpus>0-99999999999</nrt:claimed_pcpus>',
                      '<nrt:numa_topology>%s</nrt:numa_topology>' % (
                          '[' * 100000),
                      '<nrt:flavor vcpus="abc"/>'):
            u = usage.parse_domain(domain(
                '<cputune><vcpupin vcpu="0" cpuset="3"/></cputune>',
                metadata=ours(inner)))
            self.assertTrue(u.ours)
            self.assertIn(3, u.taken)

    def test_unreadable_pin_keeps_what_was_read(self):
        u = usage.parse_domain(domain(
            '<cputune><vcpupin vcpu="0" cpuset="3"/>'
            '<vcpupin vcpu="1" cpuset="x"/></cputune>'))
        self.assertIn(3, u.cpus)
        self.assertEqual(1, len(u.problems))
        self.assertIn('vcpupin cpuset', u.problems[0])

    def test_build_marker_makes_orphan_when_not_running(self):
        marker = '<b:building xmlns:b="%s" pid="1"/>' % usage.BUILD_NS
        u = usage.parse_domain(domain(metadata=ours() + marker))
        self.assertTrue(u.orphan)
        u = usage.parse_domain(domain(metadata=ours() + marker),
                               running=True)
        self.assertFalse(u.orphan)
        # A boot still running in another live process is no orphan.
        other = subprocess.Popen(['sleep', '30'])
        self.addCleanup(other.wait)
        self.addCleanup(other.kill)
        boot, pid, start = usage.process_identity(other.pid)
        live = ('<b:building xmlns:b="%s" boot="%s" pid="%s" start="%s"/>'
                % (usage.BUILD_NS, boot, pid, start))
        self.assertFalse(usage.parse_domain(domain(
            metadata=ours() + live)).orphan)
        other.kill()
        other.wait()
        self.assertTrue(usage.parse_domain(domain(
            metadata=ours() + live)).orphan)
        # A marker without our metadata is not ours to remove.
        u = usage.parse_domain(domain(metadata=marker))
        self.assertFalse(u.orphan)

    def test_numa_memory_per_host_node_and_page_size(self):
        u = usage.parse_domain(domain(
            '<memoryBacking><hugepages><page size="2" unit="MiB" '
            'nodeset="1"/></hugepages></memoryBacking>'
            '<numatune><memory mode="strict" nodeset="0-1"/>'
            '<memnode cellid="0" mode="strict" nodeset="0"/>'
            '<memnode cellid="1" mode="strict" nodeset="1"/></numatune>'
            '<cpu><numa><cell id="0" cpus="0" memory="512" unit="MiB"/>'
            '<cell id="1" cpus="1" memory="1" unit="GiB"/></numa></cpu>'))
        self.assertEqual({(0, None): 512 * 1024, (1, 2048): 1024 * 1024},
                         dict(u.memory))

    def test_xml_bomb_and_garbage(self):
        bomb = ('<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
                '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
                '<domain><name>&c;</name></domain>')
        for xml in (bomb, 'not xml', '<domain/>', domain(vcpus='abc'),
                    domain(vcpus='9' * 5000)):
            u = usage.parse_domain(xml)
            self.assertIsInstance(u, usage.DomainUsage)

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=40))
    def test_any_attribute_values(self, vcpus, cpuset, pin):
        xml = domain('<cputune><vcpupin vcpu="0" cpuset=%s/></cputune>' % (
            _quote(pin)), vcpus=_esc(vcpus),
            vcpu_attrs=' cpuset=%s' % _quote(cpuset))
        try:
            xml.encode('utf-8')
        except UnicodeEncodeError:
            return
        u = usage.parse_domain(xml)
        self.assertIsInstance(u.cpus, set)


def _esc(text):
    return text.replace('&', '&amp;').replace('<', '&lt;')


def _quote(text):
    return '"%s"' % _esc(text).replace('"', '&quot;')


class HostUsageTest(test.TestCase):
    def test_pins_of_every_domain_are_taken(self):
        domains = [
            usage.parse_domain(domain(
                '<cputune><vcpupin vcpu="0" cpuset="1"/>'
                '<vcpupin vcpu="1" cpuset="2"/><emulatorpin cpuset="1"/>'
                '</cputune>', name='a')),
            usage.parse_domain(domain(vcpu_attrs=' cpuset="5"', name='b')),
            usage.parse_domain(domain(name='floating')),
        ]
        result = usage.HostUsage(host(), domains)
        self.assertEqual({1, 2, 5}, result.topology.cells[0].pinned_cpus)
        self.assertEqual(['floating'], [d.name for d in result.unconfined])
        self.assertTrue(any('floating may run on every host CPU' in line
                            for line in result.warnings()))

    def test_double_pin_with_one_of_ours_is_reported(self):
        domains = [
            usage.parse_domain(domain(
                '<cputune><vcpupin vcpu="0" cpuset="1"/>'
                '<vcpupin vcpu="1" cpuset="2"/></cputune>', name='a',
                metadata=ours())),
            usage.parse_domain(domain(
                '<cputune><vcpupin vcpu="0" cpuset="2"/>'
                '<vcpupin vcpu="1" cpuset="3"/></cputune>', name='b',
                metadata=ours())),
        ]
        result = usage.HostUsage(host(), domains)
        self.assertEqual({2: ['a', 'b']}, result.conflicts)
        self.assertTrue(any('host pCPU 2 is pinned to more than one guest '
                            '(a, b)' in line for line in result.warnings()))

    def test_foreign_overlap_only_is_no_conflict(self):
        domains = [usage.parse_domain(domain(vcpu_attrs=' cpuset="0-3"',
                                             name=n)) for n in 'xy']
        self.assertEqual({}, usage.HostUsage(host(), domains).conflicts)

    def test_memory_usage_applied(self):
        u = usage.parse_domain(domain(
            '<memoryBacking><hugepages><page size="2048" unit="KiB"/>'
            '</hugepages></memoryBacking>'
            '<numatune><memnode cellid="0" mode="strict" nodeset="1"/>'
            '</numatune><cpu><numa><cell id="0" cpus="0-1" '
            'memory="1048576"/></numa></cpu>'))
        topo = usage.HostUsage(host(cells=2, huge=1024), [u]).topology
        self.assertEqual(512, topo.cells[1].pages(2048).used)
        self.assertEqual(0, topo.cells[0].pages(2048).used)
