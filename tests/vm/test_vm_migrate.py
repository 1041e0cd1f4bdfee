# SPDX-License-Identifier: MIT
"""`wirt vm migrate` with the real default guest and a shared disk on the
same host: a running VM (qcow2 disk, linked clone of the template) with data
on its disk and in tmpfs migrates to `wirt run --spec ... --incoming` started
from the same spec with its own sockets; the source VMM exits, the
destination has the tmpfs file, reads the disk data back with caches
dropped, writes more, and the image checks clean afterwards.  A migrate to
a port nobody listens on fails with one line and the VM keeps running;
bad arguments are usage errors."""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import WIRT, Serial, Store, have_guest, wait_ready  # noqa: E402


def md5(out):
    found = re.findall(r"\b[0-9a-f]{32}\b", out)
    return found[-1] if found else out


class DestSerial(Serial):
    """The destination's serial socket (not the store VM's)."""

    def __init__(self, path):  # pylint: disable=super-init-not-called
        import socket
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.sock.settimeout(0.5)
        self.text = ""
        self.drain()


class MigrateBase(unittest.TestCase):
    """A store and a destination VMM that is killed at the end."""

    def setUp(self):
        self.s = Store()
        self.dest = None
        self.cons = []

    def tearDown(self):
        for c in self.cons:
            c.close()
        if self.dest and self.dest.poll() is None:
            self.dest.kill()
            self.dest.wait()
        self.s.close()


@unittest.skipUnless(have_guest() and os.access(WIRT, os.X_OK),
                     "default guest or build/wirt missing")
class MigrateTest(MigrateBase):
    def test_migrate_with_shared_disk(self):
        s = self.s
        s.ok("create", "mg", "--from", "debian")
        for bad in (["mg"], ["mg", "--to", "udp:1:2"], ["mg", "--to", "tcp:x:1", "--cancel"],
                    ["mg", "--to", "tcp:h:1", "--max-downtime", "0"]):
            p = s.wirt("migrate", *bad)
            self.assertNotEqual(p.returncode, 0, bad)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        s.ok("start", "mg")
        wait_ready(s, "mg")
        con = Serial(s, "mg")
        self.cons.append(con)
        out, rc = con.run("dd if=/dev/urandom of=/dev/vda bs=1M count=8 conv=fsync 2>/dev/null"
                          " && dd if=/dev/vda bs=1M count=8 2>/dev/null | md5sum;"
                          " echo moved-with-me > /dev/shm/marker")
        self.assertEqual(rc, 0, out)
        digest = md5(out)
        # Nobody listens: fails, the VM runs on.
        port = random.randint(44000, 44999)
        p = s.wirt("migrate", "mg", "--to", "tcp:127.0.0.1:%d" % port, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("connect", p.stderr)
        self.assertEqual(con.run("echo $((6*7))"), ("42", 0))

        vmdir = s.vmdir("mg")
        with open(os.path.join(vmdir, "run.json")) as f:
            spec = json.load(f)
        spec["console"] = {"mode": "detached", "serial-socket": "d-serial.sock",
                           "serial-log": "d-console.log"}
        spec["control"] = "d-control.sock"
        spec["log"] = "d-vmm.log"
        spec.pop("pidfile", None)
        for ch in spec.get("channels", []):  # the source listens on those
            ch["socket"] = "d-" + ch["socket"]
        with open(os.path.join(vmdir, "d.json"), "w") as f:
            json.dump(spec, f)
        self.dest = subprocess.Popen([WIRT, "run", "--spec", "d.json", "--incoming",
                                      "tcp:127.0.0.1:%d" % port], cwd=vmdir,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        p = s.wirt("migrate", "mg", "--to", "tcp:127.0.0.1:%d" % port, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("migrated VM 'mg'", p.stdout)
        con.close()
        self.cons = []
        def source_pids():  # the destination runs in the same directory
            # A jailed destination (run.json has the jail) is its supervisor
            # and the VMM, its child.
            dest = [self.dest.pid]
            try:
                with open("/proc/%d/task/%d/children" % (self.dest.pid, self.dest.pid)) as f:
                    dest += [int(c) for c in f.read().split()]
            except OSError:
                pass
            return [p for p in s.vmm_pids("mg") if p not in dest]
        deadline = time.monotonic() + 60
        while source_pids() and time.monotonic() < deadline:
            time.sleep(0.5)
        self.assertEqual(source_pids(), [], "the source VMM did not exit")
        self.assertIsNone(self.dest.poll(), "the destination exited")

        dcon = DestSerial(os.path.join(vmdir, "d-serial.sock"))
        self.cons.append(dcon)
        out, rc = dcon.run("cat /dev/shm/marker")
        self.assertEqual((out.splitlines()[-1], rc), ("moved-with-me", 0))
        out, rc = dcon.run("echo 3 > /proc/sys/vm/drop_caches; "
                           "dd if=/dev/vda bs=1M count=8 2>/dev/null | md5sum")
        self.assertEqual((md5(out), rc), (digest, 0))
        out, rc = dcon.run("dd if=/dev/urandom of=/dev/vda bs=1M seek=8 count=4 conv=fsync"
                           " 2>/dev/null; echo written")
        self.assertEqual(rc, 0, out)
        dcon.sock.sendall(b"poweroff\n")
        self.assertEqual(self.dest.wait(120), 0)
        if shutil.which("qemu-img"):
            c = subprocess.run(["qemu-img", "check", "-q", os.path.join(vmdir, "disk.qcow2")],
                               capture_output=True, text=True)
            self.assertEqual(c.returncode, 0, c.stdout + c.stderr)


if __name__ == "__main__":
    unittest.main()
