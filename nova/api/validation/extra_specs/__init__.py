"""Validation of flavor extra specs as an operator sets them.

``validate(name, value)`` checks one key, ``validate_all(extra_specs)`` a
whole flavor's, and ``get_validators()`` lists every known key with its
description, from which the extra spec reference is rendered.
"""

from nova.api.validation.extra_specs.base import ExtraSpecParameter
from nova.api.validation.extra_specs.base import ExtraSpecValidator
from nova.api.validation.extra_specs.validators import get_validators
from nova.api.validation.extra_specs.validators import register
from nova.api.validation.extra_specs.validators import validate
from nova.api.validation.extra_specs.validators import validate_all

__all__ = ['ExtraSpecParameter', 'ExtraSpecValidator', 'get_validators',
           'register', 'validate', 'validate_all']
