#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""virtio benchmark: the same guest, image and devices under wirt and under
qemu-system-riscv64 -M virt; prints each number and the ratio wirt/qemu.

  disk   sequential write and read of a raw image with dd bs=1M
         oflag=direct / iflag=direct (bypasses the guest page cache);
         small random 4 KiB direct reads and writes (one busybox dd per
         I/O, so process start-up is part of the number on both VMs)
  net    TCP through user networking (libslirp on both): guest -> host
         (busybox nc into a Python sink on the host) and host -> guest
         (a Python source on the host, busybox nc | dd in the guest); busybox
         nc moves data in 1 KiB read()/write() pieces (guest -> host: one
         TCP segment and one ACK per KiB whatever the NIC offloads, so that
         number mostly measures the guest CPU), so also HTTP: busybox wget
         from a host http.server, and a host client fetching from busybox
         httpd in the guest through hostfwd (timed on the host)
  tap    (root; not in the default set) TCP host -> guest over a TAP
         device in a network namespace of its own (wirt: --net tap, QEMU:
         -netdev tap without vhost), sent by Python in the namespace to
         busybox nc in the guest and timed from connect until the guest
         closes: the receive offloads (GUEST_TSO4/6, MRG_RXBUF) at work,
         since the host's large TCP segments reach the guest whole on both

Times come from the guest's `time` applet (its clock follows the host's);
sizes can be changed with WIRT_BENCH_DISK_MB, WIRT_BENCH_NET_MB,
WIRT_BENCH_RANDOM_OPS; WIRT picks the wirt binary (guestlib).
Usage: bench/virtio_bench.py [--only disk|net|tap] [wirt|qemu ...]
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "guest"))
import guestlib  # noqa: E402

DISK_MB = int(os.environ.get("WIRT_BENCH_DISK_MB", "64"))
NET_MB = int(os.environ.get("WIRT_BENCH_NET_MB", "16"))
RANDOM_OPS = int(os.environ.get("WIRT_BENCH_RANDOM_OPS", "200"))
IMAGE_MB = max(256, DISK_MB * 2)


def vm_argv(vm, image, hport, tap=None):
    fwd = "hostfwd=tcp:127.0.0.1:%d-:8080" % hport
    if tap:
        ns = ["ip", "netns", "exec", tap[0]]
        if vm == "qemu":
            return ns + guestlib.qemu_argv(extra=[
                "-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no,vhost=off" % tap[1],
                "-device", "virtio-net-device,netdev=n0"])
        return ns + guestlib.wirt_argv(extra=["--net", "tap,ifname=" + tap[1]])
    if vm == "qemu":
        extra = ["-drive", "file=%s,if=none,format=raw,id=d0,cache=writeback" % image,
                 "-device", "virtio-blk-device,drive=d0",
                 "-netdev", "user,id=n0," + fwd, "-device", "virtio-net-device,netdev=n0"]
        return guestlib.qemu_argv(extra=extra)
    return guestlib.wirt_argv(extra=["--disk", image + ",format=raw", "--net", "user," + fwd])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Http(threading.Thread):
    """A host HTTP server with one file of `size` bytes at /blob."""

    def __init__(self, size):
        super().__init__(daemon=True)
        import functools
        import http.server
        self.dir = tempfile.mkdtemp(prefix="wirt-bench-http-")
        with open(os.path.join(self.dir, "blob"), "wb") as f:
            f.truncate(size)

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *a):
                pass
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Quiet, directory=self.dir))
        self.port = self.httpd.server_address[1]

    def run(self):
        self.httpd.serve_forever()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)


def timed(g, command, timeout=1800):
    """Runs command under the guest's `time`; returns seconds (real)."""
    out = g.run("time sh -c '%s' 2>&1 >/dev/null | tail -3" % command, timeout=timeout)
    m = re.search(r"real\s+(?:(\d+)m\s*)?([\d.]+)s", out)
    if not m:
        raise RuntimeError("no timing in %r" % out)
    return int(m.group(1) or 0) * 60 + float(m.group(2))


class Sink(threading.Thread):
    """Accepts one connection and reads `want` bytes, then closes."""

    def __init__(self, want):
        super().__init__(daemon=True)
        self.want = want
        self.got = 0
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]

    def run(self):
        conn, _ = self.srv.accept()
        with conn:
            while self.got < self.want:
                data = conn.recv(1 << 20)
                if not data:
                    break
                self.got += len(data)
        self.srv.close()


class Source(threading.Thread):
    """Accepts one connection, sends `size` bytes and closes."""

    def __init__(self, size):
        super().__init__(daemon=True)
        self.size = size
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]

    def run(self):
        conn, _ = self.srv.accept()
        buf = b"\0" * (1 << 16)
        left = self.size
        with conn:
            while left > 0:
                n = min(left, len(buf))
                conn.sendall(buf[:n])
                left -= n
        self.srv.close()


TAP_HOST, TAP_GUEST = "192.168.78.1", "192.168.78.2"


class TapNs:
    """A network namespace with a TAP interface the VM runs on."""

    def __init__(self):
        tag = "%05d" % (os.getpid() % 100000)
        self.ns, self.tap = "wirtbn" + tag, "wbn" + tag
        ns = ["ip", "netns", "exec", self.ns]
        for argv in (["ip", "netns", "add", self.ns], ns + ["ip", "link", "set", "lo", "up"],
                     ns + ["ip", "tuntap", "add", self.tap, "mode", "tap"],
                     ns + ["ip", "addr", "add", TAP_HOST + "/24", "dev", self.tap],
                     ns + ["ip", "link", "set", self.tap, "up"]):
            subprocess.run(argv, check=True)

    def close(self):
        subprocess.run(["ip", "netns", "del", self.ns], check=False)


def bench_tap(g, results, tapns):
    g.run("killall udhcpc 2>/dev/null; ifconfig eth0 %s netmask 255.255.255.0 up" % TAP_GUEST)
    size = NET_MB << 20
    # Not the console as stdin: a background reader of it gets SIGTTIN.
    g.run("{ (sleep 3600 | nc -l -p 5001 >/dev/null) & }")
    code = ("import socket,time\n"
            "for i in range(60):\n"
            "    try:\n"
            "        s = socket.create_connection((%r, 5001), timeout=10); break\n"
            "    except OSError: time.sleep(1)\n"
            "s.settimeout(600); buf = bytes(1 << 16); t = time.monotonic(); left = %d\n"
            "while left > 0:\n"
            "    n = min(left, len(buf)); s.sendall(buf[:n]); left -= n\n"
            "s.shutdown(socket.SHUT_WR); s.recv(1)\n"
            "print(time.monotonic() - t)\n" % (TAP_GUEST, size))
    out = subprocess.run(["ip", "netns", "exec", tapns.ns, sys.executable, "-c", code],
                         check=True, stdout=subprocess.PIPE, timeout=1800).stdout
    results["tap tcp host->guest MB/s"] = NET_MB / float(out.decode().strip())


def bench_vm(vm, parts):
    results = {}
    if "tap" in parts:
        tapns = TapNs()
        try:
            g = guestlib.Guest(vm_argv(vm, None, 0, (tapns.ns, tapns.tap)), name=vm)
            try:
                g.wait_ready()
                bench_tap(g, results, tapns)
                g.poweroff(timeout=300)
            finally:
                g.close()
        finally:
            tapns.close()
        return results
    with tempfile.TemporaryDirectory(prefix="wirt-bench-") as d:
        image = os.path.join(d, "bench.img")
        with open(image, "wb") as f:
            f.truncate(IMAGE_MB << 20)
        hport = free_port()
        g = guestlib.Guest(vm_argv(vm, image, hport), name=vm)
        try:
            g.wait_ready()
            g.run("for i in $(seq 60); do ifconfig eth0 | grep -q 'inet addr:10.0.2.15' && "
                  "break; sleep 1; done; ifconfig eth0 | grep -q 'inet addr:10.0.2.15'",
                  timeout=300)
            if "disk" in parts:
                bench_disk(g, results)
            if "net" in parts:
                bench_net(g, results, hport)
            g.poweroff(timeout=300)
        finally:
            g.close()
    return results


def bench_disk(g, results):
    t = timed(g, "dd if=/dev/zero of=/dev/vda bs=1M count=%d oflag=direct" % DISK_MB)
    results["seq write MB/s"] = DISK_MB / t
    t = timed(g, "dd if=/dev/vda of=/dev/null bs=1M count=%d iflag=direct" % DISK_MB)
    results["seq read MB/s"] = DISK_MB / t
    blocks = (IMAGE_MB << 20) // 4096
    loop = ("i=0; while [ $i -lt %d ]; do dd if=/dev/vda of=/dev/null bs=4k count=1 "
            "skip=$(( (RANDOM * 32768 + RANDOM) %% %d )) iflag=direct 2>/dev/null; "
            "i=$((i+1)); done" % (RANDOM_OPS, blocks))
    results["rand 4k read IOPS"] = RANDOM_OPS / timed(g, loop)
    loop = ("i=0; while [ $i -lt %d ]; do dd if=/dev/zero of=/dev/vda bs=4k count=1 "
            "seek=$(( (RANDOM * 32768 + RANDOM) %% %d )) oflag=direct 2>/dev/null; "
            "i=$((i+1)); done" % (RANDOM_OPS, blocks))
    results["rand 4k write IOPS"] = RANDOM_OPS / timed(g, loop)


def bench_net(g, results, hport):
    size = NET_MB << 20
    sink = Sink(size)
    sink.start()
    t = timed(g, "dd if=/dev/zero bs=64k count=%d 2>/dev/null | nc 10.0.2.2 %d"
              % (size >> 16, sink.port))
    sink.join(60)
    if sink.got < size:
        raise RuntimeError("guest->host: host got %d of %d bytes" % (sink.got, size))
    results["tcp guest->host MB/s"] = NET_MB / t
    src = Source(size)
    src.start()
    t = timed(g, "nc 10.0.2.2 %d </dev/null | dd of=/dev/null bs=64k 2>/dev/null"
              % src.port)
    src.join(60)
    results["tcp host->guest MB/s"] = NET_MB / t

    # The same directions with programs that move data in bigger
    # pieces than busybox nc: wget from a host HTTP server, and a
    # host client fetching from busybox httpd in the guest.
    http = Http(size)
    http.start()
    try:
        t = timed(g, "wget -q -O /dev/null http://10.0.2.2:%d/blob" % http.port)
        results["http host->guest MB/s"] = NET_MB / t
    finally:
        http.close()
    g.run("mkdir -p /tmp/www && dd if=/dev/zero of=/tmp/www/blob bs=64k count=%d "
          "2>/dev/null && httpd -p 8080 -h /tmp/www" % (size >> 16))
    start = time.monotonic()
    got = 0
    with urllib.request.urlopen("http://127.0.0.1:%d/blob" % hport, timeout=600) as r:
        while True:
            data = r.read(1 << 20)
            if not data:
                break
            got += len(data)
    t = time.monotonic() - start
    if got != size:
        raise RuntimeError("guest->host http: got %d of %d bytes" % (got, size))
    results["http guest->host MB/s"] = NET_MB / t


def main():
    args = sys.argv[1:]
    parts = ("disk", "net")
    if args[:1] == ["--only"]:
        if len(args) < 2 or args[1] not in parts + ("tap",):
            sys.exit("usage: virtio_bench.py [--only disk|net|tap] [wirt|qemu ...]")
        parts = (args[1],)
        args = args[2:]
    vms = args or ["wirt", "qemu"]
    if any(vm not in ("wirt", "qemu") for vm in vms):
        sys.exit("usage: virtio_bench.py [--only disk|net|tap] [wirt|qemu ...]")
    if not guestlib.have_guest():
        sys.exit("virtio_bench: the default guest is missing (run tools/fetch-guest.sh)")
    all_results = {}
    for vm in vms:
        print("virtio_bench: running %s ..." % vm, flush=True)
        all_results[vm] = bench_vm(vm, parts)
    keys = list(next(iter(all_results.values())).keys())
    header = "%-22s" % "metric" + "".join("%12s" % vm for vm in vms)
    if "wirt" in all_results and "qemu" in all_results:
        header += "%12s" % "wirt/qemu"
    print(header)
    for k in keys:
        line = "%-22s" % k + "".join("%12.2f" % all_results[vm][k] for vm in vms)
        if "wirt" in all_results and "qemu" in all_results:
            q = all_results["qemu"][k]
            line += "%12.3f" % (all_results["wirt"][k] / q if q else float("nan"))
        print(line)


if __name__ == "__main__":
    main()
