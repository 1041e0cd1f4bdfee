#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The graphical display over VNC, wirt against QEMU on the same guest.

Both boot the default guest (same kernel, initramfs with the virtio-gpu
and virtio-input modules, firmware, 512M) with a virtio-gpu, keyboard and
tablet: wirt with `--display vnc=127.0.0.1:PORT`, QEMU with
`-device virtio-gpu-device ... -vnc 127.0.0.1:N`.  In the guest a loop
copies two prepared frames in turn to /dev/fb0 (the top ROWS rows of the
1024x768 screen; the kernel's fbdev emulation flushes them to the
virtio-gpu).  One VNC client (tests/guest/vnc_capture.c, libvncclient,
the same encodings for both) watches for SECONDS through a TCP proxy that
counts the bytes: frames per second (framebuffer updates that carried
pixels) and bandwidth (bytes from the server), and the guest's own rate
of frames written.  Prints the figures and the ratios wirt/qemu.

Usage: bench/display_bench.py [--seconds S] [--rows N] [--build DIR] [--vmm wirt,qemu]
"""
import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
import guestlib  # noqa: E402
import test_display  # noqa: E402

PASSWORD = "benchpw1"


class CountingProxy:
    """127.0.0.1:port -> target, counting the bytes the server sends."""

    def __init__(self, target_port):
        self.target = target_port
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.down = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _pipe(self, a, b, count):
        try:
            while True:
                data = a.recv(1 << 16)
                if not data:
                    break
                if count:
                    self.down += len(data)
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _serve(self):
        c, _ = self.lsock.accept()
        s = socket.create_connection(("127.0.0.1", self.target))
        threading.Thread(target=self._pipe, args=(s, c, True), daemon=True).start()
        self._pipe(c, s, False)


def argv_for(vmm, wirt, port, pwfile):
    if vmm == "qemu":
        # QEMU's VNC password is set on its monitor (below).
        # Modern virtio-mmio, as wirt's (QEMU's virt board defaults to
        # legacy, which the virtio_gpu driver refuses).
        return guestlib.qemu_argv(extra=[
            "-global", "virtio-mmio.force-legacy=false", "-device", "virtio-gpu-device", "-device", "virtio-keyboard-device",
            "-device", "virtio-tablet-device",
            "-vnc", "127.0.0.1:%d,password=on" % (port - 5900),
            "-monitor", "unix:%s.mon,server,nowait" % pwfile])
    return [wirt, "run", "--display", "vnc=127.0.0.1:%d" % port, "--vnc-password-file", pwfile]


def qemu_set_password(mon):
    for _ in range(100):
        try:
            c = socket.socket(socket.AF_UNIX)
            c.connect(mon)
            break
        except OSError:
            time.sleep(0.1)
    c.settimeout(5)
    time.sleep(0.3)
    c.sendall(("change vnc password %s\n" % PASSWORD).encode())
    time.sleep(0.5)
    c.close()


def run_one(vmm, args, client, tmp):
    port = random.randrange(5910, 5990)
    pwfile = os.path.join(tmp, "pw-%s" % vmm)
    with open(pwfile, "w") as f:
        f.write(PASSWORD + "\n")
    os.chmod(pwfile, 0o600)
    wirt = os.path.join(args.build, "wirt") if vmm == "wirt" else None
    with guestlib.Guest(argv_for(vmm, wirt, port, pwfile), name=vmm) as g:
        g.wait_ready()
        if vmm == "qemu":
            qemu_set_password(pwfile + ".mon")
        if g.run("test -c /dev/fb0 && echo fb", check=False)[0] != "fb":
            raise RuntimeError("%s: the guest has no /dev/fb0" % vmm)
        frame = 1024 * 4 * args.rows
        g.run("dd if=/dev/urandom of=/dev/shm/a bs=%d count=1 2>/dev/null; "
              "dd if=/dev/urandom of=/dev/shm/b bs=%d count=1 2>/dev/null" % (frame, frame))
        # The drawing loop counts its frames in /dev/shm/n.
        g.run("(n=0; while true; do cat /dev/shm/a > /dev/fb0; cat /dev/shm/b > /dev/fb0; "
              "n=$((n+2)); echo $n > /dev/shm/n; done) >/dev/null 2>&1 & true")
        time.sleep(2)
        proxy = CountingProxy(port)
        n0 = int(g.run("cat /dev/shm/n") or 0)
        t0 = time.monotonic()
        r = subprocess.run([client, "127.0.0.1", str(proxy.port), "-p", PASSWORD,
                            "-s", str(args.seconds)], capture_output=True, text=True,
                           timeout=args.seconds + 120)
        elapsed = time.monotonic() - t0
        n1 = int(g.run("cat /dev/shm/n") or 0)
        if r.returncode != 0:
            raise RuntimeError("%s: vnc client failed: %s" % (vmm, r.stderr.strip()))
        frames = int(r.stdout.split()[1])
        g.kill()
    return {"fps": frames / args.seconds, "mbps": proxy.down / elapsed / 1e6,
            "guest_fps": (n1 - n0) / elapsed}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rows", type=int, default=256)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--vmm", default="wirt,qemu")
    args = ap.parse_args()
    if not test_display.guest_has_display_modules():
        sys.exit("display_bench: the default guest lacks the display modules "
                 "(run tools/fetch-guest.sh)")
    tmp = tempfile.mkdtemp(prefix="wirt-display-bench-")
    try:
        client = test_display.build_client(tmp)
        if not client:
            sys.exit("display_bench: cannot build the VNC client (libvncserver-dev?)")
        res = {}
        for vmm in args.vmm.split(","):
            if vmm == "qemu" and not shutil.which("qemu-system-riscv64"):
                print("qemu-system-riscv64 missing: skipped")
                continue
            res[vmm] = run_one(vmm, args, client, tmp)
            print("%-5s  %6.1f frames/s over VNC  %7.2f MB/s  (guest drew %.1f frames/s)" %
                  (vmm, res[vmm]["fps"], res[vmm]["mbps"], res[vmm]["guest_fps"]))
        if "wirt" in res and "qemu" in res:
            w, q = res["wirt"], res["qemu"]
            print("ratio wirt/qemu: frames/s %.2f, bandwidth %.2f, guest frames/s %.2f" %
                  (w["fps"] / q["fps"] if q["fps"] else float("inf"),
                   w["mbps"] / q["mbps"] if q["mbps"] else float("inf"),
                   w["guest_fps"] / q["guest_fps"] if q["guest_fps"] else float("inf")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
