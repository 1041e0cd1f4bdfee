# SPDX-License-Identifier: MIT
"""Debian's own qemu-guest-agent, unchanged, in the default guest.

tools/fetch-qga.sh fetches trixie's qemu-guest-agent (riscv64) and the
libraries it loads through the guest's private apt configuration and packs
them as an initramfs overlay; the test appends it to the default guest's
initrd, boots that, and starts /usr/sbin/qemu-ga on the virtio-console
port named org.qemu.guest_agent.0.  The host side is wirt's own
(`wirt vm agent/info/snapshot/stop`), as for any guest.  Checked:

- ping, and the guest's addresses from guest-network-get-interfaces in
  `wirt vm info` (text and JSON);
- the agent freezes the guest's mounted ext2 file system
  (guest-fsfreeze-status "frozen"), and `snapshot create` runs its freeze
  and thaw hooks around the snapshot, in that order;
- `snapshot revert` of the running VM, 15 s later, leaves the guest's
  clock at the host's time (the agent's guest-set-time);
- `wirt vm stop` shuts the guest down through the agent, which runs
  /sbin/shutdown -h -P +0 as on Debian (the busybox guest has no
  shutdown, so a two-line stand-in calls poweroff and says so).

Skipped when the default guest is missing or the packages cannot be
fetched (no network and nothing cached)."""
import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import WIRT, Serial, Store, guest_dir, have_guest, wait_ready  # noqa: E402
from test_vm_agent import channels  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FETCH = os.path.join(REPO, "tools", "fetch-qga.sh")

START_AGENT = (
    "for p in /sys/class/virtio-ports/*; do "
    "[ \"$(cat $p/name 2>/dev/null)\" = org.qemu.guest_agent.0 ] && dev=/dev/${p##*/}; done; "
    "/usr/sbin/qemu-ga -m virtio-serial -p $dev -l /tmp/qga.log "
    "--fsfreeze-hook=/etc/qga-hook -d")
HOOK = "printf '#!/bin/sh\\necho \"hook $1\" >>/tmp/hook.log\\n' >/etc/qga-hook; chmod 755 /etc/qga-hook"
SHUTDOWN = ("printf '#!/bin/sh\\necho \"qga-shutdown: $*\" >/dev/console\\nexec poweroff\\n' "
            ">/sbin/shutdown; chmod 755 /sbin/shutdown")


def fetch_overlay():
    """The overlay's path, or None with the reason."""
    p = subprocess.run([FETCH], capture_output=True, text=True, timeout=1200)
    if p.returncode != 0:
        return None, (p.stderr or p.stdout).strip().splitlines()[-1:]
    d = subprocess.run([FETCH, "--print-dir"], capture_output=True, text=True).stdout.strip()
    return os.path.join(d, "qga.cpio.gz"), None


@unittest.skipUnless(have_guest() and os.access(WIRT, os.X_OK),
                     "default guest or build/wirt missing")
class RealGuestAgentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.overlay, why = fetch_overlay()
        if not cls.overlay:
            raise unittest.SkipTest("qemu-guest-agent not available: %s" % why)

    def setUp(self):
        self.s = Store()
        self.con = None

    def tearDown(self):
        if self.con:
            self.con.close()
        self.s.close()

    def boot(self, name):
        s, g = self.s, guest_dir()
        initrd = os.path.join(self.s.root, "initrd-qga.cpio.gz")
        with open(initrd, "wb") as out:
            for part in (os.path.join(g, "initrd.cpio.gz"), self.overlay):
                with open(part, "rb") as f:
                    out.write(f.read())
        with open(os.path.join(g, "cmdline")) as f:
            cmdline = f.read().strip()
        s.ok("create", name, "--kernel", os.path.join(g, "Image"), "--initrd", initrd,
             "--bios", os.path.join(g, "fw_dynamic.bin"), "--append", cmdline, "--net", "user")
        s.ok("start", name)
        wait_ready(s, name)
        self.con = Serial(s, name)

    def sh(self, cmd, timeout=120):
        out, rc = self.con.run(cmd, timeout)
        self.assertEqual(rc, 0, "%s: %s" % (cmd, out))
        return out

    def agent(self, name, *args):
        p = self.s.wirt("agent", name, *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def hooks(self):
        return re.findall(r"hook (\w+)", self.sh("cat /tmp/hook.log 2>/dev/null; true"))

    def test_debian_qemu_guest_agent(self):
        s = self.s
        self.boot("qga")
        self.assertIn("QEMU Guest Agent", self.sh("/usr/sbin/qemu-ga --version"))
        self.sh(HOOK)
        self.sh(START_AGENT)
        end = time.monotonic() + 60
        while not channels(s, "qga")[0]["guest-open"]:
            self.assertLess(time.monotonic(), end, "qemu-ga never opened its port")
            time.sleep(0.2)
        self.assertEqual(self.agent("qga", "ping"), {})

        # The guest's addresses, as the agent reports them.
        info = json.loads(s.ok("info", "qga", "--json").stdout)
        names = {i["name"]: [a["ip-address"] for a in i.get("ip-addresses", [])]
                 for i in info["guest-interfaces"]}
        self.assertIn("10.0.2.15", names.get("eth0", []), info["guest-interfaces"])
        self.assertIn("127.0.0.1", names.get("lo", []))
        self.assertRegex(s.ok("info", "qga").stdout, r"guest ips:.*eth0 10\.0\.2\.15/24")

        # A file system to freeze: the VM's disk, as ext2 (busybox's mke2fs).
        self.sh("mke2fs /dev/vda >/dev/null 2>&1; mkdir -p /mnt/d && mount -t ext4 /dev/vda /mnt/d"
                " && echo before >/mnt/d/f && sync")
        self.assertEqual(self.agent("qga", "fsfreeze"), 1)
        self.assertEqual(self.agent("qga", "guest-fsfreeze-status"), "frozen")
        self.assertEqual(self.agent("qga", "fsthaw"), 1)
        self.assertEqual(self.agent("qga", "guest-fsfreeze-status"), "thawed")
        self.assertEqual(self.hooks(), ["freeze", "thaw"])

        s.ok("snapshot", "qga", "create", "s1", timeout=180)
        self.assertEqual(self.hooks(), ["freeze", "thaw", "freeze", "thaw"])
        self.assertEqual(self.agent("qga", "guest-fsfreeze-status"), "thawed")
        self.sh("echo after >/mnt/d/f && sync")

        # A revert lands in the frozen moment, 15 s ago: wirt thaws and
        # sets the clock through the agent.
        time.sleep(15)
        s.ok("snapshot", "qga", "revert", "s1", timeout=180)
        self.con.close()
        self.con = Serial(s, "qga")
        self.assertEqual(self.sh("cat /mnt/d/f"), "before")
        self.assertEqual(self.agent("qga", "guest-fsfreeze-status"), "thawed")
        guest_now = int(self.sh("date +%s"))
        self.assertLess(abs(guest_now - time.time()), 5, "the guest's clock was not set")

        # A clean shutdown through the agent.
        self.sh(SHUTDOWN)
        s.ok("stop", "qga", timeout=180)
        with open(s.path("qga", "console.log"), errors="replace") as f:
            self.assertIn("qga-shutdown: -h -P +0 hypervisor initiated shutdown", f.read())
        self.assertEqual(json.loads(s.ok("info", "qga", "--json").stdout)["state"], "stopped")


if __name__ == "__main__":
    unittest.main()
