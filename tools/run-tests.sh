#!/bin/bash
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

# Set up everything the tests need (as root on Debian 12) and run them all.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --test
tools/start-libvirt.sh
# What a real-time operator does to a host (the functional tests also set
# and restore kernel.sched_rt_runtime_us themselves).
tools/prepare-host.sh
exec .venv/bin/tox -e "${TOX_ENVS:-pep8,py3,functional,genconfig,docs,releasenotes}" "$@"
