#!/bin/bash
# SPDX-License-Identifier: MIT
# Bad input to `wirt img`: one line "wirt img: ..." naming the flag or file and
# the problem, exit 2 for usage errors and 1 for operational failures (check:
# 1 for both, since 2 means corruption; compare: 2 for both, since 1 means
# "different").
source "$(dirname "$0")/lib.sh"

qemu-img create -q -f qcow2 good.qcow2 16M
qemu-img create -q -f raw good.raw 1M
head -c 4096 /dev/urandom >junk.bin
: >empty.bin

bad 2 "unknown verb 'frobnicate'" wimg frobnicate
bad 2 "missing verb" wimg
bad 2 "unknown option '-Z'" wimg create -Z x.qcow2 1M
bad 2 "unknown option '--bogus'" wimg info --bogus good.qcow2
bad 2 "'-f' needs an argument" wimg info good.qcow2 -f
bad 2 "invalid size '12Q'" wimg create -f qcow2 x.qcow2 12Q
bad 2 "invalid size '-5'" wimg create -f qcow2 x.qcow2 -- -5
bad 2 "missing size" wimg create -f qcow2 x.qcow2
bad 2 "unknown format 'qcow3'" wimg create -f qcow3 x.img 1M
bad 2 "unknown format 'nope'" wimg info -f nope good.qcow2
bad 2 "cluster_size '3k'" wimg create -f qcow2 -o cluster_size=3k x.qcow2 1M
bad 2 "cluster_size '4M'" wimg create -f qcow2 -o cluster_size=4M x.qcow2 1M
bad 2 "refcount_bits '3'" wimg create -f qcow2 -o refcount_bits=3 x.qcow2 1M
bad 2 "compression_type 'lz4'" wimg create -f qcow2 -o compression_type=lz4 x.qcow2 1M
bad 2 "preallocation 'some'" wimg create -f qcow2 -o preallocation=some x.qcow2 1M
bad 2 "unsupported option 'encryption'" wimg create -f qcow2 -o encryption=on x.qcow2 1M
bad 2 "compat '0.10'" wimg create -f qcow2 -o compat=0.10 x.qcow2 1M
bad 2 "'raw' does not support backing" wimg create -f raw -b good.qcow2 x.raw 1M
bad 2 "read-only" wimg create -f vmdk x.vmdk 1M
[ ! -e x.qcow2 ] && [ ! -e x.img ] && [ ! -e x.raw ] || fail "a failed create left a file behind"

bad 1 "missing.qcow2" wimg info missing.qcow2
bad 1 "nodir/x.qcow2" wimg create -q -f qcow2 nodir/x.qcow2 1M
bad 1 "backing file 'nothere.qcow2'" wimg create -f qcow2 -b nothere.qcow2 -F qcow2 x.qcow2
bad 1 "loop" wimg create -q -f qcow2 -b good.qcow2 -F qcow2 good.qcow2
# A loop made behind wirt's back: a -> b -> a.
qemu-img create -q -f qcow2 a.qcow2 1M
qemu-img create -q -f qcow2 -b a.qcow2 -F qcow2 b.qcow2
qemu-img rebase -u -b b.qcow2 -F qcow2 a.qcow2
bad 1 "loop" wimg convert -O raw b.qcow2 out.raw
bad 1 "loop" wimg info --backing-chain a.qcow2
# Missing backing file of an existing image.
qemu-img create -q -f qcow2 orphan-base.qcow2 1M
qemu-img create -q -f qcow2 -b orphan-base.qcow2 -F qcow2 orphan.qcow2
rm orphan-base.qcow2
bad 1 "orphan-base.qcow2" wimg convert -O raw orphan.qcow2 out.raw
# Files that are not what -f says.
bad 1 "junk.bin" wimg info -f qcow2 junk.bin
bad 1 "empty.bin" wimg info -f qcow2 empty.bin
bad 1 "junk.bin" wimg info -f vmdk junk.bin
bad 1 "junk.bin" wimg info -f vpc junk.bin
bad 1 "directory" wimg info .

bad 1 "missing file name" wimg check
bad 1 "-r takes" wimg check -r some good.qcow2
bad 1 "missing.qcow2" wimg check missing.qcow2
bad 2 "exactly two" wimg compare good.qcow2
bad 2 "missing.qcow2" wimg compare good.qcow2 missing.qcow2
bad 2 "need at least one source" wimg convert good.qcow2
bad 2 "-c (compression) needs -O qcow2" wimg convert -c -O raw good.qcow2 out.raw
bad 2 "output format 'vpc'" wimg convert -O vpc good.qcow2 out.vhd
bad 2 "need one of" wimg snapshot good.qcow2
bad 2 "only one of" wimg snapshot -c a -d b good.qcow2
bad 2 "-b NEW_BACKING is required" wimg rebase good.qcow2
bad 1 "has no backing file" wimg commit good.qcow2
bad 2 "--size SIZE or one FILE" wimg measure -O qcow2
bad 2 "--output must be" wimg info --output=xml good.qcow2

# Help works and exits 0.
expect_rc 0 wimg --help
grep -q convert .out || fail "help lists no verbs"
expect_rc 0 wimg convert --help
echo PASS
