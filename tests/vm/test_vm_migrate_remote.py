# SPDX-License-Identifier: MIT
"""Migration into another store: one running VM (the default guest, a
qcow2 disk with data, a marker in tmpfs) hops
  store A --store:B--> store B --ssh://--> store C --tcp: receive--> store D
and after each hop the VM runs in the new store (created there from the
stream: vm.json, boot files, a full copy of its disk), the marker and the
disk's hash are intact, and the store it left has it stopped.  ssh:// goes
through a fake `ssh` on PATH that runs the command locally (so no ssh
server is needed: it checks that the stream really flows through the
child's stdin/stdout).  A receive refuses a source that does not copy its
disks, and one with another migration secret; the VM keeps running."""
import os
import re
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import WIRT, Serial, Store, have_guest, wait_ready  # noqa: E402

FAKE_SSH = """#!/bin/sh
# A stand-in for ssh: skips options and the host, runs the command here.
echo "$@" >> "%s"
while [ $# -gt 0 ]; do
  case "$1" in -p) shift 2 ;; --) shift; break ;; -*) shift ;; *) break ;; esac
done
shift
exec "$@"
"""


@unittest.skipUnless(have_guest() and os.access(WIRT, os.X_OK),
                     "default guest or build/wirt missing")
class MigrateRemoteTest(unittest.TestCase):
    def setUp(self):
        self.stores = [Store() for _ in range(4)]
        self.cons = []
        self.procs = []

    def tearDown(self):
        for c in self.cons:
            c.close()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()
        for s in self.stores:
            s.close()

    def check(self, store, digest):
        self.assertEqual(len(store.vmm_pids("mv")), 1, "the VM does not run in the new store")
        con = Serial(store, "mv")
        self.cons.append(con)
        out, rc = con.run("cat /dev/shm/marker; echo 3 > /proc/sys/vm/drop_caches;"
                          " dd if=/dev/vda bs=1M count=8 iflag=direct 2>/dev/null | md5sum")
        self.assertEqual(rc, 0, out)
        self.assertIn("hopping", out)
        self.assertIn(digest, out)
        con.close()
        self.cons.remove(con)

    def left(self, store):
        p = store.ok("info", "mv", "--json")
        self.assertRegex(p.stdout, r'"state"\s*:\s*"stopped"')

    def test_hops(self):
        a, b, c, d = self.stores
        a.ok("create", "mv", "--from", "debian")
        a.ok("start", "mv")
        wait_ready(a, "mv")
        con = Serial(a, "mv")
        self.cons.append(con)
        out, rc = con.run("dd if=/dev/urandom of=/dev/vda bs=1M count=8 conv=fsync 2>/dev/null"
                          " && dd if=/dev/vda bs=1M count=8 2>/dev/null | md5sum;"
                          " echo hopping > /dev/shm/marker")
        self.assertEqual(rc, 0, out)
        digest = re.findall(r"\b[0-9a-f]{32}\b", out)[-1]
        con.close()
        self.cons = []

        # store:DIR
        p = a.wirt("migrate", "mv", "--to", "store:" + b.store, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.check(b, digest)
        self.left(a)
        with open(os.path.join(b.vmdir("mv"), "vm.json")) as f:
            self.assertIn('"linked-to":null', f.read().replace(" ", ""))

        # ssh://
        tmp = tempfile.mkdtemp(dir=b.root)
        log = os.path.join(tmp, "ssh.log")
        ssh = os.path.join(tmp, "ssh")
        with open(ssh, "w") as f:
            f.write(FAKE_SSH % log)
        os.chmod(ssh, stat.S_IRWXU)
        os.symlink(os.path.abspath(WIRT), os.path.join(tmp, "wirt"))
        env = {"PATH": tmp + ":" + os.environ.get("PATH", "")}
        p = b.wirt("migrate", "mv", "--to", "ssh://me@far.example:2222" + c.store, env=env,
                   timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(log) as f:
            self.assertEqual(f.read().split(),
                             ["-p", "2222", "--", "me@far.example", "wirt", "vm", "--store",
                              c.store, "receive", "mv", "--stdio"])
        self.check(c, digest)
        self.left(b)

        # tcp: to `wirt vm receive --listen`; first refusals.
        def receive(env=None):
            e = dict(os.environ)
            e.update(env or {})
            r = subprocess.Popen([WIRT, "vm", "--store", d.store, "receive", "mv", "--listen",
                                  "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=e)
            self.procs.append(r)
            line = r.stdout.readline()
            self.assertTrue(line.startswith("listening on 127.0.0.1:"), line)
            return r, "tcp:127.0.0.1:" + line.strip().rsplit(":", 1)[1]

        r, uri = receive()
        p = c.wirt("migrate", "mv", "--to", uri, timeout=600)
        self.assertNotEqual(p.returncode, 0)
        r.wait(60)
        self.assertIn("--copy-storage", r.stderr.read())
        self.assertFalse(os.path.exists(d.vmdir("mv")))
        r, uri = receive({"WIRT_MIGRATION_SECRET": "other"})
        p = c.wirt("migrate", "mv", "--to", uri, "--copy-storage", timeout=600)
        self.assertNotEqual(p.returncode, 0)
        r.wait(60)
        self.assertIn("secret", r.stderr.read())
        self.assertFalse(os.path.exists(d.vmdir("mv")))
        self.check(c, digest)  # still running at the source

        r, uri = receive()
        p = c.wirt("migrate", "mv", "--to", uri, "--copy-storage", timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(r.wait(120), 0)
        self.check(d, digest)
        self.left(c)
        d.ok("stop", "mv", "--force")


if __name__ == "__main__":
    unittest.main()
