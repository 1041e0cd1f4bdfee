# SPDX-License-Identifier: MIT
"""Hostile clients of `wirt serve` on loopback TCP: WebSocket upgrades
abandoned before the 101 arrives (each once leaked a console slot and the
VM's serial socket), giant bodies, slowloris connections, 1,000 concurrent
clients, and path tricks in names.  The service must answer each clearly,
stay responsive to others, and leave the store as it was."""
import base64
import fcntl
import json
import os
import socket
import struct
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from servelib import ServeTestCase, WebSocket  # noqa: E402


def upgrade_request(port, path, token):
    key = base64.b64encode(os.urandom(16)).decode()
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n" % (path, port, token, key)).encode()


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class HostileTest(ServeTestCase):
    def fake_running_vm(self, name):
        """A VM whose serial socket is ours: the service's console
        connections to it are what we count."""
        st, _ = self.bearer("POST", "/api/v1/vms", {"name": name})
        self.assertEqual(st, 201)
        # Holding the VM's lock is what makes it look running (the
        # supervisor cleans the sockets of a VM whose lock is free).
        lock = open(self.s.path(name, "lock"), "a")
        fcntl.flock(lock, fcntl.LOCK_EX)
        self.addCleanup(lock.close)
        lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lst.bind(self.s.path(name, "serial.sock"))
        lst.listen(128)
        self.addCleanup(lst.close)
        return lst

    def accept_all(self, lst, quiet=1.0):
        conns = []
        lst.settimeout(quiet)
        while True:
            try:
                c, _ = lst.accept()
            except socket.timeout:
                return conns
            self.addCleanup(c.close)
            conns.append(c)

    def test_upgrade_abandoned_before_101_frees_its_slot_and_the_vm_socket(self):
        lst = self.fake_running_vm("idle")
        fds = open_fds(self.proc.pid)
        # A control socket that never answers keeps the service's one
        # request thread busy for a while on GET /api/v1/vms (it asks the
        # VMM for its status): the upgrade requests wait meanwhile, and
        # their clients reset the connection before the service gets to
        # them.  It reads each request, queues the 101, and finds the
        # client gone when it sends it: the upgrade handler never runs.
        ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ctl.bind(self.s.path("idle", "control.sock"))
        ctl.listen(128)
        self.addCleanup(ctl.close)
        clients = [socket.create_connection(("127.0.0.1", self.port), timeout=30)
                   for _ in range(24)]
        time.sleep(0.5)  # accepted by the service
        slow = threading.Thread(target=self.bearer, args=("GET", "/api/v1/vms"))
        slow.start()
        time.sleep(0.5)
        for s in clients:
            s.sendall(upgrade_request(self.port, "/api/v1/vms/idle/console", self.token))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()  # a reset, not a clean close
        slow.join(60)
        conns = self.accept_all(lst)
        self.assertGreater(len(conns), 0, "the service never connected to the serial socket")
        # Every serial connection the service opened for them is closed...
        for c in conns:
            c.settimeout(10)
            self.assertEqual(c.recv(1), b"", "a console's VM socket was left open")
        # ...its descriptors are back to where they were...
        for _ in range(100):
            if open_fds(self.proc.pid) <= fds:
                break
            time.sleep(0.1)
        self.assertLessEqual(open_fds(self.proc.pid), fds)
        # ...and all 16 slots are free: 16 consoles open at once.
        socks = []
        for i in range(16):
            ws = self.websocket("/api/v1/vms/idle/console")
            socks.append(ws)
            self.assertEqual(ws.status, 101, "console %d: %s" % (i, ws.head))
        for ws in socks:
            ws.close()


if __name__ == "__main__":
    unittest.main()
