#!/bin/bash
# SPDX-License-Identifier: MIT
# Internal snapshots: create/list/apply/delete with `wirt img snapshot`, with
# qemu-img snapshot -l and qemu-io agreeing, and the other way round.
source "$(dirname "$0")/lib.sh"

names() { "$@" | awk 'NR > 2 { print $2 }' | paste -sd, -; }

ok wimg create -q -f qcow2 s.qcow2 32M
ok qemu-io -c 'write -P 0x0a 0 1M' s.qcow2
ok wimg snapshot -c one s.qcow2
ok qemu-io -c 'write -P 0x0b 512k 1M' s.qcow2
ok wimg snapshot -c two s.qcow2
ok qemu-io -c 'write -P 0x0c 0 2M' s.qcow2
qcheck s.qcow2
[ "$(names qemu-img snapshot -l s.qcow2)" = one,two ] || fail "qemu-img lists $(names qemu-img snapshot -l s.qcow2)"
[ "$(names wimg snapshot -l s.qcow2)" = one,two ] || fail "wirt lists $(names wimg snapshot -l s.qcow2)"
ok wimg snapshot -a one s.qcow2
ok qemu-io -c 'read -P 0x0a 0 1M' -c 'read -P 0 1M 1M' s.qcow2
qcheck s.qcow2
ok wimg snapshot -a two s.qcow2
ok qemu-io -c 'read -P 0x0a 0 512k' -c 'read -P 0x0b 512k 1M' s.qcow2
ok wimg snapshot -d one s.qcow2
qcheck s.qcow2
[ "$(names qemu-img snapshot -l s.qcow2)" = two ] || fail "delete: qemu-img lists $(names qemu-img snapshot -l s.qcow2)"
# Snapshots qemu-img makes, wirt applies and deletes.
qemu-img snapshot -c three s.qcow2
ok qemu-io -c 'write -P 0x0d 0 64k' s.qcow2
[ "$(names wimg snapshot -l s.qcow2)" = two,three ] || fail "wirt lists $(names wimg snapshot -l s.qcow2)"
ok wimg snapshot -a three s.qcow2
ok qemu-io -c 'read -P 0x0a 0 512k' s.qcow2
ok wimg snapshot -d two s.qcow2
ok wimg snapshot -d three s.qcow2
qcheck s.qcow2
[ -z "$(names qemu-img snapshot -l s.qcow2)" ] || fail "snapshots left: $(names qemu-img snapshot -l s.qcow2)"
ok qemu-io -c 'read -P 0x0a 0 512k' -c 'read -P 0x0b 512k 1M' s.qcow2
# Errors: unknown snapshot, raw images, no action.
expect_rc 1 wimg snapshot -a nosuch s.qcow2
grep -q "nosuch" .err || fail "error does not name the snapshot"
qemu-img create -q -f raw r.raw 1M
expect_rc 1 wimg snapshot -f raw -c x r.raw
expect_rc 2 wimg snapshot s.qcow2
echo PASS
