#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages wirt needs to build, test and benchmark.
# Does nothing (and needs no root) when everything is already there.
set -e
PACKAGES="build-essential pkg-config clang clang-format libclang-rt-14-dev libfdt-dev libslirp-dev libglib2.0-dev
 libcmocka-dev libjson-c-dev zlib1g-dev libzstd-dev libmicrohttpd-dev libssl-dev libseccomp-dev
 gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf gcc-riscv64-linux-gnu
 qemu-system-misc qemu-utils e2fsprogs cpio xz-utils zstd python3 python3-yaml apt debian-archive-keyring
 ca-certificates busybox tcpdump
 libwslay-dev nettle-dev chromium"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The web UI's build needs node and npm: Debian's, unless a node that brings
# its own npm is there already (Debian's npm conflicts with such a nodejs).
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0
echo "wirt: installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
