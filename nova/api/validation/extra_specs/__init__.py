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

"""Validation of flavor extra specs as the API checks them.

The validators and the checks over them live in nova.virt.extra_specs,
below both layers: the API checks an operator's extra specs with them, and
the libvirt driver (which must not import the API layer) validates and
classifies a flavor's keys with the same code. This package is the API's
name for them: ``validate(name, value)`` checks one key,
``validate_all(extra_specs)`` a whole flavor's, ``get_validators()`` lists
every known key (the extra spec reference is rendered from it).
"""

from nova.virt.extra_specs import APPLIED
from nova.virt.extra_specs import classify
from nova.virt.extra_specs import ExtraSpecParameter
from nova.virt.extra_specs import ExtraSpecValidator
from nova.virt.extra_specs import get_validator
from nova.virt.extra_specs import get_validators
from nova.virt.extra_specs import NOT_APPLIED
from nova.virt.extra_specs import refusal
from nova.virt.extra_specs import refuse_unsupported
from nova.virt.extra_specs import REFUSED
from nova.virt.extra_specs import register
from nova.virt.extra_specs import SCHEDULER
from nova.virt.extra_specs import validate
from nova.virt.extra_specs import validate_all

__all__ = ['APPLIED', 'ExtraSpecParameter', 'ExtraSpecValidator',
           'NOT_APPLIED', 'REFUSED', 'SCHEDULER', 'classify',
           'get_validator', 'get_validators', 'refusal',
           'refuse_unsupported', 'register', 'validate', 'validate_all']
