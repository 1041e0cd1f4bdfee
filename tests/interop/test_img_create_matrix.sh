#!/bin/bash
# SPDX-License-Identifier: MIT
# Images `wirt img create` and `wirt img convert` write, across cluster sizes,
# refcount widths, preallocation modes and compression types, must pass
# qemu-img check and hold exactly the content they were given.
source "$(dirname "$0")/lib.sh"

make_pattern_raw src.raw 16M
qemu-img create -q -f raw empty.raw 16M

for cs in 512 4k 64k 2M; do
    for rb in 1 16 64; do
        img=c$cs-r$rb.qcow2
        ok wimg create -q -f qcow2 -o cluster_size=$cs,refcount_bits=$rb $img 16M
        qcheck $img
        qsame empty.raw $img
        # qemu writes into a wirt-made image and still finds it consistent.
        ok qemu-io -c 'write -P 0x42 0 128k' -c 'write -P 0x43 15M 1M' $img
        qcheck $img
        cv=v$cs-r$rb.qcow2
        ok wimg convert -O qcow2 -o cluster_size=$cs,refcount_bits=$rb src.raw $cv
        qcheck $cv
        qsame src.raw $cv
        [ "$(qemu-img info --output=json $cv | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["cluster-size"], d["format-specific"]["data"]["refcount-bits"])')" \
            = "$(numfmt --from=iec ${cs^^}) $rb" ] || fail "$cv: wrong cluster size or refcount bits"
    done
done

for pa in off metadata falloc full; do
    for cs in 512 64k 2M; do
        img=p$pa-$cs.qcow2
        ok wimg create -q -f qcow2 -o cluster_size=$cs,preallocation=$pa $img 16M
        qcheck $img
        qsame empty.raw $img
        ok wimg convert -O qcow2 -o cluster_size=$cs,preallocation=$pa src.raw cv-$img
        qcheck cv-$img
        qsame src.raw cv-$img
    done
    ok wimg create -q -f raw -o preallocation=$pa p$pa.raw 16M
    qsame empty.raw p$pa.raw
    [ "$(stat -c %s p$pa.raw)" = 16777216 ] || fail "p$pa.raw has the wrong size"
done
# Full preallocation really allocates.
[ "$(stat -c %b pfull.raw)" -ge 32768 ] || fail "preallocation=full raw is sparse"

for ct in zlib zstd; do
    for cs in 4k 64k 2M; do
        img=z$ct-$cs.qcow2
        ok wimg convert -c -O qcow2 -o cluster_size=$cs,compression_type=$ct src.raw $img
        qcheck $img
        qsame src.raw $img
        [ "$(qemu-img info --output=json $img | python3 -c 'import json,sys; print(json.load(sys.stdin)["format-specific"]["data"]["compression-type"])')" = $ct ] ||
            fail "$img: wrong compression type"
        # qemu-img sees compressed clusters, and the file is smaller than without -c.
        ok wimg convert -O qcow2 -o cluster_size=$cs src.raw u$img
        [ "$(qemu-img check --output=json $img | python3 -c 'import json,sys; print(json.load(sys.stdin).get("compressed-clusters", 0))')" -gt 0 ] ||
            fail "$img: no compressed clusters"
        [ "$(stat -c %s $img)" -lt "$(stat -c %s u$img)" ] || fail "$img: not smaller than u$img"
        qemu-img map --output=json $img | grep -q '"data": true' || fail "$img: no data"
    done
done

ok wimg create -q -f qcow2 -o lazy_refcounts=on lazy.qcow2 16M
qcheck lazy.qcow2
[ "$(qemu-img info --output=json lazy.qcow2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["format-specific"]["data"]["lazy-refcounts"])')" = True ] ||
    fail "lazy_refcounts not set"

# A backing chain of depth 3 made by wirt, written by qemu at every level.
ok wimg create -q -f qcow2 base.qcow2 16M
ok qemu-io -c 'write -P 1 0 2M' base.qcow2
ok wimg create -q -f qcow2 -b base.qcow2 -F qcow2 mid.qcow2
ok qemu-io -c 'write -P 2 1M 2M' mid.qcow2
ok wimg create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2
ok qemu-io -c 'write -P 3 2M 2M' top.qcow2
for i in base mid top; do qcheck $i.qcow2; done
qemu-img create -q -f raw want.raw 16M
ok qemu-io -f raw -c 'write -P 1 0 1M' -c 'write -P 2 1M 1M' -c 'write -P 3 2M 2M' want.raw
qsame want.raw top.qcow2
# wirt reads the chain the same way.
ok wimg compare want.raw top.qcow2
ok wimg convert -O raw top.qcow2 top.raw
cmp -s want.raw top.raw || fail "chain flattened by wirt differs"
# Convert with -B keeps only what differs from the new backing file.
ok wimg convert -O qcow2 -B base.qcow2 -F qcow2 top.qcow2 over.qcow2
qcheck over.qcow2
qsame want.raw over.qcow2
[ "$(qemu-img info --output=json over.qcow2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["backing-filename"])')" = base.qcow2 ] ||
    fail "-B did not set the backing file"
echo PASS
