#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Overhead of the sandbox and cgroup placement on the default guest's
boot time and on an in-guest CPU workload.

Three configurations of `wirt run`, interleaved round by round so that
load from elsewhere on the host hits them alike:
  plain     no resource options
  sandbox   --sandbox on (seccomp filter, no_new_privs)
  cgroup    a cgroup of its own only (--cpu-weight 1024, which limits
            nothing; on a busy host the group's weight competes with each
            task of the parent group, so it comes out faster and steadier
            than plain: compare isolated with it for the sandbox's cost)
  isolated  the sandbox and a cgroup of its own
  jailed    (root only) isolated, in a jail (--jail, a fresh directory
            each run) under a uid of its own (--uid), as `wirt vm start`
            runs a VMM as root; compared with cgroup too
Per round: wall time from process start to the WIRT-GUEST-READY marker,
then the guest hashes --data-mib MiB of generated data with busybox
sha256sum, timed inside the guest (/proc/uptime).  Prints medians with
their spread (lowest and highest quartile) and the overhead in percent of
sandbox and cgroup over plain, and of isolated over cgroup (the sandbox's
cost where both have a group of their own), two ways: the ratio of the
medians, and the median of the per-round ratios (each round's runs are
next to each other, so they saw about the same load) with its quartiles;
the issue's target is under 2%.  Without a writable cgroup the cgroup and
isolated runs get no group (the VMM says which control it could not
apply).

Usage: bench/isolation_bench.py [--rounds N] [--data-mib N] [--build DIR]
                                [--json FILE]
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
import guestlib  # noqa: E402
from guestlib import Guest  # noqa: E402

CONFIGS = {
    "plain": [],
    "sandbox": ["--sandbox", "on"],
    "cgroup": ["--cpu-weight", "1024"],
    "isolated": ["--sandbox", "on", "--cpu-weight", "1024"],
}
if os.geteuid() == 0:
    CONFIGS["jailed"] = ["--sandbox", "on", "--cpu-weight", "1024", "--jail", "JAILDIR",
                         "--uid", "1500099999"]


def one_run(wirt, extra, data_mib):
    jail = tempfile.mkdtemp(prefix="wirt-bench-jail-") if "JAILDIR" in extra else None
    try:
        return run_in(wirt, [jail if x == "JAILDIR" else x for x in extra], data_mib)
    finally:
        if jail:
            shutil.rmtree(jail, ignore_errors=True)


def run_in(wirt, extra, data_mib):
    argv = guestlib.wirt_argv(extra=extra)
    argv[0] = wirt
    with Guest(argv) as g:
        g.wait_ready()
        boot = g.ready_time
        out = g.run("a=$(cut -d' ' -f1 /proc/uptime); "
                    "dd if=/dev/zero bs=1M count=%d 2>/dev/null | sha256sum >/dev/null; "
                    "b=$(cut -d' ' -f1 /proc/uptime); echo $a $b" % data_mib)
        a, b = out.split()[-2:]
        g.poweroff()
    return boot, float(b) - float(a)


def quartiles(xs, fmt="%.2f"):
    """The lower and upper quartile, as text ("a .. b")."""
    if len(xs) < 2:
        return "n/a"
    q = statistics.quantiles(xs, n=4)
    return (fmt + " .. " + fmt) % (q[0], q[2])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--data-mib", type=int, default=32)
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    wirt = os.path.join(REPO, a.build, "wirt")
    res = {name: {"boot": [], "cpu": []} for name in CONFIGS}
    for r in range(a.rounds):
        # Alternate which goes first, so neither always meets a warm cache.
        order = list(CONFIGS) if r % 2 == 0 else list(reversed(list(CONFIGS)))
        for name in order:
            boot, cpu = one_run(wirt, CONFIGS[name], a.data_mib)
            res[name]["boot"].append(boot)
            res[name]["cpu"].append(cpu)
            print("round %d %-8s boot %.2f s, sha256 of %d MiB %.2f s" %
                  (r + 1, name, boot, a.data_mib, cpu), flush=True)
    summary = {}
    for what in ("boot", "cpu"):
        p = statistics.median(res["plain"][what])
        summary[what] = {"plain": p}
        print("%-4s plain    median %.2f s (quartiles %s)" % (what, p, quartiles(res["plain"][what])))
        for name in CONFIGS:
            if name == "plain":
                continue
            # The sandbox's cost inside a cgroup: against the cgroup alone.
            base = "cgroup" if name in ("isolated", "jailed") else "plain"
            p = statistics.median(res[base][what])
            i = statistics.median(res[name][what])
            paired = [100.0 * (x - y) / y for x, y in zip(res[name][what], res[base][what])]
            summary[what][name] = i
            summary[what][name + "-overhead-percent"] = 100.0 * (i - p) / p
            summary[what][name + "-paired-overhead-percent"] = statistics.median(paired)
            print("%-4s %-8s median %.2f s (quartiles %s), over %s %+.1f%%; per round "
                  "median %+.1f%% (quartiles %s%%) (target < 2%%)" %
                  (what, name, i, quartiles(res[name][what]), base, 100.0 * (i - p) / p,
                   statistics.median(paired), quartiles(paired, "%+.1f")))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"runs": res, "summary": summary}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
