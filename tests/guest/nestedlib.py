# SPDX-License-Identifier: MIT
"""Nested virtualization (issue 16) from Python: the default guest with the
nested disk (tools/fetch-nested-guest.sh) attached read-only, the H
extension on or off, under wirt or QEMU; KVM loaded inside it and the
nested guest (same kernel, busybox initramfs) booted by the disk's
qemu-system-riscv64 -accel kvm on the same console.

    ok, why = fetch_nested()                  # builds/refreshes the cached disk
    with Guest(l1_argv("wirt", h=True)) as g:
        g.wait_ready()
        load_kvm(g)                           # mount, setup, modprobe kvm
        secs = boot_nested(g)                 # NESTED-GUEST-READY + prompt
        g.run("uname -n")                     # -> "nested"
        leave_nested(g)                       # poweroff -f, back at the L1 prompt

Used by tests/guest/test_nested.py and bench/nested_bench.py.
"""
import os
import re
import subprocess

import guestlib
from guestlib import GuestError

NESTED_MARKER = "NESTED-GUEST-READY"
# The default guest's prompt (hostname wirt), to know the nested one ended.
L1_PROMPT_RE = r"wirt:[^\r\n]*# (?:\x1b\[6n)?$"
NESTED_BOOT_TIMEOUT = float(os.environ.get("WIRT_NESTED_BOOT_TIMEOUT", "1800"))
MOUNT = "/mnt/nested"


def nested_dir():
    """The directory tools/fetch-nested-guest.sh fills."""
    return os.path.join(os.path.dirname(guestlib.guest_dir()), "nested")


def nested_img():
    return os.path.join(nested_dir(), "nested.img")


def fetch_nested():
    """Runs tools/fetch-nested-guest.sh (nothing to do when the cached disk
    is current); returns (True, "") or (False, its last error line)."""
    script = os.path.join(guestlib.REPO, "tools", "fetch-nested-guest.sh")
    p = subprocess.run([script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=3600)
    if p.returncode != 0 or not os.path.isfile(nested_img()):
        lines = p.stdout.strip().splitlines() or ["exit status %d" % p.returncode]
        return False, lines[-1]
    return True, ""


def wirt_h_supported(wirt=None):
    """(True, "") when `wirt run` accepts --cpu h=on, else (False, why).
    --help after it: a wirt that knows the flag prints its usage and exits
    0, one that does not stops at the unknown option."""
    p = subprocess.run([wirt or guestlib.wirt_bin(), "run", "--cpu", "h=on", "--help"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=60)
    if p.returncode == 0:
        return True, ""
    lines = p.stdout.strip().splitlines() or ["exit status %d" % p.returncode]
    return False, "wirt rejects --cpu h=on: " + lines[0]


def l1_argv(vmm, h, wirt=None, memory="1G", cpus=1, extra=()):
    """The default guest with the nested disk as its only disk (/dev/vda),
    no NIC, under `vmm` ("wirt" or "qemu"), with the H extension on or off."""
    img = nested_img()
    if vmm == "qemu":
        return guestlib.qemu_argv(
            bios=guestlib.guest_file("fw_dynamic.bin"), memory=memory,
            extra=["-cpu", "rv64,h=%s" % ("true" if h else "false"),
                   "-smp", str(cpus), "-nic", "none",
                   "-drive", "file=%s,format=raw,if=none,id=nested,readonly=on" % img,
                   "-device", "virtio-blk-device,drive=nested"] + list(extra))
    argv = [wirt or guestlib.wirt_bin(), "run", "--memory", memory, "--cpus", str(cpus),
            "--net", "none", "--disk", img + ",format=raw,readonly=on"]
    if h:
        argv += ["--cpu", "h=on"]
    return argv + list(extra)


def mount_nested(g):
    """Mounts the nested disk and installs its kvm module for modprobe."""
    g.run("mkdir -p %s && mount -o ro /dev/vda %s && %s/setup" % (MOUNT, MOUNT, MOUNT),
          timeout=600)


def load_kvm(g):
    """mount_nested, then `modprobe kvm`; GuestError unless /dev/kvm appears."""
    mount_nested(g)
    g.run("modprobe kvm && test -c /dev/kvm", timeout=600)


def boot_nested(g, timeout=NESTED_BOOT_TIMEOUT, append=None, smp=1):
    """Starts the nested guest and waits for its marker and shell prompt;
    returns the seconds from the command to the marker (as measured from
    the outside: the console bytes reaching us)."""
    env = "NESTED_SMP=%d" % smp
    if append is not None:
        env += " NESTED_APPEND='%s'" % append
    g.sendline("%s %s/run-nested" % (env, MOUNT))
    t0 = g.elapsed()
    g.expect(re.escape(NESTED_MARKER), timeout)
    secs = g.elapsed() - t0
    g.expect(guestlib.PROMPT_RE, timeout)
    return secs


def leave_nested(g, timeout=600):
    """Powers the nested guest off; back at the default guest's prompt."""
    g.sendline("poweroff -f")
    g.expect(L1_PROMPT_RE, timeout)
    # The line editor may have been mid-query; a command gets a clean prompt.
    out = g.run("uname -n", timeout=timeout)
    if out.strip() != "wirt":
        raise GuestError("expected the default guest after the nested poweroff, got %r" % out)
