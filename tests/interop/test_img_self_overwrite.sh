#!/bin/bash
# SPDX-License-Identifier: MIT
# A verb never writes the file it reads: `convert` onto its own source (by any name: the same
# path, a symlink, a hard link) or onto a file in the source's backing chain, or onto the
# backing file it gives the new image, is refused and leaves every file untouched.
source "$(dirname "$0")/lib.sh"

untouched() { cmp -s "$1" "$1.orig" || fail "$1 was modified"; }

make_pattern_raw src.raw 16M
qemu-img convert -O qcow2 src.raw a.qcow2
qemu-img create -q -f qcow2 -b a.qcow2 -F qcow2 ov.qcow2
qemu-io -c 'write -P 0x33 2M 64k' ov.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b ov.qcow2 -F qcow2 ov2.qcow2
qemu-img create -q -f qcow2 b.qcow2 16M
for f in a.qcow2 ov.qcow2 b.qcow2 src.raw; do cp "$f" "$f.orig"; done
ln -s a.qcow2 link.qcow2
ln a.qcow2 hard.qcow2

echo "== onto the source itself"
bad 1 "is the source" wimg convert -O qcow2 a.qcow2 a.qcow2
bad 1 "is the source" wimg convert -O qcow2 a.qcow2 link.qcow2
bad 1 "is the source" wimg convert -O raw hard.qcow2 a.qcow2
bad 1 "is the source" wimg convert -n -O qcow2 a.qcow2 a.qcow2
bad 1 "is the source" wimg convert -O raw src.raw src.raw
bad 1 "is the source" wimg convert -O qcow2 src.raw a.qcow2 a.qcow2
untouched a.qcow2
untouched src.raw

echo "== onto a file in the source's backing chain"
bad 1 "backing chain of" wimg convert -O qcow2 ov.qcow2 a.qcow2
bad 1 "backing chain of" wimg convert -O raw ov2.qcow2 link.qcow2
bad 1 "backing chain of" wimg convert -O qcow2 ov2.qcow2 ov.qcow2
untouched a.qcow2
untouched ov.qcow2

echo "== onto the backing file given to the new image"
bad 1 "backing file" wimg convert -O qcow2 -B b.qcow2 -F qcow2 src.raw b.qcow2
untouched b.qcow2

echo "== a fresh target still works"
expect_rc 0 wimg convert -O qcow2 ov2.qcow2 fresh.qcow2
qsame ov2.qcow2 fresh.qcow2
qcheck fresh.qcow2
expect_rc 0 wimg convert -O qcow2 -B a.qcow2 -F qcow2 ov.qcow2 thin.qcow2
qsame ov.qcow2 thin.qcow2
echo "ok"
