#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""SMP scaling of wirt and QEMU MTTCG on the default guest.

A parallel in-guest workload (bench/smp/smp_work.c `par`: integer hashing
split over one thread per CPU, results checked to be the same everywhere)
runs on `wirt run --cpus 1` and `--cpus 2` and on QEMU `-smp 1` and
`-smp 2 -accel tcg,thread=multi`.  Time is measured inside the guest by the
program (CLOCK_MONOTONIC), best of --rounds.  Prints each time, the scaling
(time on 1 CPU / time on N CPUs; the target is >= 1.8 for 2 CPUs on a
2-core host) and the ratio wirt/qemu.  Measure on a quiet host.

Usage: bench/smp_bench.py [--cpus 1,2] [--rounds N] [--work N] [--vmm wirt,qemu]
                          [--json FILE]
`make bench-smp` runs it.  Exits 1 if a run failed or checksums differed.
"""
import argparse
import json
import os
import shutil
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
import guestlib  # noqa: E402
import smpwork  # noqa: E402
from guestlib import Guest, GuestError, guest_file  # noqa: E402

MEMORY = "512M"


def argv_for(vmm, wirt, initrd, cpus):
    kernel, bios = guest_file("Image"), guest_file("fw_dynamic.bin")
    append = guestlib.default_cmdline()
    if vmm == "qemu":
        return guestlib.qemu_argv(kernel=kernel, initrd=initrd, bios=bios, append=append,
                                  memory=MEMORY,
                                  extra=["-smp", str(cpus), "-accel", "tcg,thread=multi"])
    return [wirt, "run", "--kernel", kernel, "--initrd", initrd, "--bios", bios,
            "--append", append, "--memory", MEMORY, "--cpus", str(cpus)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cpus", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", type=int, default=4000000)
    ap.add_argument("--vmm", default="wirt,qemu")
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--json")
    args = ap.parse_args()
    wirt = os.path.join(args.build, "wirt")
    vmms = [v for v in args.vmm.split(",") if v]
    if "qemu" in vmms and not shutil.which("qemu-system-riscv64"):
        print("qemu-system-riscv64 not found: wirt only")
        vmms.remove("qemu")
    cpus_list = [int(c) for c in args.cpus.split(",")]
    initrd = smpwork.smp_initrd(os.path.join(args.build, "smp"))
    res, sums, failed = {}, set(), False
    print("== smp: smp_work par <cpus> %d, best of %d, inside the guest" %
          (args.work, args.rounds), flush=True)
    for vmm in vmms:
        for n in cpus_list:
            try:
                with Guest(argv_for(vmm, wirt, initrd, n), name="%s-%d" % (vmm, n)) as g:
                    g.wait_ready(timeout=1800)
                    best = None
                    for _ in range(args.rounds):
                        out = g.run("smp_work par %d %d" % (n, args.work), timeout=3600)
                        f = out.split()
                        if len(f) != 4 or f[0] != "par":
                            raise GuestError("unexpected output %r" % out)
                        sums.add(f[3])
                        best = float(f[2]) if best is None else min(best, float(f[2]))
                    g.poweroff()
                res.setdefault(vmm, {})[n] = best
                print("  %-5s cpus %-2d %8.3f s" % (vmm, n, best), flush=True)
            except (GuestError, OSError) as e:
                print("  %-5s cpus %-2d FAILED: %s" % (vmm, n, e), flush=True)
                failed = True
    if len(sums) > 1:
        print("  checksums differ: %s" % sorted(sums))
        failed = True
    print("\n  %-5s %s" % ("", "  ".join("scaling x%d" % n for n in cpus_list if n != 1)))
    for vmm, t in res.items():
        if 1 in t:
            print("  %-5s %s" % (vmm, "  ".join("%9.2f" % (t[1] / t[n]) for n in cpus_list
                                                if n != 1 and n in t)))
    if "wirt" in res and "qemu" in res:
        for n in cpus_list:
            if n in res["wirt"] and n in res["qemu"]:
                print("  ratio wirt/qemu, %d cpu(s): %.2f" % (n, res["wirt"][n] / res["qemu"][n]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"work": args.work, "seconds": res}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
