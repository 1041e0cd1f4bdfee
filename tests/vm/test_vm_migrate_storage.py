# SPDX-License-Identifier: MIT
"""`wirt vm migrate --copy-storage` with the real default guest: the
destination (`wirt run --spec ... --incoming`) has an empty qcow2 of the
disk's size instead of the VM's disk.  While the migration runs, the guest
keeps writing random 64 KiB chunks to its disk with conv=fsync, each also
recorded in a reference copy in tmpfs (which moves with RAM).  On the
destination the writer is stopped and the disk, read with O_DIRECT, must
hash like the reference: no chunk written before or during the copy is
lost.  The destination's image checks clean, and it is thin (the copy did
not write the disk's unused space).  The VM has a user-mode NIC with a
hostfwd rule: the destination, on the same host, takes the forwarded port
over once the source lets it go, and the host reaches the guest through it
again."""
import json
import os
import random
import re
import socket
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import WIRT, Serial, have_guest, wait_ready  # noqa: E402
from test_vm_migrate import DestSerial, MigrateBase  # noqa: E402

REGION_MB = 16
WRITER = (
    "rm -f /dev/shm/stop /dev/shm/done; "
    "dd if=/dev/urandom of=/dev/shm/ref bs=1M count=%d 2>/dev/null && "
    "dd if=/dev/shm/ref of=/dev/vda bs=1M oflag=direct conv=fsync 2>/dev/null && "
    "(i=0; while [ ! -e /dev/shm/stop ]; do "
    "  k=$(( (i * 37) %% %d )); "
    "  dd if=/dev/urandom of=/dev/shm/c bs=64k count=1 2>/dev/null; "
    "  dd if=/dev/shm/c of=/dev/vda bs=64k seek=$k conv=fsync,notrunc 2>/dev/null; "
    "  dd if=/dev/shm/c of=/dev/shm/ref bs=64k seek=$k conv=notrunc 2>/dev/null; "
    "  i=$((i+1)); echo $i > /dev/shm/count; "
    "done; touch /dev/shm/done) > /dev/null 2>&1 &"
    " echo started" % (REGION_MB, REGION_MB * 16))


@unittest.skipUnless(have_guest() and os.access(WIRT, os.X_OK),
                     "default guest or build/wirt missing")
class MigrateStorageTest(MigrateBase):
    def test_copy_storage_while_writing(self):
        s = self.s
        hport = random.randint(46000, 46999)
        s.ok("create", "ms", "--from", "debian", "--net",
             "user,hostfwd=tcp:127.0.0.1:%d-:5555" % hport)
        s.ok("start", "ms")
        wait_ready(s, "ms")
        con = Serial(s, "ms")
        self.cons.append(con)
        out, rc = con.run(WRITER)
        self.assertEqual(rc, 0, out)
        time.sleep(2)
        out, rc = con.run("cat /dev/shm/count")
        self.assertEqual(rc, 0, out)

        vmdir = s.vmdir("ms")
        with open(os.path.join(vmdir, "run.json")) as f:
            spec = json.load(f)
        src_disk = spec["disks"][0]["path"]
        if not os.path.isabs(src_disk):
            src_disk = os.path.join(vmdir, src_disk)
        info = json.loads(subprocess.run([WIRT, "img", "info", "-U", "--output=json", src_disk],
                                         capture_output=True, text=True, check=True).stdout)
        size = info["virtual-size"]
        ddir = os.path.join(vmdir, "dest")
        os.mkdir(ddir)
        subprocess.run([WIRT, "img", "create", "-q", "-f", "qcow2",
                        os.path.join(ddir, "disk.qcow2"), str(size)], check=True)
        spec["disks"][0]["path"] = "disk.qcow2"
        spec["disks"][0]["format"] = "qcow2"
        spec["console"] = {"mode": "detached", "serial-socket": "serial.sock",
                           "serial-log": "console.log"}
        spec["control"] = "control.sock"
        spec["log"] = "vmm.log"
        spec.pop("pidfile", None)
        for ch in spec.get("channels", []):
            ch["socket"] = os.path.join(ddir, os.path.basename(ch["socket"]))
        for key in ("kernel", "initrd", "firmware"):
            v = spec.get(key)
            if isinstance(v, str) and v and not os.path.isabs(v) and \
                    os.path.exists(os.path.join(vmdir, v)):
                spec[key] = os.path.join(vmdir, v)
        with open(os.path.join(ddir, "d.json"), "w") as f:
            json.dump(spec, f)
        port = random.randint(45000, 45999)
        self.dest = subprocess.Popen([WIRT, "run", "--spec", "d.json", "--incoming",
                                      "tcp:127.0.0.1:%d" % port], cwd=ddir,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        p = s.wirt("migrate", "ms", "--to", "tcp:127.0.0.1:%d" % port, "--copy-storage",
                   timeout=900)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("migrated VM 'ms'", p.stdout)
        m = re.search(r"disks (\d+)", p.stdout)
        self.assertTrue(m and int(m.group(1)) >= REGION_MB << 20, p.stdout)
        con.close()
        self.cons = []
        self.assertIsNone(self.dest.poll(), "the destination exited")

        dcon = DestSerial(os.path.join(ddir, "serial.sock"))
        self.cons.append(dcon)
        out, rc = dcon.run("touch /dev/shm/stop; while [ ! -e /dev/shm/done ]; do sleep 0.2;"
                           " done; cat /dev/shm/count", timeout=300)
        self.assertEqual(rc, 0, out)
        writes = int(out.split()[-1])
        out, rc = dcon.run("dd if=/dev/vda bs=1M count=%d iflag=direct 2>/dev/null | md5sum; "
                           "md5sum < /dev/shm/ref" % REGION_MB)
        self.assertEqual(rc, 0, out)
        sums = re.findall(r"\b[0-9a-f]{32}\b", out)
        self.assertEqual(len(sums), 2, out)
        self.assertEqual(sums[0], sums[1], "the disk lost writes (%d chunks written)" % writes)
        # hostfwd re-established on the destination.
        out, rc = dcon.run("{ (echo from-guest; sleep 5) | nc -l -p 5555 >/dev/null 2>&1 & }")
        self.assertEqual(rc, 0, out)
        got = b""
        deadline = time.monotonic() + 60
        while b"from-guest" not in got and time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", hport), timeout=5) as c:
                    c.settimeout(5)
                    got = c.recv(64)
            except OSError:
                time.sleep(0.5)
        self.assertIn(b"from-guest", got)
        dcon.sock.sendall(b"poweroff\n")
        self.assertEqual(self.dest.wait(120), 0)
        dimg = os.path.join(ddir, "disk.qcow2")
        if shutil.which("qemu-img"):
            c = subprocess.run(["qemu-img", "check", "-q", dimg], capture_output=True, text=True)
            self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
        self.assertLess(os.stat(dimg).st_blocks * 512, size // 2 + (64 << 20), "not thin")


if __name__ == "__main__":
    unittest.main()
