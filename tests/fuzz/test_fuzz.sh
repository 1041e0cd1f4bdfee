#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs every fuzz target (fuzz/fuzz_NAME.c, built by fuzz/fuzz.mk): first a
# replay of its corpus fuzz/corpus-NAME/ (the seeds and every crash
# reproducer kept there), then a bounded fuzzing run from a scratch copy of
# it.  Prints the executions per target; exits non-zero on any crash.
#   FUZZ_TIME     seconds of fuzzing per target (default 15; `make fuzz`
#                 passes FUZZ_SECONDS)
#   FUZZ_TARGETS  names to run (default: all), e.g. "vmdk vhd"
#   FUZZ_BUILD    where fuzz/fuzz.mk builds (default build-fuzz)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
command -v clang >/dev/null || { echo "SKIP: clang not installed"; exit 77; }
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
TIME=${FUZZ_TIME:-15}
TARGETS=${FUZZ_TARGETS:-$(ls fuzz/fuzz_*.c | sed 's|fuzz/fuzz_\(.*\)\.c|\1|')}

# The largest input per target: images need room, a request program less.
max_len() {
    case $1 in
    qcow2 | vmdk | vhd) echo 65536 ;;
    *) echo 8192 ;;
    esac
}

make -s FUZZ_BUILD="$FUZZ_BUILD" $(printf "fuzz-%s " $TARGETS) >/dev/null ||
    { echo "FAIL: cannot build the fuzz targets"; exit 1; }

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
failed=0
for t in $TARGETS; do
    F=$FUZZ_BUILD/fuzz/fuzz_$t
    CORPUS=fuzz/corpus-$t
    # Each input gets at most 20 s and 2 GiB (a hostile input must not
    # cost more); one allocation over 1 GiB is a finding too.
    LIMITS="-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=20"
    if ! "$F" $LIMITS -runs=0 -artifact_prefix="$FUZZ_BUILD/fuzz/$t-" "$CORPUS" \
        >"$W/replay-$t" 2>&1; then
        tail -30 "$W/replay-$t"
        echo "FAIL: $t: the corpus $CORPUS crashes"
        failed=1
        continue
    fi
    mkdir "$W/$t"
    cp "$CORPUS"/* "$W/$t/"
    "$F" $LIMITS -max_total_time="$TIME" -max_len="$(max_len "$t")" -print_final_stats=1 \
        -artifact_prefix="$FUZZ_BUILD/fuzz/$t-" "$W/$t" >"$W/log-$t" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$W/log-$t")
    cov=$(grep -o 'cov: [0-9]*' "$W/log-$t" | tail -1)
    echo "fuzz_$t: ${execs:-?} executions in ${TIME}s, $cov, exit $rc"
    if [ $rc != 0 ]; then
        grep -E "ERROR|SUMMARY|Test unit written|fuzz_[a-z]*:" "$W/log-$t" | head -20
        echo "FAIL: fuzz_$t found a crash (the input is in $FUZZ_BUILD/fuzz/$t-*;" \
            "add it to $CORPUS once fixed)"
        failed=1
    fi
done
[ $failed = 0 ] && echo "fuzz: ok"
exit $failed
