# SPDX-License-Identifier: MIT
"""bench/net_lat_trace.py: reading WIRT_NET_TRACE files and splitting
round trips into hops (no VM needed)."""
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
import net_lat_trace  # noqa: E402


class NetTraceTest(unittest.TestCase):
    def test_read_skips_bad_lines(self):
        with tempfile.NamedTemporaryFile("w", suffix=".trace", delete=False) as f:
            f.write("100 tx 98\ngarbage\n150 rx 98\n160 xx 98\n170 tx\n")
        try:
            self.assertEqual(net_lat_trace.read_trace(f.name),
                             [(100, "tx", 98), (150, "rx", 98)])
        finally:
            os.unlink(f.name)

    def test_breakdown_of_two_echoes(self):
        a = [(1000, "tx", 98), (1900, "rx", 98), (5000, "tx", 98), (5600, "rx", 98),
             (1200, "tx", 42)]  # an ARP frame in between: another length, ignored
        b = [(1300, "rx", 98), (1700, "tx", 98), (5100, "rx", 98), (5450, "tx", 98),
             (1250, "rx", 42)]
        self.assertEqual(net_lat_trace.breakdown(a, b), [(300, 400, 200), (100, 350, 150)])

    def test_breakdown_skips_an_unanswered_request(self):
        a = [(0, "tx", 98), (1000, "tx", 98), (1500, "rx", 98)]
        b = [(1100, "rx", 98), (1200, "tx", 98)]
        self.assertEqual(net_lat_trace.breakdown(a, b), [(100, 100, 300)])


if __name__ == "__main__":
    unittest.main()
