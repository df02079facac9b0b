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

"""Section 4: the same parse and fit cases against upstream Nova.

Upstream runs in its own virtualenv (default ``.upstream-venv`` in the
repository, ignored by git, the one tools/upstream-compare uses too;
NOVA_RT_BENCH_UPSTREAM_VENV overrides it) through
tools/upstream-bench/upstream_bench.py. That child process gets a memory
rlimit and every case a timeout: when a case times out or the child dies,
the child is killed and restarted at the next case, and the case is
reported as it ended ("timeout >20 s", "MemoryError", "crashed").

Nothing is installed unless NOVA_RT_BENCH_UPSTREAM=1 is set; then a missing
venv is created and ``nova==34.0.0`` pip-installed into it (never into the
nova-realtime environment).
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

UPSTREAM_REQUIREMENT = 'nova==34.0.0'
INSTALL_TIMEOUT_S = 1200
READY_TIMEOUT_S = 120

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
DEFAULT_VENV = os.path.join(REPO_ROOT, '.upstream-venv')
SCRIPT = os.path.join(REPO_ROOT, 'tools', 'upstream-bench',
                      'upstream_bench.py')


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


def probe(venv):
    """(version, None) if upstream nova imports from ``venv``, else
    (None, why).


    Checks that the imported nova lives inside the venv: an upstream run
    that silently imported this tree would compare us with ourselves.
    """
    python = _python(venv)
    if not os.path.exists(python):
        return None, 'no virtualenv at %s' % venv
    code = ('import os, importlib.metadata as m, nova; '
            'print(m.version("nova")); print(os.path.abspath(nova.__file__))')
    try:
        proc = subprocess.run([python, '-I', '-c', code], capture_output=True,
                              text=True, timeout=120, env=_clean_env(),
                              cwd=tempfile.gettempdir())
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, 'cannot run %s: %s' % (python, e)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:]
        return None, 'nova does not import in %s: %s' % (venv, ' '.join(tail))
    version, path = proc.stdout.split()[:2]
    if not os.path.realpath(path).startswith(os.path.realpath(venv)):
        return None, 'nova in %s imports from %s, not the venv' % (venv, path)
    return version, None


def _limit_memory(limit_bytes):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    return apply


def _reader(stream, lines):
    for line in stream:
        lines.put(line)
    lines.put(None)


def run_job(venv, hosts, cases, timeout_s, memory_mb, progress=None):
    """Run ``cases`` in upstream; a list of result dicts, one per case."""
    results = [None] * len(cases)
    with tempfile.TemporaryDirectory(prefix='nova-rt-upstream-') as tmp:
        job = os.path.join(tmp, 'job.json')
        with open(job, 'w') as f:
            json.dump({'hosts': hosts, 'cases': cases}, f)
        index = 0
        while index < len(cases):
            index = _run_from(venv, job, tmp, cases, index, results,
                              timeout_s, memory_mb, progress)
    return results


def _run_from(venv, job, tmp, cases, start, results, timeout_s, memory_mb,
              progress):
    """One child process from case ``start``; the next case left to run."""
    stderr_path = os.path.join(tmp, 'stderr-%d.txt' % start)
    with open(stderr_path, 'w+') as stderr:
        proc = subprocess.Popen(
            [_python(venv), '-I', SCRIPT, job, str(start)],
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
                        what = ('timeout >%g s' % timeout_s if ready
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
                deadline = time.monotonic() + timeout_s
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        return index
