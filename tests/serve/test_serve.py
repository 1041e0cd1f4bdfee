# SPDX-License-Identifier: MIT
"""`wirt serve`: the REST API over its Unix socket and on loopback TCP."""
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WIRT = os.environ.get("WIRT_BIN") or os.path.join(REPO, "build", "wirt")


class UnixConn(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.path)


class ServeTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="wirt-serve-test-")
        self.store = os.path.join(self.root, "store")
        self.sock = os.path.join(self.root, "api.sock")
        self.proc = subprocess.Popen([WIRT, "serve", "--store", self.store, "--socket", self.sock],
                                     stderr=subprocess.PIPE)
        for _ in range(100):
            if os.path.exists(self.sock):
                break
            time.sleep(0.05)

    def tearDown(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def req(self, method, path, body=None, raw=None):
        c = UnixConn(self.sock)
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        c.request(method, path, body=data, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        text = r.read()
        c.close()
        return r.status, text

    def test_socket_owner_only(self):
        self.assertEqual(os.stat(self.sock).st_mode & 0o777, 0o600)

    def test_list_empty(self):
        st, text = self.req("GET", "/api/v1/vms")
        self.assertEqual(st, 200)
        self.assertIsInstance(json.loads(text), list)

    def test_bad_input(self):
        self.assertEqual(self.req("GET", "/api/v1/vms/..")[0], 400)
        self.assertEqual(self.req("GET", "/api/v1/vms/a%2F..%2F..")[0], 404)
        self.assertEqual(self.req("GET", "/api/v1/vms/nosuch")[0], 404)
        self.assertEqual(self.req("POST", "/api/v1/vms", raw="{not json")[0], 400)
        self.assertEqual(self.req("POST", "/api/v1/vms", body={"name": "../x"})[0], 400)
        self.assertEqual(self.req("POST", "/api/v1/vms", raw="x" * (1 << 20))[0], 413)
        self.assertEqual(self.req("GET", "/api/v1/nothing")[0], 404)
        self.assertEqual(self.req("GET", "/nothing")[0], 404)

    def test_metrics(self):
        st, text = self.req("GET", "/api/v1/metrics")
        self.assertEqual(st, 200)
        self.assertIn(b"# TYPE wirt_vm_running gauge", text)

    def test_tcp_needs_token(self):
        self.proc.terminate()
        self.proc.wait(10)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        p = subprocess.Popen([WIRT, "serve", "--store", self.store, "--listen",
                              "127.0.0.1:%d" % port], stderr=subprocess.PIPE)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), 1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", "/api/v1/vms")
            self.assertEqual(c.getresponse().status, 401)
            c.close()
            tokfile = os.path.join(self.store, "serve.token")
            self.assertEqual(os.stat(tokfile).st_mode & 0o777, 0o600)
            token = open(tokfile).read().strip()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", "/api/v1/vms", headers={"Authorization": "Bearer " + token})
            self.assertEqual(c.getresponse().status, 200)
            c.close()
        finally:
            p.terminate()
            p.wait(10)
            p.stderr.close()

    def test_refuses_public_tcp_without_tls(self):
        p = subprocess.run([WIRT, "serve", "--store", self.store, "--listen", "0.0.0.0:1"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--tls-cert", p.stderr)


if __name__ == "__main__":
    unittest.main()
