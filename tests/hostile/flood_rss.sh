#!/bin/bash
# SPDX-License-Identifier: MIT
# Host RSS of a 512 MiB guest under the avail->idx flood of issue 9: builds
# the hostile program with a 40 s flood, runs it under WIRT (default
# build/wirt) and prints the VMM's RSS once a second while virtio-blk (the
# first device) is flooded.  Stops the VM beyond CAP_MB (default 6000) so
# that an unbounded wirt does not take the host down.
#
# Usage: tests/hostile/flood_rss.sh [elf|linux]     (default elf)
set -euo pipefail

mode=${1:-elf}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
wirt=${WIRT:-$repo/build/wirt}
cap=${CAP_MB:-6000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf 'HOSTILE0' > "$tmp/disk.raw"
truncate -s 64M "$tmp/disk.raw"
defs="-DFLOOD_MS=40000 -DRESET_LOOPS=10"
case $mode in
elf)
    riscv64-unknown-elf-gcc -march=rv64gc -mabi=lp64d -mcmodel=medany -O2 -ffreestanding \
        -nostdlib -nostartfiles -static -T "$repo/tests/isa/isa.ld" -Wl,--no-relax \
        -Wl,--no-warn-rwx-segments $defs -o "$tmp/hostile.elf" \
        "$here/start.S" "$here/hostile.c"
    set -- "$wirt" run --elf "$tmp/hostile.elf" ;;
linux)
    riscv64-linux-gnu-gcc -static -O2 -D_GNU_SOURCE -DHOSTILE_LINUX $defs \
        -o "$tmp/hostile-linux" "$here/hostile.c"
    python3 - "$tmp" <<'EOF'
import sys
sys.path.insert(0, "tests/hostile")
import test_hostile as t
t.LINUX_PROG = sys.argv[1] + "/hostile-linux"
t.hostile_initrd(sys.argv[1] + "/initrd.gz")
EOF
    set -- "$wirt" run --initrd "$tmp/initrd.gz" --append "console=ttyS0 rdinit=/hostile-init" ;;
*)
    echo "usage: $0 [elf|linux]" >&2; exit 2 ;;
esac

"$@" --memory 512M --disk "$tmp/disk.raw,format=raw" >"$tmp/out" 2>"$tmp/log" &
pid=$!
for _ in $(seq 600); do
    grep -qa "hostile: start" "$tmp/out" && break
    sleep 0.1
done
rss() { awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$pid/status" 2>/dev/null || true; }
line="start:$(rss)M"
for i in $(seq 40); do
    sleep 1
    r=$(rss)
    [ -n "$r" ] || break
    line="$line ${i}s:${r}M"
    if [ "$r" -gt "$cap" ]; then
        line="$line (stopped: over ${cap}M)"
        break
    fi
done
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
echo "RSS: $line"
echo "vmm log lines: $(wc -l <"$tmp/log")"
grep -a "hostile: dev [0-9]* 2 flood" "$tmp/out" || echo "(blk flood still running when stopped)"
