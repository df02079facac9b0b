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

"""Load nova.conf and refuse a bad one before any sub-command runs.

A configuration error is an input error: ``load()`` raises one
``ConfigFileInvalid`` whose message names the file (and line), the
``[section] option = value`` at fault and the rule it breaks, and the command
prints it as a single ``ERROR:`` line with exit status 2 -- never a
traceback, never a silently ignored setting.

What is checked, in this order (the first fault is reported):

1. Every config file oslo.config is going to read (``--config-file``,
   ``--config-dir``, or the default ``nova.conf`` locations), in oslo's order:
   it must exist, be a regular file, be readable, be UTF-8 text and parse as
   an INI file. A ``--config-dir`` must be a directory.
2. Values of command-line options (``[DEFAULT] debug`` ...) written in those
   files, which oslo.config converts while parsing the command line (a bad
   one used to end the process with an unexplained usage message).
3. ``$name`` substitutions in file values (oslo.config resolves them on
   read): each must name an option this tool registers, in the same
   section, in ``[DEFAULT]`` or as ``$section.option``, and they must not
   loop (``debug = $debug`` used to end in a RecursionError).
4. Misspelt sections and options. The operator points this tool at the
   host's existing nova.conf, which has many sections and options for parts
   of nova (and other services) that this tool does not implement, so an
   unknown name is not an error by itself. The rules:

   * An unknown **section** is an error only when its name is close
     (``difflib`` ratio >= ``SIMILARITY``, case-insensitive) to a section this
     tool reads -- ``[DEFAULT]``, ``[oslo_concurrency]`` and the groups of
     ``nova.conf.opts`` (``[libvirt]``, ``[compute]``) -- and is not one of
     upstream nova's own sections (``UPSTREAM_SECTIONS``): ``[libvrt]``,
     ``[compte]``, ``[default]`` (oslo.config only reads ``[DEFAULT]`` in
     upper case; other names are case-insensitive, so ``[LIBVIRT]`` is
     fine). Anything else (``[placement]``, ``[keystone_authtoken]``,
     ``[database]``, ``[api]`` ...) is ignored.
   * ``[DEFAULT]`` is never checked for unknown options: every nova service
     and library puts its own options there.
   * ``[libvirt]`` and ``[compute]`` (``SHARED_SECTIONS``) are shared with
     upstream nova, which has many options there this tool does not
     implement (``images_type``, ``cpu_mode``, ``live_migration_*`` ...).
     An unknown option in them is an error only when it is a close
     misspelling of one of *our* options (``conection_uri``) or exactly the
     name of an option of another section of ours (``cpu_dedicated_set``
     under ``[libvirt]``); otherwise it is ignored.
   * ``[oslo_concurrency]``, and any section of ``nova.conf.opts`` not in
     SHARED_SECTIONS (a future ``[realtime]``), is owned in full: any
     unknown option there is an error, with a "did you mean" when a known
     option is close, else the list of its options.
   * Sections that libraries register on the same CONF
     (``[oslo_versionedobjects]`` ...) get the misspelling rule only.

5. Every registered option of every group is read once, which makes
   oslo.config apply its type, min/max and choices checks now rather than
   lazily (with a traceback) in the middle of a command. An empty value of
   a non-string option (``realtime_scheduler_priority =``), which
   oslo.config reads as None rather than the default, is an error too.
   Then ``[compute] cpu_dedicated_set`` / ``cpu_shared_set`` must parse as
   CPU specs, name at least one CPU and not overlap.
6. ``[oslo_concurrency] lock_path`` is a writable directory, or can be
   created (oslo.concurrency creates it): ``boot`` takes an external file
   lock there. Checked for every command like everything else here; not
   checked when ``disable_process_locking`` is set.
7. The log file (``[DEFAULT] log_file``, ``log_dir``) is a usable path.
   Whether its directory exists (it is created) or can be written is the
   command's business (nova.cmd.realtime.setup_logging): read-only
   commands go on without the file, after one WARNING line.
"""

import contextlib
import difflib
import errno
import glob
import io
import os
import re
import stat
import sys

from oslo_config import cfg
from oslo_config import iniparser
from oslo_config import types

from nova.conf import placement
from nova import exception
from nova.i18n import _

# Minimum difflib.SequenceMatcher ratio for a name to count as a misspelling
# of a known one. 0.8 catches a dropped, doubled or swapped letter in names
# of 6 characters and more (libvrt, compte, conection_uri: 0.92-0.96), but
# not upstream nova's own names near ours (images_type vs virt_type: 0.6,
# cpu_shared_set vs cpu_dedicated_set: 0.71, vault vs DEFAULT: 0.67).
SIMILARITY = 0.8
# The same for a value among an option's few choices (kvn -> kvm: 0.67); it
# only adds a hint to a message that is an error anyway.
CHOICE_SIMILARITY = 0.6

# Sections of an upstream nova.conf (nova and the libraries it configures)
# that are never taken for a misspelling of one of ours, whatever the
# similarity: a safety net under SIMILARITY.
UPSTREAM_SECTIONS = frozenset((
    'api', 'api_database', 'barbican', 'barbican_service_user', 'cache',
    'cinder', 'compute', 'conductor', 'console', 'consoleauth', 'cors',
    'cyborg', 'database', 'devices', 'ephemeral_storage_encryption',
    'filter_scheduler', 'glance', 'guestfs', 'healthcheck', 'hyperv',
    'image_cache', 'ironic', 'key_manager', 'keystone',
    'keystone_authtoken', 'libvirt', 'manila', 'metrics', 'mks',
    'neutron', 'notifications', 'os_brick', 'os_vif_linux_bridge',
    'os_vif_ovs', 'oslo_concurrency', 'oslo_limit', 'oslo_messaging_amqp',
    'oslo_messaging_kafka', 'oslo_messaging_notifications',
    'oslo_messaging_rabbit', 'oslo_middleware', 'oslo_policy',
    'oslo_reports', 'oslo_versionedobjects', 'pci', 'placement',
    'placement_database', 'powervm', 'privsep', 'privsep_osbrick',
    'profiler', 'quota', 'rdp', 'remote_debug', 'scheduler',
    'serial_console', 'service_user', 'spice', 'upgrade_levels', 'vault',
    'vendordata_dynamic_auth', 'vif_plug_linux_bridge_privileged',
    'vif_plug_ovs_privileged', 'vmware', 'vnc', 'workarounds', 'wsgi',
    'xenserver', 'xvp', 'zvm'))

# Sections of upstream nova.conf that hold options this tool does not
# implement (see the module docstring). Groups we register that are not
# listed here are owned in full. DEFAULT is never checked for options.
# [placement] holds keystoneauth1's options, whose auth plugin options
# depend on auth_type: only misspellings of ours are judged there.
SHARED_SECTIONS = ('libvirt', 'compute', 'placement')

_WRITABLE_DIR = os.W_OK | os.X_OK
# Longest value quoted in a message; the rest is elided.
_MAX_SHOWN = 120


def one_line(text):
    """``text`` with every character that could end a line escaped.

    Keeps an error message on one line whatever a config file contains
    (``str.splitlines`` also splits on \\v, \\f, \\x1c-\\x1e, \\x85,
    \\u2028 and \\u2029, so every non-printable character is escaped).
    """
    text = str(text)
    if text.isprintable():
        return text
    return ''.join(c if c.isprintable() else
                   c.encode('unicode_escape').decode('ascii')
                   for c in text)


def _show(value):
    value = one_line(value)
    if len(value) > _MAX_SHOWN:
        value = value[:_MAX_SHOWN] + '...'
    return value


def _did_you_mean(name, known, fmt='%s', cutoff=SIMILARITY):
    """'; did you mean X?' for the known name closest to ``name``, or ''."""
    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1,
                                      cutoff=cutoff)
    if not close:
        return ''
    return _('; did you mean %s?') % (fmt % lowered[close[0]])


def _invalid(reason, path=None, line=None, section=None, option=None,
             value=None):
    """ConfigFileInvalid: '<file>:<line>: [section] option = value: rule'."""
    parts = []
    if path is not None:
        shown = _show(path) or "''"
        parts.append(shown if line is None else '%s:%d' % (shown, line))
    if section is not None:
        what = '[%s]' % _show(section)
        if option is not None:
            what += ' %s' % _show(option)
            if value is not None:
                what += ' = %s' % _show(value)
        parts.append(what)
    parts.append(one_line(reason))
    return exception.ConfigFileInvalid(
        message=': '.join(parts), path=path, line=line, section=section,
        option=option, value=value, reason=reason)


class _ParsedFile(cfg.ConfigParser):
    """One config file parsed by oslo.config's own parser, with line numbers.

    ``sections`` is ``{section: {key: [value, ...]}}`` as oslo.config sees
    it; ``lines`` maps ``(section, None)`` and ``(section, key)`` to the line
    of the first header / the last assignment (the one that wins).
    """

    def __init__(self, path):
        super().__init__(path, {})
        self.path = path
        self.lines = {}
        self._key_line = None

    def read(self):
        try:
            # oslo.config expands ~ in file names given on the command line.
            with open(os.path.expanduser(self.path), 'rb') as f:
                data = f.read()
        except FileNotFoundError:
            raise _invalid(_('no such config file'), self.path)
        except IsADirectoryError:
            raise _invalid(_('is a directory, not a config file (use '
                             '--config-dir for a directory of *.conf '
                             'files)'), self.path)
        except PermissionError:
            raise _invalid(_('cannot read the config file: permission '
                             'denied (uid %d)') % os.getuid(), self.path)
        except OSError as e:
            raise _invalid(_('cannot read the config file: %s') %
                           (e.strerror or e), self.path)
        except ValueError as e:  # a NUL character in the path
            raise _invalid(_('not a usable path: %s') % e, self.path)
        try:
            text = data.decode('utf-8')
        except UnicodeDecodeError as e:
            line = data.count(b'\n', 0, e.start) + 1
            raise _invalid(
                _('not UTF-8 text: byte 0x%(byte)02x at line %(line)d; '
                  'save the file as UTF-8') %
                {'byte': data[e.start], 'line': line}, self.path)
        if text.startswith('\ufeff'):
            raise _invalid(_('starts with a byte-order mark, which '
                             'oslo.config reads as part of the first line; '
                             'save the file as UTF-8 without BOM'),
                           self.path, 1)
        # Universal newlines, as oslo.config's open() in text mode.
        lines = io.StringIO(text, newline=None).readlines()
        try:
            iniparser.BaseParser.parse(self, lines)
        except iniparser.ParseError as e:
            reason = _('not an INI line: %s') % e.msg
            if e.line is not None:
                reason += ': %r' % e.line
            raise _invalid(reason, self.path, e.lineno)
        return self

    def new_section(self, section):
        super().new_section(section)
        self.lines.setdefault((section, None), self.lineno)

    def _split_key_value(self, line):
        self._key_line = self.lineno
        return super()._split_key_value(line)

    def assignment(self, key, value):
        super().assignment(key, value)
        self.lines[(self.section, key)] = self._key_line or self.lineno


def _normalize(section):
    # oslo.config reads section names case-insensitively, except DEFAULT.
    return section if section == 'DEFAULT' else section.lower()


def _is_option(arg, name):
    return arg == name or arg.startswith(name + '=')


def _option_value(argv, i, name):
    arg = argv[i]
    if arg == name:
        return argv[i + 1] if i + 1 < len(argv) else None
    return arg[len(name) + 1:]


def _conf_dir_files(path):
    # Exactly oslo.config's pattern (unescaped), so the same files are read.
    return sorted(glob.glob(os.path.join(path, '*.conf')))


def _config_files(argv, project, prog, default_config_files=None,
                  default_config_dirs=None):
    """The files oslo.config will read for ``argv``, in its order.

    Mirrors ``ConfigOpts._parse_config_files``: the default files and
    directories unless --config-file / --config-dir are given, then each
    --config-file and --config-dir in command-line order. Raises
    ConfigFileInvalid for a --config-dir that is not a directory.
    """
    argv = list(argv)
    if '--' in argv:
        argv = argv[:argv.index('--')]
    files = []
    if not any(_is_option(a, '--config-file') for a in argv):
        if default_config_files is None:
            default_config_files = cfg.find_config_files(project, prog)
        files.extend(default_config_files)
    if not any(_is_option(a, '--config-dir') for a in argv):
        if default_config_dirs is None:
            default_config_dirs = cfg.find_config_dirs(project, prog)
        for path in default_config_dirs:
            if os.path.exists(path):
                files.extend(_conf_dir_files(path))
    for i, arg in enumerate(argv):
        if _is_option(arg, '--config-file'):
            path = _option_value(argv, i, '--config-file')
            if path is not None:
                files.append(path)
        elif _is_option(arg, '--config-dir'):
            path = _option_value(argv, i, '--config-dir')
            if path is None:
                continue
            path = os.path.expanduser(path)
            if not os.path.isdir(path):
                raise _invalid(
                    _('--config-dir: no such directory') if not
                    os.path.exists(path) else
                    _('--config-dir: not a directory (use --config-file '
                      'for a single file)'), path)
            files.extend(_conf_dir_files(path))
    return files


def _registered(conf):
    """(group name or None, Opt, is_cli) of every registered option.

    oslo.config has no public accessor for the Opt objects of a ConfigOpts
    (the sample generator uses entry points instead); ``_opts`` and
    ``_groups`` have been stable since the first release.
    """
    for info in conf._opts.values():
        yield None, info['opt'], info['cli']
    for name, group in conf._groups.items():
        for info in group._opts.values():
            yield name, info['opt'], info['cli']


def _names(group, opt):
    """(section, key) pairs oslo.config reads ``opt`` of ``group`` from."""
    section = group or 'DEFAULT'
    names = [(section, opt.dest)]
    for dep in opt.deprecated_opts:
        names.append((_normalize(dep.group or section),
                      (dep.name or opt.dest).replace('-', '_')))
    return names


def _find(parsed, group, opt):
    """(path, line, raw value) of the value that wins for ``opt``, or None.

    Later files win, as in oslo.config; within a file the last assignment.
    """
    names = _names(group, opt)
    for pf in reversed(parsed):
        for wanted_section, key in names:
            for section, values in pf.sections.items():
                if _normalize(section) == wanted_section and key in values:
                    return (pf.path, pf.lines.get((section, key)),
                            values[key][-1], section, key)
    return None


def _rule(opt, raw, error=None):
    """The rule ``raw`` broke, in words, from the option's type."""
    kind = opt.type
    if isinstance(kind, types.Boolean):
        return _('must be true or false (yes/no, on/off and 1/0 are also '
                 'accepted)')
    choices = getattr(kind, 'choices', None)
    if choices:
        known = [str(c) for c in choices]
        return (_('must be one of: %s') % ', '.join(known) +
                _did_you_mean(str(raw).strip(), known,
                              cutoff=CHOICE_SIMILARITY))
    if isinstance(kind, types.Number):
        word = (_('an integer') if isinstance(kind, types.Integer)
                else _('a number'))
        low, high = kind.min, kind.max
        if low is not None and high is not None:
            return _('must be %(word)s from %(min)g to %(max)g') % {
                'word': word, 'min': low, 'max': high}
        if low is not None:
            return _('must be %(word)s of at least %(min)g') % {
                'word': word, 'min': low}
        if high is not None:
            return _('must be %(word)s of at most %(max)g') % {
                'word': word, 'max': high}
        return _('must be %s') % word
    try:
        kind(raw)
    except ValueError as e:
        return str(e)
    except Exception:
        pass
    if error is not None:
        return str(error)
    return _('not a valid %r value') % kind


def _env_name(group, opt):
    return 'OS_%s__%s' % ((group or 'DEFAULT').upper(), opt.dest.upper())


def _value_error(parsed, group, opt, error):
    section = group or 'DEFAULT'
    found = _find(parsed, group, opt)
    if isinstance(error, RecursionError):
        reason = _('a $name substitution refers back to itself')
    elif isinstance(error, cfg.TemplateSubstitutionError):
        reason = _('%s; write $$ for a literal $') % error.msg
    elif found is not None:
        reason = _rule(opt, found[2], error)
    else:
        reason = str(error)
    if found is not None:
        path, line, raw, section, key = found
        return _invalid(reason, path, line, section, key, raw)
    env = _env_name(group, opt)
    if env in os.environ:
        return _invalid(reason, _('environment variable %s') % env,
                        section=section, option=opt.dest,
                        value=os.environ[env])
    return _invalid(reason, section=section, option=opt.dest)


def _check_cli_values(conf, parsed):
    """Values of CLI options in the files, which oslo converts in CONF()."""
    for group, opt, cli in _registered(conf):
        if not cli or opt.positional:
            continue
        found = _find(parsed, group, opt)
        if found is None:
            continue
        path, line, raw, section, key = found
        values = _find_all(parsed, group, opt) if opt.multi else [raw]
        if any(_references(value) for value in values):
            continue  # left to oslo.config (see load())
        try:
            for value in values:
                # What oslo converts: '$$' and '\$' are a literal '$'.
                opt.type(cfg.ConfigOpts.Template(
                    value.replace('\\$', '$$')).safe_substitute({}))
        except Exception:
            raise _invalid(_rule(opt, raw), path, line, section, key, raw)


def _cli_value_error(conf, parsed, text):
    """ConfigFileInvalid from oslo's 'argument --debug: Invalid ...' text."""
    text = text.strip()
    match = re.match(r'argument --([\w-]+):', text)
    for group, opt, cli in _registered(conf):
        if match and cli and opt.dest == match.group(1).replace('-', '_'):
            found = _find(parsed, group, opt)
            if found is not None:
                path, line, raw, section, key = found
                return _invalid(text, path, line, section, key, raw)
    return _invalid(text)


def _references(raw):
    """The ``$name`` / ``${name}`` substitutions in ``raw``, as oslo sees them.
    """
    if not isinstance(raw, str) or '$' not in raw:
        return []
    raw = raw.replace('\\$', '$$')
    names = []
    for match in cfg.ConfigOpts.Template.pattern.finditer(raw):
        name = match.group('named') or match.group('braced')
        if name:
            names.append(name)
    return names


def _resolve(conf, registered, group, name):
    """(group, dest) that ``$name`` read from ``group`` refers to; or a
    reason (str) why it refers to nothing, as oslo.config resolves it.
    """
    if '.' in name:
        target_group, option = name.split('.', 1)
        if (target_group, option) in registered:
            return (target_group, option)
    elif (group, name) in registered:
        return (group, name)
    if (None, name) in registered:
        return (None, name)
    if name in conf._groups:
        return _('$%s names a section, not an option') % name
    looked_in = '[%s]' % (group or 'DEFAULT')
    if group is not None:
        looked_in += _(' or [DEFAULT]')
    return (_('$%(name)s is not an option nova-realtime has in %(where)s '
              '(write $section.option for an option of another section, '
              '$$ for a literal $)') % {'name': name, 'where': looked_in})


def _check_substitutions(conf, parsed):
    """Every $name in a file value names an option, and none loops."""
    registered = {(group, opt.dest): opt
                  for group, opt, _cli in _registered(conf)}

    def refs(key):
        found = _find(parsed, key[0], registered[key])
        return _references(found[2]) if found else []

    for key, opt in registered.items():
        found = _find(parsed, key[0], opt)
        if found is None or '$' not in found[2]:
            continue
        path, line, raw, section, option = found
        # Depth-first along the references, looking for an unknown name
        # or a way back to an option already on the path.
        stack = [(key, [key])]
        seen = set()
        while stack:
            current, trail = stack.pop()
            for name in refs(current):
                target = _resolve(conf, registered, current[0], name)
                if isinstance(target, str):
                    if current == key:
                        raise _invalid(target, path, line, section, option,
                                       raw)
                    continue  # reported when that option is checked
                if target in trail:
                    loop = ' -> '.join(
                        '$%s' % d if g is None else '$%s.%s' % (g, d)
                        for g, d in trail[trail.index(target):] + [target])
                    raise _invalid(_('the substitutions loop: %s') % loop,
                                   path, line, section, option, raw)
                if target not in seen:
                    seen.add(target)
                    stack.append((target, trail + [target]))


def _find_all(parsed, group, opt):
    values = []
    names = _names(group, opt)
    for pf in parsed:
        for section, entries in pf.sections.items():
            for wanted_section, key in names:
                if _normalize(section) == wanted_section and key in entries:
                    values.extend(entries[key])
    return values


def _own_sections(conf):
    """Sections this tool reads: DEFAULT, its option groups, the lock's."""
    from nova.conf import opts
    own = {'DEFAULT', 'oslo_concurrency'}
    own.update(opts.group_names())
    return own


def _check_names(conf, parsed):
    """Misspelt sections and options (rules in the module docstring)."""
    known_sections = {'DEFAULT'}
    options = {}
    for group, opt, _cli in _registered(conf):
        for section, key in _names(group, opt):
            known_sections.add(section)
            options.setdefault(section, set()).add(key)
        if group is not None:
            known_sections.add(group)
            options.setdefault(group, set())
    if placement.placement_group.name not in options:
        # Not registered (only advertise talks to Placement): its names
        # still tell a misspelling from an auth plugin's option.
        known_sections.add(placement.placement_group.name)
        options[placement.placement_group.name] = set(placement.OPTION_NAMES)
    own = _own_sections(conf)
    for pf in parsed:
        for section, entries in pf.sections.items():
            normalized = _normalize(section)
            line = pf.lines.get((section, None))
            if normalized not in known_sections:
                hint = ('' if normalized in UPSTREAM_SECTIONS else
                        _did_you_mean(section, own, '[%s]'))
                if hint:
                    raise _invalid(
                        _('unknown section, its options are ignored') + hint,
                        pf.path, line, section)
                continue
            if normalized == 'DEFAULT':
                continue
            known = options.get(normalized, set())
            for key in entries:
                if key in known:
                    continue
                line = pf.lines.get((section, key))
                value = entries[key][-1]
                elsewhere = sorted(s for s, names in options.items()
                                   if key in names and s in own and
                                   s != 'DEFAULT')
                if elsewhere and normalized in own:
                    raise _invalid(
                        _('not an option of [%(here)s]; it belongs in '
                          '[%(there)s]') % {'here': normalized,
                                            'there': elsewhere[0]},
                        pf.path, line, section, key, value)
                hint = _did_you_mean(key, known)
                if hint:
                    raise _invalid(_('unknown option') + hint,
                                   pf.path, line, section, key, value)
                if normalized in own and normalized not in SHARED_SECTIONS:
                    raise _invalid(
                        _('unknown option; [%(section)s] has: %(known)s') %
                        {'section': normalized,
                         'known': ', '.join(sorted(known))},
                        pf.path, line, section, key, value)


def _check_values(conf, parsed):
    """Read every registered option: type, min/max, choices, $subst."""
    for group, opt, _cli in _registered(conf):
        if opt.positional or isinstance(opt, cfg.SubCommandOpt):
            continue
        try:
            if group is None:
                value = getattr(conf, opt.dest)
            else:
                value = getattr(getattr(conf, group), opt.dest)
        except Exception as e:
            raise _value_error(parsed, group, opt, e)
        if value is None and opt.default is not None:
            # An empty value in the file: oslo.config reads it as None
            # ("unset") for non-string types, which the code never expects.
            found = _find(parsed, group, opt)
            if found is not None:
                path, line, raw, section, key = found
                raise _invalid(
                    _('%(rule)s; an empty value is not the default: remove '
                      'the line for the default %(default)s') %
                    {'rule': _rule(opt, raw), 'default': opt.default},
                    path, line, section, key, raw)


def _located(parsed, conf, group, name, reason):
    """ConfigFileInvalid for option ``name`` of ``group`` (None: DEFAULT)."""
    opt = None
    for g, o, _cli in _registered(conf):
        if g == group and o.dest == name:
            opt = o
    found = _find(parsed, group, opt) if opt is not None else None
    if found is not None:
        path, line, raw, section, key = found
        return _invalid(reason, path, line, section, key, raw)
    value = (getattr(conf, name) if group is None
             else getattr(getattr(conf, group), name))
    return _invalid(reason, section=group or 'DEFAULT', option=name,
                    value='%s (the default)' % value)


def _check_cpu_sets(conf, parsed):
    from nova.virt import hardware_parse
    try:
        hardware_parse.parse_host_cpu_sets(conf.compute.cpu_dedicated_set,
                                           conf.compute.cpu_shared_set)
    except exception.ConfigurationInvalid as e:
        raise _located(parsed, conf, e.kwargs['group'], e.kwargs['option'],
                       e.kwargs['reason'])


def _missing_ancestor(path):
    """The nearest existing ancestor of ``path`` (which does not exist)."""
    path = os.path.abspath(path)
    while not os.path.lexists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _directory_problem(path):
    """Why ``path`` cannot be used as a writable directory, or None."""
    uid = os.getuid()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        ancestor = _missing_ancestor(path)
        if not os.path.isdir(ancestor):
            return _('does not exist and cannot be created: %s is not a '
                     'directory') % ancestor
        if not os.access(ancestor, _WRITABLE_DIR):
            return _('does not exist and cannot be created by uid %(uid)d '
                     '(%(dir)s is not writable): create it (mkdir -p '
                     '%(path)s) for the user running nova-realtime') % {
                         'uid': uid, 'dir': ancestor, 'path': path}
        return None
    except NotADirectoryError:
        return _('a parent of it is not a directory')
    except OSError as e:
        return e.strerror or str(e)
    except ValueError as e:
        return _('not a usable path: %s') % e
    if not stat.S_ISDIR(st.st_mode):
        return _('not a directory')
    if not os.access(path, _WRITABLE_DIR):
        return _('not writable by uid %d: make it writable for the user '
                 'running nova-realtime') % uid
    return None


def _check_lock_path(conf, parsed):
    """Checked for every command, like every other option: a host whose
    ``boot`` would fail to take its lock is misconfigured whatever command
    finds out.
    """
    if 'oslo_concurrency' not in conf:
        return
    group = conf.oslo_concurrency
    if group.disable_process_locking:
        return
    why = _('boot serialises host CPU claims with a file lock in it')
    if not group.lock_path:
        raise _located(parsed, conf, 'oslo_concurrency', 'lock_path',
                       _('must be set to a writable directory: %s') % why)
    problem = _directory_problem(group.lock_path)
    if problem:
        raise _located(parsed, conf, 'oslo_concurrency', 'lock_path',
                       _('%(problem)s; lock_path must be a writable '
                         'directory: %(why)s') %
                       {'problem': problem, 'why': why})


def _check_logging(conf, parsed, will_log):
    """Only whether the log file's path can be a path at all: a missing,
    unwritable or uncreatable log directory is the command's to handle
    (nova.cmd.realtime.setup_logging creates it, or names it in one line;
    read-only commands go on), not a reason to refuse the configuration.
    """
    if 'log_file' not in conf or 'log_dir' not in conf:
        return
    if conf.log_config_append:
        return
    for option in ('log_file', 'log_dir'):
        value = conf[option]
        if not value:
            continue
        try:
            os.path.abspath(os.path.join(value, 'x'))
            os.stat(os.path.dirname(os.path.abspath(value)) or '/')
        except ValueError as e:
            raise _located(parsed, conf, None, option,
                           _('not a usable path: %s') % e)
        except OSError:
            pass


def _from_oslo(error):
    """ConfigFileInvalid for an error oslo.config raised from CONF()."""
    if isinstance(error, cfg.ConfigFilesNotFoundError):
        return _invalid(_('no such config file'),
                        ', '.join(error.config_files))
    if isinstance(error, cfg.ConfigFilesPermissionDeniedError):
        return _invalid(_('cannot read the config file: permission denied'),
                        ', '.join(error.config_files))
    if isinstance(error, cfg.ConfigDirNotFoundError):
        return _invalid(_('--config-dir: no such directory'),
                        error.config_dir)
    if isinstance(error, cfg.ConfigFileParseError):
        return _invalid(error.msg, error.config_file)
    if isinstance(error, UnicodeDecodeError):
        return _invalid(_('a config file is not UTF-8 text: %s') % error)
    if isinstance(error, OSError):
        if error.errno == errno.EISDIR:
            return _invalid(_('is a directory, not a config file (use '
                              '--config-dir for a directory of *.conf '
                              'files)'), error.filename)
        return _invalid(error.strerror or str(error), error.filename)
    return _invalid(str(error))


def _argparse_error(text):
    """(prog, message) of argparse's "usage: ... PROG: error: MESSAGE"."""
    for line in reversed(text.splitlines()):
        prog, sep, message = line.partition(': error: ')
        if sep:
            return prog.strip(), message.strip()
    return None


def load(conf, argv, project='nova', prog='nova-realtime',
         will_log=None, version=None):
    """Parse ``argv`` and the config files into ``conf``, then validate.

    ``-h``/``--help`` are left to oslo.config/argparse (SystemExit 0) before
    any file content is judged. ``will_log`` says whether the command will
    open the log file; None means "when --debug is set".
    Raises ConfigFileInvalid (an exception.Invalid) for the first fault.
    """
    argv = list(argv)
    wants_help = any(a in ('-h', '--help') for a in argv)
    parsed = []
    if not wants_help:
        parsed = [_ParsedFile(path).read()
                  for path in _config_files(argv, project, prog)]
        _check_cli_values(conf, parsed)
        _check_substitutions(conf, parsed)
    # oslo.config ends the process (status 1, after a bare message on
    # stderr) for a bad value of a command-line option that comes from a
    # config file through a $name substitution, which _check_cli_values
    # cannot judge: hold stderr back so that becomes one ERROR line too.
    held = io.StringIO()
    try:
        with contextlib.redirect_stderr(held):
            conf(argv, project=project, prog=prog, version=version)
    except SystemExit as e:
        if e.code == 1 and held.getvalue().startswith('argument --'):
            raise _cli_value_error(conf, parsed, held.getvalue())
        usage_error = _argparse_error(held.getvalue())
        if e.code == 2 and usage_error is not None:
            raise exception.CommandLineInvalid(reason=usage_error[1],
                                               usage=usage_error[0])
        sys.stderr.write(held.getvalue())
        raise
    except (cfg.Error, UnicodeDecodeError, OSError) as e:
        raise _from_oslo(e)
    except RecursionError:
        raise _invalid(_('a $name substitution refers back to itself'))
    sys.stderr.write(held.getvalue())
    seen = {os.path.abspath(pf.path) for pf in parsed}
    for path in conf.config_file or []:
        if os.path.abspath(path) not in seen:
            parsed.append(_ParsedFile(path).read())
    validate(conf, parsed,
             bool(conf.debug) if will_log is None else will_log)


def validate(conf, parsed=(), will_log=False):
    """Check an already parsed ``conf``; ``parsed``: its _ParsedFile list."""
    parsed = list(parsed)
    _check_names(conf, parsed)
    _check_values(conf, parsed)
    _check_cpu_sets(conf, parsed)
    _check_lock_path(conf, parsed)
    _check_logging(conf, parsed, will_log)
