# SPDX-License-Identifier: MIT
"""virtio-net with user networking (libslirp) in the default guest.

- DHCP gives eth0 10.0.2.15; the guest downloads a file from a Python
  http.server on the host's 127.0.0.1 through 10.0.2.2 and checks its hash;
- hostfwd: the host connects to a busybox nc listener in the guest, data
  goes both ways;
- two NICs at once (the second on 10.0.3.0/24), both usable;
- malformed --net options exit with status 2 and one line;
- without --net the guest gets user networking (as under QEMU), whose
  DHCP pushes no hostname; --net none gives it no NIC.

WIRT_TEST_VM=qemu runs the same guest under qemu-system-riscv64.
"""
import functools
import hashlib
import http.server
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

VM = os.environ.get("WIRT_TEST_VM", "wirt")


def vm_available():
    if not guestlib.have_guest():
        return False
    if VM == "qemu":
        return shutil.which("qemu-system-riscv64") is not None
    return os.access(guestlib.wirt_bin(), os.X_OK)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def net_args(nics):
    """nics: list of dicts with optional hostfwd=[(hport, gport)], net=CIDR."""
    args = []
    for i, nic in enumerate(nics):
        opts = ["user"]
        for hport, gport in nic.get("hostfwd", []):
            opts.append("hostfwd=tcp:127.0.0.1:%d-:%d" % (hport, gport))
        if "net" in nic:
            opts.append("net=" + nic["net"])
        if VM == "qemu":
            opts[0] = "user,id=n%d" % i
            dev = "virtio-net-device,netdev=n%d" % i
            if "mac" in nic:
                dev += ",mac=" + nic["mac"]
            args += ["-netdev", ",".join(opts), "-device", dev]
        else:
            if "mac" in nic:
                opts.append("mac=" + nic["mac"])
            args += ["--net", ",".join(opts)]
    return args


def start_guest(nics):
    extra = net_args(nics)
    if VM == "qemu":
        return guestlib.Guest(guestlib.qemu_argv(extra=extra), name="qemu")
    return guestlib.Guest(guestlib.wirt_argv(extra=extra), name="wirt")


def wait_addr(g, ifname, prefix, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        out = g.run("ifconfig %s 2>/dev/null | grep 'inet addr' || true" % ifname)
        if "addr:" + prefix in out:
            return out
        if time.monotonic() > deadline:
            raise AssertionError("%s got no %s* address: %s" % (ifname, prefix, out))
        time.sleep(2)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class HttpServer:
    """A python http.server on 127.0.0.1 serving a directory."""

    def __init__(self, directory):
        handler = functools.partial(QuietHandler, directory=directory)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@unittest.skipUnless(vm_available(), "needs the default guest (tools/fetch-guest.sh) and the VM")
class VirtioNetGuestTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wirt-net-test-")
        self.payload = os.urandom(512 * 1024)
        with open(os.path.join(self.dir, "payload.bin"), "wb") as f:
            f.write(self.payload)
        self.http = HttpServer(self.dir)

    def tearDown(self):
        self.http.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def download(self, g, host_ip):
        g.run("wget -q -O /tmp/dl http://%s:%d/payload.bin" % (host_ip, self.http.port),
              timeout=300)
        out = g.run("sha256sum /tmp/dl && rm /tmp/dl")
        self.assertEqual(out.split()[0], hashlib.sha256(self.payload).hexdigest())

    def test_dhcp_download_and_hostfwd(self):
        hport = free_port()
        with start_guest([{"hostfwd": [(hport, 5555)]}]) as g:
            g.wait_ready()
            wait_addr(g, "eth0", "10.0.2.15")
            self.download(g, "10.0.2.2")

            # A listener in the guest that sends a line and records what it gets.
            g.run("{ (echo from-guest; sleep 5) | nc -l -p 5555 > /tmp/got 2>&1 & }")
            time.sleep(1)
            got = b""
            deadline = time.monotonic() + 60
            while b"from-guest" not in got:
                try:
                    with socket.create_connection(("127.0.0.1", hport), timeout=20) as s:
                        s.sendall(b"from-host\n")
                        s.settimeout(20)
                        while b"from-guest" not in got:
                            data = s.recv(4096)
                            if not data:
                                break
                            got += data
                except OSError:
                    pass
                if b"from-guest" not in got:
                    if time.monotonic() > deadline:
                        self.fail("no data from the guest through hostfwd: %r" % got)
                    time.sleep(1)
            self.assertIn(b"from-guest", got)
            deadline = time.monotonic() + 30
            while "from-host" not in g.run("cat /tmp/got"):
                self.assertLess(time.monotonic(), deadline, "guest did not receive host data")
                time.sleep(1)
            self.assertEqual(g.poweroff(), 0)

    def test_two_nics(self):
        macs = {"10.0.2": "52:54:00:12:34:01", "10.0.3": "52:54:00:12:34:02"}
        with start_guest([{"mac": macs["10.0.2"]},
                          {"net": "10.0.3.0/24", "mac": macs["10.0.3"]}]) as g:
            g.wait_ready()
            # Which ethN is which NIC depends on probe order: go by MAC.
            out = g.run("for i in /sys/class/net/eth*; do echo $(basename $i) $(cat $i/address); done")
            by_mac = {line.split()[1]: line.split()[0] for line in out.splitlines()}
            ifs = {net: by_mac[mac] for net, mac in macs.items()}
            # The guest's init runs DHCP on eth0 only; do the other one here.
            for net, ifname in ifs.items():
                if ifname != "eth0":
                    g.run("ifconfig %s up && udhcpc -i %s -s /etc/udhcpc.script -q -t 10 -T 2 -n"
                          % (ifname, ifname), timeout=120)
            for net, ifname in ifs.items():
                wait_addr(g, ifname, net + ".15")
            self.download(g, "10.0.2.2")
            self.download(g, "10.0.3.2")
            # Both interfaces really carried traffic.
            for ifname in ifs.values():
                rx = int(g.run("cat /sys/class/net/%s/statistics/rx_bytes" % ifname))
                self.assertGreater(rx, len(self.payload))
            self.assertEqual(g.poweroff(), 0)


@unittest.skipUnless(VM == "wirt" and guestlib.have_guest()
                     and os.access(guestlib.wirt_bin(), os.X_OK),
                     "needs build/wirt and the default guest")
class DefaultNetTest(unittest.TestCase):
    def test_default_user_net_without_hostname(self):
        with guestlib.Guest(guestlib.wirt_argv(), name="wirt") as g:
            g.wait_ready()
            wait_addr(g, "eth0", "10.0.2.15")
            # A lease again, through a script that records what DHCP gave.
            g.run("printf '#!/bin/sh\\necho \"$1 hn=[$hostname] ip=[$ip]\" >> /tmp/env\\n' "
                  "> /tmp/s && chmod +x /tmp/s")
            g.run("udhcpc -i eth0 -s /tmp/s -q -n -t 5 -T 2 >/dev/null 2>&1; true", timeout=120)
            out = g.run("cat /tmp/env")
            self.assertIn("bound hn=[] ip=[10.0.2.15]", out)
            self.assertEqual(g.poweroff(), 0)

    def test_net_none(self):
        with guestlib.Guest(guestlib.wirt_argv(extra=["--net", "none"]), name="wirt") as g:
            g.wait_ready()
            self.assertEqual(g.run("ls /sys/class/net").split(), ["lo"])
            self.assertEqual(g.poweroff(), 0)


@unittest.skipUnless(VM == "wirt" and guestlib.have_guest()
                     and os.access(guestlib.wirt_bin(), os.X_OK),
                     "needs build/wirt and the default guest")
class NetFlagTest(unittest.TestCase):
    def check_usage_error(self, spec, word):
        r = subprocess.run([guestlib.wirt_bin(), "run", "--net", spec],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        err = r.stderr.decode().strip()
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn("--net", err)
        self.assertIn(word, err)

    def test_malformed_hostfwd(self):
        self.check_usage_error("user,hostfwd=tcp::22", "hostfwd")

    def test_hostfwd_bad_port(self):
        self.check_usage_error("user,hostfwd=tcp::70000-:22", "hostfwd")

    def test_unknown_backend(self):
        self.check_usage_error("bridge,br=br0", "bridge")

    def test_bad_mac(self):
        self.check_usage_error("user,mac=52:54:00:zz:00:01", "mac")

    def test_tap_without_ifname(self):
        self.check_usage_error("tap", "ifname")

    def test_none_with_another(self):
        r = subprocess.run([guestlib.wirt_bin(), "run", "--net", "none", "--net", "user"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stderr.decode().strip(),
                         "wirt: --net none: cannot be combined with another --net")


if __name__ == "__main__":
    unittest.main()
