# SPDX-License-Identifier: MIT
"""Resource limits through the VMM's own cgroup (cgroups v1; src/host/cgroup.c):
a VM started with --cpu-limit/--cpu-weight/--cpu-affinity/--memory-limit
gets a group `wirt-PID` inside the cgroup it was started in, with those
values written; a guest spinning on its console uses no more CPU than the
limit (measured from cpuacct.usage); the group is gone once the VMM exits;
bad values are refused with one line.  Skipped where the controllers are
not writable."""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest"))
import guestlib  # noqa: E402


def current(controller):
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.strip().split(":", 2)
            if controller in ctrls.split(","):
                return "/sys/fs/cgroup/%s%s" % (controller, "" if path == "/" else path)
    return None


def writable():
    return all(current(c) and os.access(current(c), os.W_OK)
               for c in ("cpu", "cpuset", "memory", "cpuacct"))


def read(path):
    with open(path) as f:
        return f.read().strip()


@unittest.skipUnless(writable(), "cgroup v1 cpu/cpuset/memory/cpuacct not writable here")
@unittest.skipUnless(guestlib.have_guest() and os.access(guestlib.wirt_bin(), os.X_OK),
                     "default guest or build/wirt missing")
class CgroupTest(unittest.TestCase):
    def test_limits_are_applied_and_hold(self):
        argv = guestlib.wirt_argv(extra=["--cpu-limit", "30%", "--cpu-weight", "200",
                                         "--cpu-affinity", "0", "--memory-limit", "1G",
                                         "--memory-reservation", "600M"])
        with guestlib.Guest(argv) as g:
            g.wait_ready()
            pid = g.proc.pid
            groups = {c: "%s/wirt-%d" % (current(c), pid)
                      for c in ("cpu", "cpuset", "memory", "cpuacct")}
            self.assertEqual(read(groups["cpu"] + "/cpu.cfs_quota_us"),
                             str(int(read(groups["cpu"] + "/cpu.cfs_period_us")) * 30 // 100))
            self.assertEqual(read(groups["cpu"] + "/cpu.shares"), "2048")
            self.assertEqual(read(groups["cpuset"] + "/cpuset.cpus"), "0")
            self.assertEqual(read(groups["memory"] + "/memory.limit_in_bytes"), str(1 << 30))
            self.assertEqual(read(groups["memory"] + "/memory.soft_limit_in_bytes"),
                             str(600 << 20))
            self.assertIn(str(pid), read(groups["cpu"] + "/cgroup.procs").split())
            # A guest spinning: the VMM gets about 30% of one CPU.
            g.sendline("while :; do :; done &")
            time.sleep(1)
            u0, t0 = int(read(groups["cpuacct"] + "/cpuacct.usage")), time.monotonic()
            time.sleep(3)
            u1, t1 = int(read(groups["cpuacct"] + "/cpuacct.usage")), time.monotonic()
            share = (u1 - u0) / 1e9 / (t1 - t0)
            self.assertLess(share, 0.40, "the VMM used %.0f%% of a CPU" % (share * 100))
            self.assertGreater(share, 0.10, "the guest did not spin (%.0f%%)" % (share * 100))
            g.kill()
        time.sleep(0.5)
        # Killed with SIGKILL, the VMM could not remove its groups; a clean
        # exit does (below).
        for d in groups.values():
            if os.path.isdir(d):
                os.rmdir(d)
        argv = guestlib.wirt_argv(extra=["--cpu-limit", "50%"])
        with guestlib.Guest(argv) as g:
            g.wait_ready()
            d = "%s/wirt-%d" % (current("cpu"), g.proc.pid)
            self.assertTrue(os.path.isdir(d))
            self.assertEqual(g.poweroff(), 0)
        self.assertFalse(os.path.isdir(d))

    def usage_share(self, groups, seconds):
        """Each group's CPU use over `seconds`, in cores (cpuacct.usage)."""
        u0 = [int(read(d + "/cpuacct.usage")) for d in groups]
        t0 = time.monotonic()
        time.sleep(seconds)
        u1 = [int(read(d + "/cpuacct.usage")) for d in groups]
        t1 = time.monotonic()
        return [(b - a) / 1e9 / (t1 - t0) for a, b in zip(u0, u1)]

    def test_cpu_limit_50_measured(self):
        """A guest spinning on its one hart under cpu-limit=50% uses 45-55%
        of a core.  The high weight keeps other work on this shared host
        from pushing it below its limit: the limit is the cap measured."""
        argv = guestlib.wirt_argv(extra=["--net", "none", "--cpu-limit", "50%",
                                         "--cpu-weight", "10000"])
        with guestlib.Guest(argv) as g:
            g.wait_ready()
            acct = "%s/wirt-%d" % (current("cpuacct"), g.proc.pid)
            g.sendline("while :; do :; done &")
            time.sleep(2)
            share = self.usage_share([acct], 8)[0]
            print("cpu-limit=50%%: %.1f%% of a CPU" % (share * 100), file=sys.stderr)
            self.assertGreaterEqual(share, 0.45, "the VMM used %.1f%% of a CPU" % (share * 100))
            self.assertLessEqual(share, 0.55, "the VMM used %.1f%% of a CPU" % (share * 100))
            self.assertEqual(g.poweroff(), 0)

    def test_cpu_weights_share_one_core_1_to_3(self):
        """Two spinning guests pinned to the same host CPU with cpu-weight
        1000 and 3000 get that CPU about 1:3 (fair share under contention;
        weights well above the default keep the host's other tasks out of
        the comparison)."""
        cpu = str(max(os.sched_getaffinity(0)))
        guests, acct = [], []
        try:
            for w in ("1000", "3000"):
                g = guestlib.Guest(guestlib.wirt_argv(extra=[
                    "--net", "none", "--cpu-weight", w, "--cpu-affinity", cpu]))
                guests.append(g)
            for g in guests:
                g.wait_ready()
                acct.append("%s/wirt-%d" % (current("cpuacct"), g.proc.pid))
                self.assertEqual(read("%s/wirt-%d/cpuset.cpus" % (current("cpuset"), g.proc.pid)),
                                 cpu)
            for g in guests:
                g.sendline("while :; do :; done &")
            time.sleep(2)
            low, high = self.usage_share(acct, 10)
            ratio = high / low if low else float("inf")
            msg = "weight 1000: %.1f%%, weight 3000: %.1f%% of CPU %s (ratio %.2f)" % (
                low * 100, high * 100, cpu, ratio)
            print(msg, file=sys.stderr)
            self.assertGreater(ratio, 2.5, msg)
            self.assertLess(ratio, 3.5, msg)
            # Both together fill about that one CPU, no more.
            self.assertGreater(low + high, 0.8, msg)
            self.assertLess(low + high, 1.05, msg)
            for g in guests:
                self.assertEqual(g.poweroff(), 0)
        finally:
            for g in guests:
                g.close()

    def test_cpu_reservation_holds_under_contention(self):
        """A spinning guest with cpu-reservation=75% keeps at least 75% of
        the CPU it shares with another spinning guest of default weight
        (both pinned to it)."""
        cpu = str(max(os.sched_getaffinity(0)))
        guests, acct = [], []
        try:
            # The other one's default weight named, so that it has a group too.
            for extra in (["--cpu-reservation", "75%"], ["--cpu-weight", "100"]):
                guests.append(guestlib.Guest(guestlib.wirt_argv(
                    extra=["--net", "none", "--cpu-affinity", cpu] + extra)))
            for g in guests:
                g.wait_ready()
                acct.append("%s/wirt-%d" % (current("cpuacct"), g.proc.pid))
            for g in guests:
                g.sendline("while :; do :; done &")
            time.sleep(2)
            reserved, other = self.usage_share(acct, 8)
            msg = "reserved 75%%: %.1f%%, default weight: %.1f%% of CPU %s" % (
                reserved * 100, other * 100, cpu)
            print(msg, file=sys.stderr)
            self.assertGreaterEqual(reserved / (reserved + other), 0.75, msg)
            for g in guests:
                self.assertEqual(g.poweroff(), 0)
        finally:
            for g in guests:
                g.close()

    def test_vm_set_on_a_running_vm(self):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))
        from vmlib import Store
        s = Store()
        try:
            s.ok("create", "rv", "--from", "debian")
            s.ok("set", "rv", "cpu-limit=50%", "memory-limit=1G")
            with open(s.path("rv", "vm.json")) as f:
                self.assertEqual(json.load(f)["resources"],
                                 {"cpu-limit": "50%", "memory-limit": 1 << 30})
            s.ok("start", "rv")
            pid = s.vmm_pids("rv")[0]
            quota = "%s/wirt-%d/cpu.cfs_quota_us" % (current("cpu"), pid)
            self.assertEqual(read(quota), "50000")
            # Changed while it runs: at once in the cgroup, and in vm.json.
            s.ok("set", "rv", "cpu-limit=150%", "cpu-affinity=0")
            self.assertEqual(read(quota), "150000")
            self.assertEqual(read("%s/wirt-%d/cpuset.cpus" % (current("cpuset"), pid)), "0")
            with open(s.path("rv", "vm.json")) as f:
                self.assertEqual(json.load(f)["resources"]["cpu-limit"], "150%")
            info = json.loads(s.ok("info", "rv", "--json").stdout)
            self.assertGreater(info["resource-usage"]["cpu-ns"], 0)
            p = s.wirt("set", "rv", "cpus=2")
            self.assertEqual(p.returncode, 1)
            self.assertIn("only cpu-limit", p.stderr)
            p = s.wirt("set", "rv", "cpu-limit=-1")
            self.assertEqual(p.returncode, 2)
            s.ok("stop", "rv", "--force")
            self.assertFalse(os.path.isdir("%s/wirt-%d" % (current("cpu"), pid)))
        finally:
            s.close()

    def test_cpu_reservation_and_admission_control(self):
        """cpu-reservation raises the group's weight (v1 has no CPU floor)
        and is admitted against the host: start refuses, with one line,
        when the running VMs' reservations plus this one exceed the host's
        CPUs (or memory-reservation its memory); a raise on a running VM
        is refused the same way."""
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))
        from vmlib import Store
        ncpu = os.cpu_count()
        s = Store()
        try:
            s.ok("create", "ra", "--from", "debian")
            s.ok("create", "rb", "--from", "debian")
            s.ok("set", "ra", "cpu-reservation=%d%%" % (ncpu * 100 - 50))
            with open(s.path("ra", "vm.json")) as f:
                self.assertEqual(json.load(f)["resources"],
                                 {"cpu-reservation": "%d%%" % (ncpu * 100 - 50)})
            s.ok("set", "rb", "cpu-reservation=100%")
            s.ok("start", "ra")
            pid = s.vmm_pids("ra")[0]
            w = min(10000, (ncpu * 100 - 50) * 10)
            self.assertEqual(read("%s/wirt-%d/cpu.shares" % (current("cpu"), pid)),
                             str(w * 1024 // 100))
            p = s.wirt("start", "rb")
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertEqual(p.stderr.strip().count("\n"), 0, p.stderr)
            self.assertIn("cpu-reservation 100%% with %d%% already reserved" % (ncpu * 100 - 50),
                          p.stderr)
            self.assertIn("exceeds the host's %d%%" % (ncpu * 100), p.stderr)
            self.assertEqual(s.vmm_pids("rb"), [])
            # Within what is left it starts; then raising it is refused.
            s.ok("set", "rb", "cpu-reservation=50%")
            s.ok("start", "rb")
            p = s.wirt("set", "rb", "cpu-reservation=60%")
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("exceeds the host's", p.stderr)
            with open(s.path("rb", "vm.json")) as f:
                self.assertEqual(json.load(f)["resources"]["cpu-reservation"], "50%")
            s.ok("stop", "rb", "--force")
            # Memory: more than the host has is refused at start.
            s.ok("set", "rb", "cpu-reservation=none", "memory-reservation=%d" %
                 (os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") + (1 << 30)))
            p = s.wirt("start", "rb")
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("memory-reservation", p.stderr)
            self.assertIn("exceeds the host's", p.stderr)
            s.ok("stop", "ra", "--force")
        finally:
            s.close()

    def test_page_sharing(self):
        """--page-sharing on offers guest RAM to KSM (madvise MERGEABLE: the
        mapping's VmFlags show "mg"); set-resources withdraws it.  Whether
        the host merges is its own setting, which the test leaves alone."""
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))
        from vmlib import control, Store
        s = Store()
        try:
            s.ok("create", "ks", "--from", "debian")
            s.ok("set", "ks", "page-sharing=on")
            s.ok("start", "ks")
            pid = s.vmm_pids("ks")[0]

            def mergeable_ram():
                size, found = 0, False
                with open("/proc/%d/smaps" % pid) as f:
                    for line in f:
                        if line.startswith("Size:"):
                            size = int(line.split()[1]) * 1024
                        elif line.startswith("VmFlags:") and size >= 512 << 20:
                            found = found or " mg" in line
                return found

            self.assertTrue(mergeable_ram())
            r = control(s, "ks", '{"execute": "query-resources"}\n')[0]["return"]
            # wirt vm runs every VMM sandboxed by default (docs/threat-model.md).
            self.assertTrue(r["limits"]["page-sharing"])
            self.assertTrue(r["limits"]["sandbox"])
            self.assertGreaterEqual(r["ksm-merging-pages"], 0)
            s.ok("set", "ks", "page-sharing=off")
            self.assertFalse(mergeable_ram())
            s.ok("stop", "ks", "--force")
        finally:
            s.close()

    def test_pin(self):
        """--pin on: each hart's thread on its own CPU; the other threads
        (event loop, workers) keep every CPU the process may use."""
        allowed = sorted(os.sched_getaffinity(0))
        if len(allowed) < 2:
            self.skipTest("one CPU")
        argv = guestlib.wirt_argv(extra=["--cpus", "2", "--pin", "on"])
        started = time.monotonic()

        def affinities(pid):
            lists = []
            for t in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/status" % (pid, t)) as f:
                    for line in f:
                        if line.startswith("Cpus_allowed_list:"):
                            lists.append(line.split()[1])
            return lists

        with guestlib.Guest(argv) as g:
            g.wait_ready()
            lists = affinities(g.proc.pid)
            singles = sorted(x for x in lists if "-" not in x and "," not in x)
            self.assertEqual(singles, [str(allowed[0]), str(allowed[1])], lists)
            self.assertGreater(len(lists), 2)
            # The zero-page pass (10 s after the start) holds the harts,
            # and their threads are made anew: still one per CPU (they
            # were all put on hart 0's CPU).
            time.sleep(max(0.0, started + 14 - time.monotonic()))
            self.assertEqual(g.run("echo held-and-back"), "held-and-back")
            lists = affinities(g.proc.pid)
            singles = sorted(x for x in lists if "-" not in x and "," not in x)
            self.assertEqual(singles, [str(allowed[0]), str(allowed[1])], lists)
            self.assertEqual(g.poweroff(), 0)

    def test_bad_values(self):
        for flag, value, needle in (("--cpu-limit", "lots", "--cpu-limit 'lots'"),
                                    ("--cpu-limit", "0%", "--cpu-limit"),
                                    ("--cpu-weight", "20000", "--cpu-weight"),
                                    ("--cpu-reservation", "-5", "--cpu-reservation '-5'"),
                                    ("--cpu-affinity", "a-b", "--cpu-affinity"),
                                    ("--cpu-affinity", "99", "--cpu-affinity '99'"),
                                    ("--memory-limit", "1K", "--memory-limit"),
                                    ("--memory-limit", "300M", "memory-limit")):
            p = subprocess.run(guestlib.wirt_argv(extra=[flag, value]), capture_output=True,
                               text=True, timeout=60, stdin=subprocess.DEVNULL)
            self.assertEqual(p.returncode, 2, (flag, value, p.stderr))
            self.assertEqual(p.stderr.strip().count("\n"), 0, p.stderr)
            self.assertIn(needle, p.stderr)


if __name__ == "__main__":
    unittest.main()
