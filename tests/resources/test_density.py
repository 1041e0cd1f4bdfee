# SPDX-License-Identifier: MIT
"""Memory density of idle clones (issue 14): N linked clones of one
template (default 10), idle at their prompt with page-sharing on, use far
less host memory together (the sum of their PSS) than N times one VM's
RSS alone, once the host's same-page merging has run over them; and
guest RAM the guest never touched (zero pages) never occupies host memory.

Merging is the host's setting (/sys/kernel/mm/ksm/run).  The test runs
when ksmd is on, or turns it on for its run where it may write that file
(root) and restores the previous settings after (WIRT_TEST_KSM=0: never
touch the host's setting; the test then skips unless ksmd runs).

Also: an idle VM gives back what its VMM used to boot it: the images'
bytes (read again on a reset) and the decoded-instruction and compiled
code caches (hart.c idle trimming), so the VMM holds little beside the
guest RAM the guest touched."""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vm"))
import vmlib  # noqa: E402

KSM = "/sys/kernel/mm/ksm/"
N = int(os.environ.get("WIRT_DENSITY_N", "10"))


def ksm_read(name):
    with open(KSM + name) as f:
        return f.read().strip()


def ksm_write(name, value):
    with open(KSM + name, "w") as f:
        f.write(value)


def rollup(pid):
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                out[parts[0][:-1]] = int(parts[1]) * 1024
    return out


def ksm_usable():
    if not os.path.exists(KSM + "run"):
        return False
    return ksm_read("run") == "1" or (os.environ.get("WIRT_TEST_KSM") != "0" and
                                      os.access(KSM + "run", os.W_OK))


def ram_rss(pid, size):
    """Rss of the mapping of exactly `size` bytes (guest RAM) and of the rest."""
    ram = total = 0
    cur = 0
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and not parts[0].endswith(":"):
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                cur = hi - lo
            elif parts[0] == "Rss:":
                kb = int(parts[1]) * 1024
                total += kb
                if cur == size:
                    ram += kb
    return ram, total - ram


@unittest.skipUnless(vmlib.have_guest() and os.access(vmlib.WIRT, os.X_OK),
                     "default guest or build/wirt missing")
class DensityTest(unittest.TestCase):
    def test_idle_vm_gives_back_boot_memory(self):
        """Booted and idle, the VMM itself (all but guest RAM) holds under
        24 MiB: no copy of the 30 MiB kernel, and the code caches of the
        boot (tens of MiB) are released once the hart sleeps 90% of 10 s;
        the guest then runs on, decoding again what it needs."""
        sys.path.insert(0, os.path.join(HERE, "..", "guest"))
        import guestlib
        argv = guestlib.wirt_argv(memory="512M", extra=["--net", "none"])
        with guestlib.Guest(argv) as g:
            g.wait_ready()
            deadline = time.monotonic() + 90
            while True:
                ram, rest = ram_rss(g.proc.pid, 512 << 20)
                if rest < 24 << 20 or time.monotonic() > deadline:
                    break
                time.sleep(2)
            sys.stderr.write("\nidle VMM: guest RAM %.0f MiB resident, the rest %.1f MiB\n"
                             % (ram / 2**20, rest / 2**20))
            self.assertLess(rest, 24 << 20)
            self.assertEqual(g.run("echo $((6*7))"), "42")
            g.sendline("reboot")  # the images are read again
            g.wait_ready()
            self.assertEqual(g.poweroff(), 0)

    def test_zero_pages_given_back(self):
        """Pages of guest RAM that hold only zeros leave host memory
        (vmm/ram_reclaim.c): the default guest leaves about 44 of the
        110 MiB it touches at boot zero.  Contents stay as they were: a
        tmpfs file of zeros and one of data read the same before and after,
        and a page given back takes new data."""
        sys.path.insert(0, os.path.join(HERE, "..", "guest"))
        import guestlib
        import json
        import socket
        import tempfile
        ctl = os.path.join(tempfile.mkdtemp(prefix="wirt-reclaim-"), "c.sock")
        argv = guestlib.wirt_argv(memory="512M", extra=["--net", "none", "--control", ctl])
        with guestlib.Guest(argv) as g:
            g.wait_ready()
            g.run("dd if=/dev/zero of=/dev/shm/z bs=1M count=16 2>/dev/null; "
                  "dd if=/dev/urandom of=/dev/shm/r bs=1M count=4 2>/dev/null")
            before = g.run("md5sum /dev/shm/z /dev/shm/r")
            deadline, ram = time.monotonic() + 60, 0
            while time.monotonic() < deadline:
                ram, _ = ram_rss(g.proc.pid, 512 << 20)
                if ram < 90 << 20:
                    break
                time.sleep(2)
            sys.stderr.write("\nguest RAM resident after the zero pages went: %.0f MiB\n"
                             % (ram / 2**20))
            self.assertLess(ram, 90 << 20)
            c = socket.socket(socket.AF_UNIX)
            c.settimeout(30)
            c.connect(ctl)
            c.sendall(b'{"execute": "query-resources"}\n')
            r = json.loads(c.makefile().readline())["return"]
            c.close()
            self.assertGreater(r["zero-pages-released-bytes"], 20 << 20, r)
            self.assertEqual(g.run("md5sum /dev/shm/z /dev/shm/r"), before)
            g.run("printf wirt | dd of=/dev/shm/z bs=1 seek=5000000 conv=notrunc 2>/dev/null")
            self.assertEqual(g.run("dd if=/dev/shm/z bs=1 skip=5000000 count=4 2>/dev/null"),
                             "wirt")
            self.assertEqual(g.poweroff(), 0)

    def test_reclaim_off_switch(self):
        """reclaim=off: no zero page is given back; turned on live
        (set-resources, as `wirt vm set NAME reclaim=2` sends it) passes
        start and give pages back; a bad value is one clear line."""
        sys.path.insert(0, os.path.join(HERE, "..", "guest"))
        import guestlib
        import json
        import socket
        import subprocess
        import tempfile
        bad = subprocess.run(guestlib.wirt_argv(memory="128M", extra=["--reclaim", "5x"]),
                             capture_output=True, text=True, timeout=30)
        self.assertNotEqual(bad.returncode, 0)
        self.assertEqual(len(bad.stderr.strip().splitlines()), 1, bad.stderr)
        self.assertIn("reclaim", bad.stderr)
        ctl = os.path.join(tempfile.mkdtemp(prefix="wirt-reclaim-"), "c.sock")
        argv = guestlib.wirt_argv(memory="512M",
                                  extra=["--net", "none", "--control", ctl, "--reclaim", "off"])

        def command(cmd, args=None):
            c = socket.socket(socket.AF_UNIX)
            c.settimeout(30)
            c.connect(ctl)
            msg = {"execute": cmd}
            if args is not None:
                msg["arguments"] = args
            c.sendall(json.dumps(msg).encode() + b"\n")
            r = json.loads(c.makefile().readline())
            c.close()
            return r

        with guestlib.Guest(argv) as g:
            g.wait_ready()
            time.sleep(14)  # past the first pass the default would make (10 s)
            r = command("query-resources")["return"]
            self.assertEqual(r["zero-pages-released-bytes"], 0, r)
            self.assertEqual(r["limits"].get("reclaim"), "off", r)
            self.assertEqual(command("set-resources", {"reclaim": 2})["return"].get("reclaim"), 2)
            deadline, released = time.monotonic() + 30, 0
            while time.monotonic() < deadline and released < (20 << 20):
                time.sleep(1)
                released = command("query-resources")["return"]["zero-pages-released-bytes"]
            self.assertGreater(released, 20 << 20)
            self.assertEqual(g.poweroff(), 0)

    def test_zero_pages_under_disk_reads(self):
        """Zero pages go while a disk keeps writing guest RAM: the guest
        reads a disk (half random data, half zeros, so its page cache holds
        zero pages the passes take) again and again for three passes, and
        every read has the disk's checksum."""
        sys.path.insert(0, os.path.join(HERE, "..", "guest"))
        import guestlib
        import hashlib
        import tempfile
        with tempfile.TemporaryDirectory(prefix="wirt-reclaim-") as d:
            img = os.path.join(d, "disk.img")
            data = os.urandom(8 << 20) + bytes(8 << 20)
            with open(img, "wb") as f:
                f.write(data)
            want = hashlib.md5(data).hexdigest()
            argv = guestlib.wirt_argv(memory="512M", extra=[
                "--net", "none", "--disk", img + ",format=raw"])
            with guestlib.Guest(argv) as g:
                g.wait_ready()
                deadline = time.monotonic() + 35
                rounds = 0
                while time.monotonic() < deadline:
                    got = g.run("echo 3 > /proc/sys/vm/drop_caches; "
                                "dd if=/dev/vda bs=1M 2>/dev/null | md5sum", timeout=120)
                    self.assertEqual(got.split()[0], want)
                    rounds += 1
                    time.sleep(1)
                sys.stderr.write("\n%d reads of the disk, each whole\n" % rounds)
                self.assertEqual(g.poweroff(), 0)

    @unittest.skipUnless(ksm_usable(), "host KSM is off and not writable (or WIRT_TEST_KSM=0)")
    def test_idle_clones_share_memory(self):
        saved = {k: ksm_read(k) for k in ("run", "pages_to_scan", "sleep_millisecs")}
        sys.stderr.write("\n(host ksm run was %s; restored after)\n" % saved["run"])
        s = vmlib.Store()
        try:
            ksm_write("pages_to_scan", "4000")
            ksm_write("sleep_millisecs", "10")
            ksm_write("run", "1")
            s.ok("create", "base", "--from", "debian")
            s.ok("template", "base")
            names = ["c%d" % i for i in range(N)]
            for n in names:
                # A clone does not take the template's resources: set each.
                s.ok("create", n, "--from", "base")
                s.ok("set", n, "page-sharing=on")
            # One alone first: what a VM costs without anybody to share with.
            s.ok("start", names[0])
            vmlib.wait_ready(s, names[0])
            time.sleep(5)
            pid0 = s.vmm_pids(names[0])[0]
            alone = rollup(pid0)["Rss"]
            # Untouched guest RAM is not host memory: far below its 512 MiB.
            self.assertLess(alone, 400 << 20)
            for n in names[1:]:
                s.ok("start", n)
            for n in names[1:]:
                vmlib.wait_ready(s, n)
            pids = [s.vmm_pids(n)[0] for n in names]
            # Let ksmd go over every VM's RAM (two passes merge a page),
            # until merging stops gaining (under 1% in 30 s).
            deadline, history = time.monotonic() + 600, []
            while time.monotonic() < deadline:
                time.sleep(10)
                history.append(sum(rollup(p)["Pss"] for p in pids))
                if len(history) > 3 and history[-1] > 0.99 * history[-4]:
                    break
            total = history[-1]
            sys.stderr.write("\n%d idle clones: PSS sum %.0f MiB, one alone RSS %.0f MiB, "
                             "ratio %.2f, ksm pages_sharing %s\n" %
                             (N, total / 2**20, alone / 2**20, total / (N * alone),
                              ksm_read("pages_sharing")))
            self.assertLess(total, 0.6 * N * alone)
        finally:
            s.close()
            for k in ("pages_to_scan", "sleep_millisecs", "run"):
                try:
                    ksm_write(k, saved[k])
                except OSError:
                    pass


if __name__ == "__main__":
    unittest.main()
