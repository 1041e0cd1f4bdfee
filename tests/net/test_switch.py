# SPDX-License-Identifier: MIT
"""The switch process without guests: ports opened from Python as a VMM
opens them, frames checked one by one.

- learning and flooding; VLAN access ports kept apart; a trunk carries
  both VLANs tagged, and its tagged frames reach the access ports untagged;
- anti-spoofing of the source MAC; ACL rules added and removed at run time,
  with hit counts; static MAC entries; port down/up;
- a port's rate limit measured within 10%;
- the pcap mirror, read back by tcpdump;
- hostile input: runts, giants, reserved VLAN 4095, a tagged frame on an
  access port, a garbage hello, a wrong VXLAN peer and header;
- VXLAN between two switches over loopback UDP;
- `wirt net` bad input: one line, exit 2."""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netlib import WIRT, Port, Store, frame, ipv4_frame, mac_bytes, wait_for  # noqa: E402

A, B, C, D = ("52:54:00:00:00:0a", "52:54:00:00:00:0b", "52:54:00:00:00:0c",
              "52:54:00:00:00:0d")
BCAST = "ff:ff:ff:ff:ff:ff"


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def ip_checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def udp_frame(dst_mac, src_mac, src_ip, dst_ip, sport, dport, payload):
    """An IPv4/UDP frame with a valid IP header checksum (libslirp checks it)."""
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                      socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    hdr = hdr[:10] + struct.pack(">H", ip_checksum(hdr)) + hdr[12:]
    return frame(dst_mac, src_mac, 0x0800, hdr + udp)


def dhcp_message(mac, msg_type, xid, requested=None, server=None):
    """A BOOTREQUEST from mac with DHCP message type msg_type (RFC 2131)."""
    m = struct.pack(">BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000, b"\0" * 4,
                    b"\0" * 4, b"\0" * 4, b"\0" * 4, mac_bytes(mac), b"", b"")
    opts = bytes([53, 1, msg_type])
    if requested:
        opts += bytes([50, 4]) + socket.inet_aton(requested)
    if server:
        opts += bytes([54, 4]) + socket.inet_aton(server)
    return m + b"\x63\x82\x53\x63" + opts + b"\xff"


def dhcp_reply(frames, xid):
    """(type, yiaddr, server id) of the first DHCP reply with xid in frames."""
    for f in frames:
        if len(f) < 14 + 20 + 8 + 240 or f[12:14] != b"\x08\x00" or f[23] != 17:
            continue
        m = f[14 + (f[14] & 15) * 4 + 8:]
        if m[0] != 2 or struct.unpack(">I", m[4:8])[0] != xid:
            continue
        opts, i, kind, sid = m[240:], 0, None, None
        while i + 1 < len(opts) and opts[i] != 255:
            if opts[i] == 0:
                i += 1
                continue
            val = opts[i + 2:i + 2 + opts[i + 1]]
            if opts[i] == 53:
                kind = val[0]
            elif opts[i] == 54:
                sid = socket.inet_ntoa(val)
            i += 2 + opts[i + 1]
        return kind, socket.inet_ntoa(m[16:20]), sid
    return None


def dhcp_lease(port, xid=0x1234):
    """Runs DISCOVER/OFFER/REQUEST/ACK on port; the leased address."""
    def ask(msg_type, requested=None, server=None):
        port.send(udp_frame(BCAST, port.mac, "0.0.0.0", "255.255.255.255", 68, 67,
                            dhcp_message(port.mac, msg_type, xid, requested, server)))
        return wait_for(lambda: dhcp_reply(port.recv_all(0.3), xid), timeout=10)
    offer = ask(1)
    assert offer and offer[0] == 2, offer
    ack = ask(3, offer[1], offer[2])
    assert ack and ack[0] == 5 and ack[1] == offer[1], ack
    return ack[1]


@unittest.skipUnless(os.access(WIRT, os.X_OK), "build/wirt missing")
class SwitchTest(unittest.TestCase):
    def setUp(self):
        self.s = Store()
        self.ports = []

    def tearDown(self):
        for p in self.ports:
            p.close()
        self.s.close()

    def lan(self, *opts, name="lan"):
        self.s.ok("create", name, *opts)
        self.s.ok("start", name)
        return name

    def port(self, mac, net="lan", **kw):
        p = Port(self.s, net, mac, **kw)
        self.ports.append(p)
        return p

    def test_learning_flooding_and_isolation_of_networks(self):
        self.lan()
        self.lan(name="other")
        a, b, c = self.port(A), self.port(B), self.port(C)
        x = self.port(D, net="other")
        f = frame(BCAST, A)
        a.send(f)
        self.assertEqual(b.recv_all(), [f])
        self.assertEqual(c.recv_all(), [f])
        self.assertEqual(a.recv_all(0.1), [])  # not back to the sender
        self.assertEqual(x.recv_all(0.1), [])  # another network sees nothing
        # B answers A by unicast: learned, so only A gets it.
        f2 = frame(A, B)
        b.send(f2)
        self.assertEqual(a.recv_all(), [f2])
        self.assertEqual(c.recv_all(0.1), [])
        dump = json.loads(self.s.ok("dump", "lan", "--json").stdout)
        learned = {(m["mac"], m["port"]) for m in dump["macs"]}
        self.assertIn((A, a.number), learned)
        self.assertIn((B, b.number), learned)
        st = self.s.port("lan", a.number)
        self.assertEqual((st["rx-frames"], st["tx-frames"]), (1, 1))

    def test_vlans_access_and_trunk(self):
        self.lan()
        a10, b20 = self.port(A, vlan=10), self.port(B, vlan=20)
        a10b = self.port(C, vlan=10)
        t = self.port(D, trunk=(10, 20))
        f = frame(BCAST, A)
        a10.send(f)
        self.assertEqual(a10b.recv_all(), [f])
        self.assertEqual(b20.recv_all(0.1), [])  # another VLAN: nothing
        # The trunk gets it tagged with VLAN 10.
        self.assertEqual(t.recv_all(), [frame(BCAST, A, vlan=10)])
        # The trunk's guest on VLAN 20 (a subinterface) reaches B untagged.
        t.send(frame(BCAST, D, vlan=20))
        self.assertEqual(b20.recv_all(), [frame(BCAST, D)])
        self.assertEqual(a10.recv_all(0.1), [])
        # A VLAN the trunk does not carry, reserved 4095, a tag on an access port: dropped.
        t.send(frame(BCAST, D, vlan=30))
        t.send(frame(BCAST, D, vlan=4095))
        a10.send(frame(BCAST, A, vlan=20))
        self.assertEqual(b20.recv_all(0.2) + a10b.recv_all(0.1), [])
        self.assertEqual(self.s.port("lan", t.number)["drop-vlan"], 2)
        self.assertEqual(self.s.port("lan", a10.number)["drop-vlan"], 1)

    def test_anti_spoofing(self):
        self.lan()
        a, b = self.port(A), self.port(B)
        a.send(frame(BCAST, C))  # not its own MAC
        a.send(frame(BCAST, "01:00:5e:00:00:01"))  # a multicast source
        self.assertEqual(b.recv_all(0.3), [])
        self.assertEqual(self.s.port("lan", a.number)["drop-spoof"], 2)
        dump = json.loads(self.s.ok("dump", "lan", "--json").stdout)
        self.assertNotIn(C, [m["mac"] for m in dump["macs"]])

    def test_acl_static_mac_and_port_down(self):
        self.lan()
        a, b = self.port(A), self.port(B)
        icmp = ipv4_frame(B, A, "10.10.0.5", "10.10.0.6", 1)
        udp = ipv4_frame(B, A, "10.10.0.5", "10.10.0.6", 17)
        self.s.ok("set", "lan", "acl-add=drop,proto=icmp,src-ip=10.10.0.0/24")
        a.send(icmp)
        a.send(udp)
        self.assertEqual(b.recv_all(), [udp])
        dump = json.loads(self.s.ok("dump", "lan", "--json").stdout)
        self.assertEqual(dump["acl"][0]["hits"], 1)
        self.assertEqual(dump["acl"][0]["rule"], "drop,proto=icmp,src-ip=10.10.0.0/24")
        self.assertIn("acl", json.loads(self.s.ok("info", "lan", "--json").stdout))
        self.s.ok("set", "lan", "acl-del=0")
        a.send(icmp)
        self.assertEqual(b.recv_all(), [icmp])
        # A static entry sends C's frames to B's port without learning.
        self.s.ok("set", "lan", "static-mac=%s,port=%d" % (C, b.number))
        a.send(frame(C, A))
        self.assertEqual(b.recv_all(), [frame(C, A)])
        # A port taken down neither sends nor receives.
        self.s.ok("set", "lan", "port-down=%d" % b.number)
        a.send(frame(BCAST, A))
        self.assertEqual(b.recv_all(0.2), [])
        self.assertFalse(self.s.port("lan", b.number)["up"])
        self.s.ok("set", "lan", "port-up=%d" % b.number)
        a.send(frame(BCAST, A))
        self.assertEqual(len(b.recv_all()), 1)
        # The persistent settings are in net.json for the next start.
        with open(os.path.join(self.s.dir("lan"), "net.json")) as f:
            cfg = json.load(f)
        self.assertEqual(cfg["acl"], [])
        self.assertEqual(cfg["static-macs"], ["%s,port=%d" % (C, b.number)])

    def test_rate_limit(self):
        self.lan()
        rate = 2_000_000
        a = self.port(A, rate=rate)
        b = self.port(B)
        f = frame(B, A, payload=b"r" * 1400)
        stop = threading.Event()

        def offer():  # as fast as the switch takes them: far above the rate
            while not stop.is_set():
                a.send(f)

        sender = threading.Thread(target=offer)
        got = 0
        b.sock.settimeout(0.2)
        t0 = time.time()
        sender.start()
        while time.time() - t0 < 3:
            try:
                got += len(b.sock.recv(70000))
            except socket.timeout:
                pass
        stop.set()
        sender.join()
        elapsed = time.time() - t0
        # The bucket starts full (burst = rate/10): take it off.
        measured = (got - rate / 10) / elapsed
        self.assertLess(abs(measured - rate) / rate, 0.10, "measured %.0f B/s" % measured)
        self.assertGreater(self.s.port("lan", a.number)["drop-rate"], 0)

    def test_pcap_mirror_readable_by_tcpdump(self):
        if not shutil.which("tcpdump"):
            self.skipTest("tcpdump missing")
        self.lan()
        a, b = self.port(A), self.port(B)
        p = self.s.ok("set", "lan", "mirror=all,file=cap.pcap")
        self.assertIn("cap.pcap", p.stdout)
        for i in range(5):
            a.send(ipv4_frame(B, A, "10.10.0.5", "10.10.0.6", 17, payload=bytes([i]) * 40))
        b.recv_all()
        self.s.ok("set", "lan", "mirror=off")
        path = os.path.join(self.s.dir("lan"), "cap.pcap")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        out = subprocess.run(["tcpdump", "-nr", path], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.strip().splitlines()
        self.assertEqual(len(lines), 5, out.stdout)
        self.assertIn("IP 10.10.0.5", lines[0])
        self.assertIn("> 10.10.0.6", lines[0])
        # Outside the network's directory: refused.
        self.assertNotEqual(self.s.net("set", "lan", "mirror=all,file=../x.pcap").returncode, 0)

    def test_hostile_input(self):
        self.lan()
        a, b = self.port(A), self.port(B)
        a.send(b"\x01" * 10)                      # runt
        a.send(frame(B, A, payload=b"g" * 66000))  # giant
        a.send(b"")                               # empty
        self.assertEqual(b.recv_all(0.3), [])
        st = self.s.port("lan", a.number)
        self.assertEqual(st["drop-runt"], 2)
        self.assertEqual(st["drop-giant"], 1)
        # A garbage hello is refused; the switch carries on.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(os.path.join(self.s.dir("lan"), "ports.sock"))
        s.settimeout(5)
        s.send(b"hello?" * 50)
        self.assertLess(struct.unpack("@8si", s.recv(128)[:12])[1], 0)
        s.close()
        with self.assertRaises(ConnectionRefusedError):
            Port(self.s, "lan", "01:00:5e:00:00:01")  # a multicast MAC is no port's own
        # A port that disconnects is gone from the table.
        a.close()
        self.ports.remove(a)
        self.assertTrue(wait_for(lambda: a.number not in [p["port"] for p in self.s.ports("lan")]))
        b.send(frame(BCAST, B))
        self.assertEqual(self.s.port("lan", b.number)["rx-frames"], 1)

    def test_vxlan_between_two_switches(self):
        pa, pb = free_udp_port(), free_udp_port()
        self.lan("--vxlan", "vni=42,remote=127.0.0.1:%d,local=127.0.0.1:%d" % (pb, pa), name="east")
        self.lan(name="west")
        # Added to a running switch, as `wirt net set` does.
        self.s.ok("set", "west", "vxlan=vni=42,remote=127.0.0.1:%d,local=127.0.0.1:%d" % (pa, pb))
        a = self.port(A, net="east")
        b = self.port(B, net="west")
        f = frame(BCAST, A)
        a.send(f)
        self.assertEqual(b.recv_all(1.0), [f])
        b.send(frame(A, B, vlan=None))
        self.assertEqual(a.recv_all(1.0), [frame(A, B)])
        # Packets from an unknown peer, with a bad header or another VNI: dropped, counted.
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.2", 0))
        vx = struct.pack(">B3xI", 0x08, 42 << 8)
        u.sendto(vx + frame(BCAST, C), ("127.0.0.1", pa))  # unknown peer
        u.close()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(struct.pack(">B3xI", 0x00, 42 << 8) + frame(BCAST, C), ("127.0.0.1", pa))
        u.sendto(struct.pack(">B3xI", 0x08, 43 << 8) + frame(BCAST, C), ("127.0.0.1", pa))
        u.sendto(b"\x08", ("127.0.0.1", pa))
        u.close()
        self.assertEqual(a.recv_all(0.3), [])
        stats = json.loads(self.s.ok("stats", "east", "--json").stdout)
        self.assertEqual(stats["vxlan-dropped"], 4)
        with open(os.path.join(self.s.dir("west"), "net.json")) as f:
            self.assertEqual(len(json.load(f)["vxlan"]), 1)

    def test_ip_guard_by_dhcp_snooping(self):
        self.lan("--dhcp")
        a, b = self.port(A), self.port(B)
        other = "10.10.0.99"
        # Before a lease A may only ask for one.
        a.send(udp_frame(BCAST, A, other, "255.255.255.255", 5000, 5000, b"early"))
        self.assertEqual(b.recv_all(0.3), [])
        ip = dhcp_lease(a)
        b.recv_all(0.2)  # A's DHCP broadcasts
        self.assertEqual(self.s.port("lan", a.number)["ip"], ip)
        good = udp_frame(BCAST, A, ip, "255.255.255.255", 5000, 5000, b"mine")
        a.send(good)
        self.assertEqual(b.recv_all(), [good])
        spoof = self.s.port("lan", a.number)["drop-spoof"]
        a.send(udp_frame(BCAST, A, other, "255.255.255.255", 5000, 5000, b"not mine"))
        arp = frame(BCAST, A, 0x0806, struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1,
                                                   mac_bytes(A), socket.inet_aton(other),
                                                   b"\0" * 6, socket.inet_aton(ip)))
        a.send(arp)
        # B plays DHCP server: a guest cannot hand out addresses.
        b.send(udp_frame(BCAST, B, "10.10.0.7", "255.255.255.255", 67, 68, b"\2" * 240))
        self.assertEqual(b.recv_all(0.3) + a.recv_all(0.1), [])
        self.assertEqual(self.s.port("lan", a.number)["drop-spoof"], spoof + 2)
        self.assertEqual(self.s.port("lan", b.number)["drop-spoof"], 1)
        # The binding outlives a restart of the switch, in an owner-only file.
        bindings = os.path.join(self.s.dir("lan"), "ip-bindings")
        self.assertEqual(os.stat(bindings).st_mode & 0o777, 0o600)
        a.close(), b.close()
        self.s.ok("stop", "lan")
        self.s.ok("start", "lan")
        a, b = self.port(A), self.port(B)
        a.send(good)
        self.assertEqual(b.recv_all(), [good])
        # --no-ip-guard turns it off.
        self.lan("--dhcp", "--no-ip-guard", name="open")
        c, d = self.port(C, net="open"), self.port(D, net="open")
        f = udp_frame(BCAST, C, other, "255.255.255.255", 5000, 5000, b"any")
        c.send(f)
        self.assertEqual(d.recv_all(), [f])
        self.assertNotIn("ip", self.s.port("open", c.number))

    def test_direct_paths_between_vm_ports(self):
        """Two ports that take headers and direct paths (as VMMs do) get a
        socket pair of their own once the switch has carried a unicast
        between them; any policy change cuts it in both at once."""
        self.lan()
        vhdr = b"\0" * 12
        a, b = self.port(A, flags=3), self.port(B, flags=3)
        c = self.port(C, flags=1)  # headers, no direct paths

        def grant(p):
            msg, anc, _, _ = p.sock.recvmsg(100, socket.CMSG_SPACE(4))
            self.assertEqual(msg[:8], b"WIRTSC1\0")
            self.assertEqual(struct.unpack("<I", msg[8:12])[0], 1)
            fds = [struct.unpack("i", d[:4])[0] for lvl, typ, d in anc
                   if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS]
            self.assertEqual(len(fds), 1)
            return msg[12:18], socket.socket(fileno=fds[0])

        ab = frame(B, A)
        a.send(vhdr + ab)
        b.sock.settimeout(5)
        out = b"\0" * 10 + b"\1\0"  # num_buffers 1
        self.assertEqual(b.sock.recv(70000), out + ab)  # flooded: B is not known yet
        c.recv_all(0.1)
        (mac_b, da), (mac_a, db) = grant(a), grant(b)
        self.assertEqual((mac_b, mac_a), (mac_bytes(B), mac_bytes(A)))
        da.send(vhdr + ab)
        self.assertEqual(db.recv(70000), vhdr + ab)
        # A port without direct paths never gets one.
        a.send(vhdr + frame(C, A))
        self.assertEqual(len(c.recv_all(0.3)), 1)
        self.assertEqual(a.recv_all(0.2), [])
        b.recv_all(0.1)  # flooded there too
        stats = json.loads(self.s.ok("stats", "lan", "--json").stdout)
        self.assertEqual((stats["direct-paths"], stats["direct-granted"]), (1, 1))
        # Policy changes revoke: both ends are shut down.
        self.s.ok("set", "lan", "acl-add=drop,src-mac=%s" % A)
        with self.assertRaises(OSError):
            da.send(vhdr + ab)
        db.settimeout(1)
        self.assertEqual(db.recv(70000), b"")
        # ... and with an ACL the switch hands out none.
        a.send(vhdr + ab)
        self.assertEqual(b.recv_all(0.3) + a.recv_all(0.1), [])
        self.assertEqual(json.loads(self.s.ok("stats", "lan", "--json").stdout)["direct-paths"], 0)
        da.close(), db.close()

    def test_bindings_writes_coalesced(self):
        """A guest that leases and releases in a loop changes the DHCP
        bindings on every message; the switch writes (and fsyncs) them at
        most once a second, and the last state is on disk within that."""
        self.lan("--dhcp")
        a = self.port(A)
        ip = dhcp_lease(a)
        server = "10.10.0.2"
        path = os.path.join(self.s.dir("lan"), "ip-bindings")

        def writes():
            return json.loads(self.s.ok("stats", "lan", "--json").stdout)["bindings-writes"]

        def acked(xid):
            a.sock.settimeout(5)
            while True:
                r = dhcp_reply([a.sock.recv(70000)], xid)
                if r:
                    return r[0] == 5
        before = writes()
        t0 = time.monotonic()
        changes = 0
        for i in range(20):
            a.send(udp_frame(BCAST, A, ip, server, 68, 67, dhcp_message(A, 7, 0x500 + i,
                                                                       server=server)))
            a.send(udp_frame(BCAST, A, "0.0.0.0", "255.255.255.255", 68, 67,
                             dhcp_message(A, 3, 0x600 + i, ip, server)))
            self.assertTrue(acked(0x600 + i))
            changes += 2
        elapsed = time.monotonic() - t0
        done = writes() - before
        self.assertLessEqual(done, int(elapsed) + 2, (done, elapsed))
        self.assertLess(done, changes // 4)
        # Released last: the file says so within the interval.
        a.send(udp_frame(BCAST, A, ip, server, 68, 67, dhcp_message(A, 7, 0x700, server=server)))
        def on_disk():
            with open(path) as f:
                return f.read() == ""
        self.assertTrue(wait_for(on_disk, timeout=3))
        self.assertEqual(self.s.port("lan", a.number)["ip"], None)

    @unittest.skipUnless(os.geteuid() == 0 and os.path.exists("/dev/net/tun")
                         and shutil.which("ip"), "needs root, /dev/net/tun and ip(8)")
    def test_host_tap_uplink(self):
        ns = "wirt-tapup-%d" % os.getpid()
        subprocess.run(["ip", "netns", "add", ns], check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", ns])
        self.s.ok("create", "lan", "--tap", "wtup0")
        # Started inside the namespace, the switch creates its tap there.
        subprocess.run(["ip", "netns", "exec", ns, WIRT, "net", "start", "lan"], env=self.s.env,
                       check=True, capture_output=True, timeout=30)
        for cmd in (["ip", "link", "set", "wtup0", "up"],
                    ["ip", "addr", "add", "10.20.0.1/24", "dev", "wtup0"]):
            subprocess.run(["ip", "netns", "exec", ns] + cmd, check=True)
        ports = self.s.ports("lan")
        self.assertIn(("tap", "tap wtup0"), [(p["kind"], p["owner"]) for p in ports])
        a = self.port(A)
        who_has = frame(BCAST, A, 0x0806, struct.pack(
            ">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac_bytes(A), socket.inet_aton("10.20.0.5"),
            b"\0" * 6, socket.inet_aton("10.20.0.1")))

        def arp_reply():
            a.send(who_has)
            return [f for f in a.recv_all(0.5)
                    if f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x02"
                    and f[28:32] == socket.inet_aton("10.20.0.1")]
        # The host's kernel answers the VM's ARP through the uplink: both ways work.
        self.assertTrue(wait_for(arp_reply, timeout=10))
        tap = next(p for p in self.s.ports("lan") if p["kind"] == "tap")
        self.assertGreaterEqual(tap["tx-frames"], 1)
        self.assertGreaterEqual(tap["rx-frames"], 1)
        # A tap that cannot be had: the start fails with one line naming it.
        self.s.ok("create", "bad", "--tap", "wtup0")
        p = subprocess.run(["ip", "netns", "exec", ns, WIRT, "net", "start", "bad"],
                           env=self.s.env, capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("wtup0", p.stderr)
        self.assertEqual(p.stderr.count("\n"), 1, p.stderr)

    def test_files_owner_only_whatever_the_umask(self):
        old = os.umask(0)
        try:
            self.lan()
        finally:
            os.umask(old)
        d = self.s.dir("lan")
        self.assertEqual(os.stat(d).st_mode & 0o777, 0o700)
        for f in ("net.json", "switch.pid", "ports.sock", "control.sock", "lock", "switch.log"):
            self.assertEqual(os.stat(os.path.join(d, f)).st_mode & 0o777, 0o600, f)

    def test_bad_input(self):
        s = self.s
        for args, word in ((["create", "../x"], "name"),
                           (["create", "n1", "--subnet", "10.0.0.0/33"], "--subnet"),
                           (["create", "n1", "--vxlan", "vni=1"], "--vxlan"),
                           (["create", "n1", "--hostfwd", "tcp::80-10.10.0.5:80"], "--nat"),
                           (["create", "n1", "--bogus"], "--bogus"),
                           (["create", "n1", "--tap", "a-name-far-too-long"], "--tap"),
                           (["create", "n1", "--tap", "t0,vlan=5000"], "--tap"),
                           (["info", "nosuch"], "no network"),
                           (["frobnicate"], "frobnicate")):
            p = s.net(*args)
            self.assertNotEqual(p.returncode, 0, args)
            self.assertEqual(p.stderr.count("\n"), 1, p.stderr)
            self.assertIn(word, p.stderr)
        s.ok("create", "n1")
        p = s.net("create", "n1")
        self.assertIn("exists", p.stderr)
        p = s.net("set", "n1", "acl-add=reject,proto=icmp")
        self.assertEqual(p.returncode, 2)
        self.assertIn("drop or allow", p.stderr)
        p = s.net("stats", "n1")
        self.assertIn("not running", p.stderr)
        # wirt run with an unknown network: one line before any VM starts.
        p = subprocess.run([WIRT, "run", "--net", "switch=nosuch"], env=s.env, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("no such network", p.stderr)
        p = subprocess.run([WIRT, "run", "--net", "switch=n1,vlan=10,trunk=20"], env=s.env,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("exclude", p.stderr)
        # delete refuses a running network, then works.
        s.ok("start", "n1")
        self.assertIn("stop it first", s.net("delete", "n1").stderr)
        s.ok("stop", "n1")
        s.ok("delete", "n1")
        self.assertFalse(os.path.exists(s.dir("n1")))


if __name__ == "__main__":
    unittest.main()
