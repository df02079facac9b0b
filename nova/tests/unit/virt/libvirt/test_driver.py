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

"""LibvirtDriver against a real libvirt: the embedded test:///default driver.

test:///default keeps its state per process for as long as one connection
to it is open; each test holds one open (``self.keeper``) so a second Host
built later sees the same domains, as a restarted nova-compute would.
"""

import logging
import os
import subprocess
import sys
import textwrap
import threading
from unittest import mock

import fixtures
import libvirt
from oslo_utils import uuidutils

from nova import exception
from nova import objects
from nova.objects import image_meta as image_meta_mod
from nova import test
from nova.tests.unit.virt.libvirt import rng
from nova.virt.extra_specs import validators
from nova.virt import hardware_parse
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import config_caps
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import host as host_mod
from nova.virt.libvirt import usage as usage_mod

TEST_URI = 'test:///default'


def make_instance(name, vcpus=4, memory_mb=512, **extra_specs):
    flavor = objects.Flavor(name='f-%s' % name, vcpus=vcpus,
                            memory_mb=memory_mb, extra_specs=extra_specs)
    return objects.Instance(uuid=uuidutils.generate_uuid(), name=name,
                            flavor=flavor)


def image(**props):
    return objects.ImageMeta.from_dict({'properties': props})


RT = {'hw:cpu_policy': 'dedicated', 'hw:cpu_realtime': 'yes'}


class DriverTestCase(test.TestCase):
    def setUp(self):
        super().setUp()
        self.keeper = libvirt.open(TEST_URI)
        self.addCleanup(self.keeper.close)
        self.addCleanup(self._undefine_ours)
        self.flags(connection_uri=TEST_URI, group='libvirt')
        self.driver = libvirt_driver.LibvirtDriver(host_mod.Host())

    def _undefine_ours(self):
        for dom in self.keeper.listAllDomains():
            if dom.name() != 'test':
                if dom.isActive():
                    dom.destroy()
                dom.undefine()

    def spawn(self, name, image_meta=None, **kw):
        instance = make_instance(name, **kw)
        guest = self.driver.spawn(instance, image_meta or image())
        # Every domain the driver generates must satisfy libvirt's schema,
        # both as written and as libvirt stores it.
        rng.assert_domain_valid(guest.to_xml())
        rng.assert_domain_valid(self.domain_xml(name))
        return instance, guest

    def domain_xml(self, name):
        return self.keeper.lookupByName(name).XMLDesc(0)


class TestGuestConfig(DriverTestCase):
    def test_realtime_guest_cputune(self):
        self.flags(cpu_dedicated_set='2-7', group='compute')
        self.flags(realtime_scheduler_priority=7, group='libvirt')
        instance, guest = self.spawn('rt', vcpus=4, **RT)
        pinning = instance.numa_topology.cpu_pinning
        self.assertEqual({0, 1, 2, 3}, set(pinning))
        self.assertLessEqual(set(pinning.values()), set(range(2, 8)))
        self.assertEqual(4, len(set(pinning.values())))

        # We write exactly one <vcpusched> for the real-time set ...
        self.assertEqual(1, len(guest.cputune.vcpusched))
        self.assertEqual({1, 2, 3}, guest.cputune.vcpusched[0].vcpus)
        # ... and libvirt stores it (it may split it per vCPU).
        parsed = self.driver.list_instances()[0][2]
        tune = parsed.cputune
        self.assertEqual({v: {p} for v, p in pinning.items()},
                         {pin.id: pin.cpuset for pin in tune.vcpupin})
        self.assertEqual({1, 2, 3},
                         set().union(*(s.vcpus for s in tune.vcpusched)))
        self.assertEqual({('fifo', 7)},
                         {(s.scheduler, s.priority) for s in tune.vcpusched})
        # Emulator threads: the host pCPU of the non-RT vCPU 0, which is a
        # host pCPU number, not the guest's vCPU number.
        self.assertEqual({pinning[0]}, tune.emulatorpin.cpuset)
        self.assertFalse(parsed.membacking.sharedpages)
        self.assertTrue(parsed.membacking.locked)
        rng.assert_domain_valid(self.domain_xml('rt'))

    def test_realtime_mask_from_image_overrides_flavor(self):
        instance, guest = self.spawn(
            'rt-img', image_meta=image(hw_cpu_realtime_mask='^0-1'),
            vcpus=4, **dict(RT, **{'hw:cpu_realtime_mask': '^0'}))
        tune = guest.cputune
        self.assertEqual({2, 3}, tune.vcpusched[0].vcpus)
        pinning = instance.numa_topology.cpu_pinning
        self.assertEqual({pinning[0], pinning[1]}, tune.emulatorpin.cpuset)

    def test_positive_mask(self):
        _, guest = self.spawn(
            'rt-pos', vcpus=4, **dict(RT, **{'hw:cpu_realtime_mask': '2-3'}))
        self.assertEqual({2, 3}, guest.cputune.vcpusched[0].vcpus)

    def test_dedicated_non_realtime(self):
        instance, guest = self.spawn('ded', vcpus=2,
                                     **{'hw:cpu_policy': 'dedicated'})
        tune = guest.cputune
        self.assertEqual([], tune.vcpusched)
        self.assertEqual(set(instance.numa_topology.cpu_pinning.values()),
                         tune.emulatorpin.cpuset)
        self.assertIsNone(guest.membacking)
        xml = self.domain_xml('ded')
        self.assertNotIn('vcpusched', xml)
        self.assertNotIn('<locked/>', xml)

    def test_emulator_threads_isolate(self):
        instance, guest = self.spawn(
            'rt-iso', vcpus=2,
            **dict(RT, **{'hw:cpu_realtime_mask': '0-1',
                          'hw:emulator_threads_policy': 'isolate'}))
        topology = instance.numa_topology
        self.assertEqual(1, len(topology.cpuset_reserved))
        self.assertEqual(topology.cpuset_reserved,
                         guest.cputune.emulatorpin.cpuset)
        self.assertFalse(topology.cpuset_reserved &
                         set(topology.cpu_pinning.values()))
        self.assertEqual({0, 1}, guest.cputune.vcpusched[0].vcpus)

    def test_emulator_threads_share(self):
        self.flags(cpu_dedicated_set='4-15', cpu_shared_set='0-1',
                   group='compute')
        _, guest = self.spawn(
            'rt-share', vcpus=2,
            **dict(RT, **{'hw:emulator_threads_policy': 'share'}))
        self.assertEqual({0, 1}, guest.cputune.emulatorpin.cpuset)

    def test_share_without_shared_set_is_refused_before_libvirt(self):
        instance = make_instance(
            'rt-share-bad', vcpus=2,
            **dict(RT, **{'hw:emulator_threads_policy': 'share',
                          'hw:cpu_realtime_mask': '0-1'}))
        self.assertRaises(exception.Invalid, self.driver.spawn, instance,
                          image())
        self.assertNotIn('rt-share-bad',
                         [d.name() for d in self.keeper.listAllDomains()])

    def test_multi_numa(self):
        instance, guest = self.spawn(
            'rt-numa', vcpus=4, memory_mb=1024,
            **dict(RT, **{'hw:numa_nodes': '2'}))
        topology = instance.numa_topology
        self.assertEqual(2, len(topology.cells))
        self.assertEqual(2, len({c.host_node for c in topology.cells}))
        memnodes = {m.cellid: m.nodeset for m in guest.numatune.memnodes}
        self.assertEqual({c.id: {c.host_node} for c in topology.cells},
                         memnodes)
        self.assertEqual(2, len(guest.cpu.numa.cells))
        rng.assert_domain_valid(self.domain_xml('rt-numa'))


class TestLifecycle(DriverTestCase):
    def test_spawn_list_destroy(self):
        self.spawn('a', vcpus=2, **{'hw:cpu_policy': 'dedicated'})
        self.spawn('b', vcpus=2, **RT)
        listed = self.driver.list_instances()
        self.assertEqual(['a', 'b'], [item[0] for item in listed])
        self.assertTrue(all(item[1] for item in listed))
        self.driver.destroy('a')
        self.assertEqual(['b'],
                         [item[0] for item in self.driver.list_instances()])
        self.assertRaises(exception.InstanceNotFound, self.driver.destroy,
                          'a')

    def test_duplicate_name_refused(self):
        self.spawn('dup', vcpus=1, **{'hw:cpu_policy': 'dedicated'})
        self.assertRaises(exception.InstanceExists, self.spawn, 'dup',
                          vcpus=1)

    def test_no_pcpu_pinned_twice_and_full_host_refused(self):
        self.flags(cpu_dedicated_set='0-5', group='compute')
        used = set()
        for index in range(3):
            instance, _ = self.spawn('g%d' % index, vcpus=2,
                                     **{'hw:cpu_policy': 'dedicated'})
            pcpus = set(instance.numa_topology.cpu_pinning.values())
            self.assertFalse(used & pcpus)
            used |= pcpus
        self.assertEqual(set(range(6)), used)
        error = self.assertRaises(exception.ComputeResourcesUnavailable,
                                  self.spawn, 'g3', vcpus=1,
                                  **{'hw:cpu_policy': 'dedicated'})
        self.assertIn('free dedicated pCPUs', str(error))
        self.assertNotIn('g3', [d.name() for d in
                                self.keeper.listAllDomains()])

    def test_threads_in_one_process_never_share_a_pcpu(self):
        self.flags(cpu_dedicated_set='0-7', group='compute')
        results = {}

        def boot(index):
            # Each thread has its own driver and connection, as concurrent
            # requests in one nova-compute would.
            driver = libvirt_driver.LibvirtDriver(host_mod.Host())
            instance = make_instance('t%d' % index, vcpus=2,
                                     **{'hw:cpu_policy': 'dedicated'})
            try:
                driver.spawn(instance, image())
                results[index] = set(
                    instance.numa_topology.cpu_pinning.values())
            except exception.ComputeResourcesUnavailable as e:
                results[index] = e
        threads = [threading.Thread(target=boot, args=(i,))
                   for i in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        booted = [r for r in results.values() if isinstance(r, set)]
        refused = [r for r in results.values() if not isinstance(r, set)]
        self.assertEqual(4, len(booted), results)
        self.assertEqual(1, len(refused), results)
        self.assertEqual(set(range(8)), set().union(*booted))

    def test_no_huge_pages_error_says_what_the_host_has(self):
        # test:///default reports 2 MiB and 1 GiB pools, all empty.
        error = self.assertRaises(
            exception.ComputeResourcesUnavailable, self.spawn, 'huge',
            vcpus=2, **{'hw:cpu_policy': 'dedicated',
                        'hw:mem_page_size': '2MB'})
        self.assertIn('page size 2048 KiB', str(error))
        self.assertIn('0 free 2048 KiB pages', str(error))
        self.assertNotIn('huge', [d.name() for d in
                                  self.keeper.listAllDomains()])

    def test_restart_rebuilds_pinning_from_libvirt(self):
        self.flags(cpu_dedicated_set='0-3', group='compute')
        first, _ = self.spawn('before-restart', vcpus=2,
                              **{'hw:cpu_policy': 'dedicated'})
        # A new driver and connection: nothing carried over in memory.
        restarted = libvirt_driver.LibvirtDriver(host_mod.Host())
        topology = restarted.host.get_host_numa_topology()
        self.assertEqual(set(first.numa_topology.cpu_pinning.values()),
                         topology.pinned_cpus)
        second = make_instance('after-restart', vcpus=2,
                               **{'hw:cpu_policy': 'dedicated'})
        restarted.spawn(second, image())
        self.assertFalse(set(first.numa_topology.cpu_pinning.values()) &
                         set(second.numa_topology.cpu_pinning.values()))

    def test_destroy_frees_pcpus(self):
        self.flags(cpu_dedicated_set='0-1', group='compute')
        self.spawn('x', vcpus=2, **{'hw:cpu_policy': 'dedicated'})
        self.driver.destroy('x')
        self.assertEqual(set(),
                         self.driver.host.get_host_numa_topology()
                         .pinned_cpus)
        self.spawn('y', vcpus=2, **{'hw:cpu_policy': 'dedicated'})

    def test_isolate_siblings_survive_restart(self):
        # The reserved emulator pCPU is in no vcpupin; a restarted driver
        # must still count it as taken.
        instance, _ = self.spawn(
            'iso', vcpus=2, **{'hw:cpu_policy': 'dedicated',
                               'hw:emulator_threads_policy': 'isolate'})
        topology = libvirt_driver.LibvirtDriver(
            host_mod.Host()).host.get_host_numa_topology()
        expected = (set(instance.numa_topology.cpu_pinning.values()) |
                    instance.numa_topology.cpuset_reserved)
        self.assertEqual(expected, topology.pinned_cpus)


class _FailingStart(object):
    """Wraps a real virDomain so create() fails as libvirt does on a host
    without an RT budget or memlock rights; a fault this machine's test
    driver cannot cause, so only create() is replaced.
    """

    def __init__(self, domain, message):
        self._domain = domain
        self._message = message

    def __getattr__(self, name):
        return getattr(self._domain, name)

    def create(self):
        error = libvirt.libvirtError(self._message)
        error.err = (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_QEMU,
                     self._message, 2, None, None, None, -1, -1)
        raise error


class TestStartFailure(DriverTestCase):
    def _fail_start_with(self, message):
        real_define = self.driver.host.define

        def define(xml):
            return _FailingStart(real_define(xml), message)
        self.driver.host.define = define

    def _assert_nothing_left(self, name):
        self.assertNotIn(name, [d.name() for d in
                                self.keeper.listAllDomains()])
        self.assertEqual(set(), self.driver.host.get_host_numa_topology()
                         .pinned_cpus)

    def test_no_rt_budget(self):
        self._fail_start_with('Cannot set scheduler parameters for pid 7164:'
                              ' Operation not permitted')
        error = self.assertRaises(exception.RealtimeBudgetUnavailable,
                                  self.spawn, 'rt-nobudget', vcpus=2, **RT)
        self.assertIn('kernel.sched_rt_runtime_us=-1', str(error))
        self._assert_nothing_left('rt-nobudget')

    def test_memlock_refused(self):
        self._fail_start_with(
            'internal error: Process exited prior to exec: libvirt:  error '
            ': cannot limit locked memory of process 7177 to '
            '9007199254740991: Operation not permitted')
        error = self.assertRaises(exception.MemoryLockingUnavailable,
                                  self.spawn, 'rt-nolock', vcpus=2, **RT)
        self.assertIn('CAP_SYS_RESOURCE', str(error))
        self._assert_nothing_left('rt-nolock')

    def test_other_start_error(self):
        self._fail_start_with('some other failure')
        error = self.assertRaises(exception.InstanceStartFailed, self.spawn,
                                  'broken', vcpus=2,
                                  **{'hw:cpu_policy': 'dedicated'})
        self.assertIn('some other failure', str(error))
        self._assert_nothing_left('broken')


class TestConcurrentSpawns(test.TestCase):
    """Several processes booting at once through one libvirtd.

    test:///default lives inside each process, so this uses the same test
    driver hosted by libvirtd (test+unix:///default), shared by all
    processes like a real host's qemu:///system.
    """

    URI = 'test+unix:///default'

    def setUp(self):
        super().setUp()
        try:
            self.conn = libvirt.open(self.URI)
        except libvirt.libvirtError as e:
            self.skipTest('libvirtd is not running (%s); tools/run-tests.sh '
                          'starts it' % e.get_error_message())
        self.addCleanup(self.conn.close)
        self.prefix = 'conc-%s-' % uuidutils.generate_uuid()[:8]
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for dom in self.conn.listAllDomains():
            if dom.name().startswith(self.prefix):
                if dom.isActive():
                    dom.destroy()
                dom.undefine()

    def test_processes_never_share_a_pcpu(self):
        conf = os.path.join(self.lock_path, 'nova.conf')
        with open(conf, 'w') as f:
            f.write(textwrap.dedent('''\
                [compute]
                cpu_dedicated_set = 8-13
                [oslo_concurrency]
                lock_path = %s
                ''' % self.lock_path))
        procs = []
        for index in range(4):
            procs.append(subprocess.Popen(
                [sys.executable, '-m', 'nova.cmd.realtime',
                 '--config-file', conf, 'boot',
                 '--connection', self.URI,
                 '--name', '%s%d' % (self.prefix, index),
                 '--vcpus', '2', '--ram', '64',
                 '--property', 'hw:cpu_policy=dedicated'],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read())
                   for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        ok = [r for r in results if r[0] == 0]
        failed = [r for r in results if r[0] != 0]
        self.assertEqual(3, len(ok), results)
        self.assertEqual(1, len(failed), results)
        self.assertIn('Insufficient compute resources', failed[0][2])
        pcpus = []
        for dom in self.conn.listAllDomains():
            if dom.name().startswith(self.prefix):
                guest = vconfig.LibvirtConfigGuest.from_xml(dom.XMLDesc(0))
                for pin in guest.cputune.vcpupin:
                    pcpus.extend(pin.cpuset)
        self.assertEqual(6, len(pcpus))
        self.assertEqual(set(range(8, 14)), set(pcpus))


class TestDirectKernelBoot(DriverTestCase):
    def test_kernel_initrd_cmdline(self):
        instance = make_instance('kboot', vcpus=2,
                                 **{'hw:cpu_policy': 'dedicated'})
        instance.kernel_path = '/boot/vmlinuz-test'
        instance.ramdisk_path = '/boot/initrd-test'
        guest = self.driver.spawn(
            instance, image(os_command_line='console=ttyS0 isolcpus=1'))
        self.assertEqual('/boot/vmlinuz-test', guest.os_kernel)
        parsed = vconfig.LibvirtConfigGuest.from_xml(self.domain_xml('kboot'))
        self.assertEqual('/boot/vmlinuz-test', parsed.os_kernel)
        self.assertEqual('/boot/initrd-test', parsed.os_initrd)
        self.assertEqual('console=ttyS0 isolcpus=1', parsed.os_cmdline)

    def test_cmdline_without_kernel_is_not_written(self):
        instance = make_instance('nok', vcpus=1)
        guest = self.driver.plan(instance, image(os_command_line='quiet'))
        self.assertIsNone(guest.os_cmdline)
        self.assertIsNone(guest.os_kernel)

    def test_qemu_guest_logs_serial_to_file(self):
        self.flags(instances_path='/srv/guests', group='libvirt')
        instance = make_instance('qemu-guest', vcpus=1)
        self.flags(virt_type='qemu', group='libvirt')
        # Planned against this host's topology with [libvirt] virt_type.
        guest = self.driver.plan(
            instance, image(),
            host_topology=self.driver.host.get_host_numa_topology())
        serial = [d for d in guest.devices
                  if isinstance(d, vconfig.LibvirtConfigGuestSerial)]
        self.assertEqual(1, len(serial))
        self.assertEqual('file', serial[0].type)
        self.assertEqual('/srv/guests/qemu-guest/console.log',
                         serial[0].source_path)
        rng.assert_domain_valid(guest.to_xml())


class TestAdjustGuest(DriverTestCase):
    def test_adjusted_config_is_what_gets_defined(self):
        def drop_locked(guest):
            guest.membacking.locked = False
        instance = make_instance('adjusted', vcpus=2, **RT)
        self.driver.spawn(instance, image(), adjust_guest=drop_locked)
        xml = self.domain_xml('adjusted')
        self.assertNotIn('<locked/>', xml)
        self.assertIn('<nosharepages/>', xml)
        self.assertIn('vcpusched', xml)


class TestClaimedPcpusMetadata(DriverTestCase):
    CAPS = os.path.join(os.path.dirname(__file__), 'fixtures',
                        'caps_kvm_2numa_smt.xml')

    def _smt_host(self):
        with open(self.CAPS) as f:
            caps = config_caps.LibvirtConfigCaps.from_xml(f.read())
        return host_mod.host_topology_from_caps(
            caps, host_mod.get_host_cpu_sets())

    def test_isolate_records_the_siblings_it_keeps_free(self):
        host = self._smt_host()
        instance = make_instance(
            'iso-smt', vcpus=2, **{'hw:cpu_policy': 'dedicated',
                                   'hw:cpu_thread_policy': 'isolate'})
        guest = self.driver.plan(instance, image(), host_topology=host)
        pins = set(instance.numa_topology.cpu_pinning.values())
        cell = next(c for c in host.cells
                    if c.id == instance.numa_topology.cells[0].host_node)
        siblings = set().union(*(cell.sibling_set(cpu) for cpu in pins))
        self.assertGreater(siblings, pins)
        claimed = guest.get_metadata().claimed_pcpus
        self.assertEqual(siblings, claimed)
        parsed = vconfig.LibvirtConfigGuest.from_xml(guest.to_xml())
        self.assertEqual(claimed, usage_mod.parse_domain(
            parsed.to_xml()).claimed)

    def test_spawn_records_pins_and_reserved_emulator_pcpu(self):
        instance, _ = self.spawn(
            'emu-iso', vcpus=2, **{'hw:cpu_policy': 'dedicated',
                                   'hw:emulator_threads_policy': 'isolate'})
        parsed = vconfig.LibvirtConfigGuest.from_xml(
            self.domain_xml('emu-iso'))
        topology = instance.numa_topology
        self.assertEqual(set(topology.cpu_pinning.values()) |
                         topology.cpuset_reserved,
                         parsed.get_metadata().claimed_pcpus)


def _foreign_xml(name, body='', vcpus=2, vcpu_attrs='', metadata=''):
    return ('<domain type="test"><name>%s</name><metadata>%s</metadata>'
            '<memory unit="KiB">65536</memory><vcpu%s>%d</vcpu>%s'
            '<os><type>hvm</type></os></domain>' % (
                name, metadata, vcpu_attrs, vcpus, body))


def _ours(inner=''):
    return '<nrt:instance xmlns:nrt="%s">%s</nrt:instance>' % (
        vconfig.NOVA_RT_NS, inner)


class TestUsageFromRealPins(DriverTestCase):
    """What libvirt will run decides which pCPUs are free, not metadata."""

    DEDICATED = {'hw:cpu_policy': 'dedicated'}

    def setUp(self):
        super().setUp()
        self.flags(cpu_dedicated_set='0-3', group='compute')

    def pins(self, name):
        tune = vconfig.LibvirtConfigGuest.from_xml(
            self.domain_xml(name)).cputune
        return {pcpu for pin in tune.vcpupin for pcpu in pin.cpuset}

    def test_guest_repinned_behind_our_back(self):
        # virsh vcpupin GUEST 0 N --live --config, with N another pCPU.
        instance, _ = self.spawn('a', vcpus=2, **self.DEDICATED)
        free = ({0, 1, 2, 3} - self.pins('a'))
        target = min(free)
        dom = self.keeper.lookupByName('a')
        cpumap = tuple(cpu == target for cpu in range(16))
        dom.pinVcpu(0, cpumap)
        self.assertIn(target, self.pins('a'))
        self.spawn('b', vcpus=1, **self.DEDICATED)
        self.assertFalse(self.pins('a') & self.pins('b'),
                         (self.pins('a'), self.pins('b')))

    def test_foreign_domain_confined_by_vcpu_cpuset(self):
        self.keeper.defineXML(_foreign_xml('other', vcpu_attrs=' cpuset="0"'))
        self.spawn('mine', vcpus=2, **self.DEDICATED)
        self.assertNotIn(0, self.pins('mine'))

    def test_metadata_understating_pins_is_not_trusted(self):
        self.keeper.defineXML(_foreign_xml(
            'liar', '<cputune><vcpupin vcpu="0" cpuset="0"/>'
            '<vcpupin vcpu="1" cpuset="1"/><emulatorpin cpuset="0"/>'
            '</cputune>',
            metadata=_ours('<nrt:claimed_pcpus>3</nrt:claimed_pcpus>')))
        self.spawn('mine', vcpus=1, **self.DEDICATED)
        self.assertEqual({2}, self.pins('mine'))

    def test_hostile_metadata_never_blocks_the_host(self):
        hostile = [
            '<nrt:numa_topology>{not json</nrt:numa_topology>',
            '<nrt:numa_topology>%s</nrt:numa_topology>' % ('[' * 5000),
            '<nrt:flavor name="x" vcpus="abc" memory_mb="[]"/>',
            '<nrt:claimed_pcpus>0-99999999</nrt:claimed_pcpus>',
            '<nrt:realtime vcpus="^^"/>',
        ]
        for index, inner in enumerate(hostile):
            self.keeper.defineXML(_foreign_xml(
                'bad%d' % index, '<cputune><vcpupin vcpu="0" cpuset="3"/>'
                '<vcpupin vcpu="1" cpuset="3"/><emulatorpin cpuset="3"/>'
                '</cputune>', metadata=_ours(inner)))
        listed = self.driver.list_instances()
        self.assertEqual(['bad%d' % i for i in range(len(hostile))],
                         [item[0] for item in listed])
        self.driver.plan(make_instance('p', vcpus=3, **self.DEDICATED),
                         image())
        self.spawn('ok', vcpus=3, **self.DEDICATED)
        self.assertEqual({0, 1, 2}, self.pins('ok'))

    def test_two_lock_paths_double_pin_is_reported(self):
        self.spawn('a', vcpus=2, **self.DEDICATED)
        # Another process (another lock_path) pinned onto the same pCPUs.
        pins = sorted(self.pins('a'))
        self.keeper.defineXML(_foreign_xml(
            'b', '<cputune><vcpupin vcpu="0" cpuset="%d"/>'
            '<vcpupin vcpu="1" cpuset="%d"/><emulatorpin cpuset="%d"/>'
            '</cputune>' % (pins[0], pins[1], pins[0]), metadata=_ours()))
        logs = self.useFixture(fixtures.FakeLogger(level=logging.WARNING))
        self.driver.list_instances()
        self.assertIn('is pinned to more than one guest (a, b)',
                      logs.output)


class TestNothingLeftBehind(DriverTestCase):
    DEDICATED = {'hw:cpu_policy': 'dedicated'}

    def setUp(self):
        super().setUp()
        self.flags(cpu_dedicated_set='0-3', group='compute')

    def _names(self):
        return {dom.name() for dom in self.keeper.listAllDomains()}

    def _fail_start(self, error):
        # A fault test:///default cannot cause: the connection lost, or
        # the process interrupted, between define and start.
        def start(domain, name):
            raise error
        return mock.patch.object(libvirt_driver.LibvirtDriver, '_start',
                                 staticmethod(start))

    def test_any_failure_after_define_undefines(self):
        for error in (exception.HypervisorUnavailable(uri='x', reason='y'),
                      KeyboardInterrupt(), SystemExit(143),
                      RuntimeError('boom')):
            with self._fail_start(error):
                self.assertRaises(type(error), self.spawn, 'f', vcpus=2,
                                  **self.DEDICATED)
            self.assertNotIn('f', self._names(), error)
            # ... and the pCPUs are free again: the full host still fits.
            self.spawn('full', vcpus=4, **self.DEDICATED)
            self.keeper.lookupByName('full').destroy()
            self.keeper.lookupByName('full').undefine()

    def test_cleanup_retries_while_libvirt_is_unreachable(self):
        self.flags(cleanup_timeout=5, group='libvirt')
        calls = []
        real = self.driver._undefine_uuid

        def flaky(uuid):
            calls.append(uuid)
            if len(calls) < 3:
                raise exception.HypervisorUnavailable(uri='x', reason='down')
            return real(uuid)
        self.useFixture(fixtures.MockPatchObject(
            self.driver, '_undefine_uuid', flaky))
        with self._fail_start(exception.HypervisorUnavailable(
                uri='x', reason='gone')):
            self.assertRaises(exception.HypervisorUnavailable, self.spawn,
                              'r', vcpus=1, **self.DEDICATED)
        self.assertEqual(3, len(calls))
        self.assertNotIn('r', self._names())

    def test_orphan_reported_then_removed_by_next_boot(self):
        self.flags(cleanup_timeout=0, group='libvirt')
        self.useFixture(fixtures.MockPatchObject(
            self.driver, '_undefine_uuid', side_effect=(
                exception.HypervisorUnavailable(uri='x', reason='down'))))
        with self._fail_start(exception.HypervisorUnavailable(
                uri='x', reason='gone')):
            self.assertRaises(exception.HypervisorUnavailable, self.spawn,
                              'o', vcpus=2, **self.DEDICATED)
        self.assertIn('o', self._names())
        logs = self.useFixture(fixtures.FakeLogger(level=logging.WARNING))
        listed = {item[0]: item[3] for item in self.driver.list_instances()}
        self.assertTrue(listed['o'].orphan)
        self.assertIn('domain o was defined by a boot that never finished',
                      logs.output)
        driver = libvirt_driver.LibvirtDriver(host_mod.Host())
        driver.spawn(make_instance('next', vcpus=4, **self.DEDICATED),
                     image())
        self.assertNotIn('o', self._names())

    def test_started_guest_has_no_build_marker(self):
        self.spawn('done', vcpus=1, **self.DEDICATED)
        self.assertNotIn(usage_mod.BUILD_NS, self.domain_xml('done'))
        self.assertFalse(self.driver.list_instances()[0][3].orphan)


class TestOwnership(DriverTestCase):
    def test_delete_refuses_a_domain_we_did_not_create(self):
        self.keeper.defineXML(_foreign_xml('instance-00000001'))
        self.assertRaises(exception.InstanceNotOwned, self.driver.destroy,
                          'instance-00000001')
        self.assertRaises(exception.InstanceNotOwned, self.driver.destroy,
                          'test')
        self.assertTrue(self.keeper.lookupByName('test').isActive())
        self.keeper.lookupByName('instance-00000001')

    def test_list_shows_only_ours(self):
        self.keeper.defineXML(_foreign_xml('instance-00000002'))
        self.spawn('mine', vcpus=1, **{'hw:cpu_policy': 'dedicated'})
        self.assertEqual(['mine'],
                         [item[0] for item in self.driver.list_instances()])


class TestNames(DriverTestCase):
    def test_bad_names_refused_before_anything(self):
        base = self.useFixture(fixtures.TempDir()).path
        instances = os.path.join(base, 'instances')
        self.flags(instances_path=instances, group='libvirt')
        for name in ('../../x', '/tmp/x', 'a/b', '..', '.', '', 'x' * 300,
                     'tab\there', 'nul\x00', 'esc\x1b[0m', ' lead',
                     'sur\ud800'):
            self.assertRaises(exception.InvalidInstanceName, self.spawn,
                              name, vcpus=1)
        self.assertEqual([], os.listdir(base))

    def test_instance_dir_stays_below_instances_path(self):
        base = self.useFixture(fixtures.TempDir()).path
        path = libvirt_driver.make_instance_dir('guest-1', base)
        self.assertEqual(os.path.join(os.path.realpath(base), 'guest-1'),
                         path)
        self.assertRaises(exception.InstanceExists,
                          libvirt_driver.make_instance_dir, 'guest-1', base)
        libvirt_driver.remove_instance_dir('guest-1', base)
        self.assertFalse(os.path.exists(path))

    def test_instance_dir_checks_the_name_itself(self):
        base = self.useFixture(fixtures.TempDir()).path
        inner = os.path.join(base, 'instances')
        os.mkdir(inner)
        open(os.path.join(base, 'keep'), 'w').close()
        for name in ('..', '.', '../x', ''):
            self.assertRaises(exception.InvalidInstanceName,
                              libvirt_driver.instance_dir, name, inner)
            # Removing never reaches outside instances_path either.
            libvirt_driver.remove_instance_dir(name, inner)
        self.assertTrue(os.path.exists(os.path.join(base, 'keep')))
        self.assertTrue(os.path.isdir(inner))

    def test_remove_never_follows_a_symlink(self):
        base = self.useFixture(fixtures.TempDir()).path
        elsewhere = self.useFixture(fixtures.TempDir()).path
        open(os.path.join(elsewhere, 'keep'), 'w').close()
        os.symlink(elsewhere, os.path.join(base, 'g'))
        libvirt_driver.remove_instance_dir('g', base)
        self.assertTrue(os.path.exists(os.path.join(elsewhere, 'keep')))


class TestHostLock(test.TestCase):
    def test_waits_says_so_and_gives_up(self):
        self.flags(host_lock_timeout=2, group='libvirt')
        # POSIX locks are per process: another process must hold it.
        holder = subprocess.Popen(
            [sys.executable, '-c', textwrap.dedent("""\
                import sys, time
                from oslo_concurrency import lockutils
                lock = lockutils.external_lock(%r, %r, %r)
                lock.acquire()
                print('held', flush=True)
                time.sleep(30)
                """ % (libvirt_driver.CLAIM_LOCK, libvirt_driver.LOCK_PREFIX,
                       self.lock_path))],
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(holder.wait)
        self.addCleanup(holder.kill)
        self.addCleanup(holder.stdout.close)
        self.assertEqual('held\n', holder.stdout.readline())
        logs = self.useFixture(fixtures.FakeLogger(level=logging.WARNING))

        def locked():
            with libvirt_driver.host_lock():
                pass
        error = self.assertRaises(exception.HostLockTimeout, locked)
        self.assertIn('host_lock_timeout', str(error))
        self.assertIn('Waiting for the host lock', logs.output)
        holder.kill()
        holder.wait()
        locked()

    def test_lock_path_not_a_directory(self):
        path = os.path.join(self.lock_path, 'file')
        open(path, 'w').close()
        self.flags(lock_path=path, group='oslo_concurrency')

        def locked():
            with libvirt_driver.host_lock():
                pass
        error = self.assertRaises(exception.ConfigurationInvalid, locked)
        self.assertIn('lock_path', str(error))


class TestFloatingGuests(DriverTestCase):
    """Guests without dedicated pCPUs never run on the dedicated set."""

    def test_shared_set_confines_floating_guest(self):
        self.flags(cpu_dedicated_set='2-15', cpu_shared_set='0-1',
                   group='compute')
        _, guest = self.spawn('float', vcpus=2)
        self.assertEqual({0, 1}, guest.cpuset)
        self.assertEqual({0, 1}, guest.cputune.emulatorpin.cpuset)
        parsed = vconfig.LibvirtConfigGuest.from_xml(self.domain_xml('float'))
        self.assertEqual({0, 1}, parsed.cpuset)
        used = usage_mod.parse_domain(self.domain_xml('float'))
        self.assertEqual({0, 1}, used.cpus)
        self.assertEqual([], used.unconfined)

    def test_dedicated_set_only_leaves_the_rest(self):
        self.flags(cpu_dedicated_set='4-15', group='compute')
        _, guest = self.spawn('float', vcpus=2,
                              **{'hw:cpu_policy': 'shared'})
        self.assertEqual({0, 1, 2, 3}, guest.cpuset)

    def test_floating_numa_guest_pinned_to_its_cells_shared_cpus(self):
        self.flags(cpu_dedicated_set='2-7,10-15', cpu_shared_set='0-1,8-9',
                   group='compute')
        instance, guest = self.spawn('fnuma', vcpus=4,
                                     **{'hw:numa_nodes': '2'})
        pins = {pin.id: pin.cpuset for pin in guest.cputune.vcpupin}
        self.assertEqual({0, 1, 2, 3}, set(pins))
        for cell in instance.numa_topology.cells:
            expected = {0, 1} if cell.host_node == 0 else {8, 9}
            for vcpu in cell.total_cpus:
                self.assertEqual(expected, pins[vcpu])
        self.assertEqual({0, 1, 8, 9}, guest.cputune.emulatorpin.cpuset)

    def test_floating_numa_guest_confined_per_cell_without_cpu_sets(self):
        # As upstream: with no CPU set configured, each guest cell's vCPUs
        # run on the CPUs of its host cell (memory is bound to that cell),
        # the emulator threads on the CPUs of the guest's vCPUs.
        instance, guest = self.spawn('fnuma0', vcpus=4,
                                     **{'hw:numa_nodes': '2'})
        host_cells = {0: set(range(0, 8)), 1: set(range(8, 16))}
        pins = {pin.id: pin.cpuset for pin in guest.cputune.vcpupin}
        self.assertEqual({0, 1, 2, 3}, set(pins))
        memnodes = {node.cellid: node.nodeset
                    for node in guest.numatune.memnodes}
        for cell in instance.numa_topology.cells:
            self.assertEqual({cell.host_node}, memnodes[cell.id])
            for vcpu in cell.total_cpus:
                self.assertEqual(host_cells[cell.host_node], pins[vcpu])
        self.assertEqual(set(range(16)), guest.cputune.emulatorpin.cpuset)
        # What libvirt stored says so too.
        parsed = vconfig.LibvirtConfigGuest.from_xml(self.domain_xml('fnuma0'))
        self.assertEqual(guest.cputune, parsed.cputune)

    def test_one_cell_floating_guest_emulator_stays_in_its_cell(self):
        # As upstream: the emulator threads run where the vCPUs run, not
        # on every floating CPU of the host.
        for sets in ({}, {'cpu_dedicated_set': '2-7,10-15',
                          'cpu_shared_set': '0-1,8-9'}):
            self.flags(group='compute', **sets)
            instance, guest = self.spawn('fnuma1', vcpus=2,
                                         **{'hw:numa_nodes': '1'})
            node = instance.numa_topology.cells[0].host_node
            pins = {pin.id: pin.cpuset for pin in guest.cputune.vcpupin}
            self.assertEqual(pins[0], pins[1])
            self.assertEqual(pins[0], guest.cputune.emulatorpin.cpuset)
            self.assertLessEqual(pins[0], set(range(node * 8, node * 8 + 8)))
            self.driver.destroy('fnuma1')

    def test_no_cpu_left_for_floating_guests(self):
        self.flags(cpu_dedicated_set='0-15', group='compute')
        error = self.assertRaises(exception.ConfigurationInvalid,
                                  self.spawn, 'nowhere', vcpus=1)
        self.assertIn('nowhere to run', str(error))
        self.assertNotIn('nowhere', [d.name() for d in
                                     self.keeper.listAllDomains()])

    def test_sets_must_exist_on_the_host(self):
        self.flags(cpu_dedicated_set='2-7', cpu_shared_set='48-50',
                   group='compute')
        error = self.assertRaises(exception.ConfigurationInvalid,
                                  self.spawn, 'x', vcpus=1)
        self.assertIn('cpu_shared_set', str(error))
        self.assertIn('48-50 do not exist or are not online', str(error))
        self.flags(cpu_dedicated_set='2-70', cpu_shared_set=None,
                   group='compute')
        error = self.assertRaises(exception.ConfigurationInvalid,
                                  self.spawn, 'x', vcpus=1,
                                  **{'hw:cpu_policy': 'dedicated'})
        self.assertIn('cpu_dedicated_set', str(error))
        self.assertIn('16-70', str(error))


class TestMixedPolicy(DriverTestCase):
    MIXED_RT = {'hw:cpu_policy': 'mixed', 'hw:cpu_realtime': 'yes',
                'hw:cpu_realtime_mask': '^0'}

    def setUp(self):
        super().setUp()
        self.flags(cpu_dedicated_set='2-7,10-15', cpu_shared_set='0-1,8-9',
                   group='compute')

    def test_realtime_vcpus_pinned_the_rest_float_on_shared(self):
        instance, guest = self.spawn('mix', vcpus=4, **self.MIXED_RT)
        cell = instance.numa_topology.cells[0]
        shared = {0, 1} if cell.host_node == 0 else {8, 9}
        pins = {pin.id: pin.cpuset for pin in guest.cputune.vcpupin}
        self.assertEqual(shared, pins[0])
        dedicated = set().union(*(pins[v] for v in (1, 2, 3)))
        self.assertEqual(3, len(dedicated))
        self.assertFalse(dedicated & {0, 1, 8, 9})
        self.assertTrue(all(len(pins[v]) == 1 for v in (1, 2, 3)))
        self.assertEqual({1, 2, 3}, guest.cputune.vcpusched[0].vcpus)
        # The emulator threads float with the shared vCPU, off the
        # real-time pCPUs.
        self.assertEqual(shared, guest.cputune.emulatorpin.cpuset)
        used = usage_mod.parse_domain(self.domain_xml('mix'))
        self.assertEqual(dedicated | shared, used.taken)
        self.assertEqual(dedicated, used.claimed)

    def test_dedicated_mask_without_real_time(self):
        instance, guest = self.spawn(
            'mixd', vcpus=3, **{'hw:cpu_policy': 'mixed',
                                'hw:cpu_dedicated_mask': '2'})
        pins = {pin.id: pin.cpuset for pin in guest.cputune.vcpupin}
        self.assertEqual(1, len(pins[2]))
        self.assertEqual(pins[0], pins[1])
        self.assertEqual(2, len(pins[0]))
        self.assertEqual([], guest.cputune.vcpusched)
        # Not as upstream (upstream-difference-mixed-emulator): the
        # emulator threads stay off the dedicated pCPU, real time or not.
        self.assertEqual(pins[0], guest.cputune.emulatorpin.cpuset)

    def test_no_shared_cpu_in_any_cell(self):
        self.flags(cpu_dedicated_set='0-15', cpu_shared_set=None,
                   group='compute')
        error = self.assertRaises(exception.ComputeResourcesUnavailable,
                                  self.spawn, 'mixn', vcpus=2,
                                  **self.MIXED_RT)
        self.assertIn('0 shared CPUs for the floating vCPUs', str(error))


class TestWholeHostDedicated(DriverTestCase):
    def test_dedicated_guest_boots_when_no_cpu_is_left_for_floating(self):
        self.flags(cpu_dedicated_set='0-15', group='compute')
        _, guest = self.spawn('all-dedicated', vcpus=2,
                              **{'hw:cpu_policy': 'dedicated'})
        self.assertEqual(2, len(guest.cputune.vcpupin))


class TestRefusedKeys(DriverTestCase):
    def test_refused_flavor_key_never_defines(self):
        for specs in ({'hw:tpm_version': '2.0', 'hw:tpm_model': 'tpm-crb'},
                      {'hw:mem_encryption': 'true'},
                      {'pci_passthrough:alias': 'a1:2'}):
            error = self.assertRaises(exception.InvalidProperty, self.spawn,
                                      'refused', vcpus=1, **specs)
            self.assertIn('cannot provide', str(error))
            self.assertNotIn('refused', [d.name() for d in
                                         self.keeper.listAllDomains()])

    def test_not_applied_keys_still_boot(self):
        self.spawn('plain', vcpus=1, **{'hw:boot_menu': 'true',
                                        'hw:watchdog_action': 'reset'})


class TestRequestResolvedBeforeClaim(DriverTestCase):
    """Every flavor and image key is read before the claim, once."""

    def _no_claim(self):
        return mock.patch.object(
            self.driver, '_claim', autospec=True,
            side_effect=AssertionError('claimed a request that is invalid'))

    def test_bad_topology_pmu_and_locking_fail_before_the_claim(self):
        for specs, key in (
                ({'hw:cpu_sockets': '4', 'hw:cpu_max_sockets': '2'},
                 'hw:cpu_sockets'),
                ({'hw:locked_memory': 'yes'}, 'hw:locked_memory')):
            for call in (self.driver.plan, self.driver.spawn):
                with self._no_claim():
                    error = self.assertRaises(
                        exception.Invalid, call,
                        make_instance('early', vcpus=4, **specs), image())
                self.assertIn(key, str(error))
        with self._no_claim():
            self.assertRaises(exception.PropertyConflict, self.driver.plan,
                              make_instance('early', vcpus=2,
                                            **{'hw:pmu': 'yes'}),
                              image(hw_pmu='false'))

    def test_builder_reads_the_request_not_the_flavor(self):
        instance = make_instance('resolved', vcpus=4, **dict(
            RT, **{'hw:cpu_sockets': '2', 'hw:mem_page_size': 'small'}))
        request = self.driver.get_instance_constraints(
            instance.flavor, image(os_command_line='quiet'))
        self.assertEqual((2, 2, 1), tuple(request.cpu_topology))
        self.assertIs(False, request.pmu)
        self.assertFalse(request.locked_memory)
        self.assertEqual('quiet', request.kernel_cmdline)
        host = self.driver._claim(instance, request)
        # Keys changed after the claim are not read again.
        instance.flavor.extra_specs = {'hw:cpu_sockets': 'x'}
        guest = self.driver._build_guest(
            instance, request, host,
            libvirt_driver.HostContext.from_conf())
        self.assertEqual(2, guest.cpu.topology.sockets)


class TestOneYesNoVocabulary(DriverTestCase):
    """A yes/no word the API validators accept is one a plan accepts, with
    the same meaning, for every boolean flavor key and image property.
    """

    # Upstream's one-letter words and typos among them.
    WORDS = ('yes', 'No', ' TRUE ', 'false', 'on', 'OFF', '1', '0',
             't', 'f', 'y', 'n', 'maybe', '')
    # What each key needs beside it to be built at all.
    CONTEXT = {'hw:cpu_policy': 'dedicated', 'hw:mem_page_size': 'small'}

    def _plan(self, extra_specs, image_meta=None):
        instance = make_instance('words', vcpus=2, **extra_specs)
        return self.driver.plan(instance, image_meta or image())

    def test_every_flavor_flag(self):
        from nova.api.validation import extra_specs
        keys = [v.name for v in extra_specs.get_validators()
                if v.value['type'] == 'bool' and '{' not in v.name]
        self.assertIn('hw:pmu', keys)
        self.assertIn('hw:locked_memory', keys)
        self.assertIn('hw:cpu_realtime', keys)
        for key in keys:
            for word in self.WORDS:
                specs = dict(self.CONTEXT, **{key: word})
                try:
                    extra_specs.validate(key, word)
                except exception.InvalidProperty as e:
                    error = self.assertRaises(exception.InvalidProperty,
                                              self._plan, specs)
                    self.assertEqual(str(e), str(error), (key, word))
                    continue
                try:
                    guest = self._plan(specs)
                except exception.InvalidProperty as e:
                    # Only a refusal of what the key asks for, never of
                    # the word.
                    self.assertIn('cannot provide', str(e), (key, word))
                    continue
                if key == 'hw:pmu':
                    pmu = [f for f in guest.features
                           if isinstance(
                               f, vconfig.LibvirtConfigGuestFeaturePMU)]
                    self.assertEqual(
                        hardware_parse.parse_bool(key, word),
                        pmu[0].enabled, word)

    def test_every_image_flag(self):
        # Every yes/no image property: what ImageMeta.from_dict (the
        # image's validator) accepts, a plan accepts with the same meaning;
        # what it refuses is a bad word or a refusal of what it asks for.
        props = [name for name, rule in image_meta_mod._OTHER_PROPS.items()
                 if rule['kind'] == 'bool']
        self.assertIn('hw_pmu', props)
        self.assertIn('hw_locked_memory', props)
        self.assertIn('hw_mem_encryption', props)
        for prop in props:
            for word in self.WORDS:
                try:
                    image_meta = image(**{prop: word})
                except exception.ImageMetaPropInvalid as e:
                    self.assertEqual(prop, e.kwargs['name'], (prop, word))
                    if 'cannot provide' in str(e):
                        self.assertTrue(
                            hardware_parse.parse_bool(prop, word), word)
                    else:
                        self.assertRaises(exception.Invalid,
                                          hardware_parse.parse_bool, prop,
                                          word)
                    continue
                guest = self._plan(self.CONTEXT, image_meta)
                meaning = hardware_parse.parse_bool(prop, word)
                if prop == 'hw_pmu':
                    pmu = [f for f in guest.features
                           if isinstance(
                               f, vconfig.LibvirtConfigGuestFeaturePMU)]
                    self.assertEqual(meaning, pmu[0].enabled, word)
                elif prop == 'hw_locked_memory':
                    self.assertEqual(meaning, bool(
                        guest.membacking and guest.membacking.locked), word)


class TestRequestResolvedOnce(DriverTestCase):
    """A plan validates the flavor's keys once, reads the image's as
    ImageMeta.from_dict validated them, and keeps what it found in the
    GuestRequest.
    """

    def test_plan_validates_each_key_once(self):
        instance = make_instance('once', vcpus=2, **dict(
            RT, **{'hw:boot_menu': 'true'}))
        image_meta = image(hw_video_ram='8', hw_cpu_realtime_mask='^0')
        with mock.patch.object(
                validators, 'validate_all',
                wraps=validators.validate_all) as validate_all, \
                mock.patch.object(
                    objects.ImageMetaProps, '_build',
                    wraps=objects.ImageMetaProps._build) as build:
            self.driver.plan(instance, image_meta)
        validate_all.assert_called_once_with(instance.flavor.extra_specs)
        build.assert_not_called()

    def test_request_names_what_is_not_applied(self):
        instance = make_instance('na', vcpus=2, **{'hw:boot_menu': 'true'})
        request = self.driver.get_instance_constraints(
            instance.flavor, image(hw_video_ram='8'))
        self.assertEqual(('hw:boot_menu', 'hw_video_ram'),
                         request.not_applied)


class TestHostContext(DriverTestCase):
    """The builders read the host context they are given, not CONF."""

    def test_context_is_read_once_and_passed_down(self):
        self.flags(cpu_dedicated_set='2-15', cpu_shared_set='0-1',
                   group='compute')
        self.flags(realtime_scheduler_priority=3, group='libvirt')
        context = libvirt_driver.HostContext.from_conf()
        self.assertEqual({0, 1}, context.cpu_sets.shared)
        guests = []
        for name, specs in (('ctx-rt', RT), ('ctx-float', {})):
            instance = make_instance(name, vcpus=2, **specs)
            request = self.driver.get_instance_constraints(
                instance.flavor, image(), context)
            guests.append((instance, request,
                           self.driver._claim(instance, request)))
        # Change the configuration: the builds must not see it.
        self.flags(realtime_scheduler_priority=50, group='libvirt')
        self.flags(cpu_shared_set='1', group='compute')
        rt, floating = [
            self.driver._build_guest(instance, request, host, context)
            for instance, request, host in guests]
        self.assertEqual(3, rt.cputune.vcpusched[0].priority)
        self.assertEqual({0, 1}, floating.cpuset)
        self.assertEqual({0, 1}, floating.cputune.emulatorpin.cpuset)

    def test_online_cpus_are_read_once_into_the_context(self):
        instance = make_instance('online', vcpus=2,
                                 **{'hw:cpu_policy': 'dedicated'})
        with mock.patch.object(host_mod.Host, 'get_online_cpus',
                               autospec=True,
                               return_value={2, 3}) as online:
            guest = self.driver.plan(instance, image())
        online.assert_called_once_with(self.driver.host)
        self.assertEqual({2, 3}, guest.get_metadata().claimed_pcpus)

    def test_cpu_names_come_from_the_context(self):
        self.flags(cpu_mode='custom', cpu_models=['Haswell'],
                   cpu_model_extra_flags=['+avx2'], group='libvirt')
        context = libvirt_driver.HostContext.from_conf()
        self.assertIsNone(context.cpu_model_names)
        instance = make_instance('names', vcpus=1)
        request = self.driver.get_instance_constraints(
            instance.flavor, image(), context)
        host = self.driver._claim(instance, request)
        # Known names: checked, from the context alone (virt_type given,
        # as for a saved capabilities document: no libvirt is asked).
        known = context._replace(cpu_model_names=['Haswell'],
                                 cpu_feature_names={'avx2'})
        guest = self.driver._build_guest(instance, request, host, known,
                                         virt_type='kvm')
        self.assertEqual('Haswell', guest.cpu.model)
        unknown = context._replace(cpu_model_names=['Skylake'])
        error = self.assertRaises(
            exception.ConfigurationInvalid, self.driver._build_guest,
            instance, request, host, unknown, virt_type='kvm')
        self.assertIn('Haswell is not a CPU model', str(error))
