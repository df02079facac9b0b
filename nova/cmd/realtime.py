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

"""nova-realtime: plan, boot, list and delete real-time guests.

Runs the same path nova-compute does (flavor + image -> validation -> NUMA
fit -> libvirt guest) from a shell. Configuration comes from oslo.config as
in any Nova command (``--config-file``, ``--config-dir``); the libvirt
connection is [libvirt] connection_uri, or the URI for [libvirt] virt_type
(``qemu:///system``) when it is empty, as in upstream Nova.
"""

import json
import logging as std_logging
import os
import signal
import sys
import warnings

import libvirt
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import uuidutils

from nova.cmd import launcher
import nova.conf
from nova.conf import placement as placement_conf
from nova.conf import validation
from nova import exception
from nova.i18n import _
from nova import objects
from nova.virt import hardware
from nova.virt import hardware_parse
from nova.virt.libvirt import config_caps
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import host as host_mod
from nova.virt.libvirt import host_checks
from nova.virt.libvirt import host_facts
from nova.virt import upstream_notes

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


# Every extra spec and image property as "--opt KEY=VALUE", with room for
# the other options; more only makes argparse slow (its cost is quadratic).
MAX_ARGUMENTS = 2 * (hardware_parse.MAX_EXTRA_SPECS +
                     hardware_parse.MAX_IMAGE_PROPERTIES) + 64


def _add_connection_arg(parser):
    parser.add_argument('--connection', default=None, metavar='URI',
                        help='Libvirt URI; overrides [libvirt] '
                             'connection_uri.')


def _add_format_arg(parser):
    parser.add_argument('--format', dest='output_format', default='text',
                        choices=('text', 'json'), help='Output format.')


def _add_root_arg(parser, what='/proc and /sys'):
    parser.add_argument('--root', default='/', metavar='DIR',
                        help='Read %s below DIR (for testing).' % what)


def _add_instance_args(parser, name_required):
    # dest must not be 'name': oslo.config keeps the sub-command there.
    parser.add_argument('--name', dest='guest_name', required=name_required,
                        default=None if name_required else 'planned-guest',
                        help='Domain name of the guest.')
    parser.add_argument('--flavor-name', default='custom',
                        help='Name recorded for the flavor.')
    parser.add_argument('--vcpus', required=True,
                        help='Number of guest vCPUs (flavor vcpus).')
    parser.add_argument('--ram', required=True,
                        help='Guest memory in MiB (flavor memory_mb).')
    parser.add_argument('--property', action='append', default=[],
                        metavar='KEY=VALUE',
                        help='Flavor extra spec, e.g. hw:cpu_realtime=yes. '
                             'Repeatable.')
    parser.add_argument('--image-property', action='append', default=[],
                        metavar='KEY=VALUE',
                        help='Image property, e.g. hw_cpu_realtime_mask=^0. '
                             'Repeatable.')
    _add_connection_arg(parser)
    parser.add_argument('--kernel', default=None, metavar='PATH',
                        help='Boot this kernel directly (no disk); its '
                             'command line is the image property '
                             'os_command_line.')
    parser.add_argument('--ramdisk', default=None, metavar='PATH',
                        help='Initramfs for --kernel.')


def add_command_parsers(subparsers):
    plan = subparsers.add_parser(
        'plan', help='Validate and fit a guest as this tree\'s driver (the '
                     'patched nova-compute) would; print its domain XML, and '
                     'a warning for each way upstream nova-compute 34 would '
                     'refuse or build it differently.')
    _add_instance_args(plan, name_required=False)
    plan.add_argument('--host-capabilities', default=None, metavar='FILE',
                      help='Plan against a saved "virsh capabilities" '
                           'document instead of a live host.')
    plan.set_defaults(func=do_plan)

    boot = subparsers.add_parser(
        'boot', help='Define and start a guest; print its pinning.')
    _add_instance_args(boot, name_required=True)
    boot.add_argument('--beside-nova-compute', action='store_true',
                      help='Boot even on a host where nova-compute runs or '
                           'has registered a compute node (its compute_id '
                           'under [DEFAULT] state_path): the guest is '
                           'unknown to Nova and Placement, and nova-compute '
                           'may pin its own guests to the same pCPUs.')
    _add_root_arg(boot, '/proc (where nova-compute is looked for)')
    boot.set_defaults(func=do_boot)

    listing = subparsers.add_parser(
        'list', help='List the guests this tool created.')
    _add_connection_arg(listing)
    _add_format_arg(listing)
    listing.set_defaults(func=do_list)

    delete = subparsers.add_parser('delete', help='Stop and undefine a '
                                                  'guest.')
    delete.add_argument('guest_name', metavar='NAME')
    _add_connection_arg(delete)
    delete.set_defaults(func=do_delete)

    check = subparsers.add_parser(
        'check-host',
        help='Check whether this host can run real-time guests: one line '
             'per check (OK/WARN/FAIL, what was found, the fix). Exit '
             'status: 0 READY (no FAIL); 3 NOT READY (a FAIL, including a '
             'check that could not read its fact); 2 invalid input (e.g. '
             'no such root directory); 1 other error (libvirt unreachable).')
    _add_connection_arg(check)
    _add_format_arg(check)
    _add_root_arg(check)
    check.set_defaults(func=do_check_host)

    verify = subparsers.add_parser(
        'verify',
        help='Check whether running guests are really real-time now: their '
             'vCPU threads\' policy, priority and affinity against the '
             'live domain XML, emulator threads, locked memory, other '
             'threads and IRQs on the real-time pCPUs. Read-only; any '
             'libvirt domain with <vcpusched> or pinning. Exit status: 0 '
             'no FAIL; 3 a FAIL (or a fact it needs could not be read); '
             '2 invalid input (e.g. no such guest); 1 libvirt '
             'unreachable.')
    verify.add_argument('guest_names', nargs='*', metavar='NAME',
                        help='Domain name(s) to verify.')
    verify.add_argument('--all', dest='all_guests', action='store_true',
                        help='Verify every running domain with '
                             '<vcpusched>, <vcpupin> or <vcpu cpuset>.')
    _add_connection_arg(verify)
    _add_format_arg(verify)
    _add_root_arg(verify, '/proc, /sys and /run/libvirt')
    verify.set_defaults(func=do_verify)

    advertise = subparsers.add_parser(
        'advertise',
        help='Keep the [realtime] trait (default CUSTOM_REALTIME_HOST) on '
             'this host\'s compute node resource provider in Placement '
             '(found by nova-compute\'s node UUID in compute_id, else by '
             'libvirt\'s hostname) while check-host finds the host READY, '
             'and off it otherwise; only that trait is changed. Exit '
             'status: 0 the trait matches the verdict (a --dry-run that '
             'could read Placement); 1 libvirt unreachable (the trait was '
             'taken off when Placement answered), or a Placement or node '
             'identity error (no provider, Placement unreachable, conflicts '
             'that did not stop: the trait was not changed); 2 invalid '
             'input or configuration (the trait was taken off when '
             'Placement answered, except with --dry-run). The ERROR line '
             'says where the trait is.')
    when = advertise.add_mutually_exclusive_group()
    when.add_argument('--once', action='store_true',
                      help='One pass, then exit (the default).')
    when.add_argument('--interval', default=None, metavar='SECONDS',
                      help='A pass every SECONDS seconds until SIGTERM; '
                           'only changes and errors are printed.')
    advertise.add_argument('--dry-run', action='store_true',
                           help='Print what would be done; change nothing '
                                'in Placement.')
    _add_connection_arg(advertise)
    _add_root_arg(advertise)
    advertise.set_defaults(func=do_advertise)


command_opt = cfg.SubCommandOpt('command', title='Commands',
                                handler=add_command_parsers,
                                help='Available commands')


def _parse_positive_int(option, value, maximum=None, why=''):
    """A whole number >= 1 (and <= ``maximum``); digits are bounded first.

    ``why`` says where ``maximum`` comes from, for the error.
    """
    if maximum is None:
        rule = _('must be a whole number >= 1')
    else:
        rule = _('must be a whole number from 1 to %(max)d%(why)s') % {
            'max': maximum, 'why': why}
    return hardware.parse_bounded_int(
        option, value, minimum=1, maximum=maximum, rule=rule,
        error=lambda name, value, reason: exception.UsageError(
            option=name, value=value, reason=reason))


def _parse_pairs(option, pairs):
    """KEY=VALUE arguments as a dict; a key given twice is an error.

    Upstream's API takes a dict, where a repeated key cannot happen; on a
    shell line the last one silently winning would hide a typo.
    """
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition('=')
        key = key.strip()
        if not sep or not key:
            raise exception.UsageError(option=option,
                                       value=hardware.display_value(pair),
                                       reason=_('expected KEY=VALUE'))
        if key in result:
            raise exception.UsageError(
                option=option, value=hardware.display_value(pair),
                reason=_('%(key)s is given twice (%(old)r and %(new)r); give '
                         'each key once') %
                {'key': hardware.display_value(key) if key.isprintable()
                 else repr(hardware.display_value(key)),
                 'old': hardware.display_value(result[key]),
                 'new': hardware.display_value(value.strip())})
        result[key] = value.strip()
    return result


def build_request(args):
    """(Instance, ImageMeta) from the command-line arguments.

    Every value is bounded before anything is sized by it: --vcpus by
    MAX_GUEST_VCPUS, --ram by MAX_GUEST_MEMORY_MB, --flavor-name, paths and
    property keys and values by length and XML-safe characters (image
    properties by ImageMeta.from_dict as nova-compute reads them; extra
    specs by the driver when it resolves the request, with the API's
    rules).
    """
    def usage_error(name, value, reason):
        # hardware's checks call what they check 'name'.
        return exception.UsageError(option=name, value=value, reason=reason)

    flavor_name = hardware.check_text(
        '--flavor-name', args.flavor_name, hardware.MAX_FLAVOR_NAME_LENGTH,
        error=usage_error)
    flavor = objects.Flavor(
        name=flavor_name,
        vcpus=_parse_positive_int(
            '--vcpus', args.vcpus, hardware.MAX_GUEST_VCPUS,
            _(', the most vCPUs QEMU gives one guest')),
        memory_mb=_parse_positive_int(
            '--ram', args.ram, hardware.MAX_GUEST_MEMORY_MB,
            _(' MiB (16 TiB)')),
        extra_specs=_parse_pairs('--property', args.property))
    # The image properties are validated as nova-compute reads them; the
    # extra specs once, with the request (the driver's
    # get_instance_constraints).
    image_meta = objects.ImageMeta.from_dict({
        'properties': _parse_pairs('--image-property', args.image_property)})
    instance = objects.Instance(uuid=uuidutils.generate_uuid(),
                                name=args.guest_name, flavor=flavor)
    if args.ramdisk and not args.kernel:
        raise exception.UsageError(option='--ramdisk',
                                   value=hardware.display_value(args.ramdisk),
                                   reason=_('needs --kernel'))
    for option, path in (('--kernel', args.kernel),
                         ('--ramdisk', args.ramdisk)):
        if path is None:
            continue
        # The path goes into the domain XML as it is.
        hardware.check_text(option, path, error=usage_error)
        if not os.path.isfile(path):
            raise exception.UsageError(option=option,
                                       value=hardware.display_value(path),
                                       reason=_('no such file'))
    instance.kernel_path = args.kernel and os.path.abspath(args.kernel)
    instance.ramdisk_path = args.ramdisk and os.path.abspath(args.ramdisk)
    return instance, image_meta


def _host(args):
    return host_mod.Host(uri=getattr(args, 'connection', None))


def do_plan(args):
    instance, image_meta = build_request(args)
    if args.host_capabilities:
        # Read within bounds and checked like what libvirt returns; any
        # problem (CapabilitiesFileInvalid) is one error naming the file.
        try:
            caps = config_caps.LibvirtConfigCaps.from_file(
                args.host_capabilities)
        except exception.Invalid as e:
            raise exception.UsageError(option='--host-capabilities',
                                       value=args.host_capabilities,
                                       reason=e.kwargs.get('reason', str(e)))
        topology = host_mod.host_topology_from_caps(
            caps, host_mod.get_host_cpu_sets())
        driver = libvirt_driver.LibvirtDriver(_host(args))
        guest = driver.plan(instance, image_meta, host_topology=topology)
    else:
        driver = libvirt_driver.LibvirtDriver(_host(args))
        guest = driver.plan(instance, image_meta)
    sys.stdout.write(guest.to_xml())
    # Until the patch series is applied, upstream nova-compute builds the
    # cloud's guests: say where it would not build this one the same way.
    for note in upstream_notes.notes(
            instance, image_meta, guest, CONF.libvirt.virt_type,
            CONF.libvirt.cpu_mode):
        LOG.warning('not as upstream: %s', note)
    return 0


def nova_compute_evidence(root):
    """What shows that nova-compute runs, or ran, on this host: running
    nova-compute processes, and the compute_id it (2023.1 and later) writes
    when it registers the host's compute node. [] when nothing does.
    """
    from nova.compute import realtime_trait

    evidence = []
    processes = host_facts.HostFacts(root).nova_compute_processes()
    if processes:
        pid, command = processes[0]
        evidence.append(_('nova-compute is running: pid %(pid)d %(cmd)s') % {
            'pid': pid, 'cmd': hardware.display_value(command)} + (
            _(' and %d more') % (len(processes) - 1)
            if len(processes) > 1 else ''))
    try:
        node, path = realtime_trait.read_node_uuid()
    except exception.NodeIdentityError as e:
        evidence.append(str(e.kwargs.get('reason')))
    else:
        if node:
            evidence.append(_('%(path)s names compute node %(node)s') % {
                'path': path, 'node': node})
    return evidence


def do_boot(args):
    evidence = nova_compute_evidence(_root_dir(args))
    if evidence and not args.beside_nova_compute:
        raise exception.NovaComputeHere(evidence='; '.join(evidence))
    instance, image_meta = build_request(args)
    if evidence:
        # Seen now, not after the boot: the operator chose this.
        LOG.warning('booting beside nova-compute (%s): Nova and Placement '
                    'do not know this guest, and nova-compute may pin its '
                    'own guests to its pCPUs (check-host\'s guests.pinning '
                    'FAILs when it does)', '; '.join(evidence),
                    extra={'immediate': True})
    driver = libvirt_driver.LibvirtDriver(_host(args))
    # SIGTERM and SIGHUP end a boot as Ctrl-C does, by an exception, so
    # the driver removes what it defined (the console script installs
    # this already; main() may also be called without it).
    launcher.exit_on_signals((signal.SIGTERM, signal.SIGHUP))
    guest = driver.spawn(instance, image_meta)
    sys.stdout.write(format_summary(instance.name, guest, running=True))
    return 0


def _list_entry(name, running, guest, usage):
    entry = {'name': name,
             'state': ('orphan' if usage.orphan else
                       'running' if running else 'shutoff'),
             'pcpus': hardware.format_cpu_spec(usage.taken),
             'problems': list(usage.problems)}
    if guest is not None:
        info = describe_guest(guest)
        entry.update({
            'vcpus': guest.vcpus,
            'realtime_vcpus': info['realtime_spec'],
            'priority': info['priority'],
            'pinning': {str(vcpu): hardware.format_cpu_spec(pcpus)
                        for vcpu, pcpus in sorted(info['pinning'].items())},
            'emulator_pcpus': info['emulator_spec'],
        })
    return entry


def do_list(args):
    driver = libvirt_driver.LibvirtDriver(_host(args))
    rows = driver.list_instances()
    if args.output_format == 'json':
        json.dump({'guests': [_list_entry(*row) for row in rows]},
                  sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write('\n')
        return 0
    if not rows:
        print(_('No guests.'))
        return 0
    print('%-24s %-8s %5s %-10s %-12s %s' % (
        'NAME', 'STATE', 'VCPUS', 'REAL-TIME', 'PCPUS', 'EMULATOR'))
    for name, running, guest, usage in rows:
        state = 'running' if running else 'shutoff'
        if usage.orphan:
            state = 'orphan'
        if guest is None:
            print('%-24s %-8s %5s %-10s %-12s %s' % (
                name, state, '?', '?',
                hardware.format_cpu_spec(usage.taken) or '-', '?'))
            continue
        info = describe_guest(guest)
        print('%-24s %-8s %5d %-10s %-12s %s' % (
            name, state, guest.vcpus,
            info['realtime_spec'] or '-', info['pcpus_spec'] or '-',
            info['emulator_spec'] or '-'))
    return 0


def do_delete(args):
    driver = libvirt_driver.LibvirtDriver(_host(args))
    driver.destroy(args.guest_name)
    print(_('Deleted %s') % args.guest_name)
    return 0


def _root_dir(args):
    """--root, which must be a directory (UsageError otherwise)."""
    root = args.root
    if not os.path.isdir(root):
        raise exception.UsageError(option='--root', value=root, reason=(
            _('not a directory') if os.path.exists(root)
            else _('no such directory')))
    return root


def do_check_host(args):
    """Print every check; the exit status says what the report means.

    0: READY (no check FAILs). 3: NOT READY (a check FAILs, including one
    that could not read its fact). 2: invalid input (UsageError, e.g.
    --root is not a directory; nothing is checked). 1: the check could not
    finish: libvirt is unreachable (the report is still printed, its
    libvirt lines FAIL, and one ERROR line goes to stderr).
    """
    root = _root_dir(args)
    host = _host(args)
    try:
        results = host_checks.run_checks(
            host_facts.HostFacts(root),
            host_mod.get_host_cpu_sets().dedicated, host,
            CONF.libvirt.virt_type)
    finally:
        host.close()
    if args.output_format == 'json':
        sys.stdout.write(host_checks.format_json(results))
    else:
        sys.stdout.write(host_checks.format_text(results))
    if host_checks.libvirt_unreachable(results):
        sys.stdout.flush()
        connection = [r for r in results if r.id == 'libvirt.connection'][0]
        print_error('libvirt: %s' % connection.found)
        return 1
    return 0 if host_checks.host_is_ready(results) else 3


def do_verify(args):
    """Verify running guests against their live XML and /proc.

    0: no check FAILs. 3: a check FAILs (including one that could not
    read a fact the guest's XML promises). 2: invalid input, nothing
    verified (one ERROR line): no NAME and no --all, both, a --root that
    is not a directory, a guest libvirt does not know. 1: libvirt
    unreachable.
    """
    from nova.virt.libvirt import verify as verify_mod

    names = list(args.guest_names)
    if bool(names) == bool(args.all_guests):
        raise exception.UsageError(
            option='NAME', value=' '.join(names) or '',
            reason=_('give guest names or --all, not both')
            if names else _('give guest names or --all'))
    root = _root_dir(args)
    host = _host(args)
    try:
        try:
            reports = verify_mod.verify(host, host_facts.HostFacts(root),
                                        names, args.all_guests)
        except exception.InstanceNotFound as e:
            print_error('no such guest on %s: %s' % (
                host.uri, e.kwargs.get('name')))
            return 2
    finally:
        host.close()
    if args.output_format == 'json':
        sys.stdout.write(verify_mod.format_json(reports))
    else:
        sys.stdout.write(verify_mod.format_text(reports))
    return 0 if verify_mod.all_ok(reports) else 3


def _out(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def advertise_invalid(problem, config_args, connection, dry_run):
    """The error for an advertise command whose configuration or command
    line is invalid: unless it is a --dry-run, the trait is taken off first
    (fail closed), and the error says where it is.
    """
    from nova.compute import realtime_trait

    if dry_run:
        return exception.AdvertiseInvalid(problem=problem, state=_(
            'a dry run, the trait was not changed'))
    state = realtime_trait.withdraw_on_invalid(problem, config_args,
                                               connection, _out)
    return exception.AdvertiseInvalid(problem=problem, state=state)


def advertise_invalid_argv(problem, argv):
    """advertise_invalid for a command line that did not load: the config
    files, --connection and --dry-run are read from ``argv`` as written.
    """
    args = list(argv)
    if '--' in args:
        args = args[:args.index('--')]
    config_args = []
    connection = None
    for index, arg in enumerate(args):
        name, sep, value = arg.partition('=')
        if name not in ('--config-file', '--config-dir', '--connection'):
            continue
        if not sep:
            if index + 1 >= len(args):
                continue
            value = args[index + 1]
        if name == '--connection':
            connection = value
        else:
            config_args += [name, value]
    return advertise_invalid(problem, config_args, connection,
                             '--dry-run' in args)


def do_advertise(args):
    """Keep the real-time trait on this host's provider matching check-host.

    0: the trait matches the verdict (added, removed or already right; a
    --dry-run that read Placement). 1: libvirt unreachable (the trait was
    taken off first when Placement answered), or a Placement or node
    identity error (no provider for this host, Placement unreachable or
    refusing, generation conflicts that did not stop: the trait was not
    changed); one ERROR line. 2: invalid input or configuration: the trait
    is taken off first (not with --dry-run) and the ERROR line says where
    it is. With --interval, errors of status 1 are printed once while they
    last and the loop goes on; SIGTERM ends it with 0.
    """
    from nova.compute import realtime_trait

    try:
        root = _root_dir(args)
        interval = None
        if args.interval is not None:
            interval = _parse_positive_int(
                '--interval', args.interval, realtime_trait.MAX_INTERVAL,
                _(' (a day)'))
    except exception.UsageError as e:
        config_args = []
        for path in CONF.config_file or []:
            config_args += ['--config-file', path]
        for path in CONF.config_dir or []:
            config_args += ['--config-dir', path]
        raise advertise_invalid(str(e), config_args, args.connection,
                                args.dry_run)
    out = _out

    printed = set()

    def print_warnings():
        # A loop does not end soon: the warnings _BufferedStderr holds are
        # printed after each pass, each text once.
        for handler in std_logging.getLogger().handlers:
            if isinstance(handler, _BufferedStderr):
                records, handler.records = handler.records, []
                for record in records:
                    line = '%s: %s' % (record.levelname, record.getMessage())
                    if line not in printed:
                        printed.add(line)
                        sys.stderr.write(line + '\n')
        sys.stderr.flush()

    host = _host(args)
    try:
        try:
            agent = realtime_trait.Advertiser(
                host, lambda: host_facts.HostFacts(root), out,
                dry_run=args.dry_run)
        except exception.PlacementConfigInvalid as e:
            raise exception.AdvertiseInvalid(problem=str(e), state=_(
                'the trait was not changed (Placement cannot be reached '
                'without [placement])'))
        if interval is None:
            agent.run_once()
            return 0
        return agent.run_forever(interval, print_error,
                                 after_pass=print_warnings)
    finally:
        host.close()


def describe_guest(guest):
    pinning = {}
    emulator = set()
    realtime = set()
    priority = None
    if guest.cputune is not None:
        for pin in guest.cputune.vcpupin:
            pinning[pin.id] = set(pin.cpuset)
        if guest.cputune.emulatorpin is not None:
            emulator = set(guest.cputune.emulatorpin.cpuset)
        for sched in guest.cputune.vcpusched:
            realtime |= set(sched.vcpus)
            priority = sched.priority
    pcpus = set().union(*pinning.values()) if pinning else set()
    return {
        'pinning': pinning, 'emulator': emulator, 'realtime': realtime,
        'priority': priority,
        'realtime_spec': hardware.format_cpu_spec(realtime),
        'pcpus_spec': hardware.format_cpu_spec(pcpus),
        'emulator_spec': hardware.format_cpu_spec(emulator),
    }


def format_summary(name, guest, running):
    info = describe_guest(guest)
    lines = [_('Domain: %(name)s (%(state)s)') % {
        'name': name, 'state': 'running' if running else 'defined'}]
    lines.append('%-6s %-6s %s' % ('vCPU', 'pCPU', 'real-time'))
    for vcpu in range(guest.vcpus):
        pcpus = info['pinning'].get(vcpu)
        rt = (_('yes (SCHED_FIFO priority %d)') % info['priority']
              if vcpu in info['realtime'] else _('no'))
        lines.append('%-6d %-6s %s' % (
            vcpu, hardware.format_cpu_spec(pcpus) if pcpus else 'float', rt))
    lines.append(_('Emulator threads: %s') % (
        _('pCPUs %s') % info['emulator_spec'] if info['emulator']
        else _('unpinned')))
    backing = guest.membacking
    if backing is not None:
        memory = []
        if backing.hugepages:
            memory.append(_('huge pages %s') % ', '.join(
                '%d KiB' % page.size_kb for page in backing.hugepages))
        if not backing.sharedpages:
            memory.append(_('no shared pages'))
        if backing.locked:
            memory.append(_('locked'))
        lines.append(_('Memory: %(mb)d MiB, %(how)s') % {
            'mb': guest.memory // 1024, 'how': ', '.join(memory)})
    return '\n'.join(lines) + '\n'


class _BufferedStderr(std_logging.Handler):
    """Holds log records until the command knows whether it succeeded.

    On success they are printed (warnings the operator should see); on a
    handled error only the one-line error is printed, so scripts and people
    get one clear line. ``--debug`` prints everything as it happens.
    """

    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        if getattr(record, 'immediate', False):
            # Something the operator must see while it happens (waiting
            # for the host lock), not after the command ends.
            sys.stderr.write('%s: %s\n' % (
                record.levelname, record.getMessage()))
            sys.stderr.flush()
            return
        self.records.append(record)

    def flush_to(self, stream):
        for record in self.records:
            stream.write('%s: %s\n' % (record.levelname, record.getMessage()))
        self.records = []


# Commands that change something on the host and so must leave their log
# where the operator asked for it; every other command (advertise too,
# whose pass must not be held up by its log) goes on without the file.
LOGGED_COMMANDS = frozenset(('boot', 'delete'))


def log_file_problem():
    """None, or one line on why the configured log file cannot be written.

    A missing log directory is created (mode 0750), as nova-compute's
    packaging would have.
    """
    if CONF.log_config_append:
        if not os.path.isfile(CONF.log_config_append):
            return _('[DEFAULT] log_config_append = %s: no such logging '
                     'configuration file') % CONF.log_config_append
        return None
    if CONF.log_file:
        option = 'log_file'
        path = (os.path.join(CONF.log_dir, CONF.log_file) if CONF.log_dir
                else CONF.log_file)
    elif CONF.log_dir:
        option = 'log_dir'
        path = os.path.join(CONF.log_dir, os.path.basename(
            sys.argv[0] or 'nova-realtime') + '.log')
    else:
        return None
    directory = os.path.dirname(os.path.abspath(path))
    where = _('[DEFAULT] %(option)s = %(value)s') % {
        'option': option, 'value': CONF[option]}
    if not os.path.isdir(directory):
        try:
            os.makedirs(directory, 0o750)
        except OSError as e:
            return _('%(where)s: cannot create the log directory %(dir)s: '
                     '%(why)s') % {'where': where, 'dir': directory,
                                   'why': e.strerror or e}
    if not os.access(directory, os.W_OK | os.X_OK):
        return _('%(where)s: the log directory %(dir)s is not writable by '
                 'uid %(uid)d') % {'where': where, 'dir': directory,
                                   'uid': os.getuid()}
    if os.path.isdir(path):
        return _('%(where)s: %(path)s is a directory, not a file') % {
            'where': where, 'path': path}
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return _('%(where)s: %(path)s is not writable by uid %(uid)d') % {
            'where': where, 'path': path, 'uid': os.getuid()}
    return None


def setup_logging(command):
    """Logging as configured, with or without --debug.

    The log file, syslog or journal named in nova.conf or on the command
    line get every message from INFO up (DEBUG with --debug). stderr gets
    what _BufferedStderr holds (warnings, after the command succeeded) or,
    with --debug and no log file, everything as it happens. A log file that
    cannot be written stops boot and delete (LoggingUnavailable); any other
    command says so in one WARNING line and goes on without it. Returns the
    _BufferedStderr handler (None with --debug).
    """
    problem = log_file_problem()
    if problem:
        if command in LOGGED_COMMANDS:
            raise exception.LoggingUnavailable(problem=problem,
                                               command=command)
        sys.stderr.write('WARNING: %s; not logging to a file\n' %
                         validation.one_line(problem))
        for option in ('log_file', 'log_dir', 'log_config_append'):
            CONF.set_override(option, None)
    configured = bool(CONF.log_file or CONF.log_dir or
                      CONF.log_config_append or CONF.use_syslog or
                      CONF.use_journal)
    root = std_logging.getLogger()
    if CONF.debug or configured:
        try:
            logging.setup(CONF, 'nova-realtime')
        except (logging.LogConfigError, OSError, ValueError) as e:
            raise exception.LoggingUnavailable(problem=_(
                'cannot set up logging: %s') % e, command=command)
        if CONF.debug:
            return None
        if not CONF.log_config_append:
            # oslo.log's own console handler (stdout when nothing else is
            # configured): stdout is the command's output, stderr is
            # _BufferedStderr's.
            root.handlers = [
                handler for handler in root.handlers
                if not (isinstance(handler, std_logging.StreamHandler) and
                        not isinstance(handler, std_logging.FileHandler) and
                        handler.stream in (sys.stdout, sys.stderr))]
    else:
        root.handlers = []
        root.setLevel(std_logging.WARNING)
    buffered = _BufferedStderr()
    buffered.setLevel(std_logging.WARNING)
    root.addHandler(buffered)
    return buffered


def print_error(message):
    """The one ERROR line of a failed command, on stderr. Characters that
    could end the line or drive a terminal (newlines, escape sequences from
    a name or a file) are shown escaped.
    """
    sys.stderr.write('ERROR: %s\n' % validation.one_line(message))
    sys.stderr.flush()


def version_string():
    """This package's version, as pbr computes it."""
    import pbr.version  # importlib.metadata: 20 ms, for --version only
    return pbr.version.VersionInfo('nova-realtime').version_string()


def asked_version(argv):
    """Whether ``argv`` may ask for --version (argparse takes any prefix
    of it, such as --vers): only then is the version worth computing.
    """
    return any(len(arg) > 3 and '--version'.startswith(arg)
               for arg in argv)


# Options of the command itself (oslo.config's and oslo.log's), accepted
# after the sub-command too: (name, takes a value).
GLOBAL_OPTIONS = {'--config-file': True, '--config-dir': True,
                  '--debug': False, '-d': False, '--nodebug': False,
                  '--log-file': True, '--log-dir': True}


# The sub-commands add_command_parsers declares (a test keeps the two in
# step; building the parsers here only to read their names would cost every
# command a second argparse set-up).
COMMANDS = frozenset(('plan', 'boot', 'list', 'delete', 'check-host',
                      'verify', 'advertise'))


def sub_command(argv):
    """The sub-command named in ``argv`` (None when there is none)."""
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == '--':
            return None
        if arg in COMMANDS:
            return arg
        if GLOBAL_OPTIONS.get(arg.split('=', 1)[0]) and '=' not in arg:
            index += 1
        index += 1
    return None


def hoist_global_options(argv):
    """``argv`` with the global options found after the sub-command moved
    in front of it, so ``nova-realtime plan ... --config-file X`` means
    what ``nova-realtime --config-file X plan ...`` means.
    """
    argv = list(argv)
    position = None
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == '--':
            break
        if arg in COMMANDS:
            position = index
            break
        name = arg.split('=', 1)[0]
        if GLOBAL_OPTIONS.get(name) and '=' not in arg:
            index += 1
        index += 1
    if position is None:
        return argv
    head, tail = argv[:position], argv[position:]
    moved, kept = [], []
    index = 0
    while index < len(tail):
        arg = tail[index]
        if arg == '--':
            kept.extend(tail[index:])
            break
        name = arg.split('=', 1)[0]
        if name in GLOBAL_OPTIONS:
            moved.append(arg)
            if GLOBAL_OPTIONS[name] and '=' not in arg and \
                    index + 1 < len(tail):
                moved.append(tail[index + 1])
                index += 1
        else:
            kept.append(arg)
        index += 1
    return head + moved + kept


def main(argv=None):
    """Run one command; the exit status (Ctrl-C anywhere: 130)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        return 130


def _main(argv):
    warnings.simplefilter('ignore')
    objects.register_all()
    logging.register_options(CONF)
    CONF.register_cli_opt(command_opt)
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) > MAX_ARGUMENTS:
        # argparse's cost grows with the square of the argument count.
        print_error(
            '%d command-line arguments: at most %d are accepted (a '
            'flavor has at most %d extra specs and an image at most %d '
            'properties)' % (
                len(argv), MAX_ARGUMENTS, hardware_parse.MAX_EXTRA_SPECS,
                hardware_parse.MAX_IMAGE_PROPERTIES))
        return 2
    argv = hoist_global_options(argv)
    if sub_command(argv) == 'advertise':
        # The only command that talks to Placement; the others do not load
        # keystoneauth1 (nova.conf.validation knows [placement]'s names).
        placement_conf.register_opts(CONF)
    try:
        # Every option of every sub-command is checked here: a bad nova.conf
        # is one ERROR line (file, [section] option = value, rule), status 2.
        validation.load(CONF, argv, project='nova', prog='nova-realtime',
                        version=version_string() if asked_version(argv)
                        else 'unread')
    except exception.Invalid as e:
        if sub_command(argv) == 'advertise':
            # Fail closed: the trait comes off what cannot be judged.
            e = advertise_invalid_argv(str(e), argv)
        print_error(e)
        return 2
    args = CONF.command
    try:
        buffered = setup_logging(args.name)
    except exception.LoggingUnavailable as e:
        print_error(e)
        return 2
    try:
        status = args.func(args)
    except exception.Invalid as e:
        print_error(e)
        return 2
    except exception.NovaException as e:
        print_error(e)
        return 1
    except libvirt.libvirtError as e:
        print_error('libvirt: %s' % e.get_error_message())
        return 1
    if buffered is not None:
        sys.stdout.flush()
        buffered.flush_to(sys.stderr)
    return status


if __name__ == '__main__':
    sys.exit(main())
