# SPDX-License-Identifier: MIT
"""The guest agent end to end on the default guest: the VM's agent channel
(a named virtio-console port, org.qemu.guest_agent.0) reaches a program in
the guest that speaks qemu-guest-agent's protocol.  The busybox guest has
no qemu-guest-agent, so a shell stand-in answers guest-sync-delimited,
guest-ping, guest-network-get-interfaces (from the guest's real eth0
address) and guest-shutdown; the host side under test is the one a real
agent would talk to.

- before an agent runs, `wirt vm agent` fails with one line, and
  query-channels shows the port closed in the guest;
- with it: ping, the guest's address in `agent ips` and `wirt vm info`;
- a stale request left in the channel by a client that gave up does not
  confuse the next one (guest-sync-delimited);
- `wirt vm stop` shuts the guest down through the agent."""
import base64
import json
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import WIRT, Serial, Store, control, have_guest, wait_ready  # noqa: E402

AGENT = r"""
for p in /sys/class/virtio-ports/*; do
    [ "$(cat $p/name 2>/dev/null)" = org.qemu.guest_agent.0 ] && dev=/dev/${p##*/}
done
exec 3<>$dev
while IFS= read -r line <&3; do
    case "$line" in
    *guest-sync-delimited*)
        id=${line##*\"id\":}; id=${id%%\}*}
        printf '\377{"return": %s}\n' "$id" >&3;;
    *guest-ping*) echo '{"return": {}}' >&3;;
    *guest-network-get-interfaces*)
        ip=$(ifconfig eth0 | sed -n 's/.*inet addr:\([0-9.]*\).*/\1/p')
        echo '{"return": [{"name": "lo", "ip-addresses": [{"ip-address-type": "ipv4",' \
             '"ip-address": "127.0.0.1", "prefix": 8}]}, {"name": "eth0", "ip-addresses":' \
             '[{"ip-address-type": "ipv4", "ip-address": "'$ip'", "prefix": 24}]}]}' >&3;;
    *guest-shutdown*) echo AGENT-SHUTDOWN >/dev/console; poweroff;;
    *) echo '{"error": {"class": "CommandNotFound", "desc": "not in this stand-in"}}' >&3;;
    esac
done
"""


def channels(store, name):
    return control(store, name, '{"execute": "query-channels"}\n')[0]["return"]


@unittest.skipUnless(have_guest() and os.access(WIRT, os.X_OK),
                     "default guest or build/wirt missing")
class GuestAgentTest(unittest.TestCase):
    def setUp(self):
        self.s = Store()
        self.con = None

    def tearDown(self):
        if self.con:
            self.con.close()
        self.s.close()

    def test_agent_channel(self):
        s = self.s
        s.ok("create", "ga", "--from", "debian", "--net", "user")
        s.ok("start", "ga")
        sock = s.path("ga", "agent.sock")
        self.assertEqual(os.stat(sock).st_mode & 0o777, 0o600)
        wait_ready(s, "ga")
        self.assertEqual(channels(s, "ga"), [{"name": "org.qemu.guest_agent.0",
                                              "guest-open": False, "client": False,
                                              "dropped": 0}])
        # No agent in the guest yet: one line, non-zero exit.
        p = s.wirt("agent", "ga", "ping", "--timeout", "2")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.strip().count("\n"), 0, p.stderr)
        self.assertIn("did not answer", p.stderr)
        self.assertNotIn("guest ips", s.ok("info", "ga").stdout)

        self.con = Serial(s, "ga")
        out, rc = self.con.run("ifconfig eth0 | grep -q 'inet addr' || udhcpc -q -i eth0 "
                               ">/dev/null 2>&1; ifconfig eth0 | grep -c 'inet addr'")
        self.assertEqual((out, rc), ("1", 0))
        # A client that does not read for a while loses nothing: past a
        # backlog the guest's writer waits (flow control), and goes on as
        # the client reads.
        find_port = ("for p in /sys/class/virtio-ports/*; do [ \"$(cat $p/name)\" = "
                     "org.qemu.guest_agent.0 ] && d=/dev/${p##*/}; done; ")
        size = 2000000
        c = socket.socket(socket.AF_UNIX)
        c.connect(sock)
        out, rc = self.con.run(find_port + "rm -f /tmp/w.done; (head -c %d /dev/zero | tr '\\0' x "
                               ">$d; touch /tmp/w.done) >/dev/null 2>&1 & true" % size)
        self.assertEqual(rc, 0, out)
        time.sleep(2)
        out, rc = self.con.run("[ -e /tmp/w.done ]")
        self.assertNotEqual(rc, 0, "the writer finished while nobody read: output was dropped")
        got = b""
        c.settimeout(10)
        while len(got) < size:
            chunk = c.recv(65536)
            if not chunk:
                break
            got += chunk
        self.assertEqual((len(got), got.strip(b"x")), (size, b""))
        out, rc = self.con.run("sleep 0.5; [ -e /tmp/w.done ]")
        self.assertEqual(rc, 0, "the writer did not finish after the client read everything")
        self.assertEqual(channels(s, "ga")[0]["dropped"], 0)
        # A client that goes away releases a waiting writer (nobody
        # listens: the rest is dropped, and counted).
        out, rc = self.con.run(find_port + "rm -f /tmp/w.done; (head -c %d /dev/zero | tr '\\0' x "
                               ">$d; touch /tmp/w.done) >/dev/null 2>&1 & true" % size)
        time.sleep(2)
        self.assertNotEqual(self.con.run("[ -e /tmp/w.done ]")[1], 0)
        c.close()
        for _ in range(50):
            if self.con.run("[ -e /tmp/w.done ]")[1] == 0:
                break
            time.sleep(0.2)
        self.assertEqual(self.con.run("[ -e /tmp/w.done ]")[1], 0,
                         "the writer still waits after the client left")
        self.assertGreater(channels(s, "ga")[0]["dropped"], 0)
        # Typed in short lines: the console's line discipline takes a few
        # hundred characters at a time.
        script = base64.b64encode(AGENT.encode()).decode()
        for i in range(0, len(script), 200):
            out, rc = self.con.run("echo %s >>/tmp/agent.b64" % script[i:i + 200])
            self.assertEqual(rc, 0, out)
        out, rc = self.con.run("base64 -d /tmp/agent.b64 >/tmp/agent.sh && "
                               "(setsid sh /tmp/agent.sh </dev/null >/dev/null 2>&1 &)")
        self.assertEqual(rc, 0, out)
        end = time.monotonic() + 30
        while not channels(s, "ga")[0]["guest-open"]:
            self.assertLess(time.monotonic(), end, "the agent never opened its port")
            time.sleep(0.2)

        self.assertEqual(json.loads(s.ok("agent", "ga", "ping").stdout), {})
        ips = s.ok("agent", "ga", "ips").stdout.strip()
        self.assertRegex(ips, r"^eth0 10\.0\.2\.\d+/24$")
        self.assertIn("guest ips:  " + ips, s.ok("info", "ga").stdout)
        info = json.loads(s.ok("info", "ga", "--json").stdout)
        self.assertEqual(info["guest-interfaces"][1]["name"], "eth0")
        p = s.wirt("agent", "ga", "guest-exec-status", '{"pid": 1}')
        self.assertEqual(p.returncode, 1)
        self.assertIn("refused guest-exec-status: not in this stand-in", p.stderr)
        one = s.wirt("agent", "ga", "ping", "not json")
        self.assertEqual(one.returncode, 2)
        self.assertIn("not a JSON object", one.stderr)

        # A client that sends a request and leaves: its reply is stale
        # when the next client comes.
        c = socket.socket(socket.AF_UNIX)
        c.connect(sock)
        c.sendall(b'{"execute": "guest-ping"}\n{"execute": "guest-network-get-i')
        c.close()
        time.sleep(0.5)
        self.assertEqual(json.loads(s.ok("agent", "ga", "ping").stdout), {})
        self.assertRegex(s.ok("agent", "ga", "ips").stdout.strip(), r"^eth0 10\.0\.2\.\d+/24$")

        # stop goes through the agent.
        self.con.close()
        self.con = None
        p = s.wirt("stop", "ga", "--timeout", "120", timeout=180)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("stopped VM 'ga'", p.stdout)
        with open(s.path("ga", "console.log"), errors="replace") as f:
            log = f.read()
        self.assertIn("AGENT-SHUTDOWN", log)
        self.assertIn("reboot: Power down", log)
        self.assertFalse(os.path.exists(sock))


if __name__ == "__main__":
    unittest.main()
