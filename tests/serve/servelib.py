# SPDX-License-Identifier: MIT
"""Test helpers for wirt serve: the service on loopback TCP with a store
of its own, and a minimal WebSocket client."""
import base64
import hashlib
import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "vm"))
from vmlib import WIRT, Store  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class WebSocket:
    """Just enough of an RFC 6455 client to test the server: masked frames
    out, unmasked frames in."""

    def __init__(self, port, path, headers):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port, "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
        lines += ["%s: %s" % kv for kv in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            buf += chunk
        head, _, self.rest = buf.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1]) if head else 0
        self.head = head.decode(errors="replace")
        want = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.accept_ok = ("Sec-WebSocket-Accept: " + want) in self.head

    def send(self, data, opcode=2):
        mask = os.urandom(4)
        n = len(data)
        hdr = bytes([0x80 | opcode])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(hdr + mask + body)

    def _read(self, n):
        while len(self.rest) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.rest += chunk
        out, self.rest = self.rest[:n], self.rest[n:]
        return out

    def frame(self):
        """(opcode, payload) of the next frame."""
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8))[0]
        return b0 & 0x0F, self._read(n)

    def read_until(self, needle, timeout):
        got = b""
        end = time.time() + timeout
        self.sock.settimeout(1)
        while time.time() < end:
            try:
                op, data = self.frame()
            except socket.timeout:
                continue
            if op == 8:
                raise EOFError("closed: %r" % data)
            got += data
            if needle in got:
                return got
        raise AssertionError("no %r in %r" % (needle, got[-500:]))

    def close(self):
        self.sock.close()


def thread_stacks(pid):
    """Where each thread of pid waits (gdb), for a failure message."""
    try:
        out = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt 8"],
                             capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        return "(no stacks: %s)" % e
    return "\n".join(l for l in out.splitlines() if l.startswith(("#", "Thread")))


class ServeTestCase(unittest.TestCase):
    """Runs `wirt serve --listen 127.0.0.1:PORT` on a temporary store."""

    def setUp(self):
        self.s = Store()
        self.port = free_port()
        self.log = open(os.path.join(self.s.root, "serve.log"), "w+")
        self.start_serve()
        with open(os.path.join(self.s.store, "serve.token")) as f:
            self.token = f.read().strip()

    def start_serve(self):
        self.proc = subprocess.Popen([WIRT, "serve", "--store", self.s.store, "--listen",
                                      "127.0.0.1:%d" % self.port], stderr=self.log)
        token_file = os.path.join(self.s.store, "serve.token")
        for _ in range(200):
            if os.path.exists(token_file) and self.request("GET", "/api/v1/vms")[0] == 401:
                return
            time.sleep(0.05)
        raise AssertionError("wirt serve did not come up")

    def tearDown(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                stacks = thread_stacks(self.proc.pid)
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("wirt serve did not exit within 20 s of SIGTERM; "
                                     "its threads:\n" + stacks)
        self.log.close()
        self.s.close()

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read(), r
        except ConnectionRefusedError:
            return 0, b"", None
        finally:
            c.close()

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def bearer(self, method, path, body=None):
        st, data, _ = self.request(method, path, json.dumps(body) if body is not None else None,
                                   {"Authorization": "Bearer " + self.token})
        return st, json.loads(data) if data else None

    def websocket(self, path):
        return WebSocket(self.port, path, {"Authorization": "Bearer " + self.token})
