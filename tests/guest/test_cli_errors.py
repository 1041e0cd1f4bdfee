# SPDX-License-Identifier: MIT
"""`wirt run` rejects bad command lines with exit status 2 and a one-line
message on stderr, before it starts a machine.  Needs no guest material."""
import os
import socket
import stat
import subprocess
import tempfile
import time
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


class SpecFileTest(unittest.TestCase):
    """`wirt run --spec FILE`: a bad spec is refused with one line naming
    the file and the field, before a machine starts."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "spec.json")

    def tearDown(self):
        self.tmp.cleanup()

    def refused(self, text, mention, *extra):
        with open(self.path, "w") as f:
            f.write(text)
        r = wirt_run("--spec", self.path, *extra)
        CliErrorTest.assert_usage_error(self, r, mention)
        return r

    def test_bad_specs(self):
        for text, mention in (('{"version": 1, "cpus": 99}', "cpus: must be a number from 1 to 8"),
                              ('{"version": 2}', "version: 2"),
                              ('{"cpus": 1}', "version: missing"),
                              ('{"version": 1, "disks": [{"path": "d", "format": "vfat"}]}',
                               "disks[0]: unknown format 'vfat'"),
                              ('{"version": 1, "nics": [{"backend": "bridge"}]}',
                               "nics[0].backend: unknown backend 'bridge'"),
                              ('{"version": 1, "cpus2": 2}', 'unknown key "cpus2"'),
                              ('{"version": 1,\n "cpus": }', "line 2")):
            r = self.refused(text, mention)
            self.assertIn(self.path, r.stderr)

    def test_spec_excludes_other_flags(self):
        self.refused('{"version": 1}', "--spec", "--cpus", "2")

    def test_missing_spec(self):
        CliErrorTest.assert_usage_error(self, wirt_run("--spec", "/nonexistent.json"),
                                        "/nonexistent.json")


class NotRegularFileTest(unittest.TestCase):
    """A FIFO or a device where a file belongs is refused at once (it used
    to block forever in open() or read())."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.fifo = os.path.join(self.tmp.name, "fifo")
        os.mkfifo(self.fifo)

    def tearDown(self):
        self.tmp.cleanup()

    def refused_fast(self, *args, mention=None):
        start = time.monotonic()
        r = wirt_run(*args, timeout=10)
        self.assertLess(time.monotonic() - start, 2.0, "took too long: %r" % (args,))
        CliErrorTest.assert_usage_error(self, r, mention)
        return r

    def test_fifo_as_kernel(self):
        r = self.refused_fast("--kernel", self.fifo, "--bios", "none", mention=self.fifo)
        self.assertIn("FIFO", r.stderr)

    def test_fifo_as_elf(self):
        self.refused_fast("--elf", self.fifo, mention=self.fifo)

    def test_device_as_kernel(self):
        r = self.refused_fast("--kernel", "/dev/zero", "--bios", "none", mention="/dev/zero")
        self.assertIn("character device", r.stderr)

    def need_kernel(self):
        kernel = guest_file("Image")
        if not os.path.exists(kernel):
            self.skipTest("no guest material (run tools/fetch-guest.sh)")
        return kernel

    def test_fifo_as_initrd_or_bios(self):
        kernel = self.need_kernel()
        self.refused_fast("--kernel", kernel, "--bios", "none", "--initrd", self.fifo,
                          mention=self.fifo)
        self.refused_fast("--kernel", kernel, "--bios", self.fifo, mention=self.fifo)

    def test_fifo_as_logs(self):
        kernel = self.need_kernel()
        self.refused_fast("--kernel", kernel, "--bios", "none", "--serial-log", self.fifo,
                          mention="--serial-log")
        self.refused_fast("--kernel", kernel, "--bios", "none", "--log", self.fifo,
                          mention="--log")
        # The pid file is written through PATH.tmp: a FIFO there must not hang.
        os.mkfifo(self.fifo + "-pid.tmp")
        self.refused_fast("--kernel", kernel, "--bios", "none", "--serial-log",
                          os.path.join(self.tmp.name, "console.log"), "--pidfile",
                          self.fifo + "-pid", mention="--pidfile")


class SocketPathTest(unittest.TestCase):
    """--control and --serial-socket replace only a stale socket, never a
    file; the sockets they make are the owner's alone."""

    def setUp(self):
        self.kernel = guest_file("Image")
        if not os.path.exists(self.kernel):
            self.skipTest("no guest material (run tools/fetch-guest.sh)")
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_regular_file_is_not_replaced(self):
        for flag in ("--control", "--serial-socket"):
            victim = self.path("precious" + flag)
            with open(victim, "w") as f:
                f.write("keep me\n")
            r = wirt_run("--kernel", self.kernel, "--bios", "none", flag, victim)
            CliErrorTest.assert_usage_error(self, r, flag)
            self.assertIn("not a stale socket", r.stderr)
            with open(victim) as f:
                self.assertEqual(f.read(), "keep me\n")
        # A directory or a symbolic link is not replaced either.
        link = self.path("link")
        os.symlink(victim, link)
        CliErrorTest.assert_usage_error(
            self, wirt_run("--kernel", self.kernel, "--bios", "none", "--control", link),
            "--control")
        self.assertTrue(os.path.islink(link))

    def test_live_socket_is_refused_stale_one_replaced(self):
        live = socket.socket(socket.AF_UNIX)
        live.bind(self.path("live.sock"))
        live.listen(1)
        r = wirt_run("--kernel", self.kernel, "--bios", "none", "--control", self.path("live.sock"))
        CliErrorTest.assert_usage_error(self, r, "in use")
        live.close()
        # A socket file nobody listens on (a VMM that died) is replaced,
        # and the new one is 0600 even under umask 000.
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(self.path("ctl.sock"))
        stale.close()
        old = os.umask(0)
        try:
            p = subprocess.Popen([wirt_bin(), "run", "--kernel", self.kernel, "--bios", "none",
                                  "--control", self.path("ctl.sock"), "--serial-log",
                                  self.path("console.log"), "--serial-socket",
                                  self.path("serial.sock"), "--log", self.path("vmm.log")],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
        finally:
            os.umask(old)
        try:
            c = None
            for _ in range(100):
                try:
                    c = socket.socket(socket.AF_UNIX)
                    c.connect(self.path("ctl.sock"))
                    break
                except OSError:
                    c.close()
                    c = None
                    time.sleep(0.1)
            self.assertIsNotNone(c, "the VMM did not listen on the stale socket's path")
            for f in ("ctl.sock", "serial.sock", "console.log", "vmm.log"):
                mode = stat.S_IMODE(os.stat(self.path(f)).st_mode)
                self.assertEqual(mode & 0o077, 0, "%s is %o" % (f, mode))
            c.sendall(b'{"execute":"quit"}\n')
            c.settimeout(10)
            self.assertIn(b"return", c.recv(4096))
            c.close()
            self.assertEqual(p.wait(timeout=30), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stderr.close()


if __name__ == "__main__":
    unittest.main()
