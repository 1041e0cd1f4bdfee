# SPDX-License-Identifier: MIT
"""wirt run --sandbox on (src/host/sandbox.c): the VMM boots the default
guest under a seccomp allow list with no_new_privs and no capabilities
(/proc/PID/status shows Seccomp: 2, NoNewPrivs: 1, CapEff/CapBnd 0), the
guest does disk and network I/O, a save (which forks) works, set-resources
still writes the VM's cgroup and the groups are removed at exit; a
forbidden call kills it with one line naming it; a bad value is one line."""
import json
import os
import socket
import tempfile
import time
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest"))
import guestlib  # noqa: E402


SYS_UNSHARE = {"x86_64": 272, "aarch64": 97, "riscv64": 97}


def control(path, request):
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(60)
        c.connect(path)
        c.sendall((json.dumps(request) + "\n").encode())
        return json.loads(c.makefile().readline())


def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def vmm_pid(pid):
    """A jailed `wirt run` (as root) is a supervisor named wirt-jailer whose
    one child, PID 1 of a PID namespace of its own, is the VMM."""
    with open("/proc/%d/comm" % pid) as f:
        if f.read().strip() != "wirt-jailer":
            return pid
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        children = f.read().split()
    assert len(children) == 1, children
    return int(children[0])


def threads_of(pid):
    """One line per thread of pid: name, state, user+system ticks, wchan
    (what a stuck VMM was doing, for a failure message)."""
    lines = []
    for tid in sorted(os.listdir("/proc/%d/task" % pid), key=int):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                st = f.read()
            with open("/proc/%d/task/%s/wchan" % (pid, tid)) as f:
                wchan = f.read()
        except OSError:
            continue
        name = st[st.index("(") + 1:st.rindex(")")]
        rest = st[st.rindex(")") + 2:].split()
        lines.append("%s %s %s ticks=%d wchan=%s" % (tid, name, rest[0],
                                                       int(rest[11]) + int(rest[12]), wchan))
    return "; ".join(lines)


def save(ctl, state):
    """A save job (the VMM forks its writer) run to its end; its status."""
    r = control(ctl, {"execute": "save", "arguments": {"file": state}})
    assert "error" not in r, r
    deadline = time.monotonic() + 120
    while True:
        jobs = control(ctl, {"execute": "jobs"})["return"]
        if jobs and all(j["status"] != "running" for j in jobs):
            return jobs[-1]["status"]
        assert time.monotonic() < deadline, jobs
        time.sleep(0.5)


@unittest.skipUnless(guestlib.have_guest() and os.access(guestlib.wirt_bin(), os.X_OK),
                     "default guest or build/wirt missing")
class SandboxTest(unittest.TestCase):
    def test_boots_under_seccomp(self):
        """Disk, network and a state-file save through the control socket
        (the save forks a writer) under the allow list."""
        with tempfile.TemporaryDirectory(prefix="wirt-jail-") as d:
            disk = os.path.join(d, "disk.raw")
            with open(disk, "wb") as f:
                f.truncate(16 << 20)
            ctl = os.path.join(d, "ctl")
            argv = guestlib.wirt_argv(extra=["--sandbox", "on", "--disk", disk + ",format=raw",
                                             "--net", "user", "--control", ctl])
            with guestlib.Guest(argv) as g:
                g.wait_ready()
                st = status(g.proc.pid)
                self.assertEqual(st["Seccomp"], "2")
                self.assertEqual(st["NoNewPrivs"], "1")
                self.assertEqual(st["CapEff"], "0000000000000000")
                self.assertEqual(st["CapBnd"], "0000000000000000")
                g.run("echo sandboxed-disk-data > /dev/vda && sync")
                # The guest's DHCP lease comes from libslirp inside the VMM.
                deadline = time.monotonic() + 90
                while "addr:10.0.2.15" not in g.run("ifconfig eth0 | grep 'inet addr' || true"):
                    self.assertLess(time.monotonic(), deadline, "no DHCP lease under seccomp")
                    time.sleep(2)
                r = control(ctl, {"execute": "save", "arguments":
                                  {"file": os.path.join(d, "state")}})
                self.assertNotIn("error", r, r)
                deadline = time.monotonic() + 120
                while True:
                    jobs = control(ctl, {"execute": "jobs"})["return"]
                    if jobs and all(j["status"] != "running" for j in jobs):
                        break
                    self.assertLess(time.monotonic(), deadline, jobs)
                    time.sleep(0.5)
                self.assertEqual(jobs[-1]["status"], "completed", jobs)
                self.assertEqual(g.poweroff(), 0)
            with open(disk, "rb") as f:
                self.assertEqual(f.read(19), b"sandboxed-disk-data")

    def test_cgroup_still_removed(self):
        """Without capabilities the VMM still removes its own cgroup."""
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from test_cgroup import current, writable
        if not writable():
            self.skipTest("cgroup v1 controllers not writable here")
        with tempfile.TemporaryDirectory(prefix="wirt-jail-") as tmp:
            ctl = os.path.join(tmp, "ctl")
            argv = guestlib.wirt_argv(extra=["--sandbox", "on", "--cpu-limit", "50%",
                                             "--control", ctl])
            with guestlib.Guest(argv) as g:
                g.wait_ready()
                self.assertEqual(status(g.proc.pid)["CapEff"], "0000000000000000")
                groups = ["%s/wirt-%d" % (current(c), g.proc.pid)
                          for c in ("cpu", "cpuacct", "memory")]
                self.assertTrue(os.path.isdir(groups[0]))
                # Without capabilities set-resources still writes its group
                # and creates a new one (memory) at run time.
                r = control(ctl, {"execute": "set-resources",
                                  "arguments": {"cpu-limit": "30%", "memory-limit": "1G"}})
                self.assertNotIn("error", r, r)
                with open(groups[0] + "/cpu.cfs_quota_us") as f:
                    self.assertEqual(int(f.read()), 30000)
                with open(groups[2] + "/memory.limit_in_bytes") as f:
                    self.assertEqual(int(f.read()), 1 << 30)
                self.assertEqual(g.poweroff(), 0)
        # The reaper removes them once the VMM is gone.
        deadline = time.monotonic() + 10
        while any(os.path.isdir(d) for d in groups) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual([d for d in groups if os.path.isdir(d)], [])

    def test_jail_sees_only_the_vm_directory(self):
        """--jail DIR: own mount, IPC, UTS (and as root PID) namespaces and a
        root in which only DIR (and /dev/null, /dev/urandom, the VM's cgroup
        groups) is there; disk I/O, the network and saves into DIR (each
        forks a writer, in the PID namespace) still work."""
        with tempfile.TemporaryDirectory(prefix="wirt-jail-") as d:
            disk = os.path.join(d, "disk.raw")
            with open(disk, "wb") as f:
                f.truncate(16 << 20)
            ctl = os.path.join(d, "ctl")
            argv = guestlib.wirt_argv(extra=["--sandbox", "on", "--jail", d, "--disk",
                                             disk + ",format=raw", "--net", "user",
                                             "--control", ctl])
            with guestlib.Guest(argv) as g:
                g.wait_ready()
                pid = vmm_pid(g.proc.pid)
                namespaces = ["mnt", "ipc", "uts"]
                if os.geteuid() == 0:
                    # The VMM is PID 1 of its own PID namespace; its
                    # supervisor keeps no fd and no directory of the VM's.
                    self.assertNotEqual(pid, g.proc.pid)
                    namespaces.append("pid")
                    self.assertEqual(status(pid)["NSpid"].split(), [str(pid), "1"])
                    self.assertEqual(sorted(os.listdir("/proc/%d/fd" % g.proc.pid)),
                                     ["0", "1", "2"])
                    self.assertEqual(os.readlink("/proc/%d/cwd" % g.proc.pid), "/")
                for ns in namespaces:
                    self.assertNotEqual(os.readlink("/proc/%d/ns/%s" % (pid, ns)),
                                        os.readlink("/proc/self/ns/" + ns), ns)
                root = "/proc/%d/root" % pid
                # Its own /proc/PID only (pagemap, ksm_merging_pages, status).
                allowed = [os.path.realpath(d), "/dev/null", "/dev/urandom", "/proc/%d" % pid]
                self.assertEqual(sorted(os.listdir(root + "/proc")), sorted([str(pid), "self"]))
                seen = []
                for top, dirs, files in os.walk(root):
                    rel = top[len(root):] or "/"
                    for name in files:
                        seen.append(os.path.join(rel, name))
                    if any(rel == a or rel.startswith(a + "/") for a in allowed):
                        continue
                    # Between the root and what is bound: empty directories only,
                    # and the VM's own cgroup groups.
                    for name in files:
                        f = os.path.join(rel, name)
                        self.assertTrue(f in allowed or "/wirt-%d/" % pid in f, f)
                self.assertIn(os.path.join(os.path.realpath(d), "disk.raw"), seen)
                self.assertFalse(os.path.exists(root + "/etc/passwd"))
                self.assertFalse(os.path.exists(root + guestlib.wirt_bin()))
                g.run("echo jailed-disk-data > /dev/vda && sync")
                deadline = time.monotonic() + 90
                while "addr:10.0.2.15" not in g.run("ifconfig eth0 | grep 'inet addr' || true"):
                    self.assertLess(time.monotonic(), deadline, "no DHCP lease in the jail")
                    time.sleep(2)
                state = os.path.join(d, "state")
                self.assertEqual(save(ctl, state), "completed")
                # A second fork in the namespace works too (the VMM is its
                # init, so the first writer's exit does not end it).
                self.assertEqual(save(ctl, state + "2"), "completed")
                self.assertEqual(g.poweroff(), 0)
            self.assertGreater(os.path.getsize(state), 1 << 20)
            with open(disk, "rb") as f:
                self.assertEqual(f.read(16), b"jailed-disk-data")

    def test_store_vm_jail_default_and_set(self):
        """wirt vm jails its VMMs by default where the host allows it: the
        VMM (PID 1 of its own PID namespace when root) sees only its VM
        directory, and the guest boots from its disk and gets a DHCP lease.
        `wirt vm set NAME jail=off` opts out (no jail, no sandbox) from the
        next start, jail=on returns to the default; a bad value is one line."""
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))
        import vmlib
        s = vmlib.Store()
        try:
            s.ok("create", "jv", "--from", "debian")
            s.ok("start", "jv")
            pid = s.vmm_pids("jv")
            self.assertEqual(len(pid), 1, pid)
            pid = pid[0]
            info = json.loads(s.ok("info", "jv", "--json").stdout)
            self.assertEqual(info.get("pid", pid), pid)
            st = status(pid)
            self.assertEqual(st["Seccomp"], "2")
            for ns in ("mnt", "ipc", "uts") + (("pid",) if os.geteuid() == 0 else ()):
                self.assertNotEqual(os.readlink("/proc/%d/ns/%s" % (pid, ns)),
                                    os.readlink("/proc/self/ns/" + ns), ns)
            if os.geteuid() == 0:
                self.assertEqual(st["NSpid"].split(), [str(pid), "1"])
            root = "/proc/%d/root" % pid
            vmdir = os.path.realpath(s.vmdir("jv"))
            self.assertTrue(os.path.exists(root + vmdir + "/vm.json"))
            self.assertFalse(os.path.exists(root + "/etc/passwd"))
            self.assertFalse(os.path.exists(root + os.path.dirname(vmdir) + "/../templates"))
            self.assertEqual(sorted(os.listdir(root + "/proc")), sorted([str(pid), "self"]))
            vmlib.wait_ready(s, "jv")
            con = vmlib.Serial(s, "jv")
            try:
                out, rc = con.run("dd if=/dev/vda bs=4k count=256 2>/dev/null | wc -c")
                self.assertEqual((out.split()[-1], rc), ("1048576", 0), out)
                deadline = time.monotonic() + 120
                while "10.0.2.15" not in con.run("ip -4 addr show 2>/dev/null || ifconfig")[0]:
                    self.assertLess(time.monotonic(), deadline, "no DHCP lease in the jail")
                    time.sleep(2)
            except AssertionError as e:
                with open(s.path("jv", "vmm.log"), errors="replace") as f:
                    log = f.read()[-1500:]
                raise AssertionError("jailed VMM threads: %s\nvmm.log: %r\n%s" %
                                     (threads_of(pid), log, e)) from None
            con.sock.close()
            s.ok("stop", "jv", "--force")
            # Opted out: the next start is neither jailed nor sandboxed.
            s.ok("set", "jv", "jail=off")
            with open(s.path("jv", "vm.json")) as f:
                self.assertEqual(json.load(f)["resources"]["jail"], "off")
            s.ok("start", "jv")
            pid = s.vmm_pids("jv")[0]
            self.assertEqual(status(pid)["Seccomp"], "0")
            self.assertEqual(os.readlink("/proc/%d/ns/mnt" % pid),
                             os.readlink("/proc/self/ns/mnt"))
            # On a running VM: vm.json only, for the next start.
            s.ok("set", "jv", "jail=on")
            with open(s.path("jv", "vm.json")) as f:
                self.assertNotIn("jail", json.load(f).get("resources", {}))
            self.assertEqual(status(pid)["Seccomp"], "0")
            p = s.wirt("set", "jv", "jail=maybe")
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertEqual(p.stderr.strip().count("\n"), 0, p.stderr)
            self.assertIn("jail: 'maybe': on or off", p.stderr)
            s.ok("stop", "jv", "--force")
        finally:
            s.close()

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_store_vms_own_uids(self):
        """As root, each VM's jailed VMM runs as a uid (and gid) of its own
        from wirt's range, not 0 and not another VM's; its directory
        (owner-only) and everything in it belong to that uid, which stays
        the same across a restart.  One VM's uid cannot read another VM's
        directory.  The console, the control socket (live cpu-limit into
        the delegated cgroup) still work."""
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))
        import vmlib
        s = vmlib.Store()
        try:
            uids = {}
            for name in ("ua", "ub"):
                s.ok("create", name, "--from", "debian")
                s.ok("start", name)
                pid = s.vmm_pids(name)[0]
                st = status(pid)
                uid = int(st["Uid"].split()[0])
                self.assertEqual(st["Uid"].split(), [str(uid)] * 4)
                self.assertEqual(st["Gid"].split(), [str(uid)] * 4)
                self.assertEqual((st["CapEff"], st["CapBnd"], st["Seccomp"]),
                                 ("0000000000000000", "0000000000000000", "2"))
                self.assertGreaterEqual(uid, 1500000000)
                d = os.path.realpath(s.vmdir(name))
                info = os.stat(d)
                self.assertEqual((info.st_uid, info.st_gid, info.st_mode & 0o777),
                                 (uid, uid, 0o700))
                # Its disk, logs and sockets (events.log is the root CLI's).
                owned = {f for f in os.listdir(d) if os.lstat(os.path.join(d, f)).st_uid == uid}
                for f in ("vm.json", "vmm.log", "control.sock"):
                    self.assertIn(f, owned)
                self.assertTrue(any(f.endswith((".qcow2", ".img", ".raw")) for f in owned), owned)
                uids[name] = (uid, pid, d)
            self.assertNotEqual(uids["ua"][0], uids["ub"][0])
            # ua's uid is refused ub's directory (and the other way round).
            for me, other in (("ua", "ub"), ("ub", "ua")):
                p = subprocess.run(["ls", uids[other][2]], user=uids[me][0], group=uids[me][0],
                                   extra_groups=[], capture_output=True, text=True)
                self.assertNotEqual(p.returncode, 0, p.stdout)
                self.assertIn("Permission denied", p.stderr)
            vmlib.wait_ready(s, "ua")
            con = vmlib.Serial(s, "ua")
            out, rc = con.run("dd if=/dev/vda bs=4k count=256 2>/dev/null | wc -c")
            self.assertEqual((out.split()[-1], rc), ("1048576", 0), out)
            con.sock.close()
            # Live limits: the VMM writes its own (delegated) cgroup.
            s.ok("set", "ua", "cpu-limit=50%")
            with open("/proc/%d/cgroup" % uids["ua"][1]) as f:
                groups = f.read()
            self.assertIn("wirt", groups)
            r = control(s.path("ua", "control.sock"), {"execute": "query-resources"})
            self.assertEqual(r["return"]["limits"]["cpu-limit"], "50%", r)
            # Stable across a restart.
            s.ok("stop", "ua", "--force")
            s.ok("start", "ua")
            pid = s.vmm_pids("ua")[0]
            self.assertEqual(int(status(pid)["Uid"].split()[0]), uids["ua"][0])
            for name in ("ua", "ub"):
                s.ok("stop", name, "--force")
            # A template belongs to root again: no VM's uid owns a base image.
            s.ok("template", "ub")
            d = uids["ub"][2]
            self.assertEqual(os.stat(d).st_uid, 0)
            self.assertFalse([f for f in os.listdir(d) if f.endswith(".qcow2")
                              and os.stat(os.path.join(d, f)).st_uid != 0])
        finally:
            s.close()

    @unittest.skipUnless(os.geteuid() == 0 and os.path.exists("/dev/net/tun"),
                         "needs root and /dev/net/tun")
    def test_tap_in_the_jail(self):
        """A tap NIC (opened before the jail, host network namespace kept)
        passes frames both ways under the allow list: the guest pings the
        host end of the tap, in a network namespace of the test's own."""
        ns = "wjail%d" % os.getpid()
        tap = "wjt%d" % (os.getpid() % 100000)
        sh = lambda *a: subprocess.run(a, check=True, capture_output=True, timeout=30)
        sh("ip", "netns", "add", ns)
        try:
            nsx = ["ip", "netns", "exec", ns]
            sh(*nsx, "ip", "tuntap", "add", "dev", tap, "mode", "tap")
            sh(*nsx, "ip", "addr", "add", "10.77.0.1/24", "dev", tap)
            sh(*nsx, "ip", "link", "set", tap, "up")
            with tempfile.TemporaryDirectory(prefix="wirt-jail-") as d:
                argv = nsx + guestlib.wirt_argv(extra=["--sandbox", "on", "--jail", d, "--net",
                                                       "tap,ifname=" + tap])
                with guestlib.Guest(argv) as g:
                    g.wait_ready()
                    g.run("ifconfig eth0 10.77.0.2 netmask 255.255.255.0 up")
                    out = g.run("ping -c 3 -W 5 10.77.0.1 2>&1 || true", timeout=60)
                    self.assertIn(" 0% packet loss", out)
                    self.assertEqual(g.poweroff(), 0)
        finally:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)

    def test_jail_without_nic_has_its_own_network(self):
        with tempfile.TemporaryDirectory(prefix="wirt-jail-") as d:
            argv = guestlib.wirt_argv(extra=["--jail", d, "--net", "none"])
            with guestlib.Guest(argv) as g:
                g.wait_ready()
                self.assertNotEqual(os.readlink("/proc/%d/ns/net" % vmm_pid(g.proc.pid)),
                                    os.readlink("/proc/self/ns/net"))
                self.assertEqual(g.poweroff(), 0)

    def test_jail_bad_directory(self):
        p = subprocess.run([guestlib.wirt_bin(), "run", "--jail", "relative/dir"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr.strip(),
                         "wirt: --jail 'relative/dir': want the absolute path of a directory")

    def test_forbidden_call_kills(self):
        """The debug hook makes one forbidden call (unshare) just after the
        filter is loaded: SIGSYS kills the VMM with one line naming it."""
        env = dict(os.environ, WIRT_DEBUG_FORBIDDEN_SYSCALL="1")
        p = subprocess.run(guestlib.wirt_argv(extra=["--sandbox", "on"]), env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, -signal.SIGSYS, p.stderr[-500:])
        self.assertIn("wirt: sandbox: forbidden system call %d (unshare), VMM killed" %
                      SYS_UNSHARE.get(os.uname().machine, 272), p.stderr)

    def test_bad_value(self):
        p = subprocess.run([guestlib.wirt_bin(), "run", "--sandbox", "maybe"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr.strip(), "wirt: --sandbox 'maybe': on or off")


if __name__ == "__main__":
    unittest.main()
