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

"""Flavor extra specs and image properties: our verdicts against upstream
Nova 34's on generated cases (every upstream key and property, with valid,
edge and junk values).

Run with this tree's Python (``.venv/bin/python
tools/upstream-compare/specs/compare.py``); upstream Nova runs in
``.upstream-venv`` (``python3 -m venv .upstream-venv &&
.upstream-venv/bin/pip install nova==34.0.0``) through upstream_side.py,
since both packages are named ``nova``. Prints the agreement and the
disagreements by key: a report for people, not a test.
"""

import collections
import json
import os
import subprocess
import sys

from nova.api.validation import extra_specs
from nova import exception
from nova import objects

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
UP = os.path.join(ROOT, '.upstream-venv', 'bin', 'python')

sys.path.insert(0, HERE)
import cases  # noqa: E402  (the case generator beside this file)


def upstream(mode, data=None):
    """Upstream's answer, from its own interpreter (outside this tree)."""
    out = subprocess.run(
        [UP, os.path.join(HERE, 'upstream_side.py'), mode], cwd='/',
        input=json.dumps(data), capture_output=True, text=True,
        check=True).stdout
    return json.loads(out)


def ours_flavor(key, value):
    try:
        extra_specs.validate(key, value)
        return True
    except exception.Invalid:
        return False


def ours_image(key, value):
    try:
        objects.ImageMetaProps.from_dict({key: value})
        return True
    except exception.Invalid:
        return False


def report(title, generated, theirs, ours):
    stats = collections.Counter()
    diffs = collections.defaultdict(list)
    for (key, value), accepted in zip(generated, theirs):
        mine = ours(key, value)
        stats[(accepted, mine)] += 1
        if accepted != mine:
            diffs[(accepted, mine)].append((key, value))
    agree = stats[(True, True)] + stats[(False, False)]
    print('%s: %d cases, %d agree (%.2f%%)' % (
        title, len(generated), agree, 100.0 * agree / len(generated)))
    for (accepted, mine), items in sorted(diffs.items()):
        print('  upstream %s, ours %s: %d' % (
            'accepts' if accepted else 'refuses',
            'accepts' if mine else 'refuses', len(items)))
        by_key = collections.Counter(key for key, _value in items)
        for key, count in by_key.most_common(40):
            values = sorted({repr(v) for k, v in items if k == key})[:6]
            print('    %4d  %s  e.g. %s' % (count, key, ', '.join(values)))


def main():
    objects.register_all()
    dump = upstream('dump')
    flavor_cases = cases.flavor_cases(dump['validators'])
    report('flavor extra specs (%d upstream keys)' % len(dump['validators']),
           flavor_cases, upstream('flavor', flavor_cases), ours_flavor)
    image_cases = cases.image_cases(dump['props'])
    report('image properties (%d upstream names)' % len(dump['props']),
           image_cases, upstream('image', image_cases), ours_image)


if __name__ == '__main__':
    main()
