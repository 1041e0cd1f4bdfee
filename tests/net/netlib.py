# SPDX-License-Identifier: MIT
"""Test helpers for virtual networks: a store with `wirt net`, and raw
switch ports driven from Python (the protocol of src/net/switch_proto.h),
so the switch's forwarding is tested frame by frame without a guest."""
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WIRT = os.environ.get("WIRT_BIN") or os.path.join(REPO, "build", "wirt")

HELLO = struct.Struct("@8s6sHH64HQII64s")
REPLY = struct.Struct("@8si116s")
assert HELLO.size == 232 and REPLY.size == 128


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def frame(dst, src, ethertype=0x88B5, payload=b"x" * 46, vlan=None):
    """An Ethernet frame; vlan adds an 802.1Q tag."""
    hdr = mac_bytes(dst) + mac_bytes(src)
    if vlan is not None:
        hdr += struct.pack(">HH", 0x8100, vlan)
    return hdr + struct.pack(">H", ethertype) + payload


def ipv4_frame(dst_mac, src_mac, src_ip, dst_ip, proto, payload=b"\0" * 28):
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0,
                     socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    return frame(dst_mac, src_mac, 0x0800, ip + payload)


class Store:
    """A temporary store for `wirt net`; close() stops its switches."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="wirt-net-test-")
        self.store = os.path.join(self.root, "store")
        self.env = dict(os.environ, WIRT_STORE=self.store)

    def net(self, *args, check=None, timeout=60):
        p = subprocess.run([WIRT, "net"] + list(args), env=self.env, capture_output=True,
                           text=True, timeout=timeout)
        if check is not None and (p.returncode == 0) != check:
            raise AssertionError("wirt net %s: exit %d\n%s%s" % (" ".join(args), p.returncode,
                                                               p.stdout, p.stderr))
        return p

    def ok(self, *args, **kw):
        return self.net(*args, check=True, **kw)

    def dir(self, name):
        return os.path.join(self.store, "nets", name)

    def ports(self, name):
        return json.loads(self.ok("stats", name, "--json").stdout)["ports"]

    def port(self, name, number):
        return next(p for p in self.ports(name) if p["port"] == number)

    def close(self):
        nets = os.path.join(self.store, "nets")
        for n in os.listdir(nets) if os.path.isdir(nets) else []:
            self.net("stop", n)
        shutil.rmtree(self.root, ignore_errors=True)


class Port:
    """A switch port as a VMM would open it, driven by the test."""

    def __init__(self, store, net, mac, vlan=0, trunk=(), rate=0, owner="test", flags=0):
        self.mac = mac
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(5)
        self.sock.connect(os.path.join(store.dir(net), "ports.sock"))
        trunk = list(trunk)
        hello = HELLO.pack(b"WIRTSW1\0", mac_bytes(mac), vlan, len(trunk),
                           *(trunk + [0] * (64 - len(trunk))), rate, flags, 0, owner.encode())
        self.sock.send(hello)
        magic, self.number, error = REPLY.unpack(self.sock.recv(REPLY.size))
        if self.number < 0:
            raise ConnectionRefusedError(error.rstrip(b"\0").decode())

    def send(self, data):
        self.sock.send(data)

    def recv_all(self, wait=0.3):
        """Every frame that arrives within wait seconds of the last one."""
        out = []
        self.sock.settimeout(wait)
        try:
            while True:
                out.append(self.sock.recv(70000))
        except socket.timeout:
            pass
        return out

    def close(self):
        self.sock.close()


def wait_for(pred, timeout=10, interval=0.1):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()
