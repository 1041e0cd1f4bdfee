#!/bin/bash
# SPDX-License-Identifier: MIT
# .clang-format is enforced: every C file tools/format-files.sh lists must be
# formatted already.  Fix with `make format`.
cd "$(dirname "$0")/../.."
command -v clang-format >/dev/null || { echo "clang-format not installed"; exit 77; }
files=$(tools/format-files.sh)
bad=$(for f in $files; do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || echo "$f"
done)
if [ -n "$bad" ]; then
    echo "not formatted (run make format):"
    echo "$bad"
    exit 1
fi
echo "$(echo "$files" | wc -l) files formatted"
