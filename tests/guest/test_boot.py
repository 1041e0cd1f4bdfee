# SPDX-License-Identifier: MIT
"""Boots the default guest (Debian kernel + busybox initramfs under
OpenSBI) and checks that it works from the shell.

Runs `build/wirt run`; WIRT_TEST_VMM=qemu runs the same checks under QEMU.
Needs tools/fetch-guest.sh to have run (the tests skip otherwise)."""
import os
import re
import time
import unittest

from guestlib import (Guest, default_cmdline, guest_file, have_guest, vm_argv,
                      wirt_bin)


def require_guest():
    if not have_guest():
        raise unittest.SkipTest("no guest material (run tools/fetch-guest.sh)")
    if os.environ.get("WIRT_TEST_VMM") != "qemu" and not os.access(wirt_bin(), os.X_OK):
        raise AssertionError("%s is not built" % wirt_bin())


class DefaultGuestTest(unittest.TestCase):
    """One boot of `wirt run` (no arguments) shared by the checks below;
    test_zz_poweroff runs last and ends it."""

    @classmethod
    def setUpClass(cls):
        require_guest()
        cls.guest = Guest(vm_argv(), name="default-guest")
        try:
            cls.ready = cls.guest.wait_ready()
        except BaseException:
            cls.guest.close()
            raise
        print("default guest ready after %.1f s" % cls.ready)

    @classmethod
    def tearDownClass(cls):
        cls.guest.close()

    def test_marker_once(self):
        self.assertEqual(self.guest.transcript.count("WIRT-GUEST-READY"), 1)
        self.assertIn("Linux version", self.guest.transcript)

    def test_shell_arithmetic(self):
        self.assertEqual(self.guest.run("echo $((6*7))"), "42")

    def test_uname_machine(self):
        self.assertEqual(self.guest.run("uname -m"), "riscv64")

    def test_uart_interrupts_counted(self):
        out = self.guest.run("cat /proc/interrupts")
        lines = [ln for ln in out.split("\n") if "ttyS0" in ln or "uart" in ln.lower()]
        self.assertTrue(lines, "no UART line in /proc/interrupts:\n" + out)
        counts = [int(x) for x in lines[0].split()[1:2] if x.isdigit()]
        self.assertTrue(counts and counts[0] > 0,
                        "UART interrupt count is not positive: %r" % lines[0])

    def test_clock_year(self):
        # The goldfish RTC sets the guest clock at boot (UTC).
        year = int(self.guest.run("date -u +%Y"))
        now = time.time()
        self.assertIn(year, {time.gmtime(now - 86400).tm_year,
                             time.gmtime(now + 86400).tm_year})

    def test_clock_advances(self):
        # The timer works: sleep 1 takes about a second of guest time.
        out = self.guest.run("a=$(date +%s); sleep 1; b=$(date +%s); echo $((b-a))")
        self.assertIn(int(out), (1, 2, 3))

    def test_cpuinfo_isa(self):
        out = self.guest.run("cat /proc/cpuinfo")
        self.assertRegex(out, re.compile(r"^isa\s*:\s*rv64i?m?a?f?d?c?", re.M))
        m = re.search(r"^isa\s*:\s*(\S+)", out, re.M)
        self.assertTrue(m.group(1).startswith("rv64imafdc"), m.group(1))

    def test_cpuinfo_lists_dt_extensions(self):
        # Every extension the device tree advertises reaches the kernel's
        # isa line (the multi-letter ones; the single letters are the base).
        dt = self.guest.run("tr '\\0' ' ' < /proc/device-tree/cpus/cpu@0/riscv,isa-extensions")
        exts = [e for e in dt.split() if len(e) > 1]
        self.assertIn("zbb", exts)
        out = self.guest.run("cat /proc/cpuinfo")
        m = re.search(r"^isa\s*:\s*(\S+)", out, re.M)
        listed = set(m.group(1).split("_")[1:])
        # Debian's 6.12 kernel does not know Zicbop (prefetch hints) or Svadu yet.
        missing = [e for e in exts if e not in listed and e not in ("zicbop", "svadu")]
        self.assertEqual(missing, [], "in the DT but not in /proc/cpuinfo: %s" % m.group(1))

    def test_knows_it_is_virtual(self):
        # systemd-detect-virt reads this node on RISC-V (an unknown
        # compatible reports vm-other); QEMU's guests see nothing here.
        if os.environ.get("WIRT_TEST_VMM") == "qemu":
            self.skipTest("QEMU's virt board has no /hypervisor node")
        self.assertEqual(self.guest.run("cat /proc/device-tree/hypervisor/compatible | tr -d '\\0'"),
                         "wirt")

    def test_exit_status_reported(self):
        out, status = self.guest.run("false", check=False)
        self.assertEqual(status, 1)

    def test_zz_poweroff(self):
        status = self.guest.poweroff(timeout=120)
        self.assertEqual(status, 0)
        self.assertIn("reboot: Power down", self.guest.transcript)


class FirmwareVariantTest(unittest.TestCase):
    """The same kernel and initramfs under other firmware builds, passed
    explicitly with --kernel/--initrd/--bios/--append."""

    @classmethod
    def setUpClass(cls):
        require_guest()

    def boot_with(self, bios_name):
        argv = vm_argv(kernel=guest_file("Image"), initrd=guest_file("initrd.cpio.gz"),
                       bios=guest_file(bios_name), append=default_cmdline())
        with Guest(argv, name=bios_name) as g:
            ready = g.wait_ready()
            print("%s: ready after %.1f s" % (bios_name, ready))
            self.assertEqual(g.run("uname -m"), "riscv64")
            self.assertEqual(g.run("echo $((1+2))"), "3")
            self.assertEqual(g.poweroff(timeout=120), 0)
        return g.transcript

    def test_fw_jump_trixie(self):
        t = self.boot_with("fw_jump.bin")
        self.assertIn("OpenSBI v1.6", t)

    def test_fw_jump_bookworm_1_1(self):
        t = self.boot_with("fw_jump-1.1.bin")
        self.assertIn("OpenSBI v1.1", t)

    def test_fw_dynamic_bookworm_1_1(self):
        t = self.boot_with("fw_dynamic-1.1.bin")
        self.assertIn("OpenSBI v1.1", t)

    def test_u_boot_payload(self):
        # U-Boot (S-mode build) as the payload OpenSBI jumps to: it must
        # reach its prompt, run a command and power the machine off.
        if not os.path.exists(guest_file("u-boot.elf")):
            self.skipTest("no u-boot.elf (run tools/fetch-guest.sh)")
        argv = vm_argv(kernel=guest_file("u-boot.elf"), bios=guest_file("fw_dynamic.bin"))
        with Guest(argv, name="u-boot") as g:
            g.expect(r"U-Boot 20\d\d", 300)
            g.expect(r"Hit any key to stop autoboot", 300)
            g.send("\r")
            g.expect(r"=> ", 120)
            g.sendline("version")
            g.expect(r"U-Boot 20\d\d", 60)
            g.sendline("printenv fdtcontroladdr")
            g.expect(r"fdtcontroladdr=[0-9a-f]+", 60)
            g.sendline("poweroff")
            self.assertEqual(g.wait_exit(60), 0)


class HiddenExtensionsTest(unittest.TestCase):
    """WIRT_DT_HIDE_EXT (the knob for timing a guest with and without its
    kernel's faster paths) takes the listed extensions out of the device
    tree only: the kernel no longer lists them, the rest stays."""

    def test_hidden_extensions_not_listed(self):
        require_guest()
        if os.environ.get("WIRT_TEST_VMM") == "qemu":
            self.skipTest("a wirt knob")
        env = dict(os.environ, WIRT_DT_HIDE_EXT="zbb,zicboz,svpbmt")
        with Guest(vm_argv(), env=env, name="hidden-ext") as g:
            g.wait_ready()
            out = g.run("cat /proc/cpuinfo")
            self.assertEqual(g.poweroff(), 0)
        m = re.search(r"^isa\s*:\s*(\S+)", out, re.M)
        listed = set(m.group(1).split("_")[1:])
        self.assertFalse(listed & {"zbb", "zicboz", "svpbmt"}, m.group(1))
        self.assertTrue({"zba", "zbs", "zicbom", "svnapot"} <= listed, m.group(1))


class ConsoleAndRebootTest(unittest.TestCase):
    """Ctrl-C reaches the guest, a guest reboot restarts the whole machine,
    and Ctrl-A x quits wirt from outside with status 0."""

    @classmethod
    def setUpClass(cls):
        require_guest()
        if os.environ.get("WIRT_TEST_VMM") == "qemu":
            raise unittest.SkipTest("tests wirt's own console and board")

    def test_ctrl_c_reboot_and_escape(self):
        with Guest(vm_argv(), name="console-reboot") as g:
            g.wait_ready()
            # Ctrl-C interrupts a foreground command inside the guest.
            g.sendline("sleep 300")
            time.sleep(1)
            start = time.monotonic()
            g.send("\x03")
            self.assertEqual(g.run("echo after-interrupt"), "after-interrupt")
            self.assertLess(time.monotonic() - start, 60)
            # reboot: firmware and kernel start again, the guest comes back.
            g.sendline("reboot")
            g.expect(r"OpenSBI v", 120)
            g.expect(r"Linux version", 120)
            g.wait_ready()
            self.assertEqual(g.transcript.count("WIRT-GUEST-READY"), 2)
            self.assertEqual(g.run("echo $((2*21))"), "42")
            # Ctrl-A then x: wirt quits at once with status 0.
            g.send("\x01x")
            self.assertEqual(g.wait_exit(30), 0)


if __name__ == "__main__":
    unittest.main()
