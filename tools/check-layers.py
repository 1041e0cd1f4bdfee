#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fails when an #include in src/ points up the floor order (run by make test
through tests/layers/test_layers.sh).

The floors, bottom first (docs/architecture.md draws the same picture).
A folder may include its own floor and any floor below it; folders on one
floor may not include each other unless listed together in SIBLINGS.
Prints one line per offending include and exits 1; prints a summary and
exits 0 when every arrow points down.
"""
import os
import re
import sys

FLOORS = [
    ["util"],
    ["state", "host"],
    ["hw"],
    ["mem", "block", "net"],
    ["cpu", "dev"],
    ["virtio"],
    ["machine"],
    ["vmm", "img"],
    ["netd"],
    ["vm"],
    ["cli", "serve"],
]
SIBLINGS = set()

# Upward arrows that exist today and are to be removed (issue 10, item 2):
# (file, folder it includes).  They are reported but do not fail the check;
# one that no longer occurs must be deleted here, so the list only shrinks.
KNOWN = set()

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_0-9]+)/[^"]+"')


def main():
    level = {}
    for i, floor in enumerate(FLOORS):
        for folder in floor:
            level[folder] = i
    bad, known, checked = [], set(), 0
    src = os.path.join(REPO, "src")
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)
            folder = rel.split(os.sep)[0] if os.sep in rel else None
            if folder is None:  # src/main.c sits above everything
                continue
            if folder not in level:
                bad.append("%s: folder '%s' has no floor in tools/check-layers.py" % (rel, folder))
                continue
            with open(path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    checked += 1
                    target = m.group(1)
                    if target == folder:
                        continue
                    if target not in level:
                        bad.append("src/%s:%d: includes unknown folder '%s'" % (rel, lineno, target))
                    elif level[target] > level[folder] and (rel, target) in KNOWN:
                        known.add((rel, target))
                    elif level[target] > level[folder]:
                        bad.append("src/%s:%d: %s (floor %d) includes %s (floor %d): points up"
                                   % (rel, lineno, folder, level[folder], target, level[target]))
                    elif level[target] == level[folder] and (folder, target) not in SIBLINGS:
                        bad.append("src/%s:%d: %s includes its sibling %s on floor %d"
                                   % (rel, lineno, folder, target, level[folder]))
    for rel, target in sorted(KNOWN - known):
        bad.append("src/%s no longer includes %s/: delete it from KNOWN in tools/check-layers.py"
                   % (rel, target))
    for line in bad:
        print(line)
    if bad:
        print("check-layers: %d includes point up or sideways" % len(bad))
        return 1
    print("check-layers: %d includes; none new points up (%d known upward arrows left)"
          % (checked, len(known)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
