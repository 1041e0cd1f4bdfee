# SPDX-License-Identifier: MIT
"""wirt run --sandbox on (src/host/sandbox.c): the VMM boots the default
guest under a seccomp filter with no_new_privs (/proc/PID/status shows
Seccomp: 2 and NoNewPrivs: 1), the guest works and powers off cleanly; a
forbidden call kills it with one line; a bad value is one line."""
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest"))
import guestlib  # noqa: E402


SYS_UNSHARE = {"x86_64": 272, "aarch64": 97, "riscv64": 97}


def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


@unittest.skipUnless(guestlib.have_guest() and os.access(guestlib.wirt_bin(), os.X_OK),
                     "default guest or build/wirt missing")
class SandboxTest(unittest.TestCase):
    def test_boots_under_seccomp(self):
        with guestlib.Guest(guestlib.wirt_argv(extra=["--sandbox", "on"])) as g:
            g.wait_ready()
            st = status(g.proc.pid)
            self.assertEqual(st["Seccomp"], "2")
            self.assertEqual(st["NoNewPrivs"], "1")
            g.sendline("echo sand$((40+2))box")
            g.expect("sand42box")
            self.assertEqual(g.poweroff(), 0)

    def test_cgroup_still_removed(self):
        """Without capabilities the VMM still removes its own cgroup."""
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from test_cgroup import current, writable
        if not writable():
            self.skipTest("cgroup v1 controllers not writable here")
        argv = guestlib.wirt_argv(extra=["--sandbox", "on", "--cpu-limit", "50%"])
        with guestlib.Guest(argv) as g:
            g.wait_ready()
            d = "%s/wirt-%d" % (current("cpu"), g.proc.pid)
            self.assertTrue(os.path.isdir(d))
            self.assertEqual(g.poweroff(), 0)
        self.assertFalse(os.path.isdir(d))

    def test_forbidden_call_kills(self):
        """The debug hook makes one forbidden call (unshare) just after the
        filter is loaded: SIGSYS kills the VMM with one line naming it."""
        env = dict(os.environ, WIRT_DEBUG_FORBIDDEN_SYSCALL="1")
        p = subprocess.run(guestlib.wirt_argv(extra=["--sandbox", "on"]), env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, -signal.SIGSYS, p.stderr[-500:])
        self.assertIn("wirt: sandbox: forbidden system call %d, VMM killed" %
                      SYS_UNSHARE.get(os.uname().machine, 272), p.stderr)

    def test_bad_value(self):
        p = subprocess.run([guestlib.wirt_bin(), "run", "--sandbox", "maybe"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr.strip(), "wirt: --sandbox 'maybe': on or off")


if __name__ == "__main__":
    unittest.main()
