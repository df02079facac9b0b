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

# The demo: a 4-vCPU real-time flavor planned and booted on libvirt's
# embedded test:///default driver.
set -euo pipefail
cd "$(dirname "$0")/.."
FLAVOR=(--vcpus 4 --ram 1024 --flavor-name rt.small
        --property hw:cpu_policy=dedicated
        --property hw:cpu_realtime=yes
        --property hw:cpu_realtime_mask=^0)
echo "### nova-realtime --config-file etc/nova/nova-realtime-demo.conf plan ${FLAVOR[*]}"
.venv/bin/nova-realtime --config-file etc/nova/nova-realtime-demo.conf plan "${FLAVOR[@]}"
echo
echo "### nova-realtime --config-file etc/nova/nova-realtime-demo.conf boot --name rt-demo ${FLAVOR[*]}"
.venv/bin/nova-realtime --config-file etc/nova/nova-realtime-demo.conf boot --name rt-demo "${FLAVOR[@]}"
