# SPDX-License-Identifier: MIT
"""Networking defaults: `wirt run` gives the guest user networking when no
--net is given (as QEMU does), --net none gives it none, and the built-in
DHCP server does not push a host name the guest did not ask for."""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "guest"))
import guestlib  # noqa: E402

DUMP = ("printf '#!/bin/sh\\n[ \"$1\" = bound ] && echo \"ip=$ip hostname=[$hostname]\" "
        "> /tmp/lease\\n' > /tmp/dump.sh; chmod +x /tmp/dump.sh")


@unittest.skipUnless(guestlib.have_guest() and os.access(guestlib.wirt_bin(), os.X_OK),
                     "default guest or build/wirt missing")
class DefaultNetTest(unittest.TestCase):
    def test_user_networking_by_default_without_a_host_name(self):
        with guestlib.Guest(guestlib.wirt_argv()) as g:
            g.wait_ready()
            self.assertIn("virtio", g.run("ls /sys/class/net/eth0/device/driver -l"))
            g.run(DUMP)
            g.run("udhcpc -i eth0 -n -q -s /tmp/dump.sh -t 5 -T 2", timeout=60)
            self.assertEqual(g.run("cat /tmp/lease"), "ip=10.0.2.15 hostname=[]")

    def test_net_none(self):
        with guestlib.Guest(guestlib.wirt_argv(extra=["--net", "none"])) as g:
            g.wait_ready()
            self.assertEqual(g.run("ls /sys/class/net | grep -v lo || true"), "")

    def test_net_none_with_another_net_is_refused(self):
        p = subprocess.run(guestlib.wirt_argv(extra=["--net", "none", "--net", "user"]),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr.count("\n"), 1, p.stderr)
        self.assertIn("--net none", p.stderr)


if __name__ == "__main__":
    unittest.main()
