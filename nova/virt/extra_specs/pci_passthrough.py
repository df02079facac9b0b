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

"""Validators of the ``pci_passthrough:`` extra specs."""

import re

from nova import exception
from nova.i18n import _
from nova.virt.extra_specs import base

# Between two ':' of ALIAS:COUNT, ALIAS:COUNT ...: the count of one pair,
# the comma, and the alias of the next.
_MIDDLE_RE = re.compile(r'\d+\s*,\s*[^:]+')
_COUNT_RE = re.compile(r'\d+')


def _check_aliases(name, value):
    """ALIAS:COUNT pairs separated by commas (spaces allowed around a
    comma), checked one ':'-separated piece at a time. It accepts exactly
    the strings upstream's pattern for this key does, without that
    pattern's nested repetition, which backtracks exponentially on a long
    bad value.
    """
    pieces = value.split(':')
    if (len(pieces) < 2 or not pieces[0] or
            not _COUNT_RE.fullmatch(pieces[-1]) or
            not all(_MIDDLE_RE.fullmatch(p) for p in pieces[1:-1])):
        raise exception.InvalidProperty(
            name=name, value=value,
            reason=_('must be ALIAS:COUNT pairs separated by commas, e.g. '
                     'nic:2,gpu:1'))


VALIDATORS = (
    base.ExtraSpecValidator(
        name='pci_passthrough:alias',
        description=(
            'The host PCI devices passed through to the guest, as '
            'ALIAS:COUNT pairs separated by commas, each ALIAS a device '
            'class named by the [pci] alias option of nova.conf. This '
            'driver passes no PCI device, so a flavor asking for one '
            'builds no guest.'),
        value={'type': 'str',
               'description': 'comma-separated ALIAS:COUNT pairs, e.g. '
                              'nic:2,gpu:1',
               'parse': _check_aliases},
        applies=base.REFUSED,
        reason=_('the guest would not get the PCI devices it asks for')),
)
