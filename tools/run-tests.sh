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
#   tools/run-tests.sh [--prepare-host] [tox arguments]
# What it changes on the machine is listed in README.md ("Run every test").
# --prepare-host (or NOVA_RT_PREPARE_HOST=1) also runs tools/prepare-host.sh
# first, which changes running-kernel settings and does NOT restore them;
# without it the functional tests set what they need for their duration.
# libvirtd and virtlogd are started when they are not running and stopped
# again at the end (NOVA_RT_KEEP_LIBVIRT=1 leaves them running).
set -euo pipefail
cd "$(dirname "$0")/.."
prepare=${NOVA_RT_PREPARE_HOST:-0}
if [ "${1:-}" = "--prepare-host" ]; then
    prepare=1
    shift
fi
tools/setup.sh --test
started=()
pgrep -x virtlogd >/dev/null || started+=(virtlogd)
pgrep -x libvirtd >/dev/null || started+=(libvirtd)
stop_started() {
    [ "${NOVA_RT_KEEP_LIBVIRT:-0}" = 1 ] && return 0
    local daemon pid
    for daemon in libvirtd virtlogd; do
        [[ " ${started[*]} " == *" $daemon "* ]] || continue
        pid=$(cat "/run/$daemon.pid" 2>/dev/null) || continue
        echo ">>> stopping $daemon (pid $pid), started by this script"
        kill "$pid" 2>/dev/null || true
    done
}
trap stop_started EXIT
tools/start-libvirt.sh
if [ "$prepare" = 1 ]; then
    tools/prepare-host.sh
fi
.venv/bin/tox -e "${TOX_ENVS:-pep8,py3,functional,genconfig,docs,releasenotes,upstream-ci}" "$@"
