# SPDX-License-Identifier: MIT
"""virtio-balloon on the default guest (its virtio_balloon driver): the
host asks the 512 MiB guest to keep 160 MiB, the guest hands pages over,
and the VMM's resident memory drops by what the guest had used and freed;
asking for all of it back deflates the balloon.  The guest's own memory
statistics arrive through the stats queue.  Bad requests get errors.
Without any target, free page reporting returns what the guest frees."""
import json
import os
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

MiB = 1 << 20


def control(path, cmd, args=None):
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(30)
    c.connect(path)
    req = {"execute": cmd}
    if args is not None:
        req["arguments"] = args
    c.sendall((json.dumps(req) + "\n").encode())
    r = json.loads(c.makefile().readline())
    c.close()
    return r


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@unittest.skipUnless(guestlib.have_guest() and os.access(guestlib.wirt_bin(), os.X_OK),
                     "default guest or build/wirt missing")
class BalloonTest(unittest.TestCase):
    def test_inflate_returns_memory_and_deflate_gives_it_back(self):
        d = tempfile.mkdtemp(prefix="wirt-balloon-")
        ctl = os.path.join(d, "c.sock")
        with guestlib.Guest(guestlib.wirt_argv(extra=["--control", ctl])) as g:
            g.wait_ready()
            self.assertEqual(g.run("ls /sys/bus/virtio/drivers/virtio_balloon | grep -c virtio"),
                             "1")
            # The guest touches 256 MiB and frees it again.
            g.run("dd if=/dev/urandom of=/dev/shm/x bs=1M count=256 2>/dev/null; rm /dev/shm/x")
            before = rss(g.proc.pid)
            self.assertGreater(before, 256 * MiB)
            self.assertEqual(control(ctl, "balloon", {"target": 160 * MiB}), {"return": {}})
            end = time.monotonic() + 60
            while True:
                st = control(ctl, "query-balloon")["return"]
                if st["guest-memory"] <= 170 * MiB or time.monotonic() > end:
                    break
                time.sleep(0.5)
            self.assertLessEqual(st["guest-memory"], 170 * MiB, st)
            self.assertEqual(st["target"], 160 * MiB)
            self.assertGreater(st["released"], 300 * MiB)
            after = rss(g.proc.pid)
            self.assertLess(after, before - 150 * MiB, (before, after))
            # The guest still works, with less memory available (MemTotal
            # stays: with DEFLATE_ON_OOM the pages remain the guest's to
            # take back under pressure).
            avail = int(g.run("awk '/MemAvailable/ {print $2}' /proc/meminfo")) * 1024
            self.assertLess(avail, 200 * MiB)
            # Statistics from the guest (a query asks for fresh ones).
            time.sleep(1)
            st = control(ctl, "query-balloon")["return"]
            self.assertIn("guest-free", st)
            # Deflate: the guest gets its memory back.
            control(ctl, "balloon", {"target": 512 * MiB})
            end = time.monotonic() + 60
            while control(ctl, "query-balloon")["return"]["guest-memory"] < 512 * MiB:
                self.assertLess(time.monotonic(), end)
                time.sleep(0.5)
            avail = int(g.run("awk '/MemAvailable/ {print $2}' /proc/meminfo")) * 1024
            self.assertGreater(avail, 350 * MiB)
            for bad in ({"target": 1}, {"target": "lots"}, {}):
                self.assertEqual(control(ctl, "balloon", bad)["error"]["class"],
                                 "InvalidArgument")
            self.assertEqual(g.poweroff(), 0)

    def test_free_page_reporting_returns_memory(self):
        """No balloon target at all: a 1 GiB guest fills 512 MiB of tmpfs,
        frees it and drops its caches, and its free page reporting hands
        the ranges back (madvise), so the VMM's RSS falls again."""
        d = tempfile.mkdtemp(prefix="wirt-fpr-")
        ctl = os.path.join(d, "c.sock")
        with guestlib.Guest(guestlib.wirt_argv(memory="1G", extra=["--net", "none",
                                                                   "--control", ctl])) as g:
            g.wait_ready()
            g.run("dd if=/dev/urandom of=/dev/shm/x bs=1M count=512 2>/dev/null; sync")
            full = rss(g.proc.pid)
            self.assertGreater(full, 512 * MiB)
            released0 = control(ctl, "query-balloon")["return"]["released"]
            g.run("rm /dev/shm/x; echo 3 > /proc/sys/vm/drop_caches")
            end = time.monotonic() + 60
            while rss(g.proc.pid) > full - 384 * MiB and time.monotonic() < end:
                time.sleep(1)
            after = rss(g.proc.pid)
            st = control(ctl, "query-balloon")["return"]
            self.assertLess(after, full - 384 * MiB, (full, after, st))
            self.assertGreater(st["released"] - released0, 384 * MiB, st)
            # Nothing was ballooned: the guest keeps all of its memory.
            self.assertEqual(st["guest-memory"], 1024 * MiB, st)
            self.assertEqual(g.poweroff(), 0)


if __name__ == "__main__":
    unittest.main()
