# SPDX-License-Identifier: MIT
"""A 4-hart guest, busy on every hart, paused and resumed hundreds of times
back to back: it never hangs.  A pause that came
while the harts were still leaving a previous one used to leave some
harts' stop requests set and another's cleared, so the next run stopped
some harts at once while the board waited forever for the others (the
zero-page pass's holds did it to test_smp's stress run)."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402


class ControlConn:
    """One control connection, many commands (a new connection per
    command would be slower than the race it is meant to hit)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.reader = self.sock.makefile()

    def call(self, cmd):
        return self.pipelined([cmd])[0]

    def pipelined(self, cmds):
        """Sends every command at once (the VMM takes them back to back,
        as tight as the zero-page pass holds and releases), then reads
        the replies."""
        self.sock.sendall("".join(json.dumps({"execute": c}) + "\n" for c in cmds).encode())
        replies = []
        while len(replies) < len(cmds):
            r = json.loads(self.reader.readline())
            if "event" not in r:
                replies.append(r)
        return replies

    def close(self):
        self.reader.close()
        self.sock.close()


@unittest.skipUnless(guestlib.have_guest(), "no guest (tools/fetch-guest.sh)")
class PauseStormTest(unittest.TestCase):
    def test_pause_resume_storm_on_four_busy_harts(self):
        with tempfile.TemporaryDirectory(prefix="wirt-pause-storm-") as d:
            ctl = os.path.join(d, "ctl")
            argv = guestlib.wirt_argv(extra=["--cpus", "4", "--control", ctl])
            with guestlib.Guest(argv, name="storm") as g:
                g.wait_ready(timeout=600)
                g.run("for i in 1 2 3 4; do (while :; do :; done) </dev/null >/dev/null 2>&1 & "
                      "done; true")
                c = ControlConn(ctl)
                # Host CPU hogs: hart threads are then preempted on their
                # way out of a pause, which opens the window the race needs.
                hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                        for _ in range(3)]
                try:
                    for i in range(40):
                        replies = c.pipelined(["pause", "resume"] * 10)
                        for r in replies:
                            self.assertIn("return", r, "round %d: %r" % (i, r))
                        time.sleep(0.02)  # let the harts run a little
                    status = c.call("query-status")["return"]["status"]
                    self.assertEqual(status, "running")
                finally:
                    for h in hogs:
                        h.kill()
                        h.wait()
                    c.close()
                # Every hart runs again: the guest answers, and all four
                # CPUs still take work.
                self.assertEqual(g.run("echo alive", timeout=120), "alive")
                self.assertEqual(g.run("cat /sys/devices/system/cpu/online", timeout=60), "0-3")
                g.run("kill %1 %2 %3 %4 2>/dev/null; killall sh 2>/dev/null; true", timeout=60)
                self.assertEqual(g.poweroff(), 0)


if __name__ == "__main__":
    unittest.main()
