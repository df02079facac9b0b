"""Read-only view of a Linux host's /proc and /sys, below a chosen root.

``HostFacts(root)`` reads the same paths the kernel exposes, but relative to
``root`` (``/`` on a real host), so the readiness checks in
``nova.virt.libvirt.host_checks`` can be fed a fake tree in unit tests. Every
reader returns None (or an empty result) when a file is missing or
unreadable: a check decides what absence means.
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

    def read(self, *parts):
        """A file's content without the trailing newline, or None."""
        try:
            with open(self.path(*parts)) as f:
                return f.read().rstrip('\n')
        except OSError:
            return None

    def listdir(self, *parts):
        try:
            return sorted(os.listdir(self.path(*parts)))
        except OSError:
            return []

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
        """{parameter: value or None} from /proc/cmdline (last one wins)."""
        params = {}
        for word in (self.read('proc/cmdline') or '').split():
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

    # -- CPUs ---------------------------------------------------------------

    def cpu_list(self, *parts):
        """A kernel CPU list file (``0-3,8``) as a set, or None."""
        text = self.read(*parts)
        if text is None:
            return None
        return parse_kernel_cpu_list(text)

    def online_cpus(self):
        return self.cpu_list('sys/devices/system/cpu/online')

    def cpu_file(self, cpu, name):
        return self.read('sys/devices/system/cpu/cpu%d' % cpu, name)

    def thread_siblings(self, cpu):
        return self.cpu_list('sys/devices/system/cpu/cpu%d' % cpu,
                             'topology/thread_siblings_list')

    def idle_states(self, cpu):
        """[(name, exit latency us, disabled)] of a CPU's cpuidle states."""
        base = 'sys/devices/system/cpu/cpu%d/cpuidle' % cpu
        states = []
        for state in self.listdir(base):
            if not state.startswith('state'):
                continue
            name = self.read(base, state, 'name')
            latency = self.read(base, state, 'latency')
            disabled = self.read(base, state, 'disable')
            try:
                states.append((name, int(latency), disabled == '1'))
            except (TypeError, ValueError):
                continue
        return states

    def irq_affinities(self):
        """{irq number: set of CPUs} from /proc/irq/*/smp_affinity_list."""
        result = {}
        for irq in self.listdir('proc/irq'):
            if not irq.isdigit():
                continue
            cpus = self.cpu_list('proc/irq', irq, 'smp_affinity_list')
            if cpus is not None:
                result[int(irq)] = cpus
        return result

    # -- memory -------------------------------------------------------------

    def numa_nodes(self):
        nodes = [int(n[4:]) for n in self.listdir('sys/devices/system/node')
                 if n.startswith('node') and n[4:].isdigit()]
        return sorted(nodes)

    def node_hugepages(self, node):
        """{page size KiB: (total, free)} for one NUMA node."""
        base = 'sys/devices/system/node/node%d/hugepages' % node
        pages = {}
        for entry in self.listdir(base):
            if not (entry.startswith('hugepages-') and entry.endswith('kB')):
                continue
            try:
                size = int(entry[len('hugepages-'):-2])
                total = int(self.read(base, entry, 'nr_hugepages'))
                free = int(self.read(base, entry, 'free_hugepages'))
            except (TypeError, ValueError):
                continue
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
        """Pids whose /proc/<pid>/comm is one of ``names``, lowest first."""
        pids = []
        for entry in self.listdir('proc'):
            if entry.isdigit() and self.read('proc', entry,
                                             'comm') in names:
                pids.append(int(entry))
        return sorted(pids)

    def proc_status(self, pid):
        status = {}
        for line in (self.read('proc/%d/status' % pid) or '').splitlines():
            key, sep, value = line.partition(':')
            if sep:
                status[key.strip()] = value.strip()
        return status

    def capabilities(self, pid, which='CapEff'):
        """The set of capability numbers in /proc/<pid>/status, or None."""
        value = self.proc_status(pid).get(which)
        if value is None:
            return None
        mask = int(value, 16)
        return {bit for bit in range(64) if mask >> bit & 1}

    def memlock_limits(self, pid):
        """(soft, hard) RLIMIT_MEMLOCK in bytes (inf: unlimited), or None."""
        for line in (self.read('proc/%d/limits' % pid) or '').splitlines():
            if line.startswith('Max locked memory'):
                fields = line[len('Max locked memory'):].split()
                if len(fields) >= 2:
                    return (_limit(fields[0]), _limit(fields[1]))
        return None


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


def parse_isolcpus(value):
    """CPUs of an ``isolcpus=`` value, whose leading words may be flags
    (``isolcpus=nohz,domain,managed_irq,2-7``)."""
    cpus = set()
    for part in (value or '').split(','):
        part = part.strip()
        if part[:1].isdigit():
            cpus |= parse_kernel_cpu_list(part)
    return cpus
