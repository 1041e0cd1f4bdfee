# SPDX-License-Identifier: MIT
"""virtio-blk with the default guest.

- an ext4 image made on the host (mkfs.ext4 -d) holding a known file: the
  guest mounts /dev/vdX, checks the file's sha256, writes a new file,
  syncs, unmounts and powers off; the host reads the new file back with
  debugfs;
- a second disk with readonly=on: the guest sees it read-only, a write
  fails, and the image is untouched;
- durability: the guest writes a file with dd conv=fsync, then the VM is
  killed with SIGKILL; the file is intact in the image (after e2fsck has
  replayed the journal);
- a raw disk given without format= (so probed): the guest may write its
  first 4 KiB, except a header that would make the image probe as another
  format (the write fails, the image keeps its bytes, stderr says so);
- bad --disk options exit with status 2 and one line; so does a probed
  image naming a backing file, and a FIFO.

WIRT_TEST_VM=qemu runs the same guest under qemu-system-riscv64 (to check
the tests themselves).
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

VM = os.environ.get("WIRT_TEST_VM", "wirt")
MB = 1 << 20


def have_tools():
    return all(shutil.which(t) for t in ("mkfs.ext4", "debugfs", "e2fsck"))


def vm_available():
    if not guestlib.have_guest():
        return False
    if VM == "qemu":
        return shutil.which("qemu-system-riscv64") is not None
    return os.access(guestlib.wirt_bin(), os.X_OK)


def disk_args(disks):
    """disks: list of (path, readonly)."""
    args = []
    for i, (path, ro) in enumerate(disks):
        if VM == "qemu":
            args += ["-drive", "file=%s,if=none,format=raw,id=d%d%s"
                     % (path, i, ",readonly=on" if ro else ""),
                     "-device", "virtio-blk-device,drive=d%d" % i]
        else:
            args += ["--disk", path + ",format=raw" + (",readonly=on" if ro else "")]
    return args


def start_guest(disks):
    extra = disk_args(disks)
    if VM == "qemu":
        return guestlib.Guest(guestlib.qemu_argv(extra=extra), name="qemu")
    return guestlib.Guest(guestlib.wirt_argv(extra=extra), name="wirt")


def make_ext4(path, size_mb, files):
    """An ext4 image holding `files` (name -> bytes) at its root."""
    root = tempfile.mkdtemp(prefix="wirt-ext4-")
    try:
        for name, data in files.items():
            with open(os.path.join(root, name), "wb") as f:
                f.write(data)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-d", root, path, "%dM" % size_mb],
                       check=True, stdout=subprocess.DEVNULL)
    finally:
        shutil.rmtree(root)


def debugfs_cat(image, name):
    r = subprocess.run(["debugfs", "-R", "cat /" + name, image],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    return r.stdout


def sha(data):
    return hashlib.sha256(data).hexdigest()


def find_disk(g, size_bytes):
    """The guest's /dev/vdX whose size is size_bytes."""
    out = g.run("for d in /sys/block/vd*; do echo $(basename $d) $(cat $d/size); done")
    for line in out.splitlines():
        name, sectors = line.split()
        if int(sectors) * 512 == size_bytes:
            return "/dev/" + name
    raise AssertionError("no disk of %d bytes in the guest:\n%s" % (size_bytes, out))


@unittest.skipUnless(vm_available() and have_tools(),
                     "needs the default guest (tools/fetch-guest.sh), the VM binary "
                     "and e2fsprogs")
class VirtioBlkGuestTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wirt-blk-test-")
        self.known = os.urandom(300 * 1024)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_ext4_read_write_and_readonly_disk(self):
        rw = os.path.join(self.dir, "rw.img")
        ro = os.path.join(self.dir, "ro.img")
        make_ext4(rw, 32, {"known": self.known})
        make_ext4(ro, 16, {"ro-file": b"read only data\n"})
        with open(ro, "rb") as f:
            ro_before = sha(f.read())
        with start_guest([(rw, False), (ro, True)]) as g:
            g.wait_ready()
            vrw = find_disk(g, 32 * MB)
            vro = find_disk(g, 16 * MB)
            g.run("mkdir -p /mnt/rw /mnt/ro && mount -t ext4 %s /mnt/rw" % vrw)
            out = g.run("sha256sum /mnt/rw/known")
            self.assertEqual(out.split()[0], sha(self.known))
            # The new file is the first 100 KiB of the known one, so the host
            # knows what to expect.
            g.run("dd if=/mnt/rw/known of=/mnt/rw/new bs=1024 count=100 2>/dev/null && sync")
            g.run("umount /mnt/rw")
            # The read-only disk: the kernel sees it read-only and writes fail.
            self.assertEqual(g.run("cat /sys/block/%s/ro" % vro[5:]), "1")
            g.run("mount -t ext4 -o ro %s /mnt/ro" % vro)
            self.assertEqual(g.run("cat /mnt/ro/ro-file"), "read only data")
            g.run("umount /mnt/ro")
            _, status = g.run("dd if=/dev/zero of=%s bs=512 count=1 conv=fsync 2>&1" % vro,
                              check=False)
            self.assertNotEqual(status, 0)
            self.assertEqual(g.poweroff(), 0)
        self.assertEqual(sha(debugfs_cat(rw, "new")), sha(self.known[:100 * 1024]))
        with open(ro, "rb") as f:
            self.assertEqual(sha(f.read()), ro_before)

    def test_fsync_survives_sigkill(self):
        img = os.path.join(self.dir, "dur.img")
        make_ext4(img, 32, {"known": self.known})
        with start_guest([(img, False)]) as g:
            g.wait_ready()
            dev = find_disk(g, 32 * MB)
            g.run("mkdir -p /mnt/d && mount -t ext4 %s /mnt/d" % dev)
            g.run("dd if=/dev/urandom of=/tmp/payload bs=4096 count=64 2>/dev/null")
            want = g.run("sha256sum /tmp/payload").split()[0]
            g.run("dd if=/tmp/payload of=/mnt/d/durable bs=4096 conv=fsync 2>/dev/null")
            # No sync, no umount: the process dies right after fsync returned.
            g.kill()
        # Replay the journal as the next mount would, then read the file.
        r = subprocess.run(["e2fsck", "-fy", img], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        self.assertLess(r.returncode, 4, r.stdout.decode(errors="replace"))
        self.assertEqual(sha(debugfs_cat(img, "durable")), want)

    @unittest.skipUnless(VM == "wirt", "wirt's own probing safeguard")
    def test_probed_raw_disk_keeps_its_format(self):
        img = os.path.join(self.dir, "probed.img")
        with open(img, "wb") as f:
            f.truncate(16 * MB)
        argv = guestlib.wirt_argv(extra=["--disk", img])
        with guestlib.Guest(argv, name="wirt") as g:
            g.wait_ready()
            dev = find_disk(g, 16 * MB)
            g.run("head -c 4096 /dev/zero >/tmp/blk && printf hello | dd of=/tmp/blk "
                  "conv=notrunc 2>/dev/null && dd if=/tmp/blk of=%s bs=4096 count=1 "
                  "conv=fsync 2>/dev/null" % dev)
            # A qcow2 header at 0 would make the next start open the image as qcow2.
            g.run("printf 'QFI\\373\\0\\0\\0\\3' | dd of=/tmp/blk conv=notrunc 2>/dev/null")
            _, status = g.run("dd if=/tmp/blk of=%s bs=4096 count=1 conv=fsync 2>&1" % dev,
                              check=False)
            self.assertNotEqual(status, 0, "the header write succeeded")
            # The same bytes elsewhere are ordinary data.
            g.run("dd if=/tmp/blk of=%s bs=4096 seek=1 count=1 conv=fsync 2>/dev/null" % dev)
            self.assertEqual(g.poweroff(), 0)
            self.assertIn("probed as raw", g.transcript)
            self.assertIn("would make the image, probed as raw, probe as qcow2", g.transcript)
        with open(img, "rb") as f:
            head = f.read(8192)
        self.assertEqual(head[:5], b"hello")
        self.assertEqual(head[4096:4100], b"QFI\xfb")


@unittest.skipUnless(VM == "wirt" and guestlib.have_guest()
                     and os.access(guestlib.wirt_bin(), os.X_OK),
                     "needs build/wirt and the default guest")
class DiskFlagTest(unittest.TestCase):
    def check_usage_error(self, spec, words):
        r = subprocess.run([guestlib.wirt_bin(), "run", "--disk", spec],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        err = r.stderr.decode().strip()
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn("--disk", err)
        for w in words:
            self.assertIn(w, err)

    def test_missing_file(self):
        self.check_usage_error("/nonexistent/disk.img", ["/nonexistent/disk.img"])

    def test_unknown_format(self):
        with tempfile.NamedTemporaryFile() as f:
            f.truncate(MB)
            self.check_usage_error(f.name + ",format=bogus", ["bogus"])

    def test_probed_image_may_not_name_a_backing_file(self):
        if not shutil.which("qemu-img"):
            self.skipTest("needs qemu-img")
        # What a guest could write into a raw disk: a qcow2 header naming a host file.
        with tempfile.TemporaryDirectory() as d:
            planted = os.path.join(d, "disk.img")
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b",
                            "/etc/hostname", "-F", "raw", planted, "1M"], check=True)
            self.check_usage_error(planted, ["probed", "/etc/hostname", "format"])

    def test_fifo(self):
        with tempfile.TemporaryDirectory() as d:
            fifo = os.path.join(d, "fifo")
            os.mkfifo(fifo)
            self.check_usage_error(fifo + ",format=raw", ["not a regular file"])

    def test_unknown_option(self):
        with tempfile.NamedTemporaryFile() as f:
            f.truncate(MB)
            self.check_usage_error(f.name + ",colour=blue", ["colour"])


if __name__ == "__main__":
    unittest.main()
