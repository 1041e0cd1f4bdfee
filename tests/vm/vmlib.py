# SPDX-License-Identifier: MIT
"""Helpers for the `wirt vm` tests: a temporary store, running the CLI,
talking to a VM's control and serial sockets, cleaning up VMMs."""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WIRT = os.environ.get("WIRT_BIN") or os.path.join(REPO, "build", "wirt")
BOOT_TIMEOUT = float(os.environ.get("WIRT_BOOT_TIMEOUT", "300"))


def guest_dir():
    cache = os.environ.get("WIRT_CACHE")
    if not cache:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        cache = os.path.join(xdg, "wirt")
    return os.path.join(cache, "guest")


def have_guest():
    return all(os.path.isfile(os.path.join(guest_dir(), f))
               for f in ("Image", "initrd.cpio.gz", "fw_dynamic.bin"))


class Store:
    """A temporary store; close() kills every VMM started in it."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="wirt-vm-test-")
        self.store = os.path.join(self.root, "store")

    def vmdir(self, name):
        return os.path.join(self.store, "vms", name)

    def path(self, name, f):
        return os.path.join(self.vmdir(name), f)

    def wirt(self, *args, timeout=120, stdin=None, input=None, env=None, check=None):
        """Runs `wirt vm --store STORE ARGS`; returns CompletedProcess (text)."""
        e = dict(os.environ)
        if env:
            e.update(env)
        p = subprocess.run([WIRT, "vm", "--store", self.store] + list(args), text=True,
                           errors="replace", capture_output=True, timeout=timeout, stdin=stdin, input=input,
                           env=e)
        if check is not None and (p.returncode == 0) != check:
            raise AssertionError("wirt vm %s: exit %d\nstdout: %s\nstderr: %s" %
                                 (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def ok(self, *args, **kw):
        return self.wirt(*args, check=True, **kw)

    def vmm_pids(self, name=None):
        """Pids of the VMM processes whose working directory is a VM of this store."""
        pids = []
        want = os.path.realpath(os.path.join(self.store, "vms"))
        for d in glob.glob("/proc/[0-9]*"):
            try:
                cwd = os.readlink(d + "/cwd")
                with open(d + "/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")
            except OSError:
                continue
            if len(cmd) > 1 and cmd[1] == b"run" and os.path.dirname(cwd) == want and \
                    (name is None or os.path.basename(cwd) == name):
                pids.append(int(os.path.basename(d)))
        return pids

    def close(self):
        for pid in self.vmm_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


def control(store, name, request, timeout=10):
    """Sends one raw line to the VM's control socket; returns the reply lines."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(store.path(name, "control.sock"))
    if isinstance(request, str):
        request = request.encode()
    s.sendall(request)
    data = b""
    want = max(1, request.count(b"\n"))
    try:
        while data.count(b"\n") < want:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return [json.loads(l) for l in data.decode().splitlines() if l.strip()]


class ControlClient:
    """A lasting connection to a VM's control socket: replies and the
    events of `subscribe` arrive interleaved on it."""

    def __init__(self, store, name, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect(store.path(name, "control.sock"))
        self.buf = b""
        self.events = []

    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the VMM closed the control connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command, arguments=None):
        """Sends one request; returns its reply (events seen meanwhile are kept)."""
        req = {"execute": command}
        if arguments is not None:
            req["arguments"] = arguments
        self.sock.sendall((json.dumps(req) + "\n").encode())
        while True:
            msg = self._line()
            if "event" in msg:
                self.events.append(msg)
            else:
                return msg

    def event(self, name, pred=lambda data: True):
        """The next event called name (whose data satisfies pred)."""
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name and pred(e["data"]):
                    return self.events.pop(i)
            msg = self._line()
            if "event" not in msg:
                raise AssertionError("a reply without a request: %r" % msg)
            self.events.append(msg)

    def close(self):
        self.sock.close()


class Serial:
    """The VM's serial console socket."""

    def __init__(self, store, name):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(store.path(name, "serial.sock"))
        self.sock.settimeout(0.5)
        self.text = ""
        self.drain()

    def drain(self, quiet=0.7):
        """Reads until the console has been silent for `quiet` seconds
        (the log replay on attach, stray prompts)."""
        self.sock.settimeout(quiet)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.text += chunk.decode("utf-8", "replace")
        except socket.timeout:
            pass
        self.sock.settimeout(0.5)

    def read_until(self, pattern, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = re.search(pattern, self.text)
            if m:
                return m
            try:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.text += chunk.decode("utf-8", "replace")
            except socket.timeout:
                pass
        # The last line first: CI summaries keep only a traceback's head.
        raise AssertionError("console: no %r within %d s; ends with %r; tail:\n%s" %
                             (pattern, timeout, self.text[-160:], self.text[-2000:]))

    def run(self, cmd, timeout=120):
        """Types cmd, returns its output (between the echo and the next prompt)."""
        marker = "END%d" % int(time.monotonic() * 1000)
        self.drain(0.3)
        start = len(self.text)
        self.sock.sendall(("%s; echo %s-$?\n" % (cmd, marker)).encode())
        m = self.read_until(r"\n%s-(\d+)" % marker, timeout)
        out = self.text[start:m.start()]
        # Drop the echoed command line (the line editor may wrap it).
        echo_end = out.find(marker + "-$?")
        if echo_end >= 0:
            nl = out.find("\n", echo_end)
            out = out[nl + 1:] if nl >= 0 else ""
        return out.replace("\r", "").strip(), int(m.group(1))

    def close(self):
        self.sock.close()


def wait_ready(store, name, timeout=BOOT_TIMEOUT):
    """Waits until the guest printed WIRT-GUEST-READY (seen in console.log)."""
    end = time.monotonic() + timeout
    log = store.path(name, "console.log")
    while time.monotonic() < end:
        try:
            with open(log, errors="replace") as f:
                if "WIRT-GUEST-READY" in f.read():
                    return
        except OSError:
            pass
        if not store.vmm_pids(name):
            raise AssertionError("VM %s exited while booting" % name)
        time.sleep(0.5)
    raise AssertionError("VM %s not ready after %d s" % (name, timeout))
