#!/bin/bash
# SPDX-License-Identifier: MIT
# Crash consistency: a child writes to a qcow2 image with flushes and is
# killed with SIGKILL at random moments; after each kill the image must
# have no corruption (leaks are allowed: `qemu-img check` exit 0 or 3)
# and every flushed write must read back intact.  Bounded: ROUNDS rounds
# in total (default 50, split over three geometries), well under 60 s.
set -u
BUILD=${BUILD:-build}
B=$(realpath "$BUILD/tests/block/blktool")
W=$(realpath "$BUILD/tests/block/crash_writer")
ROUNDS=${ROUNDS:-50}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fails=0
start=$SECONDS
for cfg in "cluster_size=4096 refcount_bits=16" "cluster_size=512 refcount_bits=2" \
           "cluster_size=65536 refcount_bits=64"; do
    rm -f img.qcow2 log
    "$B" create qcow2 img.qcow2 8M $cfg || { echo "FAIL create $cfg"; exit 1; }
    for i in $(seq 1 $(((ROUNDS + 2) / 3))); do
        "$W" write img.qcow2 log $((RANDOM * 7 + i)) 2>/dev/null &
        pid=$!
        sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
        kill -9 $pid 2>/dev/null
        wait $pid 2>/dev/null
        if command -v qemu-img >/dev/null; then
            qemu-img check -q img.qcow2 >/dev/null 2>&1
            rc=$?
            if [ $rc != 0 ] && [ $rc != 3 ]; then
                echo "FAIL [$cfg] round $i: qemu-img check exit $rc"
                qemu-img check img.qcow2 2>&1 | head -5
                fails=$((fails + 1))
                break
            fi
        fi
        "$B" check img.qcow2 >/dev/null 2>&1
        rc=$?
        if [ $rc != 0 ] && [ $rc != 2 ]; then
            echo "FAIL [$cfg] round $i: wirt check exit $rc"
            fails=$((fails + 1))
            break
        fi
        if ! "$W" verify img.qcow2 log >verify.out 2>&1; then
            echo "FAIL [$cfg] round $i: $(cat verify.out)"
            fails=$((fails + 1))
            break
        fi
    done
    # Leaks a crash left behind are reclaimed by repair.
    "$B" check img.qcow2 leaks >/dev/null 2>&1
    "$B" check img.qcow2 >/dev/null || { echo "FAIL [$cfg]: leaks remain after repair"; fails=$((fails + 1)); }
    echo "[$cfg] $(cat verify.out) after $i rounds"
done
echo "crash test: $fails failures in $((SECONDS - start)) s"
[ $fails = 0 ]
