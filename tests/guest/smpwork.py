# SPDX-License-Identifier: MIT
"""bench/smp/smp_work.c built as a static riscv64 binary and appended to a
copy of the default initramfs as /bin/smp_work (the kernel unpacks
concatenated archives in order).  Used by tests/guest/test_smp.py and
bench/smp_bench.py."""
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guestlib import guest_file  # noqa: E402

CC = os.environ.get("BENCH_CC", "riscv64-linux-gnu-gcc")


def have_cc():
    return shutil.which(CC) is not None


def static_initrd(build_dir, src, name, cflags=()):
    """Path of a copy of the default initramfs with src built as a static
    riscv64 /bin/<name> (rebuilt when stale)."""
    os.makedirs(build_dir, exist_ok=True)
    exe = os.path.join(build_dir, name)
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        subprocess.run([CC, "-std=c17", "-static", "-O2", "-Wall", "-Wextra", *cflags,
                        "-o", exe, src], check=True)
    out = os.path.join(build_dir, "initrd-%s.cpio.gz" % name)
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(exe):
        return out
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "bin"))
        shutil.copy(exe, os.path.join(root, "bin", name))
        os.chmod(os.path.join(root, "bin", name), 0o755)
        extra = os.path.join(build_dir, "%s.cpio.gz" % name)
        subprocess.run([sys.executable, os.path.join(REPO, "tools", "guest", "mkcpio.py"),
                        root, extra], check=True)
    with open(out + ".tmp", "wb") as f:
        for part in (guest_file("initrd.cpio.gz"), extra):
            with open(part, "rb") as p:
                shutil.copyfileobj(p, f)
    os.replace(out + ".tmp", out)
    return out


def smp_initrd(build_dir):
    """Path of the initramfs with /bin/smp_work (rebuilt when stale)."""
    src = os.path.join(REPO, "bench", "smp", "smp_work.c")
    return static_initrd(build_dir, src, "smp_work", ["-pthread"])
