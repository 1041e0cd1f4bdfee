# SPDX-License-Identifier: MIT
"""The hostile-guest layer: tests/hostile/hostile.c attacks every virtio
device, the PLIC, the CLINT and the UART from inside the machine; here the
host side is checked: wirt stays up, its RSS stays bounded, the devices land
in DEVICE_NEEDS_RESET, the log stays small, a reset brings virtio-blk back,
and the guest's poweroff ends wirt cleanly.

Two guests run the same attacks: the bare-metal build under `wirt run --elf`
(blk and net, since --elf adds no rng or console; it also reaches the UART),
and the static Linux build from the default guest's initramfs through
/dev/mem (every device wirt run adds; the UART belongs to the kernel there).
"""
import gzip
import os
import shutil
import subprocess
import tempfile
import threading
import sys
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WIRT = os.environ.get("WIRT") or os.path.join(REPO, "build", "wirt")
ELF = os.path.join(REPO, "build", "hostile", "hostile.elf")
LINUX_PROG = os.path.join(REPO, "build", "hostile", "hostile-linux")
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
sys.path.insert(0, os.path.join(REPO, "tools", "guest"))
import guestlib  # noqa: E402  (the default guest's files)
import mkcpio  # noqa: E402  (newc headers)
TIMEOUT = 300

NEEDS_RESET = 0x40
# Attacks after which every device must be in DEVICE_NEEDS_RESET.
MUST_BREAK = ("desc-loop", "outside-ram", "huge-length", "next-range", "indirect-huge",
              "indirect-loop", "head-range", "avail-jump", "queue-size", "ring-address",
              "reset-loop")
ID_BLOCK = 2
MAX_LOG_LINES = 200
MAX_LOG_BYTES = 64 * 1024
RSS_SLACK_KB = 32 * 1024


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def ensure_programs(path):
    """Builds the programs if needed; returns a reason to skip, or None."""
    if not os.path.isfile(WIRT):
        return "build/wirt is missing (run make)"
    if not (shutil.which("riscv64-unknown-elf-gcc") and shutil.which("riscv64-linux-gnu-gcc")):
        if not os.path.isfile(path):
            return "riscv64 cross compilers missing (tools/setup-host.sh installs them)"
        return None
    r = subprocess.run(["make", "-s", "hostile-tests"], cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("make hostile-tests failed:\n" + r.stdout + r.stderr)
    return None


INIT_SCRIPT = b"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
echo 1 > /proc/sys/vm/nr_hugepages
/hostile
echo "hostile: exit $?"
/bin/busybox poweroff -f
"""


def newc(ino, name, data, mode):
    """One newc cpio entry."""
    return mkcpio.header(ino, mode, 1, len(data), (0, 0), name) + data + b"\0" * (-len(data) % 4)


def hostile_initrd(dest):
    """The default guest's initramfs plus /hostile and /hostile-init, as a
    second (gzip) archive appended to the first, which the kernel accepts."""
    with open(LINUX_PROG, "rb") as f:
        prog = f.read()
    extra = (newc(1, "hostile", prog, 0o100755) + newc(2, "hostile-init", INIT_SCRIPT, 0o100755) +
             newc(0, "TRAILER!!!", b"", 0))
    with open(guestlib.guest_file("initrd.cpio.gz"), "rb") as f:
        base = f.read()
    with open(dest, "wb") as f:
        f.write(base + b"\0" * (-len(base) % 4) + gzip.compress(extra, mtime=0))


class HostileBareMetal(unittest.TestCase):
    """The bare-metal program under `wirt run --elf`."""
    PROGRAM = ELF
    MIN_DEVICES = 2  # blk and net
    UNREACHABLE = ()

    @classmethod
    def precheck(cls):
        return None

    @classmethod
    def argv(cls, disk):
        return [WIRT, "run", "--elf", ELF, "--memory", "512M",
                "--disk", disk + ",format=raw", "--net", "user"]

    @classmethod
    def setUpClass(cls):
        why = ensure_programs(cls.PROGRAM) or cls.precheck()
        if why:
            raise unittest.SkipTest(why)
        cls.tmp = tempfile.mkdtemp(prefix="wirt-hostile-")
        disk = os.path.join(cls.tmp, "disk.raw")
        with open(disk, "wb") as f:
            f.write(b"HOSTILE0")
            f.truncate(64 << 20)
        log_path = os.path.join(cls.tmp, "vmm.log")
        argv = cls.argv(disk)
        cls.rss = []
        cls.baseline = None
        cls.lines = []
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=log, start_new_session=True)
            done = threading.Event()

            def sample():
                while not done.is_set():
                    r = rss_kb(proc.pid)
                    if r is not None:
                        cls.rss.append(r)
                    time.sleep(0.05)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            killer = threading.Timer(TIMEOUT, proc.kill)
            killer.start()
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").replace("\0", "").strip()
                if not line.startswith("hostile:"):
                    continue  # UART garbage from the register attack
                if line == "hostile: start":
                    cls.baseline = rss_kb(proc.pid)
                cls.lines.append(line)
            cls.status = proc.wait()
            killer.cancel()
            done.set()
            sampler.join()
        with open(log_path, "rb") as f:
            cls.log = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def transcript(self):
        return "\n".join(self.lines[-30:]) + "\n--- log ---\n" + \
            self.log[:2000].decode("utf-8", "replace")

    def results(self):
        """{(slot, id, attack): status} from the program's report lines."""
        out = {}
        for line in self.lines:
            parts = line.split()
            if len(parts) == 6 and parts[1] == "dev" and parts[5].startswith("status="):
                out[(int(parts[2]), int(parts[3]), parts[4])] = int(parts[5][7:], 16)
        return out

    def test_exits_cleanly_after_poweroff(self):
        self.assertIn("hostile: done, powering off", self.lines, self.transcript())
        self.assertEqual(self.status, 0, self.transcript())

    def test_every_device_attacked(self):
        found = [l for l in self.lines if l.startswith("hostile: virtio devices ")]
        self.assertTrue(found, self.transcript())
        self.assertGreaterEqual(int(found[0].split()[-1]), self.MIN_DEVICES)
        for name in ("plic", "clint", "uart"):
            if name not in self.UNREACHABLE:
                self.assertIn("hostile: %s done" % name, self.lines)

    def test_devices_land_in_needs_reset(self):
        res = self.results()
        devices = {(slot, dev) for slot, dev, _ in res}
        self.assertTrue(devices, self.transcript())
        for slot, dev in devices:
            for attack in MUST_BREAK:
                st = res.get((slot, dev, attack))
                self.assertIsNotNone(st, "no report for %s on slot %d" % (attack, slot))
                self.assertTrue(st & NEEDS_RESET, "slot %d (id %d) after %s: status 0x%x"
                                % (slot, dev, attack, st))

    def test_blk_flood_is_a_device_error(self):
        res = self.results()
        blk = [(s, d) for s, d, a in res if d == ID_BLOCK and a == "flood"]
        self.assertTrue(blk, self.transcript())
        for slot, dev in blk:
            self.assertTrue(res[(slot, dev, "flood")] & NEEDS_RESET,
                            "virtio-blk accepted an avail->idx flood: " + self.transcript())
            self.assertIn((slot, dev, "recovered"), res, self.transcript())

    def test_rss_bounded(self):
        if "ASAN_OPTIONS" in os.environ:
            self.skipTest("ASan's allocator quarantine inflates RSS (run against a normal build)")
        self.assertIsNotNone(self.baseline)
        peak = max(self.rss)
        self.assertLess(peak, 2 * self.baseline + RSS_SLACK_KB,
                        "host RSS grew from %d KiB to %d KiB" % (self.baseline, peak))

    def test_log_small(self):
        lines = self.log.count(b"\n")
        self.assertLessEqual(lines, MAX_LOG_LINES,
                             "%d log lines; first: %s" % (lines, self.log[:300]))
        self.assertLessEqual(len(self.log), MAX_LOG_BYTES)
        self.assertIn(b"similar messages suppressed", self.log)


class HostileLinux(HostileBareMetal):
    """The Linux build from the default guest, through /dev/mem: no virtio
    driver is loaded (rdinit replaces the guest's init), so the kernel
    leaves the virtio ranges to /dev/mem; the rings live in a huge page."""
    PROGRAM = LINUX_PROG
    MIN_DEVICES = 4  # blk, net, rng, console
    # The kernel's console: /dev/mem refuses it.  The CLINT: OpenSBI guards it
    # with PMP, which the CPU enforces now (from S-mode it faults, as on hardware).
    UNREACHABLE = ("uart", "clint")

    @classmethod
    def precheck(cls):
        if not guestlib.have_guest():
            return "default guest not fetched (tools/fetch-guest.sh)"
        return None

    @classmethod
    def argv(cls, disk):
        initrd = os.path.join(cls.tmp, "initrd.gz")
        hostile_initrd(initrd)
        return [WIRT, "run", "--initrd", initrd, "--memory", "512M",
                "--append", "console=ttyS0 rdinit=/hostile-init",
                "--disk", disk + ",format=raw", "--net", "user"]

    def test_program_finished(self):
        self.assertIn("hostile: exit 0", self.lines, self.transcript())


if __name__ == "__main__":
    unittest.main()
