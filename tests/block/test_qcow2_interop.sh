#!/bin/bash
# SPDX-License-Identifier: MIT
# qcow2 interoperability with QEMU as the referee: images wirt writes must
# pass `qemu-img check` and read back identically in qemu-io; images QEMU
# writes (all cluster sizes, refcount widths, compression, snapshots,
# backing chains, zero/discarded clusters) must read back identically in wirt.
set -u
BUILD=${BUILD:-build}
B=$(realpath "$BUILD/tests/block/blktool")
[ -x "$B" ] || { echo "missing $B (make $BUILD/tests/block/blktool)"; exit 1; }
command -v qemu-img >/dev/null || { echo "SKIP: qemu-img not installed"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
qcheck() { qemu-img check -q "$1" >/dev/null 2>"$T/chk.err" || { fail "qemu-img check $1: $(cat "$T/chk.err" | head -3)"; }; }
qread() { # img off len pattern
    qemu-io -r -c "read -P $4 $2 $3" "$1" 2>/dev/null | grep -q "^read" || fail "qemu-io read -P $4 $2 $3 on $1"
}
wread() { "$B" read "$1" "$2" "$3" "$4" || fail "wirt read $* "; }

echo "== wirt-created images, every cluster size x refcount width"
for cs in 512 4096 65536 2097152; do
    for rb in 1 2 4 8 16 32 64; do
        img=w-$cs-$rb.qcow2
        "$B" create qcow2 $img 32M cluster_size=$cs refcount_bits=$rb || { fail create $img; continue; }
        qcheck $img
        "$B" write $img 0 65536 0xab || fail write $img
        "$B" write $img 3000000 10000 0xcd || fail write2 $img
        "$B" write $img 33550000 4432 0x11 || fail write3 $img
        qcheck $img
        qread $img 0 65536 0xab
        qread $img 3000000 10000 0xcd
        qread $img 33550000 4432 0x11
        qread $img 65536 100000 0
        wread $img 3000000 10000 0xcd
        "$B" check $img >/dev/null || fail "wirt check $img"
        "$B" dump $img w.raw && qemu-img compare -q -f raw -F qcow2 w.raw $img ||
            fail "qemu-img compare: wirt and QEMU see different contents in $img"
    done
done

echo "== QEMU-written images read by wirt"
for cs in 512 4096 65536 2097152; do
    for rb in 1 16 64; do
        img=q-$cs-$rb.qcow2
        qemu-img create -q -f qcow2 -o cluster_size=$cs,refcount_bits=$rb $img 32M
        qemu-io -c 'write -P 0xab 0 64k' -c 'write -P 0x5a 1000000 12345' -c 'write -z 2097152 1048576' \
            -c 'write -P 0x77 4194304 1048576' -c 'discard 4194304 1048576' $img >/dev/null
        wread $img 0 65536 0xab
        wread $img 1000000 12345 0x5a
        wread $img 2097152 1048576 0
        qemu-img convert -O raw $img q.raw && "$B" dump $img w.raw && cmp -s q.raw w.raw ||
            fail "QEMU and wirt disagree on $img"
        "$B" check $img >/dev/null || fail "wirt check of QEMU image $img"
        "$B" write $img 1000000 100 0x42 || fail "wirt write into $img"
        qread $img 1000000 100 0x42
        qread $img 1000100 12245 0x5a
        qcheck $img
    done
done

echo "== version 2 images"
qemu-img create -q -f qcow2 -o compat=0.10 v2.qcow2 16M
qemu-io -c 'write -P 0x33 0 100k' v2.qcow2 >/dev/null
wread v2.qcow2 0 102400 0x33
"$B" write v2.qcow2 200000 5000 0x44 || fail write v2
"$B" writez v2.qcow2 0 65536 || fail writez v2
qread v2.qcow2 200000 5000 0x44
qread v2.qcow2 0 65536 0
qread v2.qcow2 65536 36864 0x33
qcheck v2.qcow2

echo "== compressed clusters (QEMU writes, wirt reads; wirt writes, QEMU reads)"
for ct in zlib zstd; do
    qemu-img create -q -f raw src.raw 8M
    qemu-io -f raw -c 'write -P 0x61 0 3M' -c 'write -P 0x62 5M 1M' src.raw >/dev/null
    for cs in 4096 65536 2097152; do
        qemu-img convert -c -O qcow2 -o compression_type=$ct,cluster_size=$cs src.raw qc-$ct-$cs.qcow2
        "$B" dump qc-$ct-$cs.qcow2 out.raw || fail "dump qc-$ct-$cs"
        cmp -s src.raw out.raw || fail "compressed $ct $cs content differs"
        "$B" check qc-$ct-$cs.qcow2 >/dev/null || fail "wirt check qc-$ct-$cs"
        # overwrite part of a compressed cluster (COW from compressed data)
        "$B" write qc-$ct-$cs.qcow2 1000 3000 0x70 || fail "write over compressed"
        qread qc-$ct-$cs.qcow2 1000 3000 0x70
        qread qc-$ct-$cs.qcow2 4000 1000 0x61
        qcheck qc-$ct-$cs.qcow2
        img=wc-$ct-$cs.qcow2
        "$B" create qcow2 $img 8M compression_type=$ct cluster_size=$cs || fail create $img
        "$B" comp $img 0 4194304 0x99 || fail "write_compressed $img"
        qcheck $img
        "$B" readcomp $img 0 4194304 0x99 || fail "readcomp $img"
        qemu-img convert -O raw $img q.raw && "$B" dump $img w.raw && cmp -s q.raw w.raw ||
            fail "QEMU and wirt disagree on $img"
        info=$(qemu-img check $img 2>&1 | grep -o '[0-9.]*% compressed')
        case "$info" in 0.00%*) fail "$img: no compressed clusters ($info)";; esac
    done
done

echo "== snapshots"
for rb in 4 16 64; do
    img=s-$rb.qcow2
    "$B" create qcow2 $img 16M refcount_bits=$rb cluster_size=4096
    "$B" write $img 0 1M 0x01
    "$B" snap create $img one || fail snap create
    qcheck $img
    "$B" write $img 4096 8192 0x02
    "$B" write $img 2M 1M 0x03
    "$B" snap create $img two || fail snap create two
    qcheck $img
    "$B" write $img 0 4096 0x04
    qemu-img snapshot -l $img | grep -q two || fail "qemu does not list snapshot two"
    "$B" snap apply $img one || fail apply one
    qcheck $img
    wread $img 0 1M 0x01
    wread $img 2M 1M 0
    qread $img 0 1M 0x01
    "$B" snap apply $img two || fail apply two
    qcheck $img
    wread $img 4096 8192 0x02
    wread $img 0 4096 0x01
    wread $img 2M 1M 0x03
    "$B" snap delete $img one || fail delete one
    qcheck $img
    "$B" write $img 0 1M 0x05
    "$B" snap delete $img two || fail delete two
    qcheck $img
    wread $img 0 1M 0x05
    [ -z "$(qemu-img snapshot -l $img)" ] || fail "snapshots left in $img"
done
# QEMU-made snapshot, applied by wirt
qemu-img create -q -f qcow2 qs.qcow2 8M
qemu-io -c 'write -P 0x21 0 1M' qs.qcow2 >/dev/null
qemu-img snapshot -c base qs.qcow2
qemu-io -c 'write -P 0x22 0 512k' qs.qcow2 >/dev/null
"$B" snap list qs.qcow2 | grep -q base || fail "wirt does not list QEMU snapshot"
"$B" snap apply qs.qcow2 base || fail "apply QEMU snapshot"
wread qs.qcow2 0 1M 0x21
qcheck qs.qcow2
# refcount_bits=1 cannot share clusters: clear error, image intact
"$B" create qcow2 r1.qcow2 8M refcount_bits=1
"$B" write r1.qcow2 0 64k 0x01
"$B" snap create r1.qcow2 x 2>/dev/null && fail "snapshot with 1-bit refcounts succeeded"
qcheck r1.qcow2

echo "== backing chains"
qemu-img create -q -f raw base.raw 8M
qemu-io -f raw -c 'write -P 0x10 0 8M' base.raw >/dev/null
qemu-img create -q -f qcow2 -b base.raw -F raw mid.qcow2
qemu-io -c 'write -P 0x20 1M 1M' mid.qcow2 >/dev/null
mkdir -p sub
qemu-img create -q -f qcow2 -b ../mid.qcow2 -F qcow2 sub/top.qcow2
qemu-io -c 'write -P 0x30 1500000 1000' sub/top.qcow2 >/dev/null
wread sub/top.qcow2 0 1M 0x10
wread sub/top.qcow2 1M 400000 0x20
wread sub/top.qcow2 1500000 1000 0x30
wread sub/top.qcow2 2M 6M 0x10
"$B" write sub/top.qcow2 3000000 100 0x40 || fail "write into overlay"
qread sub/top.qcow2 2999900 100 0x10
qread sub/top.qcow2 3000000 100 0x40
qread sub/top.qcow2 3000100 100 0x10
qcheck sub/top.qcow2
"$B" create qcow2 sub/w.qcow2 0 backing=top.qcow2 backing_fmt=qcow2 || fail "create with backing"
[ "$(qemu-img info --output=json sub/w.qcow2 | grep -o '"virtual-size": [0-9]*')" = '"virtual-size": 8388608' ] ||
    fail "size from backing"
"$B" writez sub/w.qcow2 0 1M || fail "writez over backing"
"$B" discard sub/w.qcow2 2M 1M || fail "discard over backing"
qread sub/w.qcow2 0 1M 0
qread sub/w.qcow2 1M 400000 0x20
wread sub/w.qcow2 0 1M 0
qcheck sub/w.qcow2
# missing backing file
qemu-img create -q -f qcow2 -b gone.qcow2 -F qcow2 -u orphan.qcow2 8M
msg=$("$B" read orphan.qcow2 0 512 0 2>&1) && fail "orphan opened"
echo "$msg" | grep -q "gone.qcow2" || fail "missing backing not named: $msg"
# loop: a -> b -> a
qemu-img create -q -f qcow2 la.qcow2 8M
qemu-img create -q -f qcow2 -b la.qcow2 -F qcow2 lb.qcow2
qemu-img rebase -q -u -b lb.qcow2 -F qcow2 la.qcow2
msg=$("$B" read lb.qcow2 0 512 0 2>&1) && fail "loop opened"
echo "$msg" | grep -qi "loop" || fail "loop not reported: $msg"

echo "== zero and discard by wirt"
"$B" create qcow2 z.qcow2 16M
"$B" write z.qcow2 0 4M 0xee
"$B" writez z.qcow2 100000 1M || fail writez
"$B" discard z.qcow2 2M 1M || fail discard
qread z.qcow2 100000 1048576 0
qread z.qcow2 0 100000 0xee
qread z.qcow2 2M 1M 0
qread z.qcow2 3M 1M 0xee
qcheck z.qcow2
a=$(qemu-img check z.qcow2 | grep -o '^[0-9]*/')
[ "${a%/}" -le 40 ] || fail "discard/write_zeroes did not free clusters ($a)"

echo "== preallocation"
for p in off metadata falloc full; do
    "$B" create qcow2 p-$p.qcow2 20M preallocation=$p || fail create $p
    qcheck p-$p.qcow2
    "$B" write p-$p.qcow2 5M 70000 0x66 || fail "write prealloc $p"
    qread p-$p.qcow2 5M 70000 0x66
    qread p-$p.qcow2 0 5M 0
    qcheck p-$p.qcow2
done
"$B" create raw r.raw 4M preallocation=full && [ "$(stat -c %s r.raw)" = 4194304 ] || fail raw create

echo "== resize"
"$B" create qcow2 g.qcow2 1M cluster_size=512
"$B" write g.qcow2 0 1M 0x12
"$B" resize g.qcow2 300M || fail resize
"$B" write g.qcow2 299M 1M 0x13 || fail "write after resize"
qcheck g.qcow2
qread g.qcow2 0 1M 0x12
qread g.qcow2 299M 1M 0x13

echo "== dirty image left by QEMU with lazy refcounts"
qemu-img create -q -f qcow2 -o lazy_refcounts=on lz.qcow2 8M
qemu-io -c 'write -P 0x41 0 1M' -c 'flush' -c 'abort' lz.qcow2 >/dev/null 2>&1
qemu-img check -q lz.qcow2 >/dev/null 2>&1 && fail "QEMU left a clean image (test setup)"
wread lz.qcow2 0 1M 0x41
"$B" write lz.qcow2 1M 4096 0x42 || fail "write to dirty image"
qcheck lz.qcow2
qread lz.qcow2 0 1M 0x41
qemu-img info lz.qcow2 | grep -q "dirty" && fail "dirty bit still set"

echo "== wirt check agrees with QEMU on a QEMU image with a snapshot"
qemu-img create -q -f qcow2 -o cluster_size=4096 rq.qcow2 8M
qemu-io -c 'write -P 0x52 0 1M' rq.qcow2 >/dev/null
qemu-img snapshot -c s1 rq.qcow2
qemu-io -c 'write -P 0x53 0 512k' rq.qcow2 >/dev/null
"$B" check rq.qcow2 >/dev/null 2>&1 || fail "wirt check of QEMU image with snapshot"

echo "== persistent dirty bitmaps (autoclear feature)"
qemu-img create -q -f qcow2 bm.qcow2 8M
qemu-img bitmap --add bm.qcow2 b0 && qemu-img bitmap --add bm.qcow2 b1
qemu-io -c 'write -P 0x11 0 1M' bm.qcow2 >/dev/null
"$B" check bm.qcow2 >/dev/null 2>&1 || fail "wirt check counts bitmap clusters wrongly"
"$B" write bm.qcow2 2M 64k 0x12 || fail "write to image with bitmaps"
qemu-img check -q bm.qcow2 >/dev/null 2>&1; rc=$?
[ $rc = 0 ] || [ $rc = 3 ] || fail "bitmap image corrupt after wirt write (qemu-img check $rc)"
"$B" check bm.qcow2 leaks >/dev/null 2>&1
qcheck bm.qcow2
qread bm.qcow2 0 1M 0x11
qread bm.qcow2 2M 64k 0x12

echo "== locking"
"$B" create qcow2 l.qcow2 1M
qemu-io -c 'sleep 3000' l.qcow2 >/dev/null 2>&1 &
qpid=$!
sleep 1
msg=$("$B" write l.qcow2 0 512 1 2>&1) && fail "wirt wrote an image QEMU holds"
echo "$msg" | grep -q "in use by another process" || fail "lock message: $msg"
wait $qpid
# and the other way round: wirt holds the write lock, QEMU must not write
"$(dirname "$B")/crash_writer" write l.qcow2 l.log 1 >/dev/null 2>&1 &
wpid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s l.log ] && break; sleep 0.1; done
qemu-io -c 'write 0 512' l.qcow2 >/dev/null 2>&1 && fail "QEMU wrote an image wirt holds"
kill -9 $wpid; wait $wpid 2>/dev/null

echo "== hostile headers"
"$B" create qcow2 h.qcow2 1M
cp h.qcow2 h1.qcow2; printf '\x00\x00\x00\x00\x00\x00\x00\x20' | dd of=h1.qcow2 bs=1 seek=72 conv=notrunc 2>/dev/null
msg=$("$B" read h1.qcow2 0 512 0 2>&1) && fail "unknown incompat bit accepted"
echo "$msg" | grep -q "incompatible feature bits: 5" || fail "incompat message: $msg"
cp h.qcow2 h2.qcow2; printf '\x7f\xff\xff\xff' | dd of=h2.qcow2 bs=1 seek=36 conv=notrunc 2>/dev/null
"$B" read h2.qcow2 0 512 0 2>/dev/null && fail "huge L1 accepted"
cp h.qcow2 h3.qcow2; printf '\x00\x00\x00\x20' | dd of=h3.qcow2 bs=1 seek=20 conv=notrunc 2>/dev/null
"$B" read h3.qcow2 0 512 0 2>/dev/null && fail "cluster_bits 32 accepted"

echo "$fails failures"
[ $fails = 0 ]
