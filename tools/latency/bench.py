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

"""Guest latency benchmark: real-time vs non-real-time flavor.

Boots, through LibvirtDriver on qemu:///system, a 2-vCPU guest (kernel and
initramfs from build-guest.sh) whose init runs cyclictest on vCPU 1, once
with a dedicated + real-time flavor (hw:cpu_realtime_mask=^0) and once with
a dedicated-only flavor, alternating, while a SCHED_OTHER busy loop pinned
to vCPU 1's pCPU competes. Writes latency.json, summary.txt, latency.png and
the raw console logs to the output directory.

Run as root on a host with libvirtd (``tox -e latency`` or
``.venv/bin/python tools/latency/bench.py``); ``--help`` lists the knobs.
Results are reported, not asserted.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import warnings

import latency_stats as stats

HERE = os.path.dirname(os.path.abspath(__file__))
RT_RUNTIME = '/proc/sys/kernel/sched_rt_runtime_us'
FLAVORS = {
    'rt': {'hw:cpu_policy': 'dedicated', 'hw:cpu_realtime': 'yes',
           'hw:cpu_realtime_mask': '^0'},
    'nonrt': {'hw:cpu_policy': 'dedicated'},
}
LABELS = {'rt': 'real time (dedicated + hw:cpu_realtime)',
          'nonrt': 'dedicated only'}
MEASURED_VCPU = 1
HOG = ('import os, sys\n'
       'os.sched_setaffinity(0, {int(sys.argv[1])})\n'
       'while True:\n'
       '    pass\n')


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--runs', type=int, default=3,
                        help='Runs per flavor, alternating RT / non-RT '
                             '(default 3).')
    parser.add_argument('--duration', type=int, default=30,
                        help='cyclictest seconds per run (default 30).')
    parser.add_argument('--interval', type=int, default=200,
                        help='cyclictest interval in us (default 200).')
    parser.add_argument('--buckets', type=int, default=100000,
                        help='Histogram buckets, 1 us each (default 100000:'
                             ' latencies >= 100 ms count as overflows).')
    parser.add_argument('--memory', type=int, default=256,
                        help='Guest memory in MiB (default 256).')
    parser.add_argument('--hogs', type=int, default=1,
                        help='Busy-loop processes pinned to the measured '
                             'pCPU (default 1; 0 = no contention).')
    parser.add_argument('--emulator-hogs', type=int, default=0,
                        help='Busy loops on the emulator/housekeeping pCPU '
                             '(default 0).')
    parser.add_argument('--connection', default='qemu:///system')
    parser.add_argument('--virt-type', default='qemu',
                        choices=('qemu', 'kvm'),
                        help='qemu (TCG, the default) or kvm. Not guessed '
                             'from /dev/kvm: nested KVM can exist and hang '
                             'the guest.')
    parser.add_argument('--dedicated-set', default='0-1',
                        help='[compute] cpu_dedicated_set (default 0-1: '
                             'vCPU0 -> pCPU0, vCPU1 -> pCPU1).')
    parser.add_argument('--config-file', default=None,
                        help='A nova-realtime config file read before the '
                             'overrides above.')
    parser.add_argument('--keep-rt-runtime', action='store_true',
                        help='Leave kernel.sched_rt_runtime_us as it is '
                             '(default: -1 during the runs, then restored).')
    parser.add_argument('--keep-locked', action='store_true',
                        help='Never drop <locked/>, even when the host '
                             'cannot grant memory locking.')
    parser.add_argument('--out', default=None,
                        help='Output directory (default /var/tmp/'
                             'nova-realtime-latency/<timestamp>).')
    parser.add_argument('--boot-timeout', type=int, default=120,
                        help='Seconds a guest may take beyond --duration.')
    parser.add_argument('--guest-args', default='',
                        help='Extra guest kernel command line arguments.')
    parser.add_argument('--emulator-fifo', type=int, default=0,
                        metavar='PRIO',
                        help='DIAGNOSTIC, not a driver config: after boot, '
                             'give QEMU\'s non-vCPU threads SCHED_FIFO PRIO '
                             '(under TCG they deliver the guest\'s timer '
                             'interrupts). Default 0: off.')
    parser.add_argument('--no-plot', action='store_true')
    args = parser.parse_args(argv)
    if args.runs < 1 or args.duration < 1 or args.interval < 1:
        parser.error('--runs, --duration and --interval must be >= 1')
    return args


def build_guest():
    """Run build-guest.sh; (kernel path, initrd path, manifest text)."""
    out = subprocess.run([os.path.join(HERE, 'build-guest.sh')],
                         check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    paths = dict(line.split('=', 1) for line in out.splitlines()
                 if '=' in line)
    manifest = os.path.join(os.path.dirname(paths['KERNEL']),
                            'manifest.txt')
    with open(manifest) as f:
        return paths['KERNEL'], paths['INITRD'], f.read()


def configure(args, out_dir):
    """Load and override nova's config; returns the values used."""
    import nova.conf
    from oslo_concurrency import lockutils
    conf = nova.conf.CONF
    conf(['--config-file', args.config_file] if args.config_file else [],
         project='nova', default_config_files=[])
    virt_type = args.virt_type
    lock_path = os.path.join(out_dir, 'locks')
    os.makedirs(lock_path, exist_ok=True)
    lockutils.set_defaults(lock_path)
    conf.set_override('cpu_dedicated_set', args.dedicated_set, 'compute')
    conf.set_override('connection_uri', args.connection, 'libvirt')
    conf.set_override('virt_type', virt_type, 'libvirt')
    return {'cpu_dedicated_set': args.dedicated_set,
            'connection_uri': args.connection, 'virt_type': virt_type,
            'instances_path': conf.libvirt.instances_path,
            'realtime_scheduler_priority':
                conf.libvirt.realtime_scheduler_priority}


def cmdline(args):
    # isolcpus keeps guest housekeeping off the measured vCPU in both flavors.
    return ('console=ttyS0 quiet isolcpus=%(cpu)d mitigations=off '
            'nrt_secs=%(secs)d nrt_interval=%(interval)d '
            'nrt_buckets=%(buckets)d nrt_cpu=%(cpu)d %(extra)s' % {
                'cpu': MEASURED_VCPU, 'secs': args.duration,
                'interval': args.interval, 'buckets': args.buckets,
                'extra': args.guest_args}).strip()


def read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def host_info(driver, config):
    """Facts a reader needs to judge the numbers, and the host checks."""
    from nova.virt.libvirt import host as host_mod
    from nova.virt.libvirt import host_checks
    from nova.virt.libvirt import host_facts
    model = None
    for line in (read_text('/proc/cpuinfo') or '').splitlines():
        if line.startswith('model name'):
            model = line.split(':', 1)[1].strip()
            break
    conn = driver.host.get_connection()
    info = {
        'kernel': platform.release(), 'cpu_model': model,
        'online_cpus': os.cpu_count(),
        'libvirt_version': conn.getLibVersion(),
        'hypervisor_version': conn.getVersion(),
        'virt_type': config['virt_type'],
        'kvm': os.path.exists('/dev/kvm'),
    }
    facts = host_facts.HostFacts()
    try:
        results = host_checks.run_checks(
            facts, host_mod.get_host_cpu_sets().dedicated, driver.host,
            config['virt_type'])
        info['checks'] = [result.to_dict() for result in results]
    except Exception as e:  # informative only: never stop the benchmark
        info['checks_error'] = str(e)
    memlock = host_checks.check_memlock(facts)
    return info, memlock


class Hogs(object):
    """SCHED_OTHER busy-loop processes pinned to given pCPUs."""

    def __init__(self, pcpus):
        self.procs = [subprocess.Popen([sys.executable, '-c', HOG, str(cpu)])
                      for cpu in pcpus]

    def stop(self):
        for proc in self.procs:
            proc.kill()
            proc.wait()
        self.procs = []


def pinning(guest):
    pins = {pin.id: sorted(pin.cpuset) for pin in guest.cputune.vcpupin}
    emulator = sorted(guest.cputune.emulatorpin.cpuset) \
        if guest.cputune.emulatorpin is not None else []
    return pins, emulator


def spawn_when_free(driver, instance, image_meta, adjust, wait=120):
    """spawn(), waiting while other guests hold the pCPUs (on a shared
    machine another user's guest may be up for a while).
    """
    from nova import exception
    deadline = time.time() + wait
    while True:
        try:
            return driver.spawn(instance, image_meta, adjust_guest=adjust)
        except exception.ComputeResourcesUnavailable:
            if time.time() > deadline:
                raise
            time.sleep(2)


def emulator_fifo(name, priority):
    """SCHED_FIFO for QEMU's non-vCPU threads of guest ``name`` (the
    --emulator-fifo diagnostic); returns the thread names changed.
    """
    pid = int(read_text('/run/libvirt/qemu/%s.pid' % name))
    changed = []
    for tid in os.listdir('/proc/%d/task' % pid):
        comm = read_text('/proc/%d/task/%s/comm' % (pid, tid)) or ''
        if comm.startswith('CPU '):
            continue
        os.sched_setscheduler(int(tid), os.SCHED_FIFO,
                              os.sched_param(priority))
        changed.append(comm)
    return sorted(changed)


def one_run(driver, flavor, index, args, kernel, initrd, drop_locked,
            out_dir):
    """Boot one guest, load it, wait for poweroff; the run's record."""
    import libvirt
    from oslo_utils import uuidutils

    from nova import exception
    from nova import objects
    from nova.virt.libvirt import driver as libvirt_driver

    name = 'nrt-latency-%s-%d' % (flavor, index)
    try:
        driver.destroy(name)  # left over from an interrupted benchmark
    except (libvirt.libvirtError, exception.NovaException):
        pass
    log_path = libvirt_driver.console_log_path(
        name, libvirt_driver.HostContext.from_conf().instances_path)
    shutil.rmtree(os.path.dirname(log_path), ignore_errors=True)

    instance = objects.Instance(
        uuid=uuidutils.generate_uuid(), name=name,
        flavor=objects.Flavor(name='latency-' + flavor, vcpus=2,
                              memory_mb=args.memory,
                              extra_specs=dict(FLAVORS[flavor])))
    instance.kernel_path = kernel
    instance.ramdisk_path = initrd
    image_meta = objects.ImageMeta.from_dict(
        {'properties': {'os_command_line': cmdline(args)}})
    dropped = []

    def adjust(guest):
        # The one change allowed: a host that cannot grant memory locking
        # runs the same guest without <locked/> (said in the output).
        if drop_locked and guest.membacking is not None and \
                guest.membacking.locked:
            guest.membacking.locked = False
            # The hard limit bounding it is QEMU's memlock limit too.
            guest.memtune = None
            dropped.append('locked')

    record = {'flavor': flavor, 'name': name, 'index': index}
    started = time.time()
    guest = spawn_when_free(driver, instance, image_meta, adjust)
    pins, emulator = pinning(guest)
    measured = pins[MEASURED_VCPU][0]
    others = [cpu for cpu in emulator if cpu != measured] or emulator
    if args.emulator_fifo:
        record['emulator_fifo'] = emulator_fifo(name, args.emulator_fifo)
    hogs = Hogs([measured] * args.hogs + others[:1] * args.emulator_hogs)
    record.update(pinning={str(k): v for k, v in pins.items()},
                  emulatorpin=emulator, hog_pcpu=measured,
                  locked_dropped=bool(dropped),
                  vcpusched=[{'vcpus': sorted(s.vcpus),
                              'scheduler': s.scheduler,
                              'priority': s.priority}
                             for s in guest.cputune.vcpusched])
    try:
        domain = driver.host.lookup(name)
        deadline = started + args.duration + args.boot_timeout
        while domain.isActive():
            if time.time() > deadline:
                record['error'] = 'guest still running after %d s' % (
                    deadline - started)
                break
            time.sleep(0.5)
    finally:
        hogs.stop()
        record['seconds'] = round(time.time() - started, 1)
        try:
            driver.destroy(name)
        except libvirt.libvirtError:
            pass
    text = ''
    if os.path.exists(log_path):
        with open(log_path, errors='replace') as f:
            text = f.read()
        shutil.copy(log_path, os.path.join(out_dir, 'console-%s.log' % name))
    if 'error' not in record:
        try:
            parsed = stats.parse_console(text)
        except stats.ConsoleLogError as e:
            record['error'] = str(e)
        else:
            record['guest'] = parsed['info']
            record.update(stats.run_stats(parsed['histogram']))
            record['histogram'] = {str(k): v for k, v in
                                   sorted(parsed['histogram'].buckets.items())}
    return record


def order(runs):
    """RT, non-RT, then non-RT, RT, ...: drift over time hits both."""
    for index in range(runs):
        pair = ('rt', 'nonrt') if index % 2 == 0 else ('nonrt', 'rt')
        for flavor in pair:
            yield flavor, index + 1


def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)


def set_rt_runtime(value):
    with open(RT_RUNTIME, 'w') as f:
        f.write('%d\n' % value)


def header_lines(result):
    config = result['config']
    lines = ['nova-realtime guest latency benchmark, %s' % result['started'],
             'cyclictest in a 2-vCPU guest on vCPU %d: %d s per run, '
             'interval %d us, %d runs per flavor alternating RT / non-RT' % (
                 MEASURED_VCPU, config['duration'], config['interval'],
                 config['runs']),
             'host load: %d SCHED_OTHER busy loop(s) on the measured pCPU, '
             '%d on the emulator pCPU' % (config['hogs'],
                                          config['emulator_hogs']),
             'host: %s, %s, kernel %s, virt_type=%s, '
             'kernel.sched_rt_runtime_us=%s during runs' % (
                 result['host']['cpu_model'],
                 '%d CPUs' % result['host']['online_cpus'],
                 result['host']['kernel'], config['virt_type'],
                 result['sched_rt_runtime_us']['during'])]
    if config['virt_type'] == 'qemu':
        lines.append('NOTE: TCG (no KVM): every guest instruction is '
                     'emulated; absolute numbers are only indicative.')
    if config.get('emulator_fifo'):
        lines.append('DIAGNOSTIC: QEMU emulator threads of both guests set to '
                     'SCHED_FIFO %d after boot (not a driver config)'
                     % config['emulator_fifo'])
    if result['locked_dropped']:
        lines.append('NOTE: <locked/> was DROPPED from the real-time flavor: '
                     'this host cannot grant memory locking (%s). Everything '
                     'else is the driver-built config.'
                     % result['memlock_check'])
    return lines


def per_run_lines(runs):
    lines = ['%-22s %9s %8s %8s %8s %8s %9s' % (
        'run', 'samples', 'p50', 'p99', 'p99.9', 'max', 'overflow')]
    for run in runs:
        if 'error' in run:
            lines.append('%-22s FAILED: %s' % (run['name'], run['error']))
            continue
        lines.append('%-22s %9d %8d %8d %8d %8d %9d' % (
            run['name'], run['samples'], run['p50'], run['p99'],
            run['p99.9'], run['max'], run['overflows']))
    return lines


def plot(runs, path, title_note):
    """Both flavors' latency distributions (all runs merged), log axes."""
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot

    fig, (left, right) = pyplot.subplots(1, 2, figsize=(10, 4), dpi=90)
    colors = {'rt': 'tab:blue', 'nonrt': 'tab:red'}
    for flavor in ('rt', 'nonrt'):
        merged = stats.Histogram()
        for run in runs:
            if run['flavor'] == flavor and 'histogram' in run:
                merged = merged.merged(stats.Histogram(
                    {int(k): v for k, v in run['histogram'].items()},
                    run['overflows']))
        if not merged.count:
            continue
        xs = sorted(merged.buckets)
        total = float(merged.count)
        left.step(xs, [merged.buckets[x] / total for x in xs], where='mid',
                  color=colors[flavor], label=LABELS[flavor], linewidth=0.8)
        remaining = merged.count
        tail = []
        for x in xs:
            tail.append(remaining / total)
            remaining -= merged.buckets[x]
        right.step(xs, tail, where='post', color=colors[flavor],
                   label=LABELS[flavor])
    left.set(xscale='log', yscale='log', xlabel='latency (us)',
             ylabel='fraction of samples per 1 us bucket',
             title='Latency histogram')
    right.set(xscale='log', yscale='log', xlabel='latency (us)',
              ylabel='fraction of samples >= latency',
              title='Tail (complementary CDF)')
    right.axhline(1e-3, color='grey', linestyle=':', linewidth=0.8)
    right.text(right.get_xlim()[0], 1.1e-3, ' p99.9', color='grey',
               fontsize=8)
    for axis in (left, right):
        axis.grid(True, which='major', alpha=0.3)
        axis.legend(fontsize=8)
    fig.suptitle('cyclictest in the guest, host CPU hog on the measured '
                 'pCPU%s' % title_note, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    pyplot.close(fig)


def main(argv=None):
    warnings.simplefilter('ignore')
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if os.geteuid() != 0:
        sys.stderr.write('ERROR: run as root: the benchmark writes %s and '
                         'boots guests on %s\n' % (RT_RUNTIME,
                                                   args.connection))
        return 2
    started = datetime.datetime.now()
    out_dir = os.path.abspath(args.out or os.path.join(
        '/var/tmp/nova-realtime-latency', started.strftime('%Y%m%d-%H%M%S')))
    os.makedirs(out_dir, exist_ok=True)

    from nova import objects
    from nova.virt.libvirt import driver as libvirt_driver
    from nova.virt.libvirt import host as host_mod
    objects.register_all()
    config = configure(args, out_dir)
    print('building the guest (cached after the first time) ...',
          flush=True)
    kernel, initrd, manifest = build_guest()
    driver = libvirt_driver.LibvirtDriver(host_mod.Host(args.connection))
    host, memlock = host_info(driver, config)
    drop_locked = memlock.status == 'FAIL' and not args.keep_locked

    old_rt_runtime = int(read_text(RT_RUNTIME))
    during = old_rt_runtime
    # Put the RT budget back whatever happens: an error, Ctrl-C, or SIGTERM
    # and SIGHUP, which would otherwise end the process without finally.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    try:
        if not args.keep_rt_runtime and old_rt_runtime != -1:
            set_rt_runtime(-1)
            during = -1
        config.update(runs=args.runs, duration=args.duration,
                      interval=args.interval, buckets=args.buckets,
                      memory_mb=args.memory, hogs=args.hogs,
                      emulator_hogs=args.emulator_hogs,
                      emulator_fifo=args.emulator_fifo,
                      guest_cmdline=cmdline(args), flavors=FLAVORS)
        result = {'started': started.isoformat(timespec='seconds'),
                  'config': config, 'host': host, 'guest_build': manifest,
                  'locked_dropped': drop_locked,
                  'memlock_check': memlock.found,
                  'sched_rt_runtime_us': {'before': old_rt_runtime,
                                          'during': during},
                  'runs': []}
        for line in header_lines(result):
            print(line)
        print('output: %s' % out_dir, flush=True)
        for flavor, index in order(args.runs):
            print('run %-6s %d/%d ...' % (flavor, index, args.runs),
                  end=' ', flush=True)
            run = one_run(driver, flavor, index, args, kernel, initrd,
                          drop_locked, out_dir)
            result['runs'].append(run)
            print('FAILED: %s' % run['error'] if 'error' in run else
                  'p99.9 %d us, max %d us (%.0f s)' % (
                      run['p99.9'], run['max'], run['seconds']), flush=True)
    finally:
        if during != old_rt_runtime:
            set_rt_runtime(old_rt_runtime)
    good = [run for run in result['runs'] if 'error' not in run]
    result['summary'] = stats.summarize(good)
    result['finished'] = datetime.datetime.now().isoformat(
        timespec='seconds')

    text = '\n'.join(header_lines(result) + [''] + per_run_lines(
        result['runs']) + ['', stats.format_table(result['summary'])]) + '\n'
    with open(os.path.join(out_dir, 'latency.json'), 'w') as f:
        json.dump(result, f, indent=1, sort_keys=True)
    with open(os.path.join(out_dir, 'summary.txt'), 'w') as f:
        f.write(text)
    print()
    print('\n'.join(per_run_lines(result['runs'])))
    print()
    print(stats.format_table(result['summary']))
    if not args.no_plot and good:
        note = ' (TCG)' if config['virt_type'] == 'qemu' else ''
        if drop_locked:
            note += ', <locked/> dropped'
        plot(good, os.path.join(out_dir, 'latency.png'), note)
    print('\nwrote %s/{latency.json,summary.txt%s,console-*.log}' % (
        out_dir, '' if args.no_plot or not good else ',latency.png'))
    return 0 if good else 1


if __name__ == '__main__':
    sys.exit(main())
