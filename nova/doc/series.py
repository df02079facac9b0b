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

"""The patch series in upstream/patches, read for the documentation.

Each ``git format-patch`` file gives its subject, its commit message body,
the files it changes and the release note it adds; the services that run
the changed code follow from the files (nova/virt/hardware.py is imported
by nova-api, the scheduler, the conductor and nova-compute alike).
"""

import collections
import email
import email.policy
import os
import re

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PATCHES = os.path.join(REPO, 'upstream', 'patches')

Patch = collections.namedtuple(
    'Patch', 'name subject body files note')

# Which Nova services import the code under each path (first match wins).
SERVICES = [
    ('nova/tests/', None),
    ('releasenotes/', None),
    ('doc/', None),
    ('nova/virt/hardware.py',
     'nova-api, nova-scheduler, nova-conductor, nova-compute'),
    ('nova/virt/libvirt/', 'nova-compute'),
    ('nova/virt/', 'nova-compute'),
    ('nova/compute/api.py', 'nova-api'),
    ('nova/compute/', 'nova-compute'),
    ('nova/scheduler/', 'nova-scheduler'),
    ('nova/api/', 'nova-api'),
    ('nova/conf/', 'every Nova service (configuration)'),
    ('nova/exception.py', 'every Nova service'),
    ('nova/objects/', 'every Nova service'),
    ('nova/', 'every Nova service'),
]
_DIFF_FILE = re.compile(r'^diff --git a/(\S+) b/(\S+)$', re.M)
_SUBJECT_PREFIX = re.compile(r'^\[PATCH[^\]]*\]\s*')


def services(files):
    """The Nova services whose code ``files`` change, in order."""
    found = []
    for path in files:
        for prefix, names in SERVICES:
            if path.startswith(prefix):
                for name in (names or '').split(', '):
                    if name and name not in found:
                        found.append(name)
                break
    # exception.py, objects, conf: every service imports them, but the
    # behaviour a patch changes runs where its other files are.
    specific = [name for name in found
                if not name.startswith('every Nova service')]
    return specific or found[:1]


def _added_file(diff, path):
    """The text of a file the diff adds (its '+' lines)."""
    marker = '+++ b/%s\n' % path
    start = diff.index(marker) + len(marker)
    lines = []
    for line in diff[start:].splitlines():
        if line.startswith('@@'):
            continue
        if not line.startswith('+'):
            break
        lines.append(line[1:])
    return '\n'.join(lines) + '\n'


def read_patch(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    message = email.message_from_string(text, policy=email.policy.default)
    subject = _SUBJECT_PREFIX.sub('', ' '.join(str(message['Subject'])
                                               .split()))
    payload = message.get_payload()
    body, _sep, diff = payload.partition('\n---\n')
    files = [m.group(2) for m in _DIFF_FILE.finditer(diff)]
    note = None
    for name in files:
        if name.startswith('releasenotes/notes/') and \
                name.endswith('.yaml'):
            note = yaml.safe_load(_added_file(diff, name))
    return Patch(os.path.basename(path), subject, body.strip('\n'), files,
                 note)


def patches(directory=PATCHES):
    if not os.path.isdir(directory):
        return []
    return [read_patch(os.path.join(directory, name))
            for name in sorted(os.listdir(directory))
            if name.endswith('.patch')]


def paragraphs(body):
    """The commit message body without its trailing tags, as paragraphs.

    A paragraph of ``* `` items comes back as a list of its items.
    """
    tag = re.compile(r'^([A-Z][A-Za-z-]+: |UpgradeImpact|APIImpact|'
                     r'DocImpact|SecurityImpact)')
    found = []
    for para in re.split(r'\n\s*\n', body):
        if not para.strip() or tag.match(para.strip()):
            continue
        if para.lstrip().startswith('* '):
            items = re.split(r'(?m)^\s*\* ', para)
            found.append([' '.join(i.split()) for i in items if i.strip()])
        else:
            found.append(' '.join(para.split()))
    return found
