# SPDX-License-Identifier: MIT
"""The GDB stub (`wirt run --gdb`), driven by Debian's gdb-multiarch and by
a raw remote-protocol client: breakpoints, watchpoints, steps, registers
(GPRs, FPU, CSRs, priv) and memory of a bare-metal program; Ctrl-C,
threads (one per hart), the target description and kill over a Unix
socket; and the Debian kernel stopped at its physical entry point (its
Image carries no symbols, so there is no start_kernel to break at)."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
from guestlib import guest_file, have_guest, wirt_bin  # noqa: E402

GDB = shutil.which("gdb-multiarch")
CC = shutil.which("riscv64-unknown-elf-gcc")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    # Not by connecting: the stub would take that as a debugger that came
    # and went (and resume the machine, as a detach does).
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.split(":")[1], 16) == port:
                return True
    return False


def wait_listening(port, proc, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError("wirt exited early: %r" % proc.stderr.read())
        if listening(port):
            return
        time.sleep(0.1)
    raise AssertionError("nothing listens on %d" % port)


class Rsp:
    """A minimal remote-protocol client (acknowledged mode)."""

    def __init__(self, sock):
        self.s = sock
        self.s.settimeout(60)
        self.buf = b""

    def send(self, payload):
        data = payload.encode()
        self.s.sendall(b"$%s#%02x" % (data, sum(data) & 0xff))
        return self.reply()

    def reply(self):
        while True:
            i = self.buf.find(b"$")
            j = self.buf.find(b"#", i)
            if i >= 0 and j >= 0 and len(self.buf) >= j + 3:
                body = self.buf[i + 1:j]
                self.buf = self.buf[j + 3:]
                self.s.sendall(b"+")
                return body.decode()
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("stub closed the connection")
            self.buf += chunk


@unittest.skipUnless(GDB and CC, "needs gdb-multiarch and riscv64-unknown-elf-gcc")
class GdbStubTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(wirt_bin(), os.X_OK):
            raise AssertionError("%s is not built" % wirt_bin())
        cls.tmp = tempfile.TemporaryDirectory(prefix="wirt-gdb-")
        cls.elf = os.path.join(cls.tmp.name, "target.elf")
        subprocess.run([CC, "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-nostdlib",
                        "-nostartfiles", "-static", "-g", "-O0",
                        "-T", os.path.join(HERE, "..", "isa", "isa.ld"), "-Wl,--no-relax",
                        "-Wl,--no-warn-rwx-segments", "-o", cls.elf,
                        os.path.join(HERE, "start.S"), os.path.join(HERE, "target.c")],
                       check=True)
        # A payload that spins forever: "j ." at the start of RAM.
        cls.spin = os.path.join(cls.tmp.name, "spin.bin")
        with open(cls.spin, "wb") as f:
            f.write(bytes.fromhex("6f000000"))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def start(self, *args):
        p = subprocess.Popen([wirt_bin(), "run"] + list(args), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: (p.poll() is None and p.kill(), p.wait(),
                                 p.stdout.close(), p.stderr.close()))
        return p

    def gdb(self, port, *cmds, timeout=120):
        argv = [GDB, "-nx", "-batch", "-ex", "set pagination off",
                "-ex", "target remote 127.0.0.1:%d" % port]
        for c in cmds:
            argv += ["-ex", c]
        r = subprocess.run(argv + [self.elf], capture_output=True, text=True, timeout=timeout)
        return r.stdout + r.stderr

    def test_break_watch_step_registers_memory(self):
        port = free_port()
        p = self.start("--elf", self.elf, "--gdb", "tcp::%d" % port, "--gdb-wait")
        wait_listening(port, p)
        out = self.gdb(port, "info threads", "break bump", "continue", "info registers a0",
                       "continue", "print counter", "print/x values", "delete",
                       "watch counter", "continue", "stepi", "print $pc == bump + 44",
                       "print $fcsr", "print $mstatus & 0x6000", "print $mhartid",
                       "print $priv", "x/2i $pc", "set var counter = 100", "print counter",
                       "delete", "continue")
        self.assertIn("Thread 1 (hart 0)", out)
        self.assertIn("Breakpoint 1, bump (i=1)", out)
        self.assertRegex(out, r"a0\s+0x1\s+1")
        self.assertIn("Breakpoint 1, bump (i=2)", out)
        self.assertIn("$1 = 1\n", out)                 # counter after bump(1)
        self.assertIn("$2 = {0x0, 0x1, 0x0, 0x0}", out)
        self.assertIn("Hardware watchpoint 2: counter", out)
        self.assertIn("Old value = 1\nNew value = 3", out)
        self.assertIn("$3 = 1\n", out)                 # stepi moved one instruction on
        self.assertIn("$4 = 0\n", out)                 # fcsr
        self.assertIn("$5 = 8192\n", out)              # mstatus.FS = Initial
        self.assertIn("$6 = 0\n", out)                 # mhartid
        self.assertIn("$7 = 3\n", out)                 # priv: M
        self.assertIn("sext.w", out)                   # disassembly reads code memory
        self.assertIn("$8 = 100\n", out)               # memory write
        # The program checks counter == 55 at the end: the write made it fail.
        self.assertIn("exited with code 01", out)
        self.assertEqual(p.wait(timeout=60), 1)

    def test_continue_to_the_end(self):
        port = free_port()
        p = self.start("--elf", self.elf, "--gdb", "tcp::%d" % port, "--gdb-wait")
        wait_listening(port, p)
        out = self.gdb(port, "hbreak main_loop", "continue", "delete", "continue")
        self.assertIn("Breakpoint 1, main_loop", out)
        self.assertIn("exited normally", out)
        self.assertEqual(p.wait(timeout=60), 0)

    def test_interrupt_threads_xml_kill_over_unix_socket(self):
        path = os.path.join(self.tmp.name, "gdb.sock")
        p = self.start("--kernel", self.spin, "--bios", "none", "--net", "none", "--cpus", "2",
                       "--gdb", "unix:" + path)
        end = time.monotonic() + 60
        while not os.path.exists(path) and time.monotonic() < end:
            time.sleep(0.1)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        self.addCleanup(s.close)
        r = Rsp(s)
        self.assertIn("qXfer:features:read+", r.send("qSupported:xmlRegisters=riscv"))
        self.assertEqual(r.send("qfThreadInfo"), "m1,2")
        xml = ""
        while True:
            chunk = r.send("qXfer:features:read:target.xml:%x,800" % len(xml))
            xml += chunk[1:]
            if chunk[0] == "l":
                break
        self.assertIn("riscv:rv64", xml)
        self.assertIn('name="mstatus"', xml)
        self.assertIn('name="f31"', xml)
        self.assertEqual(r.send("m80000000,4"), "6f000000")
        self.assertEqual(r.send("Hg2"), "OK")
        self.assertEqual(r.send("p20"), "0000008000000000")    # pc of hart 1 (LE)
        self.assertEqual(r.send("pf55"), "0100000000000000")  # mhartid: 65 + 0xf14
        # Running: a Ctrl-C stops it with SIGINT.
        s.sendall(b"$c#63")
        time.sleep(0.5)
        self.assertIsNone(p.poll())
        s.sendall(b"\x03")
        self.assertRegex(r.reply(), r"^T02thread:[12];")
        self.assertEqual(r.send("m80000000,4"), "6f000000")
        s.sendall(b"$k#6b")
        self.assertEqual(p.wait(timeout=60), 0)

    def test_bad_addresses(self):
        for bad in ("tcp:", "tcp::0", "udp::1234", "unix:", "tcp::99999"):
            r = subprocess.run([wirt_bin(), "run", "--elf", self.elf, "--gdb", bad],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn("--gdb", r.stderr)
            self.assertEqual(len(r.stderr.strip().split("\n")), 1, r.stderr)
        r = subprocess.run([wirt_bin(), "run", "--elf", self.elf, "--gdb-wait"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--gdb-wait", r.stderr)

    @unittest.skipUnless(have_guest(), "default guest not fetched")
    def test_debian_kernel_entry(self):
        # The Image has no symbols: stop where OpenSBI enters it (the
        # kernel's physical load address) and look at the boot registers.
        port = free_port()
        p = self.start("--net", "none", "--gdb", "tcp::%d" % port, "--gdb-wait")
        wait_listening(port, p)
        argv = [GDB, "-nx", "-batch", "-ex", "set architecture riscv:rv64",
                "-ex", "target remote 127.0.0.1:%d" % port, "-ex", "hbreak *0x80200000",
                "-ex", "continue", "-ex", "print/x $pc", "-ex", "print $a0", "-ex", "print/x $a1",
                "-ex", "print $priv", "-ex", "x/wx $a1", "-ex", "kill"]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        out = out.stdout + out.stderr
        self.assertIn("$1 = 0x80200000", out)
        self.assertIn("$2 = 0\n", out)               # boot hart id
        self.assertRegex(out, r"\$3 = 0x[89a-f][0-9a-f]{7}")  # the device tree, in RAM
        self.assertIn("$4 = 1\n", out)               # S-mode
        self.assertIn(":\t0xedfe0dd0", out)           # FDT magic (big-endian d00dfeed)
        self.assertEqual(p.wait(timeout=60), 0)


if __name__ == "__main__":
    unittest.main()
