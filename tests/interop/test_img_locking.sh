#!/bin/bash
# SPDX-License-Identifier: MIT
# Image locking between wirt and QEMU, both ways.  Whoever uses an image (a VM's disk, its
# backing files, a readonly=on disk, a convert source) keeps writers and resizers out of it;
# a writer is alone with readers that opted out of locking (info, -U).  blktool's `hold`
# stands in for a running VM (it holds the block layer open the way virtio-blk does).
source "$(dirname "$0")/lib.sh"

case ${BUILD:-build} in
/*) B=$BUILD/tests/block/blktool ;;
*) B=$ROOT/${BUILD:-build}/tests/block/blktool ;;
esac
[ -x "$B" ] || { echo "missing $B (make block-helpers)" >&2; exit 1; }

HPID=
QPID=
cleanup() {
    [ -n "$HPID" ] && kill "$HPID" 2>/dev/null
    [ -n "$QPID" ] && kill "$QPID" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

# Waits up to 10 s for a command to succeed.
wait_until() {
    for _ in $(seq 200); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

# wirt holds FILE (rw|ro) like a VM's disk until release.
hold() {
    rm -f ready
    "$B" hold "$1" "$2" ready 2>hold.err &
    HPID=$!
    wait_until test -e ready || { cat hold.err >&2; fail "blktool could not hold $1 ($2)"; }
}
release() {
    kill "$HPID" 2>/dev/null
    wait "$HPID" 2>/dev/null || true
    HPID=
}

# QEMU holds an image (qemu-io OPTIONS... FILE) until qrelease.
qhold() {
    local file=${*: -1}
    qemu-io -c 'sleep 60000' "$@" >/dev/null 2>&1 &
    QPID=$!
    wait_until grep -q "OFDLCK.*:$(stat -c %i "$file") " /proc/locks ||
        fail "qemu-io did not lock $file"
}
qrelease() {
    kill "$QPID" 2>/dev/null
    wait "$QPID" 2>/dev/null || true
    QPID=
}

# Expects RC and an error mentioning PATTERN.
refused() {
    local want=$1 pat=$2
    shift 2
    expect_rc "$want" "$@"
    grep -q "$pat" .err || { cat .err >&2; fail "$*: error does not mention '$pat'"; }
}

qemu-img create -q -f qcow2 base.qcow2 4M
qemu-io -c 'write -P 0x11 0 64k' base.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 ov.qcow2
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 ov2.qcow2
qemu-io -c 'write -P 0x22 0 4k' ov2.qcow2 >/dev/null
cp base.qcow2 base.orig

echo "== a VM writing ov.qcow2 protects its backing file base.qcow2"
hold ov.qcow2 rw
refused 1 "in use" wimg snapshot -c s1 base.qcow2
refused 1 "in use" wimg resize base.qcow2 8M
refused 1 "in use" "$B" write base.qcow2 0 512 1
refused 1 "lock" qemu-io -c 'write 0 4k' base.qcow2
refused 1 "lock" qemu-img resize -q base.qcow2 8M
refused 1 "lock" qemu-img snapshot -c s1 base.qcow2
# Committing another overlay into base.qcow2 would change the VM's disk under it.
refused 1 "in use" wimg commit ov2.qcow2
cmp -s base.qcow2 base.orig || fail "base.qcow2 changed while a VM used it"
# ... and the VM's own image.
refused 1 "in use" wimg snapshot -c s1 ov.qcow2
refused 1 "in use" wimg commit ov.qcow2
# A readonly=on disk must not see an image another VM writes.
refused 1 "in use" timeout 10 "$B" hold ov.qcow2 ro ready2
# convert locks its sources shared, as qemu-img does; -U opts out.
refused 1 "in use" wimg convert -O raw ov.qcow2 out.raw
expect_rc 0 wimg convert -U -O raw ov.qcow2 out.raw
# Readers that do not want to write stay welcome.
expect_rc 0 qemu-io -r -c 'read -P 0x11 0 64k' base.qcow2
expect_rc 0 wimg info --backing-chain ov.qcow2
expect_rc 0 wimg check -U ov.qcow2
refused 1 "in use" wimg check ov.qcow2
release

echo "== a readonly=on disk keeps writers out"
hold ov2.qcow2 ro
refused 1 "lock" qemu-io -c 'write 0 4k' ov2.qcow2
refused 1 "lock" qemu-io -c 'write 0 4k' base.qcow2
refused 1 "in use" wimg resize ov2.qcow2 8M
refused 1 "in use" wimg snapshot -c s1 ov2.qcow2
refused 1 "in use" "$B" write ov2.qcow2 0 512 1
# other readers are fine, wirt's and QEMU's
expect_rc 0 wimg convert -O qcow2 ov2.qcow2 copy.qcow2
expect_rc 0 qemu-io -r -c 'read -P 0x22 0 4k' ov2.qcow2
qsame ov2.qcow2 copy.qcow2
release

echo "== QEMU writing ov.qcow2 keeps wirt out"
qhold -f qcow2 ov.qcow2
refused 1 "in use" timeout 10 "$B" hold ov.qcow2 ro ready2
refused 1 "in use" "$B" write ov.qcow2 0 512 1
refused 1 "in use" wimg snapshot -c s2 base.qcow2
refused 1 "in use" wimg resize base.qcow2 8M
refused 1 "in use" wimg convert -O raw ov.qcow2 out2.raw
refused 1 "in use" wimg commit ov2.qcow2
expect_rc 0 wimg convert -U -O raw base.qcow2 out3.raw
qrelease

echo "== QEMU reading base.qcow2 lets a VM start on an overlay, not a writer on base"
qhold -r -f qcow2 base.qcow2
refused 1 "in use" "$B" write base.qcow2 0 512 1
hold ov.qcow2 rw
release
qrelease

echo "== released: everything works again"
expect_rc 0 wimg snapshot -c s1 base.qcow2
expect_rc 0 wimg commit ov2.qcow2
expect_rc 0 qemu-io -c 'read -P 0x22 0 4k' base.qcow2
qcheck base.qcow2
echo "ok"
