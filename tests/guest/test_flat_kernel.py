# SPDX-License-Identifier: MIT
"""`--kernel` takes a flat binary as QEMU's -kernel does: loaded as-is at
the kernel address (the start of RAM without firmware, 2 MiB in behind
it) and entered there.  A hand-assembled payload reports where it runs
through its exit code; U-Boot's u-boot.bin (qemu-riscv64_smode), when the
guest cache has it, boots to its banner behind OpenSBI."""
import os
import struct
import subprocess
import tempfile
import unittest

from guestlib import Guest, guest_file, have_guest, wirt_argv, wirt_bin


# -- a few RV64I encodings, enough for the payload ------------------------
def _r(f7, rs2, rs1, f3, rd, op):
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op


def _i(imm, rs1, f3, rd, op):
    return (imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op


def _s(imm, rs2, rs1, f3, op):
    return ((imm >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 0x1f) << 7 | op


T0, T1, T2, A0, A1 = 5, 6, 7, 10, 11


def payload():
    """Prints "flat\\n" on the UART, then powers off through the SiFive test
    finisher with exit code 16 + (pc >> 21 & 0xff): 16 at 0x80000000, 17 at
    0x80200000."""
    code = [0x17 | A1 << 7]                                  # auipc a1, 0
    code.append(0x37 | T2 << 7 | 0x10000 << 12)              # lui t2, 0x10000 (UART)
    for ch in b"flat\n":
        code += [_i(ch, 0, 0, A0, 0x13), _s(0, A0, T2, 0, 0x23)]  # li a0,ch; sb a0,0(t2)
    code += [
        _i(21, A1, 5, A1, 0x13),                            # srli a1, a1, 21
        _i(0xff, A1, 7, A1, 0x13),                          # andi a1, a1, 0xff
        _i(16, A1, 0, A1, 0x13),                            # addi a1, a1, 16
        _i(16, A1, 1, A1, 0x13),                            # slli a1, a1, 16
        0x37 | T1 << 7 | 0x3 << 12,                         # lui t1, 0x3
        _i(0x333, T1, 0, T1, 0x13),                         # addi t1, t1, 0x333 (FAIL)
        _r(0, T1, A1, 6, A1, 0x33),                         # or a1, a1, t1
        0x37 | T0 << 7 | 0x100 << 12,                       # lui t0, 0x100 (finisher)
        _s(0, A1, T0, 2, 0x23),                             # sw a1, 0(t0)
        0x6f,                                               # j .
    ]
    return struct.pack("<%dI" % len(code), *code)


class FlatKernelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(wirt_bin(), os.X_OK):
            raise AssertionError("%s is not built" % wirt_bin())
        cls.tmp = tempfile.TemporaryDirectory(prefix="wirt-flat-")
        cls.flat = os.path.join(cls.tmp.name, "flat.bin")
        with open(cls.flat, "wb") as f:
            f.write(payload())

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_flat(self, *extra):
        return subprocess.run(wirt_argv(kernel=self.flat, extra=("--net", "none") + extra),
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=120)

    def test_flat_without_firmware_runs_at_ram_base(self):
        r = self.run_flat("--bios", "none")
        self.assertIn(b"flat\n", r.stdout, r.stderr)
        self.assertEqual(r.returncode, 16, "exit code encodes the load address; %r" % r.stderr)

    @unittest.skipUnless(have_guest(), "default guest not fetched")
    def test_flat_behind_opensbi_runs_2mib_in(self):
        r = self.run_flat("--bios", guest_file("fw_dynamic.bin"))
        self.assertIn(b"OpenSBI", r.stdout)
        self.assertIn(b"flat\n", r.stdout, r.stderr)
        self.assertEqual(r.returncode, 17, "exit code encodes the load address; %r" % r.stderr)

    @unittest.skipUnless(os.path.isfile(guest_file("u-boot.bin")) and have_guest(),
                         "no u-boot.bin in the guest cache")
    def test_uboot_bin_boots(self):
        argv = wirt_argv(kernel=guest_file("u-boot.bin"), bios=guest_file("fw_dynamic.bin"),
                         extra=("--net", "none"))
        with Guest(argv, name="u-boot") as g:
            g.expect(r"U-Boot 20\d\d", timeout=300)
            g.expect(r"Hit any key|=>", timeout=300)


if __name__ == "__main__":
    unittest.main()
