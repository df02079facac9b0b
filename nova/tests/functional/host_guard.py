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

"""Leave the host as the tests found it.

``KernelSetting`` changes one /proc/sys or /sys file for a test and puts
the old value back in a cleanup. Every undo of a host change (a kernel
setting, a private libvirtd) is also registered here while it is pending:
when the test worker gets SIGTERM or SIGHUP (stestr or tox interrupted, a
CI timeout), the handler runs the pending undos, newest first, before the
worker dies of the signal. SIGINT needs no handler: testtools runs a
test's cleanups on KeyboardInterrupt. A SIGKILLed worker cannot undo
anything: its kernel settings are journaled in /run/nova-realtime-tests
and written back by the next test that changes one, its private libvirtd
is removed by the next one started (private_libvirtd.remove_stale), and
``snapshot`` with ``python -m nova.tests.functional.host_guard`` (run
before and after the functional tests by tox) reports what is left.
"""

import collections
import fcntl
import glob
import json
import os
import signal
import sys
import threading
import time

import fixtures

SYSTEM_LIBVIRTD_PIDFILE = '/run/libvirtd.pid'
QEMU_LOG_DIR = '/var/log/libvirt/qemu'

# What the functional tests may touch, compared before and after a run.
WATCHED = (
    '/proc/sys/kernel/sched_rt_runtime_us',
    '/proc/sys/kernel/sched_rt_period_us',
    '/proc/sys/kernel/timer_migration',
    '/sys/kernel/mm/transparent_hugepage/enabled',
    '/sys/kernel/mm/transparent_hugepage/defrag',
    '/sys/kernel/mm/ksm/run',
)

_pending = collections.OrderedDict()
_lock = threading.Lock()
_installed = False
_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def register(key, undo):
    """Run ``undo`` if the worker is terminated before ``unregister``."""
    _install()
    with _lock:
        _pending[key] = undo


def unregister(key):
    with _lock:
        _pending.pop(key, None)


def run_pending():
    """Run every pending undo, newest first (what the handler does)."""
    while True:
        with _lock:
            if not _pending:
                return
            _key, undo = _pending.popitem(last=True)
        try:
            undo()
        except Exception as e:  # keep undoing the others
            sys.stderr.write('host_guard: undo failed: %s\n' % e)


def _on_signal(signum, frame):
    run_pending()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install():
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    for signum in _SIGNALS:
        signal.signal(signum, _on_signal)
    _installed = True


def read(path):
    with open(path) as f:
        return f.read().strip()


def _journal_dir():
    return os.environ.get('NOVA_RT_JOURNAL_DIR', '/run/nova-realtime-tests')


class _JournalEntry(object):
    """A file saying what to write back where, flocked by its owner for
    as long as the change is pending (renamed into place already locked).
    """

    def __init__(self, record):
        directory = _journal_dir()
        os.makedirs(directory, mode=0o700, exist_ok=True)
        name = 'setting-%020d-%d-%d.json' % (time.time_ns(), os.getpid(),
                                            id(self))
        self.path = os.path.join(directory, name)
        try:
            self.handle = open(self.path + '.new', 'w')
        except FileNotFoundError:  # removed as the last entry went
            os.makedirs(directory, mode=0o700, exist_ok=True)
            self.handle = open(self.path + '.new', 'w')
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        json.dump(record, self.handle)
        self.handle.flush()
        os.rename(self.path + '.new', self.path)

    def remove(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        self.handle.close()
        _remove_if_empty(os.path.dirname(self.path))


def _remove_if_empty(directory):
    try:
        os.rmdir(directory)
    except OSError:
        pass  # other entries pending, or gone already


def recover_settings():
    """Write back the settings of changes whose owner died without
    restoring them (SIGKILL), newest first so the oldest value wins.
    /run is emptied at boot, as the running kernel's settings are.
    Returns [(path, value written back)].
    """
    restored = []
    entries = glob.glob(os.path.join(_journal_dir(), 'setting-*.json'))
    for entry in sorted(entries, reverse=True):
        try:
            handle = open(entry)
        except FileNotFoundError:
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its owner is alive
            if not os.path.exists(entry):
                continue  # restored by its owner meanwhile
            record = json.load(handle)
            with open(record['path'], 'w') as f:
                f.write('%s\n' % record['previous'])
            os.unlink(entry)
            restored.append((record['path'], record['previous']))
    _remove_if_empty(_journal_dir())
    return restored


class KernelSetting(fixtures.Fixture):
    """Write ``value`` to a /proc/sys or /sys file for one test.

    The previous content is written back in the cleanup, also when the test
    fails or the worker is terminated, and read again: a value that did not
    come back fails the test. Files that show a choice (``always [never]``)
    are restored to the bracketed word. While the change is pending it is
    journaled in /run/nova-realtime-tests: if the worker is SIGKILLed, the
    next KernelSetting (of any later test run) writes the value back.
    """

    def __init__(self, path, value):
        super().__init__()
        self.path = path
        self.value = value

    def _setUp(self):
        self.recovered = recover_settings()
        self.previous = self._current()
        self._journal = _JournalEntry({'path': self.path,
                                       'previous': self.previous})
        key = ('kernel-setting', self.path, id(self))
        register(key, self._undo)
        self.addCleanup(self._verify_restored)
        self.addCleanup(unregister, key)
        self.addCleanup(self._undo)
        self._write(self.value)

    def _current(self):
        text = read(self.path)
        if '[' in text:
            return text.split('[', 1)[1].split(']', 1)[0]
        return text

    def _write(self, value):
        with open(self.path, 'w') as f:
            f.write('%s\n' % value)

    def _undo(self):
        self._write(self.previous)
        self._journal.remove()

    def _verify_restored(self):
        now = self._current()
        if now != self.previous:
            raise AssertionError('%s is %s after the test, was %s'
                                 % (self.path, now, self.previous))


def sysctl_path(name):
    return '/proc/sys/' + name.replace('.', '/')


class Sysctl(KernelSetting):
    """KernelSetting by sysctl name (kernel.sched_rt_runtime_us)."""

    def __init__(self, name, value):
        super().__init__(sysctl_path(name), value)


def process_start(pid):
    """The start time of a process, in clock ticks since boot (or None)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # comm may contain spaces: the fields after it are fixed.
    return int(stat.rsplit(')', 1)[1].split()[19])


def system_libvirtd():
    """(pid, start time) of the system libvirtd, or None if not running."""
    try:
        pid = int(read(SYSTEM_LIBVIRTD_PIDFILE))
    except (FileNotFoundError, ValueError):
        return None
    start = process_start(pid)
    return None if start is None else (pid, start)


def snapshot():
    """What a run must leave as it was: the watched kernel settings, the
    system libvirtd (pid and start time), the mounts.
    """
    settings = {}
    for path in WATCHED:
        try:
            settings[path] = read(path)
        except OSError:
            settings[path] = None
    with open('/proc/self/mountinfo') as f:
        mounts = sorted(' '.join(line.split()[3:5]) for line in f)
    return {'settings': settings, 'libvirtd': system_libvirtd(),
            'mounts': mounts, 'leftovers': leftovers()}


def leftovers():
    """Journal entries, private libvirtd directories and the system
    daemon's QEMU logs of test guests (named nrt-...) that exist.
    """
    from nova.tests.functional.libvirt import private_libvirtd
    return sorted(glob.glob(os.path.join(_journal_dir(), '*')) +
                  glob.glob(os.path.join(private_libvirtd.parent_dir(),
                                         'nova-rt-libvirtd-*')) +
                  glob.glob(os.path.join(QEMU_LOG_DIR, 'nrt-*.log*')))


def _pid_start(value):
    return tuple(value) if value else None


def differences(before, after):
    """Human-readable lines, one per difference between two snapshots."""
    lines = []
    for path, value in sorted(before['settings'].items()):
        now = after['settings'].get(path)
        if now != value:
            lines.append('%s: %s before, %s after' % (path, value, now))
    if _pid_start(before['libvirtd']) != _pid_start(after['libvirtd']):
        lines.append('system libvirtd (pid, start): %s before, %s after'
                     % (before['libvirtd'], after['libvirtd']))
    for mount in sorted(set(after['mounts']) - set(before['mounts'])):
        lines.append('mount added: %s' % mount)
    for mount in sorted(set(before['mounts']) - set(after['mounts'])):
        lines.append('mount gone: %s' % mount)
    for path in sorted(set(after.get('leftovers', ())) -
                       set(before.get('leftovers', ()))):
        lines.append('appeared: %s' % path)
    return lines


def main(argv=None):
    """``save FILE`` before a run (after undoing what a killed earlier
    run left), ``compare FILE`` after it (exit 1 and the differences when
    the host changed). On a machine shared with other test runs, what they
    change meanwhile is reported too: the snapshot cannot tell who did it.
    """
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] not in ('save', 'compare'):
        sys.stderr.write('usage: host_guard save|compare FILE\n')
        return 2
    action, path = argv
    if action == 'save':
        # What a SIGKILLed earlier run left goes first.
        from nova.tests.functional.libvirt import private_libvirtd
        for setting, value in recover_settings():
            print('host_guard: %s written back to %s (left by a killed '
                  'test run)' % (setting, value))
        for root in private_libvirtd.remove_stale():
            print('host_guard: removed the private libvirtd %s (left by '
                  'a killed test run)' % root)
        with open(path, 'w') as f:
            json.dump(snapshot(), f)
        return 0
    with open(path) as f:
        before = json.load(f)
    lines = differences(before, snapshot())
    for line in lines:
        print('host changed during the tests: %s' % line)
    if not lines:
        print('host as found: %d kernel settings, the system libvirtd and '
              'the mounts unchanged, nothing left behind'
              % len(before['settings']))
    return 1 if lines else 0


if __name__ == '__main__':
    sys.exit(main())
