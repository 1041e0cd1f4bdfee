# SPDX-License-Identifier: MIT
"""Snapshots of a running VM and its guest agent: `snapshot create` freezes
the guest's file systems around the instant and thaws them after;
`snapshot revert` thaws them (the reverted guest is in the frozen moment)
and sets the guest's clock (it stood at the snapshot's time).  A shell
stand-in for qemu-guest-agent in the default guest writes each command it
gets to the console, which the host keeps (console.log is not reverted)."""
import base64
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import WIRT, Serial, Store, have_guest, wait_ready  # noqa: E402
from test_vm_agent import channels  # noqa: E402

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
    *guest-fsfreeze-freeze*) echo AGENT-GOT-freeze >/dev/console; echo '{"return": 1}' >&3;;
    *guest-fsfreeze-thaw*) echo AGENT-GOT-thaw >/dev/console; echo '{"return": 1}' >&3;;
    *guest-set-time*) echo AGENT-GOT-settime >/dev/console; hwclock -s; echo '{"return": {}}' >&3;;
    *) echo '{"return": {}}' >&3;;
    esac
done
"""


@unittest.skipUnless(have_guest() and os.access(WIRT, os.X_OK),
                     "default guest or build/wirt missing")
class SnapshotAgentTest(unittest.TestCase):
    def setUp(self):
        self.s = Store()
        self.con = None

    def tearDown(self):
        if self.con:
            self.con.close()
        self.s.close()

    def agent_log(self):
        with open(self.s.path("sa", "console.log"), errors="replace") as f:
            return re.findall(r"AGENT-GOT-(\w+)", f.read())

    def test_freeze_thaw_and_time(self):
        s = self.s
        s.ok("create", "sa", "--from", "debian")
        s.ok("start", "sa")
        wait_ready(s, "sa")
        self.con = Serial(s, "sa")
        script = base64.b64encode(AGENT.encode()).decode()
        for i in range(0, len(script), 200):  # the console takes short lines
            out, rc = self.con.run("echo %s >>/tmp/agent.b64" % script[i:i + 200])
            self.assertEqual(rc, 0, out)
        out, rc = self.con.run("base64 -d /tmp/agent.b64 >/tmp/agent.sh && "
                               "(setsid sh /tmp/agent.sh </dev/null >/dev/null 2>&1 &)")
        self.assertEqual(rc, 0, out)
        end = time.monotonic() + 30
        while not channels(s, "sa")[0]["guest-open"]:
            self.assertLess(time.monotonic(), end, "the agent never opened its port")
            time.sleep(0.2)
        self.assertEqual(s.wirt("agent", "sa", "ping").returncode, 0)

        before = len(self.agent_log())
        s.ok("snapshot", "sa", "create", "s1", timeout=180)
        self.assertEqual(self.agent_log()[before:], ["freeze", "thaw"])
        time.sleep(20)
        before = len(self.agent_log())
        s.ok("snapshot", "sa", "revert", "s1", timeout=180)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(self.agent_log()) < before + 2:
            time.sleep(0.5)
        self.assertEqual(self.agent_log()[before:], ["thaw", "settime"])


if __name__ == "__main__":
    unittest.main()
