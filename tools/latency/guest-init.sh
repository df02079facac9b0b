#!/bin/busybox sh
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

# /init of the latency benchmark guest (see build-guest.sh).
#
# Runs cyclictest on the measured (real-time) vCPU and prints its histogram
# on the console (ttyS0, a file on the host) between BEGIN/END markers, then
# powers off. Settings come from the kernel command line, so the benchmark
# can change them without rebuilding the initramfs:
#   nrt_secs=30 nrt_interval=200 nrt_buckets=20000 nrt_cpu=1 nrt_prio=95
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Keep kernel messages out of the histogram.
echo 1 > /proc/sys/kernel/printk

secs=30 interval=200 buckets=20000 cpu=1 prio=95
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        nrt_secs=*) secs=${arg#*=} ;;
        nrt_interval=*) interval=${arg#*=} ;;
        nrt_buckets=*) buckets=${arg#*=} ;;
        nrt_cpu=*) cpu=${arg#*=} ;;
        nrt_prio=*) prio=${arg#*=} ;;
    esac
done

clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)
# nproc would count only the CPUs init may run on (isolcpus hides vCPU 1).
cpus=$(grep -c "^processor" /proc/cpuinfo)
echo "NOVA-RT-LATENCY INFO kernel=$(uname -r) cpus=$cpus clocksource=$clocksource"
echo "NOVA-RT-LATENCY INFO secs=$secs interval=$interval buckets=$buckets cpu=$cpu prio=$prio"
echo "NOVA-RT-LATENCY BEGIN"
# Rows of empty buckets are left out (the host-side parser treats a missing
# row as zero): thousands of zero rows would take long over an emulated UART.
cyclictest -m -q -p "$prio" --policy=fifo -a "$cpu" -t 1 -i "$interval" \
    -h "$buckets" -D "$secs" > /tmp/cyclictest.out 2>&1
rc=$?
awk '/^#/ || $2 + 0 != 0' /tmp/cyclictest.out
echo "NOVA-RT-LATENCY END rc=$rc"
sleep 1
poweroff -f
