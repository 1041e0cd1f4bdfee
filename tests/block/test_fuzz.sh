#!/bin/bash
# SPDX-License-Identifier: MIT
# Bounded fuzz run of the qcow2 driver plus a replay of every file in the
# regression corpus (fuzz/corpus-qcow2/).  Exits non-zero on any crash.
# FUZZ_TIME (seconds, default 60) bounds the fuzzing part.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
command -v clang >/dev/null || { echo "SKIP: clang not installed"; exit 77; }
make -s BUILD="$BUILD" fuzz-qcow2 || { echo "FAIL: cannot build the fuzz target"; exit 1; }
F=$BUILD/fuzz/fuzz_qcow2
CORPUS=fuzz/corpus-qcow2
# Replay the regression corpus first: each file once.
"$F" -rss_limit_mb=1024 -timeout=20 $CORPUS/* >/tmp/fuzz-replay.$$ 2>&1 || {
    tail -40 /tmp/fuzz-replay.$$; rm -f /tmp/fuzz-replay.$$; echo "FAIL: regression corpus crashes"; exit 1; }
rm -f /tmp/fuzz-replay.$$
# Fuzz into a scratch copy of the corpus; crashers land in $BUILD/fuzz/.
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cp $CORPUS/* "$W/"
"$F" -max_total_time="${FUZZ_TIME:-60}" -rss_limit_mb=1024 -timeout=20 -max_len=65536 \
    -artifact_prefix="$BUILD/fuzz/" "$W" >"$W/log" 2>&1
rc=$?
tail -3 "$W/log"
if [ $rc != 0 ]; then
    grep -E "ERROR|SUMMARY|Test unit written" "$W/log" | head
    echo "FAIL: fuzzer found a crash (see $BUILD/fuzz/crash-*; add it to $CORPUS after fixing)"
    exit 1
fi
echo "fuzz: ok"
