#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Nested virtualization (issue 16): boot time of a KVM guest inside a wirt
guest against the same inside QEMU TCG, in one run.

For each VMM, one boot of the default guest with the H extension
(`wirt run --cpu h=on`, `qemu-system-riscv64 -cpu rv64,h=true`), the same
--cpus and memory, and the nested disk (tools/fetch-nested-guest.sh)
read-only; inside, `modprobe kvm`, then 1 + --rounds boots of the nested
guest (Debian's qemu-system-riscv64 -accel kvm, the same kernel with
`quiet`, a busybox initramfs) from the run-nested command to its
NESTED-GUEST-READY marker, each followed by a command in it and poweroff.
The first boot is reported apart as "cold" (it reads QEMU, its libraries
and the kernel from the virtio disk and warms both VMMs' code caches); the
median is over the others.  VMMs are
interleaved per round so load drift hits both.  Prints the medians and the
ratio wirt/qemu (issue 16's target: at most 0.5), plus the L1 boot and the
kvm load time.  Measure on a quiet host.

The cost of H for the non-nested guest (boot and CPU workload with and
without --cpu h=on) is bench/bench.py --vmm wirt,wirt-h; `make
bench-nested` runs both.

Usage: bench/nested_bench.py [--rounds N] [--vmm wirt,qemu] [--cpus N]
                             [--memory SIZE] [--build DIR] [--json FILE]
Exits 1 if a run failed or wirt rejects --cpu h=on (QEMU's figures are
still printed).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
import guestlib  # noqa: E402
import nestedlib  # noqa: E402
from guestlib import Guest, GuestError  # noqa: E402


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x):
    return "-" if x is None else "%.2f" % x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--vmm", default="wirt,qemu")
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--memory", default="1G")
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    build = os.path.join(REPO, args.build)
    wirt = os.environ.get("WIRT") or os.path.join(build, "wirt")
    if args.json is None:
        args.json = os.path.join(build, "bench", "nested.json")
    errors = []

    vmms = [v for v in args.vmm.split(",") if v]
    if not guestlib.have_guest():
        subprocess.run([os.path.join(REPO, "tools", "fetch-guest.sh")], check=True)
    ok, why = nestedlib.fetch_nested()
    if not ok:
        print("no nested disk: tools/fetch-nested-guest.sh: %s" % why)
        return 1
    if "wirt" in vmms:
        ok, why = (False, "%s is not built (make)" % wirt) if not os.access(wirt, os.X_OK) \
            else nestedlib.wirt_h_supported(wirt)
        if not ok:
            print("wirt: %s: QEMU only" % why)
            errors.append("wirt: " + why)
            vmms.remove("wirt")
    if "qemu" in vmms and not shutil.which("qemu-system-riscv64"):
        print("qemu: qemu-system-riscv64 is not installed (tools/setup-host.sh)")
        errors.append("qemu: not installed")
        vmms.remove("qemu")

    print("== nested: default guest with H (%d cpu(s), %s) -> modprobe kvm -> "
          "cold + %d nested boots (run-nested -> %s)"
          % (args.cpus, args.memory, args.rounds, nestedlib.NESTED_MARKER), flush=True)
    res = {v: {"l1_boot": None, "kvm_load": None, "cold": None, "nested": []} for v in vmms}
    guests = {}
    try:
        for vmm in vmms:
            g = Guest(nestedlib.l1_argv(vmm, h=True, wirt=wirt, memory=args.memory,
                                        cpus=args.cpus), name="nested-" + vmm)
            guests[vmm] = g
            try:
                res[vmm]["l1_boot"] = g.wait_ready(timeout=1800)
                t0 = time.monotonic()
                nestedlib.load_kvm(g)
                res[vmm]["kvm_load"] = time.monotonic() - t0
                print("  %-5s default guest ready %.2f s, mount+modprobe kvm %.2f s"
                      % (vmm, res[vmm]["l1_boot"], res[vmm]["kvm_load"]), flush=True)
            except (GuestError, OSError) as e:
                errors.append("%s: %s" % (vmm, str(e)[-2000:]))
                print("  %-5s FAILED: %s" % (vmm, e), flush=True)
                g.close()
                del guests[vmm]
        for r in range(args.rounds + 1):
            for vmm in list(guests):
                g = guests[vmm]
                try:
                    secs = nestedlib.boot_nested(g)
                    if g.run("uname -n") != "nested":
                        raise GuestError("the nested guest does not answer")
                    nestedlib.leave_nested(g)
                    if r == 0:
                        res[vmm]["cold"] = secs
                    else:
                        res[vmm]["nested"].append(secs)
                    print("  %-8s %-5s nested boot %7.2f s"
                          % ("round %d" % r if r else "cold", vmm, secs), flush=True)
                except (GuestError, OSError) as e:
                    errors.append("%s round %d: %s" % (vmm, r, str(e)[-2000:]))
                    print("  round %d  %-5s FAILED: %s" % (r, vmm, e), flush=True)
                    g.close()
                    del guests[vmm]
        for g in guests.values():
            g.poweroff(timeout=300)
    finally:
        for g in guests.values():
            g.close()

    print("\n  %-5s %10s %11s %11s %14s  %s" % ("", "L1 boot s", "kvm load s", "cold s",
                                                "nested boot s", "(median of rounds)"))
    for vmm in vmms:
        r = res[vmm]
        r["nested_median"] = med(r["nested"])
        print("  %-5s %10s %11s %11s %14s  (%s)" % (
            vmm, fmt(r["l1_boot"]), fmt(r["kvm_load"]), fmt(r["cold"]), fmt(r["nested_median"]),
            ", ".join("%.2f" % t for t in r["nested"])))
    w = res.get("wirt", {}).get("nested_median")
    q = res.get("qemu", {}).get("nested_median")
    if w and q:
        print("  nested boot ratio wirt/qemu: %.2f (target <= 0.50)" % (w / q))
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"cpus": args.cpus, "memory": args.memory, "results": res,
                   "errors": errors}, f, indent=1)
    print("\nresults: %s" % args.json)
    if errors:
        print("errors:\n  " + "\n  ".join(e.split("\n")[0] for e in errors))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
