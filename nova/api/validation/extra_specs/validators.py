"""The registry of flavor extra spec validators and the checks over it.

Namespaces listed in ``VALIDATED_NAMESPACES`` are closed: a key there that no
validator covers is an error, with the closest known key suggested, because a
misspelt ``hw:cpu_realtime_mak`` would otherwise be silently ignored and the
guest booted without the setting. Other namespaces (``trait:``,
``aggregate_instance_extra_specs:`` ...) belong to other services and pass.
"""

import difflib
import re

from nova.api.validation.extra_specs import hw
from nova import exception
from nova.i18n import _
from nova.virt import hardware_parse

VALIDATED_NAMESPACES = ('hw',)

_REGISTRY = {}
# A trailing node number the user wrote, reused to phrase a suggestion.
_TRAILING_NUMBER_RE = re.compile(r'\.([0-9]+)$')


def register(validator):
    """Add a validator; a name may be registered once."""
    if validator.name in _REGISTRY:
        raise ValueError('extra spec validator %s is already registered'
                         % validator.name)
    if validator.namespace not in VALIDATED_NAMESPACES:
        raise ValueError('%s is not in a validated namespace (%s)'
                         % (validator.name, ', '.join(VALIDATED_NAMESPACES)))
    _REGISTRY[validator.name] = validator


def get_validators():
    """Every registered validator, sorted by name."""
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def _find(key):
    for validator in _REGISTRY.values():
        if validator.match(key) is not None:
            return validator
    return None


def _suggestion(key):
    """The known key closest to ``key``, spelt the way the user would."""
    number = _TRAILING_NUMBER_RE.search(key)
    candidates = {}
    for name in _REGISTRY:
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


def validate(name, value):
    """Check one extra spec as an operator sets it.

    Raises InvalidProperty naming the key, the value and the accepted values
    (or, for an unknown key in a validated namespace, the closest known key).
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
    namespace, sep, _rest = name.partition(':')
    if not sep or namespace not in VALIDATED_NAMESPACES:
        return
    suggestion = _suggestion(name)
    if suggestion:
        hint = _('did you mean %s?') % suggestion
    else:
        hint = _('known keys are %s') % ', '.join(sorted(_REGISTRY))
    reason = _('unknown extra spec in the %(ns)s: namespace; %(hint)s') % {
        'ns': namespace, 'hint': hint}
    raise exception.InvalidProperty(
        name=name, value=hardware_parse.display_value(value), reason=reason)


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


for _validator in hw.VALIDATORS:
    register(_validator)
