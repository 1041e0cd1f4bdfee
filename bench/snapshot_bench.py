#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Snapshots of a running VM and restore, wirt against QEMU, with the
default guest (512 MiB, idle at its shell prompt after writing 64 MiB to
its tmpfs, so there is memory to save) and one qcow2 data disk:

  snapshot   how long the guest stood still, and the wall time until the
             snapshot (disk + memory) was complete.  wirt: control command
             `snapshot` (its job reports both).  QEMU: HMP `savevm` through
             QMP, which keeps the guest stopped for all of it.
  restore    process start until the restored guest answers a command on
             its console.  wirt: `wirt run --restore` of a state file.
             QEMU: `-loadvm` of the snapshot at startup.

Ratios are wirt/QEMU (lower is better).

    python3 bench/snapshot_bench.py [--rounds N] [--build DIR]
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
import guestlib  # noqa: E402

FILL = "dd if=/dev/urandom of=/dev/shm/fill bs=1M count=64 2>/dev/null; sync; echo filled"


def connect(path, timeout=120):
    end = time.monotonic() + timeout
    while True:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.settimeout(600)
            return s
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


def answer(g):
    """Until the restored guest answers on its console (input typed while
    QEMU is still loading can be lost, so it is typed again)."""
    for attempt in range(10):
        try:
            g.run("echo restored", timeout=15)
            return
        except guestlib.GuestError:
            if attempt == 9:
                raise


def wirt_snapshot(wirt, d):
    disk = os.path.join(d, "w.qcow2")
    subprocess.run([wirt, "img", "create", "-f", "qcow2", disk, "1G"], check=True,
                   stdout=subprocess.DEVNULL)
    ctl = os.path.join(d, "w.sock")
    state = os.path.join(d, "w.state")
    argv = guestlib.wirt_argv(extra=["--disk", disk + ",format=qcow2", "--control", ctl])
    argv[0] = wirt
    with guestlib.Guest(argv, name="wirt") as g:
        g.wait_ready()
        g.run(FILL, timeout=600)
        s = connect(ctl)
        f = s.makefile("rw")
        f.write('{"execute": "subscribe"}\n')
        f.write(json.dumps({"execute": "snapshot",
                            "arguments": {"op": "create", "name": "s1", "state": state}}) + "\n")
        f.flush()
        t0 = time.monotonic()
        while True:
            m = json.loads(f.readline())
            if m.get("event") == "job-completed":
                break
        wall = time.monotonic() - t0
        s.close()
        res = m["data"]["result"]
        pause = float(re.search(r"paused ([\d.]+) ms", res).group(1)) / 1000
        g.poweroff()
    # Restore: process start until the guest answers.
    argv = guestlib.wirt_argv(extra=["--disk", disk + ",format=qcow2", "--restore", state])
    argv[0] = wirt
    t0 = time.monotonic()
    with guestlib.Guest(argv, name="wirt") as g:
        answer(g)
        restore = time.monotonic() - t0
        g.poweroff()
    return pause, wall, restore


def qemu_snapshot(d):
    disk = os.path.join(d, "q.qcow2")
    subprocess.run(["qemu-img", "create", "-f", "qcow2", disk, "1G"], check=True,
                   stdout=subprocess.DEVNULL)
    qmp_path = os.path.join(d, "q.qmp")
    drive = ["-drive", "file=%s,if=none,id=d0,format=qcow2" % disk,
             "-device", "virtio-blk-device,drive=d0"]
    base = guestlib.qemu_argv(bios=guestlib.guest_file("fw_dynamic.bin"), extra=drive)
    with guestlib.Guest(base + ["-qmp", "unix:%s,server=on,wait=off" % qmp_path],
                        name="qemu") as g:
        g.wait_ready()
        g.run(FILL, timeout=600)
        s = connect(qmp_path)
        f = s.makefile("rw")
        f.readline()

        def call(cmd, **args):
            req = {"execute": cmd}
            if args:
                req["arguments"] = args
            f.write(json.dumps(req) + "\n")
            f.flush()
            while True:
                msg = json.loads(f.readline())
                if "event" not in msg:
                    return msg

        call("qmp_capabilities")
        t0 = time.monotonic()
        r = call("human-monitor-command", **{"command-line": "savevm s1"})
        wall = time.monotonic() - t0
        if r.get("return"):
            raise RuntimeError("savevm: %r" % r)
        s.close()
        g.poweroff()
    t0 = time.monotonic()
    restore = None
    with guestlib.Guest(base + ["-loadvm", "s1"], name="qemu") as g:
        try:
            answer(g)
            restore = time.monotonic() - t0
        except guestlib.GuestError as e:
            # Seen on this host: after -loadvm the guest sometimes never
            # answers its console again; that round has no restore figure.
            print("  qemu: the restored guest did not answer (%s)" % str(e).split("\n")[0])
    return wall, wall, restore  # savevm keeps the guest stopped throughout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    args = ap.parse_args()
    wirt = os.path.join(REPO, args.build, "wirt")
    results = {"wirt": [], "qemu": []}
    for r in range(args.rounds):
        d = tempfile.mkdtemp(prefix="wirt-snapbench-")
        try:
            results["wirt"].append(wirt_snapshot(wirt, d))
            print("  round %d  wirt  pause %.3f s  snapshot %.3f s  restore %.3f s"
                  % ((r + 1,) + results["wirt"][-1]), flush=True)
            if shutil.which("qemu-system-riscv64"):
                results["qemu"].append(qemu_snapshot(d))
                q = results["qemu"][-1]
                print("  round %d  qemu  pause %.3f s  snapshot %.3f s  restore %s s"
                      % (r + 1, q[0], q[1], "-" if q[2] is None else "%.3f" % q[2]), flush=True)
        finally:
            shutil.rmtree(d, ignore_errors=True)
    print("\n  %-22s %10s %10s %8s" % ("median", "wirt", "qemu", "ratio"))
    for i, what in enumerate(("guest paused (s)", "snapshot complete (s)", "restore to running (s)")):
        w = statistics.median(x[i] for x in results["wirt"])
        qs = [x[i] for x in results["qemu"] if x[i] is not None]
        q = statistics.median(qs) if qs else None
        print("  %-22s %10.3f %10s %8s" % (what, w, "%.3f" % q if q else "-",
                                            "%.3fx" % (w / q) if q else "-"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
