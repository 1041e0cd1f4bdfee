# SPDX-License-Identifier: MIT
"""The PMU seen from the Debian guest (Sscofpmf + mhpmcounter3..18): the
kernel's riscv-pmu-sbi driver finds the SBI PMU extension and the hardware
counters through OpenSBI (the default 1.6 and bookworm's 1.1), hardware
cycles and instructions count a known loop (tests/guest/perf_probe.c,
perf_event_open without the perf tool), and sampling works: samples only
arrive through counter-overflow interrupts.
Needs tools/fetch-guest.sh and riscv64-linux-gnu-gcc (skips otherwise)."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smpwork  # noqa: E402
from guestlib import Guest, default_cmdline, guest_file, have_guest, vm_argv  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOOT = 900
LOOPS = 2000000  # perf_probe's loop: about 5 instructions an iteration


class PmuGuest:
    bios = None

    @classmethod
    def setUpClass(cls):
        if not have_guest():
            raise unittest.SkipTest("no guest (tools/fetch-guest.sh)")
        if not smpwork.have_cc():
            raise unittest.SkipTest("no %s" % smpwork.CC)
        initrd = smpwork.static_initrd(os.path.join(REPO, "build", "perf_probe"),
                                       os.path.join(REPO, "tests", "guest", "perf_probe.c"),
                                       "perf_probe")
        if cls.bios:
            if not os.path.isfile(guest_file(cls.bios)):
                raise unittest.SkipTest("no %s" % cls.bios)
            argv = vm_argv(kernel=guest_file("Image"), initrd=initrd,
                           bios=guest_file(cls.bios), append=default_cmdline())
        else:
            argv = vm_argv(initrd=initrd)
        cls.g = Guest(argv, name="pmu-%s" % (cls.bios or "default"))
        cls.g.__enter__()
        cls.g.wait_ready(timeout=BOOT)

    @classmethod
    def tearDownClass(cls):
        cls.g.__exit__(None, None, None)

    def test_1_driver_sees_counters(self):
        log = self.g.run("dmesg | grep riscv-pmu-sbi")
        self.assertIn("SBI PMU extension is available", log)
        m = re.search(r"(\d+) firmware and (\d+) hardware counters", log)
        self.assertTrue(m, log)
        # mcycle, minstret and the 16 mhpmcounters (time is not an SBI counter)
        self.assertGreaterEqual(int(m.group(2)), 18, log)
        # Without Sscofpmf the driver says sampling is not supported.
        self.assertNotIn("sscof", log)
        self.assertIn("cpu", self.g.run("ls /sys/bus/event_source/devices").split())

    def test_2_count_cycles_and_instructions(self):
        out = self.g.run("perf_probe count %d" % LOOPS)
        m = re.search(r"cycles=(\d+) instructions=(\d+)", out)
        self.assertTrue(m, out)
        cycles, insns = int(m.group(1)), int(m.group(2))
        self.assertGreater(insns, 3 * LOOPS, out)
        self.assertLess(insns, 8 * LOOPS, out)
        self.assertGreater(cycles, 3 * LOOPS, out)

    def test_3_sampling_by_overflow_interrupts(self):
        out = self.g.run("perf_probe sample %d" % LOOPS)
        m = re.search(r"samples=(\d+)", out)
        self.assertTrue(m, out)
        # one sample every 100000 instructions: about 100 expected
        self.assertGreater(int(m.group(1)), 50, out)

    def test_4_poweroff(self):
        self.assertEqual(self.g.poweroff(timeout=300), 0)


class PmuDefaultFirmwareTest(PmuGuest, unittest.TestCase):
    pass


class PmuOpenSbi11Test(PmuGuest, unittest.TestCase):
    bios = "fw_jump-1.1.bin"


if __name__ == "__main__":
    unittest.main()
