#!/bin/bash
# SPDX-License-Identifier: MIT
# `wirt img resize` grows and (with --shrink) shrinks qcow2 and raw images;
# qemu-img agrees on the new size, the image checks clean and keeps its data.
source "$(dirname "$0")/lib.sh"

vsize() { qemu-img info --output=json "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])'; }

for cs in 512 64k 2M; do
    img=r$cs.qcow2
    ok wimg create -q -f qcow2 -o cluster_size=$cs $img 16M
    ok qemu-io -c 'write -P 0x21 0 1M' -c 'write -P 0x22 15M 1M' $img
    ok wimg resize $img 1G
    [ "$(vsize $img)" = 1073741824 ] || fail "$img: grow to 1G gave $(vsize $img)"
    qcheck $img
    ok qemu-io -c 'read -P 0x21 0 1M' -c 'read -P 0x22 15M 1M' -c 'read -P 0 16M 1M' -c 'write -P 0x23 1000M 1M' $img
    qcheck $img
    ok wimg resize $img +1G
    [ "$(vsize $img)" = 2147483648 ] || fail "$img: +1G gave $(vsize $img)"
    ok qemu-io -c 'read -P 0x23 1000M 1M' $img
    expect_rc 1 wimg resize $img 8M
    grep -q -- '--shrink' .err || fail "shrink without --shrink: $(cat .err)"
    ok wimg resize --shrink $img -2032M
    [ "$(vsize $img)" = 16777216 ] || fail "$img: shrink gave $(vsize $img)"
    qcheck $img
    ok qemu-io -c 'read -P 0x21 0 1M' -c 'read -P 0x22 15M 1M' $img
done

qemu-img create -q -f raw r.raw 4M
ok qemu-io -f raw -c 'write -P 0x31 0 4M' r.raw
ok wimg resize -f raw r.raw 10M
[ "$(stat -c %s r.raw)" = 10485760 ] || fail "raw grow"
ok qemu-io -f raw -c 'read -P 0x31 0 4M' -c 'read -P 0 4M 6M' r.raw
ok wimg resize -f raw --shrink r.raw 1M
[ "$(stat -c %s r.raw)" = 1048576 ] || fail "raw shrink"

expect_rc 2 wimg resize r.raw 10Q
expect_rc 2 wimg resize r.raw
expect_rc 1 wimg resize missing.qcow2 1G
expect_rc 1 wimg resize --shrink r512.qcow2 -1T
echo PASS
