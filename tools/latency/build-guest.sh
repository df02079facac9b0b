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

# Build the latency benchmark guest: a Debian cloud kernel and an initramfs
# whose /init runs cyclictest on vCPU 1, prints its histogram to the serial
# console and powers off.
#
# Everything comes from Debian packages fetched with "apt-get download" at
# build time into a cache outside the repository; nothing binary is
# committed. The build is idempotent: it is skipped when the cache already
# holds a guest built from the same package versions and the same init.
#
# Usage: tools/latency/build-guest.sh [--force]
# Environment: NOVA_RT_LATENCY_CACHE (default /var/cache/nova-realtime-latency
# as root, else ${XDG_CACHE_HOME:-~/.cache}/nova-realtime-latency).
# Prints the kernel and initramfs paths as KERNEL=... and INITRD=... lines.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
force=0
[ "${1:-}" = "--force" ] && force=1

if [ -n "${NOVA_RT_LATENCY_CACHE:-}" ]; then
    cache=$NOVA_RT_LATENCY_CACHE
elif [ "$(id -u)" = 0 ]; then
    cache=/var/cache/nova-realtime-latency
else
    cache=${XDG_CACHE_HOME:-$HOME/.cache}/nova-realtime-latency
fi
debs=$cache/debs
guest=$cache/guest
mkdir -p "$debs" "$guest"

log() { echo "build-guest: $*" >&2; }
die() { echo "build-guest: ERROR: $*" >&2; exit 1; }

for tool in apt-get apt-cache dpkg-deb dpkg-query; do
    command -v "$tool" >/dev/null || die "$tool not found (a Debian/Ubuntu host with apt is needed)"
done
# Host tools: cpio packs the initramfs; rt-tests on the host brings the
# libraries cyclictest links against, so that ldd can name them.
missing=()
for pkg in cpio gzip libc-bin rt-tests; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing host packages ${missing[*]}: apt-get install them as root"
    log "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

candidate() {  # the version apt would install, or nothing
    apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}' | grep -v '(none)' || true
}

if [ -z "$(candidate busybox-static)" ]; then
    log "apt has no candidate for busybox-static; running apt-get update"
    apt-get update -qq || die "apt-get update failed"
fi

# linux-image-cloud-amd64 is a metapackage: the kernel is its dependency.
kernel_pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
             awk '/Depends: linux-image-[0-9].*-cloud-amd64/ {print $2; exit}')
[ -n "$kernel_pkg" ] || die "cannot resolve linux-image-cloud-amd64 to a kernel package"

fetch() {  # fetch PKG: download the candidate .deb once; print its path
    local pkg=$1 ver file
    ver=$(candidate "$pkg")
    [ -n "$ver" ] || die "no installable version of $pkg in apt's lists"
    file=$(ls "$debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n1 || true)
    if [ -z "$file" ]; then
        log "downloading $pkg $ver"
        (cd "$debs" && apt-get download -qq "$pkg=$ver" 2>&1 |
            grep -v 'unsandboxed as root' >&2 || true)
        file=$(ls "$debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n1 || true)
        [ -n "$file" ] || die "apt-get download $pkg=$ver produced no .deb"
    fi
    echo "$file"
}

extract() {  # extract PKG DEB: unpack once into $cache/root-PKG; print dir
    local dir=$cache/unpacked/$1
    if [ ! -e "$dir/.done-$(basename "$2")" ]; then
        rm -rf "$dir" && mkdir -p "$dir"
        dpkg-deb -x "$2" "$dir"
        touch "$dir/.done-$(basename "$2")"
    fi
    echo "$dir"
}

declare -A deb dir
for pkg in "$kernel_pkg" busybox-static rt-tests; do
    deb[$pkg]=$(fetch "$pkg")
    dir[$pkg]=$(extract "$pkg" "${deb[$pkg]}")
done

cyclictest=${dir[rt-tests]}/usr/bin/cyclictest
busybox=${dir[busybox-static]}/bin/busybox
[ -x "$cyclictest" ] || die "rt-tests has no usr/bin/cyclictest"
[ -x "$busybox" ] || die "busybox-static has no bin/busybox"

# The shared libraries cyclictest needs: ldd names the host's copies, dpkg -S
# names the packages that own them, and those packages are fetched too, so
# the guest gets the libraries of the same Debian release as the binary.
mapfile -t libpaths < <(ldd "$cyclictest" | awk '/=>/ {print $3} /^\t\/.*ld-linux/ {print $1}')
[ "${#libpaths[@]}" -gt 0 ] || die "ldd found no libraries for cyclictest"
declare -A libpkg
for path in "${libpaths[@]}"; do
    owner=$(dpkg -S "$path" 2>/dev/null | head -n1 | cut -d: -f1) ||
        owner=""
    if [ -z "$owner" ]; then
        owner=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n1 | cut -d: -f1) ||
            owner=""
    fi
    [ -n "$owner" ] || die "no Debian package owns $path (needed by cyclictest)"
    libpkg[$path]=$owner
done
for owner in $(printf '%s\n' "${libpkg[@]}" | sort -u); do
    deb[$owner]=$(fetch "$owner")
    dir[$owner]=$(extract "$owner" "${deb[$owner]}")
done

# Build key: package files + init + this script. Same key, same guest.
key=$( (for pkg in $(printf '%s\n' "${!deb[@]}" | sort); do
            basename "${deb[$pkg]}"; done
        sha256sum "$here/guest-init.sh" "$0" | cut -d' ' -f1) | sha256sum | cut -c1-16)
if [ "$force" = 0 ] && [ -s "$guest/vmlinuz" ] && [ -s "$guest/initrd.img" ] &&
        grep -qx "key=$key" "$guest/manifest.txt" 2>/dev/null; then
    log "cached guest is up to date ($guest)"
    echo "KERNEL=$guest/vmlinuz"
    echo "INITRD=$guest/initrd.img"
    exit 0
fi

kdir=${dir[$kernel_pkg]}
vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -n1)
kconfig=$(ls "$kdir"/boot/config-* | head -n1)
# console=ttyS0 must work without modules, and the initramfs must be
# unpacked by the kernel itself.
for opt in CONFIG_SERIAL_8250 CONFIG_SERIAL_8250_CONSOLE CONFIG_BLK_DEV_INITRD \
           CONFIG_DEVTMPFS CONFIG_ACPI CONFIG_HIGH_RES_TIMERS CONFIG_RD_GZIP; do
    grep -qx "$opt=y" "$kconfig" || die "$kernel_pkg: $opt is not built in ($kconfig)"
done

log "assembling initramfs"
root=$cache/rootfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,lib64,lib/x86_64-linux-gnu}
install -m 0755 "$busybox" "$root/bin/busybox"
install -m 0755 "$cyclictest" "$root/usr/bin/cyclictest"
install -m 0755 "$here/guest-init.sh" "$root/init"
for path in "${libpaths[@]}"; do
    src=${dir[${libpkg[$path]}]}
    # Merged /usr: dpkg may ship lib/... or usr/lib/...; take whichever.
    rel=${path#/}
    found=""
    for cand in "$src/$rel" "$src/usr/$rel" "$src/${rel#usr/}"; do
        [ -e "$cand" ] && { found=$cand; break; }
    done
    [ -n "$found" ] || die "${libpkg[$path]} has no $path"
    mkdir -p "$root/$(dirname "$rel")"
    cp -L "$found" "$root/$rel"
done
# Check in the assembled tree that the loader finds every library.
for path in "${libpaths[@]}"; do
    [ -e "$root/${path#/}" ] || die "initramfs lacks $path"
done

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
    cpio --null --create --format=newc --owner=0:0 --quiet) |
    gzip -9n > "$guest/initrd.img.new"
cp "$vmlinuz" "$guest/vmlinuz.new"
mv "$guest/vmlinuz.new" "$guest/vmlinuz"
mv "$guest/initrd.img.new" "$guest/initrd.img"
chmod 0644 "$guest/vmlinuz" "$guest/initrd.img"
{
    echo "key=$key"
    for pkg in $(printf '%s\n' "${!deb[@]}" | sort); do
        echo "package=$(basename "${deb[$pkg]}")"
    done
    echo "kernel=$(basename "$vmlinuz")"
    (cd "$guest" && sha256sum vmlinuz initrd.img | sed 's/^/sha256=/')
} > "$guest/manifest.txt"
log "built $guest/vmlinuz and $guest/initrd.img ($(du -h "$guest/initrd.img" | cut -f1))"
echo "KERNEL=$guest/vmlinuz"
echo "INITRD=$guest/initrd.img"
