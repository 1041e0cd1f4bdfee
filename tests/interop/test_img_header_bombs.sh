#!/bin/bash
# SPDX-License-Identifier: MIT
# Headers that claim huge disks in small (sparse) files: every verb stays
# within 1 GiB of address space and 10 seconds.  Tables too big for what the
# format and wirt support are refused with one line naming the file; huge
# but legal sparse disks are mapped by skipping empty metadata (qcow2 L1
# entries, VMDK grain directory entries, VHD BAT runs), not by walking the
# virtual size grain by grain.
source "$(dirname "$0")/lib.sh"

python3 - <<'PY'
import struct

def vhd_csum(b, co):
    blk = bytearray(b); blk[co:co + 4] = bytes(4)
    return (~sum(blk)) & 0xffffffff

def vhd(path, size, block, bat_fill, allocate_last=False):
    """A dynamic VHD.  Only the first 4 KiB of the BAT are written unless bat_fill says
    'full'; the rest is a hole (reads as entry 0)."""
    entries = (size + block - 1) // block
    bat_off = 1536
    bat_bytes = (entries * 4 + 511) // 512 * 512
    footer = bytearray(512)
    footer[0:8] = b'conectix'
    struct.pack_into('>IIQ', footer, 8, 2, 0x10000, 512)
    footer[28:32] = b'wirt'
    struct.pack_into('>QQIII', footer, 40, size, size, 0xffff10ff, 3, 0)
    struct.pack_into('>I', footer, 64, vhd_csum(footer, 64))
    dyn = bytearray(1024)
    dyn[0:8] = b'cxsparse'
    struct.pack_into('>QQIII', dyn, 8, (1 << 64) - 1, bat_off, 0x10000, entries, block)
    struct.pack_into('>I', dyn, 36, vhd_csum(dyn, 36))
    data_off = bat_off + bat_bytes
    with open(path, 'wb') as f:
        f.write(footer + dyn)
        f.write(b'\xff' * (bat_bytes if bat_fill == 'full' else min(bat_bytes, 4096)))
        if allocate_last:
            f.seek(bat_off + 4 * (entries - 1)); f.write(struct.pack('>I', data_off // 512))
            f.seek(data_off); f.write(b'\xff' * 512 + b'\x5a' * block)
            data_off += 512 + block
        f.seek(data_off); f.write(footer)

def vmdk(path, capacity, grain, gtes, tail_grain=False):
    """A monolithicSparse VMDK whose grain directory (at sector 1) is a hole; with tail_grain
    the last grain holds 64 KiB of 0x5a."""
    span = grain * gtes
    gde = (capacity + span - 1) // span
    h = bytearray(512)
    h[0:4] = b'KDMV'
    struct.pack_into('<IIQQQQIQQQ', h, 4, 1, 3, capacity, grain, 0, 0, gtes, 1, 1, 1)
    h[73:77] = b'\n \r\n'
    gt = 1 + (gde * 4 + 511) // 512
    with open(path, 'wb') as f:
        f.write(h)
        f.truncate(gt * 512)
        if tail_grain:
            f.seek(512 + (gde - 1) * 4); f.write(struct.pack('<I', gt))
            f.seek(gt * 512 + (gtes - 1) * 4); f.write(struct.pack('<I', gt + (gtes * 4 + 511) // 512))
            f.seek((gt + (gtes * 4 + 511) // 512) * 512); f.write(b'\x5a' * grain * 512)

# The issue's bombs: 2040 GiB in 512-byte blocks (a 16 GiB BAT), 512 PiB of 1 MiB grains.
vhd('bomb.vhd', 2040 << 30, 512, 'head')
vmdk('bomb.vmdk', (512 << 50) // 512, 2048, 4096)
# Legal and huge: 2040 GiB of 2 MiB blocks with only the last one allocated.
vhd('tail.vhd', 2040 << 30, 2 << 20, 'full', allocate_last=True)
# A BAT whose entries read as 0 point the blocks at the footer copy.
vhd('zero-bat.vhd', 8 << 30, 2 << 20, 'head')
# 1 PiB in the standard VMDK geometry (32 Mi directory entries), one grain at the very end.
vmdk('tail.vmdk', (1 << 50) // 512, 128, 512, tail_grain=True)
# A descriptor offset whose byte offset wraps around to sector 1.
vmdk('desc-wrap.vmdk', 2048, 128, 512)
with open('desc-wrap.vmdk', 'r+b') as f:
    f.seek(28); f.write(struct.pack('<QQ', (1 << 55) + 1, 1))
# 32 TiB whose 1 Mi directory entries all name one empty grain table.
vmdk('dup-gt.vmdk', (32 << 40) // 512, 128, 512)
with open('dup-gt.vmdk', 'r+b') as f:
    gt = 1 + (1 << 20) * 4 // 512
    f.seek(512); f.write(struct.pack('<I', gt) * (1 << 20))
    f.seek(gt * 512); f.write(bytes(2048))
PY
# 256 TiB qcow2 whose 512 Ki L1 entries all name one empty L2 table (a sparse 4 MiB).
qemu-img create -q -f qcow2 dup-l2.qcow2 256T
python3 - <<'PY'
import os, struct
with open('dup-l2.qcow2', 'r+b') as f:
    h = f.read(48)
    n, l1 = struct.unpack_from('>IQ', h, 36)
    l2 = (os.path.getsize('dup-l2.qcow2') + 65535) // 65536 * 65536
    f.truncate(l2 + 65536)
    f.seek(l1); f.write(struct.pack('>Q', l2) * n)
PY
# 2 PiB qcow2 (a 32 MiB L1 table), one cluster written at the end.
qemu-img create -q -f qcow2 tail.qcow2 2P
ok qemu-io -f qcow2 -c 'write -P 0x5a 2251799813619712 64k' tail.qcow2

[ -n "${IMG_TEST_NO_ULIMIT:-}" ] || ulimit -v 1048576

# Runs `wirt img VERB...` under the 10 s bound; output in .out/.err, status in $rc.
run() {
    rc=0
    timeout 10 "$WIRT" img "$@" >"$W/.out" 2>"$W/.err" || rc=$?
    [ "$rc" != 124 ] || fail "wirt img $* took more than 10 s"
}

for f in bomb.vhd bomb.vmdk; do
    fmt=vpc
    case $f in *.vmdk) fmt=vmdk ;; esac
    for verb in info map check; do
        run $verb -f $fmt $f
        [ "$rc" = 1 ] || { cat "$W/.err"; fail "$verb $f exited $rc, want 1"; }
        [ "$(wc -l <"$W/.err")" = 1 ] || { cat "$W/.err"; fail "$verb $f: want one error line"; }
    done
    run convert -f $fmt -O raw $f out.raw
    [ "$rc" = 1 ] || fail "convert $f exited $rc, want 1"
done
grep -q "bomb.vmdk: VMDK capacity 1125899906842624 sectors needs a grain directory of 134217728 entries (at most 33554432)" "$W/.err" ||
    { cat "$W/.err"; fail "bomb.vmdk: unexpected error"; }
run info -f vmdk desc-wrap.vmdk
[ "$rc" = 1 ] && grep -q "desc-wrap.vmdk: VMDK descriptor lies outside the file" "$W/.err" ||
    { cat "$W/.err"; fail "desc-wrap.vmdk: info exited $rc"; }
run info -f vpc bomb.vhd
grep -q "bomb.vhd: VHD block size 512 is too small for a 2190433320960-byte disk" "$W/.err" ||
    { cat "$W/.err"; fail "bomb.vhd: unexpected error"; }

# Exact maps of the huge sparse images.
expect_map() { # FILE FORMAT JSON
    run map --output=json -f "$2" "$1"
    [ "$rc" = 0 ] || { cat "$W/.err"; fail "map $1 exited $rc"; }
    [ "$(cat "$W/.out")" = "$3" ] || { cat "$W/.out"; fail "map $1: unexpected output"; }
}
expect_map tail.qcow2 qcow2 '[{ "start": 0, "length": 2251799813619712, "depth": 0, "present": false, "zero": true, "data": false},
{ "start": 2251799813619712, "length": 65536, "depth": 0, "present": true, "zero": false, "data": true, "offset": 33816576}]'
expect_map tail.vmdk vmdk '[{ "start": 0, "length": 1125899906777088, "depth": 0, "present": false, "zero": true, "data": false},
{ "start": 1125899906777088, "length": 65536, "depth": 0, "present": true, "zero": false, "data": true, "offset": 134220288}]'
expect_map tail.vhd vpc '[{ "start": 0, "length": 2190431223808, "depth": 0, "present": false, "zero": true, "data": false},
{ "start": 2190431223808, "length": 2097152, "depth": 0, "present": true, "zero": false, "data": true, "offset": 4179968}]'
expect_map dup-l2.qcow2 qcow2 '[{ "start": 0, "length": 281474976710656, "depth": 0, "present": false, "zero": true, "data": false}]'
expect_map dup-gt.vmdk vmdk '[{ "start": 0, "length": 35184372088832, "depth": 0, "present": false, "zero": true, "data": false}]'
# check reports the half-million references to one cluster, in seconds (qemu-img: minutes).
run check -f qcow2 dup-l2.qcow2
[ "$rc" = 2 ] && grep -q "reference=524288" "$W/.err" || { cat "$W/.out" "$W/.err"; fail "check dup-l2.qcow2 exited $rc, want 2"; }
# The data in the last grain/block/cluster reads back.
for f in tail.qcow2:qcow2:2251799813619712 tail.vmdk:vmdk:1125899906777088 tail.vhd:vpc:2190431223808; do
    IFS=: read -r img fmt off <<<"$f"
    run info -f $fmt $img
    [ "$rc" = 0 ] || { cat "$W/.err"; fail "info $img exited $rc"; }
done

# A BAT entry pointing at the footer copy is an error, not data.
run map -f vpc zero-bat.vhd
[ "$rc" = 1 ] && grep -q "zero-bat.vhd" "$W/.err" || { cat "$W/.out" "$W/.err"; fail "zero-bat.vhd: map exited $rc"; }
run convert -f vpc -O raw zero-bat.vhd out.raw
[ "$rc" = 1 ] || fail "zero-bat.vhd: convert exited $rc, want 1"
echo PASS
