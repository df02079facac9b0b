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

"""Is this host ready for real-time guests? One verdict per check.

Most real-time failures are host setup, not Nova. Each check reads the host
(``HostFacts``: /proc and /sys below a root directory, so unit tests feed a
fake tree) and returns a ``CheckResult``: a stable id (quoted by the docs),
OK / WARN / FAIL, what it found and the fix. FAIL means a real-time guest
will not start here; WARN means it starts but its latency is not what real
time promises.

Unknown is not OK: a check that could not read its fact says so ("cannot
read ...") and is WARN, or FAIL where it guards what a real-time guest
needs (the RT budget, RT group scheduling, memory locking); its result has
``unknown`` set. A missing file counts as "feature not built in" only where
its parent directory was readable.

``nova-realtime check-host`` prints them all; ``LibvirtDriver.spawn`` runs
``preflight()`` -- only the checks whose failure makes libvirt refuse the
guest -- before defining a real-time guest.
"""

import collections
import json

from nova import exception
from nova.i18n import _
from nova.virt import hardware
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import host_facts

OK = 'OK'
WARN = 'WARN'
FAIL = 'FAIL'

# Why libvirt refuses a real-time guest, and the fix. The driver's
# translation of libvirt's own start errors uses the same words, so the
# preflight and a failed start tell the operator the same thing.
RT_BUDGET_REASON = _('the host gives the guest no real-time (SCHED_FIFO) '
                     'budget')
RT_BUDGET_FIX = _(
    'set kernel.sched_rt_runtime_us=-1 (sysctl -w '
    'kernel.sched_rt_runtime_us=-1, and persist it in /etc/sysctl.d/), as '
    'the tuned realtime-virtual-host profile does; with RT group scheduling '
    'the default 950000 leaves the guest cgroup no RT runtime')
MEMLOCK_REASON = _('the host refused to lock the guest memory (<locked/>)')
MEMLOCK_FIX = _(
    'the libvirt daemon needs CAP_SYS_RESOURCE and an unlimited '
    'RLIMIT_MEMLOCK (e.g. LimitMEMLOCK=infinity in its systemd unit, or '
    '"ulimit -l unlimited" before starting it in a container that grants '
    'CAP_SYS_RESOURCE)')

# libvirt added <vcpusched> in 1.2.13.
MIN_LIBVIRT_VERSION = (1, 2, 13)
# cpuidle exit latency (us) above which a state hurts a real-time vCPU.
MAX_IDLE_LATENCY_US = 10


class CheckResult(collections.namedtuple('CheckResult',
                                         'id status found fix unknown')):
    """One verdict. ``fix`` is empty when there is nothing to do.

    ``unknown`` is True when the check could not read the fact it judges:
    the status is then WARN, or FAIL where the check guards something a
    real-time guest needs, never OK. The driver preflight refuses a guest
    only on a FAIL that was read, not on an unknown one (libvirt then says
    itself whether it can start the guest).
    """
    __slots__ = ()

    def __new__(cls, id, status, found, fix, unknown=False):
        return super().__new__(cls, id, status, found, fix, unknown)

    def format(self):
        line = '%-4s %-28s %s' % (self.status, self.id, self.found)
        if self.fix and self.status != OK:
            line += ' | fix: %s' % self.fix
        return line

    def to_dict(self):
        return dict(self._asdict())


def _spec(cpus):
    return hardware.format_cpu_spec(cpus) if cpus else '(none)'


def _unread(name, status, what, fix):
    """The verdict of a check that could not read its fact."""
    return CheckResult(name, status, _('cannot read %s') % what, fix,
                       unknown=True)


def _read_fix(*paths):
    return _('run check-host as root on the compute host itself (not in a '
             'container without the host\'s /proc and /sys); it reads %s') % (
        ', '.join(paths))


# -- kernel -----------------------------------------------------------------

def check_preempt_rt(facts):
    name = 'kernel.preempt_rt'
    flag = facts.read('sys/kernel/realtime')
    version = facts.sysctl('kernel.version')
    release = facts.sysctl('kernel.osrelease') or '?'
    if flag == '1' or 'PREEMPT_RT' in (version or ''):
        return CheckResult(name, OK, _(
            'kernel %s is PREEMPT_RT') % release, '')
    if version is None:
        return _unread(name, WARN, _(
            '/proc/sys/kernel/version (nor /sys/kernel/realtime): PREEMPT_RT '
            'unknown'), _read_fix('/proc/sys/kernel/version'))
    return CheckResult(name, WARN, _(
        'kernel %(rel)s (%(ver)s) is not PREEMPT_RT: guests start, but host '
        'kernel sections stay non-preemptible') % {
            'rel': release, 'ver': version.strip()},
        _('boot a PREEMPT_RT kernel (Debian: linux-image-rt-amd64)'))


def rt_group_sched_dir(facts):
    return facts.cpu_cgroup_dir()


def _sched_rt_runtime(facts):
    """kernel.sched_rt_runtime_us as an int, or None when unreadable."""
    return facts.sysctl_int('kernel.sched_rt_runtime_us')


def check_sched_rt_runtime(facts):
    name = 'kernel.sched_rt_runtime_us'
    value = _sched_rt_runtime(facts)
    if value is None:
        return _unread(name, FAIL, _(
            '/proc/sys/kernel/sched_rt_runtime_us: the RT budget of vCPU '
            'threads is unknown'),
            _read_fix('/proc/sys/kernel/sched_rt_runtime_us'))
    if value == -1:
        return CheckResult(name, OK, _('-1: no RT throttling'), '')
    if rt_group_sched_dir(facts) is not None:
        return CheckResult(name, FAIL, _(
            '%s with RT group scheduling: libvirt cannot give vCPU threads '
            'SCHED_FIFO ("Cannot set scheduler parameters")') % value,
            RT_BUDGET_FIX)
    if not facts.cgroup_readable():
        return CheckResult(name, FAIL, _(
            '%s, and whether RT group scheduling takes the guests\' budget '
            'away is unknown (cannot read /sys/fs/cgroup)') % value,
            RT_BUDGET_FIX, unknown=True)
    return CheckResult(name, WARN, _(
        '%s: RT vCPU threads are throttled for the rest of each '
        'kernel.sched_rt_period_us') % value, RT_BUDGET_FIX)


def check_rt_group_sched(facts):
    """RT group scheduling and the RT budget of libvirt's machine cgroup."""
    name = 'kernel.rt_group_sched'
    base = rt_group_sched_dir(facts)
    runtime = _sched_rt_runtime(facts)
    if base is None:
        if facts.cgroup_readable():
            return CheckResult(name, OK, _(
                'no RT group scheduling (no cpu.rt_runtime_us): vCPU threads '
                'use the global RT budget'), '')
        if runtime == -1:
            return CheckResult(name, OK, _(
                'cannot read /sys/fs/cgroup, but no RT group budget is '
                'enforced since kernel.sched_rt_runtime_us=-1'), '')
        return _unread(name, FAIL, _(
            '/sys/fs/cgroup: whether RT group scheduling leaves the guest '
            'cgroups no RT runtime is unknown'), RT_BUDGET_FIX)
    machine = None
    for sub in ('machine', 'machine.slice'):
        machine = facts.read(base, sub, 'cpu.rt_runtime_us')
        if machine is not None:
            where = '/%s/%s' % (base, sub)
            break
    found = _('enabled; libvirt machine cgroup %s') % (
        _('%(dir)s cpu.rt_runtime_us=%(v)s') % {'dir': where, 'v': machine}
        if machine is not None else _('not created yet'))
    if runtime == -1:
        return CheckResult(name, OK, found + _(
            ', not enforced since kernel.sched_rt_runtime_us=-1'), '')
    if runtime is None:
        return CheckResult(name, FAIL, found + _(
            ', and kernel.sched_rt_runtime_us cannot be read: the per-guest '
            'cgroups libvirt creates may get no RT runtime'), RT_BUDGET_FIX,
            unknown=True)
    return CheckResult(name, FAIL, found + _(
        ', and the per-guest cgroups libvirt creates get no RT runtime'),
        RT_BUDGET_FIX)


def check_timer_migration(facts):
    name = 'kernel.timer_migration'
    value = facts.sysctl(name)
    fix = _('sysctl -w kernel.timer_migration=0')
    if value is None:
        if facts.sysctl('kernel.osrelease') is not None:
            # /proc/sys/kernel is readable: the kernel has no such sysctl.
            return CheckResult(name, OK, _('not present in this kernel'), '')
        return _unread(name, WARN, '/proc/sys/kernel/timer_migration',
                       _read_fix('/proc/sys/kernel/timer_migration'))
    if value.strip() == '0':
        return CheckResult(name, OK, '0', '')
    return CheckResult(name, WARN, _(
        '%s: timers may migrate onto dedicated pCPUs') % value, fix)


# -- CPU isolation ----------------------------------------------------------

def check_dedicated_set(facts, dedicated):
    name = 'compute.cpu_dedicated_set'
    online = facts.online_cpus()
    if dedicated is None:
        return CheckResult(name, WARN, _(
            'unset: every online pCPU (%s) may be pinned, none kept for the '
            'host') % (_spec(online) if online is not None else _('unknown')),
            _('set [compute] cpu_dedicated_set to the isolated pCPUs'))
    if online is None:
        return _unread(name, WARN, _(
            '/sys/devices/system/cpu/online: whether %s are online is '
            'unknown') % _spec(dedicated),
            _read_fix('/sys/devices/system/cpu/online'))
    if not dedicated <= online:
        return CheckResult(name, WARN, _(
            '%(set)s includes offline pCPUs %(off)s') % {
                'set': _spec(dedicated), 'off': _spec(dedicated - online)},
            _('list only online pCPUs (online: %s)') % _spec(online))
    return CheckResult(name, OK, _spec(dedicated), '')


def _isolation_check(facts, dedicated, param, why):
    name = 'cpu.%s' % param
    params = facts.cmdline()
    target = (_spec(dedicated) if dedicated is not None
              else _('<[compute] cpu_dedicated_set>'))
    fix = _('add %(p)s=%(set)s to the kernel command line') % {
        'p': param, 'set': target}
    if params is None:
        return _unread(name, WARN, _('/proc/cmdline: %(p)s unknown') % {
            'p': param}, _read_fix('/proc/cmdline'))
    if dedicated is None:
        return CheckResult(name, WARN, _(
            'cannot compare: [compute] cpu_dedicated_set is unset'), fix)
    if param not in params:
        return CheckResult(name, WARN, _('%(p)s not set: %(why)s') % {
            'p': param, 'why': why}, fix)
    value = params[param]
    shown = '%s=%s' % (param, value) if value is not None else param
    if value is None:  # bare rcu_nocbs: every CPU
        covered = facts.online_cpus()
        if covered is None:
            return _unread(name, WARN, _(
                '/sys/devices/system/cpu/online: which pCPUs bare %s '
                'covers is unknown') % param,
                _read_fix('/sys/devices/system/cpu/online'))
    elif param == 'isolcpus':
        flags, covered = host_facts.parse_isolcpus_flags(value)
        if not host_facts.isolcpus_isolates_domain(flags):
            kept = [flag for flag in flags
                    if flag in host_facts.ISOLCPUS_FLAGS]
            return CheckResult(name, WARN, _(
                '%(v)s isolates no scheduler domain (flags %(f)s without '
                '"domain"): %(why)s') % {
                    'v': shown, 'f': ','.join(flags), 'why': why},
                _('add %(p)s=%(set)s to the kernel command line') % {
                    'p': param,
                    'set': ','.join(['domain'] + kept + [target])})
    else:
        covered = host_facts.parse_kernel_cpu_list(value)
    missing = dedicated - covered
    if missing:
        return CheckResult(name, WARN, _(
            '%(v)s leaves dedicated pCPUs %(m)s out: %(why)s') % {
                'v': shown, 'm': _spec(missing), 'why': why},
            fix)
    return CheckResult(name, OK, _('%(v)s covers %(set)s') % {
        'v': shown, 'set': _spec(dedicated)}, '')


def check_isolcpus(facts, dedicated):
    return _isolation_check(facts, dedicated, 'isolcpus', _(
        'the scheduler may run host tasks there'))


def check_nohz_full(facts, dedicated):
    return _isolation_check(facts, dedicated, 'nohz_full', _(
        'the scheduler tick keeps interrupting vCPUs'))


def check_rcu_nocbs(facts, dedicated):
    return _isolation_check(facts, dedicated, 'rcu_nocbs', _(
        'RCU callbacks run there'))


# Where distributions keep irqbalance's environment (systemd's
# EnvironmentFile=): Debian/Ubuntu, then RHEL/Fedora/SUSE (tuned's
# irqbalance plugin writes IRQBALANCE_BANNED_CPUS there).
IRQBALANCE_ENV_FILES = ('etc/default/irqbalance', 'etc/sysconfig/irqbalance')


def irqbalance_banned_cpus(facts, pid):
    """(CPUs irqbalance keeps IRQs off, where that came from), or
    (None, what could not be read).

    irqbalance's own order (setup_banned_cpus): a non-empty
    IRQBALANCE_BANNED_CPUS (hex mask), else a non-empty
    IRQBALANCE_BANNED_CPULIST (CPU list), else the kernel's isolated
    (isolcpus) and nohz_full CPUs. The running daemon's environment
    (/proc/<pid>/environ) is what it used; when that cannot be read, the
    environment files its systemd unit reads stand in for it.
    """
    env = facts.proc_environ(pid)
    source = '/proc/%d/environ' % pid
    if env is None:
        env = {}
        files = []
        for path in IRQBALANCE_ENV_FILES:
            values = facts.env_file(path)
            if values is not None:
                env.update(values)
                files.append('/' + path)
        source = ' + '.join(files) or _('no /etc/default/irqbalance or '
                                        '/etc/sysconfig/irqbalance')
    for var, parse in (
            ('IRQBALANCE_BANNED_CPUS', host_facts.parse_cpu_mask),
            ('IRQBALANCE_BANNED_CPULIST', _parse_cpu_list_or_none)):
        value = env.get(var, '').strip()
        if value:
            cpus = parse(value)
            if cpus is None:
                return None, _('%(var)s=%(v)s (%(src)s) is not valid') % {
                    'var': var, 'v': value, 'src': source}
            return cpus, '%s=%s (%s)' % (var, value, source)
    isolated = facts.cpu_list('sys/devices/system/cpu/isolated')
    if isolated is None:
        return None, _('/sys/devices/system/cpu/isolated (irqbalance bans '
                       'isolated CPUs when %s sets no banned CPUs)') % source
    nohz = facts.cpu_list('sys/devices/system/cpu/nohz_full') or set()
    return isolated | nohz, _(
        'isolated and nohz_full pCPUs (no banned CPUs set in %s)') % source


def _parse_cpu_list_or_none(text):
    try:
        return hardware.parse_cpu_spec(text.strip())
    except exception.InvalidCPUSpec:
        return None


def check_irqbalance(facts, dedicated=None):
    name = 'irq.irqbalance'
    pids = facts.pids_named(('irqbalance',))
    ban_fix = _(
        'stop it (systemctl disable --now irqbalance), or ban the dedicated '
        'pCPUs: IRQBALANCE_BANNED_CPULIST=%s in /etc/default/irqbalance '
        '(Debian/Ubuntu) or /etc/sysconfig/irqbalance, then systemctl '
        'restart irqbalance') % (
        _spec(dedicated) if dedicated is not None
        else _('<[compute] cpu_dedicated_set>'))
    if pids is None:
        return _unread(name, WARN, _(
            'the process list in /proc: whether irqbalance runs is unknown'),
            _read_fix('/proc/<pid>/comm'))
    if not pids:
        return CheckResult(name, OK, _('irqbalance is not running'), '')
    pid = pids[0]
    running = _('irqbalance is running (pid %d)') % pid
    if dedicated is None:
        return CheckResult(name, WARN, running + _(
            ' and may move IRQs onto pCPUs guests are pinned to '
            '([compute] cpu_dedicated_set is unset)'), ban_fix)
    banned, source = irqbalance_banned_cpus(facts, pid)
    if banned is None:
        return CheckResult(name, WARN, running + _(
            '; cannot read which pCPUs it bans: %s') % source, ban_fix,
            unknown=True)
    missing = dedicated - banned
    if missing:
        return CheckResult(name, WARN, running + _(
            ' and may move IRQs onto dedicated pCPUs %(m)s (it bans '
            '%(b)s: %(src)s)') % {'m': _spec(missing), 'b': _spec(banned),
                                  'src': source}, ban_fix)
    return CheckResult(name, OK, running + _(
        ' and keeps IRQs off the dedicated pCPUs: %s') % source, '')


def check_irq_affinity(facts, dedicated):
    name = 'irq.affinity'
    if dedicated is None:
        return CheckResult(name, WARN, _(
            'cannot compare: [compute] cpu_dedicated_set is unset'), _(
            'set [compute] cpu_dedicated_set'))
    affinities = facts.irq_affinities()
    if affinities is None:
        return _unread(name, WARN, _('/proc/irq: IRQ affinities unknown'),
                       _read_fix('/proc/irq'))
    hits = sorted(irq for irq, cpus in affinities.items()
                  if cpus and cpus & dedicated)
    unreadable = sorted(irq for irq, cpus in affinities.items()
                        if cpus is None)
    default = facts.cpu_list('proc/irq/default_smp_affinity_list')
    if default is None:
        mask = facts.read('proc/irq/default_smp_affinity')
        default = host_facts.parse_cpu_mask(mask) if mask else None
    problems = []
    if hits:
        problems.append(_('IRQs %(irqs)s may run on dedicated pCPUs') % {
            'irqs': _irq_list(hits)})
    if default is None:
        problems.append(_('cannot read /proc/irq/default_smp_affinity'))
    elif default & dedicated:
        problems.append(_('new IRQs default to %s') % _spec(default))
    if unreadable:
        problems.append(_('cannot read the affinity of IRQs %s') %
                        _irq_list(unreadable))
    fix = _('write the housekeeping pCPUs to /proc/irq/*/smp_affinity_list '
            'and /proc/irq/default_smp_affinity (or irqaffinity= on the '
            'kernel command line)')
    if problems:
        return CheckResult(name, WARN, '; '.join(problems), fix,
                           unknown=default is None or bool(unreadable))
    return CheckResult(name, OK, _('no IRQ may run on %s') % _spec(dedicated),
                       '')


def _irq_list(irqs):
    shown = ','.join(str(irq) for irq in irqs[:8])
    if len(irqs) > 8:
        shown += _(',... (%d in all)') % len(irqs)
    return shown


def check_smt(facts, dedicated):
    name = 'cpu.smt_siblings'
    online = facts.online_cpus()
    cpus = dedicated if dedicated is not None else online
    if not cpus:
        return _unread(name, WARN, _(
            '/sys/devices/system/cpu/online: which pCPUs to inspect is '
            'unknown'), _read_fix('/sys/devices/system/cpu/online'))
    shared = {}
    unreadable = set()
    for cpu in sorted(cpus):
        siblings = facts.thread_siblings(cpu)
        if siblings is None:
            unreadable.add(cpu)
            continue
        # An offline sibling is no sibling (unknown online: keep them all).
        if online is not None:
            siblings &= online | {cpu}
        if len(siblings) > 1:
            shared[cpu] = siblings - {cpu}
    if shared:
        return CheckResult(name, WARN, _(
            'dedicated pCPUs share cores with SMT siblings: %s') % ', '.join(
                '%d~%s' % (cpu, _spec(sib)) for cpu, sib in
                sorted(shared.items())), _(
            'disable SMT (nosmt, or echo off > '
            '/sys/devices/system/cpu/smt/control), or keep siblings idle '
            'with hw:cpu_thread_policy=isolate'))
    if unreadable:
        return _unread(name, WARN, _(
            'the SMT siblings of pCPUs %s (/sys/devices/system/cpu/cpuN/'
            'topology/thread_siblings_list)') % _spec(unreadable),
            _read_fix('/sys/devices/system/cpu/cpuN/topology'))
    return CheckResult(name, OK, _('no dedicated pCPU has an online SMT '
                                   'sibling'), '')


# The /proc/cpuinfo flags a real-time guest's timer needs from the host
# CPU: the TSC deadline timer (the guest's "tsc-deadline" CPU feature, which
# real-time guests require: without it libvirt refuses to start them) and a
# constant-rate TSC (its deadlines stay valid across frequency changes).
TSC_FLAGS = ('tsc_deadline_timer', 'constant_tsc')


def check_tsc(facts):
    name = 'cpu.tsc'
    flags = facts.cpuinfo_flags()
    fix = _('run real-time guests on a host whose CPUs have the TSC '
            'deadline timer and a constant TSC (any x86 CPU since Intel '
            'Haswell / AMD Zen; check the BIOS does not hide them)')
    if flags is None:
        return _unread(name, WARN, _(
            '/proc/cpuinfo: whether the CPUs have the TSC deadline timer '
            'real-time guests need is unknown'), _read_fix('/proc/cpuinfo'))
    if not flags:
        return CheckResult(name, WARN, _(
            'no x86 CPU flags in /proc/cpuinfo: real-time guests need the '
            'TSC deadline timer (tsc-deadline)'), fix)
    missing = {}
    for cpu, cpu_flags in sorted(flags.items()):
        for flag in TSC_FLAGS:
            if flag not in cpu_flags:
                missing.setdefault(flag, set()).add(cpu)
    if missing:
        return CheckResult(name, WARN, _(
            '%s: real-time guests need the TSC deadline timer for their '
            'timer interrupts (libvirt refuses to start them without '
            'tsc-deadline) and a constant-rate TSC') % '; '.join(
                _('%(flag)s missing on CPUs %(cpus)s') % {
                    'flag': flag, 'cpus': _spec(cpus)}
                for flag, cpus in sorted(missing.items())), fix)
    return CheckResult(name, OK, _('every CPU has %s') % ' and '.join(
        TSC_FLAGS), '')


# -- memory -----------------------------------------------------------------

def _format_bytes(value):
    if value == host_facts.UNLIMITED:
        return 'unlimited'
    return '%d KiB' % (value // 1024)


def check_memlock(facts):
    """Can the libvirt daemon lift QEMU's RLIMIT_MEMLOCK for <locked/>?

    libvirt raises the limit to unlimited before exec'ing QEMU. That needs
    CAP_SYS_RESOURCE in the daemon's effective set unless its own hard
    limit is already unlimited. A daemon that cannot be found or read is
    FAIL too (unknown): nothing says the guest's memory can be locked.
    """
    name = 'memory.locking'
    daemons = '/'.join(host_facts.LIBVIRT_DAEMONS)
    pids = facts.pids_named(host_facts.LIBVIRT_DAEMONS)
    if pids is None:
        return _unread(name, FAIL, _(
            'the process list in /proc: whether the libvirt daemon (%s) can '
            'lock guest memory is unknown') % daemons,
            _read_fix('/proc/<pid>/status', '/proc/<pid>/limits'))
    if not pids:
        return CheckResult(name, FAIL, _(
            'no local libvirt daemon (%s) found in /proc: whether it can '
            'lock guest memory is unknown') % daemons, _(
            'start libvirtd (systemctl start libvirtd, or virtqemud with '
            'the modular daemons) and run check-host on the compute host '
            'itself'), unknown=True)
    pid = pids[0]
    comm = facts.read('proc/%d/comm' % pid)
    effective = facts.capabilities(pid, 'CapEff')
    bounding = facts.capabilities(pid, 'CapBnd')
    limits = facts.memlock_limits(pid)
    cap = host_facts.CAP_SYS_RESOURCE
    cap_text = (_('capabilities unknown (cannot read /proc/%d/status)') % pid
                if effective is None else
                _('CAP_SYS_RESOURCE effective') if cap in effective else
                _('CAP_SYS_RESOURCE in bounding set but not effective')
                if bounding is not None and cap in bounding else
                _('no CAP_SYS_RESOURCE (not even in its bounding set)')
                if bounding is not None else
                _('no CAP_SYS_RESOURCE'))
    limit_text = (_('RLIMIT_MEMLOCK soft %(s)s, hard %(h)s') % {
        's': _format_bytes(limits[0]), 'h': _format_bytes(limits[1])}
        if limits else
        _('RLIMIT_MEMLOCK unknown (cannot read /proc/%d/limits)') % pid)
    found = '%s (pid %d): %s; %s' % (comm, pid, cap_text, limit_text)
    hard_unlimited = limits is not None and limits[1] == host_facts.UNLIMITED
    if (effective is not None and cap in effective) or hard_unlimited:
        return CheckResult(name, OK, found, '')
    if effective is None or limits is None:
        return CheckResult(name, FAIL, found + _(
            ': whether it can lift QEMU\'s RLIMIT_MEMLOCK for <locked/> is '
            'unknown'), _read_fix('/proc/%d/status' % pid,
                                  '/proc/%d/limits' % pid), unknown=True)
    return CheckResult(name, FAIL, found + _(
        ': it cannot lift QEMU\'s RLIMIT_MEMLOCK for <locked/>'), MEMLOCK_FIX)


def check_hugepages(facts):
    name = 'memory.hugepages'
    fix = _(
        'reserve huge pages per node (hugepagesz=1G hugepages=N on the kernel '
        'command line, or /sys/devices/system/node/nodeN/hugepages/*/'
        'nr_hugepages)')
    nodes = facts.numa_nodes()
    if nodes is None:
        # A kernel without NUMA has no node directories: the global pool.
        pools = [(None, facts.hugepages())]
    else:
        pools = [(node, facts.node_hugepages(node)) for node in nodes]
    if all(pages is None for _node, pages in pools):
        return _unread(name, WARN, _(
            '/sys/devices/system/node/node*/hugepages (nor '
            '/sys/kernel/mm/hugepages): huge pages unknown'),
            _read_fix('/sys/devices/system/node', '/sys/kernel/mm/hugepages'))
    parts = []
    total = 0
    unread = False
    for node, pages in pools:
        where = _('node %d') % node if node is not None else _('host')
        if pages is None:
            unread = True
            parts.append(_('%s: cannot read') % where)
            continue
        configured = {size: counts for size, counts in pages.items()
                      if counts[0]}
        total += sum(counts[0] for counts in configured.values())
        parts.append('%s: %s' % (where, ', '.join(
            '%d x %d KiB (%d free)' % (counts[0], size, counts[1])
            for size, counts in sorted(configured.items())) or _('none')))
    found = '; '.join(parts)
    if unread:
        return CheckResult(name, WARN, found, _read_fix(
            '/sys/devices/system/node/nodeN/hugepages'), unknown=True)
    if total:
        return CheckResult(name, OK, found, '')
    return CheckResult(name, WARN, found + _(
        ': guests get small pages, and hw:mem_page_size=large cannot fit'),
        fix)


def _mm_readable(facts):
    """/sys/kernel/mm is there: a feature directory missing below it is
    not built into the kernel (rather than unreadable).
    """
    return facts.is_dir('sys/kernel/mm')


def check_thp(facts):
    name = 'memory.thp'
    path = 'sys/kernel/mm/transparent_hugepage/enabled'
    mode = facts.bracketed_choice(path)
    if mode is None:
        if _mm_readable(facts) and not facts.exists(
                'sys/kernel/mm/transparent_hugepage'):
            return CheckResult(name, OK, _('transparent huge pages not built '
                                           'in'), '')
        return _unread(name, WARN, '/' + path, _read_fix('/' + path))
    if mode == 'always':
        return CheckResult(name, WARN, _(
            'enabled=always: khugepaged compaction stalls guests'), _(
            'echo never > /sys/kernel/mm/transparent_hugepage/enabled (or '
            'transparent_hugepage=never on the kernel command line)'))
    return CheckResult(name, OK, _('enabled=%s') % mode, '')


def check_ksm(facts):
    name = 'memory.ksm'
    run = facts.read('sys/kernel/mm/ksm/run')
    if run is None:
        if _mm_readable(facts) and not facts.exists('sys/kernel/mm/ksm'):
            return CheckResult(name, OK, _('KSM not built in'), '')
        return _unread(name, WARN, '/sys/kernel/mm/ksm/run',
                       _read_fix('/sys/kernel/mm/ksm/run'))
    if run.strip() == '1':
        return CheckResult(name, WARN, _(
            'KSM is merging pages (run=1); real-time guests opt out with '
            '<nosharepages/>, but ksmd still competes for CPU'), _(
            'echo 0 > /sys/kernel/mm/ksm/run (and disable ksmtuned)'))
    return CheckResult(name, OK, _('run=%s') % run.strip(), '')


# -- timers and power -------------------------------------------------------

def _cpus_to_inspect(facts, dedicated):
    return sorted(dedicated if dedicated is not None
                  else facts.online_cpus() or {0})


def _missing_cpu_dirs(facts, cpus):
    return {cpu for cpu in cpus if not facts.cpu_dir_readable(cpu)}


def check_cpufreq(facts, dedicated):
    name = 'power.cpufreq_governor'
    cpus = _cpus_to_inspect(facts, dedicated)
    missing = _missing_cpu_dirs(facts, cpus)
    if missing:
        return _unread(name, WARN, _(
            '/sys/devices/system/cpu/cpuN of pCPUs %s: governors '
            'unknown') % _spec(missing),
            _read_fix('/sys/devices/system/cpu/cpuN/cpufreq'))
    governors = {}
    unreadable = set()
    for cpu in cpus:
        governor = facts.cpu_file(cpu, 'cpufreq/scaling_governor')
        if governor is not None:
            governors.setdefault(governor, set()).add(cpu)
        elif facts.is_dir('sys/devices/system/cpu/cpu%d/cpufreq' % cpu):
            unreadable.add(cpu)
    if unreadable:
        return _unread(name, WARN, _(
            'the scaling_governor of pCPUs %s') % _spec(unreadable),
            _read_fix('/sys/devices/system/cpu/cpuN/cpufreq/'
                      'scaling_governor'))
    if not governors:
        return CheckResult(name, OK, _(
            'no cpufreq scaling exposed (frequency set by the platform)'), '')
    found = ', '.join('%s on %s' % (gov, _spec(cpus))
                      for gov, cpus in sorted(governors.items()))
    if set(governors) == {'performance'}:
        return CheckResult(name, OK, found, '')
    return CheckResult(name, WARN, found + _(
        ': frequency changes add latency'), _(
        'use the performance governor on dedicated pCPUs (cpupower '
        'frequency-set -g performance)'))


def check_cstates(facts, dedicated):
    name = 'power.cstates'
    deep = {}
    seen = False
    unreadable = set()
    for cpu in _cpus_to_inspect(facts, dedicated):
        states = facts.idle_states(cpu)
        if states is None:
            unreadable.add(cpu)
            continue
        for state, latency, disabled in states:
            seen = True
            if latency > MAX_IDLE_LATENCY_US and not disabled:
                deep.setdefault('%s (%d us)' % (state, latency),
                                set()).add(cpu)
    fix = _(
        'disable them (echo 1 > /sys/devices/system/cpu/cpuN/cpuidle/'
        'stateK/disable, or processor.max_cstate=1 '
        'intel_idle.max_cstate=0)')
    if deep:
        return CheckResult(name, WARN, _(
            'idle states with exit latency above %(max)d us enabled: '
            '%(states)s') % {'max': MAX_IDLE_LATENCY_US, 'states': ', '.join(
                '%s on %s' % (state, _spec(cpus))
                for state, cpus in sorted(deep.items()))}, fix)
    if unreadable:
        return _unread(name, WARN, _(
            'the idle states of pCPUs %s (/sys/devices/system/cpu/cpuN/'
            'cpuidle)') % _spec(unreadable),
            _read_fix('/sys/devices/system/cpu/cpuN/cpuidle'))
    if not seen:
        return CheckResult(name, OK, _('no cpuidle states visible'), '')
    return CheckResult(name, OK, _(
        'every enabled idle state exits within %d us') % MAX_IDLE_LATENCY_US,
        '')


# -- libvirt ----------------------------------------------------------------

def _version_text(number):
    return '%d.%d.%d' % (number // 1000000, number // 1000 % 1000,
                         number % 1000)


def check_libvirt(host, virt_type):
    """libvirt.connection, libvirt.version and libvirt.virt_type."""
    uri = host.uri
    try:
        version = host.get_version()
        is_test = host.is_test_driver()
        domain_types = host.get_capabilities().domain_types('hvm')
    except exception.NovaException as e:
        return [
            CheckResult('libvirt.connection', FAIL, _(
                '%(uri)s: %(err)s') % {'uri': uri, 'err': e}, unknown=True,
                fix=_(
                'start libvirtd (systemctl start libvirtd, or virtqemud with '
                'the modular daemons) or fix [libvirt] connection_uri')),
            CheckResult('libvirt.version', FAIL, _('unknown (no connection)'),
                        '', unknown=True),
            CheckResult('libvirt.virt_type', FAIL, _(
                '%s: unknown (no connection)') % virt_type, '',
                unknown=True)]
    if is_test:
        results = [CheckResult('libvirt.connection', FAIL, _(
            "%s: libvirt's embedded test driver, not a compute host's "
            "libvirt (nothing on this host is checked through it)") % uri, _(
            'set [libvirt] connection_uri to the hypervisor URI '
            '(qemu:///system), or leave it empty to use the one for '
            '[libvirt] virt_type'))]
    else:
        results = [CheckResult('libvirt.connection', OK, uri, '')]
    text = _version_text(version)
    minimum = '%d.%d.%d' % MIN_LIBVIRT_VERSION
    if version < (MIN_LIBVIRT_VERSION[0] * 1000000 +
                  MIN_LIBVIRT_VERSION[1] * 1000 + MIN_LIBVIRT_VERSION[2]):
        results.append(CheckResult('libvirt.version', FAIL, _(
            '%(v)s is older than %(m)s (no <vcpusched>)') % {
                'v': text, 'm': minimum}, _('upgrade libvirt')))
    else:
        results.append(CheckResult('libvirt.version', OK, text, ''))
    results.append(_virt_type_result(virt_type, is_test, domain_types))
    results.extend(check_guests(host))
    return results


def check_guests(host):
    """guests.pinning and guests.confined: what the defined domains (ours
    or not) hold, from their own XML.

    FAIL when a pCPU that one of our guests holds is also allowed to
    another domain (a double pin: for example two nova-realtime processes
    with different lock paths, or a guest re-pinned by hand); WARN for
    domains that may run on every host CPU, domains that could not be read,
    and domains left behind by a boot that died.
    """
    try:
        usage = host.get_host_usage()
    except exception.NovaException as e:
        return [CheckResult('guests.pinning', WARN, _(
            'cannot read the defined domains: %s') % e, '', unknown=True)]
    if usage.conflicts:
        pinning = CheckResult('guests.pinning', FAIL, '; '.join(
            _('pCPU %(cpu)d: %(names)s') % {
                'cpu': cpu, 'names': ', '.join(names)}
            for cpu, names in sorted(usage.conflicts.items())), _(
            'delete or re-pin one guest of each pair (nova-realtime '
            'delete NAME); give every nova-realtime process on the host '
            'the same [oslo_concurrency] lock_path'))
    else:
        pinning = CheckResult('guests.pinning', OK, _(
            'no pCPU held by a real-time guest is shared (%d domains)') %
            len(usage.domains), '')
    others = []
    for domain in usage.unconfined:
        others.append(_('%(name)s may run on every host CPU (%(what)s)') % {
            'name': domain.name, 'what': ', '.join(domain.unconfined)})
    for domain in usage.unreadable:
        others.append(_('%(name)s could not be read completely') % {
            'name': domain.name})
    for domain in usage.orphans:
        others.append(_('%s was left defined by a boot that died') %
                      domain.name)
    if others:
        confined = CheckResult('guests.confined', WARN, '; '.join(others), _(
            'confine other guests to the shared CPUs (<vcpu cpuset>, '
            '<emulatorpin>, or [compute] cpu_shared_set for Nova guests); '
            'remove left-over domains with nova-realtime delete NAME'))
    else:
        confined = CheckResult('guests.confined', OK, _(
            'every domain is pinned or confined'), '')
    return [pinning, confined]


def _virt_type_result(virt_type, is_test, domain_types):
    name = 'libvirt.virt_type'
    if is_test:
        return CheckResult(name, WARN, _(
            "libvirt's test driver: no guest process runs, nothing here is "
            "real time"), _('use qemu:///system on a compute host'))
    if virt_type not in domain_types:
        return CheckResult(name, FAIL, _(
            '%(t)s, but libvirt offers only %(have)s') % {
                't': virt_type, 'have': ', '.join(domain_types) or '-'}, _(
            'set [libvirt] virt_type to one of those (kvm needs /dev/kvm)'))
    if virt_type == 'kvm':
        return CheckResult(name, OK, 'kvm', '')
    return CheckResult(name, WARN, _(
        '%s: emulated CPUs (TCG) run, but no latency is guaranteed') %
        virt_type, _('use [libvirt] virt_type=kvm in production'))


# -- running them -----------------------------------------------------------

# The id of every check run_checks makes, in its order: the fixed list that
# names in [realtime] advertise_gating_warnings are judged against (whether
# or not a check ran on a given pass: without libvirt, the libvirt and
# guests checks do not).
CHECK_IDS = (
    'kernel.preempt_rt',
    'kernel.sched_rt_runtime_us',
    'kernel.rt_group_sched',
    'compute.cpu_dedicated_set',
    'cpu.isolcpus',
    'cpu.nohz_full',
    'cpu.rcu_nocbs',
    'irq.irqbalance',
    'irq.affinity',
    'cpu.smt_siblings',
    'cpu.tsc',
    'memory.locking',
    'memory.hugepages',
    'memory.thp',
    'memory.ksm',
    'power.cpufreq_governor',
    'power.cstates',
    'kernel.timer_migration',
    'libvirt.connection',
    'libvirt.version',
    'libvirt.virt_type',
    'guests.pinning',
    'guests.confined',
)


def run_checks(facts, dedicated, host, virt_type):
    """Every check, in a fixed order (CHECK_IDS)."""
    results = [
        check_preempt_rt(facts),
        check_sched_rt_runtime(facts),
        check_rt_group_sched(facts),
        check_dedicated_set(facts, dedicated),
        check_isolcpus(facts, dedicated),
        check_nohz_full(facts, dedicated),
        check_rcu_nocbs(facts, dedicated),
        check_irqbalance(facts, dedicated),
        check_irq_affinity(facts, dedicated),
        check_smt(facts, dedicated),
        check_tsc(facts),
        check_memlock(facts),
        check_hugepages(facts),
        check_thp(facts),
        check_ksm(facts),
        check_cpufreq(facts, dedicated),
        check_cstates(facts, dedicated),
        check_timer_migration(facts),
    ]
    results.extend(check_libvirt(host, virt_type))
    return results


def host_is_ready(results):
    return all(result.status != FAIL for result in results)


def libvirt_unreachable(results):
    """Whether the libvirt checks could not connect (the report is then
    incomplete: check-host exits 1, not 3).
    """
    return any(result.id == 'libvirt.connection' and result.status == FAIL
               and result.unknown for result in results)


def format_text(results):
    lines = [result.format() for result in results]
    counts = collections.Counter(result.status for result in results)
    lines.append(_('%(verdict)s: %(ok)d OK, %(warn)d WARN, %(fail)d FAIL') % {
        'verdict': (_('READY for real-time guests') if host_is_ready(results)
                    else _('NOT READY for real-time guests')),
        'ok': counts[OK], 'warn': counts[WARN], 'fail': counts[FAIL]})
    return '\n'.join(lines) + '\n'


def format_json(results):
    return json.dumps({'ready': host_is_ready(results),
                       'checks': [result.to_dict() for result in results]},
                      indent=2, sort_keys=True) + '\n'


# -- driver preflight -------------------------------------------------------

def guest_needs(guest):
    """(needs an RT scheduling budget, needs locked memory) for a config."""
    tune = guest.cputune
    needs_rt = tune is not None and any(
        sched.scheduler in vconfig.SCHEDULERS_WITH_PRIORITY
        for sched in tune.vcpusched)
    # A <memtune> hard limit becomes QEMU's memory-lock limit too: libvirt
    # must raise RLIMIT_MEMLOCK for it, which takes the same capability.
    needs_lock = (guest.membacking is not None and
                  bool(guest.membacking.locked)) or (
        getattr(guest, 'memtune', None) is not None and
        guest.memtune.hard_limit is not None)
    return needs_rt, needs_lock


def preflight(guest, facts):
    """Raise what libvirt would fail with when starting ``guest`` here.

    Only the two faults that make libvirt refuse a real-time guest are
    checked: no RT budget for SCHED_FIFO vCPUs (RealtimeBudgetUnavailable)
    and no way to lock its memory (MemoryLockingUnavailable). When both
    apply, the first is raised and its message names both. A FAIL whose
    fact could not be read (``unknown``) refuses nothing: libvirt decides.
    """
    needs_rt, needs_lock = guest_needs(guest)
    failures = []
    if needs_rt:
        result = check_sched_rt_runtime(facts)
        if result.status == FAIL and not result.unknown:
            failures.append((exception.RealtimeBudgetUnavailable,
                             RT_BUDGET_REASON, result))
    if needs_lock:
        result = check_memlock(facts)
        if result.status == FAIL and not result.unknown:
            failures.append((exception.MemoryLockingUnavailable,
                             MEMLOCK_REASON, result))
    if not failures:
        return
    exc_class = failures[0][0]
    raise exc_class(
        reason='; '.join(_('%(reason)s (preflight %(id)s: %(found)s)') % {
            'reason': reason, 'id': result.id, 'found': result.found}
            for _cls, reason, result in failures),
        fix='; '.join(result.fix for _cls, _r, result in failures))
