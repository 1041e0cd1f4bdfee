# SPDX-License-Identifier: MIT
"""`wirt vm` end to end with the real default guest (two boots): create
from the template, start, run commands through the console socket and
`wirt vm console`, stop gracefully; a linked clone of it boots, sees its
data and uses a small fraction of its disk space."""
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import WIRT, Serial, Store, have_guest, wait_ready  # noqa: E402


@unittest.skipUnless(have_guest() and os.access(WIRT, os.X_OK),
                     "default guest or build/wirt missing")
class GuestLifecycleTest(unittest.TestCase):
    def setUp(self):
        self.s = Store()

    def tearDown(self):
        for c in getattr(self, 'consoles', []):
            c.close()
        self.s.close()

    def stop_gracefully(self, name):
        t0 = time.monotonic()
        p = self.s.wirt("stop", name, "--timeout", "120", timeout=180)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("stopped VM '%s'" % name, p.stdout)
        self.assertEqual(self.s.vmm_pids(name), [])
        with open(self.s.path(name, "console.log"), errors="replace") as f:
            log = f.read()
        # The guest shut itself down: init ran its shutdown, the kernel powered off.
        self.assertIn("reboot: Power down", log)
        for f in ("vmm.pid", "control.sock", "serial.sock"):
            self.assertFalse(os.path.exists(self.s.path(name, f)), f)
        return time.monotonic() - t0

    def test_template_vm_console_stop_and_linked_clone(self):
        s = self.s
        s.ok("create", "web", "--from", "debian")
        s.ok("start", "web")
        wait_ready(s, "web")
        con = Serial(s, "web")
        self.consoles = [con]
        out, rc = con.run("echo $((6*7))")
        self.assertEqual((out, rc), ("42", 0))
        # A client that does not read for a while misses nothing: some
        # 14 KB of output wait for it (a send per byte used to fill the
        # socket after a few hundred bytes and drop the rest).
        con.drain(0.3)
        start = len(con.text)
        con.sock.sendall(b"seq 1 3000; echo SEQ-DONE\n")
        time.sleep(3)
        con.read_until(r"\nSEQ-DONE", 60)
        nums = re.findall(r"^(\d+)\r?$", con.text[start:], re.M)
        self.assertEqual(nums, [str(i) for i in range(1, 3001)])
        # The VM's disk (a linked clone of the template's empty disk).
        out, rc = con.run("cat /sys/block/vda/size")
        self.assertEqual(rc, 0, out)
        self.assertEqual(int(out), (8 << 30) // 512)
        out, rc = con.run("dd if=/dev/urandom of=/dev/vda bs=1M count=16 2>/dev/null && sync "
                          "&& dd if=/dev/vda bs=1M count=16 2>/dev/null | md5sum")
        self.assertEqual(rc, 0, out)
        digest = out.split()[0]
        self.assertRegex(digest, r"^[0-9a-f]{32}$")
        con.close()

        # `wirt vm console` from a pipe: replays the log tail, relays input.
        p = s.wirt("console", "web", input="echo X$((7*6))Y\n", timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("X42Y", p.stdout)
        self.assertIn("attached to 'web'", p.stderr)
        info = s.ok("info", "web").stdout
        self.assertIn("guest ready", info)
        self.assertRegex(s.ok("list").stdout, r"web\s+running\s+512M\s+1\s+\S+")

        self.stop_gracefully("web")
        self.assertRegex(s.ok("list").stdout, r"web\s+stopped")

        # The VM becomes a template; a linked clone boots from it.
        s.ok("template", "web")
        s.ok("clone", "web", "lc", "--linked")
        s.ok("start", "lc")
        wait_ready(s, "lc")
        con = Serial(s, "lc")
        self.consoles.append(con)
        out, rc = con.run("dd if=/dev/vda bs=1M count=16 2>/dev/null | md5sum")
        self.assertEqual((out.split()[0], rc), (digest, 0))
        out, rc = con.run("echo hello | dd of=/dev/vda bs=512 seek=100000 conv=fsync 2>/dev/null")
        self.assertEqual(rc, 0, out)
        con.close()
        self.stop_gracefully("lc")
        base = os.stat(s.path("web", "disk.qcow2")).st_blocks * 512
        clone = os.stat(s.path("lc", "disk.qcow2")).st_blocks * 512
        self.assertGreater(base, 16 << 20)
        self.assertLess(clone * 10, base, "linked clone uses %d bytes, template %d" %
                        (clone, base))
        # The template is protected while the clone exists.
        p = s.wirt("delete", "web")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("lc", p.stderr)


if __name__ == "__main__":
    unittest.main()
