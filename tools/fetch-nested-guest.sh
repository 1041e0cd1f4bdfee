#!/bin/bash
# SPDX-License-Identifier: MIT
# Fetches and assembles the nested-virtualization disk for wirt's default
# guest (issue 16): a raw ext4 image the guest mounts read-only, holding
#   kvm.ko.xz, kernel   the kvm module of the default guest's kernel package
#                       and that kernel's version (setup installs the module
#                       so that `modprobe kvm` works)
#   bin/, lib/          Debian trixie's qemu-system-riscv64 and the shared
#                       libraries it needs, with their own dynamic loader
#                       (trixie has no kvmtool for riscv64)
#   Image               the default guest's kernel, booted again as the nested guest
#   initrd.cpio.gz      the nested guest's busybox initramfs: prints
#                       NESTED-GUEST-READY and runs a shell on its console
#   setup, run-nested   scripts from tools/guest/nested/ (see their heads)
#   VERSION             the manifest
# In the guest: mount -o ro /dev/vdX /mnt/nested && /mnt/nested/setup &&
# modprobe kvm && /mnt/nested/run-nested
#
# Output directory (printed by --print-dir):
#   ${WIRT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wirt}/nested/
# holding nested.img and VERSION.  Runs tools/fetch-guest.sh first (the
# kernel must be the default guest's) and fetches with the same private apt
# configuration (tools/guest/apt.sh); .debs stay cached, and a complete,
# current result is left alone.  The tests and `make bench-nested` call it;
# `make run` does not.  About 20 MB of downloads the first time.
#
# Usage: tools/fetch-nested-guest.sh [--force] [--print-dir]
set -euo pipefail

KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIRROR=${WIRT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
QEMU_PKG=qemu-system-riscv
LOADER=ld-linux-riscv64-lp64d.so.1

here=$(cd "$(dirname "$0")" && pwd)
cache=${WIRT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wirt}
dest=$cache/nested

die() { echo "fetch-nested-guest: $*" >&2; exit 1; }
say() { echo "fetch-nested-guest: $*"; }

force=0
for arg in "$@"; do
    case $arg in
    --force) force=1 ;;
    --print-dir) echo "$dest"; exit 0 ;;
    -h | --help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (try --help)" ;;
    esac
done

"$here/fetch-guest.sh" >/dev/null || die "tools/fetch-guest.sh failed"
guest=$("$here/fetch-guest.sh" --print-dir)
kver=$(sed -n 's/^kernel //p' "$guest/VERSION")
[ -n "$kver" ] || die "$guest/VERSION names no kernel"

# The recipe: this script, what it puts on the disk, and the default guest's
# kernel (a new kernel needs its own kvm module).
recipe=$({
    cat "$0" "$here/guest/mkcpio.py" "$here/guest/apt.sh"
    cd "$here/guest/nested" && find . -type f -printf '%p %m\n' | sort
    find . -type f -print0 | sort -z | xargs -0 cat
    grep '^file .* Image$' "$guest/VERSION"
} | sha256sum | cut -c1-16)

is_complete() {
    [ -f "$dest/VERSION" ] && grep -qx "recipe $recipe" "$dest/VERSION" &&
        [ -s "$dest/nested.img" ]
}

if [ $force = 0 ] && is_complete; then
    say "up to date: $dest"
    exit 0
fi

for tool in apt-get apt-cache dpkg-deb xz sha256sum python3 readelf mke2fs; do
    command -v $tool >/dev/null || die "$tool is missing (run tools/setup-host.sh)"
done
for f in rootfs/init setup run-nested; do
    [ -x "$here/guest/nested/$f" ] || die "tools/guest/nested/$f is missing or not executable"
done
[ -r $KEYRING ] || die "$KEYRING is missing (apt-get install debian-archive-keyring)"

if command -v flock >/dev/null; then
    exec 9>"$cache/.fetch-nested-guest.lock"
    flock 9
    if [ $force = 0 ] && is_complete; then
        say "up to date: $dest"
        exit 0
    fi
    rm -rf "$cache"/.nested-build.* "$cache/.nested-old"
fi
tmp=$(mktemp -d "$cache/.nested-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=tools/guest/apt.sh
. "$here/guest/apt.sh"
apt_setup trixie trixie riscv64

# QEMU and the closure of its library dependencies (lib* packages only: the
# rest of the closure is maintainer-script machinery a bare loader does not
# need; the DT_NEEDED check below catches a library this misses).
declare -A seen=()
pkgs=()
queue=("$QEMU_PKG")
while [ ${#queue[@]} -gt 0 ]; do
    p=${queue[0]}
    queue=("${queue[@]:1}")
    [ -z "${seen[$p]:-}" ] || continue
    seen[$p]=1
    pkgs+=("$p")
    while read -r d; do
        case $d in
        lib* | zlib1g) queue+=("$d") ;;
        esac
    done < <(aptc trixie apt-cache depends --no-recommends --no-suggests \
        --no-conflicts --no-breaks --no-replaces --no-enhances "$p" |
        sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: \([^ <>]*\)$/\2/p')
done

# The kernel package as the default guest has it (already cached by
# fetch-guest.sh; a point release may have left the archive since).
kdeb=$(find "$cache/debs/trixie" -name "linux-image-${kver}_*.deb" | sort | tail -n1)
[ -n "$kdeb" ] || die "linux-image-$kver's .deb is not in $cache/debs/trixie (run tools/fetch-guest.sh --force)"
say "downloading $QEMU_PKG and ${#pkgs[@]} packages of libraries, busybox-static"
mapfile -t debs < <(fetch trixie "${pkgs[@]}" busybox-static)
[ ${#debs[@]} = $((${#pkgs[@]} + 1)) ] || die "download failed"
echo "package trixie linux-image-$kver $(basename "$kdeb") (cached)" >>"$tmp/packages"

say "extracting"
x=$tmp/x
for f in "${debs[@]}" "$kdeb"; do dpkg-deb -x "$f" "$x"; done

disk=$tmp/disk
mkdir -p "$disk/bin" "$disk/lib"
cp "$x/usr/bin/qemu-system-riscv64" "$disk/bin/"
kvm=$x/usr/lib/modules/$kver/kernel/arch/riscv/kvm/kvm.ko.xz
[ -f "$kvm" ] || die "linux-image-$kver has no kvm module"
cp "$kvm" "$disk/kvm.ko.xz"
echo "$kver" >"$disk/kernel"
cp "$guest/Image" "$disk/Image"
cp "$here/guest/nested/setup" "$here/guest/nested/run-nested" "$disk/"

# Shared libraries by DT_NEEDED, starting from QEMU, each copied once under
# its soname (symlinks resolved).
libdirs="$x/usr/lib/riscv64-linux-gnu $x/lib/riscv64-linux-gnu"
find_lib() {
    local d
    for d in $libdirs; do
        [ -e "$d/$1" ] && { echo "$d/$1"; return 0; }
    done
    return 1
}
need=("$disk/bin/qemu-system-riscv64")
while [ ${#need[@]} -gt 0 ]; do
    f=${need[0]}
    need=("${need[@]:1}")
    for so in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        [ -e "$disk/lib/$so" ] && continue
        src=$(find_lib "$so") || die "$so (needed by $(basename "$f")) is in none of the fetched packages"
        cp -L "$src" "$disk/lib/$so"
        need+=("$disk/lib/$so")
    done
done
src=$(find_lib "$LOADER") || die "$LOADER is not in libc6"
cp -L "$src" "$disk/lib/$LOADER"
chmod 755 "$disk/lib/$LOADER"

say "assembling the nested guest's initramfs"
root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root}
cp -a "$here/guest/nested/rootfs/." "$root/"
cp "$x/usr/bin/busybox" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
chmod 1777 "$root/tmp"
python3 "$here/guest/mkcpio.py" "$root" "$disk/initrd.cpio.gz" --node=dev/console:c:5:1

{
    echo "# wirt nested-virtualization disk; built by tools/fetch-nested-guest.sh"
    echo "recipe $recipe"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "kernel $kver"
    cat "$tmp/packages"
    (cd "$disk" && find . -type f ! -name VERSION -print0 | sort -z | xargs -0 sha256sum) |
        sed 's/^/file /'
} >"$tmp/VERSION"
cp "$tmp/VERSION" "$disk/VERSION"

say "making the ext4 image"
out=$tmp/out
mkdir -p "$out"
kib=$(du -sk "$disk" | cut -f1)
mke2fs -q -t ext4 -L wirt-nested -E root_owner=0:0 -d "$disk" \
    "$out/nested.img" "$((kib + kib / 5 + 8192))k" >/dev/null || die "mke2fs failed"
mv "$tmp/VERSION" "$out/VERSION"

rm -rf "$cache/.nested-old"
[ -d "$dest" ] && mv "$dest" "$cache/.nested-old"
mv "$out" "$dest"
rm -rf "$cache/.nested-old"
say "ready: $dest ($(du -k "$dest/nested.img" | cut -f1) KiB)"
