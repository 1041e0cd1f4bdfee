# SPDX-License-Identifier: MIT
"""`wirt run` rejects bad command lines with exit status 2 and a one-line
message on stderr, before it starts a machine.  Needs no guest material."""
import os
import subprocess
import tempfile
import unittest

from guestlib import guest_file, wirt_bin


def wirt_run(*args, timeout=30):
    return subprocess.run([wirt_bin(), "run"] + list(args), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


class CliErrorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(wirt_bin(), os.X_OK):
            raise AssertionError("%s is not built" % wirt_bin())

    def assert_usage_error(self, r, mention=None):
        self.assertEqual(r.returncode, 2, "exit status; stderr: %r" % r.stderr)
        lines = r.stderr.strip("\n").split("\n")
        self.assertEqual(len(lines), 1, "want one line on stderr, got %r" % r.stderr)
        self.assertTrue(lines[0].strip(), "empty error message")
        if mention:
            self.assertIn(mention, lines[0])
        self.assertEqual(r.stdout, "", "nothing on stdout")

    def test_missing_kernel(self):
        self.assert_usage_error(wirt_run("--kernel", "/nonexistent"), "/nonexistent")

    def test_unknown_flag(self):
        self.assert_usage_error(wirt_run("--no-such-flag"), "--no-such-flag")

    def test_memory_too_small(self):
        self.assert_usage_error(wirt_run("--memory", "1K"))

    def test_memory_more_than_host(self):
        self.assert_usage_error(wirt_run("--memory", "100T"))

    def test_memory_not_a_size(self):
        self.assert_usage_error(wirt_run("--memory", "lots"))

    def test_kernel_neither_image_nor_elf(self):
        self.assert_usage_error(wirt_run("--kernel", "/etc/passwd"), "/etc/passwd")

    def test_kernel_empty_file(self):
        with tempfile.NamedTemporaryFile() as f:
            self.assert_usage_error(wirt_run("--kernel", f.name), f.name)

    def test_elf_not_elf(self):
        self.assert_usage_error(wirt_run("--elf", "/etc/passwd"), "/etc/passwd")

    def test_elf_missing(self):
        self.assert_usage_error(wirt_run("--elf", "/nonexistent.elf"), "/nonexistent.elf")

    def test_elf_wrong_machine(self):
        # An ELF, but for the host's architecture rather than RISC-V.
        self.assert_usage_error(wirt_run("--elf", "/bin/true"), "/bin/true")

    def test_flag_without_value(self):
        self.assert_usage_error(wirt_run("--kernel"))

    def test_missing_initrd(self):
        kernel = guest_file("Image")
        if not os.path.exists(kernel):
            self.skipTest("no guest material (run tools/fetch-guest.sh)")
        self.assert_usage_error(wirt_run("--kernel", kernel, "--initrd", "/nonexistent.gz"),
                                "/nonexistent.gz")

    def test_missing_bios(self):
        kernel = guest_file("Image")
        if not os.path.exists(kernel):
            self.skipTest("no guest material (run tools/fetch-guest.sh)")
        self.assert_usage_error(wirt_run("--kernel", kernel, "--bios", "/nonexistent.bin"),
                                "/nonexistent.bin")


if __name__ == "__main__":
    unittest.main()
