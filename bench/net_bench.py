#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""VM-to-VM networking, side by side: two default guests joined by a wirt
virtual switch, against two QEMU guests joined by `-netdev socket` over
loopback UDP (QEMU's way to link two VMs without root), same kernel and
initramfs.  Measures TCP throughput (busybox nc, 64 MiB from /dev/zero,
timed in the receiving guest) and round-trip latency (ping, 20 echoes a
round; the median echo, so that one echo delayed by the host's scheduler
does not decide the figure).  Both pairs boot first and the rounds
alternate between them, so that both see the same host load (idle guests
sleep).  Prints each figure and the ratio wirt/QEMU, and the host wakeups
per echo (voluntary context switches of all threads of both VM processes,
from /proc): each one is the host scheduler on the round trip's way.

  python3 bench/net_bench.py [--rounds N] [--mib M]"""
import argparse
import glob
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "guest"))
import guestlib  # noqa: E402

IPS = ("10.40.0.1", "10.40.0.2")


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wirt_pair(store):
    env = dict(os.environ, WIRT_STORE=store)
    subprocess.run([guestlib.wirt_bin(), "net", "create", "bench"], env=env, check=True,
                   capture_output=True)
    gs = []
    for i in range(2):
        mac = "52:54:00:40:00:%02x" % (i + 1)
        gs.append(guestlib.Guest(guestlib.wirt_argv(extra=["--net", "switch=bench,mac=" + mac]),
                                 env=env, name="wirt%d" % i))
    return gs


def qemu_pair():
    p1, p2 = free_udp_port(), free_udp_port()
    gs = []
    for i, (mine, peer) in enumerate(((p1, p2), (p2, p1))):
        mac = "52:54:00:40:00:%02x" % (i + 1)
        extra = ["-netdev", "socket,id=n0,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d" % (peer, mine),
                 "-device", "virtio-net-device,netdev=n0,mac=" + mac]
        gs.append(guestlib.Guest(guestlib.qemu_argv(extra=extra), name="qemu%d" % i))
    return gs


def setup(gs):
    for i, g in enumerate(gs):
        g.wait_ready()
        g.run("ifconfig eth0 %s netmask 255.255.255.0 up" % IPS[i])
    for _ in range(30):
        _, st = gs[0].run("ping -c 1 -W 1 %s >/dev/null" % IPS[1], check=False)
        if st == 0:
            return
    raise RuntimeError("the two guests cannot reach each other")


def throughput(gs, mib):
    """MiB/s of one TCP stream from guest 0 to guest 1, timed at the receiver."""
    rx, tx = gs[1], gs[0]
    # head -c: done at the last byte, whether or not nc closes.
    # busybox date has no %N: the clock is /proc/uptime (10 ms steps).
    rx.run("rm -f /tmp/t; { (nc -l -p 5001 | { read -r _; t0=$(cut -d' ' -f1 /proc/uptime); "
           "head -c %d >/dev/null; t1=$(cut -d' ' -f1 /proc/uptime); echo $t0 $t1 > /tmp/t; }) "
           ">/dev/null 2>&1 & }" % (mib << 20))
    time.sleep(0.5)
    # A first line (the clock starts when it arrives), then the payload.
    tx.run("{ echo go; dd if=/dev/zero bs=64k count=%d 2>/dev/null; sleep 1; } | "
           "nc -w 3 %s 5001 || true" % (mib * 16, IPS[1]), timeout=600)
    for _ in range(600):
        out = rx.run("cat /tmp/t 2>/dev/null || true")
        if out.strip():
            t0, t1 = (float(x) for x in out.split())
            return mib / max(t1 - t0, 0.01)
        time.sleep(0.5)
    raise RuntimeError("the receiver never finished")


def wakeups(pid):
    """Voluntary context switches of all of pid's threads so far."""
    n = 0
    for task in glob.glob("/proc/%d/task/*/status" % pid):
        try:
            with open(task) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        n += int(line.split()[1])
        except OSError:
            pass  # a thread that ended meanwhile
    return n


def latency(gs):
    """Every echo's round trip in ms, and the two VMs' host wakeups."""
    before = sum(wakeups(g.proc.pid) for g in gs)
    out = gs[0].run("ping -c 20 -i 0.2 %s" % IPS[1], timeout=60)
    woke = sum(wakeups(g.proc.pid) for g in gs) - before
    return [float(t) for t in re.findall(r"time=([0-9.]+) ms", out)], woke


def measure(rounds, mib):
    """{kind: (throughputs, echo times, host wakeups)} with the rounds interleaved."""
    store = tempfile.mkdtemp(prefix="wirt-net-bench-")
    pairs = {}
    try:
        pairs["wirt"] = wirt_pair(store)
        pairs["qemu"] = qemu_pair()
        for gs in pairs.values():
            setup(gs)
        res = {k: ([], [], [0]) for k in pairs}
        for _ in range(rounds):
            for kind, gs in pairs.items():
                res[kind][0].append(throughput(gs, mib))
            for kind, gs in pairs.items():
                times, woke = latency(gs)
                res[kind][1].extend(times)
                res[kind][2][0] += woke
        return res
    finally:
        for gs in pairs.values():
            for g in gs:
                g.close()
        subprocess.run([guestlib.wirt_bin(), "net", "stop", "bench"],
                       env=dict(os.environ, WIRT_STORE=store), capture_output=True)
        shutil.rmtree(store, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mib", type=int, default=64)
    args = ap.parse_args()
    if not guestlib.have_guest() or not shutil.which("qemu-system-riscv64"):
        sys.exit("net_bench: needs the default guest and qemu-system-riscv64")
    res = measure(args.rounds, args.mib)
    w_t, q_t = (statistics.median(res[k][0]) for k in ("wirt", "qemu"))
    w_l, q_l = (statistics.median(res[k][1]) for k in ("wirt", "qemu"))
    w_min, q_min = (min(res[k][1]) for k in ("wirt", "qemu"))
    print("VM-to-VM, median of %d rounds (%d echoes each), %d MiB per stream"
          % (args.rounds, len(res["wirt"][1]) // args.rounds, args.mib))
    print("%-22s %10s %10s %8s" % ("", "wirt", "QEMU", "ratio"))
    print("%-22s %10.1f %10.1f %7.2fx  (higher is better; target >= 3x)"
          % ("throughput MiB/s", w_t, q_t, w_t / q_t))
    print("%-22s %10.3f %10.3f %7.2fx  (lower is better; target <= 0.5x)"
          % ("round trip ms", w_l, q_l, w_l / q_l))
    print("%-22s %10.3f %10.3f %7.2fx" % ("fastest echo ms", w_min, q_min, w_min / q_min))
    w_w, q_w = (res[k][2][0] / max(len(res[k][1]), 1) for k in ("wirt", "qemu"))
    print("%-22s %10.1f %10.1f %7.2fx  (both VM processes; includes the guests' timers)"
          % ("host wakeups per echo", w_w, q_w, w_w / max(q_w, 0.1)))


if __name__ == "__main__":
    main()
