#!/bin/bash
# SPDX-License-Identifier: MIT
# Fetches Debian trixie's qemu-guest-agent (riscv64) and the shared
# libraries it loads, and packs them as an initramfs overlay for the
# default guest: appended to its initrd.cpio.gz (the kernel unpacks
# concatenated archives in order), the busybox guest gains
# /usr/sbin/qemu-ga, unchanged, with glibc's loader and its libraries.
#
# Output (printed by --print-dir):
#   ${WIRT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wirt}/qga/
# holding qga.cpio.gz and VERSION (the packages and their SHA256).
#
# Packages come through the private apt configuration of
# tools/fetch-guest.sh (run first; it does nothing when the guest is up to
# date), so the host's own apt sources are never read and every .deb is
# checked against the archive's signed index.  The .debs are cached in
# $cache/debs/qga; a complete, current result is left alone.
#
# Usage: tools/fetch-qga.sh [--force] [--print-dir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${WIRT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wirt}
dest=$cache/qga
# The agent's package and the ones holding its libraries' closure (apt's
# Depends, minus what only a full system needs: init-system-helpers).
PACKAGES="qemu-guest-agent libc6 libglib2.0-0t64 libnuma1 libudev1 liburing2 libffi8
 libpcre2-8-0 libmount1 libblkid1 libselinux1 zlib1g libcap2 libatomic1 libgcc-s1"
ARCHDIR=usr/lib/riscv64-linux-gnu

die() { echo "fetch-qga: $*" >&2; exit 1; }
say() { echo "fetch-qga: $*"; }

force=0
for arg in "$@"; do
    case $arg in
    --force) force=1 ;;
    --print-dir) echo "$dest"; exit 0 ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (try --help)" ;;
    esac
done

recipe=$(cat "$0" "$here/guest/mkcpio.py" | sha256sum | cut -c1-16)
is_complete() {
    [ -s "$dest/qga.cpio.gz" ] && [ -f "$dest/VERSION" ] && grep -qx "recipe $recipe" "$dest/VERSION"
}
if [ $force = 0 ] && is_complete; then
    say "up to date: $dest"
    exit 0
fi
for tool in apt-get apt-cache dpkg-deb readelf sha256sum python3; do
    command -v $tool >/dev/null || die "$tool is missing (run tools/setup-host.sh)"
done

"$here/fetch-guest.sh" >/dev/null || die "tools/fetch-guest.sh failed"
APT_CONF=$cache/apt/trixie/apt.conf
[ -f "$APT_CONF" ] || die "$APT_CONF is missing after tools/fetch-guest.sh"
aptq() { APT_CONFIG=$APT_CONF "$@"; }

mkdir -p "$cache"
exec 9>"$cache/.fetch-qga.lock"
flock 9
tmp=$(mktemp -d "$cache/.qga-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

debs=$cache/debs/qga
mkdir -p "$debs"
say "downloading qemu-guest-agent and its libraries (trixie, riscv64)"
# shellcheck disable=SC2086
(cd "$debs" && aptq apt-get -q -q download $PACKAGES) || die "apt-get download failed"
for pkg in $PACKAGES; do
    ver="" arch="" sha=""
    while IFS=': ' read -r field val; do
        case $field in
        Version) ver=$val ;;
        Architecture) arch=$val ;;
        SHA256) sha=$val ;;
        esac
    done < <(aptq apt-cache show --no-all-versions "$pkg")
    file=$debs/${pkg}_${ver//:/%3a}_$arch.deb
    [ -f "$file" ] || die "$file is missing after download"
    echo "$sha  $file" | sha256sum -c --quiet - || {
        rm -f "$file"
        die "$file does not match the archive's checksum (removed; run again)"
    }
    echo "package $pkg $ver $sha" >>"$tmp/packages"
    dpkg-deb -x "$file" "$tmp/x"
done

# Only what the agent loads: its NEEDED libraries and theirs, found in
# the extracted packages (glibc's loader searches $ARCHDIR by default).
root=$tmp/root
mkdir -p "$root/usr/sbin" "$root/$ARCHDIR" "$root/lib" "$root/var/run" "$root/var/log"
cp "$tmp/x/usr/sbin/qemu-ga" "$root/usr/sbin/qemu-ga"
declare -A done_libs=()
queue=("$tmp/x/usr/sbin/qemu-ga")
while [ ${#queue[@]} -gt 0 ]; do
    f=${queue[0]}
    queue=("${queue[@]:1}")
    for lib in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        [ -n "${done_libs[$lib]:-}" ] && continue
        done_libs[$lib]=1
        src=$(find "$tmp/x/$ARCHDIR" "$tmp/x/lib" -maxdepth 1 -name "$lib" 2>/dev/null | head -1 || true)
        [ -n "$src" ] || die "$lib (needed by $(basename "$f")) is in none of: $PACKAGES"
        cp -L "$src" "$root/$ARCHDIR/$lib"
        queue+=("$root/$ARCHDIR/$lib")
    done
done
interp=$(readelf -l "$root/usr/sbin/qemu-ga" | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
[ "$interp" = /lib/ld-linux-riscv64-lp64d.so.1 ] || die "unexpected loader $interp"
[ -f "$root/$ARCHDIR/ld-linux-riscv64-lp64d.so.1" ] || die "the loader is missing"
ln -s "/$ARCHDIR/ld-linux-riscv64-lp64d.so.1" "$root/lib/ld-linux-riscv64-lp64d.so.1"

python3 "$here/guest/mkcpio.py" "$root" "$tmp/qga.cpio.gz"
{
    echo "# qemu-guest-agent overlay for the default guest; built by tools/fetch-qga.sh"
    echo "recipe $recipe"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    cat "$tmp/packages"
    echo "libraries ${!done_libs[*]}"
    echo "file $(cd "$tmp" && sha256sum qga.cpio.gz)"
} >"$tmp/VERSION"
rm -rf "$dest.new"
mkdir "$dest.new"
mv "$tmp/qga.cpio.gz" "$tmp/VERSION" "$dest.new/"
rm -rf "$dest"
mv "$dest.new" "$dest"
say "ready: $dest ($(du -k "$dest/qga.cpio.gz" | cut -f1) KiB)"
