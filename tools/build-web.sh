#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the web UI into BUILD/web: our files from web/, plus xterm.js and
# noVNC at the versions pinned in web/package-lock.json (npm ci from the
# registry into BUILD/web-npm), so the browser never fetches code from
# anywhere but `wirt serve`.  playwright-core (for the browser test) comes
# along as a dev dependency.
set -e
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
npmdir="$BUILD/web-npm"
out="$BUILD/web"
mkdir -p "$npmdir"
if ! cmp -s "$top/web/package-lock.json" "$npmdir/package-lock.json" || [ ! -d "$npmdir/node_modules" ]; then
    cp "$top/web/package.json" "$top/web/package-lock.json" "$npmdir/"
    (cd "$npmdir" && npm ci --no-audit --no-fund --loglevel=error) || {
        echo "build-web: npm ci failed (is the npm registry reachable?)" >&2
        exit 1
    }
fi
nm="$npmdir/node_modules"
rm -rf "$out.new"
mkdir -p "$out.new/vendor/xterm" "$out.new/vendor/novnc"
cp "$top/web/index.html" "$top/web/app.js" "$top/web/app.css" "$out.new/"
cp "$nm/@xterm/xterm/lib/xterm.js" "$nm/@xterm/xterm/css/xterm.css" "$nm/@xterm/xterm/LICENSE" \
    "$out.new/vendor/xterm/"
cp "$nm/@xterm/addon-fit/lib/addon-fit.js" "$out.new/vendor/xterm/"
cp -r "$nm/@novnc/novnc/core" "$nm/@novnc/novnc/vendor" "$nm/@novnc/novnc/LICENSE.txt" \
    "$out.new/vendor/novnc/"
chmod -R go-w "$out.new"
rm -rf "$out"
mv "$out.new" "$out"
