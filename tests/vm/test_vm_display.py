# SPDX-License-Identifier: MIT
"""`wirt vm` with a display: create --display vnc, start makes the VM's
VNC password (VMDIR/vnc.passwd, 0600), `wirt vm info` names the endpoint,
a real VNC client (libvncclient) gets in with that password and not
without it, `wirt vm screenshot` writes a PNG; display settings are
checked and change only while the VM is stopped."""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "guest"))
from vmlib import WIRT, Store, have_guest, wait_ready  # noqa: E402
import test_display  # noqa: E402


@unittest.skipUnless(have_guest() and os.access(WIRT, os.X_OK),
                     "default guest or build/wirt missing")
class VmDisplayTest(unittest.TestCase):
    def setUp(self):
        self.s = Store()

    def tearDown(self):
        self.s.close()

    def test_bad_display_settings(self):
        s = self.s
        p = s.wirt("create", "x", "--from", "debian", "--display", "vga")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--display", p.stderr)
        s.ok("create", "x", "--from", "debian")
        p = s.wirt("set", "x", "display=vnc=1.2.3:5")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("display", p.stderr)
        s.ok("set", "x", "display=gpu")
        self.assertEqual(json.loads(s.ok("info", "x", "--json").stdout)["display"], "gpu")
        s.ok("set", "x", "display=none")
        self.assertNotIn("display", json.loads(s.ok("info", "x", "--json").stdout))

    @unittest.skipUnless(test_display.guest_has_display_modules(),
                         "the default guest predates the display modules")
    def test_vnc_password_info_and_screenshot(self):
        s = self.s
        client = test_display.build_client(s.root)
        if not client:
            self.skipTest("libvncclient missing")
        s.ok("create", "d", "--from", "debian", "--display", "vnc")
        s.ok("start", "d")
        wait_ready(s, "d")
        pwfile = s.path("d", "vnc.passwd")
        self.assertEqual(os.stat(pwfile).st_mode & 0o777, 0o600)
        with open(pwfile) as f:
            password = f.read().strip()
        self.assertRegex(password, r"^[A-Za-z0-9]{8}$")
        info = json.loads(s.ok("info", "d", "--json").stdout)
        self.assertEqual(info["vnc"]["password-file"], pwfile)
        host, port = info["vnc"]["address"].rsplit(":", 1)
        self.assertEqual(host, "127.0.0.1")
        self.assertIn("vnc:        127.0.0.1:%s" % port, s.ok("info", "d").stdout)
        out = os.path.join(s.root, "shot.ppm")
        # The guest's fbdev may come up after its ready marker (under load):
        # until then the server shows a blank 640x480.
        deadline = time.monotonic() + 300
        while True:
            r = subprocess.run([client, host, port, "-p", password, "-o", out],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            if "width 1024 height 768" in r.stdout or time.monotonic() > deadline:
                break
            time.sleep(2)
        self.assertIn("width 1024 height 768", r.stdout)
        r = subprocess.run([client, host, port, "-p", "wrong"], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 2)
        png = os.path.join(s.root, "screen.png")
        s.ok("screenshot", "d", png)
        w, h, _ = test_display.png_pixels(png)
        self.assertEqual((w, h), (1024, 768))
        p = s.wirt("screenshot", "d", os.path.join(s.root, "no", "such", "dir.png"))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("screenshot:", p.stderr)
        p = s.wirt("set", "d", "display=gpu")
        self.assertNotEqual(p.returncode, 0)
        s.ok("stop", "d", "--force")
        p = s.wirt("screenshot", "d", png)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("not running", p.stderr)


if __name__ == "__main__":
    unittest.main()
