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

"""Run a ``nova-realtime`` command line, as shown in the docs, in-process.

The docs show commands the way a reader types them (``nova-realtime
--config-file nova.conf plan ...``, backslash continuations allowed). The
Sphinx extension and the doc tests both run them through ``run_shown()`` so
the output on the page is the output of the code. Running in-process keeps a
docs build fast; everything the command changes globally (oslo.config state,
root logging handlers, warning filters, working directory) is restored.
"""

import contextlib
import io
import logging
import os
import re
import shlex
import warnings

PROG = 'nova-realtime'
PROMPT = '$ '
# plan gives every guest a fresh random UUID; the docs show a placeholder.
UUID_PLACEHOLDER = '(random)'
_UUID_RE = re.compile(r'<uuid>[0-9a-fA-F-]{36}</uuid>')


class CommandResult(object):
    def __init__(self, argv, returncode, stdout, stderr):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def output(self):
        """stdout then stderr, as a terminal shows them."""
        return self.stdout + self.stderr


def split_command(text):
    """argv (without the program) of a command as shown in the docs.

    Lines ending in a backslash continue on the next line. The command must
    start with ``nova-realtime``.
    """
    joined = re.sub(r'\\\s*\n', ' ', text.strip())
    if joined.startswith(PROMPT):
        joined = joined[len(PROMPT):]
    words = shlex.split(joined)
    if not words or words[0] != PROG:
        raise ValueError('not a %s command line: %r' % (PROG, text))
    return words[1:]


def normalise(output):
    """The command output with what differs on every run replaced."""
    return _UUID_RE.sub('<uuid>%s</uuid>' % UUID_PLACEHOLDER, output)


@contextlib.contextmanager
def _isolated(cwd):
    from nova.conf import CONF
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    old_cwd = os.getcwd()
    try:
        with warnings.catch_warnings():
            os.chdir(cwd)
            yield
    finally:
        os.chdir(old_cwd)
        root.handlers = handlers
        root.setLevel(level)
        CONF.reset()
        CONF.clear()


def run(argv, cwd):
    """Run ``nova-realtime argv`` in ``cwd``; a CommandResult."""
    from nova.cmd import realtime
    stdout, stderr = io.StringIO(), io.StringIO()
    with _isolated(cwd):
        with contextlib.redirect_stdout(stdout), \
                contextlib.redirect_stderr(stderr):
            try:
                returncode = realtime.main(list(argv))
            except SystemExit as e:
                # argparse exits on --help and on usage errors.
                returncode = e.code if isinstance(e.code, int) else 1
    return CommandResult(argv, returncode, normalise(stdout.getvalue()),
                         normalise(stderr.getvalue()))


def run_shown(text, cwd):
    """Run a command line as shown in the docs; a CommandResult."""
    return run(split_command(text), cwd)


def xml_excerpt(xml, elements):
    """The top-level children ``elements`` of a domain XML, dedented.

    plan prints each child of ``<domain>`` indented by two spaces, so an
    element runs from its opening line to its closing line at that indent.
    Raises ValueError for an element the document does not have.
    """
    lines = xml.splitlines()
    parts = []
    for name in elements:
        start = None
        for index, line in enumerate(lines):
            if re.match(r'^  <%s[ />]' % re.escape(name), line):
                start = index
                break
        if start is None:
            raise ValueError('the domain XML has no <%s>' % name)
        end = start
        if not lines[start].rstrip().endswith('/>') and \
                '</%s>' % name not in lines[start]:
            closing = '  </%s>' % name
            while lines[end] != closing:
                end += 1
                if end == len(lines):
                    raise ValueError('<%s> is not closed' % name)
        parts.extend(line[2:] for line in lines[start:end + 1])
    return '\n'.join(parts) + '\n'
