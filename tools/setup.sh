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

# Prepare a fresh Debian 12 machine (as root) to run nova-realtime:
# distro packages when missing, then a virtualenv at .venv in the repo root
# with the project installed (console script .venv/bin/nova-realtime).
#   tools/setup.sh          packages needed to build and run the command
#   tools/setup.sh --test   also libvirtd, QEMU, xmllint, rt-tests, tox and
#                           systemd (systemd-analyze verify for the units)
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(libvirt-dev pkg-config gcc python3-dev python3-venv)
if [ "${1:-}" = "--test" ]; then
    PKGS+=(libvirt-daemon-system libvirt-clients qemu-system-x86 libxml2-utils rt-tests procps systemd)
fi

missing=()
for pkg in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo ">>> apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo ">>> creating .venv"
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
echo ">>> installing nova-realtime into .venv"
# setuptools warns about editable installs in general (not about this
# package): informational only, so silenced for the build backend.
PYTHONWARNINGS=ignore .venv/bin/python -m pip install -q -r requirements.txt -e . 2>&1 | grep -v '^WARNING: Location' || true
if [ "${1:-}" = "--test" ]; then
    .venv/bin/python -m pip install -q tox -r test-requirements.txt 2>&1 | grep -v '^WARNING: Location' || true
fi
test -x .venv/bin/nova-realtime
