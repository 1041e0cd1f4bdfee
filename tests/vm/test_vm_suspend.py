# SPDX-License-Identifier: MIT
"""`wirt vm suspend` and resume on the default guest: the running VM is
saved to its directory and its VMM exits; `start` resumes the same
moment (a file in the guest's tmpfs is still there, a counting process goes
on) and forgets the saved state; a disk changed meanwhile makes `start`
refuse with one line, and `start --fresh` boots from the disk instead."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import WIRT, Serial, Store, have_guest, wait_ready  # noqa: E402


@unittest.skipUnless(have_guest() and os.access(WIRT, os.X_OK),
                     "default guest or build/wirt missing")
class SuspendTest(unittest.TestCase):
    def setUp(self):
        self.s = Store()
        self.con = None

    def tearDown(self):
        if self.con:
            self.con.close()
        self.s.close()

    def console(self):
        if self.con:
            self.con.close()
        self.con = Serial(self.s, "sv")
        return self.con

    def test_suspend_resume(self):
        s = self.s
        s.ok("create", "sv", "--from", "debian")
        s.ok("start", "sv")
        wait_ready(s, "sv")
        out, rc = self.console().run(
            "echo in-tmpfs >/tmp/mark; (i=0; while true; do i=$((i+1)); echo $i >/tmp/count; "
            "sleep 0.1; done) </dev/null >/dev/null 2>&1 & sleep 1; cat /tmp/count")
        self.assertEqual(rc, 0, out)
        self.con.close()
        self.con = None

        p = s.ok("suspend", "sv", timeout=180)
        self.assertRegex(p.stdout, r"suspended VM 'sv' \(paused [\d.]+ ms")
        self.assertEqual(s.vmm_pids("sv"), [])
        self.assertRegex(s.ok("list").stdout, r"sv\s+suspended")
        for f in ("suspend.state", "suspend.json"):
            self.assertEqual(os.stat(s.path("sv", f)).st_mode & 0o777, 0o600, f)
        p = s.wirt("stop", "sv")
        self.assertEqual(p.returncode, 1)
        self.assertIn("suspended", p.stderr)
        p = s.wirt("suspend", "sv")
        self.assertEqual(p.returncode, 1)
        self.assertIn("not running", p.stderr)

        p = s.ok("start", "sv")
        self.assertIn("resumed VM 'sv'", p.stdout)
        self.assertFalse(os.path.exists(s.path("sv", "suspend.state")))
        self.assertRegex(s.ok("list").stdout, r"sv\s+running")
        con = self.console()
        out, rc = con.run("cat /tmp/mark")
        self.assertEqual((out, rc), ("in-tmpfs", 0))
        first, rc = con.run("cat /tmp/count")
        time.sleep(1)
        later, rc = con.run("cat /tmp/count")
        self.assertGreater(int(later), int(first))

        # Suspended again, then its disk changes: the saved memory no
        # longer matches, so start refuses; --fresh boots from the disk.
        self.con.close()
        self.con = None
        s.ok("suspend", "sv", timeout=180)
        disk = s.path("sv", "disk.qcow2")
        st = os.stat(disk)
        os.utime(disk, ns=(st.st_atime_ns, st.st_mtime_ns + 1000000))
        p = s.wirt("start", "sv")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.strip().count("\n"), 0, p.stderr)
        self.assertIn("--fresh", p.stderr)
        self.assertEqual(s.vmm_pids("sv"), [])
        p = s.ok("start", "sv", "--fresh")
        self.assertIn("started VM 'sv'", p.stdout)
        self.assertFalse(os.path.exists(s.path("sv", "suspend.json")))
        wait_ready(s, "sv")
        out, rc = self.console().run("echo X$(cat /tmp/mark 2>/dev/null || echo fresh)Y")
        self.assertTrue(out.endswith("XfreshY"), out)

    def test_running_snapshots(self):
        s = self.s
        s.ok("create", "sv", "--from", "debian")
        s.ok("start", "sv")
        wait_ready(s, "sv")
        con = self.console()
        con.run("echo one >/tmp/mark; (i=0; while true; do i=$((i+1)); echo $i >/tmp/count; "
                "sleep 0.1; done) </dev/null >/dev/null 2>&1 & sleep 1")
        p = s.ok("snapshot", "sv", "create", "s1", timeout=180)
        self.assertIn("created snapshot 's1'", p.stdout)
        at_snapshot = int(con.run("cat /tmp/count")[0])
        # A taken or missing name on a running VM: one line, and the kind
        # of error the API turns into 409/404.
        for op, snap, why in (("create", "s1", "has a snapshot 's1' already"),
                              ("revert", "nope", "has no snapshot 'nope'"),
                              ("delete", "nope", "has no snapshot 'nope'")):
            p = s.wirt("snapshot", "sv", op, snap)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertEqual(p.stderr.strip().count("\n"), 0, p.stderr)
            self.assertIn(why, p.stderr)
        listing = s.ok("snapshot", "sv", "list").stdout
        self.assertRegex(listing, r"s1\s+.*memory \d")
        self.assertEqual(os.stat(s.path("sv", "snapshots/s1.state")).st_mode & 0o777, 0o600)
        con.run("echo two >/tmp/mark; sleep 8")
        before_revert = int(con.run("cat /tmp/count")[0])
        self.assertGreater(before_revert, at_snapshot + 20)

        p = s.ok("snapshot", "sv", "revert", "s1", timeout=180)
        self.assertIn("reverted to snapshot 's1'", p.stdout)
        con = self.console()
        self.assertEqual(con.run("cat /tmp/mark"), ("one", 0))
        # The counter goes on from the snapshot's value. How far it got since
        # the revert depends on how fast the console answers (seconds on a
        # loaded host), so compare with the value just before the revert,
        # eight guest seconds ahead, not with a fixed margin.
        back = int(con.run("cat /tmp/count")[0])
        self.assertLess(back, before_revert)
        time.sleep(1)
        self.assertGreater(int(con.run("cat /tmp/count")[0]), back)

        # Reverting a running VM needs memory: a disk-only snapshot is
        # refused (made while stopped).
        self.con.close()
        self.con = None
        s.ok("stop", "sv", "--force")
        s.ok("snapshot", "sv", "create", "disk-only")
        self.assertRegex(s.ok("snapshot", "sv", "list").stdout, r"disk-only\s+.*disk only")
        # A stopped VM reverted to a snapshot with memory resumes that moment.
        s.ok("snapshot", "sv", "revert", "s1")
        self.assertRegex(s.ok("list").stdout, r"sv\s+suspended")
        self.assertIn("resumed VM 'sv'", s.ok("start", "sv").stdout)
        self.assertEqual(self.console().run("cat /tmp/mark"), ("one", 0))
        p = s.wirt("snapshot", "sv", "revert", "disk-only")
        self.assertEqual(p.returncode, 1)
        self.assertIn("no memory state", p.stderr)
        s.ok("snapshot", "sv", "delete", "s1", timeout=120)
        self.assertFalse(os.path.exists(s.path("sv", "snapshots/s1.state")))
        self.assertNotIn("s1", s.ok("snapshot", "sv", "list").stdout)


if __name__ == "__main__":
    unittest.main()
