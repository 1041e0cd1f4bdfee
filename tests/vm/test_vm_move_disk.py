# SPDX-License-Identifier: MIT
"""`wirt vm move-disk` with the real default guest: a running VM created
from the template (its disk a linked clone) has 16 MiB of random data
written, the disk is moved to a raw file while the guest keeps writing,
vm.json then names the new file and the template link is gone, the old
file is removed, the guest reads its data back (caches dropped) and so
does the next boot; bad arguments fail with one line."""
import hashlib
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import WIRT, Serial, Store, have_guest, wait_ready  # noqa: E402


def md5(out):
    """The last md5sum in console output (a log replay may come first)."""
    found = re.findall(r"\b[0-9a-f]{32}\b", out)
    return found[-1] if found else out


@unittest.skipUnless(have_guest() and os.access(WIRT, os.X_OK),
                     "default guest or build/wirt missing")
class MoveDiskTest(unittest.TestCase):
    def setUp(self):
        self.s = Store()
        self.consoles = []

    def tearDown(self):
        for c in self.consoles:
            c.close()
        self.s.close()

    def console(self, name):
        c = Serial(self.s, name)
        self.consoles.append(c)
        return c

    def test_move_running_disk(self):
        s = self.s
        s.ok("create", "mv", "--from", "debian")
        p = s.wirt("move-disk", "mv", "vda", "--to", "x.raw")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("not running", p.stderr)
        s.ok("start", "mv")
        wait_ready(s, "mv")
        con = self.console("mv")
        out, rc = con.run("dd if=/dev/urandom of=/dev/vda bs=1M count=16 conv=fsync 2>/dev/null"
                          " && dd if=/dev/vda bs=1M count=16 2>/dev/null | md5sum")
        self.assertEqual(rc, 0, out)
        digest = md5(out)
        # A writer beyond the first 16 MiB keeps going during the move.
        con.run("(while [ ! -e /tmp/stop ]; do dd if=/dev/urandom of=/dev/vda bs=64k count=1 "
                "seek=512 conv=fsync 2>/dev/null; done; touch /tmp/stopped) >/dev/null 2>&1 & true")

        for bad, msg in ((["vdq", "--to", "y.raw"], "no disk"),
                         (["vda", "--to", "../y.raw"], "plain file name"),
                         (["vda", "--to", "y.raw", "--format", "vmdk"], "qcow2 or raw"),
                         (["vda", "--to", "disk.qcow2"], "already exists")):
            p = s.wirt("move-disk", "mv", *bad)
            self.assertNotEqual(p.returncode, 0, bad)
            self.assertIn(msg, p.stderr, bad)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

        p = s.wirt("move-disk", "mv", "vda", "--to", "moved.raw", "--format", "raw",
                   timeout=900)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("moved disk vda", p.stdout)
        with open(s.path("mv", "vm.json")) as f:
            cfg = json.load(f)
        self.assertIn("moved.raw", json.dumps(cfg))
        self.assertNotIn("disk.qcow2", json.dumps(cfg))
        self.assertFalse(os.path.exists(s.path("mv", "disk.qcow2")))
        self.assertTrue(os.path.exists(s.path("mv", "moved.raw")))

        out, rc = con.run("touch /tmp/stop; while [ ! -e /tmp/stopped ]; do sleep 1; done; "
                          "echo 3 > /proc/sys/vm/drop_caches; "
                          "dd if=/dev/vda bs=1M count=16 2>/dev/null | md5sum")
        self.assertEqual((md5(out), rc), (digest, 0))
        con.close()
        self.consoles = []
        p = s.wirt("stop", "mv", "--timeout", "120", timeout=180)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(s.path("mv", "moved.raw"), "rb") as f:
            self.assertEqual(hashlib.md5(f.read(16 << 20)).hexdigest(), digest)
        s.ok("start", "mv")
        wait_ready(s, "mv")
        con = self.console("mv")
        out, rc = con.run("dd if=/dev/vda bs=1M count=16 2>/dev/null | md5sum")
        self.assertEqual((md5(out), rc), (digest, 0))
        con.close()
        self.consoles = []
        s.ok("stop", "mv", "--force")


if __name__ == "__main__":
    unittest.main()
