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

"""A root libvirtd of the test's own, for tests that kill or restart it.

A privileged libvirtd (libvirt 9.0, Debian 12) has no setting for its
driver directories: /etc/libvirt, /run/libvirt, /var/lib/libvirt,
/var/cache/libvirt and /var/log/libvirt are compiled in, and a second root
daemon on them would load the system daemon's domains and networks and
take over its running guests. So the private daemon runs in a mount
namespace of its own (``unshare --mount --propagation private``) in which
those five directories are bind mounts of directories under a temporary
directory; nothing is mounted in the host's namespace. Its client socket
directory (``unix_sock_dir``) and pid files are in the temporary directory
itself, named in its own libvirtd.conf (``-f``) and on the command line
(``-p``): never /run/libvirtd.pid or /run/libvirt/libvirt-sock.

Its virtlogd (the QEMU driver's default ``stdio_handler``) runs in the
same namespace, in the foreground: its socket is the namespace's
/run/libvirt/virtlogd-sock, and as long as it runs the namespace lives, so
libvirtd can be killed and started again in it (``nsenter``).

The QEMU processes are the host's (they show in /proc) and libvirt puts
them in cgroups named after the domain (qemu-<id>-<name>.libvirt-qemu)
under the ``machine`` partition, as the system daemon does: the cleanup
destroys every domain through the daemon, stops it, kills any QEMU it left,
removes the cgroups of its domains, and the ``machine`` partitions it
created, and the temporary directory. A test worker that is SIGKILLed
cannot clean up: the next PrivateLibvirtd (or ``host_guard save``) removes
what it left (``remove_stale``). Client URI:
``qemu+unix:///system?socket=<tmp>/sock/libvirt-sock``.
"""

import fcntl
import glob
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time

import fixtures
import libvirt
from testtools import content

from nova.tests.functional import host_guard

# (directory under the temporary directory, where the daemon sees it)
PRIVATE_DIRS = (('etc', '/etc/libvirt'), ('run', '/run/libvirt'),
                ('lib', '/var/lib/libvirt'), ('cache', '/var/cache/libvirt'),
                ('log', '/var/log/libvirt'))
CGROUP_ROOT = '/sys/fs/cgroup'


def answers(uri, timeout=0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            libvirt.open(uri).close()
            return True
        except libvirt.libvirtError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)


def _running(pid, comm):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read().strip() == comm
    except (FileNotFoundError, ProcessLookupError):
        return False


def _wait_gone(pid, comm, timeout):
    deadline = time.monotonic() + timeout
    while _running(pid, comm):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _machine_partitions():
    return set(glob.glob(os.path.join(CGROUP_ROOT, '*', 'machine')))


def _rmdir_tree(path):
    """rmdir a cgroup and its children, deepest first (cgroup files
    cannot be unlinked, the empty directories can).
    """
    for dirpath, _dirs, _files in sorted(os.walk(path), reverse=True,
                                         key=lambda entry: len(entry[0])):
        os.rmdir(dirpath)


def _kill_qemu(run_dir):
    """SIGKILL the QEMU processes named by the pid files of a private
    daemon's /run/libvirt/qemu, and wait until they are gone.
    """
    for path in glob.glob(os.path.join(run_dir, '*.pid')):
        try:
            pid = int(host_guard.read(path))
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                is_qemu = b'qemu' in f.read().split(b'\0')[0]
            comm = host_guard.read('/proc/%d/comm' % pid)
        except (OSError, ValueError):
            continue
        if is_qemu:
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, comm, 30)


def _kill_by_pidfile(path, comm, sig=signal.SIGKILL):
    try:
        pid = int(host_guard.read(path))
    except (OSError, ValueError):
        return
    if _running(pid, comm):
        os.kill(pid, sig)
        if not _wait_gone(pid, comm, 30) and sig != signal.SIGKILL:
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, comm, 30)


def _domain_names(run_dir):
    return {os.path.basename(path)[:-len('.xml')]
            for path in glob.glob(os.path.join(run_dir, '*.xml'))}


def _remove_domain_cgroups(names):
    for name in names:
        pattern = os.path.join(CGROUP_ROOT, '*', 'machine',
                               'qemu-*-%s.libvirt-qemu' % glob.escape(name))
        for path in glob.glob(pattern):
            _rmdir_tree(path)


def parent_dir():
    return os.environ.get('NOVA_RT_PRIVATE_LIBVIRTD_DIR', '/tmp')


def remove_stale(min_age=60):
    """Remove what private daemons of dead test workers left (a worker
    SIGKILLed before its cleanup): their QEMU processes, libvirtd,
    virtlogd, their guests' cgroups and their directories. A daemon's
    owner holds an flock on <root>/owner.lock for the daemon's life, so a
    lock that can be taken means the owner is gone. Returns the
    directories removed.
    """
    removed = []
    for root in glob.glob(os.path.join(parent_dir(), 'nova-rt-libvirtd-*')):
        lock = os.path.join(root, 'owner.lock')
        try:
            handle = open(lock, 'a')
        except FileNotFoundError:
            # Not locked yet, or never: only an old one is stale.
            try:
                if time.time() - os.stat(root).st_mtime < min_age:
                    continue
            except FileNotFoundError:
                continue
            handle = None
        try:
            if handle is not None:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its owner is alive
            run_dir = os.path.join(root, 'run', 'qemu')
            names = _domain_names(run_dir)
            _kill_by_pidfile(os.path.join(root, 'libvirtd.pid'), 'libvirtd')
            _kill_qemu(run_dir)
            _kill_by_pidfile(os.path.join(root, 'virtlogd.pid'), 'virtlogd')
            _remove_domain_cgroups(names)
            shutil.rmtree(root, ignore_errors=True)
            removed.append(root)
        finally:
            if handle is not None:
                handle.close()
    return removed


class PrivateLibvirtd(fixtures.Fixture):
    """libvirtd and virtlogd as root, on directories of their own.

    ``uri`` connects to it; ``qemu_run_dir`` is its /run/libvirt/qemu (the
    QEMU pid files) seen from the host. ``kill``, ``stop``, ``start`` and
    ``restart`` act on this libvirtd only.
    """

    LIBVIRTD = 'libvirtd'
    VIRTLOGD = 'virtlogd'

    def _setUp(self):
        self.stale_removed = remove_stale()
        self.system_before = host_guard.system_libvirtd()
        self.partitions_before = _machine_partitions()
        self.root = tempfile.mkdtemp(prefix='nova-rt-libvirtd-',
                                     dir=parent_dir())
        # Held for the daemon's life: remove_stale leaves it alone.
        self._owner_lock = open(os.path.join(self.root, 'owner.lock'), 'w')
        fcntl.flock(self._owner_lock, fcntl.LOCK_EX)
        self.addCleanup(self._owner_lock.close)
        self.socket = os.path.join(self.root, 'sock', 'libvirt-sock')
        self.uri = 'qemu+unix:///system?socket=%s' % self.socket
        self.qemu_run_dir = os.path.join(self.root, 'run', 'qemu')
        self.libvirtd_pidfile = os.path.join(self.root, 'libvirtd.pid')
        self.log = os.path.join(self.root, 'libvirtd.log')
        self._log_text = None
        self.domains = set()
        self.holder = None
        self._torn_down = False
        key = ('private-libvirtd', self.root)
        host_guard.register(key, self._teardown)
        self.addCleanup(self._check_system_daemon)
        self.addCleanup(host_guard.unregister, key)
        self.addCleanup(self._teardown)
        self.addDetail('private-libvirtd-log', content.Content(
            content.UTF8_TEXT, lambda: [self._read_log().encode()]))
        self._write_config()
        self._start_namespace()
        self.start()

    # -- setup -------------------------------------------------------------

    def _write_config(self):
        for name, _target in PRIVATE_DIRS:
            os.makedirs(os.path.join(self.root, name), mode=0o755)
            os.chmod(os.path.join(self.root, name), 0o755)
        os.makedirs(os.path.join(self.root, 'sock'), mode=0o755)
        with open(os.path.join(self.root, 'libvirtd.conf'), 'w') as f:
            f.write(textwrap.dedent('''\
                # nova-realtime functional tests: a private libvirtd.
                unix_sock_dir = "%s"
                unix_sock_group = "root"
                unix_sock_ro_perms = "0700"
                unix_sock_rw_perms = "0700"
                unix_sock_admin_perms = "0700"
                auth_unix_ro = "none"
                auth_unix_rw = "none"
                log_outputs = "3:file:%s"
                ''' % (os.path.dirname(self.socket), self.log)))
        with open(os.path.join(self.root, 'virtlogd.conf'), 'w') as f:
            f.write('log_outputs = "3:file:%s"\n'
                    % os.path.join(self.root, 'virtlogd.log'))
        # The QEMU driver's settings: the defaults (QEMU as libvirt-qemu,
        # cgroups, virtlogd), and no hooks, networks or autostarted
        # domains (the private /etc/libvirt has none).
        with open(os.path.join(self.root, 'etc', 'qemu.conf'), 'w') as f:
            f.write('# nova-realtime functional tests: defaults.\n')

    def _start_namespace(self):
        for _name, target in PRIVATE_DIRS:
            if not os.path.isdir(target):
                raise AssertionError('%s is missing: is libvirt-daemon-system '
                                     'installed?' % target)
        mounts = ' && '.join(
            'mount --bind %s %s' % (shlex.quote(os.path.join(self.root, name)),
                                    target)
            for name, target in PRIVATE_DIRS)
        virtlogd_log = open(os.path.join(self.root, 'virtlogd.out'), 'w')
        self.addCleanup(virtlogd_log.close)
        # unshare execs sh, sh execs virtlogd: one pid, the namespace's
        # holder.
        self.holder = subprocess.Popen(
            ['unshare', '--mount', '--propagation', 'private', '--',
             'sh', '-ec', '%s && exec virtlogd -f %s -p %s' % (
                 mounts,
                 shlex.quote(os.path.join(self.root, 'virtlogd.conf')),
                 shlex.quote(os.path.join(self.root, 'virtlogd.pid')))],
            stdout=virtlogd_log, stderr=subprocess.STDOUT,
            start_new_session=True)
        sock = os.path.join(self.root, 'run', 'virtlogd-sock')
        deadline = time.monotonic() + 30
        while not os.path.exists(sock):
            if self.holder.poll() is not None:
                with open(virtlogd_log.name) as f:
                    raise AssertionError('private virtlogd did not start '
                                         '(exit %s): %s' % (
                                             self.holder.returncode,
                                             f.read()))
            if time.monotonic() > deadline:
                raise AssertionError('private virtlogd did not start')
            time.sleep(0.05)

    # -- the daemon ----------------------------------------------------------

    def pid(self):
        """The private libvirtd's pid, or None when it is not running."""
        try:
            pid = int(host_guard.read(self.libvirtd_pidfile))
        except (FileNotFoundError, ValueError):
            return None
        return pid if _running(pid, self.LIBVIRTD) else None

    def start(self):
        if self.holder.poll() is not None:
            raise AssertionError('the private namespace is gone (virtlogd '
                                 'exited %s)' % self.holder.returncode)
        subprocess.run(
            ['nsenter', '--target', str(self.holder.pid), '--mount', '--',
             self.LIBVIRTD, '-d', '-f',
             os.path.join(self.root, 'libvirtd.conf'),
             '-p', self.libvirtd_pidfile],
            check=True, capture_output=True, text=True)
        if not answers(self.uri, timeout=30):
            raise AssertionError('the private libvirtd did not answer on %s'
                                 % self.uri)

    def kill(self, sig=signal.SIGKILL, timeout=30):
        """Send ``sig`` to the private libvirtd and wait until it is gone;
        its guests live on.
        """
        pid = self.pid()
        if pid is None:
            raise AssertionError('the private libvirtd is not running')
        os.kill(pid, sig)
        if not _wait_gone(pid, self.LIBVIRTD, timeout):
            raise AssertionError('private libvirtd (pid %d) did not exit'
                                 % pid)

    def stop(self):
        self.kill(signal.SIGTERM)

    def restart(self):
        self.stop()
        self.start()

    def ensure_running(self):
        if self.pid() is None or not answers(self.uri, timeout=5):
            if self.pid() is not None:
                self.kill()
            self.start()

    # -- cleanup -------------------------------------------------------------

    def _read_log(self):
        if self._log_text is None:
            try:
                with open(self.log, errors='replace') as f:
                    return f.read()[-20000:]
            except FileNotFoundError:
                return ''
        return self._log_text

    def _destroy_domains(self):
        self.ensure_running()
        conn = libvirt.open(self.uri)
        try:
            for dom in conn.listAllDomains():
                self.domains.add(dom.name())
                try:
                    # A transient domain is gone once destroyed.
                    persistent = dom.isPersistent()
                    if dom.isActive():
                        dom.destroy()
                    if persistent:
                        dom.undefine()
                except libvirt.libvirtError as e:
                    # Just started: a domain whose reconnection fails
                    # (e.g. as it is destroyed) is dropped by the daemon.
                    if e.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                        raise
        finally:
            conn.close()

    def _stop_if_running(self):
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            if not _wait_gone(pid, self.LIBVIRTD, 30):
                os.kill(pid, signal.SIGKILL)
                _wait_gone(pid, self.LIBVIRTD, 30)

    def _kill_left_qemu(self):
        self.domains |= _domain_names(self.qemu_run_dir)
        _kill_qemu(self.qemu_run_dir)

    def _remove_cgroups(self):
        _remove_domain_cgroups(self.domains |
                               _domain_names(self.qemu_run_dir))
        for path in _machine_partitions() - self.partitions_before:
            try:
                os.rmdir(path)
            except OSError:
                pass  # the system daemon's guests are in it now

    def _stop_holder(self):
        if self.holder.poll() is None:
            self.holder.terminate()
            try:
                self.holder.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.holder.kill()
                self.holder.wait(timeout=30)

    def _teardown(self):
        """Every step runs; the errors are raised at the end. Once."""
        if self._torn_down:
            return
        self._torn_down = True
        errors = []
        steps = [self._destroy_domains, self._stop_if_running,
                 self._kill_left_qemu]
        if self.holder is None:
            steps = []
        else:
            steps += [self._stop_holder]
        steps += [self._remove_cgroups]
        for step in steps:
            try:
                step()
            except Exception as e:
                errors.append('%s: %s' % (step.__name__, e))
        self._log_text = self._read_log()
        shutil.rmtree(self.root, ignore_errors=True)
        if errors:
            raise AssertionError('private libvirtd cleanup: %s'
                                 % '; '.join(errors))

    def _check_system_daemon(self):
        after = host_guard.system_libvirtd()
        if after != self.system_before:
            raise AssertionError(
                'the system libvirtd changed while a private one ran: '
                '(pid, start) %s before, %s after'
                % (self.system_before, after))
