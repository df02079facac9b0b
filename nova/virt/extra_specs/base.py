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

"""The declarative shape of one flavor extra spec validator.

A validator says which key it covers (possibly a family of keys such as
``hw:numa_cpus.{N}``), what the key does in prose an operator can act on, and
what value it takes. Value rules are either declarative (type, enum, min,
pattern), which the reference documentation renders directly, or a ``parse``
callable that hands the value to nova.virt.hardware, the one place where
extra spec values are given their meaning.

Each validator also says what this driver does with the key (``applies``):

``APPLIED``
    nova-realtime builds the guest from it.
``SCHEDULER``
    it steers placement (traits, resource classes, aggregate and host
    capability filters); a compute driver has nothing to do with it.
``NOT_APPLIED``
    valid, but this driver ignores it; the guest is what it would be
    without the key, and ``plan``/``boot`` say so.
``REFUSED``
    ignoring it would give the tenant less than the flavor promised (a
    device, an encryption, a security property), so a guest asking for it
    is not built. ``refused_when(value)`` narrows this to the values that
    ask for something (``hw:mem_encryption=false`` asks for nothing), and
    ``reason`` says in one line what the guest would lack.
"""

import functools
import re

from nova import exception
from nova.i18n import _
from nova.objects import fields
from nova.virt import hardware_parse

_TYPES = ('str', 'int', 'bool')

APPLIED = fields.DriverSupport.APPLIED
SCHEDULER = fields.DriverSupport.SCHEDULER
NOT_APPLIED = fields.DriverSupport.NOT_APPLIED
REFUSED = fields.DriverSupport.REFUSED
_APPLIES = fields.DriverSupport.ALL

# Every yes/no key takes hardware_parse's one vocabulary (parse_bool).
BOOL_DESCRIPTION = hardware_parse.BOOL_DESCRIPTION
# An integer as an operator writes it: no spaces, no '+', no leading zeros,
# no '_' separators (all of which int() would accept).
_INT_RE = re.compile(r'^-?(0|[1-9][0-9]*)$')
_PARAM_RE = re.compile(r'\{([A-Za-z_][A-Za-z0-9_]*)\}')


class ExtraSpecParameter:
    """The ``{N}`` part of a key family such as ``hw:numa_cpus.{N}``."""

    def __init__(self, name, pattern, description):
        self.name = name
        self.pattern = pattern
        self.description = description

    def __repr__(self):
        return 'ExtraSpecParameter(%r, %r)' % (self.name, self.pattern)


class ExtraSpecValidator:
    """Validates one flavor extra spec key, or one family of keys.

    :param name: the key, e.g. ``hw:cpu_policy``; ``{N}`` stands for a
        parameter described in ``parameters``.
    :param description: what the key does, for operators.
    :param value: a dict: ``type`` ('str', 'int' or 'bool'), ``description``
        of the accepted values, and optionally ``enum`` (a tuple of accepted
        strings), ``min`` and ``max`` (for 'int'), ``pattern`` (a regex the
        whole value
        must match) and ``parse``: a callable ``parse(name, value)`` that
        raises exception.Invalid (InvalidProperty, InvalidCPUSpec) for a bad
        value.
    :param parameters: ExtraSpecParameter for each ``{X}`` in ``name``.
    :param applies: APPLIED, SCHEDULER, NOT_APPLIED or REFUSED (see the
        module docstring).
    :param reason: for REFUSED, what the guest would lack, in one line.
    :param refused_when: for REFUSED, a callable ``(value) -> bool`` saying
        whether this (valid) value asks for what the driver cannot give;
        every value does when not given.
    """

    def __init__(self, name, description, value, parameters=(),
                 applies=NOT_APPLIED, reason=None, refused_when=None):
        self.name = name
        self.description = description
        self.value = dict(value)
        self.parameters = tuple(parameters)
        self.applies = applies
        self.reason = reason
        self.refused_when = refused_when
        if applies not in _APPLIES:
            raise ValueError('%s: applies must be one of %s'
                             % (name, ', '.join(_APPLIES)))
        if (applies == REFUSED) != bool(reason):
            raise ValueError('%s: a reason is given exactly for a refused '
                             'key' % name)
        if refused_when is not None and applies != REFUSED:
            raise ValueError('%s: refused_when only applies to a refused '
                             'key' % name)
        if self.value.get('type') not in _TYPES:
            raise ValueError('%s: value type must be one of %s'
                             % (name, ', '.join(_TYPES)))
        if not self.value.get('description'):
            raise ValueError('%s: value needs a description' % name)
        for bound in ('min', 'max'):
            if bound in self.value and self.value['type'] != 'int':
                raise ValueError('%s: %s only applies to int values'
                                 % (name, bound))
        by_name = {p.name: p for p in self.parameters}
        used = _PARAM_RE.findall(self.name)
        if sorted(used) != sorted(by_name):
            raise ValueError('%s: parameters %s do not match the name'
                             % (self.name, sorted(by_name)))
        # The regexes below are compiled on first use: a command looks most
        # keys up by name, and compiling the 127 validators' ~300 regexes
        # cost every command 15 ms.

    @functools.cached_property
    def _name_re(self):
        return re.compile(self._regex(self.name))

    @functools.cached_property
    def _name_nocase_re(self):
        return re.compile(self._regex(self.name), re.IGNORECASE)

    @functools.cached_property
    def namespace_re(self):
        """The name's namespace as a case-blind regex; None without one."""
        namespace, sep, _rest = self.name.partition(':')
        return (re.compile(self._regex(namespace), re.IGNORECASE)
                if sep else None)

    def _regex(self, template):
        """``template`` (all or part of the name) as a regex, each ``{X}``
        a named group of its parameter's pattern.
        """
        by_name = {p.name: p for p in self.parameters}
        regex = ''
        position = 0
        for match in _PARAM_RE.finditer(template):
            regex += re.escape(template[position:match.start()])
            regex += '(?P<%s>%s)' % (match.group(1),
                                     by_name[match.group(1)].pattern)
            position = match.end()
        regex += re.escape(template[position:])
        return '^%s$' % regex

    def __repr__(self):
        return 'ExtraSpecValidator(%r)' % self.name

    @property
    def namespace(self):
        return self.name.partition(':')[0]

    def match(self, key):
        """The parameters of ``key`` as a dict if this validator covers it,
        else None (``{}`` for a key without parameters).
        """
        found = self._name_re.fullmatch(key)
        return found.groupdict() if found else None

    def match_ignoring_case(self, key):
        """``key`` spelt as this validator spells it, when the two differ
        only by case (``HW:CPU_REALTIME`` -> ``hw:cpu_realtime``); None
        otherwise. Parameters keep the user's spelling.
        """
        found = self._name_nocase_re.fullmatch(key)
        if found is None:
            return None
        # A parameter's own pattern may be case-sensitive (CUSTOM_...):
        # try the user's spelling, then upper and lower case.
        for spell in (str, str.upper, str.lower):
            spelt = _PARAM_RE.sub(
                lambda m: spell(found.group(m.group(1)) or ''), self.name)
            if self.match(spelt) is not None:
                return spelt
        return None

    def is_refused(self, value):
        """Whether a valid ``value`` asks for what this driver refuses."""
        if self.applies != REFUSED:
            return False
        return self.refused_when is None or bool(self.refused_when(value))

    def accepted(self):
        """The accepted values, in words, for error messages."""
        if self.value.get('enum'):
            return _('one of %s') % ', '.join(self.value['enum'])
        return self.value['description']

    def validate(self, key, value):
        """Check ``value`` for ``key``; raise InvalidProperty if it is bad.

        The error names the key, the value and what would be accepted.
        """
        def invalid(reason):
            return exception.InvalidProperty(
                name=key, value=hardware_parse.display_value(value),
                reason=reason)

        if not isinstance(value, str):
            raise invalid(_('extra spec values are strings; accepted: %s')
                          % self.accepted())
        kind = self.value['type']
        if kind == 'int':
            # Digits are bounded before int(): Python refuses to convert
            # more than 4300 with a ValueError of its own.
            if len(value.lstrip('-')) > hardware_parse.MAX_INT_DIGITS:
                raise invalid(_('has %(n)d characters; an integer here has '
                                'at most %(max)d digits; accepted: '
                                '%(accepted)s')
                              % {'n': len(value),
                                 'max': hardware_parse.MAX_INT_DIGITS,
                                 'accepted': self.accepted()})
            if not _INT_RE.fullmatch(value):
                raise invalid(_('must be an integer in plain digits (no '
                                'spaces, + or leading zeros); accepted: %s')
                              % self.accepted())
            minimum = self.value.get('min')
            if minimum is not None and int(value) < minimum:
                raise invalid(_('must be at least %d') % minimum)
            maximum = self.value.get('max')
            if maximum is not None and int(value) > maximum:
                raise invalid(_('must be at most %d') % maximum)
        if kind == 'bool' and self.value.get('parse') is None:
            hardware_parse.parse_bool(key, value)
        enum = self.value.get('enum')
        if enum and value not in enum:
            raise invalid(_('must be %s') % self.accepted())
        pattern = self.value.get('pattern')
        if pattern and not re.fullmatch("(?:%s)" % pattern, value):
            raise invalid(_('does not match %(pattern)s; accepted: '
                            '%(accepted)s')
                          % {'pattern': pattern, 'accepted': self.accepted()})
        parse = self.value.get('parse')
        if parse is not None:
            try:
                parse(key, value)
            except exception.InvalidProperty as e:
                if e.kwargs.get('name') == key:
                    raise
                raise invalid(e.kwargs.get('reason') or str(e))
            except exception.Invalid as e:
                raise invalid(_('%(error)s; accepted: %(accepted)s')
                              % {'error': e, 'accepted': self.accepted()})
