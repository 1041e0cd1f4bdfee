# SPDX-License-Identifier: MIT
"""Virtual networks with real guests (the default busybox guest).

- two VMs on one switch get addresses from its DHCP, ping each other and
  move 8 MiB intact (hash checked); a VM on another switch cannot reach
  them;
- the switch stops: the VMs keep running, and talk again once it is back;
- the NAT router port forwards a host port to a VM (hostfwd);
- anti-spoofing: a VM that takes another address than its lease reaches no
  one until it takes its own back;
- direct paths: two VMs on a network without policy exchange frames
  without the switch process (8 MiB intact, offloads and all); an ACL
  cuts the path at once and is obeyed, and its removal lets them talk;
- a guest's own VLAN subinterfaces (8021q) on a trunk port reach VMs on
  the matching access VLAN and only those;
- VMs of the store (`wirt vm create --net switch=NAME`) get MACs of their
  own and reach each other;
- VXLAN against the Linux kernel's own vxlan device in a network
  namespace (root only)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "guest"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "vm"))
import guestlib  # noqa: E402
from netlib import WIRT, Store, wait_for  # noqa: E402


def addr(g):
    out = g.run("ifconfig eth0 | sed -n 's/.*inet addr:\\([0-9.]*\\).*/\\1/p'")
    return out.strip()


def wait_addr(g, prefix, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        a = addr(g)
        if a.startswith(prefix):
            return a
        time.sleep(1)
    raise AssertionError("no %s* address" % prefix)


def pings(g, ip, count=2):
    _, status = g.run("ping -c %d -W 2 %s >/dev/null" % (count, ip), check=False)
    return status == 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


@unittest.skipUnless(guestlib.have_guest() and os.access(WIRT, os.X_OK),
                     "default guest or build/wirt missing")
class SwitchGuestTest(unittest.TestCase):
    def setUp(self):
        self.s = Store()
        self.guests = []

    def tearDown(self):
        for g in self.guests:
            g.close()
        self.s.close()

    def vm(self, net):
        g = guestlib.Guest(guestlib.wirt_argv(extra=["--net", net]), env=self.s.env,
                           name="vm%d" % len(self.guests))
        self.guests.append(g)
        g.wait_ready()
        return g

    def send_8mib(self, a, b, ib):
        """8 MiB of random data from a to b (at ib) over TCP, checked by md5."""
        b.run("{ (nc -l -p 5000 > /tmp/in; echo done > /tmp/in.done) >/dev/null 2>&1 & }")
        a.run("dd if=/dev/urandom of=/tmp/out bs=1M count=8 2>/dev/null")
        want = a.run("md5sum < /tmp/out").split()[0]
        time.sleep(0.5)
        a.run("nc -w 5 %s 5000 < /tmp/out" % ib, timeout=300)
        self.assertTrue(wait_for(lambda: b.run("cat /tmp/in.done 2>/dev/null || true") == "done",
                                 60, 1))
        self.assertEqual(b.run("md5sum < /tmp/in").split()[0], want)

    def test_two_vms_transfer_and_isolation(self):
        self.s.ok("create", "lan", "--nat")
        self.s.ok("create", "other")
        a, b = self.vm("switch=lan"), self.vm("switch=lan")
        c = self.vm("switch=other")
        ia, ib = wait_addr(a, "10.10.0."), wait_addr(b, "10.10.0.")
        self.assertNotEqual(ia, ib)
        self.assertTrue(pings(a, ib))
        self.assertTrue(pings(b, ia))
        # 8 MiB from a to b through the switch, intact.
        self.send_8mib(a, b, ib)
        # Offloads both ways: the stream crossed the switch in frames far
        # larger than the MTU (TSO from a, taken whole by b), not cut up.
        # (The largest frame, not the mean: under host load TCP sizes its
        # segments to its pacing rate, and many go out at one MSS.)
        vm_ports = [p for p in self.s.ports("lan") if p["kind"] == "vm"]
        biggest = max(p["rx-largest"] for p in vm_ports)
        self.assertGreater(biggest, 1514, vm_ports)  # the most an MTU frame can be
        # IP anti-spoofing: with another address than its lease, a reaches
        # no one (its ARP and IP are dropped at its port), and is back with it.
        spoofed = self.s.ports("lan")
        a.run("ifconfig eth0 10.10.0.77 netmask 255.255.255.0")
        self.assertFalse(pings(a, ib, 1))
        a.run("ifconfig eth0 %s netmask 255.255.255.0" % ia)
        self.assertTrue(wait_for(lambda: pings(a, ib, 1), 20, 0.5))
        drops = {p["port"]: p["drop-spoof"] for p in self.s.ports("lan")}
        self.assertTrue(any(drops[p["port"]] > p["drop-spoof"] for p in spoofed
                            if p["kind"] == "vm"), drops)
        # Another network: same subnet, no way across.
        c.run("ifconfig eth0 %s netmask 255.255.255.0 up" % "10.10.0.99")
        self.assertFalse(pings(c, ia))
        stats = self.s.ports("lan")
        self.assertEqual(sorted(p["kind"] for p in stats), ["nat", "vm", "vm"])
        self.assertTrue(all(p["rx-bytes"] > 0 for p in stats if p["kind"] == "vm"))

    def test_direct_path_between_two_vms(self):
        self.s.ok("create", "lan")
        a, b = self.vm("switch=lan"), self.vm("switch=lan")
        ia, ib = "10.20.0.1", "10.20.0.2"
        a.run("ifconfig eth0 %s netmask 255.255.255.0 up" % ia)
        b.run("ifconfig eth0 %s netmask 255.255.255.0 up" % ib)
        self.assertTrue(wait_for(lambda: pings(a, ib, 1), 30, 0.5))

        def stats():
            return json.loads(self.s.ok("stats", "lan", "--json").stdout)
        self.assertEqual(stats()["direct-paths"], 1)
        before = sum(p["rx-frames"] for p in stats()["ports"])
        self.send_8mib(a, b, ib)
        # The stream did not pass the switch process (a few ARP frames may).
        self.assertLess(sum(p["rx-frames"] for p in stats()["ports"]) - before, 50)
        # A rule applies at once: the direct path is cut and frames pass the switch.
        self.s.ok("set", "lan", "acl-add=drop,proto=icmp")
        self.assertEqual(stats()["direct-paths"], 0)
        self.assertFalse(pings(a, ib, 2))
        self.assertEqual(stats()["direct-paths"], 0)
        self.s.ok("set", "lan", "acl-del=0")
        self.assertTrue(wait_for(lambda: pings(a, ib, 1), 30, 0.5))
        self.assertEqual(stats()["direct-paths"], 1)

    def test_guest_vlan_subinterfaces_on_a_trunk(self):
        self.s.ok("create", "lan")
        t, x = self.vm("switch=lan,trunk=10,20"), self.vm("switch=lan,vlan=10")
        t.run("modprobe 8021q 2>/dev/null; true")
        for vid in (10, 20):
            t.run("ip link add link eth0 name eth0.%d type vlan id %d" % (vid, vid))
            t.run("ip addr add 192.168.%d.1/24 dev eth0.%d && ip link set eth0.%d up"
                  % (vid, vid, vid))
        t.run("ip link set eth0 up")
        x.run("ifconfig eth0 192.168.10.2 netmask 255.255.255.0 up")
        # VLAN 10 reaches the trunk's subinterface eth0.10, in both directions.
        self.assertTrue(wait_for(lambda: pings(x, "192.168.10.1", 1), 30, 0.5))
        self.assertTrue(pings(t, "192.168.10.2", 1))
        # The same wire cannot reach the trunk's VLAN 20, whatever its address.
        x.run("ip addr add 192.168.20.2/24 dev eth0")
        self.assertFalse(pings(x, "192.168.20.1", 1))
        trunk = next(p for p in self.s.ports("lan") if p["trunk"])
        self.assertGreater(trunk["rx-frames"], 0)

    def test_switch_restart_vms_rejoin(self):
        self.s.ok("create", "lan", "--nat")
        a, b = self.vm("switch=lan"), self.vm("switch=lan")
        ib = wait_addr(b, "10.10.0.")
        wait_addr(a, "10.10.0.")
        self.assertTrue(pings(a, ib))
        self.s.ok("stop", "lan")
        self.assertEqual(a.run("echo alive"), "alive")  # the VMs do not notice but for the wire
        self.assertFalse(pings(a, ib, 1))
        self.s.ok("start", "lan")
        self.assertTrue(wait_for(lambda: pings(a, ib, 1), 30, 0.5))

    def test_hostfwd_to_a_vm(self):
        port = free_port()
        self.s.ok("create", "lan", "--nat", "--hostfwd", "tcp:127.0.0.1:%d-10.10.0.15:8080" % port)
        a = self.vm("switch=lan")
        self.assertEqual(wait_addr(a, "10.10.0."), "10.10.0.15")
        a.run("{ (echo hello-through-the-switch | nc -l -p 8080) >/dev/null 2>&1 & }")
        time.sleep(0.5)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.settimeout(30)
            data = b""
            while b"\n" not in data:
                chunk = s.recv(100)
                if not chunk:
                    break
                data += chunk
        self.assertEqual(data.strip(), b"hello-through-the-switch")

    def test_store_vms_join_a_switch(self):
        from vmlib import Store as VmStore, wait_ready
        vs = VmStore()
        vs.store = self.s.store
        try:
            self.s.ok("create", "lan", "--nat")
            for n in ("v1", "v2"):
                vs.ok("create", n, "--from", "debian", "--net", "switch=lan")
                vs.ok("start", n)
            for n in ("v1", "v2"):
                wait_ready(vs, n)
            macs = {p["mac"] for p in self.s.ports("lan") if p["kind"] == "vm"}
            self.assertEqual(len(macs), 2, macs)
            # The same MAC again at the next start: DHCP leases stay.
            vs.ok("stop", "v1", "--force")
            vs.ok("start", "v1")
            wait_ready(vs, "v1")
            self.assertEqual({p["mac"] for p in self.s.ports("lan") if p["kind"] == "vm"}, macs)
        finally:
            for n in ("v1", "v2"):
                vs.wirt("stop", n, "--force")

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("ip"), "needs root and iproute2")
    def test_vxlan_with_the_linux_kernel(self):
        tag = "wx%d" % (os.getpid() % 100000)
        ns, host_if, ns_if = tag, tag + "h", tag + "n"
        octet = 100 + os.getpid() % 100

        def sh(*cmd, check=True):
            return subprocess.run(cmd, capture_output=True, text=True, check=check)

        try:
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
            sh("ip", "link", "set", ns_if, "netns", ns)
            sh("ip", "addr", "add", "10.%d.0.1/24" % octet, "dev", host_if)
            sh("ip", "link", "set", host_if, "up")
            nsx = ["ip", "netns", "exec", ns]
            sh(*nsx, "ip", "addr", "add", "10.%d.0.2/24" % octet, "dev", ns_if)
            sh(*nsx, "ip", "link", "set", ns_if, "up")
            sh(*nsx, "ip", "link", "set", "lo", "up")
            sh(*nsx, "ip", "link", "add", "vx0", "type", "vxlan", "id", "4242", "remote",
               "10.%d.0.1" % octet, "dstport", "4789", "dev", ns_if)
            sh(*nsx, "ip", "addr", "add", "10.31.0.50/24", "dev", "vx0")
            sh(*nsx, "ip", "link", "set", "vx0", "up")
            self.s.ok("create", "over", "--vxlan",
                      "vni=4242,remote=10.%d.0.2,local=10.%d.0.1:4789" % (octet, octet))
            g = self.vm("switch=over")
            g.run("ifconfig eth0 10.31.0.5 netmask 255.255.255.0 up")
            self.assertTrue(wait_for(lambda: pings(g, "10.31.0.50", 1), 30, 0.5),
                            "the VM cannot reach the kernel's vxlan device")
            p = sh(*nsx, "busybox", "ping", "-c", "2", "-W", "2", "10.31.0.5", check=False)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            # The kernel learned the VM's MAC behind our tunnel endpoint.
            fdb = sh(*nsx, "bridge", "fdb", "show", "dev", "vx0", check=False).stdout
            self.assertIn("10.%d.0.1" % octet, fdb)
        finally:
            sh("ip", "netns", "del", ns, check=False)
            sh("ip", "link", "del", host_if, check=False)


if __name__ == "__main__":
    unittest.main()
