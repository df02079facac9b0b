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

# Development and test helper, not an operator tool, and run only when asked
# (tools/run-tests.sh --prepare-host, or by hand): the functional tests set
# the one kernel setting they need (kernel.sched_rt_runtime_us) themselves,
# for each test, and restore it; this script is for a machine meant to stay
# prepared (a dedicated test box). It changes the RUNNING kernel
# only (kernel.sched_rt_runtime_us=-1, kernel.timer_migration=0, transparent
# huge pages and KSM off) and persists nothing: every change is gone at the
# next boot, and what needs a reboot (a PREEMPT_RT kernel, isolcpus/nohz_full
# on the kernel command line, CAP_SYS_RESOURCE for libvirtd) is not done.
# Compute hosts are prepared, persistently, as the admin guide says:
# doc/source/admin/realtime-host-setup.rst ("Make it survive a reboot").
# What is still missing here is reported by
#   .venv/bin/nova-realtime check-host --connection qemu:///system
# Idempotent: prints only what it changes.
set -euo pipefail

changed=0
set_sysctl() {  # name wanted-value
    local path="/proc/sys/${1//.//}"
    [ -w "$path" ] || { echo "prepare-host: cannot write $1 here, skipped"; return 0; }
    local now
    now=$(cat "$path")
    if [ "$now" != "$2" ]; then
        echo "$2" > "$path"
        echo "prepare-host: $1 $now -> $2"
        changed=1
    fi
}
set_choice() {  # sysfs file wanted-word
    [ -w "$1" ] || return 0
    grep -q "\[$2\]" "$1" && return 0
    echo "$2" > "$1" 2>/dev/null || { echo "prepare-host: cannot set $1 to $2"; return 0; }
    echo "prepare-host: $1 -> $2"
    changed=1
}

# RT group scheduling leaves libvirt's guest cgroups no RT runtime unless
# RT throttling is off: libvirt's <vcpusched> then fails with EPERM.
set_sysctl kernel.sched_rt_runtime_us -1
# Keep timers where they were armed (off the dedicated pCPUs).
set_sysctl kernel.timer_migration 0
# No khugepaged compaction stalls, no KSM scanning.
set_choice /sys/kernel/mm/transparent_hugepage/enabled never
if [ -w /sys/kernel/mm/ksm/run ] && [ "$(cat /sys/kernel/mm/ksm/run)" != 0 ]; then
    echo 0 > /sys/kernel/mm/ksm/run
    echo "prepare-host: /sys/kernel/mm/ksm/run -> 0"
    changed=1
fi
[ "$changed" = 1 ] || echo "prepare-host: nothing to change"
