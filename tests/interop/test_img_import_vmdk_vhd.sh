#!/bin/bash
# SPDX-License-Identifier: MIT
# VMDK (monolithicSparse, streamOptimized) and VHD (fixed, dynamic) images made
# by qemu-img convert back through `wirt img convert` to identical content.
source "$(dirname "$0")/lib.sh"

make_pattern_raw src.raw 16M
# Random data, so that compressed grains are not trivially small.
head -c 3145728 /dev/urandom | dd of=src.raw bs=1M seek=12 conv=notrunc status=none

for sub in monolithicSparse streamOptimized; do
    qemu-img convert -O vmdk -o subformat=$sub src.raw $sub.vmdk
    ok wimg convert -O raw $sub.vmdk $sub.raw
    cmp -s src.raw $sub.raw || fail "$sub: content differs"
    ok wimg convert -O qcow2 $sub.vmdk $sub.qcow2
    qcheck $sub.qcow2
    qsame src.raw $sub.qcow2
    ok wimg compare src.raw $sub.vmdk
    [ "$(wimg info --output=json $sub.vmdk | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["format"], d["virtual-size"])')" = "vmdk 16777216" ] ||
        fail "$sub: info disagrees"
done

# The VMware form of streamOptimized: the header says "directory at the end" and
# a footer (marker, header copy, end-of-stream marker) holds the real location.
python3 - <<'PY'
import struct
b = bytearray(open('streamOptimized.vmdk', 'rb').read())
hdr = bytes(b[:512])
b[56:64] = b'\xff' * 8
b += b'\0' * (-len(b) % 512)
b += struct.pack('<QII', 1, 0, 3).ljust(512, b'\0') + hdr + bytes(512)
open('footer.vmdk', 'wb').write(b)
PY
ok wimg convert -O raw footer.vmdk footer.raw
cmp -s src.raw footer.raw || fail "streamOptimized with a footer: content differs"

for sub in fixed dynamic; do
    qemu-img convert -O vpc -o subformat=$sub src.raw $sub.vhd
    # qemu rounds a VHD up to a whole CHS geometry: the size is what qemu says it is.
    want=$(qemu-img info -f vpc --output=json $sub.vhd | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')
    ok wimg convert -f vpc -O raw $sub.vhd $sub.raw
    [ "$(stat -c %s $sub.raw)" = "$want" ] || fail "$sub: size $(stat -c %s $sub.raw), qemu says $want"
    qsame src.raw $sub.raw
    qemu-img convert -f vpc -O raw $sub.vhd q$sub.raw
    cmp -s q$sub.raw $sub.raw || fail "$sub: differs from qemu-img's conversion"
    ok wimg convert -f vhd -O qcow2 $sub.vhd $sub.qcow2
    qcheck $sub.qcow2
    qsame src.raw $sub.qcow2
done
# Dynamic VHDs are recognised without -f.
[ "$(wimg info --output=json dynamic.vhd | python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])')" = vpc ] ||
    fail "dynamic VHD not probed"

# A bigger sparse disk: unallocated grains/blocks cost nothing and read as zeroes.
qemu-img create -q -f raw sparse.raw 3G
ok qemu-io -f raw -c 'write -P 0x33 2G 1M' sparse.raw
qemu-img convert -O vmdk -o subformat=streamOptimized sparse.raw sparse.vmdk
qemu-img convert -O vpc -o subformat=dynamic sparse.raw sparse.vhd
ok wimg convert -O qcow2 sparse.vmdk sparse-vmdk.qcow2
ok wimg convert -O qcow2 sparse.vhd sparse-vhd.qcow2
qsame sparse.raw sparse-vmdk.qcow2
qsame sparse.raw sparse-vhd.qcow2
[ "$(stat -c %s sparse-vmdk.qcow2)" -lt 8388608 ] || fail "sparse conversion is not sparse"

# The import formats are read-only.
expect_rc 2 wimg convert -O vmdk src.raw out.vmdk
grep -q "read-only" .err || fail "no read-only message: $(cat .err)"
echo PASS
