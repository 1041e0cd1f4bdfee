# SPDX-License-Identifier: MIT
"""The graphical display on the default guest: Linux's virtio_gpu driver
binds (/sys/class/drm/card0, /dev/fb0) and the keyboard and tablet appear;
what the guest draws on /dev/fb0 reaches `screendump` (PNG) and a real VNC
client (libvncclient, tests/guest/vnc_capture.c), which must give the
VM's password (a wrong one is refused); a key typed and a click made in
the VNC client arrive as evdev events in the guest."""
import hashlib
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def control(path, cmd, args=None):
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(60)
    c.connect(path)
    req = {"execute": cmd}
    if args is not None:
        req["arguments"] = args
    c.sendall((json.dumps(req) + "\n").encode())
    r = json.loads(c.makefile().readline())
    c.close()
    return r


def png_pixels(path):
    """(width, height, SHA-256 of the raw RGB rows with filter bytes) of an
    8-bit RGB PNG (a digest keeps failure messages short)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    return w, h, hashlib.sha256(zlib.decompress(idat)).hexdigest()


def png_rows_differing(a, b):
    """How many rows (of filtered scanline bytes) differ between two
    same-size 8-bit RGB PNGs; a change can spread to the next row through
    the PNG filters."""
    rows = []
    for path in (a, b):
        with open(path, "rb") as f:
            data = f.read()
        pos, idat, w = 8, b"", 0
        while pos < len(data):
            n, kind = struct.unpack(">I4s", data[pos:pos + 8])
            if kind == b"IHDR":
                w = struct.unpack(">I", data[pos + 8:pos + 12])[0]
            elif kind == b"IDAT":
                idat += data[pos + 8:pos + 8 + n]
            pos += 12 + n
        raw, stride = zlib.decompress(idat), 1 + 3 * w
        rows.append([raw[i:i + stride] for i in range(0, len(raw), stride)])
    return sum(1 for x, y in zip(*rows) if x != y) + abs(len(rows[0]) - len(rows[1]))


def wait_screen(g, ctl, timeout=300):
    """Until the guest's fbdev is up (/dev/fb0 a device: before that, a
    write would create a plain file there) and showing (a mode on the
    device): under load that may come after the ready marker."""
    deadline = time.monotonic() + timeout
    while g.run("test -c /dev/fb0 && echo yes || echo no") != "yes" or \
            control(ctl, "query-display")["return"]["width"] == 0:
        if time.monotonic() > deadline:
            raise AssertionError("no screen: /dev/fb0 %s, %s" % (
                g.run("ls -l /dev/fb0 2>&1 || true"), control(ctl, "query-display")))
        time.sleep(1)


def build_client(d):
    exe = os.path.join(d, "vnc_capture")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libvncclient"],
                           capture_output=True, text=True)
    if flags.returncode != 0:
        return None
    r = subprocess.run(["cc", "-O1", "-o", exe, os.path.join(HERE, "vnc_capture.c")] +
                       flags.stdout.split(), capture_output=True, text=True)
    return exe if r.returncode == 0 else None


def guest_has_display_modules():
    try:
        with open(guestlib.guest_file("VERSION")) as f:
            return "virtio-gpu" in f.read()
    except OSError:
        return False


@unittest.skipUnless(guestlib.have_guest() and os.access(guestlib.wirt_bin(), os.X_OK),
                     "default guest or build/wirt missing")
@unittest.skipUnless(guest_has_display_modules(),
                     "the default guest predates the display modules (run tools/fetch-guest.sh)")
class DisplayTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wirt-display-")
        self.client = build_client(self.dir)
        if not self.client:
            self.skipTest("libvncclient (libvncserver-dev) missing")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def capture(self, port, password, out, extra=()):
        return subprocess.run([self.client, "127.0.0.1", str(port), "-p", password, "-o", out] +
                              list(extra), capture_output=True, text=True, timeout=120)

    def test_display_vnc_screendump_and_input(self):
        ctl = os.path.join(self.dir, "c.sock")
        pwfile = os.path.join(self.dir, "vnc.passwd")
        password = "s3cret%d" % random.randrange(10)
        with open(pwfile, "w") as f:
            f.write(password + "\n")
        port = random.randrange(20000, 30000)
        argv = guestlib.wirt_argv(extra=["--display", "vnc=127.0.0.1:%d" % port,
                                         "--vnc-password-file", pwfile, "--control", ctl])
        with guestlib.Guest(argv) as g:
            g.wait_ready()
            wait_screen(g, ctl)
            self.assertEqual(g.run("test -e /sys/class/drm/card0 && test -c /dev/fb0 && echo yes"),
                             "yes")
            names = g.run("grep Name= /proc/bus/input/devices")
            self.assertIn("wirt keyboard", names)
            self.assertIn("wirt tablet", names)
            self.assertEqual(g.run("cat /sys/class/graphics/fb0/virtual_size"), "1024,768")
            # The EDID (VIRTIO_GPU_F_EDID) names the offered mode first.
            self.assertEqual(g.run("wc -c < /sys/class/drm/card0-Virtual-1/edid"), "128")
            self.assertEqual(g.run("head -1 /sys/class/drm/card0-Virtual-1/modes"), "1024x768")
            # The screen as the console left it.
            st = control(ctl, "query-display")["return"]
            self.assertEqual((st["width"], st["height"]), (1024, 768))
            a = os.path.join(self.dir, "a.png")
            self.assertEqual(control(ctl, "screendump", {"filename": a}), {"return": {}})
            self.assertEqual(os.stat(a).st_mode & 0o777, 0o600)
            w, h, pix_a = png_pixels(a)
            self.assertEqual((w, h), (1024, 768))
            r1 = self.capture(port, password, os.path.join(self.dir, "1.ppm"))
            self.assertEqual(r1.returncode, 0, r1.stderr)
            self.assertIn("width 1024 height 768", r1.stdout)
            # A wrong password gets nothing.
            bad = self.capture(port, password + "x", os.path.join(self.dir, "bad.ppm"))
            self.assertEqual(bad.returncode, 2, bad.stdout + bad.stderr)
            self.assertFalse(os.path.exists(os.path.join(self.dir, "bad.ppm")))
            # The guest draws: noise over the top 300 rows of the framebuffer.
            g.run("dd if=/dev/urandom of=/dev/fb0 bs=4096 count=300 2>/dev/null")
            deadline = time.monotonic() + 60
            while True:
                b = os.path.join(self.dir, "b.png")
                control(ctl, "screendump", {"filename": b})
                if png_pixels(b)[2] != pix_a or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            self.assertNotEqual(png_pixels(b)[2], pix_a)
            r2 = self.capture(port, password, os.path.join(self.dir, "2.ppm"))
            self.assertEqual(r2.returncode, 0, r2.stderr)
            with open(os.path.join(self.dir, "1.ppm"), "rb") as f1, \
                    open(os.path.join(self.dir, "2.ppm"), "rb") as f2:
                self.assertNotEqual(f1.read(), f2.read())
            # Input: 'a' from the VNC client arrives as KEY_A (30) on the
            # keyboard, a click as BTN_LEFT (0x110) on the tablet.
            g.run("for i in 0 1; do cat /dev/input/event$i > /tmp/ev$i & done")
            r = self.capture(port, password, os.path.join(self.dir, "3.ppm"),
                             ["-k", "0x61", "-m", "512,384", "-s", "1"])
            self.assertEqual(r.returncode, 0, r.stderr)
            deadline = time.monotonic() + 30
            while True:
                kbd = g.run("od -An -tx2 -v /tmp/ev0 | tr -s ' \\n' ' '")
                tab = g.run("od -An -tx2 -v /tmp/ev1 | tr -s ' \\n' ' '")
                if ("0001 001e 0001" in kbd and "0001 0110 0001" in tab) or \
                        time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            self.assertIn("0001 001e 0001", kbd)  # EV_KEY KEY_A down
            self.assertIn("0001 001e 0000", kbd)  # and up
            self.assertIn("0001 0110 0001", tab)  # EV_KEY BTN_LEFT down
            self.assertIn("0003 0000 400f", tab)  # EV_ABS ABS_X: 512 of 1023 wide
            g.poweroff()

    def test_saved_state_keeps_the_screen(self):
        """A saved and restored machine shows the same screen at once (the
        resources travel in the device state), and the guest draws on."""
        ctl = os.path.join(self.dir, "c.sock")
        state = os.path.join(self.dir, "vm.state")
        with guestlib.Guest(guestlib.wirt_argv(extra=["--display", "gpu", "--control", ctl])) as g:
            g.wait_ready()
            wait_screen(g, ctl)
            blank = os.path.join(self.dir, "blank.png")
            control(ctl, "screendump", {"filename": blank})
            g.run("dd if=/dev/urandom of=/dev/fb0 bs=4096 count=200 2>/dev/null")
            a = os.path.join(self.dir, "a.png")
            deadline = time.monotonic() + 60
            while True:
                control(ctl, "screendump", {"filename": a})
                if png_pixels(a)[2] != png_pixels(blank)[2] or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            time.sleep(1)  # the last flush of the fbdev worker
            # A still screen (fbcon's cursor blinks): the harts stop first.
            self.assertEqual(control(ctl, "pause"), {"return": {}})
            control(ctl, "screendump", {"filename": a})
            self.assertGreater(png_rows_differing(blank, a), 150)  # the noise is there
            r = control(ctl, "save", {"file": state, "quit": True})
            self.assertIn("return", r)
            g.wait_exit(120)
        ctl2 = os.path.join(self.dir, "c2.sock")
        with guestlib.Guest(guestlib.wirt_argv(extra=["--display", "gpu", "--control", ctl2,
                                                      "--restore", state])) as g:
            b = os.path.join(self.dir, "b.png")
            for _ in range(100):
                if os.path.exists(ctl2):
                    break
                time.sleep(0.1)
            self.assertEqual(control(ctl2, "screendump", {"filename": b}), {"return": {}})
            # The same picture: 200 rows of noise and the console, but for
            # what the guest did between the save and now (its cursor
            # blinks; a transfer it had not flushed yet shows): a text
            # line at most.  A screen lost on the way would differ in
            # hundreds of rows.
            self.assertEqual(png_pixels(b)[:2], (1024, 768))
            self.assertLessEqual(png_rows_differing(a, b), 40)
            if control(ctl2, "query-status")["return"]["status"] == "paused":
                control(ctl2, "resume")
            g.sendline("")
            g.run("dd if=/dev/urandom of=/dev/fb0 bs=4096 count=200 2>/dev/null")
            deadline = time.monotonic() + 60
            while True:
                control(ctl2, "screendump", {"filename": b})
                if png_pixels(b)[2] != png_pixels(a)[2] or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            self.assertNotEqual(png_pixels(b)[2], png_pixels(a)[2])
            g.poweroff()

    def test_stuck_vnc_client_never_stalls_the_guest(self):
        """A VNC client that asks for updates and then never reads fills
        its socket; the guest keeps running and drawing, and other clients
        and screendump still see the screen."""
        ctl = os.path.join(self.dir, "c.sock")
        port = random.randrange(30000, 40000)
        argv = guestlib.wirt_argv(extra=["--display", "vnc=127.0.0.1:%d" % port,
                                         "--control", ctl])
        with guestlib.Guest(argv) as g:
            g.wait_ready()
            wait_screen(g, ctl)
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            self.assertEqual(s.recv(12), b"RFB 003.008\n")
            s.sendall(b"RFB 003.008\n")
            self.assertEqual(s.recv(2), b"\x01\x01")  # one type: none (no password file)
            s.sendall(b"\x01")
            self.assertEqual(s.recv(4), b"\0\0\0\0")
            s.sendall(b"\x01")  # ClientInit, shared
            s.recv(24)
            # Raw encoding only, then many full-screen update requests.
            s.sendall(struct.pack(">BxHi", 2, 1, 0))
            s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, 1024, 768) * 200)
            before = control(ctl, "query-display")["return"]["updates"]
            # The guest draws noise for a while: megabytes the client never reads.
            g.run("(for i in 1 2 3 4 5 6 7 8; do dd if=/dev/urandom of=/dev/fb0 bs=4096 "
                  "count=768 2>/dev/null; done; echo drawn > /tmp/drawn) & true")
            t0 = time.monotonic()
            self.assertEqual(g.run("echo alive"), "alive")
            deadline = time.monotonic() + 120
            while g.run("cat /tmp/drawn 2>/dev/null || true") != "drawn":
                self.assertLess(time.monotonic(), deadline, "the guest stopped drawing")
                time.sleep(0.5)
            self.assertLess(time.monotonic() - t0, 120)
            # The device took the guest's flushes all along (the fb's
            # deferred I/O may merge the 8 writes into fewer flushes).
            st = control(ctl, "query-display")["return"]
            self.assertGreaterEqual(st["updates"] - before, 1, st)
            # Another client gets the screen meanwhile (the stuck one is
            # dropped after 5 s at most).
            r = subprocess.run([self.client, "127.0.0.1", str(port)], capture_output=True,
                               text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("width 1024 height 768", r.stdout)
            s.close()
            g.poweroff()

    def test_bad_display_options(self):
        for args, msg in ((["--display", "vga"], "--display vga: expected"),
                          (["--display", "vnc=0.0.0.0:5900"], "needs a password file"),
                          (["--display", "vnc=127.0.0.1:99999"], "expected ADDR:PORT"),
                          (["--display", "vnc=localhost:5900"], "expected ADDR:PORT")):
            r = subprocess.run(guestlib.wirt_argv(extra=args), capture_output=True, text=True,
                               timeout=60)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn(msg, r.stderr, args)


if __name__ == "__main__":
    unittest.main()
