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


"""Is this guest really real-time right now? Verified from the running host.

``nova-realtime verify`` compares what a running domain's live XML promises
(``<vcpusched>``, ``<vcpupin>``, ``<vcpu cpuset>``, ``<emulatorpin>``,
``<iothreadpin>``, ``<memoryBacking><locked/>``) with what the kernel says
about its QEMU process right now (``/proc/<pid>/task/<tid>``), and looks at
what else may run on its real-time pCPUs (every thread in /proc, every IRQ
in /proc/irq). It works for any libvirt domain, ours or upstream Nova's:
nothing but the domain XML is read from the domain.

Each check returns a ``host_checks.CheckResult``: a stable id, OK / WARN /
FAIL, what was found, the fix. Unknown is never OK: a fact that cannot be
read makes its check WARN, or FAIL where it guards what the XML promises
(the vCPU policy and affinity, the emulator threads of a real-time guest,
locked memory); ``unknown`` is then set.

Where the vCPU threads are: libvirt's public API gives no thread ids
(virDomainGetVcpus returns the host CPU each vCPU ran on, not its thread);
QEMU's ``query-cpus-fast`` does, but a monitor command through libvirt
taints the domain, which a read-only check must not do. libvirt's own
record of the running domain (``/run/libvirt/qemu/<name>.xml``,
``<vcpus><vcpu id= pid=>``) is read first; QEMU's thread names
(``CPU <n>/KVM``, ``CPU <n>/TCG``, set because libvirt starts QEMU with
``debug-threads=on``) are the fallback. The QEMU pid comes from libvirt's
pid file, its status file, or the QEMU command line (``-name
guest=<name>``), in that order.
"""

import collections
import json
import os
import re

import libvirt
from lxml import etree

from nova import exception
from nova.i18n import _
from nova.virt import hardware
from nova.virt.libvirt import host_checks
from nova.virt.libvirt import host_facts
from nova.virt.libvirt import usage as usage_mod

OK = host_checks.OK
WARN = host_checks.WARN
FAIL = host_checks.FAIL
CheckResult = host_checks.CheckResult

# Where the libvirt QEMU driver (qemu:///system) keeps its pid and status
# files, below --root.
QEMU_RUN_DIR = 'run/libvirt/qemu'

# sched_setscheduler(2) policies as /proc/<pid>/stat field 41 shows them.
SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH = 0, 1, 2, 3
SCHED_IDLE, SCHED_DEADLINE = 5, 6
POLICY_NAMES = {SCHED_OTHER: 'SCHED_OTHER', SCHED_FIFO: 'SCHED_FIFO',
                SCHED_RR: 'SCHED_RR', SCHED_BATCH: 'SCHED_BATCH',
                SCHED_IDLE: 'SCHED_IDLE', SCHED_DEADLINE: 'SCHED_DEADLINE'}
# <vcpusched scheduler=...> -> policy.
SCHEDULERS = {'other': SCHED_OTHER, 'fifo': SCHED_FIFO, 'rr': SCHED_RR,
              'batch': SCHED_BATCH, 'idle': SCHED_IDLE}
RT_POLICIES = (SCHED_FIFO, SCHED_RR)
# What a vCPU without <vcpusched> may run with.
NON_RT_POLICIES = (SCHED_OTHER, SCHED_BATCH, SCHED_IDLE)

# /proc/<pid>/stat field 9 (flags): the task is a kernel thread.
PF_KTHREAD = 0x00200000

# QEMU's vCPU thread names (with debug-threads=on, as libvirt starts it).
VCPU_THREAD = re.compile(r'^CPU (\d+)/(KVM|TCG|HVF|WHPX|NVMM)$')
# QEMU's name for the thread of <iothreads> number N (object iothreadN).
IOTHREAD_THREAD = re.compile(r'^IO iothread(\d+)$')

# How many tasks or IRQs one result names before "and N more".
MAX_NAMED = 10

# The checks of one running guest, in the order they are reported.
CHECK_IDS = ('guest.process', 'vcpu.policy', 'vcpu.affinity',
             'emulator.affinity', 'memory.locked', 'pcpu.intruders',
             'pcpu.irqs', 'kernel.sched_rt_runtime_us')


def _spec(cpus):
    if cpus is None:
        return _('every CPU')
    return hardware.format_cpu_spec(cpus) if cpus else '(none)'


def _bounded(items, limit=MAX_NAMED):
    """At most ``limit`` items, then "and N more"."""
    items = list(items)
    shown = ', '.join(items[:limit])
    if len(items) > limit:
        shown += _(' and %d more') % (len(items) - limit)
    return shown


# -- what the domain XML promises -------------------------------------------

class GuestSpec(object):
    """What one domain's XML asks of the host.

    ``vcpus``: online vCPU ids. ``pins``: {vCPU: pCPUs} from <vcpupin>.
    ``default``: <vcpu cpuset> or None. ``emulator``: <emulatorpin> or
    None. ``iothreads``: {iothread id: pCPUs}. ``sched``: {vCPU:
    (policy, priority or None)} from <vcpusched>. ``locked``,
    ``hugepages``: <memoryBacking>. ``memory_kib``: <memory>.
    ``problems``: parts of the XML that could not be read.
    """

    def __init__(self, name):
        self.name = name
        self.uuid = None
        self.vcpus = []
        self.pins = {}
        self.default = None
        self.emulator = None
        self.iothreads = {}
        self.sched = {}
        self.locked = False
        self.hugepages = False
        self.memory_kib = None
        self.problems = []

    def allowed(self, vcpu):
        """pCPUs a vCPU's thread may run on per the XML (None: any)."""
        return self.pins.get(vcpu, self.default)

    @property
    def emulator_allowed(self):
        return self.emulator if self.emulator is not None else self.default

    @property
    def realtime(self):
        """{vCPU: priority or None} of the FIFO/RR vCPUs."""
        return {vcpu: prio for vcpu, (policy, prio) in self.sched.items()
                if policy in RT_POLICIES and vcpu in self.vcpus}

    @property
    def rt_pcpus(self):
        """{pCPU: lowest priority of the real-time vCPUs allowed there}.

        A real-time vCPU with neither pin nor cpuset has no pCPU of its
        own (vcpu.affinity says so); it adds none here.
        """
        pcpus = {}
        for vcpu, prio in self.realtime.items():
            for pcpu in self.allowed(vcpu) or ():
                prio = prio or 1
                pcpus[pcpu] = min(prio, pcpus.get(pcpu, prio))
        return pcpus

    @property
    def pinned(self):
        """Whether the domain asks for real time or pinning at all."""
        return bool(self.sched or self.pins or self.default is not None or
                    self.emulator is not None)

    @property
    def promises(self):
        """Whether an unknown fact breaks a promise: real-time vCPUs or
        locked memory.
        """
        return bool(self.realtime) or self.locked


def parse_guest(xml):
    """A GuestSpec from a domain XML document (bytes or str); parts that
    cannot be read are named in ``problems``.
    """
    if isinstance(xml, str):
        xml = xml.encode('utf-8')
    if len(xml) > usage_mod.MAX_DOMAIN_XML_BYTES:
        spec = GuestSpec('?')
        spec.problems.append(_('domain XML larger than %d bytes') %
                             usage_mod.MAX_DOMAIN_XML_BYTES)
        return spec
    try:
        root = etree.fromstring(xml, usage_mod.XML_PARSER)
    except etree.XMLSyntaxError as e:
        spec = GuestSpec('?')
        spec.problems.append(_('domain XML does not parse: %s') % e)
        return spec
    spec = GuestSpec(root.findtext('name') or '?')
    spec.uuid = root.findtext('uuid')
    for reader in (_read_vcpus, _read_cputune, _read_memory):
        try:
            reader(root, spec)
        except exception.DomainXMLUnreadable as e:
            spec.problems.append(str(e))
    return spec


def _read_vcpus(root, spec):
    vcpu = root.find('vcpu')
    count = usage_mod.read_vcpu_count(vcpu)
    current = count
    if vcpu is not None and vcpu.get('current'):
        current = min(count, usage_mod.read_int(vcpu.get('current'),
                                            '<vcpu current>'))
    listed = root.findall('vcpus/vcpu')
    if listed:
        # A live definition with vCPU hotplug lists each vCPU's state.
        spec.vcpus = sorted(
            usage_mod.read_int(item.get('id'), '<vcpus><vcpu id>')
            for item in listed if item.get('enabled', 'yes') == 'yes')
    else:
        spec.vcpus = list(range(current))
    if vcpu is not None and vcpu.get('cpuset'):
        spec.default = usage_mod.read_cpus(vcpu.get('cpuset'), '<vcpu cpuset>')


def _read_cputune(root, spec):
    for pin in root.iterfind('cputune/vcpupin'):
        spec.pins[usage_mod.read_int(pin.get('vcpu'), '<vcpupin vcpu>')] = \
            usage_mod.read_cpus(pin.get('cpuset'), '<vcpupin cpuset>')
    emulator = root.find('cputune/emulatorpin')
    if emulator is not None:
        spec.emulator = usage_mod.read_cpus(emulator.get('cpuset'),
                                        '<emulatorpin cpuset>')
    for pin in root.iterfind('cputune/iothreadpin'):
        spec.iothreads[usage_mod.read_int(pin.get('iothread'),
                                      '<iothreadpin iothread>')] = \
            usage_mod.read_cpus(pin.get('cpuset'), '<iothreadpin cpuset>')
    for sched in root.iterfind('cputune/vcpusched'):
        scheduler = (sched.get('scheduler') or '').lower()
        if scheduler not in SCHEDULERS:
            raise exception.DomainXMLUnreadable(reason=_(
                '<vcpusched scheduler> %r is not one libvirt knows') %
                scheduler[:20])
        priority = None
        if sched.get('priority') is not None:
            priority = usage_mod.read_int(sched.get('priority'),
                                      '<vcpusched priority>')
        # Without vcpus= the setting is for every vCPU.
        vcpus = (usage_mod.read_cpus(sched.get('vcpus'), '<vcpusched vcpus>')
                 if sched.get('vcpus') else set(spec.vcpus))
        for vcpu in vcpus:
            spec.sched[vcpu] = (SCHEDULERS[scheduler], priority)


def _read_memory(root, spec):
    backing = root.find('memoryBacking')
    if backing is not None:
        spec.locked = backing.find('locked') is not None
        spec.hugepages = backing.find('hugepages') is not None
    memory = root.find('memory')
    if memory is not None:
        spec.memory_kib = usage_mod.read_kib(memory.text, memory.get('unit'),
                                          '<memory>')


def wants_verify(spec):
    """--all verifies the running domains with <vcpusched> or pinning."""
    return spec.pinned


# -- what the kernel says ---------------------------------------------------

class Task(collections.namedtuple(
        'Task', 'tid pid comm state flags priority policy affinity')):
    """One thread from /proc/<pid>/task/<tid>. ``pid`` is its process (the
    thread group). ``policy``, ``priority``, ``flags``, ``state`` are None
    when stat could not be read, ``affinity`` when status could not.
    """
    __slots__ = ()

    @property
    def kthread(self):
        return self.flags is not None and bool(self.flags & PF_KTHREAD)

    @property
    def readable(self):
        return self.policy is not None and self.affinity is not None

    def describe(self):
        return _('thread %(tid)d (%(comm)s)') % {'tid': self.tid,
                                                 'comm': self.comm}

    def sched_text(self):
        if self.policy is None:
            return _('policy unknown')
        name = POLICY_NAMES.get(self.policy, str(self.policy))
        if self.policy in RT_POLICIES:
            return '%s %d' % (name, self.priority)
        return name


def parse_stat(text):
    """(state, flags, rt_priority, policy) from /proc/<pid>/stat, or None.

    Fields are counted after the ')' that ends the command name, which may
    itself hold spaces or parentheses: state is field 3, flags 9,
    rt_priority 40, policy 41.
    """
    try:
        fields = text.rsplit(')', 1)[1].split()
        return fields[0], int(fields[6]), int(fields[37]), int(fields[38])
    except (AttributeError, IndexError, ValueError):
        return None


def read_task(facts, pid, tid):
    """A Task, or None when the thread is gone (no task directory)."""
    base = 'proc/%d/task/%d' % (pid, tid)
    stat = facts.read(base, 'stat')
    status = facts.read(base, 'status')
    if stat is None and status is None and not facts.is_dir(base):
        return None
    comm = facts.read(base, 'comm')
    parsed = parse_stat(stat) if stat is not None else None
    state = flags = priority = policy = None
    if parsed is not None:
        state, flags, priority, policy = parsed
    affinity = None
    for line in (status or '').splitlines():
        key, sep, value = line.partition(':')
        if sep and key == 'Cpus_allowed_list':
            affinity = frozenset(host_facts.parse_kernel_cpu_list(value))
            break
    if comm is None and stat is not None:
        comm = stat.partition('(')[2].rpartition(')')[0]
    return Task(tid, pid, comm if comm is not None else '?', state, flags,
                priority, policy, affinity)


def list_tasks(facts, pid):
    """{tid: Task} of one process, or None when it cannot be listed."""
    entries = facts.listdir('proc/%d/task' % pid)
    if entries is None:
        return None
    tasks = {}
    for entry in entries:
        if entry.isdigit():
            task = read_task(facts, pid, int(entry))
            if task is not None:
                tasks[task.tid] = task
    return tasks


def reading_pid(facts):
    """The pid of the process reading this /proc (``/proc/self``), or
    None: verify itself, which runs wherever the scheduler puts it and must
    not report itself on the real-time pCPUs.
    """
    try:
        target = os.readlink(facts.path('proc/self'))
    except OSError:
        return None
    target = os.path.basename(target.rstrip('/'))
    return int(target) if target.isdigit() else None


def all_tasks(facts):
    """(every thread on the host as Tasks but those of the process reading
    /proc, number of processes whose threads could not be listed), or
    (None, 0) when /proc lists no process.
    """
    own = reading_pid(facts)
    pids = [int(e) for e in facts.listdir('proc') or []
            if e.isdigit() and int(e) != own]
    if not pids:
        return None, 0
    tasks = []
    unlisted = 0
    for pid in pids:
        threads = list_tasks(facts, pid)
        if threads is None:
            if facts.is_dir('proc/%d' % pid):
                unlisted += 1
            continue
        tasks.extend(threads[tid] for tid in sorted(threads))
    return tasks, unlisted


class GuestProcess(object):
    """A running guest's QEMU process as /proc shows it.

    ``pid``: the QEMU process (None when not found; ``problem`` says why).
    ``source``: where the pid came from. ``tasks``: {tid: Task} (None when
    the threads cannot be listed). ``vcpu_tids``: {vCPU: tid}.
    ``tid_source``: where the vCPU thread ids came from.
    """

    def __init__(self, pid=None, source=None, problem=None):
        self.pid = pid
        self.source = source
        self.problem = problem
        self.tasks = None
        self.vcpu_tids = {}
        self.tid_source = None

    def vcpu_task(self, vcpu):
        tid = self.vcpu_tids.get(vcpu)
        return (self.tasks or {}).get(tid) if tid is not None else None


def _name_argument(name):
    """QEMU's ``-name guest=NAME,...`` value prefix (commas doubled)."""
    return 'guest=' + name.replace(',', ',,')


def _runs_guest(facts, pid, name):
    """True when /proc/<pid> is the QEMU of ``name``, False when it is
    not, None when its command line cannot be read.
    """
    argv = facts.proc_cmdline(pid)
    if argv is None:
        return None if facts.is_dir('proc/%d' % pid) else False
    wanted = _name_argument(name)
    for flag, value in zip(argv, argv[1:]):
        if flag in ('-name', '--name') and (
                value == wanted or value.startswith(wanted + ',') and
                not value[len(wanted):].startswith(',,')):
            return True
    return False


def _status_xml(facts, name):
    """libvirt's status document of a running domain, parsed, or None."""
    text = facts.read(QEMU_RUN_DIR, '%s.xml' % name)
    if text is None:
        return None
    try:
        return etree.fromstring(text.encode('utf-8'), usage_mod.XML_PARSER)
    except etree.XMLSyntaxError:
        return None


def _pid_candidates(facts, name, status):
    text = facts.read(QEMU_RUN_DIR, '%s.pid' % name)
    if text is not None and text.strip().isdigit():
        yield int(text.strip()), '/%s/%s.pid' % (QEMU_RUN_DIR, name)
    if status is not None and (status.get('pid') or '').isdigit():
        yield int(status.get('pid')), '/%s/%s.xml' % (QEMU_RUN_DIR, name)


def find_process(facts, name):
    """The GuestProcess of a running domain (its pid may be None)."""
    status = _status_xml(facts, name)
    process = None
    for pid, source in _pid_candidates(facts, name, status):
        runs = _runs_guest(facts, pid, name)
        if runs:
            process = GuestProcess(pid, source)
            break
        if runs is None:
            process = GuestProcess(pid, source + _(
                ' (its command line could not be read)'))
            break
    if process is None:
        matches = [pid for pid in sorted(
            int(e) for e in facts.listdir('proc') or [] if e.isdigit())
            if _runs_guest(facts, pid, name)]
        if len(matches) == 1:
            process = GuestProcess(matches[0], _(
                'the QEMU command line (-name %s)') % _name_argument(name))
        elif matches:
            return GuestProcess(problem=_(
                'several processes run -name %(arg)s: %(pids)s') % {
                    'arg': _name_argument(name),
                    'pids': ', '.join(str(pid) for pid in matches)})
        else:
            return GuestProcess(problem=_(
                'cannot read /%(dir)s/%(name)s.pid, and no process in /proc '
                'runs -name %(arg)s') % {'dir': QEMU_RUN_DIR, 'name': name,
                                         'arg': _name_argument(name)})
    process.tasks = list_tasks(facts, process.pid)
    if process.tasks is None:
        process.problem = _('cannot read /proc/%d/task') % process.pid
        return process
    _find_vcpu_tids(process, status)
    return process


def _find_vcpu_tids(process, status):
    """vCPU -> thread id: libvirt's status file, else QEMU's thread
    names. A thread id the status file names must be a thread of the
    process now (a stale status file is not believed).
    """
    if status is not None and status.get('pid') == str(process.pid):
        for vcpu in status.iterfind('vcpus/vcpu'):
            vid, tid = vcpu.get('id') or '', vcpu.get('pid') or ''
            if vid.isdigit() and tid.isdigit() and int(tid) in process.tasks:
                process.vcpu_tids[int(vid)] = int(tid)
        if process.vcpu_tids:
            process.tid_source = _("libvirt's status file")
    named = {}
    for tid, task in sorted(process.tasks.items()):
        match = VCPU_THREAD.match(task.comm)
        if match:
            named.setdefault(int(match.group(1)), tid)
    missing = {vcpu: tid for vcpu, tid in named.items()
               if vcpu not in process.vcpu_tids}
    if missing:
        process.vcpu_tids.update(missing)
        process.tid_source = (
            _('QEMU thread names') if process.tid_source is None else
            _("libvirt's status file and QEMU thread names"))


# -- the checks -------------------------------------------------------------

POLICY_FIX = _(
    "the thread's scheduling policy was changed behind libvirt's back "
    "(chrt, a tuned profile, a script, or another tool): restart the guest "
    "(virsh destroy/start, or stop/start the Nova instance) so libvirt sets "
    "<vcpusched> again, or set it by hand: chrt -f -p PRIORITY TID "
    "(chrt -r for rr) for a real-time vCPU, chrt -o -p 0 TID for the others")
AFFINITY_FIX = _(
    "the thread's CPU affinity was changed behind libvirt's back (taskset, "
    "a cpuset/cgroup change, tuned, a script): restore it with virsh "
    "vcpupin NAME VCPU CPUSET --live (the <vcpupin> cpuset), or restart the "
    "guest")
EMULATOR_FIX = _(
    "keep the emulator threads off the real-time pCPUs: <emulatorpin "
    "cpuset> on housekeeping pCPUs (virsh emulatorpin NAME CPUSET --live; "
    "in Nova hw:emulator_threads_policy=share|isolate or [compute] "
    "cpu_shared_set); if the XML is right, their affinity was changed "
    "behind libvirt's back: the same command restores it")
INTRUDER_FIX = _(
    "keep host tasks off the real-time pCPUs: isolcpus=/nohz_full= on the "
    "kernel command line, CPUAffinity= in /etc/systemd/system.conf for "
    "services, taskset -a -p -c HOUSEKEEPING PID for a stray process, and "
    "pin other guests elsewhere")
INTRUDER_RT_FIX = _(
    "a real-time task at or above the vCPU's priority preempts it: move it "
    "off the pCPU (taskset -p -c HOUSEKEEPING TID) or lower it (chrt -o -p "
    "0 TID, or below the vCPU's priority); ") + INTRUDER_FIX
IRQ_FIX = _(
    "write the housekeeping pCPUs to /proc/irq/N/smp_affinity_list; stop "
    "irqbalance or ban the real-time pCPUs (IRQBALANCE_BANNED_CPULIST=...), "
    "and set irqaffinity= on the kernel command line")
LOCKED_FIX = _(
    "QEMU could not lock the guest memory (RLIMIT_MEMLOCK, or the libvirt "
    "daemon lacks CAP_SYS_RESOURCE: see nova-realtime check-host, "
    "memory.locking), or it was unlocked since: fix the host, then restart "
    "the guest")


def _unknown_status(spec):
    return FAIL if spec.promises else WARN


def _no_process(spec, name, process):
    return CheckResult(name, _unknown_status(spec), _(
        'QEMU process unknown: %s') % process.problem, _(
        'run verify as root on the compute host the guest runs on (with '
        "the host's /proc and /run/libvirt)"), unknown=True)


def check_process(spec, process):
    name = 'guest.process'
    if process.pid is None or process.tasks is None:
        return _no_process(spec, name, process)
    vcpus = [v for v in spec.vcpus if v not in process.vcpu_tids]
    found = _('QEMU pid %(pid)d (%(src)s), %(n)d threads') % {
        'pid': process.pid, 'src': process.source,
        'n': len(process.tasks)}
    if vcpus:
        return CheckResult(name, _unknown_status(spec), found + _(
            '; no thread found for vCPU %s (neither libvirt\'s status file '
            'nor a "CPU N/KVM" thread name)') % _spec(vcpus), _(
            'run verify as root (libvirt\'s status file /run/libvirt/qemu/'
            'NAME.xml is readable by root only)'), unknown=True)
    if spec.problems:
        return CheckResult(name, _unknown_status(spec), found + _(
            '; the domain XML could not be read completely: %s') %
            '; '.join(spec.problems), '', unknown=True)
    return CheckResult(name, OK, found + _(
        '; vCPU threads from %s') % process.tid_source, '')


def check_vcpu_policy(spec, process):
    """Each vCPU thread's policy and priority against <vcpusched>."""
    name = 'vcpu.policy'
    if process.pid is None or process.tasks is None:
        return _no_process(spec, name, process)
    fails, warns, unknown, good = [], [], [], []
    realtime = spec.realtime
    for vcpu in spec.vcpus:
        task = process.vcpu_task(vcpu)
        wanted, prio = spec.sched.get(vcpu, (None, None))
        if task is None or task.policy is None:
            target = fails if vcpu in realtime else warns
            target.append(_('vCPU %d: thread unknown') % vcpu
                          if task is None else
                          _('vCPU %(v)d %(t)s: cannot read its stat') % {
                              'v': vcpu, 't': task.describe()})
            unknown.append(vcpu)
            continue
        where = _('vCPU %(v)d %(t)s') % {'v': vcpu, 't': task.describe()}
        if wanted is None:
            if task.policy in NON_RT_POLICIES:
                good.append(_('vCPU %(v)d %(s)s') % {
                    'v': vcpu, 's': task.sched_text()})
            else:
                warns.append(_(
                    '%(w)s runs %(s)s but has no <vcpusched>: a '
                    'non-real-time vCPU can starve host tasks') % {
                        'w': where, 's': task.sched_text()})
            continue
        expected = POLICY_NAMES[wanted] + (
            ' %d' % prio if wanted in RT_POLICIES and prio is not None
            else '')
        matches = task.policy == wanted and (
            wanted not in RT_POLICIES or prio is None or
            task.priority == prio)
        if matches:
            good.append(_('vCPU %(v)d %(s)s') % {
                'v': vcpu, 's': task.sched_text()})
        elif wanted in RT_POLICIES:
            fails.append(_('%(w)s runs %(s)s, <vcpusched> wants '
                           '%(e)s') % {'w': where, 's': task.sched_text(),
                                       'e': expected})
        else:
            warns.append(_('%(w)s runs %(s)s, <vcpusched> wants '
                           '%(e)s') % {'w': where, 's': task.sched_text(),
                                       'e': expected})
    if fails or warns:
        status = FAIL if fails else WARN
        return CheckResult(name, status, '; '.join(fails + warns),
                           POLICY_FIX, unknown=bool(unknown))
    return CheckResult(name, OK, _('as <vcpusched> says: %s') % (
        ', '.join(good) or _('no vCPU')), '')


def check_vcpu_affinity(spec, process):
    """Each vCPU thread's CPU affinity against its <vcpupin> (or <vcpu
    cpuset>); real-time vCPUs need a pCPU of their own.
    """
    name = 'vcpu.affinity'
    if process.pid is None or process.tasks is None:
        return _no_process(spec, name, process)
    fails, warns, good = [], [], []
    unknown = False
    realtime = spec.realtime
    for vcpu in spec.vcpus:
        task = process.vcpu_task(vcpu)
        allowed = spec.allowed(vcpu)
        rt = vcpu in realtime
        if task is None or task.affinity is None:
            unknown = True
            (fails if rt else warns).append(
                _('vCPU %d: thread unknown') % vcpu if task is None else
                _('vCPU %(v)d %(t)s: cannot read its Cpus_allowed_list') % {
                    'v': vcpu, 't': task.describe()})
            continue
        where = _('vCPU %(v)d %(t)s') % {'v': vcpu, 't': task.describe()}
        actual = set(task.affinity)
        if allowed is None:
            if rt:
                fails.append(_(
                    '%(w)s is real-time but neither <vcpupin> nor <vcpu '
                    'cpuset> pins it: it may run on %(a)s') % {
                        'w': where, 'a': _spec(actual)})
            else:
                good.append(_('vCPU %(v)d floats on %(a)s') % {
                    'v': vcpu, 'a': _spec(actual)})
            continue
        if actual - allowed:
            fails.append(_('%(w)s may run on %(a)s, the XML allows only '
                           '%(x)s') % {'w': where, 'a': _spec(actual),
                                       'x': _spec(allowed)})
        elif actual != allowed:
            warns.append(_('%(w)s may run on %(a)s, narrower than the '
                           "XML's %(x)s") % {'w': where, 'a': _spec(actual),
                                             'x': _spec(allowed)})
        elif rt and len(allowed) > 1:
            warns.append(_('%(w)s is real-time but floats over pCPUs %(x)s '
                           '(not one pCPU of its own)') % {
                               'w': where, 'x': _spec(allowed)})
        else:
            good.append(_('vCPU %(v)d on %(a)s') % {'v': vcpu,
                                                    'a': _spec(actual)})
    shared = _shared_rt_pcpus(spec)
    if shared:
        fails.append(_('real-time vCPUs share pCPUs (one spinning vCPU '
                       'starves the other): %s') % shared)
    if fails or warns:
        fix = AFFINITY_FIX
        if shared:
            fix = _('give each real-time vCPU its own pCPU (<vcpupin>); ') + \
                fix
        return CheckResult(name, FAIL if fails else WARN,
                           '; '.join(fails + warns), fix, unknown=unknown)
    return CheckResult(name, OK, _('as the XML pins them: %s') % (
        ', '.join(good) or _('no vCPU')), '')


def _shared_rt_pcpus(spec):
    holders = collections.defaultdict(list)
    for vcpu in sorted(spec.realtime):
        for pcpu in spec.allowed(vcpu) or ():
            holders[pcpu].append(vcpu)
    return ', '.join(
        _('pCPU %(p)d: vCPUs %(v)s') % {
            'p': pcpu, 'v': ','.join(str(v) for v in vcpus)}
        for pcpu, vcpus in sorted(holders.items()) if len(vcpus) > 1)


def check_emulator_affinity(spec, process):
    """Every other QEMU thread against <emulatorpin> (<iothreadpin> for
    I/O threads, else <vcpu cpuset>): FAIL when it may run on a real-time
    vCPU's pCPU.
    """
    name = 'emulator.affinity'
    if process.pid is None or process.tasks is None:
        return _no_process(spec, name, process)
    rt_pcpus = set(spec.rt_pcpus)
    vcpu_tids = set(process.vcpu_tids.values())
    on_rt, differs, unread = [], [], []
    count = 0
    for tid, task in sorted(process.tasks.items()):
        if tid in vcpu_tids:
            continue
        count += 1
        if task.affinity is None:
            unread.append(task.describe())
            continue
        allowed = spec.emulator_allowed
        match = IOTHREAD_THREAD.match(task.comm)
        if match and int(match.group(1)) in spec.iothreads:
            allowed = spec.iothreads[int(match.group(1))]
        if task.affinity & rt_pcpus:
            on_rt.append(_('%(t)s may run on %(a)s') % {
                't': task.describe(), 'a': _spec(task.affinity)})
        elif allowed is not None and task.affinity != allowed:
            differs.append(_('%(t)s may run on %(a)s, the XML says '
                             '%(x)s') % {'t': task.describe(),
                                         'a': _spec(task.affinity),
                                         'x': _spec(allowed)})
    if on_rt:
        return CheckResult(name, FAIL, _(
            'emulator threads may run on the real-time pCPUs %(rt)s: '
            '%(list)s') % {'rt': _spec(rt_pcpus), 'list': _bounded(on_rt)},
            EMULATOR_FIX, unknown=bool(unread))
    if unread:
        return CheckResult(name, _unknown_status(spec), _(
            'cannot read the affinity of %s') % _bounded(unread),
            EMULATOR_FIX, unknown=True)
    if differs:
        return CheckResult(name, WARN, _bounded(differs), EMULATOR_FIX)
    where = spec.emulator_allowed
    return CheckResult(name, OK, _(
        '%(n)d emulator threads on %(a)s%(rt)s') % {
            'n': count, 'a': _spec(where),
            'rt': (_(', off the real-time pCPUs %s') % _spec(rt_pcpus))
            if rt_pcpus else ''}, '')


def check_memory_locked(facts, spec, process):
    """<memoryBacking><locked/>: VmLck must cover the guest's memory."""
    name = 'memory.locked'
    if not spec.locked:
        if spec.realtime and not spec.hugepages:
            return CheckResult(name, WARN, _(
                'real-time guest without <locked/> or huge pages: its memory '
                'may be swapped out or paged, stalling a vCPU'), _(
                'lock it (<memoryBacking><locked/>, in Nova '
                'hw:locked_memory=True) or back it with huge pages '
                '(hw:mem_page_size)'))
        return CheckResult(name, OK, _('<locked/> not requested%s') % (
            _(' (huge pages back the memory)') if spec.hugepages else ''),
            '')
    if process.pid is None:
        return _no_process(spec, name, process)
    status = facts.proc_status(process.pid)
    locked = None
    text = (status or {}).get('VmLck', '')
    if text.endswith('kB') and text[:-2].strip().isdigit():
        locked = int(text[:-2].strip())
    if locked is None:
        return CheckResult(name, FAIL, _(
            'cannot read VmLck in /proc/%d/status: whether the guest memory '
            'is locked is unknown') % process.pid, _(
            'run verify as root on the compute host'), unknown=True)
    if spec.memory_kib is None:
        return CheckResult(name, FAIL, _(
            'VmLck %d KiB, but the guest <memory> is unknown') % locked, '',
            unknown=True)
    found = _('VmLck %(l)d KiB of %(m)d KiB guest memory') % {
        'l': locked, 'm': spec.memory_kib}
    if locked < spec.memory_kib:
        return CheckResult(name, FAIL, found + _(
            ': the memory is not locked (<locked/> asks for all of it)'),
            LOCKED_FIX)
    return CheckResult(name, OK, found, '')


def _not_realtime(name):
    return CheckResult(name, OK, _(
        'no real-time vCPU (no FIFO/RR <vcpusched>): nothing to check'), '')


def _process_label(task, tasks_of, comms):
    label = _('process %(pid)d (%(comm)s') % {
        'pid': task.pid, 'comm': comms.get(task.pid, task.comm)}
    if tasks_of[task.pid] > 1:
        label += _(', %d threads') % tasks_of[task.pid]
    return label


def check_pcpu_intruders(facts, spec, process, tasks=None):
    """Other threads allowed to run on each real-time pCPU.

    Not counted: the guest's own threads (vcpu.affinity and
    emulator.affinity judge them) and per-CPU kernel threads bound to
    exactly that pCPU (ksoftirqd/N, migration/N, kworker/N:*, ...). A user
    thread is a WARN, a FAIL when it is FIFO/RR at or above the vCPU's
    priority (it preempts the vCPU); a kernel thread that is not bound to
    the pCPU is a WARN. ``tasks``: all_tasks() already read.
    """
    name = 'pcpu.intruders'
    rt_pcpus = spec.rt_pcpus
    if not rt_pcpus:
        return _not_realtime(name)
    unlisted = 0
    if tasks is None:
        tasks, unlisted = all_tasks(facts)
    if tasks is None:
        return CheckResult(name, WARN, _(
            'cannot list the processes in /proc: what else may run on '
            'pCPUs %s is unknown') % _spec(rt_pcpus), _(
            'run verify as root on the compute host'), unknown=True)
    own = process.pid
    comms = {}
    threads_of = collections.Counter()
    for task in tasks:
        threads_of[task.pid] += 1
        if task.tid == task.pid:
            comms[task.pid] = task.comm
    unreadable = [t for t in tasks if not t.readable and t.pid != own]
    parts, failing = [], False
    for pcpu, prio in sorted(rt_pcpus.items()):
        preempt, users, kernel = [], {}, []
        for task in tasks:
            if task.pid == own or task.affinity is None or \
                    pcpu not in task.affinity:
                continue
            if task.kthread and task.affinity == {pcpu}:
                continue
            rt = task.policy in RT_POLICIES and task.priority >= prio
            if task.kthread:
                kernel.append(task)
            elif rt:
                preempt.append(task)
            else:
                users.setdefault(task.pid, []).append(task)
        if not (preempt or users or kernel):
            continue
        named = []
        for task in preempt:
            failing = True
            named.append(_('%(t)s of %(p)s) %(s)s') % {
                't': task.describe(), 'p': _process_label(
                    task, threads_of, comms), 's': task.sched_text()})

        def rank(item):
            pid, threads = item
            narrow = min(len(t.affinity) for t in threads)
            running = any(t.state == 'R' for t in threads)
            return (narrow, not running, pid)

        for pid, threads in sorted(users.items(), key=rank):
            first = threads[0]
            label = _process_label(first, threads_of, comms)
            extra = []
            if any(t.state == 'R' for t in threads):
                extra.append(_('running'))
            narrow = min((t.affinity for t in threads), key=len)
            if narrow <= set(rt_pcpus):
                extra.append(_('pinned to %s') % _spec(narrow))
            named.append(label + (', ' + ', '.join(extra) if extra else '') +
                         ')')
        for task in sorted(kernel, key=lambda t: (
                t.policy not in RT_POLICIES, len(t.affinity), t.tid)):
            named.append(_('kernel %(t)s%(s)s') % {
                't': task.describe(),
                's': ' ' + task.sched_text()
                if task.policy in RT_POLICIES else ''})
        summary = _(
            'pCPU %(p)d (real-time priority %(prio)d): %(n)d user '
            'processes%(rt)s and %(k)d unbound kernel threads may run '
            'there: %(list)s') % {
                'p': pcpu, 'prio': prio,
                'n': len(set(users) | {t.pid for t in preempt}),
                'rt': (_(' (%d threads at or above the vCPU\'s priority)') %
                       len(preempt)) if preempt else '',
                'k': len(kernel), 'list': _bounded(named)}
        parts.append(summary)
    unknown = bool(unreadable) or bool(unlisted)
    if unreadable or unlisted:
        parts.append(_('cannot read %(t)d threads%(p)s (%(list)s)') % {
            't': len(unreadable),
            'p': _(' and %d processes') % unlisted if unlisted else '',
            'list': _bounded(t.describe() for t in unreadable) or '-'})
    if not parts:
        return CheckResult(name, OK, _(
            'nothing else may run on real-time pCPUs %s (per-CPU kernel '
            'threads aside)') % _spec(rt_pcpus), '')
    return CheckResult(name, FAIL if failing else WARN, '; '.join(parts),
                       INTRUDER_RT_FIX if failing else INTRUDER_FIX,
                       unknown=unknown)


def irq_actions(facts):
    """{IRQ: (affinity set or None, [action names])} of the IRQs with a
    handler (/proc/irq/N/ holds a directory per registered action), or
    None when /proc/irq lists no IRQ.
    """
    entries = [e for e in facts.listdir('proc/irq') or [] if e.isdigit()]
    if not entries:
        return None
    irqs = {}
    for entry in entries:
        names = [sub for sub in facts.listdir('proc/irq', entry) or []
                 if facts.is_dir('proc/irq', entry, sub)]
        if names:
            irqs[int(entry)] = (
                facts.cpu_list('proc/irq', entry, 'smp_affinity_list'),
                names)
    return irqs


def check_pcpu_irqs(facts, spec):
    """IRQs (with a handler) whose affinity includes a real-time pCPU."""
    name = 'pcpu.irqs'
    rt_pcpus = spec.rt_pcpus
    if not rt_pcpus:
        return _not_realtime(name)
    irqs = irq_actions(facts)
    if irqs is None:
        return CheckResult(name, WARN, _(
            'cannot read /proc/irq: which IRQs may interrupt pCPUs %s is '
            'unknown') % _spec(rt_pcpus), _(
            'run verify as root on the compute host'), unknown=True)
    parts = []
    for pcpu in sorted(rt_pcpus):
        hits = ['%d (%s)' % (irq, ','.join(names))
                for irq, (cpus, names) in sorted(irqs.items())
                if cpus is not None and pcpu in cpus]
        if hits:
            parts.append(_('pCPU %(p)d: IRQs %(list)s') % {
                'p': pcpu, 'list': _bounded(hits)})
    unread = sorted(irq for irq, (cpus, _n) in irqs.items() if cpus is None)
    if unread:
        parts.append(_('cannot read the affinity of IRQs %s') % _bounded(
            str(irq) for irq in unread))
    if parts:
        return CheckResult(name, WARN, _(
            'IRQs may interrupt real-time vCPUs: %s') % '; '.join(parts),
            IRQ_FIX, unknown=bool(unread))
    return CheckResult(name, OK, _(
        'no IRQ with a handler may run on real-time pCPUs %(p)s (%(n)d '
        'IRQs)') % {'p': _spec(rt_pcpus), 'n': len(irqs)}, '')


def check_rt_runtime(facts, spec):
    """kernel.sched_rt_runtime_us: -1, or FIFO vCPUs are throttled."""
    name = 'kernel.sched_rt_runtime_us'
    if not spec.realtime:
        return _not_realtime(name)
    runtime = facts.sysctl_int('kernel.sched_rt_runtime_us')
    if runtime is None:
        return CheckResult(name, WARN, _(
            'cannot read /proc/sys/kernel/sched_rt_runtime_us: whether '
            'real-time vCPUs are throttled is unknown'), _(
            'run verify as root on the compute host'), unknown=True)
    if runtime == -1:
        return CheckResult(name, OK, _('-1: no RT throttling'), '')
    period = facts.sysctl_int('kernel.sched_rt_period_us') or 1000000
    return CheckResult(name, WARN, _(
        '%(r)d of every %(p)d us: a spinning FIFO vCPU is stopped for '
        '%(ms)d ms every %(pms)d ms (RT throttling)') % {
            'r': runtime, 'p': period,
            'ms': max(period - runtime, 0) // 1000, 'pms': period // 1000},
        host_checks.RT_BUDGET_FIX)


# -- one guest, many guests -------------------------------------------------

class GuestReport(object):
    """The verdicts for one domain."""

    def __init__(self, name, uuid=None, pid=None, running=True,
                 results=()):
        self.name = name
        self.uuid = uuid
        self.pid = pid
        self.running = running
        self.results = list(results)

    @property
    def ok(self):
        return all(result.status != FAIL for result in self.results)

    def to_dict(self):
        return {'name': self.name, 'uuid': self.uuid, 'pid': self.pid,
                'running': self.running, 'ok': self.ok,
                'checks': [result.to_dict() for result in self.results]}


def verify_guest(facts, xml, name=None, tasks=None):
    """GuestReport of a running domain from its live XML and /proc.

    ``tasks``: all_tasks() already read (shared by several guests).
    """
    spec = parse_guest(xml)
    if name is not None:
        spec.name = name
    process = find_process(facts, spec.name)
    results = [
        check_process(spec, process),
        check_vcpu_policy(spec, process),
        check_vcpu_affinity(spec, process),
        check_emulator_affinity(spec, process),
        check_memory_locked(facts, spec, process),
        check_pcpu_intruders(facts, spec, process, tasks),
        check_pcpu_irqs(facts, spec),
        check_rt_runtime(facts, spec),
    ]
    return GuestReport(spec.name, spec.uuid, process.pid, True, results)


def not_running(name, uuid=None):
    return GuestReport(name, uuid, None, False, [CheckResult(
        'guest.running', FAIL, _('%s is not running') % name,
        _('start it (virsh start NAME, or start the Nova instance)'))])


def verify(host, facts, names=None, all_guests=False):
    """[GuestReport] for the named domains (in the order given), or for
    every running domain with <vcpusched> or pinning (``all_guests``),
    sorted by name.

    Raises exception.InstanceNotFound for a name libvirt does not know
    (before anything is verified), HypervisorUnavailable when libvirt
    cannot be reached.
    """
    if all_guests:
        domains = []
        for dom in host.list_domains():
            try:
                if not dom.isActive():
                    continue
                domains.append((dom.name(), dom.UUIDString(),
                                dom.XMLDesc(0)))
            except libvirt.libvirtError as e:
                if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                    continue  # went away while we listed
                raise
        domains = sorted(
            (item for item in domains
             if wants_verify(parse_guest(item[2]))), key=lambda i: i[0])
    else:
        doms = [(name, host.lookup(name)) for name in names]
        domains = []
        for name, dom in doms:
            if not dom.isActive():
                domains.append((name, dom.UUIDString(), None))
            else:
                domains.append((name, dom.UUIDString(), dom.XMLDesc(0)))
    tasks = None
    if any(xml is not None and parse_guest(xml).rt_pcpus
           for _n, _u, xml in domains):
        tasks, _unlisted = all_tasks(facts)
    reports = []
    for name, uuid, xml in domains:
        if xml is None:
            reports.append(not_running(name, uuid))
        else:
            report = verify_guest(facts, xml, name=name, tasks=tasks)
            report.uuid = report.uuid or uuid
            reports.append(report)
    return reports


def all_ok(reports):
    return all(report.ok for report in reports)


def format_text(reports):
    """One line per check (``STATUS GUEST:ID found | fix: ...``), then a
    verdict line.
    """
    if not reports:
        return _('No running guest with <vcpusched> or pinning.\n')
    lines = []
    counts = collections.Counter()
    for report in reports:
        for result in report.results:
            counts[result.status] += 1
            line = '%-4s %s:%s %s' % (result.status, report.name, result.id,
                                      result.found)
            if result.fix and result.status != OK:
                line += ' | fix: %s' % result.fix
            lines.append(line)
    failed = [report.name for report in reports if not report.ok]
    if failed:
        verdict = _('NOT REAL-TIME: %s') % ', '.join(failed)
    else:
        verdict = _('VERIFIED: %s') % ', '.join(r.name for r in reports)
    lines.append(_('%(verdict)s (%(ok)d OK, %(warn)d WARN, %(fail)d '
                   'FAIL)') % {'verdict': verdict, 'ok': counts[OK],
                               'warn': counts[WARN], 'fail': counts[FAIL]})
    return '\n'.join(lines) + '\n'


def format_json(reports):
    """{"ok": no check FAILs, "guests": [{"name", "uuid", "pid",
    "running", "ok", "checks": [{"id", "status", "found", "fix",
    "unknown"}]}]}.
    """
    return json.dumps({'ok': all_ok(reports),
                       'guests': [report.to_dict() for report in reports]},
                      indent=2, sort_keys=True) + '\n'
