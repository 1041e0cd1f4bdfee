#!/bin/bash
# SPDX-License-Identifier: MIT
# `wirt img map --output=json` reports the same allocation (start, length,
# depth, present, zero, data) as qemu-img map, and `wirt img measure` the same
# sizes as qemu-img measure.
source "$(dirname "$0")/lib.sh"

norm() { # drop host offsets (layouts differ between writers)
    python3 -c '
import json, sys
for e in json.load(sys.stdin):
    print(e["start"], e["length"], e["depth"], e["present"], e["zero"], e["data"])'
}
same_map() {
    local q w
    q=$(qemu-img map --output=json "$@" | norm)
    w=$(wimg map --output=json "$@" | norm)
    [ "$q" = "$w" ] || { diff <(echo "$q") <(echo "$w") >&2 || true; fail "map $* differs"; }
}

qemu-img create -q -f qcow2 base.qcow2 32M
ok qemu-io -c 'write -P 1 0 1M' -c 'write -P 1 8M 64k' base.qcow2
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2
ok qemu-io -c 'write -P 2 512k 1M' -c 'write -z 8M 64k' -c 'write -P 3 20M 128k' top.qcow2
same_map base.qcow2
same_map top.qcow2
# Human map lists the data runs with their host offsets, like qemu-img.
[ "$(wimg map base.qcow2 | awk 'NR > 1 { print $1, $2, $4 }')" = "$(qemu-img map base.qcow2 | awk 'NR > 1 { print $1, $2, $4 }')" ] ||
    fail "human map differs"

for args in "-O qcow2 --size 1G" "-O qcow2 --size 100M -o cluster_size=4k" \
    "-O qcow2 --size 2T -o cluster_size=2M,refcount_bits=64" "-O qcow2 --size 7M -o refcount_bits=1" \
    "-O raw --size 5G" "-O qcow2 base.qcow2" "-O qcow2 -o cluster_size=512 top.qcow2"; do
    # shellcheck disable=SC2086
    q=$(qemu-img measure --output=json $args | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["required"], d["fully-allocated"])')
    # shellcheck disable=SC2086
    w=$(wimg measure --output=json $args | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["required"], d["fully-allocated"])')
    [ "$q" = "$w" ] || fail "measure $args: qemu says $q, wirt says $w"
done
echo PASS
