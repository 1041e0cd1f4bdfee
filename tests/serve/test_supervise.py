# SPDX-License-Identifier: MIT
"""`wirt serve` as a supervisor: the event stream (a WebSocket and GET
/api/v1/events), the restart-on-crash policy with its back-off, VMs that
outlive the service, and a service that stays up under 1,000 concurrent
clients and slowloris connections."""
import json
import os
import signal
import socket
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from servelib import ServeTestCase  # noqa: E402
from vmlib import WIRT, have_guest  # noqa: E402


class Events:
    """The event stream, read as JSON objects."""

    def __init__(self, ws):
        self.ws = ws
        self.seen = []

    def wait(self, pred, timeout):
        end = time.time() + timeout
        for e in self.seen:
            if pred(e):
                return e
        self.ws.sock.settimeout(1)
        while time.time() < end:
            try:
                op, data = self.ws.frame()
            except socket.timeout:
                continue
            if op == 1:
                e = json.loads(data)
                self.seen.append(e)
                if pred(e):
                    return e
        raise AssertionError("no such event; saw %s" % self.seen)


@unittest.skipUnless(os.access(WIRT, os.X_OK), "build/wirt missing")
class SuperviseTest(ServeTestCase):
    def vmm_pid(self, name):
        st, info = self.bearer("GET", "/api/v1/vms/" + name)
        self.assertEqual(st, 200, info)
        return info.get("pid")

    def wait_state(self, name, state, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            st, info = self.bearer("GET", "/api/v1/vms/" + name)
            if info.get("state") == state:
                return info
            time.sleep(0.2)
        raise AssertionError("%s never %s: %s" % (name, state, info))

    @unittest.skipUnless(have_guest(), "default guest missing")
    def test_restart_on_crash_and_events(self):
        ev = Events(self.websocket("/api/v1/events"))
        self.assertEqual(ev.ws.status, 101, ev.ws.head)
        self.assertEqual(self.bearer("POST", "/api/v1/vms", {"name": "r1"})[0], 201)
        ev.wait(lambda e: e["vm"] == "r1" and e["event"] == "created", 10)
        st, body = self.bearer("PATCH", "/api/v1/vms/r1", {"restart": "bogus"})
        self.assertEqual(st, 400, body)
        self.assertEqual(self.bearer("PATCH", "/api/v1/vms/r1", {"restart": "on-crash"})[0], 200)
        self.assertEqual(self.bearer("POST", "/api/v1/vms/r1/start", {})[0], 200)
        ev.wait(lambda e: e["vm"] == "r1" and e.get("state") == "running", 10)
        pid = self.vmm_pid("r1")
        for i in range(3):
            os.kill(pid, signal.SIGKILL)
            ev.wait(lambda e: e["event"] == "restarted" and
                    sum(x["event"] == "restarted" for x in ev.seen) > i, 30)
            info = self.wait_state("r1", "running", 30)
            self.assertNotEqual(info["pid"], pid)
            pid = info["pid"]
        # The fourth crash within the window: the service gives up.
        os.kill(pid, signal.SIGKILL)
        ev.wait(lambda e: e["vm"] == "r1" and e["event"] == "restart-given-up", 30)
        info = self.wait_state("r1", "stopped", 10)
        self.assertTrue(info.get("crashed"), info)
        p = self.s.wirt("log", "r1")
        self.assertIn("died without stopping", p.stdout)
        self.assertIn("restart after crash", p.stdout)
        # The same events without a WebSocket, after a given sequence number.
        st, events = self.bearer("GET", "/api/v1/events")
        self.assertEqual(st, 200)
        kinds = [e["event"] for e in events if e["vm"] == "r1"]
        self.assertEqual(kinds.count("crashed"), 4, kinds)
        self.assertEqual(kinds.count("restarted"), 3, kinds)
        last = events[-1]["seq"]
        self.assertEqual(self.bearer("GET", "/api/v1/events?since=%d" % last)[1], [])
        # Started by hand, it is not marked crashed any more.
        self.assertEqual(self.bearer("POST", "/api/v1/vms/r1/start", {})[0], 200)
        self.assertNotIn("crashed", self.bearer("GET", "/api/v1/vms/r1")[1])
        self.bearer("POST", "/api/v1/vms/r1/stop", {"force": True})
        ev.ws.close()

    @unittest.skipUnless(have_guest(), "default guest missing")
    def test_vms_outlive_the_service(self):
        self.assertEqual(self.bearer("POST", "/api/v1/vms", {"name": "o1"})[0], 201)
        self.assertEqual(self.bearer("POST", "/api/v1/vms/o1/start", {})[0], 200)
        pid = self.vmm_pid("o1")
        self.proc.kill()
        self.proc.wait(10)
        time.sleep(1)
        os.kill(pid, 0)  # still there
        p = self.s.wirt("list")
        self.assertRegex(p.stdout, r"o1\s+running")
        self.start_serve()
        info = self.wait_state("o1", "running", 10)
        self.assertEqual(info["pid"], pid)
        self.assertNotIn("crashed", info)
        self.assertEqual(self.bearer("POST", "/api/v1/vms/o1/stop", {"force": True})[0], 200)

    def test_many_clients_and_slowloris(self):
        # 100 connections that send half a request and idle...
        slow = []
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            s.sendall(b"GET /api/v1/vms HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        # ...and 1,000 clients at once: each gets an answer or a clean
        # refusal, never a hang.
        results = []
        lock = threading.Lock()

        def client():
            try:
                st, _ = self.bearer("GET", "/api/v1/vms")
            except (OSError, ValueError) as e:
                st = type(e).__name__
            with lock:
                results.append(st)

        threads = [threading.Thread(target=client) for _ in range(1000)]
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(len(results), 1000)
        self.assertGreater(results.count(200), 500, set(results))
        self.assertLess(time.time() - t0, 120)
        # The service still answers, at once.
        t0 = time.time()
        self.assertEqual(self.bearer("GET", "/api/v1/vms")[0], 200)
        self.assertLess(time.time() - t0, 5)
        for s in slow:
            s.close()
        self.assertIsNone(self.proc.poll())


if __name__ == "__main__":
    unittest.main()
