"""Is this host ready for real-time guests? One verdict per check.

Most real-time failures are host setup, not Nova. Each check reads the host
(``HostFacts``: /proc and /sys below a root directory, so unit tests feed a
fake tree) and returns a ``CheckResult``: a stable id (quoted by the docs),
OK / WARN / FAIL, what it found and the fix. FAIL means a real-time guest
will not start here; WARN means it starts but its latency is not what real
time promises.

``nova-realtime check-host`` prints them all; ``LibvirtDriver.spawn`` runs
``preflight()`` -- only the checks whose failure makes libvirt refuse the
guest -- before defining a real-time guest.
"""

import collections
import json

from nova import exception
from nova.i18n import _
from nova.virt import hardware
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
                                         'id status found fix')):
    """One verdict. ``fix`` is empty when there is nothing to do."""

    def format(self):
        line = '%-4s %-28s %s' % (self.status, self.id, self.found)
        if self.fix and self.status != OK:
            line += ' | fix: %s' % self.fix
        return line

    def to_dict(self):
        return dict(self._asdict())


def _spec(cpus):
    return hardware.format_cpu_spec(cpus) if cpus else '(none)'


# -- kernel -----------------------------------------------------------------

def check_preempt_rt(facts):
    flag = facts.read('sys/kernel/realtime')
    version = facts.sysctl('kernel.version') or ''
    release = facts.sysctl('kernel.osrelease') or '?'
    if flag == '1' or 'PREEMPT_RT' in version:
        return CheckResult('kernel.preempt_rt', OK, _(
            'kernel %s is PREEMPT_RT') % release, '')
    return CheckResult('kernel.preempt_rt', WARN, _(
        'kernel %(rel)s (%(ver)s) is not PREEMPT_RT: guests start, but host '
        'kernel sections stay non-preemptible') % {
            'rel': release, 'ver': version.strip()},
        _('boot a PREEMPT_RT kernel (Debian: linux-image-rt-amd64)'))


def rt_group_sched_dir(facts):
    return facts.cpu_cgroup_dir()


def check_sched_rt_runtime(facts):
    value = facts.sysctl('kernel.sched_rt_runtime_us')
    name = 'kernel.sched_rt_runtime_us'
    if value is None:
        return CheckResult(name, WARN, _('not readable'), RT_BUDGET_FIX)
    if value.strip() == '-1':
        return CheckResult(name, OK, _('-1: no RT throttling'), '')
    if rt_group_sched_dir(facts) is not None:
        return CheckResult(name, FAIL, _(
            '%s with RT group scheduling: libvirt cannot give vCPU threads '
            'SCHED_FIFO ("Cannot set scheduler parameters")') % value,
            RT_BUDGET_FIX)
    return CheckResult(name, WARN, _(
        '%s: RT vCPU threads are throttled for the rest of each '
        'kernel.sched_rt_period_us') % value, RT_BUDGET_FIX)


def check_rt_group_sched(facts):
    """RT group scheduling and the RT budget of libvirt's machine cgroup."""
    name = 'kernel.rt_group_sched'
    base = rt_group_sched_dir(facts)
    if base is None:
        return CheckResult(name, OK, _(
            'no RT group scheduling (no cpu.rt_runtime_us): vCPU threads use '
            'the global RT budget'), '')
    machine = None
    for sub in ('machine', 'machine.slice'):
        machine = facts.read(base, sub, 'cpu.rt_runtime_us')
        if machine is not None:
            where = '/%s/%s' % (base, sub)
            break
    found = _('enabled; libvirt machine cgroup %s') % (
        _('%(dir)s cpu.rt_runtime_us=%(v)s') % {'dir': where, 'v': machine}
        if machine is not None else _('not created yet'))
    runtime = facts.sysctl('kernel.sched_rt_runtime_us')
    if runtime is not None and runtime.strip() == '-1':
        return CheckResult(name, OK, found + _(
            ', not enforced since kernel.sched_rt_runtime_us=-1'), '')
    return CheckResult(name, FAIL, found + _(
        ', and the per-guest cgroups libvirt creates get no RT runtime'),
        RT_BUDGET_FIX)


def check_timer_migration(facts):
    name = 'kernel.timer_migration'
    value = facts.sysctl(name)
    fix = _('sysctl -w kernel.timer_migration=0')
    if value is None:
        return CheckResult(name, OK, _('not present in this kernel'), '')
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
            'host') % _spec(online), _(
            'set [compute] cpu_dedicated_set to the isolated pCPUs'))
    if online is not None and not dedicated <= online:
        return CheckResult(name, WARN, _(
            '%(set)s includes offline pCPUs %(off)s') % {
                'set': _spec(dedicated), 'off': _spec(dedicated - online)},
            _('list only online pCPUs (online: %s)') % _spec(online))
    return CheckResult(name, OK, _spec(dedicated), '')


def _isolation_check(facts, dedicated, param, why):
    name = 'cpu.%s' % param
    params = facts.cmdline()
    fix = _('add %(p)s=%(set)s to the kernel command line') % {
        'p': param, 'set': _spec(dedicated) if dedicated is not None
        else _('<[compute] cpu_dedicated_set>')}
    if dedicated is None:
        return CheckResult(name, WARN, _(
            'cannot compare: [compute] cpu_dedicated_set is unset'), fix)
    if param not in params:
        return CheckResult(name, WARN, _('%(p)s not set: %(why)s') % {
            'p': param, 'why': why}, fix)
    value = params[param]
    if value is None:  # bare rcu_nocbs: every CPU
        covered = facts.online_cpus() or set()
    elif param == 'isolcpus':
        covered = host_facts.parse_isolcpus(value)
    else:
        covered = host_facts.parse_kernel_cpu_list(value)
    missing = dedicated - covered
    if missing:
        return CheckResult(name, WARN, _(
            '%(p)s=%(v)s leaves dedicated pCPUs %(m)s out: %(why)s') % {
                'p': param, 'v': value, 'm': _spec(missing), 'why': why},
            fix)
    return CheckResult(name, OK, _('%(p)s=%(v)s covers %(set)s') % {
        'p': param, 'v': value, 'set': _spec(dedicated)}, '')


def check_isolcpus(facts, dedicated):
    return _isolation_check(facts, dedicated, 'isolcpus', _(
        'the scheduler may run host tasks there'))


def check_nohz_full(facts, dedicated):
    return _isolation_check(facts, dedicated, 'nohz_full', _(
        'the scheduler tick keeps interrupting vCPUs'))


def check_rcu_nocbs(facts, dedicated):
    return _isolation_check(facts, dedicated, 'rcu_nocbs', _(
        'RCU callbacks run there'))


def check_irqbalance(facts):
    name = 'irq.irqbalance'
    pids = facts.pids_named(('irqbalance',))
    if pids:
        return CheckResult(name, WARN, _(
            'irqbalance is running (pid %d) and may move IRQs onto '
            'dedicated pCPUs') % pids[0], _(
            'stop it, or ban the dedicated pCPUs '
            '(IRQBALANCE_BANNED_CPULIST in /etc/default/irqbalance)'))
    return CheckResult(name, OK, _('irqbalance is not running'), '')


def check_irq_affinity(facts, dedicated):
    name = 'irq.affinity'
    if dedicated is None:
        return CheckResult(name, WARN, _(
            'cannot compare: [compute] cpu_dedicated_set is unset'), _(
            'set [compute] cpu_dedicated_set'))
    hits = sorted(irq for irq, cpus in facts.irq_affinities().items()
                  if cpus & dedicated)
    default = facts.cpu_list('proc/irq/default_smp_affinity_list')
    if default is None:
        mask = facts.read('proc/irq/default_smp_affinity')
        default = _mask_cpus(mask) if mask else set()
    problems = []
    if hits:
        shown = ','.join(str(irq) for irq in hits[:8])
        if len(hits) > 8:
            shown += _(',... (%d in all)') % len(hits)
        problems.append(_('IRQs %(irqs)s may run on dedicated pCPUs') % {
            'irqs': shown})
    if default & dedicated:
        problems.append(_('new IRQs default to %s') % _spec(default))
    fix = _('write the housekeeping pCPUs to /proc/irq/*/smp_affinity_list '
            'and /proc/irq/default_smp_affinity (or irqaffinity= on the '
            'kernel command line)')
    if problems:
        return CheckResult(name, WARN, '; '.join(problems), fix)
    return CheckResult(name, OK, _('no IRQ may run on %s') % _spec(dedicated),
                       '')


def _mask_cpus(mask):
    try:
        value = int(mask.replace(',', ''), 16)
    except ValueError:
        return set()
    return {bit for bit in range(value.bit_length()) if value >> bit & 1}


def check_smt(facts, dedicated):
    name = 'cpu.smt_siblings'
    cpus = dedicated if dedicated is not None else (facts.online_cpus()
                                                    or set())
    online = facts.online_cpus() or set()
    shared = {}
    for cpu in sorted(cpus):
        siblings = (facts.thread_siblings(cpu) or {cpu}) & (online or {cpu})
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
    return CheckResult(name, OK, _('no dedicated pCPU has an online SMT '
                                   'sibling'), '')


# -- memory -----------------------------------------------------------------

def libvirt_daemon_pid(facts):
    pids = facts.pids_named(host_facts.LIBVIRT_DAEMONS)
    return pids[0] if pids else None


def _format_bytes(value):
    if value == host_facts.UNLIMITED:
        return 'unlimited'
    return '%d KiB' % (value // 1024)


def check_memlock(facts):
    """Can the libvirt daemon lift QEMU's RLIMIT_MEMLOCK for <locked/>?

    libvirt raises the limit to unlimited before exec'ing QEMU. That needs
    CAP_SYS_RESOURCE in the daemon's effective set unless its own hard
    limit is already unlimited.
    """
    name = 'memory.locking'
    pid = libvirt_daemon_pid(facts)
    if pid is None:
        return CheckResult(name, WARN, _(
            'no local libvirt daemon (%s) found in /proc') % '/'.join(
                host_facts.LIBVIRT_DAEMONS), _(
            'run this on the compute host, with libvirtd or virtqemud up'))
    comm = facts.read('proc/%d/comm' % pid)
    effective = facts.capabilities(pid, 'CapEff') or set()
    bounding = facts.capabilities(pid, 'CapBnd') or set()
    limits = facts.memlock_limits(pid)
    cap = host_facts.CAP_SYS_RESOURCE
    cap_text = (_('CAP_SYS_RESOURCE effective') if cap in effective else
                _('CAP_SYS_RESOURCE in bounding set but not effective')
                if cap in bounding else
                _('no CAP_SYS_RESOURCE (not even in its bounding set)'))
    limit_text = (_('RLIMIT_MEMLOCK soft %(s)s, hard %(h)s') % {
        's': _format_bytes(limits[0]), 'h': _format_bytes(limits[1])}
        if limits else _('RLIMIT_MEMLOCK unknown'))
    found = '%s (pid %d): %s; %s' % (comm, pid, cap_text, limit_text)
    hard_unlimited = limits is not None and limits[1] == host_facts.UNLIMITED
    if cap in effective or hard_unlimited:
        return CheckResult(name, OK, found, '')
    return CheckResult(name, FAIL, found + _(
        ': it cannot lift QEMU\'s RLIMIT_MEMLOCK for <locked/>'), MEMLOCK_FIX)


def check_hugepages(facts):
    name = 'memory.hugepages'
    nodes = facts.numa_nodes() or [0]
    parts = []
    total = 0
    for node in nodes:
        pages = facts.node_hugepages(node)
        configured = {size: counts for size, counts in pages.items()
                      if counts[0]}
        total += sum(counts[0] for counts in configured.values())
        parts.append(_('node %(n)d: %(p)s') % {'n': node, 'p': ', '.join(
            '%d x %d KiB (%d free)' % (counts[0], size, counts[1])
            for size, counts in sorted(configured.items())) or _('none')})
    found = '; '.join(parts)
    if total:
        return CheckResult(name, OK, found, '')
    return CheckResult(name, WARN, found + _(
        ': guests get small pages, and hw:mem_page_size=large cannot fit'), _(
        'reserve huge pages per node (hugepagesz=1G hugepages=N on the kernel '
        'command line, or /sys/devices/system/node/nodeN/hugepages/*/'
        'nr_hugepages)'))


def check_thp(facts):
    name = 'memory.thp'
    mode = facts.bracketed_choice('sys/kernel/mm/transparent_hugepage/'
                                  'enabled')
    if mode is None:
        return CheckResult(name, OK, _('transparent huge pages not built '
                                       'in'), '')
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
        return CheckResult(name, OK, _('KSM not built in'), '')
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


def check_cpufreq(facts, dedicated):
    name = 'power.cpufreq_governor'
    governors = {}
    for cpu in _cpus_to_inspect(facts, dedicated):
        governor = facts.cpu_file(cpu, 'cpufreq/scaling_governor')
        if governor is not None:
            governors.setdefault(governor, set()).add(cpu)
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
    for cpu in _cpus_to_inspect(facts, dedicated):
        for state, latency, disabled in facts.idle_states(cpu):
            seen = True
            if latency > MAX_IDLE_LATENCY_US and not disabled:
                deep.setdefault('%s (%d us)' % (state, latency),
                                set()).add(cpu)
    if not seen:
        return CheckResult(name, OK, _('no cpuidle states visible'), '')
    if deep:
        return CheckResult(name, WARN, _(
            'idle states with exit latency above %(max)d us enabled: '
            '%(states)s') % {'max': MAX_IDLE_LATENCY_US, 'states': ', '.join(
                '%s on %s' % (state, _spec(cpus))
                for state, cpus in sorted(deep.items()))}, _(
            'disable them (echo 1 > /sys/devices/system/cpu/cpuN/cpuidle/'
            'stateK/disable, or processor.max_cstate=1 '
            'intel_idle.max_cstate=0)'))
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
                '%(uri)s: %(err)s') % {'uri': uri, 'err': e}, _(
                'start the libvirt daemon (tools/start-libvirt.sh) or fix '
                '[libvirt] connection_uri')),
            CheckResult('libvirt.version', FAIL, _('unknown (no connection)'),
                        ''),
            CheckResult('libvirt.virt_type', FAIL, _(
                '%s: unknown (no connection)') % virt_type, '')]
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
    return results


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

def run_checks(facts, dedicated, host, virt_type):
    """Every check, in a fixed order."""
    results = [
        check_preempt_rt(facts),
        check_sched_rt_runtime(facts),
        check_rt_group_sched(facts),
        check_dedicated_set(facts, dedicated),
        check_isolcpus(facts, dedicated),
        check_nohz_full(facts, dedicated),
        check_rcu_nocbs(facts, dedicated),
        check_irqbalance(facts),
        check_irq_affinity(facts, dedicated),
        check_smt(facts, dedicated),
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
        sched.scheduler in ('fifo', 'rr') for sched in tune.vcpusched)
    needs_lock = guest.membacking is not None and bool(
        guest.membacking.locked)
    return needs_rt, needs_lock


def preflight(guest, facts):
    """Raise what libvirt would fail with when starting ``guest`` here.

    Only the two faults that make libvirt refuse a real-time guest are
    checked: no RT budget for SCHED_FIFO vCPUs (RealtimeBudgetUnavailable)
    and no way to lock its memory (MemoryLockingUnavailable). When both
    apply, the first is raised and its message names both.
    """
    needs_rt, needs_lock = guest_needs(guest)
    failures = []
    if needs_rt:
        result = check_sched_rt_runtime(facts)
        if result.status == FAIL:
            failures.append((exception.RealtimeBudgetUnavailable,
                             RT_BUDGET_REASON, result))
    if needs_lock:
        result = check_memlock(facts)
        if result.status == FAIL:
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
