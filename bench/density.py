#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Memory density: host memory used by N idle copies of the default guest
under wirt against the same N under QEMU (TCG).

Each VM gets the same kernel, initramfs, firmware, command line and
512M of RAM.  Once all N are at their shell prompt and have sat idle for
--settle seconds, the host memory of each VMM process is read from
/proc/PID/smaps_rollup: Pss (shared pages counted once across the
processes that share them) and Rss.  Prints the sums and the ratio
wirt/qemu; the issue's target is at most 0.5.

Page sharing: QEMU marks guest RAM mergeable by default (mem-merge=on);
--ksm gives wirt the same (--page-sharing on).  Whether the host's ksmd
runs is the host's setting (/sys/kernel/mm/ksm/run), printed with the
results.  --host-ksm (root) turns ksmd on for the run (fast scanning,
use_zero_pages=1, so zero-filled guest pages merge with the kernel's zero
page), waits until it has gone over every VM twice before measuring, and
puts the previous settings back; it implies --ksm.

Usage: bench/density.py [--n N] [--settle S] [--ksm] [--host-ksm]
                        [--vmm wirt,qemu] [--build DIR] [--json FILE]
"""
import argparse
import json
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
import guestlib  # noqa: E402
from guestlib import Guest, guest_file  # noqa: E402

MEMORY = "512M"


def argv_for(vmm, wirt, ksm):
    kernel, initrd, bios = guest_file("Image"), guest_file("initrd.cpio.gz"), \
        guest_file("fw_dynamic.bin")
    append = guestlib.default_cmdline()
    if vmm == "qemu":
        return guestlib.qemu_argv(kernel=kernel, initrd=initrd, bios=bios, append=append,
                                  memory=MEMORY)
    argv = [wirt, "run", "--kernel", kernel, "--initrd", initrd, "--bios", bios,
            "--append", append, "--memory", MEMORY]
    return argv + (["--page-sharing", "on"] if ksm else [])


def rollup(pid):
    """(Pss, Rss) of a process in bytes."""
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0] in ("Pss:", "Rss:"):
                out[parts[0][:-1]] = int(parts[1]) * 1024
    return out.get("Pss", 0), out.get("Rss", 0)


def ksm_state():
    try:
        with open("/sys/kernel/mm/ksm/run") as f:
            return "on" if f.read().strip() == "1" else "off"
    except OSError:
        return "absent"


KSM = "/sys/kernel/mm/ksm/"
KSM_KNOBS = ("run", "pages_to_scan", "sleep_millisecs", "use_zero_pages")


def ksm_get(k):
    with open(KSM + k) as f:
        return f.read().strip()


def ksm_set(k, v):
    with open(KSM + k, "w") as f:
        f.write(v)


def ksm_settle():
    """Waits for two full ksmd passes over what is mergeable now."""
    start = int(ksm_get("full_scans"))
    deadline = time.monotonic() + 300
    while int(ksm_get("full_scans")) < start + 2 and time.monotonic() < deadline:
        time.sleep(1)


def measure(vmm, n, settle, wirt, ksm, host_ksm=False):
    guests = []
    try:
        for i in range(n):
            guests.append(Guest(argv_for(vmm, wirt, ksm), name="%s-%d" % (vmm, i)))
        for g in guests:
            g.wait_ready()
        time.sleep(settle)
        if host_ksm:
            ksm_settle()
        figures = [rollup(g.proc.pid) for g in guests]
        for g in guests:
            g.poweroff()
    finally:
        for g in guests:
            g.close()
    return {"pss": sum(p for p, _ in figures), "rss": sum(r for _, r in figures),
            "per-vm-rss": [r for _, r in figures]}


def mib(x):
    return "%.1f MiB" % (x / 1048576.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--settle", type=float, default=15.0)
    ap.add_argument("--ksm", action="store_true")
    ap.add_argument("--host-ksm", action="store_true")
    ap.add_argument("--vmm", default="wirt,qemu")
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    wirt = os.path.join(REPO, a.build, "wirt")
    a.ksm = a.ksm or a.host_ksm
    saved = None
    if a.host_ksm:
        saved = {k: ksm_get(k) for k in KSM_KNOBS if os.path.exists(KSM + k)}
        print("host ksm before: %s (restored at the end)" % saved, flush=True)
    try:
        if a.host_ksm:
            ksm_set("pages_to_scan", "10000")
            ksm_set("sleep_millisecs", "10")
            if "use_zero_pages" in saved:
                ksm_set("use_zero_pages", "1")
            ksm_set("run", "1")
        results = {"n": a.n, "memory": MEMORY, "host-ksm": ksm_state(),
                   "wirt-page-sharing": a.ksm}
        for vmm in a.vmm.split(","):
            r = measure(vmm, a.n, a.settle, wirt, a.ksm, a.host_ksm)
            results[vmm] = r
            print("%-5s %d idle VMs: PSS %s, RSS %s (%s per VM)" %
                  (vmm, a.n, mib(r["pss"]), mib(r["rss"]), mib(r["rss"] / a.n)), flush=True)
    finally:
        if saved:
            # run last, so ksmd stops (or goes on) with the old pace.
            for k in [k for k in saved if k != "run"] + ["run"]:
                try:
                    ksm_set(k, saved[k])
                except OSError as e:
                    print("could not restore ksm %s: %s" % (k, e), file=sys.stderr)
    if "wirt" in results and "qemu" in results:
        ratio = results["wirt"]["pss"] / results["qemu"]["pss"]
        results["ratio"] = ratio
        print("ratio wirt/qemu (PSS): %.2f  (target <= 0.50; host ksm %s)" %
              (ratio, results["host-ksm"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
