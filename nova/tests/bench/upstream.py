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

"""Section 4: the same parse, fit and scale cases against upstream Nova.

Two upstream sides are timed in the same run, on the same cases:

* **unpatched**: nova 34.0.0 as released;
* **patched**: nova 34.0.0 with this repository's upstream/patches applied.

Both come from upstream/series.py's work directory (``.upstream``, or
NOVA_RT_UPSTREAM_DIR as for series.py: the
unpacked sdist in ``base``, the series applied in ``series``, upstream's
requirements in ``venv``), the tree to import given to the child process.
Without that directory, the unpatched side falls back to a virtualenv with
``nova==34.0.0`` pip-installed (default ``.upstream-venv`` in the
repository, NOVA_RT_BENCH_UPSTREAM_VENV overrides it) and there is no
patched side.

Each side runs in child processes of tools/upstream-bench/upstream_bench.py
with a memory rlimit and a timeout per case: when a case times out or the
child dies, the child is killed and restarted at the next case, and the case
is reported as it ended ("timeout >20 s", "MemoryError", "crashed").

Nothing is installed unless NOVA_RT_BENCH_UPSTREAM=1 is set; then
``upstream/series.py prepare`` and ``venv`` make the work directory when it
is missing or its series is not the one in upstream/patches.
"""

import json
import os
import queue
import resource
import subprocess
import sys
import tempfile
import threading
import time
import typing as ty

from nova.doc import series

UPSTREAM_REQUIREMENT = 'nova==34.0.0'
INSTALL_TIMEOUT_S = 1200
READY_TIMEOUT_S = 120

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
DEFAULT_VENV = os.path.join(REPO_ROOT, '.upstream-venv')
SCRIPT = os.path.join(REPO_ROOT, 'tools', 'upstream-bench',
                      'upstream_bench.py')
SERIES_SCRIPT = os.path.join(REPO_ROOT, 'upstream', 'series.py')
# upstream/series.py's work directory (it reads the same variable)
SERIES_WORK = os.environ.get('NOVA_RT_UPSTREAM_DIR',
                             os.path.join(REPO_ROOT, '.upstream'))
SERIES_TIMEOUT_S = 1800
# Targets for the patched side (printed, not asserted): every fit case
# within fit_bench.TARGET_US p99; at least 100x faster than unpatched where
# unpatched takes over SLOW_US; the scale case within SCALE_TARGET_MS.
SLOW_US = 100000.0
SCALE_TARGET_MS = 1000.0


class Side(ty.NamedTuple):
    """One upstream Nova to time: a python and the tree it imports."""

    label: str
    python: str
    # the directory holding the ``nova`` package, or None for the one
    # installed in python's environment
    tree: ty.Optional[str]


def venv_dir():
    return os.environ.get('NOVA_RT_BENCH_UPSTREAM_VENV', DEFAULT_VENV)


def _python(venv):
    return os.path.join(venv, 'bin', 'python')


def _clean_env():
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(('PYTHON', 'VIRTUAL_ENV'))}
    # Upstream's eventlet deprecation warnings are noise on stderr.
    env['PYTHONWARNINGS'] = 'ignore'
    return env


def install(venv, out):
    """Create ``venv`` and pip install upstream Nova; an error text or None."""
    out.write('installing %s into %s (NOVA_RT_BENCH_UPSTREAM=1) ...\n' %
              (UPSTREAM_REQUIREMENT, venv))
    out.flush()
    base = getattr(sys, '_base_executable', sys.executable)
    try:
        subprocess.run([base, '-m', 'venv', venv], check=True,
                       capture_output=True, timeout=300)
        subprocess.run([_python(venv), '-m', 'pip', 'install', '-q',
                        UPSTREAM_REQUIREMENT], check=True,
                       capture_output=True, text=True,
                       timeout=INSTALL_TIMEOUT_S, cwd=tempfile.gettempdir(),
                       env=_clean_env())
    except subprocess.TimeoutExpired as e:
        return 'install timed out after %d s' % e.timeout
    except subprocess.CalledProcessError as e:
        tail = (e.stderr or '').strip().splitlines()[-3:]
        return 'install failed (exit %d): %s' % (e.returncode,
                                                 ' | '.join(tail))
    except OSError as e:
        return 'install failed: %s' % e
    return None


def probe(venv, tree=None):
    """(version, None) if upstream nova imports, else (None, why).

    From ``tree`` with the python of ``venv`` when tree is given, else from
    the venv itself. Checks where the imported nova lives: an upstream run
    that silently imported this tree would compare us with ourselves.
    """
    python = _python(venv)
    if not os.path.exists(python):
        return None, 'no virtualenv at %s' % venv
    code = ('import os, sys, importlib.metadata as m; '
            'sys.argv[1:] and sys.path.insert(0, sys.argv[1]); import nova; '
            'print(m.version("nova")); print(os.path.abspath(nova.__file__))')
    try:
        proc = subprocess.run([python, '-I', '-c', code] +
                              ([tree] if tree else []),
                              capture_output=True, text=True, timeout=120,
                              env=_clean_env(), cwd=tempfile.gettempdir())
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, 'cannot run %s: %s' % (python, e)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:]
        return None, 'nova does not import in %s: %s' % (venv, ' '.join(tail))
    version, path = proc.stdout.split()[:2]
    home = tree or venv
    if not os.path.realpath(path).startswith(os.path.realpath(home)):
        return None, 'nova for %s imports from %s' % (home, path)
    return version, None


def series_current():
    """Whether .upstream/series holds exactly upstream/patches, or why not."""
    tree = os.path.join(SERIES_WORK, 'series')
    try:
        proc = subprocess.run(
            ['git', 'log', '--reverse', '--format=%s', 'HEAD'], cwd=tree,
            capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return '%s: %s' % (tree, e)
    if proc.returncode != 0:
        return 'no series applied in %s' % tree
    applied = proc.stdout.splitlines()[1:]
    subjects = [patch.subject for patch in series.patches()]
    if applied != subjects:
        return ('%s holds %d patches, not the %d of upstream/patches' %
                (tree, len(applied), len(subjects)))
    return None


def prepare_series(out):
    """Run upstream/series.py prepare and venv; an error text or None."""
    for step in ('prepare', 'venv'):
        out.write('running upstream/series.py %s '
                  '(NOVA_RT_BENCH_UPSTREAM=1) ...\n' % step)
        out.flush()
        try:
            proc = subprocess.run(
                [sys.executable, SERIES_SCRIPT, step], capture_output=True,
                text=True, timeout=SERIES_TIMEOUT_S, env=_clean_env())
        except (OSError, subprocess.TimeoutExpired) as e:
            return 'upstream/series.py %s: %s' % (step, e)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            return 'upstream/series.py %s failed: %s' % (step,
                                                        ' | '.join(tail))
    return None


def sides(out, install_allowed):
    """The upstream sides to time: ([Side], [why a side is missing])."""
    found = []
    missing = []
    work_venv = os.path.join(SERIES_WORK, 'venv')
    stale = series_current()
    if stale and install_allowed:
        failure = prepare_series(out)
        stale = failure or series_current()
    base_version, why = probe(work_venv, os.path.join(SERIES_WORK, 'base'))
    if base_version:
        found.append(Side('unpatched', _python(work_venv),
                          os.path.join(SERIES_WORK, 'base')))
    else:
        venv = venv_dir()
        version, why_venv = probe(venv)
        if version is None and install_allowed and not os.path.exists(venv):
            failure = install(venv, out)
            version, why_venv = probe(venv) if not failure else (None,
                                                                 failure)
        if version:
            found.append(Side('unpatched', _python(venv), None))
        else:
            missing.append('unpatched: %s; %s' % (why, why_venv))
    if stale:
        missing.append('patched: %s' % stale)
    else:
        version, why = probe(work_venv, os.path.join(SERIES_WORK, 'series'))
        if version:
            found.append(Side('patched', _python(work_venv),
                              os.path.join(SERIES_WORK, 'series')))
        else:
            missing.append('patched: %s' % why)
    return found, missing


def _limit_memory(limit_bytes):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    return apply


def _reader(stream, lines):
    for line in stream:
        lines.put(line)
    lines.put(None)


def run_job(side, hosts, cases, timeout_s, memory_mb, progress=None,
            scale_hosts=()):
    """Run ``cases`` on one Side; a list of result dicts, one per case."""
    results = [None] * len(cases)
    with tempfile.TemporaryDirectory(prefix='nova-rt-upstream-') as tmp:
        job = os.path.join(tmp, 'job.json')
        with open(job, 'w') as f:
            json.dump({'hosts': hosts, 'cases': cases,
                       'scale_hosts': list(scale_hosts)}, f)
        index = 0
        while index < len(cases):
            index = _run_from(side, job, tmp, cases, index, results,
                              timeout_s, memory_mb, progress)
    return results


def _timeout(case, default_s):
    return case.get('timeout_s', default_s)


def _run_from(side, job, tmp, cases, start, results, timeout_s, memory_mb,
              progress):
    """One child process from case ``start``; the next case left to run."""
    stderr_path = os.path.join(tmp, 'stderr-%d.txt' % start)
    with open(stderr_path, 'w+') as stderr:
        proc = subprocess.Popen(
            [side.python, '-I', SCRIPT, job, str(start)] +
            ([side.tree] if side.tree else []),
            stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=tmp,
            env=_clean_env(),
            preexec_fn=_limit_memory(memory_mb * 1024 * 1024))
        lines = queue.Queue()
        threading.Thread(target=_reader, args=(proc.stdout, lines),
                         daemon=True).start()
        index = start
        deadline = time.monotonic() + READY_TIMEOUT_S
        ready = False
        try:
            while index < len(cases):
                case_start = time.monotonic()
                try:
                    line = lines.get(timeout=max(0.0, deadline - case_start))
                except queue.Empty:
                    line = False
                if not line:
                    # Timed out (False) or the child exited (None).
                    if line is False:
                        proc.kill()
                        what = ('timeout >%g s' % _timeout(
                            cases[index], timeout_s) if ready
                                else 'upstream import timed out')
                    else:
                        proc.wait()
                        stderr.seek(0)
                        tail = stderr.read().strip().splitlines()[-1:]
                        what = 'crashed (exit %s)%s' % (
                            proc.returncode,
                            ': ' + tail[0][:120] if tail else '')
                    # Before "ready" the import itself failed: no use
                    # restarting for every remaining case.
                    last = index + 1 if ready else len(cases)
                    for failed in range(index, last):
                        results[failed] = {'outcome': what, 'failed': True}
                        if progress:
                            progress(failed, results[failed])
                    return last
                record = json.loads(line)
                if record.get('ready'):
                    ready = True
                else:
                    results[index] = record
                    if progress:
                        progress(index, record)
                    index += 1
                if index < len(cases):
                    deadline = time.monotonic() + _timeout(cases[index],
                                                           timeout_s)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        return index
