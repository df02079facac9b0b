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

"""Read-only view of a Linux host's /proc and /sys, below a chosen root.

``HostFacts(root)`` reads the same paths the kernel exposes, but relative to
``root`` (``/`` on a real host), so the readiness checks in
``nova.virt.libvirt.host_checks`` can be fed a fake tree in unit tests.

Absence is explicit: a reader returns None when the file (or directory) it
reads is missing or unreadable, never an empty result that looks like a
fact. An empty set, list or dict means "read, and there is nothing". Where
a missing file is itself the fact (a feature not built into the kernel),
``is_dir`` of its parent directory tells "not built in" (parent readable)
from "could not look" (parent missing too); the checks decide.
"""

import os

from nova import exception
from nova.virt import hardware

CAP_SYS_RESOURCE = 24

# Names under which a libvirt daemon that runs QEMU guests shows in
# /proc/<pid>/comm: the monolithic daemon and the modular QEMU driver daemon.
LIBVIRT_DAEMONS = ('libvirtd', 'virtqemud')

UNLIMITED = float('inf')


class HostFacts(object):
    def __init__(self, root='/'):
        self.root = root

    def path(self, *parts):
        return os.path.join(self.root, *[p.lstrip('/') for p in parts])

    def exists(self, *parts):
        return os.path.exists(self.path(*parts))

    def is_dir(self, *parts):
        return os.path.isdir(self.path(*parts))

    def read(self, *parts):
        """A file's content without the trailing newline, or None."""
        try:
            with open(self.path(*parts)) as f:
                return f.read().rstrip('\n')
        except OSError:
            return None

    def listdir(self, *parts):
        """Sorted entries of a directory, or None when it is unreadable."""
        try:
            return sorted(os.listdir(self.path(*parts)))
        except OSError:
            return None

    # -- kernel -------------------------------------------------------------

    def sysctl(self, name):
        """``kernel.sched_rt_runtime_us`` -> its value as a string, or None."""
        return self.read('proc/sys', name.replace('.', '/'))

    def sysctl_int(self, name):
        value = self.sysctl(name)
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    def cmdline(self):
        """{parameter: value or None} from /proc/cmdline (last one wins).

        None when /proc/cmdline cannot be read.
        """
        text = self.read('proc/cmdline')
        if text is None:
            return None
        params = {}
        for word in text.split():
            if word == '--':
                break  # what follows belongs to init
            key, sep, value = word.partition('=')
            params[key] = value if sep else None
        return params

    def cpu_cgroup_dir(self):
        """The cgroup v1 cpu controller's mount directory, or None.

        RT group scheduling (CONFIG_RT_GROUP_SCHED) shows as cpu.rt_runtime_us
        files there.
        """
        for name in ('sys/fs/cgroup/cpu', 'sys/fs/cgroup/cpu,cpuacct',
                     'sys/fs/cgroup'):
            if self.exists(name, 'cpu.rt_runtime_us'):
                return name
        return None

    def cgroup_readable(self):
        """Whether the cgroup hierarchy can be inspected at all.

        True when the cgroup v2 root (cgroup.controllers) or a cgroup v1
        cpu controller directory is there: then no cpu.rt_runtime_us means
        no RT group scheduling, not "could not look".
        """
        return (self.exists('sys/fs/cgroup/cgroup.controllers') or
                self.is_dir('sys/fs/cgroup/cpu') or
                self.is_dir('sys/fs/cgroup/cpu,cpuacct'))

    # -- CPUs ---------------------------------------------------------------

    def cpu_list(self, *parts):
        """A kernel CPU list file (``0-3,8``) as a set, or None."""
        text = self.read(*parts)
        if text is None:
            return None
        return parse_kernel_cpu_list(text)

    def online_cpus(self):
        return self.cpu_list('sys/devices/system/cpu/online')

    def cpuinfo_flags(self):
        """{processor number: set of flags} from /proc/cpuinfo's
        ``processor`` and ``flags`` lines (x86); {} when it has no flags
        lines (other architectures); None when it cannot be read.
        """
        text = self.read('proc/cpuinfo')
        if text is None:
            return None
        flags = {}
        cpu = None
        for line in text.splitlines():
            key, sep, value = line.partition(':')
            if not sep:
                continue
            key = key.strip()
            if key == 'processor':
                try:
                    cpu = int(value)
                except ValueError:
                    cpu = None
            elif key == 'flags' and cpu is not None:
                flags[cpu] = set(value.split())
        return flags

    def cpu_file(self, cpu, name):
        return self.read('sys/devices/system/cpu/cpu%d' % cpu, name)

    def thread_siblings(self, cpu):
        return self.cpu_list('sys/devices/system/cpu/cpu%d' % cpu,
                             'topology/thread_siblings_list')

    def cpu_dir_readable(self, cpu):
        return self.is_dir('sys/devices/system/cpu/cpu%d' % cpu)

    def idle_states(self, cpu):
        """[(name, exit latency us, disabled)] of a CPU's cpuidle states.

        [] when the CPU has no cpuidle directory; None when a state's
        files cannot be read (or the CPU's directory itself is missing).
        """
        if not self.cpu_dir_readable(cpu):
            return None
        base = 'sys/devices/system/cpu/cpu%d/cpuidle' % cpu
        states = []
        for state in self.listdir(base) or []:
            if not state.startswith('state'):
                continue
            name = self.read(base, state, 'name')
            latency = self.read(base, state, 'latency')
            disabled = self.read(base, state, 'disable')
            try:
                states.append((name, int(latency), disabled == '1'))
            except (TypeError, ValueError):
                return None
        return states

    def irq_affinities(self):
        """{irq number: set of CPUs or None (unreadable)} from
        /proc/irq/*/smp_affinity_list; None when /proc/irq lists no IRQ
        (every running kernel has some).
        """
        entries = [irq for irq in self.listdir('proc/irq') or []
                   if irq.isdigit()]
        if not entries:
            return None
        return {int(irq): self.cpu_list('proc/irq', irq, 'smp_affinity_list')
                for irq in entries}

    # -- memory -------------------------------------------------------------

    def numa_nodes(self):
        """Sorted NUMA node numbers, or None when none can be listed
        (/sys/devices/system/node is missing on kernels without NUMA).
        """
        nodes = [int(n[4:]) for n in
                 self.listdir('sys/devices/system/node') or []
                 if n.startswith('node') and n[4:].isdigit()]
        return sorted(nodes) or None

    def node_hugepages(self, node):
        """{page size KiB: (total, free)} for one NUMA node."""
        return self.hugepages('sys/devices/system/node/node%d/hugepages' %
                              node)

    def hugepages(self, base='sys/kernel/mm/hugepages'):
        """{page size KiB: (total, free)} below a hugepages directory.

        {} when there are no page sizes (no hugetlbfs support: the
        directory, or only it, is missing); None when its parent is missing
        too or a count cannot be read.
        """
        entries = self.listdir(base)
        if entries is None:
            return {} if self.is_dir(os.path.dirname(base)) else None
        pages = {}
        for entry in entries:
            if not (entry.startswith('hugepages-') and entry.endswith('kB')):
                continue
            try:
                size = int(entry[len('hugepages-'):-2])
                total = int(self.read(base, entry, 'nr_hugepages'))
                free = int(self.read(base, entry, 'free_hugepages'))
            except (TypeError, ValueError):
                return None
            pages[size] = (total, free)
        return pages

    def bracketed_choice(self, *parts):
        """The selected word of a sysfs choice file (``always [madvise]``)."""
        text = self.read(*parts)
        if text is None:
            return None
        for word in text.split():
            if word.startswith('[') and word.endswith(']'):
                return word[1:-1]
        return text.strip()

    # -- processes ----------------------------------------------------------

    def pids_named(self, names):
        """Pids whose /proc/<pid>/comm is one of ``names``, lowest first.

        None when the process list cannot be read: /proc lists no process
        at all (a mounted /proc always shows at least the reader itself).
        """
        pids = [entry for entry in self.listdir('proc') or []
                if entry.isdigit()]
        if not pids:
            return None
        return sorted(int(pid) for pid in pids
                      if self.read('proc', pid, 'comm') in names)

    def proc_status(self, pid):
        """{field: value} of /proc/<pid>/status, or None."""
        text = self.read('proc/%d/status' % pid)
        if text is None:
            return None
        status = {}
        for line in text.splitlines():
            key, sep, value = line.partition(':')
            if sep:
                status[key.strip()] = value.strip()
        return status

    def capabilities(self, pid, which='CapEff'):
        """The set of capability numbers in /proc/<pid>/status, or None."""
        value = (self.proc_status(pid) or {}).get(which)
        try:
            mask = int(value, 16)
        except (TypeError, ValueError):
            return None
        return {bit for bit in range(64) if mask >> bit & 1}

    def memlock_limits(self, pid):
        """(soft, hard) RLIMIT_MEMLOCK in bytes (inf: unlimited), or None."""
        for line in (self.read('proc/%d/limits' % pid) or '').splitlines():
            if line.startswith('Max locked memory'):
                fields = line[len('Max locked memory'):].split()
                try:
                    return (_limit(fields[0]), _limit(fields[1]))
                except (IndexError, ValueError):
                    return None
        return None

    def proc_cmdline(self, pid):
        """A process's argv from /proc/<pid>/cmdline, or None."""
        text = self.read('proc/%d/cmdline' % pid)
        if text is None:
            return None
        return [arg for arg in text.split('\0') if arg]

    def nova_compute_processes(self):
        """[(pid, command line)] of the nova-compute processes running, as
        /proc shows them: a program named nova-compute, run directly (a
        packaged or virtualenv console script, a container's entry point:
        the host's /proc shows the processes of its containers) or by a Python
        interpreter. The process reading /proc is never one.
        """
        try:
            own = int(os.path.basename(os.readlink(self.path('proc/self'))))
        except (OSError, ValueError):
            own = None
        found = []
        for entry in self.listdir('proc') or []:
            if not entry.isdigit() or int(entry) == own:
                continue
            pid = int(entry)
            argv = self.proc_cmdline(pid) or []
            programs = [os.path.basename(arg) for arg in argv[:1]]
            if programs and programs[0].startswith('python'):
                programs += [os.path.basename(arg) for arg in argv[1:2]]
            if 'nova-compute' in programs or (
                    not argv and self.read('proc', entry, 'comm') ==
                    'nova-compute'):
                found.append((pid, ' '.join(argv) or 'nova-compute'))
        return found

    def proc_environ(self, pid):
        """A process's environment from /proc/<pid>/environ, or None
        (only root, or the process's owner, may read it).
        """
        text = self.read('proc/%d/environ' % pid)
        if text is None:
            return None
        env = {}
        for item in text.split('\0'):
            key, sep, value = item.partition('=')
            if sep and key:
                env[key] = value
        return env

    def env_file(self, *parts):
        """KEY=VALUE assignments of a shell-style environment file (what
        systemd's EnvironmentFile= reads), or None when it is missing.
        """
        text = self.read(*parts)
        if text is None:
            return None
        env = {}
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith(('#', ';')):
                continue
            if line.startswith('export '):
                line = line[len('export '):].strip()
            key, sep, value = line.partition('=')
            key = key.strip()
            if not sep or not key:
                continue
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in '"\'':
                value = value[1:-1]
            env[key] = value
        return env


def _limit(text):
    return UNLIMITED if text == 'unlimited' else int(text)


def parse_kernel_cpu_list(text):
    """``0-3,8`` (the kernel's list format, possibly empty) -> set."""
    text = text.strip()
    if not text:
        return set()
    try:
        return hardware.parse_cpu_spec(text)
    except exception.InvalidCPUSpec:
        return set()


def parse_cpu_mask(text):
    """A kernel/irqbalance hex CPU mask (``ff000000,00000001``: 32-bit
    groups, most significant first, no 0x) -> set, or None if invalid.
    """
    text = (text or '').strip()
    try:
        value = int(text.replace(',', ''), 16)
    except ValueError:
        return None
    return {bit for bit in range(value.bit_length()) if value >> bit & 1}


def parse_isolcpus_flags(value):
    """(flags, CPUs) of an ``isolcpus=`` value, parsed as the kernel does
    (housekeeping_isolcpus_setup): leading words that start with a letter
    and end with a comma are flags (``nohz``, ``domain``, ``managed_irq``;
    unknown ones are skipped), the rest is the CPU list. An invalid CPU
    list isolates nothing.
    """
    rest = value or ''
    flags = []
    while rest[:1].isalpha():
        flag, sep, rest = rest.partition(',')
        flags.append(flag)
        if not sep:
            rest = ''
    cpus = set()
    if rest.strip():
        try:
            cpus = hardware.parse_cpu_spec(rest.strip())
        except exception.InvalidCPUSpec:
            cpus = set()
    return tuple(flags), cpus


def isolcpus_isolates_domain(flags):
    """Whether ``isolcpus=`` with these flags takes its CPUs out of the
    scheduler domains: with no known flag (the kernel then defaults to
    ``domain``) or with ``domain`` among them; ``managed_irq`` and
    ``nohz`` alone do not.
    """
    known = [flag for flag in flags if flag in ISOLCPUS_FLAGS]
    return not known or 'domain' in known


ISOLCPUS_FLAGS = ('nohz', 'domain', 'managed_irq')
