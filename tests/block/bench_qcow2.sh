#!/bin/bash
# SPDX-License-Identifier: MIT
# Quick throughput comparison: wirt raw vs wirt qcow2 (blktool bench:
# 1 MiB sequential write+flush / read over a SIZE disk, then 50000 random
# 4 KiB writes+flush / reads), and QEMU's qcow2 on 4 KiB I/O (qemu-img
# bench, strided offsets, writeback cache, queue depth 1).  Not part of
# the test suite: numbers depend on the host.
set -eu
BUILD=${BUILD:-build}
SIZE=${SIZE:-1G}
B=$(realpath "$BUILD/tests/block/blktool")
T=$(mktemp -d -p "${TMPDIR:-/var/tmp}")
trap 'rm -rf "$T"' EXIT
for f in raw qcow2; do
    "$B" create $f "$T/b.$f" "$SIZE"
    echo "== wirt $f"
    "$B" bench "$T/b.$f"
    rm -f "$T/b.$f"
done
if command -v qemu-img >/dev/null; then
    qemu-img create -q -f qcow2 "$T/q.qcow2" "$SIZE"
    bytes=$(qemu-img info --output=json "$T/q.qcow2" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
    # fill it first so that the random phase hits allocated clusters, as blktool's does
    qemu-img bench -w -t writeback -c $((bytes / 1048576)) -s 1M -d 1 "$T/q.qcow2" | tail -1 |
        sed "s/^/qemu seq write 1M: /"
    for mode in "-w" ""; do
        out=$(qemu-img bench $mode -t writeback -c 50000 -s 4096 -S $((40963 * 4096)) -d 1 "$T/q.qcow2" | tail -1)
        secs=$(echo "$out" | grep -o '[0-9.]* seconds' | cut -d' ' -f1)
        echo "qemu qcow2 rand ${mode:+write}${mode:-read} 4k: $(echo "50000 / $secs" | bc) IOPS"
    done
fi
