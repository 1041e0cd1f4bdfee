# SPDX-License-Identifier: MIT
"""State files on the default guest (docs/state-format.md):

- the control command `save` pauses the guest only briefly, writes a
  sparse file, and `wirt run --restore` brings back that exact moment: a
  file written before the save reads as it was then, a counting process
  goes on from where it was;
- a restored guest that reboots boots the image files afresh;
- `--save-on-exit` saves on SIGTERM, and the saved guest resumes;
- truncated, corrupted, foreign and mismatched state files are refused
  with one line naming the file, and no guest runs.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

COUNTER = ("(i=0; while true; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done) "
           "</dev/null >/dev/null 2>&1 & true")


def control(path, request):
    """Sends one request; returns (reply, file) with the socket open for events."""
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(120)
    c.connect(path)
    f = c.makefile("rw")
    f.write(json.dumps(request) + "\n")
    f.flush()
    return json.loads(f.readline()), f, c


@unittest.skipUnless(guestlib.have_guest() and os.access(guestlib.wirt_bin(), os.X_OK),
                     "default guest or build/wirt missing")
class StateFileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="wirt-state-test-")
        cls.state = os.path.join(cls.dir, "vm.state")
        ctl = os.path.join(cls.dir, "control.sock")
        with guestlib.Guest(guestlib.wirt_argv(extra=["--control", ctl])) as g:
            g.wait_ready()
            # Pages a restored guest does not touch before it is saved again
            # must come from the first file (test_save_on_exit checks).
            g.run("dd if=/dev/urandom of=/tmp/big bs=1M count=8 2>/dev/null; "
                  "md5sum /tmp/big >/tmp/big.md5")
            g.run("echo before-save >/tmp/mark; " + COUNTER)
            time.sleep(1.5)
            sub, f, c = control(ctl, {"execute": "subscribe"})
            f.write(json.dumps({"execute": "save", "arguments": {"file": cls.state}}) + "\n")
            f.flush()
            cls.events = []
            while True:
                m = json.loads(f.readline())
                cls.events.append(m)
                if m.get("event") == "job-completed":
                    break
            c.close()
            cls.count_after_save = int(g.run("sleep 0.5; cat /tmp/count"))
            g.run("echo after-save >/tmp/mark")
            g.poweroff()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_save_is_brief_and_sparse(self):
        done = self.events[-1]["data"]
        self.assertEqual(done["status"], "completed", done)
        pause = float(re.search(r"paused ([\d.]+) ms", done["result"]).group(1))
        self.assertLess(pause, 1000, done["result"])  # functional bound, not a benchmark
        self.assertIn("resumed", [e.get("event") for e in self.events])
        st = os.stat(self.state)
        self.assertEqual(st.st_mode & 0o777, 0o600)
        self.assertGreater(st.st_size, 512 << 20)  # 512M of RAM plus the header
        self.assertLess(st.st_blocks * 512, st.st_size // 2, "the RAM region is not sparse")
        with open(self.state, "rb") as f:
            self.assertEqual(f.read(8), b"WIRTSTAT")

    def test_restore_brings_back_that_moment(self):
        with guestlib.Guest(guestlib.wirt_argv(extra=["--restore", self.state])) as g:
            g.sendline("")
            self.assertEqual(g.run("cat /tmp/mark"), "before-save")
            first = int(g.run("cat /tmp/count"))
            # It counts on from the saved value, not from the value the
            # original guest reached after the save.
            self.assertLess(first, self.count_after_save + 5)
            time.sleep(1)
            self.assertGreater(int(g.run("cat /tmp/count")), first)
            self.assertEqual(g.poweroff(), 0)

    def test_restored_guest_reboots_into_the_images(self):
        # The restore skips booting the images (the state replaces RAM);
        # a reset afterwards must still boot them from the files.
        with guestlib.Guest(guestlib.wirt_argv(extra=["--restore", self.state])) as g:
            g.sendline("")
            self.assertEqual(g.run("cat /tmp/mark"), "before-save")
            g.sendline("reboot")
            g.wait_ready()
            self.assertEqual(g.run("cat /tmp/mark 2>/dev/null || echo fresh"), "fresh")
            self.assertEqual(g.poweroff(), 0)

    def test_save_on_exit(self):
        state = os.path.join(self.dir, "exit.state")
        with guestlib.Guest(guestlib.wirt_argv(extra=["--restore", self.state,
                                                      "--save-on-exit", state])) as g:
            g.sendline("")
            g.run("echo saved-on-exit >/tmp/mark")
            g.proc.send_signal(signal.SIGTERM)
            self.assertEqual(g.wait_exit(), 0)
        self.assertTrue(os.path.exists(state))
        with guestlib.Guest(guestlib.wirt_argv(extra=["--restore", state])) as g:
            g.sendline("")
            self.assertEqual(g.run("cat /tmp/mark"), "saved-on-exit")
            self.assertIn("OK", g.run("md5sum -c /tmp/big.md5"))
            self.assertEqual(g.poweroff(), 0)

    def test_two_harts(self):
        """Both harts' state comes back: two busy counters keep counting."""
        ctl = os.path.join(self.dir, "smp.sock")
        state = os.path.join(self.dir, "smp.state")
        with guestlib.Guest(guestlib.wirt_argv(extra=["--cpus", "2", "--control", ctl])) as g:
            g.wait_ready()
            g.run("echo smp >/tmp/mark; for n in 1 2; do (i=0; while true; do i=$((i+1)); "
                  "echo $i >/tmp/c$n.t; mv /tmp/c$n.t /tmp/c$n; done) </dev/null >/dev/null 2>&1 & "
                  "done; sleep 1")
            sub, f, c = control(ctl, {"execute": "subscribe"})
            f.write(json.dumps({"execute": "save", "arguments": {"file": state}}) + "\n")
            f.flush()
            while json.loads(f.readline()).get("event") != "job-completed":
                pass
            c.close()
            g.poweroff()
        with guestlib.Guest(guestlib.wirt_argv(extra=["--cpus", "2", "--restore", state])) as g:
            g.sendline("")
            self.assertEqual(g.run("cat /tmp/mark; nproc"), "smp\n2")
            before = [int(g.run("cat /tmp/c%d" % n)) for n in (1, 2)]
            time.sleep(1)
            after = [int(g.run("cat /tmp/c%d" % n)) for n in (1, 2)]
            self.assertGreater(after[0], before[0])
            self.assertGreater(after[1], before[1])
            self.assertEqual(g.poweroff(), 0)

    def refused(self, path, *needles, extra=()):
        p = subprocess.run(guestlib.wirt_argv(extra=["--restore", path] + list(extra)),
                           capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        self.assertNotEqual(p.returncode, 0)
        self.assertNotIn("WIRT-GUEST-READY", p.stdout)
        lines = p.stderr.strip().split("\n")
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn(path, lines[0])
        for n in needles:
            self.assertIn(n, lines[0])

    def copy(self, name):
        path = os.path.join(self.dir, name)
        shutil.copyfile(self.state, path)
        return path

    def test_bad_files_are_refused(self):
        bad = self.copy("truncated.state")
        os.truncate(bad, os.path.getsize(bad) - 4096)
        self.refused(bad, "truncated")
        short = os.path.join(self.dir, "short.state")
        with open(short, "wb") as f:
            f.write(b"WIRTSTAT")
        self.refused(short, "too short")
        other = os.path.join(self.dir, "other.state")
        with open(other, "wb") as f:
            f.write(os.urandom(8192))
        self.refused(other, "not a wirt state file")
        hdr = self.copy("header.state")
        with open(hdr, "r+b") as f:
            f.seek(30)
            f.write(b"\x01")
        self.refused(hdr, "header is corrupt")
        stream = self.copy("stream.state")
        with open(stream, "r+b") as f:
            f.seek(4096 + 200)
            b = f.read(1)
            f.seek(4096 + 200)
            f.write(bytes([b[0] ^ 0x40]))
        self.refused(stream, "checksum")
        self.refused(self.state, "512 MiB", "--memory", extra=["--memory", "256M"])
        self.refused(self.state, "--cpus", extra=["--cpus", "2"])
        self.refused(os.path.join(self.dir, "missing.state"), "No such file")


if __name__ == "__main__":
    unittest.main()
