#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""SMP scaling of wirt and QEMU MTTCG on the default guest.

A parallel in-guest workload (bench/smp/smp_work.c `par`: integer hashing
split over one thread per CPU, results checked to be the same everywhere)
runs on `wirt run --cpus 1` and `--cpus 2` and on QEMU `-smp 1` and
`-smp 2 -accel tcg,thread=multi`.  All guests are booted first and stay up;
then each round runs the workload once in every guest, interleaved (the
order reverses every round), so that a change in the host's load hits all
of them alike.  Time is measured inside the guest by the program
(CLOCK_MONOTONIC); the median over --rounds counts (best shown too, and
the host's wall time of the whole command, which does not trust the guest's
clock).

On a shared host the wall-clock scaling (time on 1 CPU / time on N CPUs;
the target is >= 1.8 for 2 CPUs on a 2-core host) is bounded by the CPU
share the host scheduler gives the VMM, not by the VMM.  So each run also
reads the VMM's host CPU time (/proc/PID/stat, all threads): `efficiency`
= host CPU s on 1 CPU / host CPU s on N CPUs (1.0: the extra harts cost
nothing; below: locks, invalidations, spinning) and `free-core scaling` =
N x efficiency, the scaling on N otherwise idle host cores for this
perfectly parallel workload.  `host` (in --vmm by default) runs the same
program built for the host, in a session of its own like the VMMs, in the
same rounds: its scaling is the ceiling on this machine at that moment
(with the kernel's autogroup scheduling, each session gets an equal share
of a busy host, however many threads it runs).  The host load
(/proc/loadavg) is printed before and after.  With --idle S (default 10) every guest first sits idle
at its shell for S seconds and the VMM's CPU use over that time is shown
(a hart in WFI must sleep, not spin).

Usage: bench/smp_bench.py [--cpus 1,2] [--rounds N] [--work N] [--vmm wirt,qemu,host]
                          [--idle S] [--json FILE]
`make bench-smp` runs it.  Exits 1 if a run failed or checksums differed.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
import guestlib  # noqa: E402
import smpwork  # noqa: E402
from guestlib import Guest, GuestError, guest_file  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """Host CPU time (user + system, all threads) of process pid."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


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


def native_exe(build):
    """smp_work.c built for the host: the same threads without a VMM."""
    src = os.path.join(REPO, "bench", "smp", "smp_work.c")
    exe = os.path.join(build, "smp", "smp_work-host")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        os.makedirs(os.path.dirname(exe), exist_ok=True)
        subprocess.run([os.environ.get("CC", "cc"), "-std=c17", "-O2", "-pthread", "-o", exe, src],
                       check=True)
    return exe


def parse_par(out):
    f = out.split()
    if len(f) != 4 or f[0] != "par":
        raise GuestError("unexpected output %r" % out)
    return float(f[2]), f[3]


def run_native(exe, n, work):
    """(seconds, host CPU seconds, checksum) of one `par` run on the host,
    in a session of its own like the VMMs (Guest starts them so): under
    the kernel's autogroup scheduling that is what sets the CPU share."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([exe, "par", str(n), str(work)], capture_output=True, text=True,
                         check=True, start_new_session=True).stdout
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t, s = parse_par(out)
    return t, (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime), s


def run_par(g, n, work):
    """(guest seconds, host CPU seconds, checksum) of one `par` run."""
    c0 = cpu_seconds(g.proc.pid)
    out = g.run("smp_work par %d %d" % (n, work), timeout=3600)
    cpu = cpu_seconds(g.proc.pid) - c0
    t, s = parse_par(out)
    return t, cpu, s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cpus", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", type=int, default=4000000)
    ap.add_argument("--vmm", default="wirt,qemu,host",
                    help="host: smp_work built for the host, the ceiling on this machine now")
    ap.add_argument("--idle", type=float, default=10.0)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--json")
    args = ap.parse_args()
    wirt = os.path.join(args.build, "wirt")
    vmms = [v for v in args.vmm.split(",") if v]
    if "qemu" in vmms and not shutil.which("qemu-system-riscv64"):
        print("qemu-system-riscv64 not found: no qemu rows")
        vmms.remove("qemu")
    if "host" in vmms and not shutil.which(os.environ.get("CC", "cc")):
        print("no host C compiler (cc, or $CC): no host rows")
        vmms.remove("host")
    cpus_list = [int(c) for c in args.cpus.split(",")]
    initrd = smpwork.smp_initrd(os.path.join(args.build, "smp"))
    print("== smp: smp_work par <cpus> %d, median of %d interleaved rounds, inside the guest" %
          (args.work, args.rounds), flush=True)
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            autogroup = "on" if f.read().strip() == "1" else "off"
    except OSError:
        autogroup = "unknown"
    print("  host: %d CPUs, load %s, autogroup scheduling %s" %
          (os.cpu_count(), loadavg(), autogroup), flush=True)
    guests, failed, sums = {}, False, set()
    runs = {}  # (vmm, n) -> [(guest s, host CPU s)]
    idle = {}
    try:
        for vmm in vmms:
            for n in cpus_list:
                if vmm == "host":
                    guests[(vmm, n)] = native_exe(args.build)
                    continue
                try:
                    g = Guest(argv_for(vmm, wirt, initrd, n), name="%s-%d" % (vmm, n))
                    guests[(vmm, n)] = g
                    g.wait_ready(timeout=1800)
                except (GuestError, OSError) as e:
                    print("  %-5s cpus %-2d FAILED to boot: %s" % (vmm, n, e), flush=True)
                    guests.pop((vmm, n)).close()
                    failed = True
        order = list(guests)
        if args.idle > 0 and order:
            time.sleep(2)  # let the shell prompt settle
            vms = {k: g for k, g in guests.items() if k[0] != "host"}
            c0 = {k: cpu_seconds(g.proc.pid) for k, g in vms.items()}
            t0 = time.monotonic()
            time.sleep(args.idle)
            dt = time.monotonic() - t0
            idle = {k: (cpu_seconds(g.proc.pid) - c0[k]) / dt for k, g in vms.items()}
        for r in range(args.rounds):
            for key in (order if r % 2 == 0 else order[::-1]):
                if key not in guests:
                    continue
                try:
                    w0 = time.monotonic()
                    if key[0] == "host":
                        t, cpu, s = run_native(guests[key], key[1], args.work)
                    else:
                        t, cpu, s = run_par(guests[key], key[1], args.work)
                    wall = time.monotonic() - w0
                    sums.add(s)
                    runs.setdefault(key, []).append((t, cpu, wall))
                    print("  round %d  %-5s cpus %-2d %8.3f s  host CPU %6.2f s  wall %6.2f s  load %s"
                          % (r + 1, key[0], key[1], t, cpu, wall, loadavg()), flush=True)
                except (GuestError, OSError, subprocess.CalledProcessError) as e:
                    print("  %-5s cpus %-2d FAILED: %s" % (key[0], key[1], e), flush=True)
                    g = guests.pop(key)
                    if key[0] != "host":
                        g.close()
                    failed = True
        for key, g in guests.items():
            try:
                if key[0] != "host":
                    g.poweroff()
            except GuestError:
                pass
    finally:
        for key, g in guests.items():
            if key[0] != "host":
                g.close()
    print("  host load after: %s" % loadavg())
    if len(sums) > 1:
        print("  checksums differ: %s" % sorted(sums))
        failed = True
    res = {}
    print("\n  %-5s %-5s %9s %9s %10s %11s %11s" % ("", "cpus", "median s", "best s", "host CPU s",
                                                   "host wall s", "idle CPU %"))
    for (vmm, n), rs in runs.items():
        med = statistics.median(r[0] for r in rs)
        cpu = statistics.median(r[1] for r in rs)
        wall = statistics.median(r[2] for r in rs)
        res.setdefault(vmm, {})[n] = {"median": med, "best": min(r[0] for r in rs), "cpu": cpu,
                                      "wall": wall,
                                      "idle_cpu_pct": 100 * idle.get((vmm, n), float("nan"))}
        print("  %-5s %-5d %9.3f %9.3f %10.2f %11.2f %11.1f" %
              (vmm, n, med, res[vmm][n]["best"], cpu, wall, res[vmm][n]["idle_cpu_pct"]))
    print()
    for vmm, t in res.items():
        for n in cpus_list:
            if n == 1 or 1 not in t or n not in t:
                continue
            eff = t[1]["cpu"] / t[n]["cpu"] if t[n]["cpu"] > 0 else float("nan")
            print("  %-5s x%d: scaling %.2f (best %.2f, host wall %.2f), efficiency %.2f, "
                  "free-core scaling %.2f" %
                  (vmm, n, t[1]["median"] / t[n]["median"], t[1]["best"] / t[n]["best"],
                   t[1]["wall"] / t[n]["wall"], eff, n * eff))
    if "wirt" in res and "qemu" in res:
        for n in cpus_list:
            if n in res["wirt"] and n in res["qemu"]:
                print("  ratio wirt/qemu, %d cpu(s): %.2f" %
                      (n, res["wirt"][n]["median"] / res["qemu"][n]["median"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"work": args.work, "load": loadavg(), "results": res}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
