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

"""Validators of the ``trait:`` extra specs: required or forbidden traits.

``trait:HW_CPU_X86_AVX2=required`` (or ``trait1:...`` for a request group)
makes the scheduler pick a resource provider with (or, forbidden, without)
the trait. A trait is a standard one (os-traits) or ``CUSTOM_`` followed by
upper-case letters, digits and ``_``. When os-traits is installed a
standard name must be one of its traits; without it any upper-case name is
accepted.
"""

from nova import exception
from nova.i18n import _
from nova.virt.extra_specs import base
from nova.virt.extra_specs import resources


_NOT_READ = object()
_STANDARD = _NOT_READ


def _standard_traits():
    """os-traits' standard traits (None without it), read on first use.

    os-traits lists its traits by importing every module of its tree: a
    tenth of a second no command needs before it meets a ``trait:`` key.
    """
    global _STANDARD
    if _STANDARD is _NOT_READ:
        try:
            import os_traits
        except ImportError:
            _STANDARD = None
        else:
            _STANDARD = frozenset(os_traits.get_traits())
    return _STANDARD


def _check_trait(name, value):
    trait = name.partition(':')[2]
    if trait.startswith('CUSTOM_'):
        return
    standard = _standard_traits()
    if standard is None:
        return
    if trait not in standard:
        raise exception.InvalidProperty(
            name=name, value=value,
            reason=_('%s is not a standard trait (os-traits); a trait of '
                     'your own is spelt CUSTOM_...') % trait)


VALIDATORS = (
    base.ExtraSpecValidator(
        name='trait{group}:{trait}',
        parameters=[
            resources.GROUP,
            base.ExtraSpecParameter(
                name='trait', pattern='[A-Z0-9_]+',
                description='A standard trait such as HW_CPU_X86_AVX2, or '
                            'CUSTOM_ followed by upper-case letters, '
                            'digits and _.'),
        ],
        description=(
            'Whether the resource provider the guest lands on must have '
            '(required) or must not have (forbidden) the trait. Used by '
            'the scheduler, e.g. to keep real-time guests on hosts of a '
            'CUSTOM_ real-time trait.'),
        value={'type': 'str', 'description': 'required or forbidden',
               'enum': ('required', 'forbidden'),
               'parse': _check_trait},
        applies=base.SCHEDULER),
)
