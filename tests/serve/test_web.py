# SPDX-License-Identifier: MIT
"""The web UI's side of `wirt serve` on loopback TCP: its static files (and
no way out of their directory), the login that turns the token into an
HttpOnly cookie, the CSRF and origin checks on cookie requests, the serial
console over a WebSocket (real frames, against a booted guest; hostile
frames), and the whole UI in headless Chromium (browser_test.mjs)."""
import base64
import hashlib
import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "vm"))
from vmlib import WIRT, Store, have_guest  # noqa: E402

BUILD = os.path.dirname(WIRT)
WEB = os.path.join(BUILD, "web")
NPM = os.path.join(BUILD, "web-npm")
CHROMIUM = shutil.which("chromium")
IN_CI = bool(os.environ.get("CI"))


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


@unittest.skipUnless(os.path.exists(os.path.join(WEB, "index.html")) and os.access(WIRT, os.X_OK),
                     "build/web (make web) or build/wirt missing")
class WebTest(unittest.TestCase):
    def setUp(self):
        self.s = Store()
        self.port = free_port()
        self.log = open(os.path.join(self.s.root, "serve.log"), "w+")
        self.proc = subprocess.Popen([WIRT, "serve", "--store", self.s.store, "--listen",
                                      "127.0.0.1:%d" % self.port], stderr=self.log)
        token_file = os.path.join(self.s.store, "serve.token")
        for _ in range(200):
            if os.path.exists(token_file) and self.get("/")[0] == 200:
                break
            time.sleep(0.05)
        with open(token_file) as f:
            self.token = f.read().strip()

    def tearDown(self):
        self.proc.terminate()
        self.proc.wait(20)
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

    def login(self):
        st, _, r = self.request("POST", "/login", json.dumps({"token": self.token}),
                                {"X-Wirt-Request": "1"})
        self.assertEqual(st, 200)
        cookie = r.getheader("Set-Cookie")
        for attr in ("HttpOnly", "SameSite=Strict", "Path=/"):
            self.assertIn(attr, cookie)
        return cookie.split(";")[0]

    def bearer(self, method, path, body=None):
        st, data, _ = self.request(method, path, json.dumps(body) if body is not None else None,
                                   {"Authorization": "Bearer " + self.token})
        return st, json.loads(data) if data else None

    def test_static_files_and_their_headers(self):
        st, body, r = self.get("/")
        self.assertEqual(st, 200)
        self.assertIn(b"<title>wirt</title>", body)
        csp = r.getheader("Content-Security-Policy")
        self.assertIn("default-src 'self'", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertEqual(r.getheader("X-Content-Type-Options"), "nosniff")
        for path, ctype in (("/ui/app.js", "text/javascript"), ("/ui/vendor/xterm/xterm.js", "text/javascript"),
                            ("/ui/vendor/xterm/xterm.css", "text/css"),
                            ("/ui/vendor/novnc/core/rfb.js", "text/javascript")):
            st, body, r = self.get(path)
            self.assertEqual(st, 200, path)
            self.assertTrue(r.getheader("Content-Type").startswith(ctype), path)
            self.assertGreater(len(body), 100, path)
        # The page loads nothing from elsewhere.
        _, html, _ = self.get("/")
        self.assertNotIn(b"http://", html.replace(b"http://www.w3.org", b""))
        self.assertNotIn(b"https://", html)
        # No way out of the web directory, no hidden files, no writes.
        for path in ("/ui/../serve.token", "/ui/..%2fserve.token", "/ui/.hidden", "/ui//etc/passwd",
                     "/ui/vendor/../../serve.token", "/ui/", "/ui/nonexistent.js", "/ui/vendor"):
            st, _, _ = self.get(path)
            self.assertEqual(st, 404, path)
        st, _, _ = self.request("PUT", "/ui/app.js", b"x")
        self.assertEqual(st, 405)

    def test_login_cookie_and_csrf(self):
        st, _, _ = self.request("POST", "/login", json.dumps({"token": "0" * 64}), {"X-Wirt-Request": "1"})
        self.assertEqual(st, 401)
        st, _, _ = self.request("POST", "/login", b"not json", {"X-Wirt-Request": "1"})
        self.assertEqual(st, 401)
        self.assertEqual(self.get("/api/v1/vms")[0], 401)
        cookie = self.login()
        st, body, _ = self.get("/api/v1/vms", {"Cookie": cookie})
        self.assertEqual(st, 200)
        self.assertIn("debian", [v["name"] for v in json.loads(body)])
        # A cookie request that changes something needs our header (a form
        # on another site cannot set it) and, when there is an Origin, ours.
        st, body, _ = self.request("POST", "/api/v1/vms", json.dumps({"name": "csrf"}), {"Cookie": cookie})
        self.assertEqual(st, 403, body)
        st, body, _ = self.request("POST", "/api/v1/vms", json.dumps({"name": "csrf"}),
                                   {"Cookie": cookie, "X-Wirt-Request": "1", "Origin": "http://evil.example"})
        self.assertEqual(st, 403, body)
        self.assertEqual(self.get("/api/v1/vms", {"Cookie": cookie, "Origin": "http://evil.example"})[0], 403)
        self.assertNotIn("csrf", [v["name"] for v in self.bearer("GET", "/api/v1/vms")[1]])
        # From our own page it works.
        st, body, _ = self.request("POST", "/api/v1/vms", json.dumps({"name": "mine"}),
                                   {"Cookie": cookie, "X-Wirt-Request": "1",
                                    "Origin": "http://127.0.0.1:%d" % self.port})
        self.assertEqual(st, 201, body)
        st, _, r = self.request("GET", "/logout")
        self.assertIn("Max-Age=0", r.getheader("Set-Cookie"))

    def test_console_checks(self):
        cookie = self.login()
        origin = "http://127.0.0.1:%d" % self.port
        # Not a WebSocket, a foreign origin, no origin: refused.
        st, _, _ = self.get("/api/v1/vms/debian/console", {"Cookie": cookie})
        self.assertIn(st, (400, 404))
        ws = WebSocket(self.port, "/api/v1/vms/debian/console", {"Cookie": cookie, "Origin": "http://evil.example"})
        self.assertEqual(ws.status, 403)
        ws.close()
        ws = WebSocket(self.port, "/api/v1/vms/debian/console", {"Cookie": cookie})
        self.assertEqual(ws.status, 403)
        ws.close()
        ws = WebSocket(self.port, "/api/v1/vms/nosuch/console", {"Cookie": cookie, "Origin": origin})
        self.assertEqual(ws.status, 404)
        ws.close()
        self.assertEqual(self.bearer("POST", "/api/v1/vms", {"name": "idle"})[0], 201)
        ws = WebSocket(self.port, "/api/v1/vms/idle/console", {"Cookie": cookie, "Origin": origin})
        self.assertEqual(ws.status, 409)  # a stopped VM has no console
        ws.close()
        ws = WebSocket(self.port, "/api/v1/vms/debian/console", {})
        self.assertEqual(ws.status, 401)
        ws.close()

    @unittest.skipUnless(have_guest(), "default guest missing")
    def test_console_over_websocket(self):
        self.assertEqual(self.bearer("POST", "/api/v1/vms", {"name": "c1"})[0], 201)
        self.assertEqual(self.bearer("POST", "/api/v1/vms/c1/start", {})[0], 200)
        ws = WebSocket(self.port, "/api/v1/vms/c1/console", {"Authorization": "Bearer " + self.token})
        self.assertEqual(ws.status, 101, ws.head)
        self.assertTrue(ws.accept_ok, ws.head)
        end = time.time() + 300
        while True:
            ws.send(b"echo ws-$((6*7))\r")
            try:
                ws.read_until(b"ws-42", 5)
                break
            except AssertionError:
                if time.time() > end:
                    raise
        # A message over the limit closes this console only (1009)...
        ws.send(b"x" * (200 * 1024))
        op, data = None, b""
        with self.assertRaises((EOFError, ConnectionError, socket.timeout)):
            for _ in range(1000):
                op, data = ws.frame()
                if op == 8:
                    self.assertEqual(struct.unpack(">H", data[:2])[0], 1009)
                    raise EOFError
        ws.close()
        # ...and the service and the VM carry on: a new console answers.
        self.assertEqual(self.bearer("GET", "/api/v1/vms/c1")[0], 200)
        ws = WebSocket(self.port, "/api/v1/vms/c1/console", {"Authorization": "Bearer " + self.token})
        self.assertEqual(ws.status, 101)
        ws.send(b"echo again-$((7*6))\r")
        ws.read_until(b"again-42", 60)
        ws.close()
        st, _ = self.bearer("POST", "/api/v1/vms/c1/stop", {"force": True})
        self.assertEqual(st, 200)

    @unittest.skipUnless(have_guest(), "default guest missing")
    def test_browser(self):
        playwright = os.path.join(NPM, "node_modules", "playwright-core")
        if not (CHROMIUM and shutil.which("node") and os.path.isdir(playwright)):
            if IN_CI:
                self.fail("chromium, node or playwright-core (make web) missing")
            self.skipTest("chromium, node or playwright-core missing")
        shot = os.path.join(self.s.root, "ui.png")
        env = dict(os.environ, WIRT_NPM_DIR=NPM, CHROMIUM=CHROMIUM)
        url = "http://127.0.0.1:%d/#token=%s" % (self.port, self.token)
        p = subprocess.run(["node", os.path.join(HERE, "browser_test.mjs"), url, shot], env=env,
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("the guest answered", p.stdout)
        with open(shot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertGreater(os.path.getsize(shot), 10000)


if __name__ == "__main__":
    unittest.main()
