# SPDX-License-Identifier: MIT
"""Storage live migration: the control socket's move-disk with the default guest.

- the guest writes random 64 KiB blocks to its raw disk in a loop (dd
  conv=fsync) and keeps the same bytes in a reference file in RAM; the disk
  is moved to a qcow2 image while it writes; once the move completed the
  writer stops, the guest powers off, and the new image holds exactly the
  reference (a write lost during the move would show as a stale block); the
  old image is left as it was at the switch;
- a move to a path that cannot be created fails at once, and a cancelled
  move leaves no file behind: the guest keeps running on its disk.
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

MB = 1 << 20
REGION_BLOCKS = 256  # the writer's 16 MiB at the start of the disk


def available():
    return guestlib.have_guest() and os.access(guestlib.wirt_bin(), os.X_OK)


class Control:
    def __init__(self, path, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.f = self.s.makefile("r")

    def call(self, cmd, **args):
        req = {"execute": cmd}
        if args:
            req["arguments"] = args
        self.s.sendall((json.dumps(req) + "\n").encode())
        while True:
            reply = json.loads(self.f.readline())
            if "event" not in reply:
                return reply

    def wait_job(self, job, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.call("job-status", id=job)["return"]
            if st["status"] != "running":
                return st
            time.sleep(0.5)
        raise AssertionError("job %d still running after %d s" % (job, timeout))

    def close(self):
        self.s.close()


def sha256_prefix(path, n):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read(n))
    return h.hexdigest()


@unittest.skipUnless(available(), "needs the default guest and build/wirt")
class MoveDisk(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wirt-move-disk-")
        self.sock = os.path.join(self.dir, "control.sock")

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.dir])

    def start(self, disk):
        argv = guestlib.wirt_argv(extra=["--disk", disk + ",format=raw",
                                         "--control", self.sock])
        g = guestlib.Guest(argv, name="wirt")
        g.wait_ready()
        return g

    def test_move_while_writing(self):
        src = os.path.join(self.dir, "src.raw")
        dst = os.path.join(self.dir, "moved.qcow2")
        with open(src, "wb") as f:
            f.truncate(48 * MB)
        with self.start(src) as g:
            g.run("dd if=/dev/zero of=/tmp/ref bs=1M count=16 2>/dev/null")
            # Each round: a fresh random block, written to the disk
            # (fsync'd) and to the reference at the same place.
            g.run("(i=0; while [ ! -e /tmp/stop ]; do k=$(( (i * 37) %% %d )); "
                  "dd if=/dev/urandom of=/tmp/blk bs=64k count=1 2>/dev/null; "
                  "dd if=/tmp/blk of=/dev/vda bs=64k seek=$k conv=fsync,notrunc 2>/dev/null; "
                  "dd if=/tmp/blk of=/tmp/ref bs=64k seek=$k conv=notrunc 2>/dev/null; "
                  "i=$((i+1)); echo $i > /tmp/count; done; touch /tmp/stopped) "
                  ">/dev/null 2>&1 & true" % REGION_BLOCKS)
            time.sleep(2)
            c = Control(self.sock)
            r = c.call("move-disk", disk="vda", target=dst, format="qcow2")
            self.assertIn("return", r, r)
            st = c.wait_job(r["return"]["job"], 600)
            self.assertEqual(st["status"], "completed", st)
            self.assertGreater(st["total"], 0)
            before = int(g.run("cat /tmp/count"))
            time.sleep(2)  # and the guest writes on, now to the new image
            g.run("touch /tmp/stop; while [ ! -e /tmp/stopped ]; do sleep 0.2; done")
            after = int(g.run("cat /tmp/count"))
            self.assertGreater(after, before, "the writer stalled after the switch")
            ref = g.run("sha256sum /tmp/ref").split()[0]
            g.run("sync")
            c.close()
            self.assertEqual(g.poweroff(), 0)
        check = subprocess.run(["qemu-img", "check", "-q", dst],
                               capture_output=True, text=True)
        if check.returncode != 127:
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        raw = os.path.join(self.dir, "moved.raw")
        subprocess.run([guestlib.wirt_bin(), "img", "convert", "-O", "raw", dst, raw],
                       check=True)
        self.assertEqual(sha256_prefix(raw, REGION_BLOCKS * 64 * 1024), ref,
                         "the moved disk lost writes the guest made during the move")

    def test_failure_and_cancel_leave_the_source(self):
        src = os.path.join(self.dir, "big.raw")
        with open(src, "wb") as f:  # 512 MiB of data: the copy takes a while
            block = b"\xa5" * MB
            for _ in range(512):
                f.write(block)
        with self.start(src) as g:
            c = Control(self.sock)
            r = c.call("move-disk", disk="vda", target=os.path.join(self.dir, "no/dir.qcow2"))
            self.assertIn("error", r)
            r = c.call("move-disk", disk="vdb", target=os.path.join(self.dir, "x.qcow2"))
            self.assertEqual(r["error"]["class"], "DeviceNotFound")
            dst = os.path.join(self.dir, "cancelled.qcow2")
            r = c.call("move-disk", disk=0, target=dst)
            job = r["return"]["job"]
            self.assertTrue(os.path.exists(dst))
            c.call("job-cancel", id=job)
            st = c.wait_job(job, 120)
            self.assertEqual(st["status"], "cancelled", st)
            self.assertFalse(os.path.exists(dst), "a cancelled move left its target")
            g.run("dd if=/dev/urandom of=/dev/vda bs=4k count=1 conv=fsync 2>/dev/null")
            c.close()
            self.assertEqual(g.poweroff(), 0)


if __name__ == "__main__":
    unittest.main()
