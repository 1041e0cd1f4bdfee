#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Where a VM-to-VM round trip goes: boots the two guests of net_bench.py
on a wirt switch with WIRT_NET_TRACE (src/virtio/net.c logs each frame a
guest sends or is given, with the host time), pings, and splits every
echo into

  A->B   request sent by guest A's VMM until guest B's VMM hands it to B
         (switch or direct path, and the host waking B's VMM)
  B      guest B's turnaround: request in its ring until its reply is sent
  B->A   the same hop back

  B on CPU   of B's turnaround, the time the thread that took the
             request and sent the reply (hart 0) spent on a host CPU:
             close to the turnaround when the guest's own work (its
             code, cold in the host's caches after an idle spell) is
             what takes the time, far below it when the host kept the
             thread waiting

Ping's own figure adds guest A's send and receive paths on top.  Prints
the median of each part (microseconds) and ping's median.

  python3 bench/net_lat_trace.py [--rounds N]
  python3 bench/net_lat_trace.py --files TRACE_A TRACE_B   (analyse only)"""
import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

PING_LEN = 98  # an ICMP echo of busybox ping's default size, Ethernet included


def read_trace(path):
    """[(time_us, "tx"|"rx", length, thread id, thread CPU us)] from one
    WIRT_NET_TRACE file."""
    out = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 5 and parts[1] in ("tx", "rx") and parts[0].isdigit():
                out.append((int(parts[0]), parts[1], int(parts[2]), int(parts[3]),
                            int(parts[4])))
    return out


def breakdown(a, b, length=PING_LEN):
    """[(a_to_b, b_turn, b_to_a, b_cpu)] in us for each echo: a request A
    sends, B receives, B answers and A receives, in that order with nothing
    of that length in between.  b_cpu is None when two threads of B logged
    the request and the reply."""
    ev = sorted([(t, "A", d, tid, cpu) for t, d, n, tid, cpu in a if n == length] +
                [(t, "B", d, tid, cpu) for t, d, n, tid, cpu in b if n == length])
    want = [("A", "tx"), ("B", "rx"), ("B", "tx"), ("A", "rx")]
    out = []
    i = 0
    while i + 4 <= len(ev):
        w = ev[i:i + 4]
        if [x[1:3] for x in w] == want:
            b_cpu = w[2][4] - w[1][4] if w[1][3] == w[2][3] else None
            out.append((w[1][0] - w[0][0], w[2][0] - w[1][0], w[3][0] - w[2][0], b_cpu))
            i += 4
        else:
            i += 1
    return out


def report(parts):
    if not parts:
        print("no complete echo in the traces")
        return
    names = ("A->B", "B turnaround", "B->A", "B on CPU")
    print("%d echoes; median (min) in us:" % len(parts))
    for k, name in enumerate(names):
        col = [p[k] for p in parts if p[k] is not None]
        if col:
            print("  %-14s %8.0f (%d)" % (name, statistics.median(col), min(col)))


def run(rounds):
    import net_bench
    tmp = tempfile.mkdtemp(prefix="wirt-net-trace-")
    store = os.path.join(tmp, "store")
    os.makedirs(store)
    os.environ["WIRT_NET_TRACE"] = os.path.join(tmp, "trace")
    gs = []
    try:
        gs = net_bench.wirt_pair(store)
        net_bench.setup(gs)
        pings = []
        for _ in range(rounds):
            pings.extend(net_bench.latency(gs)[0])
        pids = [g.proc.pid for g in gs]
    finally:
        for g in gs:
            g.close()
        subprocess.run([net_bench.guestlib.wirt_bin(), "net", "stop", "bench"],
                       env=dict(os.environ, WIRT_STORE=store), capture_output=True)
    try:
        files = ["%s.%d" % (os.environ["WIRT_NET_TRACE"], p) for p in pids]
        missing = [f for f in files if not os.path.exists(f)]
        if missing:
            sys.exit("net_lat_trace: no trace %s (found %s)"
                     % (missing[0], glob.glob(os.environ["WIRT_NET_TRACE"] + ".*")))
        report(breakdown(read_trace(files[0]), read_trace(files[1])))
        if pings:
            print("  ping median   %8.0f (%d)" % (statistics.median(pings) * 1000,
                                                   min(pings) * 1000))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=1, help="ping rounds of 20 echoes")
    ap.add_argument("--files", nargs=2, metavar=("TRACE_A", "TRACE_B"),
                    help="analyse two existing traces (A pinged B)")
    args = ap.parse_args()
    if args.files:
        report(breakdown(read_trace(args.files[0]), read_trace(args.files[1])))
        return
    import net_bench
    if not net_bench.guestlib.have_guest():
        sys.exit("net_lat_trace: needs the default guest")
    run(args.rounds)


if __name__ == "__main__":
    main()
