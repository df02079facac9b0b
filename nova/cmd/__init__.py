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

"""Commands.

oslo.config and oslo.log import, for features a command seldom uses, about
a third of what ``nova-realtime plan`` imports; those modules are loaded on
first use (nova.deferred_import) instead of when oslo imports them:

* rfc3986 and netaddr: oslo.config's URI and IP address option types, only
  when such an option gets a value (oslo.versionedobjects reads
  netaddr.IPAddress and IPNetwork as it defines its fields: those two are
  loaded up front, from netaddr.ip, without the rest of the package);
* stevedore: oslo.config's configuration source drivers
  (``[DEFAULT] config_source``);
* oslo_serialization.jsonutils and dateutil.tz: oslo.log's formatters,
  only when a record is formatted by oslo.log's handlers (--debug, a log
  file, syslog or the journal);
* debtcollector (and importlib.metadata, which it imports to read its own
  version): oslo.log's and oslo.concurrency's deprecation warnings, only
  when a deprecated option or call is used;
* oslo_utils.timeutils (and iso8601, decimal, zoneinfo and calendar under
  it): oslo.concurrency's lock timing, only when a lock is taken (boot,
  not plan);
* configparser: oslo.log's logging configuration file
  (``log_config_append``), only when one is given;
* pickle: oslo.config's check that an exported configuration state can
  be serialised, only when a state is exported or restored;
* pprint (and dataclasses under it): netaddr's debug printing helpers,
  only when one is called.

This package is imported before any command module, so before oslo is.
"""

from nova import deferred_import

for _name in ('rfc3986', 'stevedore', 'oslo_serialization.jsonutils',
              'dateutil.tz', 'debtcollector', 'oslo_utils.timeutils',
              'configparser', 'pickle', 'pprint'):
    deferred_import.defer(_name)
del _name
# After pprint: netaddr.ip's preload imports netaddr.core, which imports it.
deferred_import.defer('netaddr', preload=[('ip', 'IPAddress'),
                                          ('ip', 'IPNetwork')])
