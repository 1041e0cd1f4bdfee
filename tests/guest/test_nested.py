# SPDX-License-Identifier: MIT
"""Nested virtualization (issue 16): the default guest with the nested disk
(tools/fetch-nested-guest.sh: kvm.ko, Debian's qemu-system-riscv64, the same
kernel and a busybox initramfs) attached read-only.

  HOffTest  without --cpu h=on (wirt's behaviour before the H extension, and
            its default after): the harts do not advertise h, `modprobe kvm`
            fails with the kernel's "hypervisor extension not available" and
            there is no /dev/kvm.
  HOnTest   with --cpu h=on: kvm loads, /dev/kvm appears, and the disk's
            qemu-system-riscv64 -accel kvm boots the nested guest to its
            shell, where commands run; poweroff returns to the default guest.
            Skipped, saying why, while wirt rejects --cpu h=on.

Runs `build/wirt run`; WIRT_TEST_VMM=qemu runs the same checks under QEMU
(-cpu rv64,h=false|true).  Fetches the nested disk on demand (about 20 MB
of Debian packages the first time; skips if that fails)."""
import os
import re
import unittest

import nestedlib
from guestlib import Guest, have_guest, wirt_bin

BOOT = 900  # generous: a shared 2-core host
VMM = "qemu" if os.environ.get("WIRT_TEST_VMM") == "qemu" else "wirt"


def require_nested():
    if not have_guest():
        raise unittest.SkipTest("no guest material (run tools/fetch-guest.sh)")
    if VMM == "wirt" and not os.access(wirt_bin(), os.X_OK):
        raise AssertionError("%s is not built" % wirt_bin())
    ok, why = nestedlib.fetch_nested()
    if not ok:
        raise unittest.SkipTest("no nested disk (tools/fetch-nested-guest.sh: %s)" % why)


def isa_letters(cpuinfo):
    """The single-letter extensions of the first hart's isa line
    ("rv64imafdch_zicsr..." -> "imafdch")."""
    m = re.search(r"^isa\s*:\s*rv64([a-z]*)", cpuinfo, re.M)
    if not m:
        raise AssertionError("no isa line in /proc/cpuinfo:\n" + cpuinfo)
    return m.group(1)


class HOffTest(unittest.TestCase):
    """One boot without the H extension."""

    @classmethod
    def setUpClass(cls):
        require_nested()
        cls.g = Guest(nestedlib.l1_argv(VMM, h=False), name="nested-h-off")
        try:
            cls.g.wait_ready(timeout=BOOT)
            nestedlib.mount_nested(cls.g)
        except BaseException:
            cls.g.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.g.close()

    def test_1_no_h_in_isa(self):
        self.assertNotIn("h", isa_letters(self.g.run("cat /proc/cpuinfo")))

    def test_2_modprobe_kvm_fails(self):
        out, status = self.g.run("modprobe kvm 2>&1", check=False, timeout=600)
        self.assertNotEqual(status, 0, out)
        self.assertIn("hypervisor extension not available",
                      self.g.run("dmesg | grep -i kvm || true"))
        self.assertEqual(self.g.run("test -e /dev/kvm; echo $?"), "1")
        self.assertNotIn("kvm", self.g.run("cut -d' ' -f1 /proc/modules"))

    def test_3_run_nested_refuses(self):
        # The disk's launcher says why instead of starting QEMU.
        out, status = self.g.run("%s/run-nested 2>&1" % nestedlib.MOUNT, check=False)
        self.assertNotEqual(status, 0, out)
        self.assertIn("/dev/kvm is missing", out)

    def test_zz_poweroff(self):
        self.assertEqual(self.g.poweroff(timeout=300), 0)


class HOnTest(unittest.TestCase):
    """One boot with the H extension, a nested guest inside it."""

    @classmethod
    def setUpClass(cls):
        if VMM == "wirt":
            ok, why = nestedlib.wirt_h_supported()
            if not ok:
                raise unittest.SkipTest(why)
        require_nested()
        cls.g = Guest(nestedlib.l1_argv(VMM, h=True), name="nested-h-on")
        try:
            cls.g.wait_ready(timeout=BOOT)
        except BaseException:
            cls.g.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.g.close()

    def test_1_h_in_isa(self):
        self.assertIn("h", isa_letters(self.g.run("cat /proc/cpuinfo")))

    def test_2_kvm_and_nested_guest(self):
        g = self.g
        nestedlib.load_kvm(g)
        self.assertIn("hypervisor extension available", g.run("dmesg | grep -i kvm"))
        secs = nestedlib.boot_nested(g)
        print("nested guest ready %.1f s after run-nested" % secs)
        # Now typing into the nested guest, through the default guest's
        # console and its QEMU's serial port.
        self.assertEqual(g.run("uname -n"), "nested")
        self.assertEqual(g.run("echo $((6 * 7)) $(uname -m)"), "42 riscv64")
        out = g.run("cat /proc/cpuinfo")
        self.assertNotIn("h", isa_letters(out))  # KVM offers no nested H
        nestedlib.leave_nested(g)
        # KVM unloads cleanly once its VM is gone.
        g.run("rmmod kvm && test ! -e /dev/kvm", timeout=300)

    def test_zz_poweroff(self):
        self.assertEqual(self.g.poweroff(timeout=300), 0)


if __name__ == "__main__":
    unittest.main()
