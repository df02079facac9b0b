#!/bin/bash
# Start virtlogd and libvirtd when they are not running (no systemd here).
set -euo pipefail
pgrep -x virtlogd >/dev/null || virtlogd -d
if ! pgrep -x libvirtd >/dev/null; then
    libvirtd -d
fi
for _ in $(seq 1 50); do
    virsh -c qemu:///system version >/dev/null 2>&1 && exit 0
    sleep 0.2
done
echo "libvirtd did not answer on qemu:///system" >&2
exit 1
