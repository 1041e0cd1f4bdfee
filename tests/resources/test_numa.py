# SPDX-License-Identifier: MIT
"""NUMA placement (src/host/numa.c): a pinned VM's RAM is bound with mbind
to the memory node of its CPUs; on a single-node host that is a no-op the
VMM says so once (info level)."""
import glob
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest"))
import guestlib  # noqa: E402


@unittest.skipUnless(guestlib.have_guest() and os.access(guestlib.wirt_bin(), os.X_OK),
                     "default guest or build/wirt missing")
class NumaTest(unittest.TestCase):
    def test_pinned_vm_memory_placement(self):
        nodes = glob.glob("/sys/devices/system/node/node[0-9]*")
        env = dict(os.environ, WIRT_LOG="info")
        with guestlib.Guest(guestlib.wirt_argv(extra=["--pin", "on"]), env=env) as g:
            g.wait_ready()
            self.assertEqual(g.poweroff(), 0)
            out = g.transcript
        lines = [ln for ln in out.splitlines() if "numa:" in ln]
        self.assertEqual(len(lines), 1, lines)
        if len(nodes) <= 1:
            self.assertIn("numa: this host has one memory node; no memory binding needed",
                          lines[0])
        else:
            self.assertRegex(lines[0], r"numa: (guest memory bound to node|the VM's CPUs span)")

    def test_unpinned_vm_says_nothing(self):
        env = dict(os.environ, WIRT_LOG="info")
        with guestlib.Guest(guestlib.wirt_argv(), env=env) as g:
            g.wait_ready()
            self.assertEqual(g.poweroff(), 0)
            self.assertNotIn("numa:", g.transcript)


if __name__ == "__main__":
    unittest.main()
