#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write a gzip-compressed newc cpio archive of a directory tree.

Usage: mkcpio.py SRCDIR OUT.cpio.gz [--node PATH:c|b:MAJOR:MINOR]...

Python instead of cpio(1) because the archive must contain device nodes
(the kernel opens /dev/console before /init runs) and that needs no root
here.  Every entry is owned by 0:0 with mtime 0, and entries are sorted,
so the same tree always gives the same bytes.
"""
import gzip
import os
import stat
import sys


def header(ino, mode, nlink, size, rdev, name):
    namez = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0,
              rdev[0], rdev[1], len(namez), 0]
    h = b"070701" + b"".join(b"%08X" % f for f in fields) + namez
    return h + b"\0" * (-len(h) % 4)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    src, out = argv[1], argv[2]
    nodes = []
    for arg in argv[3:]:
        if not arg.startswith("--node="):
            sys.stderr.write("mkcpio: unknown argument %s\n" % arg)
            return 2
        path, kind, major, minor = arg[len("--node="):].split(":")
        fmt = stat.S_IFCHR if kind == "c" else stat.S_IFBLK
        nodes.append((path.lstrip("/"), fmt | 0o600, (int(major), int(minor))))

    entries = []
    for root, dirs, files in os.walk(src):
        dirs.sort()
        rel = os.path.relpath(root, src)
        for name in sorted(dirs + files):
            entries.append(os.path.normpath(os.path.join(rel, name)))
    entries.sort()

    ino = 1
    with open(out + ".tmp", "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        for rel in entries:
            full = os.path.join(src, rel)
            st = os.lstat(full)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                data = os.readlink(full).encode()
                gz.write(header(ino, stat.S_IFLNK | 0o777, 1, len(data), (0, 0), rel))
            elif stat.S_ISDIR(st.st_mode):
                data = b""
                gz.write(header(ino, stat.S_IFDIR | mode, 2, 0, (0, 0), rel))
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    data = f.read()
                gz.write(header(ino, stat.S_IFREG | mode, 1, len(data), (0, 0), rel))
            else:
                sys.stderr.write("mkcpio: skipping special file %s\n" % rel)
                continue
            gz.write(data + b"\0" * (-len(data) % 4))
            ino += 1
        for path, mode, rdev in nodes:
            gz.write(header(ino, mode, 1, 0, rdev, path))
            ino += 1
        gz.write(header(0, 0, 1, 0, (0, 0), "TRAILER!!!"))
    os.replace(out + ".tmp", out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
