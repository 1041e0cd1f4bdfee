#!/bin/bash
# SPDX-License-Identifier: MIT
# Limits and non-files: backing chains up to the block layer's one limit (256 images) work in
# every chain walker and one more is one clear error; backing file names longer than
# qemu-img's 1023 bytes are refused before anything is written; FIFOs and character devices
# given as images, backing files or targets are refused at once instead of blocking forever.
source "$(dirname "$0")/lib.sh"

echo "== backing chains: 151, 256 and 257 images"
qemu-img create -q -f qcow2 c0.qcow2 1M
qemu-io -c 'write -P 0x44 0 4k' c0.qcow2 >/dev/null
chain_to() { # extends the chain c0 <- c1 <- ... up to cN
    local i=$(($(ls c*.qcow2 | wc -l)))
    for ((; i <= $1; i++)); do
        qemu-img create -q -f qcow2 -u -b "c$((i - 1)).qcow2" -F qcow2 "c$i.qcow2" 1M
    done
}
chain_to 150
expect_rc 0 wimg info --backing-chain c150.qcow2
[ "$(grep -c '^image: ' .out)" = 151 ] || fail "info --backing-chain listed $(grep -c '^image: ' .out) of 151 images"
expect_rc 0 wimg info --backing-chain --output=json c150.qcow2
[ "$(grep -c '"filename"' .out)" = 151 ] || fail "JSON chain has $(grep -c '"filename"' .out) of 151 images"
chain_to 255
expect_rc 0 wimg info --backing-chain c255.qcow2
[ "$(grep -c '^image: ' .out)" = 256 ] || fail "a chain of 256 images is within the limit"
expect_rc 0 wimg convert -O raw c255.qcow2 deep.raw
expect_rc 0 qemu-io -f raw -c 'read -P 0x44 0 4k' deep.raw
chain_to 256
bad 1 "longer than 256" wimg info --backing-chain c256.qcow2
bad 1 "longer than 256" wimg convert -O raw c256.qcow2 deeper.raw
bad 1 "longer than 256" wimg map c256.qcow2
expect_rc 0 wimg info c256.qcow2 # without the chain: one image

echo "== backing file names longer than 1023 bytes"
long=$(printf '%02000d' 0)
qemu-img create -q -f qcow2 r.qcow2 1M
qemu-img create -q -f qcow2 base.qcow2 1M
cp r.qcow2 r.qcow2.orig
bad 2 "2000 bytes long; the limit is 1023" wimg rebase -u -b "$long" -F qcow2 r.qcow2
bad 2 "the limit is 1023" wimg rebase -u -b "$long" r.qcow2
bad 2 "the limit is 1023" wimg rebase -b "$long" r.qcow2
cmp -s r.qcow2 r.qcow2.orig || fail "a bad rebase changed r.qcow2"
qcheck r.qcow2
bad 2 "the limit is 1023" wimg create -f qcow2 -u -b "$long" -F qcow2 x.qcow2 1M
bad 2 "the limit is 1023" wimg create -f qcow2 -o backing_file="$long" x.qcow2 1M
bad 2 "the limit is 1023" wimg convert -O qcow2 -B "$long" -F qcow2 r.qcow2 x.qcow2
[ ! -e x.qcow2 ] || fail "a bad verb left x.qcow2 behind"
bad 2 "unknown backing format" wimg create -f qcow2 -b base.qcow2 -F "$long" x.qcow2
# Exactly 1023 bytes (a name with many "./") is fine, and QEMU follows it.
name=$(printf './%.0s' $(seq 506))/base.qcow2
[ ${#name} = 1023 ] || fail "test name is ${#name} bytes"
expect_rc 0 wimg rebase -u -b "$name" -F qcow2 r.qcow2
expect_rc 0 qemu-img info --backing-chain r.qcow2
expect_rc 0 wimg info --backing-chain r.qcow2
qcheck r.qcow2

echo "== FIFOs and character devices"
mkfifo fifo
bad 1 "not a regular file" wimg info fifo
bad 1 "not a regular file" wimg info /dev/zero
bad 1 "not a regular file" wimg check fifo
bad 1 "not a regular file" wimg map fifo
bad 1 "not a regular file" wimg convert -O raw fifo out.raw
bad 1 "not a regular file" wimg create -f qcow2 fifo 1M
bad 1 "not a regular file" wimg convert -O raw base.qcow2 fifo
bad 1 "not a regular file" wimg create -f qcow2 -b fifo -F raw x.qcow2
qemu-img create -q -f qcow2 -u -b fifo -F raw onfifo.qcow2 1M
bad 1 "not a regular file" wimg info --backing-chain onfifo.qcow2
bad 1 "not a regular file" wimg convert -O raw onfifo.qcow2 out.raw
bad 1 "not a regular file" wimg rebase -b fifo -F raw r.qcow2
echo "ok"
