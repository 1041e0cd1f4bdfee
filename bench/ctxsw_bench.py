#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Address-space switch cost on wirt and QEMU (TCG) on the default guest.

bench/ctxsw/pingpong.c: two processes pass a byte through pipes (each pass
an address-space switch; Linux uses ASIDs on both machines), touching
--pages pages of their own between passes, so what the TLB keeps across a
switch shows.  Time per round trip measured inside the guest, best of
--rounds, and the ratio wirt/qemu.  --build DIR picks the wirt binary
(DIR/wirt), to compare two builds.

Usage: bench/ctxsw_bench.py [--rounds N] [--n N] [--pages P] [--vmm wirt,qemu]
                            [--build DIR]
"""
import argparse
import os
import re
import shutil
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
import guestlib  # noqa: E402
import smpwork  # noqa: E402
from guestlib import Guest, guest_file  # noqa: E402

MEMORY = "512M"


def argv_for(vmm, wirt, initrd):
    kernel, bios = guest_file("Image"), guest_file("fw_dynamic.bin")
    append = guestlib.default_cmdline()
    if vmm == "qemu":
        return guestlib.qemu_argv(kernel=kernel, initrd=initrd, bios=bios, append=append,
                                  memory=MEMORY)
    return [wirt, "run", "--kernel", kernel, "--initrd", initrd, "--bios", bios,
            "--append", append, "--memory", MEMORY]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--pages", type=int, default=32)
    ap.add_argument("--vmm", default="wirt,qemu")
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    args = ap.parse_args()
    wirt = os.path.join(os.path.abspath(args.build), "wirt")
    vmms = [v for v in args.vmm.split(",") if v]
    if "qemu" in vmms and not shutil.which("qemu-system-riscv64"):
        print("qemu-system-riscv64 not found: wirt only")
        vmms.remove("qemu")
    initrd = smpwork.static_initrd(os.path.join(REPO, "build", "ctxsw"),
                                   os.path.join(REPO, "bench", "ctxsw", "pingpong.c"), "pingpong")
    print("== ctxsw: pingpong %d %d, best of %d, inside the guest" %
          (args.n, args.pages, args.rounds))
    res = {}
    for vmm in vmms:
        with Guest(argv_for(vmm, wirt, initrd), name="ctxsw-" + vmm) as g:
            g.wait_ready(timeout=900)
            times = []
            for _ in range(args.rounds):
                out = g.run("pingpong %d %d" % (args.n, args.pages), timeout=1800)
                times.append(float(re.search(r"us_per_round=([\d.]+)", out).group(1)))
            g.poweroff(timeout=300)
        res[vmm] = min(times)
        print("%-5s %8.2f us per round trip (all: %s)" %
              (vmm, res[vmm], " ".join("%.2f" % t for t in times)))
    if "wirt" in res and "qemu" in res:
        print("ratio wirt/qemu %.2f" % (res["wirt"] / res["qemu"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
