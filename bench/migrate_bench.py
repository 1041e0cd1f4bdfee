#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Live migration on loopback, wirt against QEMU, with the default guest
(512 MiB, idle at its shell prompt): downtime, total time and bytes sent,
and the ratio wirt/QEMU for each (lower is better for all).

downtime is wirt's stop until the destination runs the guest (the commit
round trip included); stop-copy is stop until the last byte left the
source, which is what QEMU's query-migrate calls downtime (QEMU rounds it
to whole milliseconds and does not report the rest).

wirt: `wirt run --control` as the source, `wirt run --incoming tcp:` as the
destination, the control command `migrate`; its job reports the figures.
QEMU: `-incoming tcp:` and QMP `migrate`, with the same 100 ms downtime
limit and no bandwidth cap (QEMU's default caps it); `query-migrate` reports
downtime, total-time and ram.transferred.

QEMU runs with its defaults otherwise (no multifd, no compression, no
xbzrle: the same single stream as wirt's).

With --dirty the guest runs a rate-limited writer meanwhile (WRITER
below), the same in both VMMs so that both migrate the same work: 2 MiB/s
of page writes (one 2 MiB write a second by the guest's clock) over a
64 MiB tmpfs file that holds copies of 1 MiB of a program (busybox) and
1 MiB of text (/proc/kallsyms), each write changing about 11 bytes a page
from what the pages held (every 'q' becomes 'Q', then back): an
application updating records of a data set in memory, not random bytes.
Compression and delta encoding can pay off on such pages; QEMU (defaults:
no xbzrle, no compression) sends them whole.  The bench reads back the
rate each guest's writer kept (`writer MiB/s`, from the writer's own count
when the migration starts).  (The earlier workload rewrote 64 MiB from
/dev/urandom as fast as each guest ran: wirt's guest dirtied several times
more than QEMU's, which managed about 2 MB/s, so the figures compared
different work.  With busybox alone as the data, which zstd's fast levels
shrink only to 0.75-0.85, wirt sent 0.69 of QEMU's bytes.)

wirt's default `--compress auto` zstds every page batch that
shrinks, at a level that follows the bottleneck; `always` also compresses
what does not shrink, `never` nothing.  --only wirt|qemu runs one side
(no ratios; for quick iterations).

    python3 bench/migrate_bench.py [--rounds N] [--build DIR] [--dirty]
                                   [--compress auto|always|never]
"""
import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
import guestlib  # noqa: E402

READY = "WIRT-GUEST-READY"
# The dirtying workload (see the docstring): 2 MiB/s of page writes whose
# content differs from what the pages held by a few bytes per page.  A is
# 2 MiB of what a guest's memory holds: 1 MiB of a program (busybox) and
# 1 MiB of text (the kernel's symbol table); B is A with every byte 'q'
# changed to 'Q' (about 11 bytes a page).  X is 64 MiB of copies of A.  The
# writer copies B (then A again, and so on) over X, one 2 MiB write a
# second by the guest's clock: it counts its writes against the seconds
# since it started, so it keeps the rate as long as the guest manages more
# (QEMU's TCG guest needs about 0.2 s for one write).  It leaves "writes
# seconds" in /dev/shm/n.  The set-up ends with a marker (typed split so
# that the echo of the command line does not match): the migration starts
# only once it is done in either VMM.
RATE = 1  # writes of 2 MiB per second
WRITER = (b"(head -c 1048576 /bin/busybox; head -c 1048576 /proc/kallsyms) > /dev/shm/a; "
          b"tr q Q < /dev/shm/a > /dev/shm/b; "
          b"i=0; while [ $i -lt 32 ]; do cat /dev/shm/a; i=$((i+1)); done > /dev/shm/x; "
          b"echo DIRTY''ING; "
          b"(n=0; s=b; t0=$(date +%s); while true; do now=$(date +%s); "
          b"if [ $n -lt $(( (now - t0 + 1) * " + str(RATE).encode() + b" )) ]; then "
          b"dd if=/dev/shm/$s of=/dev/shm/x bs=1M count=2 seek=$((n % 32 * 2)) conv=notrunc "
          b"2>/dev/null; n=$((n+1)); echo \"$n $((now - t0))\" > /dev/shm/n; "
          b"[ $((n % 32)) = 0 ] && { [ $s = a ] && s=b || s=a; }; "
          b"else sleep 0.1; fi; done) &\r")
DIRTYING = "DIRTYING\n"


def wait_listen(port, proc, timeout=120):
    """Until something listens on TCP port (the destination proc is ready)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("the destination exited (%s)" % proc.returncode)
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as f:
                for line in f.readlines()[1:]:
                    local, st = line.split()[1], line.split()[3]
                    if st == "0A" and int(local.split(":")[-1], 16) == port:
                        return
        time.sleep(0.1)
    raise RuntimeError("nothing listens on port %d after %d s" % (port, timeout))


def type_line(path, line):
    """Types a command on the guest's serial console socket."""
    s = connect(path)
    time.sleep(0.5)
    s.sendall(b"\r")
    time.sleep(0.5)
    s.sendall(line)
    time.sleep(0.5)
    s.close()


def wait_file_text(path, text, timeout=300):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(path, errors="replace") as f:
                if text in f.read():
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("%s: no %r after %d s" % (path, text, timeout))


def writer_rate(serial, log):
    """MiB/s the guest's writer kept up since it started (read from its
    /dev/shm/n through the console)."""
    with open(log, errors="replace") as f:
        seen = len(re.findall(r"WROTE=(\d+) (\d+)", f.read()))
    type_line(serial, b"echo WROTE=$(cat /dev/shm/n)\r")
    end = time.monotonic() + 60
    while time.monotonic() < end:
        with open(log, errors="replace") as f:
            found = re.findall(r"WROTE=(\d+) (\d+)", f.read())
        if len(found) > seen:
            n, t = map(int, found[-1])
            return n * 2.0 / (t + 1)
        time.sleep(0.2)
    return None


def connect(path, timeout=60):
    end = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def lines(sock):
    buf = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)


def run_wirt(wirt, d, port, dirty, compress="auto"):
    log = os.path.join(d, "src.log")
    src = subprocess.Popen([wirt, "run", "--control", d + "/s.sock", "--serial-log", log,
                            "--serial-socket", d + "/s.serial"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dst = subprocess.Popen([wirt, "run", "--control", d + "/d.sock", "--serial-log",
                            d + "/dst.log", "--serial-socket", d + "/d.serial",
                            "--incoming", "tcp:127.0.0.1:%d" % port],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_file_text(log, READY)
        time.sleep(2)
        if dirty:
            type_line(d + "/s.serial", WRITER)
            wait_file_text(log, DIRTYING)
        time.sleep(3)  # idle at the prompt, or writing
        rate = writer_rate(d + "/s.serial", log) if dirty else None
        wait_listen(port, dst)
        s = connect(d + "/s.sock")
        s.sendall(b'{"execute":"subscribe","arguments":{"events":["job-completed"]}}\n'
                  b'{"execute":"migrate","arguments":{"uri":"tcp:127.0.0.1:%d",'
                  b'"compress":"%s"}}\n' % (port, compress.encode()))
        for msg in lines(s):
            if msg.get("event") == "job-completed":
                data = msg["data"]
                if data["status"] != "completed":
                    raise RuntimeError("wirt migration: %s" % data)
                # "N rounds, P pages (Z zero), B bytes, downtime D ms
                # (stop-and-copy S ms), total T ms"
                parts = data["result"].replace(",", "").replace("(", "").split()
                return {"downtime": float(parts[parts.index("downtime") + 1]),
                        "stop-copy": float(parts[parts.index("stop-and-copy") + 1]),
                        "total": float(parts[parts.index("total") + 1]),
                        "bytes": int(parts[parts.index("bytes") - 1]),
                        "result": data["result"], "rate": rate}
        raise RuntimeError("wirt: no job-completed event")
    finally:
        for p in (src, dst):
            if p.poll() is None:
                p.kill()
            p.wait()


def qmp(path):
    s = connect(path)
    f = s.makefile("r")
    f.readline()  # greeting

    def call(cmd, **args):
        req = {"execute": cmd}
        if args:
            req["arguments"] = args
        s.sendall((json.dumps(req) + "\n").encode())
        while True:
            msg = json.loads(f.readline())
            if "event" not in msg:
                return msg
    call("qmp_capabilities")
    return call


def run_qemu(d, port, dirty):
    common = guestlib.qemu_argv(bios=guestlib.guest_file("fw_dynamic.bin"))
    common = [a for a in common if a != "-nographic"] + ["-display", "none"]
    log = os.path.join(d, "q-src.log")
    src = subprocess.Popen(common + ["-qmp", "unix:%s/q-src.qmp,server=on,wait=off" % d,
                                     "-chardev", "socket,id=s0,path=%s/q.serial,server=on,"
                                     "wait=off,logfile=%s" % (d, log), "-serial", "chardev:s0"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dst = subprocess.Popen(common + ["-qmp", "unix:%s/q-dst.qmp,server=on,wait=off" % d,
                                     "-serial", "file:%s/q-dst.log" % d,
                                     "-incoming", "tcp:127.0.0.1:%d" % port],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_file_text(log, READY)
        time.sleep(2)
        if dirty:
            type_line(d + "/q.serial", WRITER)
            wait_file_text(log, DIRTYING, timeout=600)
        time.sleep(3)
        rate = writer_rate(d + "/q.serial", log) if dirty else None
        wait_listen(port, dst)
        call = qmp(d + "/q-src.qmp")
        call("migrate-set-parameters", **{"downtime-limit": 100,
                                          "max-bandwidth": 100 * 1024 * 1024 * 1024})
        r = call("migrate", uri="tcp:127.0.0.1:%d" % port)
        if "error" in r:
            raise RuntimeError("qemu migrate: %s" % r)
        while True:
            st = call("query-migrate")["return"]
            if st.get("status") in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.05)
        if st["status"] != "completed":
            raise RuntimeError("qemu migration: %s" % st)
        # QEMU's downtime ends when the source sent its last byte: it is
        # stop-copy here; the time until the destination runs is not reported.
        return {"downtime": None, "stop-copy": float(st["downtime"]),
                "total": float(st["total-time"]), "bytes": int(st["ram"]["transferred"]),
                "rate": rate}
    finally:
        for p in (src, dst):
            if p.poll() is None:
                p.kill()
            p.wait()


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--dirty", action="store_true", help="the guest dirties 64 MiB meanwhile")
    ap.add_argument("--compress", choices=("auto", "always", "never"), default="auto",
                    help="wirt's page compression")
    ap.add_argument("--only", choices=("wirt", "qemu"),
                    help="run one side only (no ratios; for quick iterations)")
    args = ap.parse_args()
    wirt = os.path.join(args.build, "wirt")
    have_qemu = shutil.which("qemu-system-riscv64") is not None and args.only != "wirt"
    res = {"wirt": [], "qemu": []}
    def attempt(fn, *a):
        """A run that could not start (a port another process took, a
        destination that died under load) is run again once."""
        for tries in (1, 2):
            d = tempfile.mkdtemp(prefix="wirt-migbench-")
            try:
                return fn(d, random.randint(45000, 46999), *a)
            except RuntimeError as e:
                if tries == 2:
                    raise
                print("  retrying: %s" % e, file=sys.stderr)
            finally:
                shutil.rmtree(d, ignore_errors=True)

    # wirt and QEMU alternate, so that both see the same load on a shared host.
    for _ in range(args.rounds):
        if args.only != "qemu":
            res["wirt"].append(attempt(lambda d, port: run_wirt(wirt, d, port, args.dirty,
                                                                 args.compress)))
            print("  wirt %s" % res["wirt"][-1], file=sys.stderr, flush=True)
        if have_qemu:
            res["qemu"].append(attempt(lambda d, port: run_qemu(d, port, args.dirty)))
            print("  qemu %s" % res["qemu"][-1], file=sys.stderr, flush=True)
    print("live migration, %s 512 MiB default guest, loopback, median of %d, wirt compress=%s"
          % ("dirtying (%d MiB/s of small edits over 64 MiB of tmpfs)" % (RATE * 2)
             if args.dirty else "idle", args.rounds, args.compress))
    print("%-14s %12s %12s %8s" % ("", "wirt", "qemu", "ratio"))
    for key, unit in (("downtime", "ms"), ("stop-copy", "ms"), ("total", "ms"), ("bytes", "B")):
        if not res["wirt"]:
            q = res["qemu"][0][key] is not None and median([r[key] for r in res["qemu"]])
            print("%-14s %12s %12s" % (key + " (" + unit + ")", "-",
                                       "n/a" if q is False else "%.1f" % q))
            continue
        w = median([r[key] for r in res["wirt"]])
        if res["qemu"] and res["qemu"][0][key] is None:
            print("%-14s %12.1f %12s" % (key + " (" + unit + ")", w, "n/a"))
        elif res["qemu"]:
            q = median([r[key] for r in res["qemu"]])
            print("%-14s %12.1f %12.1f %8.2f" % (key + " (" + unit + ")", w, q, w / q if q else 0))
        else:
            print("%-14s %12.1f %12s" % (key + " (" + unit + ")", w, "-"))
    if args.dirty:
        rates = ["%.1f" % median([r["rate"] or 0 for r in res[k]]) if res[k] else "-"
                 for k in ("wirt", "qemu")]
        print("%-14s %12s %12s" % ("writer MiB/s", rates[0], rates[1]))


if __name__ == "__main__":
    main()
