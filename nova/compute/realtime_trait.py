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

"""Real-time readiness for the scheduler: a trait on the compute node.

``nova-realtime advertise`` runs the checks of ``check-host`` (the same
``host_checks.run_checks`` and ``host_is_ready``: check-host stays the one
source of the verdict) and keeps one custom trait, ``[realtime] trait``, on
this host's compute node resource provider in Placement while the host is
READY, and off it while it is not. Real-time flavors require the trait
(``trait:CUSTOM_REALTIME_HOST=required``), so a host that drifted (a reboot
that lost a sysctl, the huge pages, libvirtd's memory-lock limit) stops
receiving real-time guests until it is fixed.

Which provider is this host's is found as nova-compute finds its compute
node: by the node UUID nova-compute (2023.1 and later) keeps in
``compute_id`` (next to a ``--config-file``, or in ``[DEFAULT] state_path``),
which is also its provider's UUID; without that file, by libvirt's hostname,
the name upstream's libvirt driver gives the node and its provider.
``[DEFAULT] host`` is never a provider name.

What it touches in Placement, and nothing else:

* ``GET /resource_providers/{uuid}``, or ``GET /resource_providers?name=NAME``
  without a node UUID: the provider nova-compute created for this host
  (never created or deleted here: no provider is an error).
* ``GET /resource_providers/{uuid}/traits``: its traits and generation.
* ``PUT /traits/{trait}``: the custom trait exists (only before adding it).
* ``PUT /resource_providers/{uuid}/traits``: the same set plus or minus our
  trait, with the generation read. A 409 (someone, usually nova-compute,
  changed the provider in between) re-reads and retries, at most
  ``CONFLICT_ATTEMPTS`` times; inventories and allocations are never sent.

All at Placement microversion 1.6, the first with traits; the name filter of
``GET /resource_providers`` is older (1.0).
"""

import collections
import contextlib
import io
import logging as std_logging
import os
import re
import signal
import socket
import threading
import time
from urllib import parse
import uuid as uuid_lib

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
import libvirt
from oslo_config import cfg
from oslo_log import log as logging
import pbr.version

import nova.conf
from nova.conf import placement as placement_conf
from nova.conf import realtime as realtime_conf
from nova.conf import validation
from nova import exception
from nova.i18n import _
from nova.virt.libvirt import host as host_mod
from nova.virt.libvirt import host_checks

CONF = nova.conf.CONF
# The Placement client reads [placement] from CONF (nova.cmd.realtime
# registers it before loading the files for advertise).
placement_conf.register_opts(CONF)
LOG = logging.getLogger(__name__)

MICROVERSION = '1.6'
# Generation conflicts in a row before giving up, and the first wait (it
# doubles: 0.1 + 0.2 + 0.4 + 0.8 s at most in all).
CONFLICT_ATTEMPTS = 5
CONFLICT_BACKOFF = 0.1
# Seconds a Placement request may take when [placement] timeout is unset
# (keystoneauth1 would wait forever; an agent must not hang).
DEFAULT_TIMEOUT = 30
# Longest --interval: a day.
MAX_INTERVAL = 86400
# Longest Placement error detail quoted in a message.
_MAX_DETAIL = 200
# nova-compute's node identity file (nova/virt/node.py upstream).
COMPUTE_ID_FILE = 'compute_id'


# -- the verdict --------------------------------------------------------------

class Verdict(collections.namedtuple('Verdict', 'ready gating problem')):
    """``ready`` as check-host says it, unless a gating WARN says otherwise;
    ``gating``: the results that keep the trait off (every FAIL, and the
    WARNs named in [realtime] advertise_gating_warnings); ``problem``: why
    the host could not be judged at all (an invalid configuration), which
    keeps the trait off too.
    """
    __slots__ = ()

    def __new__(cls, ready, gating, problem=None):
        return super().__new__(cls, ready and not problem, gating, problem)

    def reasons(self):
        return ', '.join(
            '%s %s' % (r.status, r.id) +
            (_(' (gating warning)') if r.status == host_checks.WARN else '')
            for r in self.gating)

    def describe(self):
        if self.problem:
            return _('not judged, invalid configuration: %s') % self.problem
        if self.ready:
            return _('check-host READY')
        return _('check-host NOT READY: %s') % self.reasons()


def run_checks(host, facts):
    """Every check of check-host, called as check-host calls them."""
    return host_checks.run_checks(facts,
                                  host_mod.get_host_cpu_sets().dedicated,
                                  host, CONF.libvirt.virt_type)


def judge(results, gating_warnings=None):
    """The Verdict for check results.

    A gating id that is not one of check-host's checks (the fixed list
    host_checks.CHECK_IDS, whichever checks ran this pass) is an error: a
    typo would silently never gate.
    """
    if gating_warnings is None:
        gating_warnings = CONF.realtime.advertise_gating_warnings
    gating_warnings = set(gating_warnings)
    unknown = sorted(gating_warnings - set(host_checks.CHECK_IDS))
    if unknown:
        raise exception.GatingWarningInvalid(ids=', '.join(unknown),
                                   known=', '.join(host_checks.CHECK_IDS))
    gating = tuple(r for r in results if r.status == host_checks.FAIL or (
        r.status == host_checks.WARN and r.id in gating_warnings))
    ready = host_checks.host_is_ready(results) and not gating
    return Verdict(ready, gating)


# -- which provider -----------------------------------------------------------

def read_node_uuid(conf=None):
    """(node UUID, file) from nova-compute's ``compute_id``, or (None, None).

    Looked for where nova-compute looks: next to each ``--config-file``,
    then in ``[DEFAULT] state_path``. A file that holds no UUID, or files
    that disagree, are a NodeIdentityError, as they stop nova-compute.
    """
    conf = CONF if conf is None else conf
    files = conf.config_file if 'config_file' in conf else None
    directories = [os.path.dirname(os.path.abspath(path))
                   for path in files or []]
    directories.append(conf.state_path)
    found = []
    for directory in directories:
        path = os.path.join(directory, COMPUTE_ID_FILE)
        if any(path == seen for _uuid, seen in found):
            continue
        try:
            with open(path, 'rb') as f:
                content = f.read(40)
        except FileNotFoundError:
            continue
        except OSError as e:
            raise exception.NodeIdentityError(reason=_('cannot read %(path)s: '
                                             '%(err)s') % {
                'path': path, 'err': e.strerror or e})
        try:
            node = str(uuid_lib.UUID(content.decode('ascii').strip()))
        except (UnicodeDecodeError, ValueError):
            raise exception.NodeIdentityError(
                reason=_('%s does not hold a UUID') % path)
        found.append((node, path))
    for node, path in found[1:]:
        if node != found[0][0]:
            raise exception.NodeIdentityError(reason=_(
                '%(path)s holds %(uuid)s but %(first)s holds %(other)s') % {
                    'path': path, 'uuid': node, 'first': found[0][1],
                    'other': found[0][0]})
    return found[0] if found else (None, None)


def libvirt_style_hostname():
    """The machine's hostname as libvirt computes it (virGetHostname):
    gethostname(), and when it has no dot, its canonical name.
    """
    name = socket.gethostname()
    if '.' in name:
        return name
    try:
        info = socket.getaddrinfo(name, None, flags=socket.AI_CANONNAME)
    except (OSError, UnicodeError):
        return name
    for _family, _type, _proto, canonical, _addr in info:
        if canonical and canonical != 'localhost':
            return canonical
    return name


def provider_name(host):
    """(name, where it came from) of this host's compute node provider.

    libvirt's hostname, the name nova-compute's libvirt driver gives its
    compute node (and so its provider), whatever ``[DEFAULT] host`` says;
    when libvirt does not answer, the machine's hostname computed as libvirt
    computes it.
    """
    try:
        return host.get_connection().getHostname(), _('libvirt\'s hostname')
    except (exception.NovaException, libvirt.libvirtError) as e:
        LOG.debug('libvirt has no hostname for us (%s); using the '
                  'machine\'s', e)
        return libvirt_style_hostname(), _(
            'the machine\'s hostname, libvirt did not answer')


class Provider(collections.namedtuple('Provider', 'uuid name source')):
    """This host's compute node provider; ``source``: how it was found."""
    __slots__ = ()


def locate_provider(client, host, conf=None):
    """This host's Provider, found as nova-compute identifies its node:
    by the UUID in ``compute_id`` when there is one, else by libvirt's
    hostname. exception.ProviderNotFound when Placement has no such provider.
    """
    node, path = read_node_uuid(conf)
    if node is not None:
        source = _('node UUID from %s') % path
        found = client.get_provider(node)
        if found is None:
            raise exception.ProviderNotFound(what=_('with UUID %s') % node,
                                   source=source, hint='')
        return Provider(node, found, source)
    name, source = provider_name(host)
    found = client.find_provider(name)
    if found is None:
        raise exception.ProviderNotFound(
            what=_('named %r') % name, source=source, hint=_(
                ', or its node has a UUID in a compute_id this tool does not '
                'see: set [DEFAULT] state_path to nova-compute\'s'))
    return Provider(found, name, source)


# -- Placement ----------------------------------------------------------------

def _client_error(error):
    """A keystoneauth1 error as one short line.

    A refused or unresolvable connection is "cannot connect to URL: reason"
    rather than requests' and urllib3's nested exception texts.
    """
    text = _one_line(error)
    if isinstance(error, ks_exc.ConnectFailure):
        url = re.match(r'^Unable to establish connection to (\S+): ', text)
        reasons = re.findall(r'\[Errno -?\d+\] ([^"\'()]+)', text)
        if url:
            return _('cannot connect to %(url)s: %(why)s') % {
                'url': url.group(1),
                'why': reasons[-1].strip() if reasons else text}
    return _one_line(text, _MAX_DETAIL * 2)


def _one_line(text, limit=None):
    text = ' '.join(validation.one_line(text).split())
    if limit and len(text) > limit:
        text = text[:limit] + '...'
    return text


class PlacementClient(object):
    """The few Placement calls the agent makes, through keystoneauth1.

    Session, auth plugin and adapter come from ``[placement]`` exactly as
    nova-compute loads them (service type ``placement``, interfaces
    ``internal`` then ``public``, region, auth_type and its options).
    """

    def __init__(self, conf=None, group='placement'):
        conf = CONF if conf is None else conf
        try:
            auth = ks_loading.load_auth_from_conf_options(conf, group)
        except ks_exc.ClientException as e:
            # Unknown auth_type, or an option the plugin needs is missing.
            raise exception.PlacementConfigInvalid(reason=_one_line(e))
        if auth is None:
            raise exception.PlacementConfigInvalid(reason=_(
                'auth_type is not set: use the [placement] section '
                'nova-compute uses (auth_type = password, auth_url, '
                'username, password, project_name ...)'))
        timeout = conf[group].timeout or DEFAULT_TIMEOUT
        session = ks_loading.load_session_from_conf_options(
            conf, group, auth=auth, timeout=timeout)
        self._adapter = ks_loading.load_adapter_from_conf_options(
            conf, group, session=session, auth=auth, raise_exc=False,
            client_name='nova-realtime',
            client_version=pbr.version.VersionInfo(
                'nova-realtime').version_string())
        self._adapter.additional_headers = {'Accept': 'application/json'}

    def _request(self, method, url, **kwargs):
        try:
            return self._adapter.request(url, method,
                                         microversion=MICROVERSION, **kwargs)
        except Exception as e:
            # keystoneauth1's plugins raise bare Exceptions too (an auth
            # option a plugin needs and does not have): one line anyway.
            raise exception.PlacementError(reason=_(
                '%(method)s %(url)s: %(err)s') % {
                    'method': method, 'url': url, 'err': _client_error(e)})

    @staticmethod
    def _failed(method, url, resp):
        try:
            errors = resp.json().get('errors') or [{}]
            detail = errors[0].get('detail') or errors[0].get('title') or ''
        except ValueError:
            detail = resp.text
        return exception.PlacementError(reason=_(
            '%(method)s %(url)s: HTTP %(status)d %(detail)s') % {
                'method': method, 'url': url, 'status': resp.status_code,
                'detail': _one_line(detail, _MAX_DETAIL)})

    def find_provider(self, name):
        """The UUID of the provider named ``name``, or None."""
        url = '/resource_providers?name=%s' % parse.quote(name, safe='')
        resp = self._request('GET', url)
        if resp.status_code != 200:
            raise self._failed('GET', url, resp)
        providers = resp.json().get('resource_providers', [])
        if not providers:
            return None
        return providers[0]['uuid']

    def get_provider(self, uuid):
        """The name of the provider with this UUID, or None."""
        url = '/resource_providers/%s' % uuid
        resp = self._request('GET', url)
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise self._failed('GET', url, resp)
        return resp.json()['name']

    def get_traits(self, uuid):
        """(set of trait names, provider generation)."""
        url = '/resource_providers/%s/traits' % uuid
        resp = self._request('GET', url)
        if resp.status_code != 200:
            raise self._failed('GET', url, resp)
        body = resp.json()
        return set(body['traits']), body['resource_provider_generation']

    def ensure_trait(self, trait):
        """Create the custom trait (a no-op when it exists)."""
        url = '/traits/%s' % trait
        resp = self._request('PUT', url)
        if resp.status_code not in (201, 204):
            raise self._failed('PUT', url, resp)

    def put_traits(self, uuid, traits, generation):
        """Replace the provider's traits; False on a generation conflict."""
        url = '/resource_providers/%s/traits' % uuid
        resp = self._request('PUT', url, json={
            'traits': sorted(traits),
            'resource_provider_generation': generation})
        if resp.status_code == 409:
            return False
        if resp.status_code != 200:
            raise self._failed('PUT', url, resp)
        return True


# -- one pass -----------------------------------------------------------------

class Outcome(collections.namedtuple(
        'Outcome', 'name uuid trait present wanted changed')):
    """``present``: whether the trait is on the provider now (as read, or
    as written); ``changed``: whether this pass wrote it.
    """
    __slots__ = ()


def sync_trait(client, provider, trait, wanted, dry_run=False,
               sleep=time.sleep, attempts=CONFLICT_ATTEMPTS):
    """Put ``trait`` on (``wanted``) or off ``provider`` (a Provider).

    Every other trait is kept as read; a generation conflict re-reads and
    retries (``attempts`` in all, waits doubling from CONFLICT_BACKOFF).
    """
    name, uuid = provider.name, provider.uuid
    created = False
    for attempt in range(1, attempts + 1):
        traits, generation = client.get_traits(uuid)
        present = trait in traits
        if present == wanted or dry_run:
            return Outcome(name, uuid, trait, present, wanted, False)
        if wanted and not created:
            client.ensure_trait(trait)
            created = True
        new = traits | {trait} if wanted else traits - {trait}
        if client.put_traits(uuid, new, generation):
            return Outcome(name, uuid, trait, wanted, wanted, True)
        LOG.debug('Generation conflict on resource provider %(uuid)s '
                  '(attempt %(n)d of %(of)d)',
                  {'uuid': uuid, 'n': attempt, 'of': attempts})
        if attempt < attempts:
            sleep(CONFLICT_BACKOFF * 2 ** (attempt - 1))
    raise exception.GenerationConflict(name=name, uuid=uuid, attempts=attempts,
                             trait=trait,
                             action=_('added') if wanted else _('removed'))


def describe_outcome(outcome, verdict, dry_run=False):
    """The line an operator reads about one pass (None: nothing to say)."""
    values = {'trait': outcome.trait, 'name': outcome.name,
              'uuid': outcome.uuid, 'why': verdict.describe()}
    if outcome.changed:
        text = (_('Added %(trait)s to resource provider %(name)s '
                  '(%(uuid)s): %(why)s') if outcome.present else
                _('Removed %(trait)s from resource provider %(name)s '
                  '(%(uuid)s): %(why)s'))
        return text % values
    if not dry_run:
        return None
    if outcome.present == outcome.wanted:
        text = (_('No change: %(trait)s is on resource provider %(name)s '
                  '(%(uuid)s): %(why)s') if outcome.present else
                _('No change: %(trait)s is not on resource provider '
                  '%(name)s (%(uuid)s): %(why)s'))
    else:
        text = (_('Would add %(trait)s to resource provider %(name)s '
                  '(%(uuid)s): %(why)s') if outcome.wanted else
                _('Would remove %(trait)s from resource provider %(name)s '
                  '(%(uuid)s): %(why)s'))
    return text % values


class Advertiser(object):
    """One host's agent: a pass is checks -> verdict -> trait.

    ``out(line)`` receives what the operator should read (each change; in
    a dry run, what would be done); errors are raised.
    """

    def __init__(self, host, facts_factory, out, dry_run=False,
                 client=None, sleep=time.sleep):
        self.host = host
        self.facts_factory = facts_factory
        self.out = out
        self.dry_run = dry_run
        self.sleep = sleep
        # Loaded (and its configuration judged) before anything is checked.
        self.client = PlacementClient() if client is None else client

    def run_once(self):
        """One pass; returns the Outcome or raises (nothing half done: the
        only write is the one PUT of the trait set).

        Fails closed: an invalid [realtime] advertise_gating_warnings or an
        unreachable libvirt takes the trait off (when Placement answers)
        before the error is raised; the error says whether it is off.
        """
        results = run_checks(self.host, self.facts_factory())
        invalid = None
        try:
            verdict = judge(results)
        except exception.GatingWarningInvalid as e:
            invalid = e
            verdict = Verdict(False, (), problem=_one_line(e))
        try:
            outcome = self.apply(verdict)
        except exception.NovaException as e:
            if invalid is not None:
                raise exception.TraitNotWithdrawn(problem=_one_line(invalid),
                                        error=_one_line(e))
            raise
        if invalid is not None:
            raise invalid
        if host_checks.libvirt_unreachable(results):
            connection = [r for r in results
                          if r.id == 'libvirt.connection'][0]
            raise exception.LibvirtUnreachable(reason=connection.found,
                                     state=self.state(outcome))
        return outcome

    def apply(self, verdict):
        """Make the trait match ``verdict``; print the change (or, in a
        dry run, what would be done). Returns the Outcome.
        """
        provider = locate_provider(self.client, self.host)
        outcome = sync_trait(self.client, provider, CONF.realtime.trait,
                             verdict.ready, dry_run=self.dry_run,
                             sleep=self.sleep)
        line = describe_outcome(outcome, verdict, self.dry_run)
        if line:
            LOG.info(line)
            self.out(line)
        else:
            LOG.debug('%(trait)s on %(name)s already matches: %(why)s',
                      {'trait': outcome.trait, 'name': provider.name,
                       'why': verdict.describe()})
        return outcome

    def state(self, outcome):
        """Where the trait is after a pass, in words."""
        values = {'trait': outcome.trait, 'name': outcome.name}
        if outcome.present:
            return _('a dry run left %(trait)s on resource provider '
                     '%(name)s') % values
        if outcome.changed:
            return _('%(trait)s was taken off resource provider '
                     '%(name)s') % values
        return _('%(trait)s is not on resource provider %(name)s') % values

    def run_forever(self, interval, err, stop=None, after_pass=None):
        """A pass every ``interval`` seconds until ``stop`` is set (SIGTERM,
        SIGINT and SIGHUP set it: the pass under way finishes first).

        An error is written with ``err`` once, not at every pass while it
        lasts, and its end is said; an invalid configuration
        (exception.Invalid) ends the loop at once. ``after_pass()`` is
        called after each pass. Returns 0.
        """
        stop = threading.Event() if stop is None else stop
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(signum, lambda _signum, _frame: stop.set())
        last_error = None
        while not stop.is_set():
            try:
                self.run_once()
            except exception.Invalid:
                raise
            except (exception.NovaException, libvirt.libvirtError) as e:
                message = _one_line(
                    e.get_error_message() if isinstance(
                        e, libvirt.libvirtError) else e)
                if message != last_error:
                    err(message)
                    last_error = message
                else:
                    LOG.debug('Still failing: %s', message)
            else:
                if last_error is not None:
                    self.out(_('Recovered: the last pass succeeded'))
                    last_error = None
            if after_pass is not None:
                after_pass()
            stop.wait(interval)
        return 0


# -- failing closed on an invalid configuration -----------------------------

def _withdraw_conf(config_args):
    """A ConfigOpts with only what taking the trait off needs, read from
    the same files with none of the checks that made the full load fail.
    """
    conf = cfg.ConfigOpts()
    placement_conf.register_opts(conf)
    conf.register_opts(realtime_conf.state_path_opts)
    conf.register_opts([cfg.StrOpt('trait', default='CUSTOM_REALTIME_HOST')],
                       group='realtime')
    conf.register_opts([cfg.StrOpt('connection_uri', default=''),
                        cfg.StrOpt('virt_type', default='kvm')],
                       group='libvirt')
    with contextlib.redirect_stderr(io.StringIO()):
        conf(config_args, project='nova', prog='nova-realtime',
             use_env=False)
    return conf


def withdraw_on_invalid(problem, config_args, connection, out):
    """Take the trait off this host's provider because the configuration
    (or the command line) is invalid; ``problem`` says how. Returns the
    words for the ERROR line: where the trait is now, or why it could not
    be taken off. Never raises.
    """
    problem = _one_line(problem)
    # Logging is not set up yet: keystoneauth1's warnings must not reach
    # stderr around the one ERROR line.
    root = std_logging.getLogger()
    handlers, root.handlers = root.handlers, [std_logging.NullHandler()]
    try:
        return _withdraw(problem, config_args, connection, out)
    finally:
        root.handlers = handlers


def _withdraw(problem, config_args, connection, out):
    try:
        conf = _withdraw_conf(config_args)
        trait = conf.realtime.trait
        if not (re.match(realtime_conf.CUSTOM_TRAIT_PATTERN, trait) and
                len(trait) <= realtime_conf.MAX_TRAIT_LENGTH):
            return _('the trait could not be taken off: [realtime] trait '
                     'is not a custom trait name')
        client = PlacementClient(conf)
        host = host_mod.Host(uri=connection or conf.libvirt.connection_uri or
                             host_mod.uri_for_virt_type(
                                 conf.libvirt.virt_type))
        try:
            provider = locate_provider(client, host, conf)
            outcome = sync_trait(client, provider, trait, False)
        finally:
            host.close()
    except (cfg.Error, exception.NovaException, libvirt.libvirtError,
            OSError, ValueError, SystemExit) as e:
        if isinstance(e, SystemExit):
            e = _('the configuration files cannot be read')
        elif isinstance(e, libvirt.libvirtError):
            e = e.get_error_message()
        return _('the trait could not be taken off: %s') % _one_line(
            e, _MAX_DETAIL * 2)
    if outcome.changed:
        line = describe_outcome(outcome, Verdict(False, (), problem=problem))
        LOG.info(line)
        out(line)
        return _('%(trait)s was taken off resource provider %(name)s') % {
            'trait': trait, 'name': provider.name}
    return _('%(trait)s is not on resource provider %(name)s') % {
        'trait': trait, 'name': provider.name}
