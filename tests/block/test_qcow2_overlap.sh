#!/bin/bash
# SPDX-License-Identifier: MIT
# Guest data never lands on qcow2 metadata.  Images whose L2 entry, L1 entry
# or refcounts point at the refcount table, the L1 table or the header: the
# write (or allocation, or discard) through them fails, the metadata is
# byte-for-byte untouched, the image gets the "corrupt" bit so that
# read-write opens refuse it, `qemu-img check` finds nothing it did not find
# before, and `wirt img convert` from such an image fails with one line
# instead of copying metadata as if it were disk contents.  `wirt img check
# -r all` unmaps such clusters, fixes the refcounts and clears the mark.
set -u
BUILD=${BUILD:-build}
B=$(realpath "$BUILD/tests/block/blktool")
WIRT=$(realpath "$BUILD/wirt")
[ -x "$B" ] && [ -x "$WIRT" ] || { echo "missing $B or $WIRT (make)"; exit 1; }
command -v qemu-img >/dev/null || { echo "SKIP: qemu-img not installed"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The base image: 4 MiB, 64 KiB clusters, data in guest clusters 0 and 2.
"$B" create qcow2 base.qcow2 4M >/dev/null || { echo "FAIL: create"; exit 1; }
"$B" write base.qcow2 0 65536 0x11 >/dev/null || fail "write base"
"$B" write base.qcow2 131072 65536 0x22 >/dev/null || fail "write base 2"

# craft.py NAME EDIT: copies base.qcow2 to NAME.qcow2 and applies one edit.
cat >craft.py <<'PY'
import shutil, struct, sys
name, edit = sys.argv[1], sys.argv[2]
p = name + '.qcow2'
shutil.copy('base.qcow2', p)
b = bytearray(open(p, 'rb').read())
be64 = lambda o: struct.unpack_from('>Q', b, o)[0]
l1, rt = be64(40), be64(48)
l2 = be64(l1) & 0x00fffffffffffe00
rb = be64(rt) & ~0x1ff
COPIED = 1 << 63
if edit == 'l2-to-reftable':      # guest cluster 0 "is" the refcount table
    struct.pack_into('>Q', b, l2, rt | COPIED)
elif edit == 'l2-to-l1':          # guest cluster 0 "is" the L1 table
    struct.pack_into('>Q', b, l2, l1 | COPIED)
elif edit == 'l2-to-refblock':    # a whole-cluster write would replace the refcount block
    struct.pack_into('>Q', b, l2, rb | COPIED)
elif edit == 'l1-to-reftable':    # the refcount table is used as the L2 table
    struct.pack_into('>Q', b, l1, rt | COPIED)
elif edit == 'reftable-free':     # the refcount table's own refcount is 0: allocation must not pick it
    struct.pack_into('>H', b, rb + 2 * (rt >> 16), 0)
else:
    sys.exit('unknown edit ' + edit)
open(p, 'wb').write(b)
# What must survive: header, L1, refcount table and refcount block, as they are now.
open(name + '.meta', 'wb').write(b[0:0x200] + b[l1:l1 + 0x200] + b[rt:rt + 0x10000] + b[rb:rb + 0x10000])
PY
meta() { # NAME: the metadata bytes of NAME.qcow2 now, ignoring the incompatible-features field
    python3 - "$1" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1] + '.qcow2', 'rb').read())
be64 = lambda o: struct.unpack_from('>Q', b, o)[0]
l1, rt = be64(40), be64(48)
rb = be64(rt) & ~0x1ff
h = b[0:0x200]; h[72:80] = bytes(8)
o = open(sys.argv[1] + '.meta', 'rb').read()
o = bytearray(o); o[72:80] = bytes(8)
sys.exit(0 if bytes(h + b[l1:l1 + 0x200] + b[rt:rt + 0x10000] + b[rb:rb + 0x10000]) == bytes(o) else 1)
PY
}
corrupt_bit() { python3 -c "import struct,sys; sys.exit(0 if struct.unpack_from('>Q', open('$1','rb').read(), 72)[0] & 2 else 1)"; }
qcheck_out() { qemu-img check "$1" 2>&1 | grep -v -e '^Image end offset' -e 'allocated' || true; }

# One case: NAME EDIT ACTION... (the blktool command that must fail)
case_refused() {
    local name=$1 edit=$2
    shift 2
    python3 craft.py "$name" "$edit" || { fail "$name: craft"; return; }
    local before
    before=$(qcheck_out "$name.qcow2")
    local rc=0
    "$B" "$@" >"$name.out" 2>"$name.err" || rc=$?
    [ "$rc" != 0 ] || fail "$name: '$*' succeeded on an image whose metadata it would overwrite"
    meta "$name" || fail "$name: metadata changed by the refused I/O"
    corrupt_bit "$name.qcow2" || fail "$name: image not marked corrupt"
    [ "$(grep -c 'corrupt image' "$name.err")" = 1 ] || { cat "$name.err"; fail "$name: want one 'corrupt image' line"; }
    grep -q "$name.qcow2" "$name.err" || fail "$name: the error does not name the file"
    [ "$(qcheck_out "$name.qcow2")" = "$before" ] || {
        echo "before: $before"; echo "after: $(qcheck_out "$name.qcow2")"; fail "$name: qemu-img check changed"
    }
    # Later read-write opens refuse the image; read-only ones still work.
    "$B" write "$name.qcow2" 131072 512 0x33 >/dev/null 2>"$name.err2" && fail "$name: read-write open of a corrupt image"
    grep -q "marked corrupt" "$name.err2" || { cat "$name.err2"; fail "$name: open does not say the image is marked corrupt"; }
    # (Guest cluster 2 is intact unless the L1 entry itself was redirected.)
    [ "$edit" = l1-to-reftable ] || "$B" read "$name.qcow2" 131072 65536 0x22 >/dev/null 2>&1 ||
        fail "$name: read-only read of good data failed"
}

echo "== writes through an L2 entry that points at metadata"
case_refused l2rt l2-to-reftable write l2rt.qcow2 0 4096 0x55
case_refused l2l1 l2-to-l1 write l2l1.qcow2 512 512 0x55
case_refused l2rb l2-to-refblock write l2rb.qcow2 0 65536 0x55
echo "== wirt img check -r all repairs the refcounts and clears the mark"
"$WIRT" img check -r all l2rt.qcow2 >l2rt.rep 2>&1 || { cat l2rt.rep; fail "l2rt: check -r all failed"; }
corrupt_bit l2rt.qcow2 && fail "l2rt: still marked corrupt after a clean repair"
qemu-img check -q l2rt.qcow2 || fail "l2rt: qemu-img check after repair"
# The shared cluster is copied on write now: the refcount table stays what it was.
python3 -c "
import struct; b=open('l2rt.qcow2','rb').read(); rt=struct.unpack_from('>Q',b,48)[0]
open('l2rt.rt','wb').write(b[rt:rt+65536])"
"$B" write l2rt.qcow2 0 4096 0x55 >/dev/null || fail "l2rt: write after repair"
python3 -c "
import struct,sys; b=open('l2rt.qcow2','rb').read(); rt=struct.unpack_from('>Q',b,48)[0]
sys.exit(b[rt:rt+65536] != open('l2rt.rt','rb').read())" || fail "l2rt: write after repair changed the refcount table"
qemu-img check -q l2rt.qcow2 || fail "l2rt: qemu-img check after write"
echo "== a refcount table used as an L2 table"
case_refused l1rt l1-to-reftable write l1rt.qcow2 0 4096 0x55
echo "== discard of a 'data' cluster that is the refcount table"
case_refused disc l2-to-reftable discard disc.qcow2 0 65536
echo "== allocation where the refcounts call the refcount table free"
case_refused alloc reftable-free write alloc.qcow2 1048576 4096 0x55

echo "== convert from such an image fails with one line"
python3 craft.py conv l2-to-reftable
rc=0
"$WIRT" img convert -O raw conv.qcow2 conv.raw >conv.out 2>conv.err || rc=$?
[ "$rc" = 1 ] || fail "convert exited $rc, want 1"
[ "$(wc -l <conv.err)" -ge 1 ] && grep -q "conv.qcow2" conv.err || { cat conv.err; fail "convert error does not name the file"; }
meta conv || fail "convert changed the source"
corrupt_bit conv.qcow2 && fail "a read-only convert marked the source corrupt"

echo "== a sane image with snapshots and growth raises no false alarm"
"$B" create qcow2 sane.qcow2 8M cluster_size=512 >/dev/null
for i in 0 1 2 3; do
    "$B" write sane.qcow2 $((i * 1000000)) 300000 0x4$i >/dev/null || fail "sane write $i"
    "$B" snap create sane.qcow2 s$i >/dev/null || fail "sane snap $i"
done
"$B" discard sane.qcow2 0 2000000 >/dev/null || fail "sane discard"
"$B" snap delete sane.qcow2 s1 >/dev/null || fail "sane snap delete"
"$B" resize sane.qcow2 64M >/dev/null || fail "sane resize"
"$B" write sane.qcow2 0 8000000 0x66 >/dev/null || fail "sane rewrite"
"$B" snap apply sane.qcow2 s2 >/dev/null || fail "sane snap apply"
"$B" write sane.qcow2 100000 3000000 0x67 >/dev/null || fail "sane write after apply"
qemu-img check -q sane.qcow2 || fail "sane image not clean"
corrupt_bit sane.qcow2 && fail "sane image marked corrupt"

[ $fails = 0 ] && echo PASS || { echo "$fails failure(s)"; exit 1; }
