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

"""Validation of flavor extra specs: one implementation for every layer.

The API checks an operator's extra specs with it (nova.api.validation.
extra_specs is its name there), and the libvirt driver validates and
classifies a flavor's keys with it when it resolves a request, without
importing the API layer.

``validate(name, value)`` checks one key, ``validate_all(extra_specs)`` a
whole flavor's, and ``get_validators()`` lists every known key with its
description, from which the extra spec reference is rendered.
``classify(extra_specs)`` says which keys this driver does not apply and
which it refuses; ``refuse_unsupported(extra_specs)`` raises for the first
refused one, else returns the keys not applied.
"""

from nova.virt.extra_specs.base import APPLIED
from nova.virt.extra_specs.base import ExtraSpecParameter
from nova.virt.extra_specs.base import ExtraSpecValidator
from nova.virt.extra_specs.base import NOT_APPLIED
from nova.virt.extra_specs.base import REFUSED
from nova.virt.extra_specs.base import SCHEDULER
from nova.virt.extra_specs.validators import classify
from nova.virt.extra_specs.validators import get_validator
from nova.virt.extra_specs.validators import get_validators
from nova.virt.extra_specs.validators import refusal
from nova.virt.extra_specs.validators import refuse_unsupported
from nova.virt.extra_specs.validators import register
from nova.virt.extra_specs.validators import validate
from nova.virt.extra_specs.validators import validate_all

__all__ = ['APPLIED', 'ExtraSpecParameter', 'ExtraSpecValidator',
           'NOT_APPLIED', 'REFUSED', 'SCHEDULER', 'classify',
           'get_validator', 'get_validators', 'refusal',
           'refuse_unsupported', 'register', 'validate', 'validate_all']
