#!/bin/bash
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
