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
test's cleanups on KeyboardInterrupt. Only SIGKILL leaves a change behind;
``snapshot`` and ``python -m nova.tests.functional.host_guard`` (run
before and after the functional tests by tox) then report it.
"""

import collections
import json
import os
import signal
import sys
import threading

import fixtures

SYSTEM_LIBVIRTD_PIDFILE = '/run/libvirtd.pid'

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


class KernelSetting(fixtures.Fixture):
    """Write ``value`` to a /proc/sys or /sys file for one test.

    The previous content is written back in the cleanup, also when the test
    fails or the worker is terminated, and read again: a value that did not
    come back fails the test. Files that show a choice (``always [never]``)
    are restored to the bracketed word.
    """

    def __init__(self, path, value):
        super().__init__()
        self.path = path
        self.value = value

    def _setUp(self):
        self.previous = self._current()
        key = ('kernel-setting', self.path, id(self))
        register(key, self._restore)
        self.addCleanup(self._verify_restored)
        self.addCleanup(unregister, key)
        self.addCleanup(self._restore)
        self._write(self.value)

    def _current(self):
        text = read(self.path)
        if '[' in text:
            return text.split('[', 1)[1].split(']', 1)[0]
        return text

    def _write(self, value):
        with open(self.path, 'w') as f:
            f.write('%s\n' % value)

    def _restore(self):
        self._write(self.previous)

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
            'mounts': mounts}


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
    return lines


def main(argv=None):
    """``save FILE`` before a run, ``compare FILE`` after it (exit 1 and
    the differences when the host changed).
    """
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] not in ('save', 'compare'):
        sys.stderr.write('usage: host_guard save|compare FILE\n')
        return 2
    action, path = argv
    if action == 'save':
        with open(path, 'w') as f:
            json.dump(snapshot(), f)
        return 0
    with open(path) as f:
        before = json.load(f)
    lines = differences(before, snapshot())
    for line in lines:
        print('host changed by the tests: %s' % line)
    if not lines:
        print('host as found: %d kernel settings, the system libvirtd and '
              'the mounts unchanged' % len(before['settings']))
    return 1 if lines else 0


if __name__ == '__main__':
    sys.exit(main())
