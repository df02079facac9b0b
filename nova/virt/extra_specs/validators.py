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

"""The registry of flavor extra spec validators and the checks over it.

Every key Nova knows is registered, one module per namespace. A namespace
that has a validator is closed: a key there that no validator covers is an
error, with the closest known key suggested, because a misspelt
``hw:cpu_realtime_mak`` would otherwise be silently ignored and the guest
booted without the setting. Keys are case-sensitive, and a key that differs
from a known one only by case (``HW:CPU_REALTIME``) is an error naming the
right spelling. Keys in namespaces Nova does not know, or without a
namespace, pass (upstream Nova lets them through as well: other services
and filters read them).

``classify()`` says what this driver does with each key of a valid flavor
(see base.APPLIED ...): which keys are accepted but not applied, and which
are refused because the guest would lack what they ask for.
"""

import difflib
import re

from nova import exception
from nova.i18n import _
from nova.virt.extra_specs import accel
from nova.virt.extra_specs import aggregate_instance_extra_specs
from nova.virt.extra_specs import base
from nova.virt.extra_specs import capabilities
from nova.virt.extra_specs import hw
from nova.virt.extra_specs import hw_rng
from nova.virt.extra_specs import hw_video
from nova.virt.extra_specs import null
from nova.virt.extra_specs import os as os_specs
from nova.virt.extra_specs import pci_passthrough
from nova.virt.extra_specs import quota
from nova.virt.extra_specs import resources
from nova.virt.extra_specs import traits
from nova.virt.extra_specs import vmware
from nova.virt import hardware_parse

_MODULES = (accel, aggregate_instance_extra_specs, capabilities, hw, hw_rng,
            hw_video, null, os_specs, pci_passthrough, quota, resources,
            traits, vmware)

_REGISTRY = {}
# A trailing node number the user wrote, reused to phrase a suggestion.
_TRAILING_NUMBER_RE = re.compile(r'\.([0-9]+)$')
# An unknown key's error lists the keys of its namespace up to this many.
_MAX_LISTED = 40


def register(validator):
    """Add a validator; a name may be registered once."""
    if validator.name in _REGISTRY:
        raise ValueError('extra spec validator %s is already registered'
                         % validator.name)
    _REGISTRY[validator.name] = validator


def get_validators():
    """Every registered validator, sorted by name."""
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def _find(key):
    validator = _REGISTRY.get(key)
    if validator is not None:
        return validator
    for validator in _REGISTRY.values():
        if validator.match(key) is not None:
            return validator
    return None


def _suggestion(key):
    """The known key closest to ``key``, spelt the way the user would."""
    number = _TRAILING_NUMBER_RE.search(key)
    candidates = {}
    namespace = key.partition(':')[0].lower()
    for name in _REGISTRY:
        if name.partition(':')[0].lower() != namespace:
            # A suggestion keeps the user's namespace.
            continue
        spelt = name
        if number is not None:
            spelt = name.replace('{N}', str(int(number.group(1))))
        candidates[spelt.lower()] = spelt
    lowered = key.lower()
    close = difflib.get_close_matches(lowered, list(candidates), n=1,
                                      cutoff=0.6)
    if close:
        return candidates[close[0]]
    # A bare family name (hw:numa_cpus) is a prefix of its template.
    for name in sorted(_REGISTRY):
        if '{' in name and name.startswith(lowered.rstrip('.') + '.'):
            return name
    return None


def _case_fix(key):
    """The known key ``key`` differs from only by case, or None."""
    for validator in _REGISTRY.values():
        spelt = validator.match_ignoring_case(key)
        if spelt is not None:
            return spelt
    return None


def _closed_namespace(key):
    """Whether ``key``'s namespace (in any case) is one Nova validates."""
    namespace, sep, _rest = key.partition(':')
    if not sep:
        return False
    return any(v.namespace_re is not None and
               v.namespace_re.fullmatch(namespace)
               for v in _REGISTRY.values())


def _namespace_keys(key):
    namespace = key.partition(':')[0]
    return sorted(name for name, v in _REGISTRY.items()
                  if v.namespace_re is not None and
                  v.namespace_re.fullmatch(namespace))


def validate(name, value):
    """Check one extra spec as an operator sets it.

    Raises InvalidProperty naming the key, the value and the accepted values
    (or, for an unknown key in a validated namespace or a key spelt in the
    wrong case, the closest known key).
    Every key must be one Nova's API accepts (at most 255 letters, digits,
    spaces and _ - . : characters) and every string value at most 255
    XML-safe characters, whatever the namespace; beyond that, keys in other
    namespaces, or without one, are not checked.
    """
    hardware_parse.check_extra_spec_key(name)
    if isinstance(value, str):
        hardware_parse.check_text(
            name, value, hardware_parse.MAX_EXTRA_SPEC_VALUE_LENGTH)
    validator = _find(name)
    if validator is not None:
        validator.validate(name, value)
        return
    shown = hardware_parse.display_value(value)
    spelt = _case_fix(name)
    if spelt is not None:
        raise exception.InvalidProperty(
            name=name, value=shown,
            reason=_('extra spec keys are case-sensitive; did you mean '
                     '%s?') % spelt)
    if not _closed_namespace(name):
        return
    namespace = name.partition(':')[0]
    suggestion = _suggestion(name)
    known = _namespace_keys(name)
    if suggestion:
        hint = _('did you mean %s?') % suggestion
    elif len(known) <= _MAX_LISTED:
        hint = _('known keys are %s') % ', '.join(known)
    else:
        hint = _('see the extra spec reference for its %d keys') % len(
            known)
    reason = _('unknown extra spec in the %(ns)s: namespace; %(hint)s') % {
        'ns': namespace, 'hint': hint}
    raise exception.InvalidProperty(name=name, value=shown, reason=reason)


def validate_all(extra_specs, vcpus=None, memory_mb=None):
    """Check every extra spec of a flavor, keys in sorted order.

    At most hardware_parse.MAX_EXTRA_SPECS keys (checked first).

    With ``vcpus`` and ``memory_mb`` the flavor as a whole is also checked by
    nova.virt.hardware.numa_get_constraints, which owns the rules that tie
    keys together (e.g. hw:cpu_realtime=yes needs hw:cpu_policy=dedicated).
    """
    extra_specs = extra_specs or {}
    # Before any per-key work: a hostile flavor costs one len().
    hardware_parse.check_extra_spec_count(extra_specs)
    for name in sorted(extra_specs):
        validate(name, extra_specs[name])
    if vcpus is None or memory_mb is None:
        return
    from nova import objects
    from nova.virt import hardware
    objects.register_all()
    flavor = objects.Flavor(name='validation', vcpus=vcpus,
                            memory_mb=memory_mb,
                            extra_specs=dict(extra_specs))
    hardware.numa_get_constraints(flavor, None)


def get_validator(key):
    """The validator covering ``key``, or None (an unknown namespace)."""
    return _find(key)


def classify(extra_specs):
    """What this driver does with a flavor's extra specs.

    The flavor is validated first (validate_all; InvalidProperty for a bad
    key or value). Returns ``(not_applied, refused)``: the keys accepted but
    ignored by this driver (valid keys it does not apply, and keys of
    namespaces Nova does not know), sorted; and ``(key, reason)`` for each
    key whose value asks for what this driver cannot provide, sorted by
    key. Applied and scheduler keys are in neither list.
    """
    extra_specs = extra_specs or {}
    validate_all(extra_specs)
    not_applied = []
    refused = []
    for key in sorted(extra_specs):
        validator = _find(key)
        if validator is None:
            not_applied.append(key)
        elif validator.applies == base.NOT_APPLIED:
            not_applied.append(key)
        elif validator.is_refused(extra_specs[key]):
            refused.append((key, validator.reason))
    return not_applied, refused


def refusal(key, value, reason):
    """The InvalidProperty for a refused key (flavor or image)."""
    return exception.InvalidProperty(
        name=key, value=hardware_parse.display_value(value),
        reason=_('requested but this driver cannot provide it: %s') % reason)


def refuse_unsupported(extra_specs):
    """Raise InvalidProperty for the first (sorted) refused key, if any;
    else return the sorted keys accepted but not applied (classify's
    ``not_applied``).

    Validates the flavor first, as classify() does: what the driver calls
    once per request.
    """
    not_applied, refused = classify(extra_specs)
    if refused:
        key, reason = refused[0]
        raise refusal(key, extra_specs[key], reason)
    return not_applied


for _module in _MODULES:
    for _validator in _module.VALIDATORS:
        register(_validator)
