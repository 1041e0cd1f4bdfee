#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Nested virtualization (issue 16): boot time of a KVM guest inside a wirt
guest against the same inside QEMU TCG, in one run.

Per round and VMM, one boot of the default guest with the H extension
(`wirt run --cpu h=on`, `qemu-system-riscv64 -cpu rv64,h=true`), the same
--cpus and memory, and the nested disk (tools/fetch-nested-guest.sh)
read-only; inside, `modprobe kvm`, then two boots of the nested guest
(Debian's qemu-system-riscv64 -accel kvm, the same kernel with `quiet`, a
busybox initramfs), each timed from the run-nested command to its
NESTED-GUEST-READY marker and followed by a command in it and poweroff:
"cold" (it reads QEMU, its libraries and the kernel from the virtio disk)
and "warm" (page cache and code caches warm).  That is one round; rounds
alternate the VMMs, one VM at a time, so load drift hits both.  Prints the
medians and the ratios wirt/qemu (issue 16's target: at most 0.5), plus the
L1 boot and the kvm load time.  Measure on a quiet host.

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


def one_round(vmm, wirt, args):
    """One default guest with H under vmm: its boot, mount + modprobe kvm,
    and two nested boots (the first reads QEMU and the kernel from the disk
    and warms the code caches); each nested guest answers a command and
    powers off.  Returns the seconds of each step."""
    with Guest(nestedlib.l1_argv(vmm, h=True, wirt=wirt, memory=args.memory,
                                 cpus=args.cpus), name="nested-" + vmm) as g:
        one = {"l1_boot": g.wait_ready(timeout=1800)}
        t0 = time.monotonic()
        nestedlib.load_kvm(g)
        one["kvm_load"] = time.monotonic() - t0
        for k in ("cold", "warm"):
            one[k] = nestedlib.boot_nested(g)
            if g.run("uname -n") != "nested":
                raise GuestError("the nested guest does not answer")
            nestedlib.leave_nested(g)
        status = g.poweroff(timeout=300)
        if status != 0:
            raise GuestError("exit status %d after poweroff" % status)
    return one


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

    print("== nested: per round and VMM, default guest with H (%d cpu(s), %s) -> "
          "modprobe kvm -> nested boot cold, then warm (run-nested -> %s); %d rounds"
          % (args.cpus, args.memory, nestedlib.NESTED_MARKER, args.rounds), flush=True)
    keys = ("l1_boot", "kvm_load", "cold", "warm")
    res = {v: {k: [] for k in keys} for v in vmms}
    for r in range(1, args.rounds + 1):
        for vmm in vmms:  # interleaved, so load drift hits both; one VM at a time
            try:
                one = one_round(vmm, wirt, args)
            except (GuestError, OSError) as e:
                errors.append("%s round %d: %s" % (vmm, r, str(e)[-2000:]))
                print("  round %d  %-5s FAILED: %s" % (r, vmm, e), flush=True)
                continue
            for k in keys:
                res[vmm][k].append(one[k])
            print("  round %d  %-5s L1 boot %6.2f  kvm load %5.2f  nested cold %6.2f  "
                  "warm %6.2f s" % ((r, vmm) + tuple(one[k] for k in keys)), flush=True)

    print("\n  medians (s)  %10s %10s %12s %12s" % ("L1 boot", "kvm load", "nested cold",
                                                    "nested warm"))
    for vmm in vmms:
        m = {k: med(res[vmm][k]) for k in keys}
        res[vmm]["median"] = m
        print("  %-12s %10s %10s %12s %12s" % ((vmm,) + tuple(fmt(m[k]) for k in keys)))
    if all(v in res and res[v]["median"]["warm"] for v in ("wirt", "qemu")):
        for k in ("cold", "warm"):
            print("  nested boot (%s) ratio wirt/qemu: %.2f (target <= 0.50)"
                  % (k, res["wirt"]["median"][k] / res["qemu"]["median"][k]))
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
