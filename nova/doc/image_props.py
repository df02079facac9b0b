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

"""Image property descriptions, read from the comments in image_meta.py.

Each field of ``ImageMetaProps.fields`` is preceded by comment lines saying
what the property does; they are the one description of it, so the reference
is built from them rather than from a copy that would drift. A field
without a comment is an error (and fails the doc tests).
"""

import inspect
import re

_CLASS_RE = re.compile(r'^class ImageMetaProps\b')
_FIELDS_RE = re.compile(r'^\s+fields = \{\s*$')
_KEY_RE = re.compile(r"^\s+'([a-z0-9_]+)':")
_COMMENT_RE = re.compile(r'^\s+#\s?(.*)$')


def field_comments(source):
    """{field name: description} from the source of image_meta.py."""
    comments = {}
    state = 'before-class'
    pending = []
    for line in source.splitlines():
        if state == 'before-class':
            if _CLASS_RE.match(line):
                state = 'in-class'
        elif state == 'in-class':
            if _FIELDS_RE.match(line):
                state = 'in-fields'
        else:
            if line.strip() == '}':
                break
            comment = _COMMENT_RE.match(line)
            if comment:
                pending.append(comment.group(1).strip())
                continue
            key = _KEY_RE.match(line)
            if key:
                comments[key.group(1)] = ' '.join(pending)
                pending = []
    return comments


def describe_fields():
    """[(name, description, field)] for every ImageMetaProps field.

    Raises ValueError naming any field that has no comment.
    """
    from nova.objects import image_meta
    comments = field_comments(inspect.getsource(image_meta))
    fields = image_meta.ImageMetaProps.fields
    missing = sorted(name for name in fields if not comments.get(name))
    if missing:
        raise ValueError('ImageMetaProps fields without a describing '
                         'comment in nova/objects/image_meta.py: %s'
                         % ', '.join(missing))
    return [(name, comments[name], fields[name]) for name in sorted(fields)]
