# SPDX-License-Identifier: MIT
"""Per-NIC rate caps (issue 14, src/net/net_rate.c): `--net user,rate=R`
and `--net tap,ifname=T,rate=R` hold TCP in each direction within 10% of
R, measured: the guest downloads from a host HTTP server (timed by the
guest's /proc/uptime) and uploads through busybox nc to a host listener
(timed from its first byte to its last).  Frames over the cap wait rather
than being dropped, so TCP runs at the cap.  control query-net reports
the cap, the bytes each way and the time frames waited; `wirt vm top`
and `wirt vm info --json` the NICs' rates and byte counts; bad rate
values get one line."""
import functools
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
import guestlib  # noqa: E402

RATE = 1000000  # bytes per second, each way
SIZE = 5000000  # bytes moved each way: 5 s at the cap

# Receives one connection's data and prints "BYTES SECONDS" (first byte
# to last); run on the host or inside the tap test's network namespace.
SINK = r"""
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.settimeout(120)
n, t0, t1 = 0, None, None
want = int(sys.argv[2])
while n < want:
    b = c.recv(1 << 16)
    if not b:
        break
    if t0 is None:
        t0 = time.monotonic()
    n += len(b)
    t1 = time.monotonic()
print(n, t1 - t0, flush=True)
"""


def control(path, request):
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(30)
    c.connect(path)
    c.sendall((json.dumps(request) + "\n").encode())
    r = json.loads(c.makefile().readline())
    c.close()
    return r


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


@unittest.skipUnless(guestlib.have_guest() and os.access(guestlib.wirt_bin(), os.X_OK),
                     "default guest or build/wirt missing")
class NetRateTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wirt-netrate-")
        with open(os.path.join(self.dir, "payload"), "wb") as f:
            f.write(os.urandom(SIZE))

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.dir])

    def check_rate(self, what, nbytes, seconds):
        got = nbytes / seconds
        # The cap counts Ethernet frames, headers too (~4% of full-sized
        # frames, far less of the TSO frames tap carries); the payload's
        # rate still lands within 10% of it.
        msg = "%s: %d bytes in %.2f s = %.0f B/s, cap %d B/s" % (what, nbytes, seconds, got,
                                                                 RATE)
        print(msg, file=sys.stderr)
        self.assertGreater(got, 0.9 * RATE, msg)
        self.assertLess(got, 1.1 * RATE, msg)

    def download(self, g, url):
        out = g.run("a=$(cut -d' ' -f1 /proc/uptime); wget -q -O /dev/null %s; "
                    "b=$(cut -d' ' -f1 /proc/uptime); echo $a $b" % url, timeout=120)
        a, b = map(float, out.split()[-2:])
        return b - a

    def upload(self, g, host, bind, sink_argv):
        sink = subprocess.Popen(sink_argv + ["-c", SINK, bind, str(SIZE)],
                                stdout=subprocess.PIPE, text=True)
        try:
            port = int(sink.stdout.readline())
            # Sent in the background: busybox nc may wait for more input
            # after its stdin ends; the sink counts the bytes.
            g.run("(dd if=/dev/zero bs=10000 count=%d 2>/dev/null | nc %s %d >/dev/null &)"
                  % (SIZE // 10000, host, port))
            n, secs = sink.stdout.readline().split()
            self.assertEqual(int(n), SIZE)
            return float(secs)
        finally:
            sink.kill()
            sink.wait()
            sink.stdout.close()

    def test_user_rate_both_ways(self):
        httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Quiet, directory=self.dir))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        ctl = os.path.join(self.dir, "c.sock")
        try:
            argv = guestlib.wirt_argv(extra=["--net", "user,rate=1M", "--control", ctl])
            with guestlib.Guest(argv) as g:
                g.wait_ready()
                secs = self.download(g, "http://10.0.2.2:%d/payload" % httpd.server_address[1])
                self.check_rate("user download", SIZE, secs)
                self.check_rate("user upload", SIZE,
                                self.upload(g, "10.0.2.2", "127.0.0.1", [sys.executable]))
                nic = control(ctl, {"execute": "query-net"})["return"]["nics"][0]
                self.assertEqual(nic["rate"], RATE)
                self.assertGreater(nic["rx-bytes"], SIZE)
                self.assertGreater(nic["tx-bytes"], SIZE)
                self.assertGreater(nic["throttled-ns"], 2 * 10**9, nic)
                self.assertEqual(g.poweroff(), 0)
        finally:
            httpd.shutdown()
            httpd.server_close()

    @unittest.skipUnless(os.geteuid() == 0 and os.path.exists("/dev/net/tun"),
                         "needs root and /dev/net/tun")
    def test_tap_rate_both_ways(self):
        ns = "wrate%d" % os.getpid()
        tap = "wrt%d" % (os.getpid() % 100000)
        sh = lambda *a: subprocess.run(a, check=True, capture_output=True, timeout=30)
        sh("ip", "netns", "add", ns)
        httpd = None
        try:
            nsx = ["ip", "netns", "exec", ns]
            sh(*nsx, "ip", "tuntap", "add", "dev", tap, "mode", "tap")
            sh(*nsx, "ip", "addr", "add", "10.78.0.1/24", "dev", tap)
            sh(*nsx, "ip", "link", "set", tap, "up")
            sh(*nsx, "ip", "link", "set", "lo", "up")
            httpd = subprocess.Popen(nsx + [sys.executable, "-m", "http.server", "--bind",
                                            "10.78.0.1", "--directory", self.dir, "18080"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            argv = nsx + guestlib.wirt_argv(extra=["--net", "tap,ifname=%s,rate=1M" % tap])
            with guestlib.Guest(argv) as g:
                g.wait_ready()
                g.run("ifconfig eth0 10.78.0.2 netmask 255.255.255.0 up")
                secs = self.download(g, "http://10.78.0.1:18080/payload")
                self.check_rate("tap download", SIZE, secs)
                self.check_rate("tap upload", SIZE,
                                self.upload(g, "10.78.0.1", "10.78.0.1", nsx + [sys.executable]))
                self.assertEqual(g.poweroff(), 0)
        finally:
            if httpd:
                httpd.kill()
                httpd.wait()
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)

    def test_store_vm_rate_in_top_and_info(self):
        """A store VM created with --net user,rate=1M: `wirt vm top --json`
        shows its NIC receiving at about the cap, `wirt top --once` has the
        columns, `wirt vm info --json` the byte counts."""
        sys.path.insert(0, os.path.join(HERE, "..", "vm"))
        import vmlib
        httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Quiet, directory=self.dir))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        s = vmlib.Store()
        try:
            s.ok("create", "nr", "--from", "debian", "--net", "user,rate=1M")
            s.ok("start", "nr")
            vmlib.wait_ready(s, "nr")
            con = vmlib.Serial(s, "nr")
            con.run("(wget -q -O /dev/null http://10.0.2.2:%d/payload &)" %
                    httpd.server_address[1])
            con.sock.close()
            time.sleep(1.5)
            v = json.loads(s.ok("top", "--json").stdout)[0]
            self.assertLess(abs(v["net-rx-bytes-per-s"] - RATE) / RATE, 0.15, v)
            self.assertLess(v["net-tx-bytes-per-s"], RATE / 5, v)
            text = subprocess.run([vmlib.WIRT, "top", "--store", s.store, "--once"],
                                  capture_output=True, text=True, timeout=60).stdout
            self.assertIn("NETRX/s", text)
            info = json.loads(s.ok("info", "nr", "--json").stdout)
            self.assertGreater(info["usage"]["net-rx-bytes"], RATE)
            self.assertGreater(info["usage"]["net-tx-bytes"], 0)
            s.ok("stop", "nr", "--force")
        finally:
            s.close()
            httpd.shutdown()
            httpd.server_close()

    def test_bad_rate(self):
        for spec in ("user,rate=fast", "user,rate=0", "tap,ifname=x,rate=-1"):
            p = subprocess.run([guestlib.wirt_bin(), "run", "--net", spec], capture_output=True,
                               text=True, timeout=60, stdin=subprocess.DEVNULL)
            self.assertEqual(p.returncode, 2, (spec, p.stderr))
            self.assertEqual(p.stderr.strip().count("\n"), 0, p.stderr)
            self.assertIn("rate", p.stderr)


if __name__ == "__main__":
    unittest.main()
