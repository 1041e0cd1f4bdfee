#!/bin/bash
# SPDX-License-Identifier: MIT
# Images made by qemu-img/qemu-io read back byte-identical through wirt:
# `wirt img convert -O raw` gives the same bytes as qemu-img's own
# conversion, and `wirt img compare` agrees with qemu-img compare.
source "$(dirname "$0")/lib.sh"

make_pattern_raw src.raw 16M

check_reads() { # IMAGE: wirt must see exactly what qemu sees
    local img=$1
    qemu-img convert -O raw "$img" q.raw
    ok wimg convert -O raw "$img" w.raw
    cmp -s q.raw w.raw || fail "$img: wirt's raw conversion differs from qemu-img's"
    ok wimg compare q.raw "$img"
    ok wimg compare "$img" q.raw
}

for cs in 512 4k 64k 2M; do
    qemu-img convert -O qcow2 -o cluster_size=$cs src.raw q$cs.qcow2
    check_reads q$cs.qcow2
    qemu-img convert -c -O qcow2 -o cluster_size=$cs src.raw qc$cs.qcow2
    check_reads qc$cs.qcow2
done
qemu-img convert -c -O qcow2 -o compression_type=zstd src.raw zstd.qcow2
check_reads zstd.qcow2
qemu-img convert -O qcow2 -o refcount_bits=1 src.raw r1.qcow2
check_reads r1.qcow2
qemu-img convert -O qcow2 -o compat=0.10 src.raw v2.qcow2
check_reads v2.qcow2

# Zero clusters written by qemu (write -z) over data read as zeroes.
qemu-img convert -O qcow2 src.raw zc.qcow2
ok qemu-io -c 'write -z 1M 64k' -c 'write -z -u 8M 512k' zc.qcow2
check_reads zc.qcow2

# A backing chain of depth 3 written by qemu-io at every level.
qemu-img create -q -f qcow2 b0.qcow2 16M
ok qemu-io -c 'write -P 1 0 4M' b0.qcow2
qemu-img create -q -f qcow2 -b b0.qcow2 -F qcow2 b1.qcow2
ok qemu-io -c 'write -P 2 2M 4M' -c 'write -z 0 64k' b1.qcow2
qemu-img create -q -f qcow2 -b b1.qcow2 -F qcow2 -o cluster_size=4k b2.qcow2
ok qemu-io -c 'write -P 3 5M 1M' -c 'write -P 4 100k 3k' b2.qcow2
check_reads b2.qcow2
# A backing file smaller than its overlay reads as zeroes past its end.
qemu-img create -q -f qcow2 small.qcow2 4M
ok qemu-io -c 'write -P 9 0 4M' small.qcow2
qemu-img create -q -f qcow2 -b small.qcow2 -F qcow2 big.qcow2 16M
check_reads big.qcow2

# Internal snapshots do not disturb the active view.
qemu-img convert -O qcow2 src.raw snap.qcow2
qemu-img snapshot -c s1 snap.qcow2
ok qemu-io -c 'write -P 0x66 1M 128k' snap.qcow2
check_reads snap.qcow2

# Raw images, including one whose size is not a multiple of 512.
check_reads src.raw
# (qemu rounds its size up to a sector; wirt keeps the file's size.)
head -c 1000000 /dev/urandom >odd.raw
ok wimg convert -O raw odd.raw w.raw
cmp -s odd.raw w.raw || fail "odd-sized raw changed"
qsame odd.raw w.raw

# Several sources are concatenated; -n writes into an existing image; -S 0
# writes zeroes out instead of leaving holes.
qemu-img convert -O qcow2 src.raw s2.qcow2
ok wimg convert -O raw src.raw s2.qcow2 cat.raw
cat src.raw src.raw | cmp -s - cat.raw || fail "concatenated conversion differs"
qemu-img create -q -f qcow2 exist.qcow2 16M
ok qemu-io -c 'write -P 0xee 0 16M' exist.qcow2
ok wimg convert -n -O qcow2 src.raw exist.qcow2
qcheck exist.qcow2
qsame src.raw exist.qcow2
ok wimg convert -S 0 -O raw s2.qcow2 full.raw
cmp -s src.raw full.raw || fail "-S 0 conversion differs"
[ "$(stat -c %b full.raw)" -ge 32768 ] || fail "-S 0 left holes"
ok wimg convert -O raw s2.qcow2 sparse.raw
[ "$(stat -c %b sparse.raw)" -lt 8192 ] || fail "conversion is not sparse"

# compare finds the first differing sector the way qemu-img does.
cp src.raw diff.raw
printf 'X' | dd of=diff.raw bs=1 seek=$((3 * 1048576 + 700)) conv=notrunc status=none
qemu-img convert -O qcow2 diff.raw diff.qcow2
expect_rc 1 wimg compare src.raw diff.qcow2
grep -qx "Content mismatch at offset $((3 * 1048576 + 512))!" .out || fail "wrong mismatch message: $(cat .out)"
expect_rc 1 qemu-img compare src.raw diff.qcow2
grep -qx "Content mismatch at offset $((3 * 1048576 + 512))!" .out || fail "qemu-img disagrees: $(cat .out)"
# Size mismatch: equal when the tail is zero, unequal in strict mode.
qemu-img create -q -f raw bigger.raw 32M
qemu-img create -q -f raw smaller.raw 16M
ok wimg compare smaller.raw bigger.raw
expect_rc 1 wimg compare -s smaller.raw bigger.raw
ok qemu-io -f raw -c 'write -P 1 20M 512' bigger.raw
expect_rc 1 wimg compare smaller.raw bigger.raw
grep -qx "Content mismatch at offset $((20 * 1048576))!" .out || fail "tail mismatch: $(cat .out)"
echo PASS
