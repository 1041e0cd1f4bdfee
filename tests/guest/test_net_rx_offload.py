# SPDX-License-Identifier: MIT
"""virtio-net receive offloads with a tap backend (root only).

In a network namespace of its own the test makes a TAP interface, runs
wirt there with --net tap, and sends 16 MiB over TCP from the namespace to
a busybox nc in the guest, which hashes what it got.  The guest must have
negotiated GUEST_CSUM, GUEST_TSO4 and MRG_RXBUF (the virtio feature bits
in sysfs), the hash must match, and the guest's receive counters must
show frames larger than the MTU: the host's large TCP segments reached it
whole instead of being cut into 1514-byte frames.
"""
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

HOST_IP, GUEST_IP = "192.168.77.1", "192.168.77.2"
SIZE = 16 << 20
# virtio-net feature bits (virtio 1.x, "Feature bits").
GUEST_CSUM, GUEST_TSO4, GUEST_TSO6, MRG_RXBUF = 1, 7, 8, 15


def can_run():
    return (os.geteuid() == 0 and shutil.which("ip") is not None and guestlib.have_guest()
            and os.access(guestlib.wirt_bin(), os.X_OK) and os.path.exists("/dev/net/tun"))


def sh(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@unittest.skipUnless(can_run(), "needs root, ip, /dev/net/tun, build/wirt and the default guest")
class TapRxOffloadTest(unittest.TestCase):
    def setUp(self):
        tag = "%05d" % random.randrange(100000)
        self.ns, self.tap = "wirtrx" + tag, "wrx" + tag
        sh("ip", "netns", "add", self.ns)
        self.addCleanup(sh, "ip", "netns", "del", self.ns)
        ns = ["ip", "netns", "exec", self.ns]
        sh(*ns, "ip", "link", "set", "lo", "up")
        sh(*ns, "ip", "tuntap", "add", self.tap, "mode", "tap")
        sh(*ns, "ip", "addr", "add", HOST_IP + "/24", "dev", self.tap)
        sh(*ns, "ip", "link", "set", self.tap, "up")
        self.dir = tempfile.mkdtemp(prefix="wirt-rxoff-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def send(self, path, port):
        """Connects from the namespace to the guest and sends the file."""
        code = ("import socket,sys,time\n"
                "for i in range(60):\n"
                "    try:\n"
                "        s = socket.create_connection((%r, %d), timeout=10); break\n"
                "    except OSError:\n"
                "        time.sleep(1)\n"
                "s.settimeout(300)\n"
                "s.sendall(open(%r, 'rb').read())\n"
                "s.shutdown(socket.SHUT_WR)\n"
                "s.recv(1)\n" % (GUEST_IP, port, path))
        return subprocess.Popen(["ip", "netns", "exec", self.ns, sys.executable, "-c", code],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def test_large_tcp_transfer_host_to_guest(self):
        data = os.urandom(SIZE)
        path = os.path.join(self.dir, "data")
        with open(path, "wb") as f:
            f.write(data)
        argv = ["ip", "netns", "exec", self.ns] + guestlib.wirt_argv(
            extra=["--net", "tap,ifname=" + self.tap])
        with guestlib.Guest(argv, name="wirt") as g:
            g.wait_ready()
            # No DHCP server here: a static address instead.
            g.run("killall udhcpc 2>/dev/null; ifconfig eth0 %s netmask 255.255.255.0 up"
                  % GUEST_IP)
            feats = g.run("cat /sys/class/net/eth0/device/features").strip()
            for bit in (GUEST_CSUM, GUEST_TSO4, GUEST_TSO6, MRG_RXBUF):
                self.assertEqual(feats[bit], "1", "feature bit %d not negotiated: %s"
                                 % (bit, feats))
            rx0 = [int(g.run("cat /sys/class/net/eth0/statistics/rx_%s" % k))
                   for k in ("packets", "bytes")]
            port = 5000 + random.randrange(1000)
            # nc's stdin is a pipe: a background job reading the console
            # would be stopped (SIGTTIN) and the transfer with it.
            g.run("{ (sleep 3600 | nc -l -p %d | sha256sum > /tmp/sum) & }" % port)
            time.sleep(1)
            sender = self.send(path, port)
            deadline = time.monotonic() + 600
            while not g.run("cat /tmp/sum 2>/dev/null; true").strip():
                self.assertLess(time.monotonic(), deadline, "transfer did not finish")
                time.sleep(2)
            sender.wait(timeout=60)
            got = g.run("cat /tmp/sum").split()[0]
            self.assertEqual(got, hashlib.sha256(data).hexdigest())
            packets, nbytes = [int(g.run("cat /sys/class/net/eth0/statistics/rx_%s" % k)) - v
                               for k, v in zip(("packets", "bytes"), rx0)]
            self.assertGreater(nbytes, SIZE)
            # Cut to the MTU, 16 MiB would be over 11000 frames of at most
            # 1514 bytes; whole segments average well above that.
            self.assertGreater(nbytes / packets, 3000, "%d bytes in %d frames" % (nbytes, packets))
            self.assertEqual(g.poweroff(), 0)


if __name__ == "__main__":
    unittest.main()
