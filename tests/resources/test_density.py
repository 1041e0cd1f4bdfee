# SPDX-License-Identifier: MIT
"""Memory density of idle clones (issue 14): N linked clones of one
template (default 10), idle at their prompt with page-sharing on, use far
less host memory together (the sum of their PSS) than N times one VM's
RSS alone, once the host's same-page merging has run over them; and
guest RAM the guest never touched (zero pages) never occupies host memory.

Merging is the host's setting (/sys/kernel/mm/ksm/run).  The test runs
when ksmd is on; with WIRT_TEST_KSM=1 it turns ksmd on for its run and
restores the previous settings after; otherwise it skips."""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vm"))
import vmlib  # noqa: E402

KSM = "/sys/kernel/mm/ksm/"
N = int(os.environ.get("WIRT_DENSITY_N", "10"))


def ksm_read(name):
    with open(KSM + name) as f:
        return f.read().strip()


def ksm_write(name, value):
    with open(KSM + name, "w") as f:
        f.write(value)


def rollup(pid):
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                out[parts[0][:-1]] = int(parts[1]) * 1024
    return out


def ksm_usable():
    if not os.path.exists(KSM + "run"):
        return False
    return ksm_read("run") == "1" or (os.environ.get("WIRT_TEST_KSM") == "1" and
                                      os.access(KSM + "run", os.W_OK))


@unittest.skipUnless(vmlib.have_guest() and os.access(vmlib.WIRT, os.X_OK),
                     "default guest or build/wirt missing")
class DensityTest(unittest.TestCase):
    @unittest.skipUnless(ksm_usable(), "host KSM is off (WIRT_TEST_KSM=1 lets the test turn it on)")
    def test_idle_clones_share_memory(self):
        saved = {k: ksm_read(k) for k in ("run", "pages_to_scan", "sleep_millisecs")}
        s = vmlib.Store()
        try:
            ksm_write("pages_to_scan", "4000")
            ksm_write("sleep_millisecs", "10")
            ksm_write("run", "1")
            s.ok("create", "base", "--from", "debian")
            s.ok("template", "base")
            names = ["c%d" % i for i in range(N)]
            for n in names:
                # A clone does not take the template's resources: set each.
                s.ok("create", n, "--from", "base")
                s.ok("set", n, "page-sharing=on")
            # One alone first: what a VM costs without anybody to share with.
            s.ok("start", names[0])
            vmlib.wait_ready(s, names[0])
            time.sleep(5)
            pid0 = s.vmm_pids(names[0])[0]
            alone = rollup(pid0)["Rss"]
            # Untouched guest RAM is not host memory: far below its 512 MiB.
            self.assertLess(alone, 400 << 20)
            for n in names[1:]:
                s.ok("start", n)
            for n in names[1:]:
                vmlib.wait_ready(s, n)
            pids = [s.vmm_pids(n)[0] for n in names]
            # Let ksmd go over every VM's RAM (two passes merge a page),
            # until merging stops gaining (under 1% in 30 s).
            deadline, history = time.monotonic() + 600, []
            while time.monotonic() < deadline:
                time.sleep(10)
                history.append(sum(rollup(p)["Pss"] for p in pids))
                if len(history) > 3 and history[-1] > 0.99 * history[-4]:
                    break
            total = history[-1]
            sys.stderr.write("\n%d idle clones: PSS sum %.0f MiB, one alone RSS %.0f MiB, "
                             "ratio %.2f, ksm pages_sharing %s\n" %
                             (N, total / 2**20, alone / 2**20, total / (N * alone),
                              ksm_read("pages_sharing")))
            self.assertLess(total, 0.6 * N * alone)
        finally:
            s.close()
            for k in ("pages_to_scan", "sleep_millisecs", "run"):
                try:
                    ksm_write(k, saved[k])
                except OSError:
                    pass


if __name__ == "__main__":
    unittest.main()
