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

"""[placement]: how ``nova-realtime advertise`` reaches Placement.

The same section, with the same keystoneauth1 options (session, auth plugin,
adapter), that nova-compute reads from the host's nova.conf, so the agent
authenticates and finds the endpoint exactly as nova-compute does. The auth
plugin's own options (``auth_url``, ``username``, ``password`` ...) depend
on ``auth_type`` and are registered when the plugin is loaded.

Only ``advertise`` (and taking the trait off on an invalid configuration)
talks to Placement, so only they register these options
(``register_opts``): keystoneauth1 brings requests and urllib3 with it, a
fifth of what every other command would otherwise load for nothing. The
other commands still judge a misspelt option in a nova.conf's
``[placement]`` against ``OPTION_NAMES``, the names ``register_opts``
registers (a unit test keeps the two equal).
"""

from oslo_config import cfg

SERVICE_TYPE = 'placement'
# Nova's defaults for its service clients.
VALID_INTERFACES = ['internal', 'public']

# Every key register_opts registers in [placement] (deprecated names
# included), for nova.conf.validation when the options are not registered.
OPTION_NAMES = frozenset((
    'auth_plugin', 'auth_section', 'auth_type', 'cafile', 'certfile',
    'collect_timing', 'connect_retries', 'connect_retry_delay',
    'endpoint_override', 'insecure', 'keyfile', 'max_version',
    'min_version', 'region_name', 'retriable_status_codes', 'service_name',
    'service_type', 'split_loggers', 'status_code_retries',
    'status_code_retry_delay', 'timeout', 'tls_ciphers', 'tls_min_version',
    'valid_interfaces', 'version'))

placement_group = cfg.OptGroup(
    'placement',
    title='Placement service options',
    help='How to authenticate to and find the Placement API (the options '
         'nova-compute reads from the same section).')


def _adapter_opts():
    from keystoneauth1 import loading as ks_loading
    opts = ks_loading.get_adapter_conf_options(include_deprecated=False)
    cfg.set_defaults(opts, service_type=SERVICE_TYPE,
                     valid_interfaces=VALID_INTERFACES)
    return opts


def register_opts(conf):
    """Register [placement] on ``conf``; nothing when it is there already."""
    if placement_group.name in conf:
        return
    from keystoneauth1 import loading as ks_loading
    # A group object of its own for each ConfigOpts: oslo.config copies the
    # group shallowly, so the auth plugin options that keystoneauth1
    # registers when it loads a plugin would otherwise appear in every
    # ConfigOpts that registered the same object.
    conf.register_group(cfg.OptGroup(placement_group.name,
                                     title=placement_group.title,
                                     help=placement_group.help))
    ks_loading.register_session_conf_options(conf, placement_group.name)
    ks_loading.register_auth_conf_options(conf, placement_group.name)
    # keystoneauth1's adapter options with Nova's defaults in the Opt
    # objects themselves (ConfigOpts.set_default would be undone by
    # ConfigOpts.reset()).
    conf.register_opts(_adapter_opts(), group=placement_group)


def list_opts():
    # For the sample: the session, the auth plugin choice and the password
    # plugin's options (the usual auth_type for a service user), the adapter.
    from keystoneauth1 import loading as ks_loading
    return {placement_group: (
        ks_loading.get_session_conf_options() +
        ks_loading.get_auth_common_conf_options() +
        ks_loading.get_auth_plugin_conf_options('password') +
        _adapter_opts())}
