# SPDX-License-Identifier: MIT
"""The default guest on 4 harts: the kernel brings up all four, a pthreads
stress program (bench/smp/smp_work.c: atomic, mutex and CAS counters plus
a seqlock message, results checked) runs on all of them for
WIRT_SMP_STRESS_SECS seconds (default 60), CPU 1 goes offline through SBI
HSM and comes back, and work still runs correctly on 3 and then 4 CPUs.
Needs tools/fetch-guest.sh and riscv64-linux-gnu-gcc (skips otherwise)."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smpwork  # noqa: E402
from guestlib import Guest, have_guest, vm_argv  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOOT = 900  # 4 harts on a shared 2-core host boot slowly
SECS = int(os.environ.get("WIRT_SMP_STRESS_SECS", "60"))


class SmpGuestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not have_guest():
            raise unittest.SkipTest("no guest (tools/fetch-guest.sh)")
        if not smpwork.have_cc():
            raise unittest.SkipTest("no %s" % smpwork.CC)
        initrd = smpwork.smp_initrd(os.path.join(REPO, "build", "smp"))
        cls.g = Guest(vm_argv(initrd=initrd, extra=["--cpus", "4"]), name="smp4")
        cls.g.__enter__()
        cls.g.wait_ready(timeout=BOOT)

    @classmethod
    def tearDownClass(cls):
        cls.g.__exit__(None, None, None)

    def online(self):
        return self.g.run("cat /sys/devices/system/cpu/online").strip()

    def test_1_four_harts_stress(self):
        self.assertEqual(self.g.run("grep -c ^processor /proc/cpuinfo").strip(), "4")
        self.assertEqual(self.online(), "0-3")
        out = self.g.run("smp_work stress 4 %d" % SECS, timeout=SECS * 10 + 300)
        m = re.search(r"stress OK (\d+)", out)
        self.assertTrue(m, out)
        self.assertGreater(int(m.group(1)), 1000)

    def test_2_hotplug(self):
        self.g.run("echo 0 > /sys/devices/system/cpu/cpu1/online", timeout=300)
        self.assertEqual(self.online(), "0,2-3")
        self.assertEqual(self.g.run("cat /sys/devices/system/cpu/cpu1/online").strip(), "0")
        self.assertIn("stress OK", self.g.run("smp_work stress 3 5", timeout=600))
        self.g.run("echo 1 > /sys/devices/system/cpu/cpu1/online", timeout=300)
        self.assertEqual(self.online(), "0-3")
        # Work runs on the CPU that came back: the same checksum for 1 and 4 threads.
        one = self.g.run("smp_work par 1 20000", timeout=600).split()
        four = self.g.run("smp_work par 4 20000", timeout=600).split()
        self.assertEqual(one[3], four[3])
        self.assertIn("stress OK", self.g.run("smp_work stress 4 5", timeout=600))

    def test_3_poweroff(self):
        self.assertEqual(self.g.poweroff(), 0)


if __name__ == "__main__":
    unittest.main()
