# SPDX-License-Identifier: MIT
# Shared setup for the `wirt img` interop tests (sourced, not run).  qemu-img
# and qemu-io are the independent referee: wirt writes, qemu checks, and the
# other way round.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WIRT=${WIRT:-$ROOT/build/wirt}
[ -x "$WIRT" ] || { echo "missing $WIRT (run make)" >&2; exit 1; }
# Without the referee there is nothing to compare against: skip (77).
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null ||
    { echo "qemu-img/qemu-io not installed (apt-get install qemu-utils)" >&2; exit 77; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"

wimg() { "$WIRT" img "$@"; }

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Runs a command that must succeed, showing its output on failure.
ok() {
    local out
    if ! out=$("$@" 2>&1); then
        echo "$out" >&2
        fail "command failed: $*"
    fi
}

# qemu-img check must find the image clean (exit 0).
qcheck() {
    local out rc=0
    out=$(qemu-img check "$@" 2>&1) || rc=$?
    [ "$rc" = 0 ] || { echo "$out" >&2; fail "qemu-img check $* exited $rc"; }
}

# qemu-img compare must call the two images identical.
qsame() {
    local out rc=0
    out=$(qemu-img compare "$@" 2>&1) || rc=$?
    [ "$rc" = 0 ] || { echo "$out" >&2; fail "qemu-img compare $* exited $rc"; }
}

# Expects exit status $1 from the rest of the command line.
expect_rc() {
    local want=$1 rc=0
    shift
    "$@" >"$W/.out" 2>"$W/.err" || rc=$?
    [ "$rc" = "$want" ] || { cat "$W/.out" "$W/.err" >&2; fail "$* exited $rc, want $want"; }
}

# RC PATTERN COMMAND...: exit status RC and exactly one stderr line "wirt img: ...PATTERN...".
# `wimg` may start the command; a command still running after 60 s fails (timeout: 124).
bad() {
    local want=$1 pat=$2
    shift 2
    local cmd=("$@")
    [ "$1" = wimg ] && cmd=("$WIRT" img "${@:2}")
    expect_rc "$want" timeout 60 "${cmd[@]}"
    [ "$(wc -l <"$W/.err")" = 1 ] || { cat "$W/.err" >&2; fail "$*: want one error line"; }
    grep -q "^wirt img: .*$pat" "$W/.err" || { cat "$W/.err" >&2; fail "$*: error does not match '$pat'"; }
}

# A raw image with recognisable data in a few places (and holes between).
make_pattern_raw() { # FILE SIZE
    qemu-img create -q -f raw "$1" "$2"
    qemu-io -f raw -c 'write -P 0x5a 1M 64k' -c 'write -P 0xa5 3M 4k' \
        -c 'write -P 0x11 4190208 8k' -c 'write -P 0x77 8M 1M' "$1" >/dev/null
}
