#!/bin/bash
# SPDX-License-Identifier: MIT
# `wirt img check` finds leaked clusters and refcount corruption that qemu-img
# check also finds, with the same exit codes (0 clean, 2 corrupt, 3 leaks),
# and -r leaks / -r all repair them so that qemu-img check is clean again.
source "$(dirname "$0")/lib.sh"

# Sets the refcount of host cluster INDEX to VALUE (16-bit refcounts, first refblock).
set_refcount() { # FILE INDEX VALUE [GROW]
    python3 - "$@" <<'PY'
import struct, sys
path, idx, val = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
grow = len(sys.argv) > 4
with open(path, 'r+b') as f:
    h = f.read(104)
    cbits = struct.unpack_from('>I', h, 20)[0]; cs = 1 << cbits
    rt = struct.unpack_from('>Q', h, 48)[0]
    order = struct.unpack_from('>I', h, 96)[0]
    assert order == 4, order
    f.seek(rt); rb = struct.unpack('>Q', f.read(8))[0] & ~((1 << 9) - 1)
    assert idx < cs // 2
    if grow:  # make the leaked cluster exist on disk
        f.seek(0, 2); end = f.tell()
        f.truncate(max(end, (idx + 1) * cs))
    f.seek(rb + 2 * idx); f.write(struct.pack('>H', val))
PY
}
clusters() { echo $(( $(stat -c %s "$1") / 65536 )); }

qemu-img create -q -f qcow2 img.qcow2 64M
ok qemu-io -c 'write -P 7 0 256k' -c 'write -P 8 10M 64k' img.qcow2
qemu-img convert -O raw img.qcow2 want.raw
expect_rc 0 wimg check img.qcow2
grep -qx 'No errors were found on the image.' .out || fail "clean check output: $(cat .out)"

# Two leaked clusters past the end of the image.
n=$(clusters img.qcow2)
set_refcount img.qcow2 $n 1 grow
set_refcount img.qcow2 $((n + 1)) 1 grow
expect_rc 3 qemu-img check img.qcow2
expect_rc 3 wimg check img.qcow2
grep -q '^2 leaked clusters were found on the image.' .out || fail "leaks not reported: $(cat .out)"
expect_rc 3 wimg check --output=json img.qcow2
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["leaks"])' .out)" = 2 ] || fail "json leaks"
expect_rc 0 wimg check -r leaks img.qcow2
grep -q 'leaked clusters' .out || fail "repair not reported: $(cat .out)"
qcheck img.qcow2
qsame want.raw img.qcow2

# Corruption: a data cluster in use whose refcount is 0.
ok qemu-io -c 'write -P 9 20M 64k' img.qcow2
host=$(qemu-img map --output=json img.qcow2 | python3 -c '
import json, sys
print(next(e["offset"] for e in json.load(sys.stdin) if e["data"] and e["start"] == 20 << 20))')
set_refcount img.qcow2 $((host / 65536)) 0
qemu-img convert -O raw img.qcow2 want.raw
expect_rc 2 qemu-img check img.qcow2
expect_rc 2 wimg check img.qcow2
grep -q 'errors were found on the image' .out || fail "corruption not reported: $(cat .out)"
# -r leaks does not fix corruption.
expect_rc 2 wimg check -r leaks img.qcow2
expect_rc 0 wimg check -r all img.qcow2
qcheck img.qcow2
qsame want.raw img.qcow2
expect_rc 0 wimg check --output=json img.qcow2
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["check-errors"] == 0 and d["format"] == "qcow2" and "corruptions" not in d' .out ||
    fail "clean json: $(cat .out)"

# Images wirt writes check clean in both tools.
ok wimg create -q -f qcow2 -o cluster_size=4k,refcount_bits=64 w.qcow2 32M
ok qemu-io -c 'write -P 1 0 1M' w.qcow2
expect_rc 0 wimg check w.qcow2
qcheck w.qcow2
# Raw images have nothing to check (qemu-img exits 63 too).
qemu-img create -q -f raw r.raw 1M
expect_rc 63 wimg check -f raw r.raw
echo PASS
