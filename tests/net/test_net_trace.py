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
            f.write("100 tx 98 7 50\ngarbage\n150 rx 98 7 60\n160 xx 98 7 70\n170 tx 98\n")
        try:
            self.assertEqual(net_lat_trace.read_trace(f.name),
                             [(100, "tx", 98, 7, 50), (150, "rx", 98, 7, 60)])
        finally:
            os.unlink(f.name)

    def test_breakdown_of_two_echoes(self):
        # B's hart (thread 9) ran 390 of the first turnaround's 400 us; the
        # second reply was sent by another thread, so its CPU is unknown.
        a = [(1000, "tx", 98, 1, 0), (1900, "rx", 98, 1, 0), (5000, "tx", 98, 1, 0),
             (5600, "rx", 98, 1, 0),
             (1200, "tx", 42, 1, 0)]  # an ARP frame in between: another length, ignored
        b = [(1300, "rx", 98, 9, 10), (1700, "tx", 98, 9, 400), (5100, "rx", 98, 9, 500),
             (5450, "tx", 98, 8, 20), (1250, "rx", 42, 9, 5)]
        self.assertEqual(net_lat_trace.breakdown(a, b),
                         [(300, 400, 200, 390), (100, 350, 150, None)])

    def test_breakdown_skips_an_unanswered_request(self):
        a = [(0, "tx", 98, 1, 0), (1000, "tx", 98, 1, 0), (1500, "rx", 98, 1, 0)]
        b = [(1100, "rx", 98, 2, 0), (1200, "tx", 98, 2, 30)]
        self.assertEqual(net_lat_trace.breakdown(a, b), [(100, 100, 300, 30)])


if __name__ == "__main__":
    unittest.main()
