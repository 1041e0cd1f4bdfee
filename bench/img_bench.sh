#!/bin/bash
# SPDX-License-Identifier: MIT
# Storage benchmark: wirt's block layer (bench/blockbench) against QEMU's
# (qemu-img bench) on the same files with the same request pattern, for a
# raw and a qcow2 image: sequential 64 KiB and scattered 4 KiB reads and
# writes, queue depth 1.
#
# Conditions, identical for both: cache=writeback (the host page cache), an
# image that fits in RAM and is read once beforehand so every run starts
# warm, fully allocated images (writes overwrite; no cluster allocation), no
# flushes inside the timed loop, `sync` before every run.  qemu-img bench runs with -t writeback
# -i threads -d 1.
#
#   bench/img_bench.sh [IMAGE_SIZE (default 1G)] [WORK_DIR (default /tmp)]
#   make bench-img BENCH_IMG_ARGS="512M"
#
# Prints MB/s and IOPS for each case and the ratios qcow2/raw (per engine)
# and wirt/qemu (per format).  Higher is better for every number.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZE=${1:-1G}
if [ -n "${BLOCKBENCH:-}" ]; then
    BENCH=$BLOCKBENCH
else
    BENCH=$ROOT/build/bench/blockbench
    make -C "$ROOT" -s build/bench/blockbench >/dev/null
fi
command -v qemu-img >/dev/null || { echo "img_bench: qemu-img not installed" >&2; exit 1; }
D=$(mktemp -d "${2:-/tmp}/img_bench.XXXXXX")
trap 'rm -rf "$D"' EXIT

bytes=$(numfmt --from=iec "${SIZE^^}")
SEQ_COUNT=$((bytes / 65536))        # one pass over the image
RND_COUNT=${RND_COUNT:-100000}
RND_STEP=$((4096 * 7919))           # a prime stride: visits 4 KiB blocks scattered over the image

# Fully allocated images with non-zero data, the qcow2 one with 64 KiB clusters.
qemu-img create -q -f raw "$D/img.raw" "$SIZE"
qemu-io -f raw -c "write -P 0x3c 0 $SIZE" "$D/img.raw" >/dev/null
qemu-img convert -f raw -O qcow2 -S 0 "$D/img.raw" "$D/img.qcow2"

# case name -> "count size step write?"
declare -A PAT=(
    [seq-read-64k]="$SEQ_COUNT 65536 65536 0"
    [seq-write-64k]="$SEQ_COUNT 65536 65536 1"
    [rand-read-4k]="$RND_COUNT 4096 $RND_STEP 0"
    [rand-write-4k]="$RND_COUNT 4096 $RND_STEP 1"
)
ORDER=(seq-read-64k seq-write-64k rand-read-4k rand-write-4k)

secs() { sed -n 's/^Run completed in \([0-9.]*\) seconds\.$/\1/p'; }

run() { # ENGINE FMT CASE -> seconds (best of 3)
    local engine=$1 fmt=$2 c=$3 best=""
    read -r count size step w <<<"${PAT[$c]}"
    local f="$D/img.$fmt" wflag=()
    [ "$w" = 1 ] && wflag=(-w)
    cat "$f" >/dev/null # warm the page cache
    for _ in 1 2 3; do
        local s
        # Start clean: pages still being written back from the previous run would stall
        # writes (stable pages) and penalise whichever case comes next.
        sync
        if [ "$engine" = wirt ]; then
            s=$("$BENCH" -f "$fmt" "${wflag[@]}" -c "$count" -s "$size" -S "$step" "$f" | secs)
        else
            s=$(qemu-img bench -f "$fmt" -t writeback -i threads -d 1 "${wflag[@]}" \
                -c "$count" -s "$size" -S "$step" "$f" | secs)
        fi
        if [ -z "$best" ] || awk "BEGIN { exit !($s < $best) }"; then best=$s; fi
    done
    echo "$best"
}

declare -A T
for c in "${ORDER[@]}"; do
    for fmt in raw qcow2; do
        for engine in wirt qemu; do
            T[$engine,$fmt,$c]=$(run $engine $fmt "$c")
        done
    done
done

echo "img_bench: image $SIZE in $D (page cache, writeback, queue depth 1, best of 3 runs)"
echo "qemu: $(qemu-img --version | head -1)"
printf '%-14s %-6s %-5s %10s %10s\n' case format tool MB/s IOPS
for c in "${ORDER[@]}"; do
    read -r count size _ _ <<<"${PAT[$c]}"
    for fmt in raw qcow2; do
        for engine in wirt qemu; do
            s=${T[$engine,$fmt,$c]}
            awk -v c="$c" -v f="$fmt" -v e="$engine" -v n="$count" -v b="$size" -v s="$s" \
                'BEGIN { printf "%-14s %-6s %-5s %10.1f %10.0f\n", c, f, e, n * b / s / 1e6, n / s }'
        done
    done
done
echo
printf '%-14s %14s %14s %14s %14s\n' case "qcow2/raw wirt" "qcow2/raw qemu" "wirt/qemu raw" "wirt/qemu qcow2"
for c in "${ORDER[@]}"; do
    awk -v c="$c" -v wr="${T[wirt,raw,$c]}" -v wq="${T[wirt,qcow2,$c]}" \
        -v qr="${T[qemu,raw,$c]}" -v qq="${T[qemu,qcow2,$c]}" \
        'BEGIN { printf "%-14s %14.2f %14.2f %14.2f %14.2f\n", c, wr / wq, qr / qq, qr / wr, qq / wq }'
done
echo "(ratios of throughput: >1 means the first named is faster)"
