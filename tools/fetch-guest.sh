#!/bin/bash
# SPDX-License-Identifier: MIT
# Fetches and assembles wirt's default guest from Debian packages.
#
# Output directory (printed by --print-dir):
#   ${WIRT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wirt}/guest/
# holding Image, initrd.cpio.gz, cmdline, fw_dynamic.bin, fw_jump.bin
# (OpenSBI from trixie), fw_dynamic-1.1.bin, fw_jump-1.1.bin (bookworm),
# u-boot.bin and u-boot.elf (qemu-riscv64_smode, S-mode payloads for
# OpenSBI), fw_*.elf, and VERSION (the manifest).
#
# Packages come through apt-get with a private configuration (APT_CONFIG
# points at our own apt.conf, so the host's sources and settings are never
# read), and apt verifies them against the archive's signed metadata using
# the Debian archive keyring (tools/guest/apt.sh).  The .debs and apt lists
# are kept in the cache, the result is built in a temporary directory and
# renamed into place, and a complete, current result is left alone: a second
# run downloads nothing.
#
# Usage: tools/fetch-guest.sh [--force] [--print-dir]
set -euo pipefail

MODULES="virtio_mmio virtio_blk failover net_failover virtio_net virtio-rng
 virtio_balloon crc16 crc32c_generic libcrc32c mbcache jbd2 ext4 8021q"
CMDLINE="console=ttyS0 earlycon=sbi"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIRROR=${WIRT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
OUTPUTS="Image initrd.cpio.gz cmdline fw_dynamic.bin fw_jump.bin
 fw_dynamic-1.1.bin fw_jump-1.1.bin u-boot.bin u-boot.elf VERSION"

here=$(cd "$(dirname "$0")" && pwd)
cache=${WIRT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wirt}
dest=$cache/guest

die() { echo "fetch-guest: $*" >&2; exit 1; }
say() { echo "fetch-guest: $*"; }

force=0
for arg in "$@"; do
    case $arg in
    --force) force=1 ;;
    --print-dir) echo "$dest"; exit 0 ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (try --help)" ;;
    esac
done

# The recipe is this script plus everything it puts into the guest: when any
# of it changes, the cached result is stale and gets rebuilt (from cached
# .debs, so that costs no big download).
recipe=$({
    cat "$0" "$here/guest/mkcpio.py" "$here/guest/apt.sh"
    cd "$here/guest/rootfs" && find . -type f -printf '%p %m\n' | sort
    find . -type f -print0 | sort -z | xargs -0 cat
} | sha256sum | cut -c1-16)

is_complete() {
    [ -f "$dest/VERSION" ] && grep -qx "recipe $recipe" "$dest/VERSION" || return 1
    local f
    for f in $OUTPUTS; do [ -s "$dest/$f" ] || return 1; done
}

mkdir -p "$cache"
if [ $force = 0 ] && is_complete; then
    say "up to date: $dest"
    exit 0
fi

for tool in apt-get apt-cache dpkg-deb xz sha256sum python3; do
    command -v $tool >/dev/null || die "$tool is missing (run tools/setup-host.sh)"
done
[ -f "$here/guest/rootfs/etc/inittab" ] || die "tools/guest/rootfs/etc/inittab is missing"
for f in init etc/wirt-rcS etc/wirt-console-shell etc/udhcpc.script; do
    if [ ! -x "$here/guest/rootfs/$f" ]; then
        die "tools/guest/rootfs/$f is missing or not executable"
    fi
done
[ -r $KEYRING ] || die "$KEYRING is missing (apt-get install debian-archive-keyring)"

# One fetch at a time per cache (make -j, two terminals).
if command -v flock >/dev/null; then
    exec 9>"$cache/.fetch-guest.lock"
    flock 9
    if [ $force = 0 ] && is_complete; then
        say "up to date: $dest"
        exit 0
    fi
fi

# Leftovers of runs that were killed outright (the trap below covers the
# rest); with flock held, no other run is using them.
command -v flock >/dev/null && rm -rf "$cache"/.guest-build.* "$cache/.guest-old"
tmp=$(mktemp -d "$cache/.guest-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=tools/guest/apt.sh
. "$here/guest/apt.sh"

apt_setup trixie trixie riscv64
apt_setup bookworm bookworm amd64 # opensbi is arch all; bookworm had no riscv64

kpkg=$(aptc trixie apt-cache show --no-all-versions linux-image-riscv64 |
    sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*-riscv64\).*/\1/p')
[ -n "$kpkg" ] || die "cannot tell which kernel linux-image-riscv64 depends on"
say "downloading linux-image-riscv64 ($kpkg), busybox-static, opensbi, u-boot-qemu"
mapfile -t trixie_debs < <(fetch trixie linux-image-riscv64 "$kpkg" busybox-static opensbi u-boot-qemu)
say "downloading bookworm's opensbi"
mapfile -t bookworm_debs < <(fetch bookworm opensbi)
if [ ${#trixie_debs[@]} != 5 ] || [ ${#bookworm_debs[@]} != 1 ]; then
    die "download failed"
fi

say "extracting"
for f in "${trixie_debs[@]}"; do dpkg-deb -x "$f" "$tmp/trixie"; done
for f in "${bookworm_debs[@]}"; do dpkg-deb -x "$f" "$tmp/bookworm"; done

out=$tmp/out
mkdir -p "$out"
sbi=usr/lib/riscv64-linux-gnu/opensbi/generic
kver=$(ls "$tmp/trixie/usr/lib/modules")
if [ -z "$kver" ] || [ ! -f "$tmp/trixie/boot/vmlinux-$kver" ]; then
    die "no kernel in $kpkg"
fi
cp "$tmp/trixie/boot/vmlinux-$kver" "$out/Image"
cp "$tmp/trixie/$sbi/fw_dynamic.bin" "$tmp/trixie/$sbi/fw_jump.bin" "$out/"
cp "$tmp/trixie/$sbi/fw_dynamic.elf" "$tmp/trixie/$sbi/fw_jump.elf" "$out/"
cp "$tmp/bookworm/$sbi/fw_dynamic.bin" "$out/fw_dynamic-1.1.bin"
cp "$tmp/bookworm/$sbi/fw_jump.bin" "$out/fw_jump-1.1.bin"
cp "$tmp/trixie/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin" "$out/u-boot.bin"
cp "$tmp/trixie/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf" "$out/u-boot.elf"
echo "$CMDLINE" >"$out/cmdline"

say "assembling the initramfs"
root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,mnt,root,run}
cp -a "$here/guest/rootfs/." "$root/"
cp "$tmp/trixie/usr/bin/busybox" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
chmod 1777 "$root/tmp"

# Modules with their dependencies (from each module's modinfo), each after
# what it needs, otherwise in the order of $MODULES.
kdir=$tmp/trixie/usr/lib/modules/$kver/kernel
mdir=$root/lib/modules/$kver
mkdir -p "$mdir"
declare -A modpath=() seen=()
while IFS= read -r f; do
    n=$(basename "$f" .ko.xz)
    modpath[${n//-/_}]=$f
done < <(find "$kdir" -name '*.ko.xz')
add_module() {
    local n=${1//-/_} f d deps
    [ -z "${seen[$n]:-}" ] || return 0
    seen[$n]=1
    f=${modpath[$n]:-}
    [ -n "$f" ] || die "module $1 is not in $kpkg"
    deps=$(xz -dc "$f" | tr '\0' '\n' | sed -n 's/^depends=//p')
    for d in ${deps//,/ }; do add_module "$d"; done
    cp "$f" "$mdir/"
    basename "$f" >>"$mdir/wirt.order"
}
for m in $MODULES; do add_module "$m"; done

python3 "$here/guest/mkcpio.py" "$root" "$out/initrd.cpio.gz" --node=dev/console:c:5:1

{
    echo "# wirt default guest; built by tools/fetch-guest.sh"
    echo "recipe $recipe"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "kernel $kver"
    echo "cmdline $CMDLINE"
    echo "modules $(tr '\n' ' ' <"$mdir/wirt.order")"
    cat "$tmp/packages"
    (cd "$out" && sha256sum -- *) | sed 's/^/file /'
} >"$tmp/VERSION"
mv "$tmp/VERSION" "$out/VERSION"

# Swap the new directory in; a crash in between leaves either the old
# complete directory or none, never a half-built one under the real name.
rm -rf "$cache/.guest-old"
[ -d "$dest" ] && mv "$dest" "$cache/.guest-old"
mv "$out" "$dest"
rm -rf "$cache/.guest-old"
say "ready: $dest ($kver)"
