#!/bin/bash
# SPDX-License-Identifier: MIT
# `wirt img info --output=json` agrees with qemu-img info on virtual-size,
# format, cluster-size and the backing file, for images made by either tool.
source "$(dirname "$0")/lib.sh"

fields() { # TOOL FILE [ARGS]: the compared fields, one line
    python3 -c '
import json, sys
d = json.load(sys.stdin)
if isinstance(d, list):
    print("|".join(" ".join(str(e.get(k)) for k in ("virtual-size", "format", "cluster-size", "backing-filename", "backing-filename-format")) for e in d))
else:
    print(" ".join(str(d.get(k)) for k in ("virtual-size", "format", "cluster-size", "backing-filename", "backing-filename-format", "dirty-flag")))
'
}
same_info() { # FILE [extra info args]
    local q w
    q=$(qemu-img info --output=json "$@" | fields)
    w=$(wimg info --output=json "$@" | fields)
    [ "$q" = "$w" ] || fail "info $*: qemu says '$q', wirt says '$w'"
}

qemu-img create -q -f qcow2 q.qcow2 100M
same_info q.qcow2
qemu-img create -q -f qcow2 -o cluster_size=4k q4k.qcow2 1G
same_info q4k.qcow2
qemu-img create -q -f raw q.raw 12345k
same_info q.raw
same_info -f raw q.raw
ok wimg create -q -f qcow2 -o cluster_size=2M w.qcow2 3G
same_info w.qcow2
ok wimg create -q -f qcow2 -b w.qcow2 -F qcow2 w1.qcow2
same_info w1.qcow2
ok wimg create -q -f qcow2 -b w1.qcow2 w2.qcow2 5G
same_info w2.qcow2
same_info --backing-chain w2.qcow2
qemu-img create -q -f qcow2 -b q.qcow2 -F qcow2 q1.qcow2
same_info q1.qcow2
qemu-img convert -O vmdk q.raw q.vmdk
same_info q.vmdk
qemu-img convert -O vpc -o subformat=dynamic q.raw q.vhd
same_info q.vhd

# Snapshots appear in info with their names.
qemu-img snapshot -c first q.qcow2
qemu-img snapshot -c second q.qcow2
[ "$(wimg info --output=json q.qcow2 | python3 -c 'import json,sys; print(",".join(s["name"] for s in json.load(sys.stdin)["snapshots"]))')" = first,second ] ||
    fail "snapshots missing from info"
# Human output has qemu-img's key lines.
wimg info w1.qcow2 >h.txt
grep -qx 'file format: qcow2' h.txt || fail "human info: no format line"
grep -qx 'virtual size: 3 GiB (3221225472 bytes)' h.txt || fail "human info: wrong size line: $(cat h.txt)"
grep -qx 'cluster_size: 65536' h.txt || fail "human info: no cluster_size line"
grep -qx 'backing file: w.qcow2' h.txt || fail "human info: no backing line"
echo PASS
