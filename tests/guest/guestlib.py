# SPDX-License-Identifier: MIT
"""Drive a virtual machine's serial console from Python (stdlib only).

The same code drives `build/wirt run ...` and `qemu-system-riscv64 ...`,
so guest tests and benchmarks can run against both.

    with Guest(wirt_argv()) as g:          # starts the VM on a pty
        g.wait_ready()                     # WIRT-GUEST-READY, then a prompt
        out = g.run("uname -m")            # -> "riscv64"
        status = g.poweroff()              # -> the VM process's exit status

Every wait has a timeout; on a timeout or any exception the VM process is
killed (its whole process group), and the error message carries the tail of
the console transcript.  A full transcript is kept in Guest.transcript and,
if WIRT_GUEST_LOG_DIR is set, written to a file there.
"""
import os
import re
import select
import signal
import subprocess
import threading
import time
import tty

READY_MARKER = "WIRT-GUEST-READY"
# busybox sh with PS1='\h:\w# ' (see tools/guest/rootfs/etc/profile).
# busybox's line editor may follow the prompt with a cursor-position query
# (ESC [ 6 n) that nobody answers.
PROMPT_RE = r"[\w.-]+:[^\r\n]*# (?:\x1b\[6n)?$"

# Our interpreter may be several times slower than QEMU early on.
BOOT_TIMEOUT = float(os.environ.get("WIRT_BOOT_TIMEOUT", "300"))
CMD_TIMEOUT = float(os.environ.get("WIRT_CMD_TIMEOUT", "120"))

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class GuestError(Exception):
    """A wait timed out, the VM exited early, or a command failed."""


def guest_dir():
    """The directory tools/fetch-guest.sh fills (same rules as the script)."""
    cache = os.environ.get("WIRT_CACHE")
    if not cache:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(
            os.path.expanduser("~"), ".cache")
        cache = os.path.join(xdg, "wirt")
    return os.path.join(cache, "guest")


def guest_file(name):
    return os.path.join(guest_dir(), name)


def have_guest():
    """True when the default guest material has been fetched."""
    return all(os.path.isfile(guest_file(f))
               for f in ("Image", "initrd.cpio.gz", "fw_dynamic.bin", "VERSION"))


def default_cmdline():
    try:
        with open(guest_file("cmdline")) as f:
            return f.read().strip()
    except OSError:
        return "console=ttyS0"


def wirt_bin():
    return os.environ.get("WIRT") or os.path.join(REPO, "build", "wirt")


def wirt_argv(kernel=None, initrd=None, bios=None, append=None,
              memory=None, extra=()):
    """`wirt run` with the given options; no options = the default guest."""
    argv = [wirt_bin(), "run"]
    for flag, val in (("--kernel", kernel), ("--initrd", initrd),
                      ("--bios", bios), ("--append", append),
                      ("--memory", memory)):
        if val is not None:
            argv += [flag, val]
    return argv + list(extra)


def qemu_argv(kernel=None, initrd=None, bios=None, append=None,
              memory="512M", extra=()):
    """QEMU's virt board with the default guest unless told otherwise."""
    argv = ["qemu-system-riscv64", "-M", "virt", "-m", memory, "-nographic",
            "-bios", bios or guest_file("fw_jump.bin"),
            "-kernel", kernel or guest_file("Image"),
            "-initrd", initrd or guest_file("initrd.cpio.gz"),
            "-append", append if append is not None else default_cmdline()]
    return argv + list(extra)


def vm_argv(kernel=None, initrd=None, bios=None, append=None, extra=()):
    """The VM command line the guest tests use: `wirt run` normally, or
    QEMU's virt board with WIRT_TEST_VMM=qemu (to check the tests
    themselves against the reference).  With no arguments, the default
    guest (fw_dynamic.bin + Image + initrd.cpio.gz + cmdline)."""
    if os.environ.get("WIRT_TEST_VMM") == "qemu":
        return qemu_argv(kernel=kernel, initrd=initrd,
                         bios=bios or guest_file("fw_dynamic.bin"),
                         append=append, extra=extra)
    return wirt_argv(kernel=kernel, initrd=initrd, bios=bios, append=append,
                     extra=extra)


class Guest:
    """One VM process whose console is a pty we own."""

    _serial = 0

    def __init__(self, argv, env=None, name=None):
        self.argv = list(argv)
        self.name = name or os.path.basename(self.argv[0])
        self.transcript = ""
        self._buf = ""
        self._pos = 0
        self._cond = threading.Condition()
        self._eof = False
        self._cmd_no = 0
        master, slave = os.openpty()
        # Raw: bytes pass through unchanged whether or not the VM program
        # sets up the terminal itself.
        tty.setraw(slave)
        self.start_time = time.monotonic()
        self.ready_time = None
        try:
            self.proc = subprocess.Popen(
                self.argv, stdin=slave, stdout=slave, stderr=slave,
                env=env, start_new_session=True, close_fds=True)
        except OSError:
            os.close(master)
            os.close(slave)
            raise
        os.close(slave)
        self._fd = master
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    # -- plumbing -------------------------------------------------------

    def _read_loop(self):
        while True:
            try:
                r, _, _ = select.select([self._fd], [], [], 0.5)
                if not r:
                    if self.proc.poll() is not None:
                        # Drain what is left, then stop.
                        r = [self._fd]
                    else:
                        continue
                data = os.read(self._fd, 65536)
            except OSError:
                data = b""
            with self._cond:
                if not data:
                    self._eof = True
                    self._cond.notify_all()
                    return
                text = data.decode("utf-8", "replace")
                self._buf += text
                self.transcript += text
                self._cond.notify_all()

    def _tail(self, n=3000):
        t = self.transcript[-n:]
        return "\n--- last console output (%s) ---\n%s\n--- end ---" % (
            self.name, t)

    def elapsed(self):
        return time.monotonic() - self.start_time

    # -- waiting and typing ---------------------------------------------

    def expect(self, pattern, timeout=CMD_TIMEOUT):
        """Wait for regex `pattern` in output not yet consumed; returns the
        match and consumes output up to its end."""
        rx = re.compile(pattern, re.S | re.M)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = rx.search(self._buf, self._pos)
                if m:
                    self._pos = m.end()
                    # Keep the buffer from growing without bound.
                    if self._pos > 1 << 20:
                        self._buf = self._buf[self._pos:]
                        self._pos = 0
                    return m
                if self._eof:
                    self._fail("the VM exited (status %s) while waiting for %r"
                               % (self.proc.poll(), pattern))
                left = deadline - time.monotonic()
                if left <= 0:
                    self._fail("timed out after %.0f s waiting for %r"
                               % (timeout, pattern))
                self._cond.wait(min(left, 1.0))

    def _fail(self, msg):
        self.kill()
        raise GuestError(msg + self._tail())

    def send(self, text):
        data = text.encode() if isinstance(text, str) else text
        while data:
            n = os.write(self._fd, data)
            data = data[n:]

    def sendline(self, line):
        # Enter on a serial terminal is CR; the guest tty maps it to NL.
        self.send(line + "\r")

    def wait_ready(self, timeout=BOOT_TIMEOUT):
        """Wait for the boot marker and the first shell prompt; returns the
        seconds from process start to the marker."""
        self.expect(re.escape(READY_MARKER), timeout)
        self.ready_time = self.elapsed()
        self.expect(PROMPT_RE, timeout)
        return self.ready_time

    def run(self, command, timeout=CMD_TIMEOUT, check=True):
        """Run a shell command in the guest and return its output (str,
        without the trailing newline).  With check=True a non-zero exit
        status raises GuestError; with check=False returns (output, status).
        """
        self._cmd_no += 1
        n = self._cmd_no
        # The quotes keep the echoed command line from matching the markers.
        self.sendline("echo '@@S'%d'@@'; %s; echo '@@E'%d'@@' $?"
                      % (n, command, n))
        m = self.expect(r"@@S%d@@\r*\n(.*?)@@E%d@@ (\d+)\r*\n" % (n, n), timeout)
        out = m.group(1).replace("\r", "")
        if out.endswith("\n"):
            out = out[:-1]
        status = int(m.group(2))
        self.expect(PROMPT_RE, timeout)
        if check:
            if status != 0:
                raise GuestError("guest command %r exited %d:\n%s"
                                 % (command, status, out))
            return out
        return out, status

    # -- ending ---------------------------------------------------------

    def wait_exit(self, timeout=CMD_TIMEOUT):
        """Wait for the VM process to end; returns its exit status."""
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._fail("the VM did not exit within %.0f s" % timeout)
        self._reader.join(5)
        return status

    def poweroff(self, timeout=CMD_TIMEOUT):
        """Type `poweroff` at the guest shell; returns the VM's exit status."""
        self.sendline("poweroff")
        return self.wait_exit(timeout)

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass

    def close(self):
        self.kill()
        self._reader.join(5)
        try:
            os.close(self._fd)
        except OSError:
            pass
        log_dir = os.environ.get("WIRT_GUEST_LOG_DIR")
        if log_dir:
            os.makedirs(log_dir, exist_ok=True)
            Guest._serial += 1
            path = os.path.join(log_dir, "%s-%d-%d.log"
                                % (self.name, os.getpid(), Guest._serial))
            with open(path, "w") as f:
                f.write(self.transcript)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
