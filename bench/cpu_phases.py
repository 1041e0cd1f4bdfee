#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""CPU phases of bench/cpu/workload by host CPU time, for a loaded host.

bench.py times phases by the guest's clock, which on a machine shared
with other jobs measures the scheduler as much as the emulator.  This
boots every VMM once (wirt, qemu TCG, and optionally a second wirt
binary to compare builds), then runs the chosen phases round-robin
(`workload PHASE` in each guest, interleaved so load drift hits all) and
counts the CPU seconds (utime + stime, all threads) each VMM process used
for each run.  Medians per phase, ratios wirt/qemu (and wirt2/wirt).

Usage: bench/cpu_phases.py [--phases int,crc32] [--rounds 3]
                           [--vmm wirt,qemu[,wirt2]] [--build DIR]
WIRT and WIRT2 name the binaries (default BUILD/wirt; WIRT2 is needed
for wirt2).  The checksums must agree between the VMMs.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from guestlib import Guest  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    total = 0
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/stat" % (pid, t)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--phases", default="int,crc32")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--vmm", default="wirt,qemu")
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    args = ap.parse_args()
    args.data_mib, args.json, args.only = 1, None, None
    b = bench.Bench(args)
    phases, vmms = args.phases.split(","), args.vmm.split(",")
    if "wirt2" in vmms and not os.environ.get("WIRT2"):
        print("cpu_phases.py: --vmm wirt2 needs WIRT2=path/to/wirt", file=sys.stderr)
        return 2
    initrd = b.workload_initrd()
    guests, ok = {}, True
    try:
        for v in vmms:
            wirt = os.environ["WIRT2"] if v == "wirt2" else b.wirt
            g = Guest(bench.vm_argv("wirt" if v == "wirt2" else v, wirt, initrd), name=v)
            guests[v] = g.__enter__()
            g.wait_ready(timeout=900)
        res = {(v, p): [] for v in vmms for p in phases}
        for r in range(args.rounds):
            for p in phases:
                checks = set()
                for v in vmms:
                    g = guests[v]
                    c0, t0 = cpu_seconds(g.proc.pid), time.monotonic()
                    out = g.run("workload %s" % p, timeout=3600)
                    cpu = cpu_seconds(g.proc.pid) - c0
                    secs, check = bench.parse_phases(out)[p]
                    checks.add(check)
                    res[(v, p)].append(cpu)
                    print("round %d %-5s %-7s cpu %6.2f s  guest %6.2f s  wall %6.2f s  %s"
                          % (r + 1, v, p, cpu, secs, time.monotonic() - t0, check), flush=True)
                if len(checks) != 1:
                    print("  %s: the VMMs disagree: %s" % (p, sorted(checks)))
                    ok = False
        print("\n%-8s %s" % ("phase", "  ".join("%9s" % v for v in vmms)))
        for p in phases:
            med = {v: statistics.median(res[(v, p)]) for v in vmms}
            line = "%-8s %s" % (p, "  ".join("%8.2fs" % med[v] for v in vmms))
            if "qemu" in med and med["qemu"] > 0:
                line += "   wirt/qemu %.2f" % (med["wirt"] / med["qemu"])
            if "wirt2" in med and med["wirt"] > 0:
                line += "   wirt2/wirt %.2f" % (med["wirt2"] / med["wirt"])
            print(line)
    finally:
        for g in guests.values():
            try:
                g.poweroff()
            except Exception:  # noqa: BLE001 - best effort at shutdown
                g.__exit__(None, None, None)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
