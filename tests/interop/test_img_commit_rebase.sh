#!/bin/bash
# SPDX-License-Identifier: MIT
# `wirt img commit` merges overlays into their base and `wirt img rebase`
# re-points overlays, in a chain of depth 3; qemu-img checks every image and
# compares the guest-visible content with what it must be.
source "$(dirname "$0")/lib.sh"

mkchain() {
    rm -f base.qcow2 mid.qcow2 top.qcow2
    ok wimg create -q -f qcow2 base.qcow2 16M
    ok qemu-io -c 'write -P 1 0 4M' base.qcow2
    ok wimg create -q -f qcow2 -b base.qcow2 -F qcow2 mid.qcow2
    ok qemu-io -c 'write -P 2 2M 4M' -c 'write -z 1M 64k' mid.qcow2
    ok wimg create -q -f qcow2 -o cluster_size=4k -b mid.qcow2 -F qcow2 top.qcow2
    ok qemu-io -c 'write -P 3 5M 2M' -c 'write -P 4 100k 3k' top.qcow2
    qemu-img convert -O raw top.qcow2 want-top.raw
    qemu-img convert -O raw mid.qcow2 want-mid.raw
    qemu-img convert -O raw base.qcow2 want-base.raw
}

top_allocated() { qemu-img map --output=json top.qcow2 | python3 -c '
import json, sys
print(sum(e["length"] for e in json.load(sys.stdin) if e["depth"] == 0 and e["present"]))'; }

# commit top into mid: mid then shows top's content; top is emptied and
# still shows the same content through mid.
mkchain
ok wimg commit top.qcow2
for i in base mid top; do qcheck $i.qcow2; done
qsame want-top.raw mid.qcow2
qsame want-top.raw top.qcow2
qsame want-base.raw base.qcow2
[ "$(top_allocated)" = 0 ] || fail "commit did not empty the overlay"
# -d keeps the overlay's clusters.
mkchain
ok wimg commit -d top.qcow2
qsame want-top.raw mid.qcow2
qsame want-top.raw top.qcow2
[ "$(top_allocated)" -gt 0 ] || fail "commit -d emptied the overlay"

# commit -b base: everything above base lands in base.
mkchain
ok wimg commit -b base.qcow2 top.qcow2
qcheck base.qcow2
qsame want-top.raw base.qcow2
qsame want-top.raw top.qcow2

# A base smaller than the overlay grows.
rm -f s.qcow2 so.qcow2
ok wimg create -q -f qcow2 s.qcow2 1M
ok wimg create -q -f qcow2 -b s.qcow2 -F qcow2 so.qcow2 4M
ok qemu-io -c 'write -P 5 3M 64k' so.qcow2
qemu-img convert -O raw so.qcow2 want-so.raw
ok wimg commit so.qcow2
qcheck s.qcow2
qsame want-so.raw s.qcow2
[ "$(qemu-img info --output=json s.qcow2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')" = 4194304 ] ||
    fail "base did not grow"

# safe rebase of top onto base (dropping mid) keeps top's content.
mkchain
ok wimg rebase -b base.qcow2 -F qcow2 top.qcow2
qcheck top.qcow2
qsame want-top.raw top.qcow2
[ "$(qemu-img info --output=json top.qcow2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["backing-filename"])')" = base.qcow2 ] ||
    fail "rebase did not change the backing file"
# safe rebase onto nothing flattens the image.
ok wimg rebase -b "" top.qcow2
qcheck top.qcow2
qsame want-top.raw top.qcow2
qemu-img info --output=json top.qcow2 | grep -q backing-filename && fail "backing file still set"
# unsafe rebase only rewrites the pointer: top over base now shows base where mid was.
mkchain
ok wimg rebase -u -b base.qcow2 -F qcow2 top.qcow2
qcheck top.qcow2
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 ref.qcow2
ok qemu-io -c 'write -P 3 5M 2M' -c 'write -P 4 100k 3k' ref.qcow2
qsame ref.qcow2 top.qcow2
# rebase into a loop is refused.
mkchain
expect_rc 1 wimg rebase -b top.qcow2 base.qcow2
grep -q 'loop' .err || fail "no loop error: $(cat .err)"
expect_rc 1 wimg rebase -b missing.qcow2 top.qcow2
grep -q 'missing.qcow2' .err || fail "missing backing not named: $(cat .err)"
qsame want-top.raw top.qcow2
echo PASS
