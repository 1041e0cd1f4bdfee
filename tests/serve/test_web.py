# SPDX-License-Identifier: MIT
"""The web UI's side of `wirt serve` on loopback TCP: its static files (and
no way out of their directory), the login that turns the token into an
HttpOnly cookie, the CSRF and origin checks on cookie requests, the serial
console over a WebSocket (real frames, against a booted guest; hostile
frames), and the whole UI in headless Chromium (browser_test.mjs)."""
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
sys.path.insert(0, HERE)
from vmlib import WIRT, have_guest  # noqa: E402
from servelib import ServeTestCase, WebSocket  # noqa: E402

BUILD = os.path.dirname(WIRT)
WEB = os.path.join(BUILD, "web")
NPM = os.path.join(BUILD, "web-npm")
CHROMIUM = shutil.which("chromium")
IN_CI = bool(os.environ.get("CI"))


@unittest.skipUnless(os.path.exists(os.path.join(WEB, "index.html")) and os.access(WIRT, os.X_OK),
                     "build/web (make web) or build/wirt missing")
class WebTest(ServeTestCase):
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
    def test_display_over_websocket(self):
        # No display, or not running: nothing to connect to.
        self.assertEqual(self.bearer("POST", "/api/v1/vms", {"name": "plain"})[0], 201)
        self.assertEqual(self.bearer("GET", "/api/v1/vms/plain/display")[0], 409)
        st, body = self.bearer("POST", "/api/v1/vms", {"name": "bad", "display": "vga"})
        self.assertEqual(st, 400, body)
        self.assertEqual(self.bearer("POST", "/api/v1/vms", {"name": "g1", "display": "vnc"})[0], 201)
        self.assertEqual(self.bearer("GET", "/api/v1/vms/g1/display")[0], 409)
        self.assertEqual(self.bearer("POST", "/api/v1/vms/g1/start", {})[0], 200)
        st, d = self.bearer("GET", "/api/v1/vms/g1/display")
        self.assertEqual(st, 200, d)
        self.assertRegex(d["vnc"], r"^127\.0\.0\.1:\d+$")
        self.assertRegex(d["password"], r"^[A-Za-z0-9]{8}$")
        # Without credentials, nothing; with them, the VM's VNC server
        # speaks through the bridge and asks for its password (VNC auth).
        ws = WebSocket(self.port, "/api/v1/vms/g1/display", {})
        self.assertEqual(ws.status, 401)
        ws.close()
        ws = self.websocket("/api/v1/vms/g1/display")
        self.assertEqual(ws.status, 101, ws.head)
        self.assertIn(b"RFB 003.008\n", ws.read_until(b"RFB 003.008\n", 60))
        ws.send(b"RFB 003.008\n")
        self.assertEqual(ws.read_until(b"\x02", 30)[:2], b"\x01\x02")  # one type: VNC auth
        ws.close()
        st, _ = self.bearer("POST", "/api/v1/vms/g1/stop", {"force": True})
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
