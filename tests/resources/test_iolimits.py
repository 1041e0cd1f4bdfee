# SPDX-License-Identifier: MIT
"""Disk I/O limits (token buckets in src/virtio/blk.c): the default guest
reads and writes a raw disk with O_DIRECT under bps= and iops= caps, and
the measured rate is within 10% of the set one; set-io-limits changes the
caps of the running VM and query-io reports them with the guest's counts;
bad values are one line."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
import guestlib  # noqa: E402
from test_move_disk import Control  # noqa: E402

MIB = 1 << 20


def timed(g, command):
    """Runs command in the guest; seconds it took by the guest's uptime."""
    out = g.run("a=$(cut -d' ' -f1 /proc/uptime); %s >/dev/null 2>&1; "
                "b=$(cut -d' ' -f1 /proc/uptime); echo $a $b" % command)
    a, b = out.split()[-2:]
    return float(b) - float(a)


@unittest.skipUnless(guestlib.have_guest() and os.access(guestlib.wirt_bin(), os.X_OK),
                     "default guest or build/wirt missing")
class IoLimitsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="wirt-iolimits-")
        self.disk = os.path.join(self.tmp.name, "d.raw")
        with open(self.disk, "wb") as f:
            f.truncate(64 * MIB)

    def tearDown(self):
        self.tmp.cleanup()

    def assertNear(self, measured, want, what):
        self.assertLess(abs(measured - want) / want, 0.10,
                        "%s: measured %.1f, set %.1f" % (what, measured, want))

    def test_caps_measured(self):
        sock = os.path.join(self.tmp.name, "ctl")
        argv = guestlib.wirt_argv(extra=["--disk", self.disk + ",format=raw,bps=2M",
                                         "--control", sock])
        with guestlib.Guest(argv) as g:
            g.wait_ready()
            c = Control(sock)
            # Read bandwidth: 8 MiB at 2 MiB/s (the burst is a tenth of that).
            t = timed(g, "dd if=/dev/vda of=/dev/null bs=64k count=128 iflag=direct")
            self.assertNear(8 * MIB / t, 2 * MIB, "read bytes/s")
            # The running VM's limit changes: write bandwidth 4 MiB/s.
            r = c.call("set-io-limits", disk=0, bps=0, **{"bps-wr": "4M"})
            self.assertEqual(r["return"], {"bps-wr": 4 * MIB}, r)
            t = timed(g, "dd if=/dev/zero of=/dev/vda bs=64k count=256 oflag=direct")
            self.assertNear(16 * MIB / t, 4 * MIB, "write bytes/s")
            # IOPS: 200 reads of 4 KiB at 50 a second.
            r = c.call("set-io-limits", disk="vda", iops=50, **{"bps-wr": "none"})
            self.assertEqual(r["return"], {"iops": 50}, r)
            t = timed(g, "dd if=/dev/vda of=/dev/null bs=4k count=200 iflag=direct")
            self.assertNear(200 / t, 50, "read IOPS")
            q = c.call("query-io")["return"]["disks"]
            self.assertEqual(q[0]["limits"], {"iops": 50})
            self.assertGreaterEqual(q[0]["rd-bytes"], 8 * MIB + 200 * 4096)
            self.assertGreaterEqual(q[0]["wr-bytes"], 16 * MIB)
            self.assertGreater(q[0]["throttled-ns"], 10 ** 9)
            bad = c.call("set-io-limits", disk=0, iops=-1)
            self.assertIn("iops=?", bad["error"]["desc"])
            c.s.close()
            self.assertEqual(g.poweroff(), 0)

    def test_bad_value(self):
        p = subprocess.run([guestlib.wirt_bin(), "run", "--disk", self.disk + ",bps=fast"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("bps=fast: expected bytes per second, like 10M", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)


@unittest.skipUnless(guestlib.have_guest() and os.access(guestlib.wirt_bin(), os.X_OK),
                     "default guest or build/wirt missing")
class StoreIoLimitsTest(unittest.TestCase):
    """`wirt vm set NAME disk.N.LIMIT=...` in vm.json and on a running VM;
    `wirt vm top --json` and `wirt vm info --json` show the rates."""

    def test_set_and_top(self):
        sys.path.insert(0, os.path.join(HERE, "..", "vm"))
        import vmlib
        s = vmlib.Store()
        try:
            s.ok("create", "io", "--from", "debian")
            s.ok("set", "io", "disk.0.bps-rd=4M", "disk.0.iops=5000")
            with open(s.path("io", "vm.json")) as f:
                self.assertEqual(json.load(f)["disks"][0]["throttle"],
                                 {"iops": 5000, "bps-rd": 4 * MIB})
            p = s.wirt("set", "io", "disk.3.bps=1M")
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("disk.3.bps: the VM has 1 disk(s)", p.stderr)
            p = s.wirt("set", "io", "disk.0.speed=1M")
            self.assertIn("unknown limit", p.stderr)
            p = s.wirt("set", "io", "disk.0.bps=lots")
            self.assertIn("bps=lots: expected bytes per second", p.stderr)
            s.ok("start", "io")
            vmlib.wait_ready(s, "io")
            con = vmlib.Serial(s, "io")
            # Reads in the background for longer than top samples.
            con.run("(dd if=/dev/vda of=/dev/null bs=64k count=640 iflag=direct &)")
            con.sock.close()
            time.sleep(1.5)
            top = json.loads(s.ok("top", "--json").stdout)
            self.assertEqual([v["name"] for v in top], ["io"])
            v = top[0]
            self.assertLess(abs(v["disk-rd-bytes-per-s"] - 4 * MIB) / (4 * MIB), 0.15, v)
            self.assertEqual(len(v["vcpu-cpu-percent"]), 1)
            self.assertGreater(v["rss-bytes"], 16 * MIB)
            # Lowered while it runs: the next second shows it.
            s.ok("set", "io", "disk.0.bps-rd=1M")
            time.sleep(1.5)
            v = json.loads(s.ok("top", "--json").stdout)[0]
            self.assertLess(abs(v["disk-rd-bytes-per-s"] - MIB) / MIB, 0.15, v)
            with open(s.path("io", "vm.json")) as f:
                self.assertEqual(json.load(f)["disks"][0]["throttle"]["bps-rd"], MIB)
            text = subprocess.run([vmlib.WIRT, "top", "--store", s.store, "--once"],
                                  capture_output=True, text=True, timeout=60).stdout
            self.assertIn("VCPU%", text)
            self.assertIn("io ", text)
            info = json.loads(s.ok("info", "io", "--json").stdout)
            self.assertGreater(info["usage"]["disk-rd-bytes"], 4 * MIB)
            self.assertEqual(len(info["usage"]["vcpu-cpu-ns"]), 1)
            s.ok("stop", "io", "--force")
        finally:
            s.close()


if __name__ == "__main__":
    unittest.main()
