# SPDX-License-Identifier: MIT
"""`wirt vm` without waiting for guest boots: the store, configs, bad input,
templates and clones, snapshots, archives, locking, stale state and the
control protocol (VMMs are started but never need a booted guest)."""
import io
import json
import os
import stat
import subprocess
import sys
import tarfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import ControlClient, Store, WIRT, control, have_guest  # noqa: E402

need_guest = unittest.skipUnless(have_guest(), "default guest missing (tools/fetch-guest.sh)")


def readf(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def one_error_line(t, p, *needles):
    """Non-zero exit and exactly one line 'wirt vm: ...' mentioning needles."""
    t.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
    lines = p.stderr.strip().splitlines()
    t.assertEqual(len(lines), 1, p.stderr)
    t.assertTrue(lines[0].startswith("wirt vm: "), p.stderr)
    for n in needles:
        t.assertIn(n, lines[0])
    t.assertNotIn("Segmentation", p.stderr)


class StoreTest(unittest.TestCase):
    def setUp(self):
        if not os.access(WIRT, os.X_OK):
            self.skipTest("build/wirt not built")
        self.s = Store()
        # A VM that needs no guest: tiny "kernel" file, no firmware.
        self.kernel = os.path.join(self.s.root, "kernel.bin")
        with open(self.kernel, "wb") as f:
            f.write(b"\0" * 4096)

    def tearDown(self):
        self.s.close()

    def snapshot_tree(self, top):
        out = {}
        for d, _, files in os.walk(top):
            for f in files:
                p = os.path.join(d, f)
                try:
                    st = os.lstat(p)
                    out[p] = (st.st_size, st.st_mtime_ns)
                except OSError:
                    pass
        return out

    def mkvm(self, name, *extra):
        return self.s.ok("create", name, "--kernel", self.kernel, "--bios", "none",
                         "--disk-size", "64M", *extra)

    # -- store and config ----------------------------------------------------

    @need_guest
    def test_first_run_creates_debian_template(self):
        # The first create makes the store and the template, then uses it.
        self.s.ok("create", "first", "--from", "debian")
        p = self.s.ok("list", "--json")
        vms = {v["name"]: v for v in json.loads(p.stdout)}
        self.assertIn("debian", vms)
        self.assertTrue(vms["debian"]["template"])
        self.assertEqual(vms["debian"]["state"], "stopped")
        d = self.s.vmdir("debian")
        for f in ("vm.json", "Image", "initrd.cpio.gz", "fw_dynamic.bin", "disk.qcow2"):
            self.assertTrue(os.path.isfile(os.path.join(d, f)), f)
        # The template's disk is read-only on the host.
        self.assertEqual(os.stat(os.path.join(d, "disk.qcow2")).st_mode & 0o222, 0)
        # A second run does not recreate it once deleted by the user.
        self.s.ok("delete", "first")
        self.s.ok("delete", "debian")
        p = self.s.ok("list", "--json")
        self.assertNotIn("debian", [v["name"] for v in json.loads(p.stdout)])

    def test_config_is_json_and_edits_are_applied(self):
        self.mkvm("a", "--memory", "256M", "--cpus", "2", "--net", "user")
        self.mkvm("b")
        self.mkvm("c", "--net", "none")
        # As wirt run: user networking unless told --net none.
        self.assertEqual(json.loads(readf(self.s.path("b", "vm.json")))["net"], ["user"])
        self.assertEqual(json.loads(readf(self.s.path("c", "vm.json")))["net"], [])
        one_error_line(self, self.s.wirt("create", "d", "--kernel", self.kernel, "--net", "none",
                                         "--net", "user"), "none")
        self.s.ok("delete", "c")
        lines = self.s.ok("list").stdout.splitlines()
        self.assertRegex(lines[0], r"^NAME\s+STATE\s+MEMORY\s+CPUS\s+UPTIME\s+DISK")
        rows = [l for l in lines[1:] if not l.startswith("debian ")]
        self.assertEqual(len(rows), 2, lines)
        self.assertRegex(rows[0], r"^a\s+stopped\s+256M\s+2\s+-\s+[\d.]+M\s*$")
        self.assertRegex(rows[1], r"^b\s+stopped\s+512M\s+1\s+-")
        info = self.s.ok("info", "a").stdout.splitlines()
        self.assertIn("name:       a", info)
        self.assertIn("cpus:       2", info)
        self.assertIn("net 0:      user", info)
        cfg = json.loads(readf(self.s.path("a", "vm.json")))
        self.assertEqual(cfg["memory"], "256M")
        self.assertEqual(cfg["cpus"], 2)
        self.assertEqual(cfg["net"], ["user"])
        self.assertEqual(cfg["disks"][0]["file"], "disk.qcow2")
        self.s.ok("set", "a", "memory=1G", "cpus=3", "append=console=ttyS0 quiet", "net=")
        info = json.loads(self.s.ok("info", "a", "--json").stdout)
        self.assertEqual(info["memory"], "1G")
        self.assertEqual(info["cpus"], 3)
        self.assertEqual(info["append"], "console=ttyS0 quiet")
        self.assertEqual(info["net"], [])
        self.assertEqual(info["disks"][0]["virtual-size"], 64 << 20)
        self.s.ok("set", "a", "disk-size=128M")
        info = json.loads(self.s.ok("info", "a", "--json").stdout)
        self.assertEqual(info["disks"][0]["virtual-size"], 128 << 20)
        # Hand edit: a human changes memory in the file.
        cfg = json.loads(readf(self.s.path("a", "vm.json")))
        cfg["memory"] = "768M"
        with open(self.s.path("a", "vm.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        self.assertIn("768M", self.s.ok("info", "a").stdout)
        # No temporary files are left behind by atomic writes.
        self.assertEqual([f for f in os.listdir(self.s.vmdir("a")) if "tmp" in f], [])

    def test_event_log(self):
        self.s.ok("create", "ev", "--from", "debian")
        self.s.ok("set", "ev", "cpus=2")
        self.s.wirt("set", "ev", "cpus=lots")
        self.s.ok("snapshot", "ev", "create", "s1")
        out = self.s.ok("log", "ev").stdout.strip().split("\n")
        self.assertEqual(len(out), 3, out)
        self.assertRegex(out[0], r"^\d{4}-\d\d-\d\dT\S+Z\s+cli:uid \d+\s+set\s+ok$")
        self.assertRegex(out[1], r"set\s+failed: exit status 2$")
        self.assertRegex(out[2], r"snapshot create\s+ok$")
        entries = json.loads(self.s.ok("log", "ev", "--json").stdout)
        self.assertEqual([e["ok"] for e in entries], [True, False, True])
        self.assertEqual(stat.S_IMODE(os.stat(self.s.path("ev", "events.log")).st_mode), 0o600)
        one_error_line(self, self.s.wirt("log", "nope"), "nope")

    def test_set_bad_keys_and_values(self):
        self.mkvm("a")
        before = readf(self.s.path("a", "vm.json"))
        for args, needle in ((["memory=lots"], "memory"), (["cpus=0"], "cpus"),
                             (["cpus=99"], "cpus"), (["colour=red"], "unknown key"),
                             (["memory"], "KEY=VALUE"), (["disk-size=1M"], "shrinking"),
                             (["net=bogus"], "net")):
            p = self.s.wirt("set", "a", *args)
            one_error_line(self, p, needle)
        self.assertEqual(readf(self.s.path("a", "vm.json")), before)

    def test_bad_names(self):
        outside = os.path.join(self.s.root, "outside")
        os.mkdir(outside)
        before = self.snapshot_tree(self.s.root)
        for bad in ("../outside", "a/b", "", "-x", ".hidden", "x" * 65, "a..b", "..", "/tmp/x",
                    "a b", "caf\u00e9", "a\nb"):
            for verb in (["create", bad, "--kernel", self.kernel], ["delete", bad],
                         ["start", bad], ["info", bad]):
                p = self.s.wirt(*verb)
                self.assertNotEqual(p.returncode, 0, (verb, p.stdout))
                self.assertTrue(p.stderr.startswith("wirt vm: "), (verb, p.stderr))
        after = self.snapshot_tree(self.s.root)
        # Only the store's own bookkeeping may have appeared.
        new = [p for p in after if p not in before and not p.startswith(self.s.store)]
        self.assertEqual(new, [])
        self.assertEqual(os.listdir(outside), [])
        # 64 characters is fine.
        self.mkvm("x" * 64)

    def test_unknown_vm_and_duplicates(self):
        for verb in (["info", "nope"], ["start", "nope"], ["stop", "nope"], ["delete", "nope"],
                     ["console", "nope"], ["set", "nope", "cpus=2"], ["template", "nope"],
                     ["snapshot", "nope", "list"], ["export", "nope", "/tmp/x.tar"],
                     ["clone", "nope", "other"], ["create", "x", "--from", "nope"]):
            one_error_line(self, self.s.wirt(*verb), "nope")
        self.mkvm("a")
        one_error_line(self, self.s.wirt("create", "a", "--kernel", self.kernel), "already exists")
        self.mkvm("b")
        one_error_line(self, self.s.wirt("clone", "a", "b"), "already exists")
        one_error_line(self, self.s.wirt("stop", "a"), "not running")
        one_error_line(self, self.s.wirt("frobnicate"), "unknown verb")
        one_error_line(self, self.s.wirt("create", "c", "--kernel", "/nonexistent/k"), "nonexistent")
        self.assertFalse(os.path.exists(self.s.vmdir("c")))

    def test_corrupt_config(self):
        self.mkvm("a")
        cfgpath = self.s.path("a", "vm.json")
        good = readf(cfgpath)
        cases = [
            ('{\n  "name": "a",\n  "memory": \n', "invalid JSON at line"),
            ('{"cpus": 2} trailing', "invalid JSON"),
            ('[1, 2]', "JSON object"),
            ('{"cpus": "two"}', "cpus"),
            ('{"memory": "lots"}', "memory"),
            ('{"kernel": "../../../etc/passwd"}', "kernel"),
            ('{"kernel": "/etc/passwd"}', "kernel"),
            ('{"disks": [{"file": "../b/disk.qcow2"}]}', "file"),
            ('{"disks": [{"file": "vm.json"}]}', "file"),
            ('{"disks": [{"file": "d.img", "format": "vmdk"}]}', "format"),
            ('{"linked-to": "../x"}', "linked-to"),
            ('{"frobs": 1}', "unknown key"),
            ('', "invalid JSON"),
            ('{"a": ' * 100 + '1' + '}' * 100, "invalid JSON"),
        ]
        for text, needle in cases:
            with open(cfgpath, "w") as f:
                f.write(text)
            for verb in (["info", "a"], ["start", "a"], ["set", "a", "cpus=2"],
                         ["snapshot", "a", "list"]):
                p = self.s.wirt(*verb)
                one_error_line(self, p, needle, cfgpath)
            # list names the broken VM but keeps going.
            p = self.s.wirt("list")
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("broken config", p.stdout)
            self.assertIn(cfgpath, p.stderr)
            self.assertEqual(readf(cfgpath), text)  # nothing rewrote it
        with open(cfgpath, "w") as f:
            f.write(good)
        self.s.ok("info", "a")

    def test_missing_disk(self):
        self.mkvm("a")
        os.unlink(self.s.path("a", "disk.qcow2"))
        one_error_line(self, self.s.wirt("start", "a"), "disk", "missing")
        self.assertEqual(self.s.vmm_pids("a"), [])
        self.assertIn("missing", self.s.ok("info", "a").stdout)

    def test_failed_start_reports_the_vmm_error(self):
        self.mkvm("a")
        # An empty kernel is the one file --kernel refuses (anything else
        # may be a flat binary), and only the VMM opens it.
        open(os.path.join(self.s.vmdir("a"), "kernel"), "w").close()
        p = self.s.wirt("start", "a")
        one_error_line(self, p, "failed to start", "empty file")
        self.assertEqual(self.s.vmm_pids("a"), [])
        self.assertEqual(json.loads(self.s.ok("list", "--json").stdout)[0]["state"], "stopped")

    def test_disk_full(self):
        # A 40 MiB tmpfs as the store: copying the guest-sized files fails.
        mnt = os.path.join(self.s.root, "small")
        os.mkdir(mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3M", "tmpfs", mnt],
                          capture_output=True).returncode != 0:
            self.skipTest("cannot mount a small tmpfs here")
        try:
            big = os.path.join(self.s.root, "big.bin")
            with open(big, "wb") as f:
                f.write(os.urandom(4 << 20))
            store = os.path.join(mnt, "store")
            run = lambda *a: subprocess.run([WIRT, "vm", "--store", store] + list(a),
                                            capture_output=True, text=True, timeout=60,
                                            env=dict(os.environ, WIRT_CACHE="/nonexistent"))
            p = run("create", "small", "--kernel", self.kernel, "--bios", "none")
            self.assertEqual(p.returncode, 0, p.stderr)
            p = run("create", "a", "--kernel", big, "--bios", "none")
            one_error_line(self, p, "No space left on device")
            # Nothing half-made: no VM 'a', no temporary directory.
            self.assertEqual(sorted(os.listdir(os.path.join(store, "vms"))), ["small"])
            p = run("clone", "small", "b")
            self.assertEqual(p.returncode, 0, p.stderr)
            # Fill the disk, then a config write fails cleanly and keeps the old file.
            with open(os.path.join(mnt, "filler"), "wb") as f:
                try:
                    while True:
                        f.write(b"\1" * 65536)
                        f.flush()
                except OSError:
                    pass
            cfg = readf(os.path.join(store, "vms", "small", "vm.json"))
            p = run("set", "small", "cpus=2")
            one_error_line(self, p, "No space left on device")
            self.assertEqual(readf(os.path.join(store, "vms", "small", "vm.json")), cfg)
            self.assertEqual(sorted(os.listdir(os.path.join(store, "vms"))), ["b", "small"])
            self.assertEqual([f for f in os.listdir(os.path.join(store, "vms", "small"))
                              if "tmp" in f], [])
        finally:
            subprocess.run(["umount", "-l", mnt])

    # -- templates, clones, delete -------------------------------------------

    def test_template_protection(self):
        self.mkvm("base")
        one_error_line(self, self.s.wirt("clone", "base", "lc", "--linked"), "not a template")
        self.s.ok("template", "base")
        disk = self.s.path("base", "disk.qcow2")
        self.assertEqual(os.stat(disk).st_mode & 0o222, 0)
        one_error_line(self, self.s.wirt("start", "base"), "template")
        one_error_line(self, self.s.wirt("set", "base", "cpus=2"), "template")
        one_error_line(self, self.s.wirt("snapshot", "base", "create", "s"), "template")
        one_error_line(self, self.s.wirt("template", "base"), "already a template")
        self.s.ok("create", "c1", "--from", "base")
        self.s.ok("clone", "base", "c2", "--linked")
        p = self.s.wirt("delete", "base")
        one_error_line(self, p, "linked clones", "c1", "c2")
        self.assertTrue(os.path.isfile(disk))
        info = json.loads(self.s.ok("info", "base", "--json").stdout)
        self.assertEqual(sorted(info["linked-clones"]), ["c1", "c2"])
        self.s.ok("delete", "c1")
        one_error_line(self, self.s.wirt("delete", "base"), "c2")
        # A clone whose config is broken still protects the template.
        good = readf(self.s.path("c2", "vm.json"))
        with open(self.s.path("c2", "vm.json"), "w") as f:
            f.write("{broken")
        one_error_line(self, self.s.wirt("delete", "base"), "c2 (broken config)")
        with open(self.s.path("c2", "vm.json"), "w") as f:
            f.write(good)
        self.s.ok("delete", "c2")
        self.s.ok("delete", "base")
        self.assertFalse(os.path.exists(self.s.vmdir("base")))

    def test_linked_clone_is_an_overlay_full_clone_is_independent(self):
        self.mkvm("base", "--disk-size", "256M")
        # Put 8 MiB of data on the base disk through the image tool.
        disk = self.s.path("base", "disk.qcow2")
        data = os.path.join(self.s.root, "data.raw")
        with open(data, "wb") as f:
            f.write(os.urandom(8 << 20))
        subprocess.run([WIRT, "img", "convert", "-O", "qcow2", data, disk + ".new"], check=True)
        subprocess.run([WIRT, "img", "resize", disk + ".new", "256M"], check=True,
                       capture_output=True)
        os.replace(disk + ".new", disk)
        self.s.ok("template", "base")
        self.s.ok("clone", "base", "lc", "--linked")
        lc = self.s.path("lc", "disk.qcow2")
        info = subprocess.run([WIRT, "img", "info", "--output=json", lc], capture_output=True,
                              text=True, check=True)
        self.assertEqual(json.loads(info.stdout)["backing-filename"], "../base/disk.qcow2")
        base_used = os.stat(disk).st_blocks * 512
        lc_used = os.stat(lc).st_blocks * 512
        self.assertGreater(base_used, 8 << 20)
        self.assertLess(lc_used * 10, base_used)  # a small fraction
        # The clone reads the template's data.
        subprocess.run([WIRT, "img", "compare", "-q", disk, lc], check=True)
        # A full clone of the linked clone stands alone.
        self.s.ok("clone", "lc", "full")
        full = self.s.path("full", "disk.qcow2")
        info = json.loads(subprocess.run([WIRT, "img", "info", "--output=json", full],
                                         capture_output=True, text=True, check=True).stdout)
        self.assertNotIn("backing-filename", info)
        self.assertEqual(json.loads(self.s.ok("info", "full", "--json").stdout)["linked-to"], None)
        subprocess.run([WIRT, "img", "compare", "-q", disk, full], check=True)
        self.s.ok("delete", "lc")
        self.s.ok("delete", "base")
        subprocess.run([WIRT, "img", "check", "-q", full], check=True)

    # -- snapshots -----------------------------------------------------------

    def test_snapshots(self):
        self.mkvm("a")
        self.assertEqual(self.s.ok("snapshot", "a", "list").stdout, "no snapshots\n")
        self.s.ok("snapshot", "a", "create", "before")
        one_error_line(self, self.s.wirt("snapshot", "a", "create", "before"), "exists")
        self.s.ok("snapshot", "a", "create", "after")
        out = self.s.ok("snapshot", "a", "list").stdout
        self.assertIn("before", out)
        self.assertIn("after", out)
        self.s.ok("snapshot", "a", "revert", "before")
        self.s.ok("snapshot", "a", "delete", "after")
        self.assertNotIn("after", self.s.ok("snapshot", "a", "list").stdout)
        one_error_line(self, self.s.wirt("snapshot", "a", "revert", "nope"), "no such snapshot")
        one_error_line(self, self.s.wirt("snapshot", "a", "explode", "x"), "unknown operation")
        one_error_line(self, self.s.wirt("snapshot", "a", "create"), "snapshot name")
        subprocess.run([WIRT, "img", "check", "-q", self.s.path("a", "disk.qcow2")], check=True)

    # -- export / import -------------------------------------------------------

    def test_export_import_round_trip(self):
        self.mkvm("a", "--memory", "300M")
        self.s.ok("snapshot", "a", "create", "s1")
        arc = os.path.join(self.s.root, "a.tar")
        self.s.ok("export", "a", arc)
        with tarfile.open(arc) as t:
            self.assertEqual(t.getnames()[0], "vm.json")
            self.assertIn("disk.qcow2", t.getnames())
        self.s.ok("import", arc, "b")
        one_error_line(self, self.s.wirt("import", arc, "b"), "already exists")
        one_error_line(self, self.s.wirt("import", arc), "already exists")  # named 'a'
        info = json.loads(self.s.ok("info", "b", "--json").stdout)
        self.assertEqual(info["memory"], "300M")
        self.assertEqual(info["disks"][0]["snapshots"], ["s1"])
        subprocess.run([WIRT, "img", "compare", "-q", self.s.path("a", "disk.qcow2"),
                        self.s.path("b", "disk.qcow2")], check=True)

    # -- issue 9: permissions, odd files, the store, sparse imports ------------

    def assert_owner_only(self, top):
        """top and everything below it: no group or world access."""
        bad = []
        for d, dirs, files in os.walk(top):
            for n in [d] + [os.path.join(d, f) for f in files]:
                st = os.lstat(n)
                if stat.S_ISLNK(st.st_mode):
                    continue
                if st.st_mode & 0o077:
                    bad.append("%s %o" % (n, stat.S_IMODE(st.st_mode)))
        self.assertEqual(bad, [])

    def test_store_is_owner_only_whatever_the_umask(self):
        old = os.umask(0)
        try:
            self.mkvm("a")
            self.s.ok("clone", "a", "b")
            self.s.ok("template", "b")
            self.s.ok("create", "c", "--from", "b")
            arc = os.path.join(self.s.root, "a.tar")
            self.s.ok("export", "a", arc)
            self.s.ok("import", arc, "d")
        finally:
            os.umask(old)
        self.assertEqual(stat.S_IMODE(os.stat(arc).st_mode) & 0o077, 0)
        self.assert_owner_only(os.path.join(self.s.store, "vms"))
        for vm in "abcd":
            self.assertEqual(stat.S_IMODE(os.stat(self.s.vmdir(vm)).st_mode), 0o700)

    def test_old_store_modes_are_migrated(self):
        self.mkvm("a")
        # As an older wirt left it: 0755 directories, 0644 files.
        os.chmod(os.path.join(self.s.store, "vms"), 0o755)
        os.chmod(self.s.vmdir("a"), 0o755)
        for f in os.listdir(self.s.vmdir("a")):
            os.chmod(self.s.path("a", f), 0o644)
        # A file an older wirt hard-linked in from outside is not changed.
        outside = os.path.join(self.s.root, "outside.bin")
        with open(outside, "wb") as f:
            f.write(b"x")
        os.chmod(outside, 0o644)
        os.link(outside, self.s.path("a", "linked.bin"))
        self.s.ok("list")
        self.assertEqual(stat.S_IMODE(os.stat(outside).st_mode), 0o644)
        os.unlink(self.s.path("a", "linked.bin"))
        self.assert_owner_only(os.path.join(self.s.store, "vms"))
        self.assertEqual(stat.S_IMODE(os.stat(self.s.path("a", "vm.json")).st_mode), 0o600)

    def test_missing_store_is_not_created(self):
        store = os.path.join(self.s.root, "nonexistent", "deep")
        for args in (["list"], ["list", "--json"], ["info", "x"], ["start", "x"], ["delete", "x"]):
            p = subprocess.run([WIRT, "vm", "--store", store] + args, capture_output=True,
                               text=True, timeout=60)
            if args[0] == "list":
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.stderr, "")
            else:
                one_error_line(self, p, "no VM named 'x'")
            self.assertFalse(os.path.exists(os.path.join(self.s.root, "nonexistent")), args)
        self.assertEqual(json.loads(subprocess.run(
            [WIRT, "vm", "--store", store, "list", "--json"], capture_output=True,
            text=True).stdout), [])

    def test_fifo_and_devices_are_refused(self):
        fifo = os.path.join(self.s.root, "fifo")
        os.mkfifo(fifo)
        self.mkvm("existing")
        for flag, value in (("--kernel", "/dev/zero"), ("--kernel", fifo),
                            ("--initrd", fifo), ("--bios", fifo)):
            args = ["create", "x", "--bios", "none", "--kernel", self.kernel]
            if flag == "--bios":
                args = ["create", "x", "--kernel", self.kernel]
            args += [flag, value]
            start = time.monotonic()
            p = self.s.wirt(*args, timeout=10)
            self.assertLess(time.monotonic() - start, 2.0, args)
            one_error_line(self, p, flag, value, "not a regular file")
            self.assertFalse(os.path.exists(self.s.vmdir("x")))
        start = time.monotonic()
        p = self.s.wirt("import", fifo, "y", timeout=10)
        self.assertLess(time.monotonic() - start, 2.0)
        one_error_line(self, p, "import", "FIFO")
        self.assertEqual([d for d in os.listdir(os.path.join(self.s.store, "vms"))
                          if d.startswith(".")], [])

    def test_memory_is_bounded_by_the_host(self):
        with open("/proc/meminfo") as f:
            host = int(f.readline().split()[1]) << 10
        too_much = "%dM" % ((host >> 20) + 1024)
        for m in ("1T", too_much):
            one_error_line(self, self.s.wirt("create", "x", "--kernel", self.kernel, "--bios",
                                             "none", "--memory", m), "--memory",
                           "more than this host")
            self.assertFalse(os.path.exists(self.s.vmdir("x")))
        self.mkvm("a")
        one_error_line(self, self.s.wirt("set", "a", "memory=" + too_much), "memory",
                       "more than this host")
        self.assertEqual(json.loads(readf(self.s.path("a", "vm.json")))["memory"], "512M")

    def sparse_archive(self, disk_size, data_at, claimed=None):
        """vm.json + kernel + a raw disk member of disk_size bytes that is
        zero except a marker at each offset in data_at; the archive itself
        is a sparse file.  claimed: a lying size in the disk's header."""
        arc = os.path.join(self.s.root, "sparse.tar")
        cfg = json.dumps({"kernel": "k", "disks": [{"file": "disk.raw",
                                                    "format": "raw"}]}).encode()
        with open(arc, "wb") as f:
            for name, data in (("vm.json", cfg), ("k", b"\0" * 4096)):
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                f.write(ti.tobuf(format=tarfile.USTAR_FORMAT))
                f.write(data + b"\0" * (-len(data) % 512))
            ti = tarfile.TarInfo("disk.raw")
            ti.size = claimed or disk_size
            f.write(ti.tobuf(format=tarfile.USTAR_FORMAT))
            base = f.tell()
            for off in data_at:
                f.seek(base + off)
                f.write(b"DATA" * 128)
            f.seek(base + disk_size)
            f.write(b"\0" * 1024)  # end of archive
        return arc

    def test_sparse_import_stays_sparse(self):
        self.mkvm("existing")
        size = 256 << 20
        arc = self.sparse_archive(size, [1 << 20, size - 512])
        self.assertLess(os.stat(arc).st_blocks * 512, 1 << 20)
        self.s.ok("import", arc, "sp")
        disk = self.s.path("sp", "disk.raw")
        st = os.stat(disk)
        self.assertEqual(st.st_size, size)
        self.assertLess(st.st_blocks * 512, 1 << 20, "the import allocated the zeros")
        with open(disk, "rb") as f:
            f.seek(1 << 20)
            self.assertEqual(f.read(512), b"DATA" * 128)
            f.seek(size - 512)
            self.assertEqual(f.read(512), b"DATA" * 128)
            f.seek(2 << 20)
            self.assertEqual(f.read(4096), b"\0" * 4096)
        # Exporting it again makes a sparse archive that imports the same.
        arc2 = os.path.join(self.s.root, "again.tar")
        self.s.ok("export", "sp", arc2)
        self.assertGreater(os.path.getsize(arc2), size)
        self.assertLess(os.stat(arc2).st_blocks * 512, 1 << 20, "the export wrote the zeros")
        self.s.ok("import", arc2, "sp2")
        self.assertEqual(readf(self.s.path("sp2", "disk.raw"), "rb"), readf(disk, "rb"))
        with tarfile.open(arc2) as t:  # still an archive tar(1) reads
            self.assertEqual(t.getnames(), ["vm.json", "k", "disk.raw"])
        # A header that claims more than the archive holds is refused at once.
        arc = self.sparse_archive(1 << 20, [0], claimed=4 << 30)
        self.assertIn("claims", self.hostile_file(arc))

    def hostile_file(self, arc, name="evil"):
        before = sorted(os.listdir(os.path.join(self.s.store, "vms")))
        p = self.s.wirt("import", arc, name)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertTrue(p.stderr.startswith("wirt vm: import"), p.stderr)
        self.assertEqual(sorted(os.listdir(os.path.join(self.s.store, "vms"))), before)
        return p.stderr

    def hostile(self, members, name="evil"):
        arc = os.path.join(self.s.root, "evil.tar")
        with tarfile.open(arc, "w", format=tarfile.USTAR_FORMAT) as t:
            for m in members:
                if isinstance(m, tarfile.TarInfo):
                    t.addfile(m)
                    continue
                mname, data = m
                ti = tarfile.TarInfo(mname)
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
        return self.hostile_file(arc, name)

    def test_import_rejects_hostile_archives(self):
        self.mkvm("existing")  # the store exists (list no longer makes it)
        cfg = {"kernel": "k", "disks": [{"file": "disk.qcow2"}]}
        j = json.dumps(cfg).encode()
        self.assertIn("first member", self.hostile([("k", b"x")]))
        self.assertIn("unexpected member", self.hostile([("vm.json", j), ("k", b"x"),
                                                         ("../../escape", b"x")]))
        self.assertIn("unexpected member", self.hostile([("vm.json", j), ("k", b"x"),
                                                         ("k", b"y")]))
        link = tarfile.TarInfo("k")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        self.assertIn("member type", self.hostile([("vm.json", j), link]))
        bad = json.dumps({"kernel": "../../x"}).encode()
        self.assertIn("kernel", self.hostile([("vm.json", bad)]))
        self.assertIn("lacks", self.hostile([("vm.json", j), ("k", b"x")]))
        # A qcow2 whose backing file is a host file.
        evil = os.path.join(self.s.root, "evil.qcow2")
        subprocess.run([WIRT, "img", "create", "-q", "-f", "qcow2", "-u", "-b", "/etc/passwd",
                        "-F", "raw", evil, "1M"], check=True)
        self.assertIn("backing file", self.hostile([("vm.json", j), ("k", b"x"),
                                                    ("disk.qcow2", readf(evil, "rb"))]))
        garbage = os.path.join(self.s.root, "garbage.tar")
        with open(garbage, "wb") as f:
            f.write(os.urandom(3000))
        p = self.s.wirt("import", garbage)
        one_error_line(self, p, "import")
        self.assertFalse(os.path.exists(os.path.join(self.s.root, "escape")))
        self.assertEqual([d for d in os.listdir(os.path.join(self.s.store, "vms"))
                          if d.startswith(".")], [])


@need_guest
class RunningVmTest(unittest.TestCase):
    """VMMs are started but the tests do not wait for the guest to boot."""

    def setUp(self):
        self.s = Store()
        self.s.ok("create", "vm1", "--from", "debian")

    def tearDown(self):
        self.s.close()

    def test_concurrent_starts_give_one_vmm(self):
        results = []

        def start():
            results.append(self.s.wirt("start", "vm1", timeout=60))

        threads = [threading.Thread(target=start) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(p.returncode for p in results)
        self.assertEqual(codes[0], 0, [p.stderr for p in results])
        self.assertTrue(all(c != 0 for c in codes[1:]), [p.stderr for p in results])
        for p in results:
            if p.returncode:
                self.assertRegex(p.stderr, r"^wirt vm: VM .vm1. is already running")
        time.sleep(1)
        self.assertEqual(len(self.s.vmm_pids("vm1")), 1)
        # Mutating commands refuse while it runs.
        one_error_line(self, self.s.wirt("set", "vm1", "cpus=2"), "running")
        one_error_line(self, self.s.wirt("delete", "vm1"), "running")
        # A running VM's snapshot includes its memory (the VMM takes it).
        self.s.ok("snapshot", "vm1", "create", "x", timeout=120)
        self.assertRegex(self.s.ok("snapshot", "vm1", "list").stdout, r"x\s+.*memory")
        one_error_line(self, self.s.wirt("start", "vm1"), "already running")
        self.s.ok("stop", "vm1", "--force")
        self.assertEqual(self.s.vmm_pids("vm1"), [])
        self.assertFalse(os.path.exists(self.s.path("vm1", "control.sock")))

    def test_stale_state_after_kill9_is_cleaned(self):
        self.s.ok("start", "vm1")
        pid = int(readf(self.s.path("vm1", "vmm.pid")))
        self.assertEqual(self.s.vmm_pids("vm1"), [pid])
        os.kill(pid, 9)
        for _ in range(50):
            if not os.path.exists("/proc/%d" % pid):
                break
            time.sleep(0.1)
        for f in ("vmm.pid", "control.sock", "serial.sock"):
            self.assertTrue(os.path.exists(self.s.path("vm1", f)), f)
        p = self.s.ok("list")
        self.assertIn("removed stale runtime files", p.stderr)
        self.assertRegex(p.stdout, r"vm1\s+stopped")
        for f in ("vmm.pid", "control.sock", "serial.sock"):
            self.assertFalse(os.path.exists(self.s.path("vm1", f)), f)
        # And it starts again.
        self.s.ok("start", "vm1")
        self.assertEqual(json.loads(self.s.ok("info", "vm1", "--json").stdout)["state"],
                         "running")
        self.s.ok("stop", "vm1", "--force")

    def test_start_hands_the_vmm_its_spec(self):
        """`start` writes run.json (owner-only) from vm.json and the VMM runs
        exactly that spec; the control socket returns it."""
        # `set` checks a net entry with the spec parser...
        one_error_line(self, self.s.wirt("set", "vm1", "net=user,hostfwd=tcp::0-:22"), "hostfwd")
        # ...and an entry an older wirt let into vm.json is named at start,
        # before any VMM runs.
        cfgpath = self.s.path("vm1", "vm.json")
        cfg = json.loads(readf(cfgpath))
        cfg["net"] = ["user,colour=red"]
        with open(cfgpath, "w") as f:
            json.dump(cfg, f)
        one_error_line(self, self.s.wirt("start", "vm1"), "vm.json net[0]: unknown option 'colour'")
        self.assertFalse(os.path.exists(self.s.path("vm1", "run.json")))
        self.assertEqual(self.s.vmm_pids("vm1"), [])
        self.s.ok("set", "vm1", "cpus=2", "net=user")
        self.s.ok("start", "vm1")
        path = self.s.path("vm1", "run.json")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        spec = json.loads(readf(path))
        self.assertEqual(spec["version"], 1)
        self.assertEqual(spec["cpus"], 2)
        self.assertEqual(spec["memory"], 512 << 20)
        self.assertEqual(spec["disks"][0]["path"], "disk.qcow2")
        self.assertEqual(spec["disks"][0]["format"], "qcow2")
        self.assertEqual(spec["nics"][0]["backend"], "user")
        self.assertEqual(spec["console"], {"mode": "detached", "serial-socket": "serial.sock",
                                           "serial-log": "console.log"})
        self.assertEqual((spec["control"], spec["pidfile"], spec["log"]),
                         ("control.sock", "vmm.pid", "vmm.log"))
        running = control(self.s, "vm1", '{"execute": "query-spec"}\n')[0]["return"]
        self.assertEqual(running, spec)
        self.s.ok("stop", "vm1", "--force")

    def test_control_protocol(self):
        self.s.ok("start", "vm1")
        r = control(self.s, "vm1", '{"execute": "query-status", "id": 7}\n')[0]
        self.assertEqual(r["id"], 7)
        st = r["return"]
        self.assertEqual(st["status"], "running")
        self.assertEqual(st["memory"], 512 << 20)
        self.assertEqual(st["cpus"], 1)
        self.assertGreaterEqual(st["uptime"], 0)
        # Hostile input: every line gets an error reply, the VMM survives.
        replies = control(self.s, "vm1", '{"execute": \n[1,2]\n{"execute": 5}\n'
                          '{"execute": "launch-missiles"}\n{"a":1} extra\n\x00\xff\n'
                          '{"execute": "query-status", "arguments": 3}\n')
        classes = [r["error"]["class"] for r in replies]
        self.assertEqual(classes, ["ParseError", "InvalidRequest", "InvalidRequest",
                                   "CommandNotFound", "ParseError", "ParseError",
                                   "InvalidRequest"])
        deep = "[" * 5000 + "]" * 5000 + "\n"
        self.assertIn("error", control(self.s, "vm1", deep)[0])
        longline = '{"execute": "' + "x" * 10000 + '"}\n'
        r = control(self.s, "vm1", longline)[0]
        self.assertIn("too long", r["error"]["desc"])
        # Pause and resume.
        self.assertEqual(control(self.s, "vm1", '{"execute":"pause"}\n')[0], {"return": {}})
        self.assertEqual(control(self.s, "vm1", '{"execute":"query-status"}\n')[0]
                         ["return"]["status"], "paused")
        self.assertRegex(self.s.ok("list").stdout, r"vm1\s+paused")
        # query-cpus: a paused hart's counters stand still; a running one's move.
        cpus = control(self.s, "vm1", '{"execute":"query-cpus"}\n')[0]["return"]
        self.assertEqual([(c["id"], c["engine"]) for c in cpus], [(0, "soft")])
        self.assertGreater(cpus[0]["instructions"], 1000)
        time.sleep(0.2)
        self.assertEqual(control(self.s, "vm1", '{"execute":"query-cpus"}\n')[0]["return"], cpus)
        self.assertEqual(control(self.s, "vm1", '{"execute":"powerdown"}\n')[0]["error"]
                         ["class"], "InvalidState")
        control(self.s, "vm1", '{"execute":"resume"}\n')
        time.sleep(0.2)
        later = control(self.s, "vm1", '{"execute":"query-cpus"}\n')[0]["return"]
        self.assertGreater(later[0]["instructions"], cpus[0]["instructions"])
        self.assertEqual(control(self.s, "vm1", '{"execute":"query-status"}\n')[0]
                         ["return"]["status"], "running")
        self.assertIn("reset", control(self.s, "vm1", '{"execute":"query-commands"}\n')[0]
                      ["return"])
        self.assertEqual(control(self.s, "vm1", '{"execute":"reset"}\n')[0], {"return": {}})
        self.assertEqual(len(self.s.vmm_pids("vm1")), 1)
        # quit: the VMM exits and removes its runtime files.
        self.assertEqual(control(self.s, "vm1", '{"execute":"quit"}\n')[0], {"return": {}})
        for _ in range(100):
            if not self.s.vmm_pids("vm1"):
                break
            time.sleep(0.1)
        self.assertEqual(self.s.vmm_pids("vm1"), [])
        for f in ("vmm.pid", "control.sock", "serial.sock"):
            self.assertFalse(os.path.exists(self.s.path("vm1", f)), f)

    def test_console_log_is_bounded_and_replayed(self):
        log = self.s.path("vm1", "console.log")
        with open(log, "wb") as f:
            f.write(b"x" * ((1 << 20) - 64))
        self.s.ok("start", "vm1")
        for _ in range(600):
            if os.path.exists(log + ".1"):
                break
            time.sleep(0.1)
        self.assertTrue(os.path.exists(log + ".1"), "console.log was not rotated")
        self.assertLessEqual(os.path.getsize(log + ".1"), 1 << 20)
        time.sleep(1)
        self.assertLess(os.path.getsize(log), 1 << 20)
        # Attaching replays the tail of the log first.
        import socket
        c = socket.socket(socket.AF_UNIX)
        c.connect(self.s.path("vm1", "serial.sock"))
        c.settimeout(2)
        got = c.recv(8192)
        c.close()
        self.assertGreater(len(got), 64)
        # The tail (not the whole 4+ KiB log), possibly followed by new output.
        text = readf(log, "rb")
        self.assertGreater(len(text), 4096)
        self.assertIn(got[:64], text[-8192:])
        self.assertNotEqual(text.find(got[:64]), 0)

    # -- issue 9: the control plane ------------------------------------------

    def test_runtime_files_are_owner_only_whatever_the_umask(self):
        old = os.umask(0)
        try:
            self.s.ok("start", "vm1")
        finally:
            os.umask(old)
        for f in ("control.sock", "serial.sock", "console.log", "vmm.log", "vmm.pid", "lock",
                  "vm.json", "disk.qcow2"):
            mode = stat.S_IMODE(os.stat(self.s.path("vm1", f)).st_mode)
            self.assertEqual(mode & 0o077, 0, "%s is %o" % (f, mode))
        self.assertEqual(stat.S_IMODE(os.stat(self.s.vmdir("vm1")).st_mode), 0o700)
        self.s.ok("stop", "vm1", "--force")

    def need_another_user(self):
        if os.geteuid() != 0 or \
                subprocess.run(["setpriv", "--version"], capture_output=True).returncode != 0:
            self.skipTest("needs root and setpriv to act as another user")

    def as_nobody(self, code):
        """Runs python code as user nobody; returns its stdout."""
        p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            "/usr/bin/python3", "-c", code], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.strip()

    NOBODY_CONNECT = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
try:
    s.connect(sys.argv[1] if len(sys.argv) > 1 else %r)
except OSError as e:
    print("connect-error", e.errno); sys.exit(0)
data = b""
try:
    # A refusing server speaks first and closes; a trusting one waits
    # for the request (then it gets it).
    while True:
        c = s.recv(4096)
        if not c:
            break
        data += c
except socket.timeout:
    try:
        s.sendall(b'{"execute":"quit"}\\n')
        data += s.recv(4096)
    except OSError:
        pass
except OSError:
    pass
print("reply", data.decode(errors="replace").strip())
"""

    def open_up(self):
        """What a careless umask or admin could do: every directory on the
        way and both sockets world-accessible.  The VMM must still refuse."""
        d = self.s.vmdir("vm1")
        while True:
            os.chmod(d, 0o755)
            if d == self.s.root:
                break
            d = os.path.dirname(d)
        os.chmod(self.s.path("vm1", "control.sock"), 0o666)
        os.chmod(self.s.path("vm1", "serial.sock"), 0o666)

    def test_other_users_are_refused(self):
        self.need_another_user()
        self.s.ok("start", "vm1")
        ctl = self.s.path("vm1", "control.sock")
        # As created: nobody cannot even reach the socket.
        self.assertTrue(self.as_nobody(self.NOBODY_CONNECT % ctl).startswith("connect-error"))
        # Opened up: the peer-credential check refuses it.
        self.open_up()
        out = self.as_nobody(self.NOBODY_CONNECT % ctl)
        self.assertIn("PermissionDenied", out)
        time.sleep(0.5)
        self.assertEqual(len(self.s.vmm_pids("vm1")), 1, "a stranger's quit was obeyed")
        # The serial console: the owner stays attached, the stranger gets nothing.
        import socket
        owner = socket.socket(socket.AF_UNIX)
        owner.connect(self.s.path("vm1", "serial.sock"))
        owner.settimeout(1)
        out = self.as_nobody(self.NOBODY_CONNECT.replace("quit", "x") %
                             self.s.path("vm1", "serial.sock"))
        self.assertIn("only the VMM's user and root", out)
        seen = b""
        try:
            while True:
                c = owner.recv(65536)
                if not c:
                    break
                seen += c
        except socket.timeout:
            pass
        self.assertNotIn(b"another console attached", seen)
        owner.sendall(b"\n")  # still connected
        owner.close()
        self.assertIn("refused a connection from uid 65534", readf(self.s.path("vm1", "vmm.log")))
        self.s.ok("stop", "vm1", "--force")

    def test_control_events_and_jobs(self):
        self.s.ok("start", "vm1", env={"WIRT_CONTROL_DEBUG": "1"})
        sub = ControlClient(self.s, "vm1")
        ctl = ControlClient(self.s, "vm1")
        try:
            r = sub.execute("subscribe", {"events": ["paused", "resumed", "job-completed"]})
            self.assertEqual(r["return"]["events"], ["paused", "resumed", "job-completed"])
            self.assertEqual(ctl.execute("pause"), {"return": {}})
            self.assertEqual(sub.event("paused")["event"], "paused")
            self.assertEqual(ctl.execute("resume"), {"return": {}})
            self.assertEqual(sub.event("resumed")["event"], "resumed")
            # `wirt vm` itself still works next to a subscriber.
            self.assertEqual(json.loads(self.s.ok("info", "vm1", "--json").stdout)["state"],
                             "running")
            # A job runs to completion, reporting progress to who asked for it.
            ctl.execute("subscribe", {"events": ["job-progress", "job-completed"]})
            job = ctl.execute("debug-sleep", {"steps": 3, "step-ms": 50})["return"]["job"]
            steps = [ctl.event("job-progress", lambda d: d["id"] == job)["data"]["done"]
                     for _ in range(3)]
            self.assertEqual(steps, [1, 2, 3])
            done = ctl.event("job-completed", lambda d: d["id"] == job)["data"]
            self.assertEqual(done["status"], "completed")
            self.assertEqual(sub.event("job-completed")["data"]["id"], job)
            # A long one is cancelled.
            long = ctl.execute("debug-sleep", {"steps": 100, "step-ms": 1000})["return"]["job"]
            self.assertEqual(ctl.execute("job-status", {"id": long})["return"]["status"],
                             "running")
            self.assertEqual(ctl.execute("job-cancel", {"id": long}), {"return": {}})
            self.assertEqual(ctl.event("job-completed", lambda d: d["id"] == long)
                             ["data"]["status"], "cancelled")
            jobs = {j["id"]: j["status"] for j in ctl.execute("jobs")["return"]}
            self.assertEqual(jobs, {job: "completed", long: "cancelled"})
            # Power-off reaches the subscribers before the VMM exits.
            sub.execute("subscribe", {"events": ["powered-off"]})
            self.assertIn("return", ctl.execute("quit"))
            self.assertEqual(sub.event("powered-off")["event"], "powered-off")
        finally:
            sub.close()
            ctl.close()
        for _ in range(100):
            if not self.s.vmm_pids("vm1"):
                break
            time.sleep(0.1)
        # Without the debug switch the test-only job does not exist.
        self.s.ok("start", "vm1")
        self.assertEqual(control(self.s, "vm1", '{"execute":"debug-sleep"}\n')[0]["error"]
                         ["class"], "CommandNotFound")
        self.s.ok("stop", "vm1", "--force")

    def test_idle_clients_do_not_lock_out_the_owner(self):
        import socket
        self.s.ok("start", "vm1")
        idle = []
        for _ in range(24):
            c = socket.socket(socket.AF_UNIX)
            c.connect(self.s.path("vm1", "control.sock"))
            idle.append(c)
        time.sleep(0.5)
        info = json.loads(self.s.ok("info", "vm1", "--json").stdout)
        self.assertEqual(info["state"], "running")
        p = self.s.ok("stop", "vm1", "--force")
        self.assertIn("powered off VM 'vm1'", p.stdout)  # through quit, not SIGKILL
        for c in idle:
            c.close()

    def test_idle_and_trickling_clients_time_out(self):
        import socket
        self.s.ok("start", "vm1")
        idle = socket.socket(socket.AF_UNIX)
        idle.connect(self.s.path("vm1", "control.sock"))
        slow = socket.socket(socket.AF_UNIX)
        slow.connect(self.s.path("vm1", "control.sock"))
        slow.sendall(b'{"exec')
        for s in (idle, slow):
            s.setblocking(False)
        closed = {}
        start = time.monotonic()
        while len(closed) < 2 and time.monotonic() - start < 45:
            if "slow" not in closed:
                try:
                    slow.send(b" ")  # bytes, but never the end of the line
                except OSError:
                    closed["slow"] = time.monotonic() - start
            for name, s in (("idle", idle), ("slow", slow)):
                if name in closed:
                    continue
                try:
                    data = s.recv(4096)
                    if not data or b"Timeout" in data:
                        closed[name] = time.monotonic() - start
                except BlockingIOError:
                    pass
                except OSError:
                    closed[name] = time.monotonic() - start
            time.sleep(1)
        self.assertIn("idle", closed, "an idle client is never dropped")
        self.assertIn("slow", closed, "a line that never ends keeps its client forever")
        for t in closed.values():
            self.assertGreater(t, 25)
        # The VMM still answers.
        self.assertEqual(control(self.s, "vm1", '{"execute":"query-status"}\n')[0]["return"]
                         ["status"], "running")
        self.s.ok("stop", "vm1", "--force")

    def test_vmm_log_is_rotated_while_running(self):
        self.need_another_user()
        log = self.s.path("vm1", "vmm.log")
        limit = 4 << 20
        with open(log, "wb") as f:
            f.write(b"old line\n" * ((limit - 512) // 9))
        self.s.ok("start", "vm1")
        pid = int(readf(self.s.path("vm1", "vmm.pid")))
        self.assertFalse(os.path.exists(log + ".1"))
        # Refused connections are logged: enough of them to pass the limit.
        self.open_up()
        self.as_nobody("""
import socket
for _ in range(60):
    s = socket.socket(socket.AF_UNIX)
    s.connect(%r)
    s.recv(4096)
    s.close()
""" % self.s.path("vm1", "control.sock"))
        time.sleep(0.5)
        self.assertTrue(os.path.exists(log + ".1"), "vmm.log was not rotated while running")
        self.assertLessEqual(os.path.getsize(log + ".1"), limit)
        self.assertLess(os.path.getsize(log), 64 << 10)
        self.assertIn("refused a connection", readf(log))
        # The VMM's own stdout/stderr moved to the new file too.
        for fd in (1, 2):
            self.assertEqual(os.readlink("/proc/%d/fd/%d" % (pid, fd)), os.path.realpath(log))
        self.s.ok("stop", "vm1", "--force")

    def run_on_pty(self, args, keys, timeout=30):
        """Runs wirt vm ARGS on a pseudo-terminal, types keys after the
        attach banner; returns (exit status, transcript)."""
        import pty
        import select
        master, slave = pty.openpty()
        proc = subprocess.Popen([WIRT, "vm", "--store", self.s.store] + args, stdin=slave,
                                stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        out = b""
        sent = False
        end = time.monotonic() + timeout
        try:
            while time.monotonic() < end:
                r, _, _ = select.select([master], [], [], 0.2)
                if r:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:
                        break
                    if not chunk:
                        break
                    out += chunk
                if not sent and b"Ctrl-] detaches" in out:
                    time.sleep(0.3)
                    os.write(master, keys)
                    sent = True
                if proc.poll() is not None and not r:
                    break
            status = proc.wait(timeout=5)
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(master)
        return status, out.decode("utf-8", "replace")

    def test_console_detaches_on_ctrl_bracket(self):
        status, out = self.run_on_pty(["start", "vm1", "--console"], b"\x1d")
        self.assertEqual(status, 0, out)
        self.assertIn("started VM 'vm1'", out)
        self.assertIn("detached from 'vm1'", out)
        self.assertEqual(len(self.s.vmm_pids("vm1")), 1)  # still running
        time.sleep(2)  # some console output to replay
        status, out = self.run_on_pty(["console", "vm1"], b"\x1d")
        self.assertEqual(status, 0, out)
        self.assertRegex(out, r"\[\s*\d+\.\d+\] ")  # the replayed log tail (kernel lines)
        self.assertIn("detached from 'vm1'", out)
        self.assertEqual(len(self.s.vmm_pids("vm1")), 1)
        self.s.ok("stop", "vm1", "--force")
        one_error_line(self, self.s.wirt("console", "vm1"), "not running")

    def test_restart_force_gives_a_new_vmm(self):
        self.s.ok("start", "vm1")
        pid1 = int(readf(self.s.path("vm1", "vmm.pid")))
        p = self.s.ok("restart", "vm1", "--force")
        self.assertIn("powered off VM 'vm1'", p.stdout)
        self.assertIn("started VM 'vm1'", p.stdout)
        pid2 = int(readf(self.s.path("vm1", "vmm.pid")))
        self.assertNotEqual(pid1, pid2)
        self.assertEqual(self.s.vmm_pids("vm1"), [pid2])
        # restart of a stopped VM just starts it.
        self.s.ok("stop", "vm1", "--force")
        self.s.ok("restart", "vm1")
        self.assertEqual(len(self.s.vmm_pids("vm1")), 1)
        self.s.ok("stop", "vm1", "--force")
        one_error_line(self, self.s.wirt("restart", "vm1", "--timeout", "x"), "--timeout")

    def test_sigterm_powers_off_cleanly(self):
        self.s.ok("start", "vm1")
        pid = int(readf(self.s.path("vm1", "vmm.pid")))
        os.kill(pid, 15)
        for _ in range(100):
            if not self.s.vmm_pids("vm1"):
                break
            time.sleep(0.1)
        self.assertEqual(self.s.vmm_pids("vm1"), [])
        for f in ("vmm.pid", "control.sock", "serial.sock"):
            self.assertFalse(os.path.exists(self.s.path("vm1", f)), f)
        p = self.s.ok("list")
        self.assertNotIn("stale", p.stderr)

    def test_stop_before_the_guest_is_ready_needs_force(self):
        self.s.ok("start", "vm1")
        p = self.s.wirt("stop", "vm1", "--timeout", "1")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--force", p.stderr)
        self.assertEqual(len(self.s.vmm_pids("vm1")), 1)
        self.s.ok("stop", "vm1", "--force")
        self.assertEqual(self.s.vmm_pids("vm1"), [])


if __name__ == "__main__":
    unittest.main()
