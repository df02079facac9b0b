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

"""The test base: upstream's services, a real Placement, a real QEMU.

``RealLibvirtTestCase`` starts what ``_IntegratedTestBase`` starts (API,
conductor, scheduler, one compute; Neutron, Cinder and Glance fakes) with
the real LibvirtDriver on ``qemu:///system`` (``fixtures``), and Placement
served over TCP on 127.0.0.1 (``TCPPlacementFixture``) so that a separate
process, ``nova-realtime advertise``, can change the traits the scheduler
sees. Each test holds the host (``HostLock``, the lock of this tree's own
real-QEMU tests) and sets ``kernel.sched_rt_runtime_us`` to -1 for its
duration (``SchedRtRuntime``): libvirt cannot give a vCPU SCHED_FIFO
(``<vcpusched>``) while the RT bandwidth limit is on here.

Skips (never fails) when not root or when libvirtd does not answer on
``qemu:///system``.
"""

import fcntl
import os
import re
import socketserver
import subprocess
import sys
import threading
import time
from wsgiref import simple_server

import fixtures
from lxml import etree
from oslo_log import log as logging
from oslo_utils import uuidutils
from testtools import content

import nova
from nova import conf
from nova import context
from nova import test
from nova.tests import fixtures as nova_fixtures
from nova.tests.functional import fixtures as func_fixtures
from nova.tests.functional import integrated_helpers

from realnova import fixtures as real_fixtures

CONF = conf.CONF
LOG = logging.getLogger(__name__)

URI = 'qemu:///system'
QEMU_RUN_DIR = '/run/libvirt/qemu'
RT_RUNTIME = '/proc/sys/kernel/sched_rt_runtime_us'
# Shared with this tree's nova/tests/functional (real QEMU guests pinned to
# the same pCPUs, the same sysctl): one test at a time on the host.
HOST_LOCK = '/run/lock/nova-realtime-functional.lock'
# The host's 2 pCPUs: 1 for dedicated (PCPU), 0 for shared (VCPU).
DEDICATED = '1'
SHARED = '0'
BOOT_TIMEOUT = 120
# Where the state and instance directories are made (world-traversable).
INSTANCES_ROOT = '/tmp'
# A fault that says why memory cannot be locked here.
MEMLOCK_FAULT = re.compile(r'CAP_SYS_RESOURCE|memlock|RLIMIT_MEMLOCK',
                           re.IGNORECASE)
# Set to 1 to make a missing feature of the patch series a failure
# instead of a skip (see RealLibvirtTestCase.series_feature).
EXPECT_SERIES = os.environ.get('NOVA_RT_EXPECT_SERIES', '') not in ('', '0')


def libvirt_answers(timeout=10):
    """Whether qemu:///system answers, asked in a child (a hung daemon
    must not hang the test).
    """
    try:
        proc = subprocess.run(
            [sys.executable, '-c',
             'import libvirt; libvirt.open(%r).close()' % URI],
            capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, 'no answer in %ds' % timeout
    lines = proc.stderr.strip().splitlines()
    return proc.returncode == 0, lines[-1][:300] if lines else ''


def command_env():
    """The environment for the nova-realtime command: its own venv's
    ``nova``, not the upstream tree on this process's PYTHONPATH.
    """
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    return env


def api_paste_ini():
    """api-paste.ini of the source tree nova is imported from."""
    return os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(nova.__file__))), 'etc', 'nova', 'api-paste.ini')


class HostLock(fixtures.Fixture):
    """Exclusive use of the host for one test (waits for other holders)."""

    def _setUp(self):
        os.makedirs(os.path.dirname(HOST_LOCK), exist_ok=True)
        handle = open(HOST_LOCK, 'a')
        self.addCleanup(handle.close)
        fcntl.flock(handle, fcntl.LOCK_EX)
        self.addCleanup(fcntl.flock, handle, fcntl.LOCK_UN)


class SchedRtRuntime(fixtures.Fixture):
    """kernel.sched_rt_runtime_us for a test; the value found is written
    back at cleanup, whatever the test did.
    """

    def __init__(self, value):
        super().__init__()
        self.value = value

    def _setUp(self):
        with open(RT_RUNTIME) as f:
            self.previous = f.read().strip()
        self.addCleanup(self._write, self.previous)
        self._write(self.value)

    @staticmethod
    def _write(value):
        with open(RT_RUNTIME, 'w') as f:
            f.write('%s\n' % value)


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):
        LOG.debug('placement: ' + format, *args)


class _ThreadingServer(socketserver.ThreadingMixIn,
                       simple_server.WSGIServer):
    daemon_threads = True


class TCPPlacementFixture(func_fixtures.PlacementFixture):
    """Upstream's Placement fixture, its WSGI app served on 127.0.0.1.

    The configuration and in-memory database are upstream's (Placement's
    own ``PlacementFixture`` with ``use_intercept=False``); instead of
    wsgi-intercept, wsgiref serves the app on a port of 127.0.0.1, and
    Nova's report client (patched by upstream's fixture to call
    ``self.endpoint`` with the ``admin`` token) goes there over TCP. Other
    processes reach it at ``endpoint`` with ``auth_type = admin_token``,
    ``token = admin`` (``config_lines``): Placement's noauth2 middleware
    takes the token ``admin`` as an admin.
    """

    def __init__(self):
        super().__init__(use_intercept=False)

    def setUp(self):
        super().setUp()
        from placement import deploy
        app = deploy.loadapp(self.conf_fixture.conf)
        server = simple_server.make_server(
            '127.0.0.1', 0, app, server_class=_ThreadingServer,
            handler_class=_QuietHandler)
        thread = threading.Thread(target=server.serve_forever,
                                  kwargs={'poll_interval': 0.1},
                                  name='placement-wsgi', daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(thread.join, 10)
        self.addCleanup(server.shutdown)
        self.endpoint = 'http://127.0.0.1:%d' % server.server_port

    def config_lines(self):
        return ('[placement]\nauth_type = admin_token\nendpoint = %s\n'
                'token = %s\n' % (self.endpoint, self.token))


class QemuProcess(object):
    """The running QEMU of a domain, from libvirt's run directory."""

    def __init__(self, name):
        self.name = name
        with open(os.path.join(QEMU_RUN_DIR, name + '.pid')) as f:
            self.pid = int(f.read().strip())
        self.vcpu_tids = self._vcpu_tids()

    def _vcpu_tids(self):
        """{vCPU id: thread id}: libvirt's status XML, else QEMU's thread
        names (``CPU n/KVM``, ``CPU n/TCG``).
        """
        try:
            status = etree.parse(os.path.join(QEMU_RUN_DIR,
                                              self.name + '.xml'))
            tids = {int(v.get('id')): int(v.get('pid'))
                    for v in status.findall('./vcpus/vcpu')}
            if tids:
                return tids
        except (OSError, etree.XMLSyntaxError):
            pass
        tids = {}
        for tid in self.tids():
            match = re.match(r'^CPU (\d+)/(KVM|TCG)$', self.comm(tid))
            if match:
                tids[int(match.group(1))] = tid
        return tids

    def tids(self):
        return sorted(int(t) for t in os.listdir(
            '/proc/%d/task' % self.pid))

    def comm(self, tid):
        with open('/proc/%d/task/%d/comm' % (self.pid, tid)) as f:
            return f.read().strip()


class RealLibvirtTestCase(test.TestCase,
                          integrated_helpers.PlacementInstanceHelperMixin):
    """API, conductor, scheduler and one compute on the real libvirt."""

    REQUIRES_LOCKING = True
    # Whether <locked/> is removed at define, and the spawn preflight's
    # memory-locking check to neutralise (None: real_fixtures' default;
    # False: none). See real_fixtures.
    STRIP_LOCKED = True
    MEMLOCK_CHECK = None
    api_major_version = 'v2.1'
    microversion = 'latest'

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest('needs root: QEMU on qemu:///system, privsep in '
                          'process, kernel.sched_rt_runtime_us')
        answers, why = libvirt_answers()
        if not answers:
            self.skipTest('libvirtd does not answer on %s: %s' % (URI, why))
        if not os.path.exists(api_paste_ini()):
            self.skipTest('no %s: nova must be imported from its source '
                          'tree (PYTHONPATH)' % api_paste_ini())
        super().setUp()
        waited = time.monotonic()
        self.useFixture(HostLock())
        self.addDetail('host-lock-wait-seconds', content.text_content(
            '%.2f' % (time.monotonic() - waited)))
        self.rt_runtime = self.useFixture(SchedRtRuntime(-1))

        # Where Nova keeps state and instances: QEMU (not root) must
        # traverse the instance directories, so not under the test's own
        # 0700 temporary directory (nova.test's NestedTempfile).
        state = self.useFixture(fixtures.TempDir(rootdir=INSTANCES_ROOT)).path
        instances = os.path.join(state, 'instances')
        os.makedirs(instances)
        os.chmod(state, 0o711)
        os.chmod(instances, 0o711)
        self.instances_path = instances
        # Domain names no other user of this libvirtd has.
        self.name_prefix = 'rtfunc-%s-' % uuidutils.generate_uuid()[:8]
        self.flags(state_path=state, instances_path=instances,
                   instance_name_template=self.name_prefix + '%08x',
                   compute_driver='libvirt.LibvirtDriver')
        self.flags(api_paste_config=api_paste_ini(), group='wsgi')
        self.flags(virt_type='qemu', connection_uri=URI, group='libvirt')
        self.flags(cpu_dedicated_set=DEDICATED, cpu_shared_set=SHARED,
                   group='compute')
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.host.Host._log_host_capabilities',
            lambda *a, **kw: None))
        self.real = self.useFixture(real_fixtures.RealLibvirtFixture(
            strip_locked=self.STRIP_LOCKED,
            memlock_check=self.MEMLOCK_CHECK))
        self.addCleanup(self._reap_domains)

        self.placement_fixture = self.useFixture(TCPPlacementFixture())
        self.placement = self.placement_fixture.api
        self.neutron = self.useFixture(nova_fixtures.NeutronFixture(self))
        self.cinder = self.useFixture(nova_fixtures.CinderFixture(self))
        self.glance = self.useFixture(nova_fixtures.GlanceFixture(self))
        self.policy = self.useFixture(nova_fixtures.RealPolicyFixture())
        self.notifier = self.useFixture(
            nova_fixtures.NotificationFixture(self))

        self.start_service('conductor')
        self.start_service('scheduler')
        self.compute = self.start_service('compute', host='rt-compute')
        self.nodename = self.compute.manager.driver._host.get_hostname()
        self.api_fixture = self.useFixture(nova_fixtures.OSAPIFixture(
            api_version=self.api_major_version))
        self.api = self.admin_api = self.api_fixture.admin_api
        self.api.microversion = self.microversion
        self.rp_uuid = self._get_provider_uuid_by_host(self.nodename)

        self.image_id = uuidutils.generate_uuid()
        data = real_fixtures.mbr_image()
        self.glance.create(context.get_admin_context(), {
            'id': self.image_id, 'name': 'mbr-halt', 'disk_format': 'raw',
            'container_format': 'bare', 'size': len(data),
            'min_disk': 0, 'min_ram': 0, 'properties': {}},
            data=_Reader(data))

    # -- servers --------------------------------------------------------------

    def boot(self, extra_spec, expected='ACTIVE', vcpus=2, traits=None):
        """Boot from a flavor with ``extra_spec``; (server, seconds)."""
        flavor = self._create_flavor(memory_mb=128, vcpu=vcpus, disk=1,
                                     ephemeral=0, extra_spec=extra_spec)
        start = time.monotonic()
        server = self.api.post_server({'server': self._build_server(
            image_uuid=self.image_id, flavor_id=flavor, networks='none')})
        self.addCleanup(self._delete_quietly, server['id'])
        server = self.wait_for_build(server)
        seconds = time.monotonic() - start
        fault = server.get('fault', {}).get('message', '')
        if (expected == 'ACTIVE' and self.real.strip_locked and
                not self.real.memlock_check and MEMLOCK_FAULT.search(fault)):
            self.fail('this Nova refuses locked memory before define (%s): '
                      'name its check in NOVA_RT_MEMLOCK_PREFLIGHT or '
                      'realnova.fixtures.MEMLOCK_PREFLIGHT' % fault)
        self.assertEqual(expected, server['status'], server.get('fault'))
        self.addDetail('boot-seconds-%s' % server['id'][:8],
                       content.text_content('%.2f' % seconds))
        return server, seconds

    def wait_for_build(self, server, timeout=BOOT_TIMEOUT):
        """The server once it is ACTIVE or ERROR (at most ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while True:
            server = self.api.get_server(server['id'])
            if server['status'] in ('ACTIVE', 'ERROR'):
                return server
            if time.monotonic() > deadline:
                self.fail('still %s after %ds: %s' % (
                    server['status'], timeout, server))
            time.sleep(0.2)

    def _delete_quietly(self, server_id):
        try:
            self.api.delete_server(server_id)
        except Exception:
            return
        for _attempt in range(120):
            try:
                self.api.get_server(server_id)
            except Exception:
                return
            time.sleep(0.5)

    def delete_and_check_gone(self, server):
        """Delete; then no domain, no instance directory, no allocation."""
        name = server['OS-EXT-SRV-ATTR:instance_name']
        self._delete_server(server)
        conn = self.libvirt_conn()
        self.assertNotIn(name, [d.name() for d in conn.listAllDomains()])
        self.assertFalse(os.path.exists(os.path.join(
            self.instances_path, server['id'])))
        allocations = self.placement.get(
            '/allocations/%s' % server['id']).body['allocations']
        self.assertEqual({}, allocations)

    # -- libvirt and the host -------------------------------------------------

    def libvirt_conn(self):
        import libvirt
        conn = libvirt.open(URI)
        self.addCleanup(conn.close)
        return conn

    def live_xml(self, name):
        return etree.fromstring(
            self.libvirt_conn().lookupByName(name).XMLDesc(0))

    def _reap_domains(self):
        """No domain of this test survives it, whatever happened."""
        import libvirt
        conn = libvirt.open(URI)
        try:
            for domain in conn.listAllDomains():
                if not domain.name().startswith(self.name_prefix):
                    continue
                LOG.warning('Reaping leftover domain %s', domain.name())
                try:
                    if domain.isActive():
                        domain.destroy()
                    domain.undefineFlags(
                        libvirt.VIR_DOMAIN_UNDEFINE_NVRAM |
                        libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
                except libvirt.libvirtError as e:
                    LOG.warning('Could not reap %s: %s', domain.name(), e)
        finally:
            conn.close()

    def series_feature(self, present, what):
        """Skip (or fail with NOVA_RT_EXPECT_SERIES=1) when the running Nova
        lacks a behaviour the patch series adds, judged by ``present``.
        """
        if present:
            return
        if EXPECT_SERIES:
            self.fail('the running Nova lacks: %s' % what)
        self.skipTest('the running Nova lacks (a feature of the patch '
                      'series; NOVA_RT_EXPECT_SERIES=1 makes this a '
                      'failure): %s' % what)


class _Reader(object):
    def __init__(self, data):
        self.data = data

    def read(self):
        return self.data
