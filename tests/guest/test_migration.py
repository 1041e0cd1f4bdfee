# SPDX-License-Identifier: MIT
"""Live migration between two wirt processes on loopback, with the default guest.

- the guest fills 96 MiB of tmpfs and keeps rewriting random 1 MiB chunks of
  it during the migration, recording each chunk's sha256 after writing it;
  after the hand-over the destination checks every chunk against its
  record (a lost dirty page shows as a mismatch), finds a file written
  before the migration, and the source process has exited 0;
- the destination is SIGKILLed while pre-copy runs (a low downtime limit
  keeps it iterating): the job fails, the source guest keeps running and
  its data is intact;
- a destination with another secret refuses the source in the handshake;
  the source keeps running.
"""
import json
import os
import random
import shutil
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

CHUNKS = 96  # MiB of tmpfs the guest rewrites


def available():
    return guestlib.have_guest() and os.access(guestlib.wirt_bin(), os.X_OK)


class Control:
    def __init__(self, path, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.f = self.s.makefile("r")

    def call(self, cmd, **args):
        req = {"execute": cmd}
        if args:
            req["arguments"] = args
        self.s.sendall((json.dumps(req) + "\n").encode())
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError("the VMM closed its control socket")
            reply = json.loads(line)
            if "event" not in reply:
                return reply

    def wait_job(self, job, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.call("job-status", id=job)["return"]
            if st["status"] != "running":
                return st
            time.sleep(0.2)
        raise AssertionError("job %d still running after %d s" % (job, timeout))


WRITER = (
    "(i=0; while [ ! -e /tmp/stop ]; do k=$(( (i * 7) %% %d )); "
    "dd if=/dev/urandom of=/tmp/blk bs=64k count=16 2>/dev/null; "
    "dd if=/tmp/blk of=/dev/shm/big bs=1M seek=$k conv=notrunc 2>/dev/null; "
    "sha256sum < /tmp/blk > /dev/shm/sum.$k; i=$((i+1)); done; touch /tmp/stopped) "
    ">/dev/null 2>&1 & true" % CHUNKS)

VERIFY = (
    "bad=0; for k in $(seq 0 %d); do "
    "s=$(dd if=/dev/shm/big bs=1M skip=$k count=1 2>/dev/null | sha256sum); "
    "[ \"$s\" = \"$(cat /dev/shm/sum.$k)\" ] || { echo BAD $k; bad=1; }; done; "
    "[ $bad = 0 ] && echo ALL-CHUNKS-OK" % (CHUNKS - 1))


@unittest.skipUnless(available(), "needs the default guest and build/wirt")
class Migration(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wirt-migration-")
        self.port = random.randint(43000, 43999)
        self.guests = []

    def tearDown(self):
        for g in self.guests:
            g.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def vm(self, name, secret, extra=()):
        env = dict(os.environ, WIRT_MIGRATION_SECRET=secret)
        argv = guestlib.wirt_argv(
            extra=["--control", os.path.join(self.dir, name + ".sock")] + list(extra))
        g = guestlib.Guest(argv, env=env, name=name)
        self.guests.append(g)
        return g

    def destination(self, secret="k3y"):
        """The destination VMM, once it listens (a fixed sleep was too short
        on a loaded host: the source's connect was refused)."""
        g = self.vm("dst", secret, ["--incoming", "tcp:127.0.0.1:%d" % self.port])
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            for table in ("/proc/net/tcp", "/proc/net/tcp6"):
                with open(table) as f:
                    for line in f.readlines()[1:]:
                        fields = line.split()
                        if fields[3] == "0A" and int(fields[1].split(":")[-1], 16) == self.port:
                            return g
            if g.proc.poll() is not None:
                raise AssertionError("the destination exited (%s)" % g.proc.returncode)
            time.sleep(0.1)
        raise AssertionError("the destination does not listen on port %d" % self.port)

    def source_with_writer(self):
        src = self.vm("src", "k3y")
        src.wait_ready()
        src.run("echo before-migration > /tmp/marker")
        src.run("dd if=/dev/zero of=/dev/shm/big bs=1M count=%d 2>/dev/null; "
                "for k in $(seq 0 %d); do dd if=/dev/shm/big bs=1M skip=$k count=1 2>/dev/null"
                " | sha256sum > /dev/shm/sum.$k; done" % (CHUNKS, CHUNKS - 1), timeout=300)
        src.run(WRITER)
        time.sleep(1)
        return src

    def migrate(self, src_ctl, **args):
        r = src_ctl.call("migrate", uri="tcp:127.0.0.1:%d" % self.port, **args)
        self.assertIn("return", r, r)
        return r["return"]["job"]

    def test_migrate_while_writing(self):
        src = self.source_with_writer()
        dst = self.destination()
        ctl = Control(os.path.join(self.dir, "src.sock"))
        job = self.migrate(ctl)
        try:
            st = ctl.wait_job(job, 600)
            self.assertEqual(st["status"], "completed", st)
        except (EOFError, OSError):
            pass  # the source exited right after completing: fine
        self.assertEqual(src.wait_exit(120), 0)
        self.assertEqual(dst.run("cat /tmp/marker"), "before-migration")
        dst.run("touch /tmp/stop; while [ ! -e /tmp/stopped ]; do sleep 1; done", timeout=300)
        self.assertIn("ALL-CHUNKS-OK", dst.run(VERIFY, timeout=600))
        self.assertEqual(dst.poweroff(), 0)

    def test_destination_killed(self):
        src = self.source_with_writer()
        dst = self.destination()
        ctl = Control(os.path.join(self.dir, "src.sock"))
        # A downtime limit no round can meet: pre-copy iterates until killed.
        job = self.migrate(ctl, **{"max-downtime-ms": 1})
        # Killed within the first round: with zero pages free on the wire,
        # a quiet host can finish the whole migration in a few 100 ms.
        time.sleep(0.05)
        dst.proc.kill()
        st = ctl.wait_job(job, 300)
        self.assertEqual(st["status"], "failed", st)
        self.assertFalse(ctl.call("query-migration")["return"]["active"])
        self.assertEqual(ctl.call("query-status")["return"]["status"], "running")
        src.run("touch /tmp/stop; while [ ! -e /tmp/stopped ]; do sleep 1; done", timeout=300)
        self.assertIn("ALL-CHUNKS-OK", src.run(VERIFY, timeout=600))
        self.assertEqual(src.run("cat /tmp/marker"), "before-migration")
        self.assertEqual(src.poweroff(), 0)

    def test_wrong_secret(self):
        src = self.vm("src", "k3y")
        src.wait_ready()
        self.destination(secret="other")
        ctl = Control(os.path.join(self.dir, "src.sock"))
        st = ctl.wait_job(self.migrate(ctl), 120)
        self.assertEqual(st["status"], "failed", st)
        self.assertIn("secret", st.get("error", ""))
        self.assertEqual(src.run("echo $((6*7))"), "42")
        self.assertEqual(src.poweroff(), 0)


if __name__ == "__main__":
    unittest.main()
