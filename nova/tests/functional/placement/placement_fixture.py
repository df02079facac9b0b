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

"""A real Placement API for the tests, on 127.0.0.1.

openstack-placement (from PyPI, test-requirements.txt) with its database
on SQLite in a temporary directory (``placement-manage db sync``), its WSGI
application (``placement.wsgi.api:application``) served by waitress in a
child process on a free port of 127.0.0.1, ``[api] auth_strategy =
noauth2``. A child process, because Placement configures oslo.config and
oslo.log for its whole process; waitress, because it is a production WSGI
server small enough for a test dependency and can bind port 0 and tell the
port it got (no race for a "free" port).

Placement's noauth2 middleware takes the token as the user: ``admin`` is an
admin, which the provider and trait APIs need. keystoneauth1's
``admin_token`` plugin sends a fixed token to a fixed endpoint, so the agent
is configured with ``auth_type = admin_token``, ``endpoint`` and ``token =
admin`` (``config_lines()``), and goes through a real keystoneauth1 session.

Run as a module, this file is the child: ``python -m ... CONFIG_DIR``
prints the port on its first line of stdout, then serves until killed.
"""

import os
import select
import subprocess
import sys
import time

import fixtures
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from testtools import content

START_TIMEOUT = 60
STOP_TIMEOUT = 10
TOKEN = 'admin'


class PlacementFixture(fixtures.Fixture):
    """Placement on 127.0.0.1; ``stop()`` and ``start()`` take it down and
    up again (same database, a new port).
    """

    def _setUp(self):
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.conf_file = os.path.join(self.dir, 'placement.conf')
        with open(self.conf_file, 'w') as f:
            f.write('[DEFAULT]\n'
                    'log_file = %s\n'
                    '[api]\n'
                    'auth_strategy = noauth2\n'
                    '[placement_database]\n'
                    'connection = sqlite:///%s\n' % (
                        os.path.join(self.dir, 'placement.log'),
                        os.path.join(self.dir, 'placement.db')))
        self.log_file = os.path.join(self.dir, 'placement.log')
        open(self.log_file, 'a').close()
        self.addDetail('placement-log', content.content_from_file(
            self.log_file, buffer_now=False))
        self.started_in = None
        start = time.monotonic()
        subprocess.run(
            [sys.executable, '-c',
             'import sys; from placement.cmd import manage; '
             'sys.exit(manage.main())',
             '--config-file', self.conf_file, 'db', 'sync'],
            check=True, capture_output=True, timeout=120)
        self.proc = None
        self.start()
        self.started_in = time.monotonic() - start
        self.addCleanup(self.stop)

    def start(self):
        env = dict(os.environ, OS_PLACEMENT_CONFIG_DIR=self.dir)
        with open(self.log_file, 'a') as log:
            self.proc = subprocess.Popen(
                [sys.executable, '-m', __name__, self.dir], env=env,
                stdout=subprocess.PIPE, stderr=log, text=True)
        deadline = time.monotonic() + START_TIMEOUT
        ready, _w, _x = select.select([self.proc.stdout], [], [],
                                      START_TIMEOUT)
        line = self.proc.stdout.readline() if ready else ''
        if not line.strip().isdigit():
            self.stop()
            with open(self.log_file) as log:
                tail = log.read()[-2000:]
            raise AssertionError('Placement did not start in %ds: %s' % (
                START_TIMEOUT, tail))
        self.port = int(line)
        self.endpoint = 'http://127.0.0.1:%d' % self.port
        self.session = ks_session.Session(
            auth=token_endpoint.Token(self.endpoint, TOKEN))
        while time.monotonic() < deadline:
            try:
                if self.session.get(self.endpoint + '/',
                                    raise_exc=False).status_code == 200:
                    return
            except Exception:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError('Placement did not answer in %ds' %
                             START_TIMEOUT)

    def stop(self):
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()

    def config_lines(self):
        """The [placement] section that points the agent here."""
        return ('[placement]\n'
                'auth_type = admin_token\n'
                'endpoint = %s\n'
                'token = %s\n' % (self.endpoint, TOKEN))

    # -- another client: what nova-compute and the operator do ------------

    def request(self, method, path, json=None, version='1.6', expect=None):
        resp = self.session.request(
            self.endpoint + path, method, json=json, raise_exc=False,
            headers={'OpenStack-API-Version': 'placement %s' % version,
                     'Accept': 'application/json'})
        if expect is not None and resp.status_code != expect:
            raise AssertionError('%s %s: HTTP %d %s' % (
                method, path, resp.status_code, resp.text))
        return resp

    def create_provider(self, name, uuid):
        """As nova-compute registers its compute node."""
        self.request('POST', '/resource_providers',
                     json={'name': name, 'uuid': uuid}, expect=201)

    def traits(self, uuid):
        body = self.request('GET', '/resource_providers/%s/traits' % uuid,
                            expect=200).json()
        return set(body['traits']), body['resource_provider_generation']

    def set_traits(self, uuid, traits):
        for trait in traits:
            if trait.startswith('CUSTOM_'):
                self.request('PUT', '/traits/%s' % trait)
        _traits, generation = self.traits(uuid)
        self.request('PUT', '/resource_providers/%s/traits' % uuid,
                     json={'traits': sorted(traits),
                           'resource_provider_generation': generation},
                     expect=200)

    def trait_exists(self, trait):
        return self.request('GET', '/traits/%s' % trait).status_code == 204


def _serve(config_dir):
    os.environ['OS_PLACEMENT_CONFIG_DIR'] = config_dir
    import waitress

    from placement.wsgi import api
    server = waitress.create_server(api.application, host='127.0.0.1',
                                    port=0, threads=4)
    sys.stdout.write('%s\n' % server.effective_port)
    sys.stdout.flush()
    server.run()


if __name__ == '__main__':
    _serve(sys.argv[1])
