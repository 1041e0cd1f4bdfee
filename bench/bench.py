#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Side-by-side benchmarks of wirt and QEMU (TCG) on the default guest.

  boot  wall time from process start to the WIRT-GUEST-READY marker, same
        kernel, initramfs, firmware (fw_dynamic.bin), command line and 512M
        of RAM on both; several rounds, medians, ratio wirt/qemu.
  cpu   bench/cpu/workload (static riscv64 binary, added to a copy of the
        initramfs as /bin/workload) run inside each guest, plus busybox
        sha256sum and gzip over data generated in the guest; each timed
        inside the guest and from the host; ratios wirt/qemu.  The results'
        checksums must agree between the two machines.
        Then, for wirt, each workload phase again on its own with the
        guest instructions it executed (control socket, query-cpus), giving
        guest instructions per second for wirt and QEMU (same binary, same
        instructions); and the same workload compiled for the host and run
        natively: the distance to native is the wirt/native column.

The VMM "wirt-h" is wirt with --cpu h=on (the H extension, issue 16):
`--vmm wirt,wirt-h` measures what turning H on costs a guest that does not
use it (ratios wirt-h/wirt; the target is under 1.03); `make bench-nested`
runs that.

Usage: bench/bench.py [--rounds N] [--only boot|cpu] [--vmm wirt,qemu,wirt-h]
                      [--data-mib N] [--build DIR] [--json FILE]
`make bench` runs it.  Exits 1 if any run failed or answers differed.
"""
import argparse
import json
import socket
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
import guestlib  # noqa: E402
import nestedlib  # noqa: E402
from guestlib import Guest, GuestError, guest_file  # noqa: E402

MEMORY = "512M"


def vm_argv(vmm, wirt, initrd):
    kernel, bios = guest_file("Image"), guest_file("fw_dynamic.bin")
    append = guestlib.default_cmdline()
    if vmm == "qemu":
        return guestlib.qemu_argv(kernel=kernel, initrd=initrd, bios=bios,
                                  append=append, memory=MEMORY)
    argv = [wirt, "run", "--kernel", kernel, "--initrd", initrd, "--bios", bios,
            "--append", append, "--memory", MEMORY]
    return argv + ["--cpu", "h=on"] if vmm == "wirt-h" else argv


def query_cpus(sock):
    """Sum of the harts' executed-instruction counters (control socket)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.settimeout(10)
        c.connect(sock)
        c.sendall(b'{"execute": "query-cpus"}\n')
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = c.recv(65536)
            if not chunk:
                break
            buf += chunk
    for line in buf.decode().splitlines():
        r = json.loads(line)
        if "return" in r:
            return sum(h["instructions"] for h in r["return"])
    raise GuestError("no query-cpus reply: %r" % buf[:200])


def parse_phases(out):
    """{phase: (seconds, checksum)} from the workload's output."""
    res = {}
    for line in out.split("\n"):
        p = line.split()
        if len(p) == 4 and p[0] == "phase":
            res[p[1]] = (float(p[2]), p[3])
        elif len(p) == 3 and p[0] == "total":
            res["workload total"] = (float(p[1]), p[2])
    return res


def fmt_ratio(a, b):
    if a is None or b is None or b <= 0:
        return "-"
    return "%.1fx" % (a / b)


def fmt_ratio3(a, b):
    """A ratio close to 1, to a tenth of a percent."""
    if a is None or b is None or b <= 0:
        return "-"
    return "%.3f" % (a / b)


def fmt_s(x):
    return "-" if x is None else "%.2f" % x


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.path.join(REPO, args.build)
        self.wirt = os.environ.get("WIRT") or os.path.join(self.build, "wirt")
        self.vmms = args.vmm.split(",")
        self.results = {"boot": {v: [] for v in self.vmms}, "cpu": {v: {} for v in self.vmms},
                        "errors": []}
        self.ok = True

    def error(self, vmm, what, exc):
        text = str(exc)
        i = text.find("\n--- last console output")
        msg = "%s: %s failed: %s" % (vmm, what, text[:i] if i >= 0 else text)
        print("  " + msg, flush=True)
        if i >= 0:
            print("    " + text[i + 1:][-1500:].replace("\n", "\n    "), flush=True)
        self.results["errors"].append(msg)
        self.ok = False

    def preflight(self):
        if not guestlib.have_guest():
            print("fetching the guest material (tools/fetch-guest.sh)", flush=True)
            subprocess.run([os.path.join(REPO, "tools", "fetch-guest.sh")], check=True)
        for vmm in ("wirt", "wirt-h"):
            if vmm in self.vmms and not os.access(self.wirt, os.X_OK):
                print("%s: %s is not built (make)" % (vmm, self.wirt))
                self.results["errors"].append("%s: not built" % vmm)
                self.vmms.remove(vmm)
                self.ok = False
        if "wirt-h" in self.vmms:
            ok, why = nestedlib.wirt_h_supported(self.wirt)
            if not ok:
                print("wirt-h: %s" % why)
                self.results["errors"].append("wirt-h: " + why)
                self.vmms.remove("wirt-h")
                self.ok = False
        if "qemu" in self.vmms and not shutil.which("qemu-system-riscv64"):
            print("qemu: qemu-system-riscv64 is not installed (tools/setup-host.sh)")
            self.vmms.remove("qemu")
            self.ok = False

    # -- boot -----------------------------------------------------------

    def boot(self):
        n = self.args.rounds
        print("\n== boot: process start -> WIRT-GUEST-READY (%d rounds, %s RAM)"
              % (n, MEMORY), flush=True)
        initrd = guest_file("initrd.cpio.gz")
        for r in range(n):
            for vmm in self.vmms:   # interleaved, so load drift hits both
                try:
                    with Guest(vm_argv(vmm, self.wirt, initrd), name=vmm) as g:
                        t = g.wait_ready()
                        status = g.poweroff()
                        if status != 0:
                            raise GuestError("exit status %d after poweroff" % status)
                    self.results["boot"][vmm].append(t)
                    print("  round %d  %-5s %6.2f s" % (r + 1, vmm, t), flush=True)
                except (GuestError, OSError) as e:
                    self.error(vmm, "boot round %d" % (r + 1), e)
        med = {}
        for vmm in self.vmms:
            times = self.results["boot"][vmm]
            med[vmm] = statistics.median(times) if times else None
            print("  %-5s median %s s  (%s)" % (vmm, fmt_s(med[vmm]),
                                                ", ".join("%.2f" % t for t in times)))
        self.results["boot_median"] = med
        if "wirt" in med and "qemu" in med:
            print("  ratio wirt/qemu: %s" % fmt_ratio(med["wirt"], med["qemu"]))
        if "wirt" in med and "wirt-h" in med:
            print("  cost of H, wirt-h/wirt: %s" % fmt_ratio3(med["wirt-h"], med["wirt"]))

    # -- cpu ------------------------------------------------------------

    def workload_initrd(self):
        """Default initramfs + a second cpio with /bin/workload (the
        kernel unpacks concatenated archives in order)."""
        bdir = os.path.join(self.build, "bench")
        os.makedirs(bdir, exist_ok=True)
        exe = os.path.join(bdir, "workload")
        src = os.path.join(REPO, "bench", "cpu", "workload.c")
        if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
            cc = os.environ.get("BENCH_CC", "riscv64-linux-gnu-gcc")
            subprocess.run([cc, "-std=c17", "-static", "-O2", "-Wall", "-Wextra",
                            "-o", exe, src], check=True)
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "bin"))
            shutil.copy(exe, os.path.join(root, "bin", "workload"))
            os.chmod(os.path.join(root, "bin", "workload"), 0o755)
            extra = os.path.join(bdir, "workload.cpio.gz")
            subprocess.run([sys.executable, os.path.join(REPO, "tools", "guest", "mkcpio.py"),
                            root, extra], check=True)
        out = os.path.join(bdir, "initrd-bench.cpio.gz")
        with open(out, "wb") as f:
            for part in (guest_file("initrd.cpio.gz"), extra):
                with open(part, "rb") as p:
                    shutil.copyfileobj(p, f)
        return out

    @staticmethod
    def timed(g, cmd, timeout):
        """Runs cmd in the guest; returns (guest seconds by /proc/uptime,
        host seconds, output)."""
        t0 = time.monotonic()
        out = g.run("s=$(cut -d' ' -f1 /proc/uptime); %s; r=$?; "
                    "e=$(cut -d' ' -f1 /proc/uptime); echo @T $s $e; "
                    "[ $r = 0 ]" % cmd, timeout=timeout)
        host = time.monotonic() - t0
        m = re.search(r"@T ([\d.]+) ([\d.]+)\s*$", out)
        if not m:
            raise GuestError("no timing in output of %r: %r" % (cmd, out))
        guest = float(m.group(2)) - float(m.group(1))
        return guest, host, out[:m.start()].rstrip("\n")

    def cpu(self):
        mib = self.args.data_mib
        print("\n== cpu: bench/cpu/workload, sha256sum and gzip over %d MiB, "
              "inside the guest" % mib, flush=True)
        initrd = self.workload_initrd()
        timeout = float(os.environ.get("WIRT_BENCH_TIMEOUT", "3600"))
        ctl_dir = tempfile.mkdtemp(prefix="wirt-bench-")
        ctl = os.path.join(ctl_dir, "control.sock")
        insns = self.results["cpu"]["instructions"] = {}
        for vmm in self.vmms:
            res = self.results["cpu"][vmm]
            argv = vm_argv(vmm, self.wirt, initrd)
            if vmm == "wirt":
                argv += ["--control", ctl]
            try:
                with Guest(argv, name=vmm) as g:
                    g.wait_ready()
                    guest, host, out = self.timed(g, "workload", timeout)
                    for k, (secs, check) in parse_phases(out).items():
                        res[k] = {"guest": secs, "check": check}
                    if "workload total" in res:
                        res["workload total"]["host"] = host
                    if vmm == "wirt":
                        # Each phase alone, counting what the hart executed
                        # (the shell around it adds well under 0.1%).
                        for k in [k for k in res if k != "workload total"]:
                            before = query_cpus(ctl)
                            g.run("workload %s >/dev/null" % k, timeout=timeout)
                            insns[k] = query_cpus(ctl) - before
                    g.run("workload gen %d >/tmp/data" % mib, timeout=timeout)
                    guest, host, out = self.timed(g, "sha256sum /tmp/data >/tmp/h", timeout)
                    res["sha256sum"] = {"guest": guest, "host": host,
                                        "check": g.run("cut -c1-16 /tmp/h")}
                    guest, host, out = self.timed(g, "gzip -c /tmp/data >/tmp/gz", timeout)
                    res["gzip"] = {"guest": guest, "host": host,
                                   "check": g.run("wc -c </tmp/gz")}
                    status = g.poweroff()
                    if status != 0:
                        raise GuestError("exit status %d after poweroff" % status)
                for k, v in res.items():
                    print("  %-5s %-15s %8.2f s  %s" % (vmm, k, v["guest"], v["check"]),
                          flush=True)
            except (GuestError, OSError, ValueError) as e:
                self.error(vmm, "cpu run", e)
        shutil.rmtree(ctl_dir, ignore_errors=True)
        native = self.results["cpu"]["native"] = self.native_workload()
        if insns:
            insns["workload total"] = sum(insns.values())
        names = []
        for vmm in self.vmms:
            for k in self.results["cpu"][vmm]:
                if k not in names:
                    names.append(k)
        print("\n  %-15s %10s %10s %8s  %s" % ("test (guest s)", "wirt", "qemu", "ratio",
                                              "same answer"))
        w = self.results["cpu"].get("wirt", {})
        q = self.results["cpu"].get("qemu", {})
        for k in names:
            a, b = w.get(k), q.get(k)
            same = "-"
            if a and b:
                same = "yes" if a["check"] == b["check"] else "NO (%s vs %s)" % (
                    a["check"], b["check"])
                if a["check"] != b["check"]:
                    self.ok = False
                    self.results["errors"].append("%s: wirt and qemu disagree" % k)
            print("  %-15s %10s %10s %8s  %s" % (
                k, fmt_s(a and a["guest"]), fmt_s(b and b["guest"]),
                fmt_ratio(a and a["guest"], b and b["guest"]), same))
        self.print_distance(w, q, native, insns)
        self.print_h_cost(w, self.results["cpu"].get("wirt-h", {}))

    def print_h_cost(self, w, h):
        """wirt with --cpu h=on against wirt without, phase by phase."""
        if not w or not h:
            return
        print("\n  %-15s %10s %10s %10s  %s" % ("test (guest s)", "wirt", "wirt-h",
                                               "wirt-h/wirt", "same answer"))
        for k in w:
            a, b = w[k], h.get(k)
            if not b:
                continue
            same = a["check"] == b["check"]
            if not same:
                self.ok = False
                self.results["errors"].append("%s: wirt and wirt-h disagree" % k)
            print("  %-15s %10s %10s %10s  %s" % (k, fmt_s(a["guest"]), fmt_s(b["guest"]),
                                                fmt_ratio3(b["guest"], a["guest"]),
                                                "yes" if same else "NO"))

    def native_workload(self):
        """The workload compiled for the host and run natively: the floor
        any emulator of the same program is measured against."""
        exe = os.path.join(self.build, "bench", "workload-native")
        src = os.path.join(REPO, "bench", "cpu", "workload.c")
        try:
            if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
                subprocess.run([os.environ.get("CC", "cc"), "-std=c17", "-O2", "-Wall",
                                "-Wextra", "-o", exe, src], check=True)
            out = subprocess.run([exe], check=True, capture_output=True, text=True,
                                 timeout=600).stdout
        except (OSError, subprocess.SubprocessError) as e:
            self.error("native", "workload", e)
            return {}
        return {k: {"guest": secs, "check": check}
                for k, (secs, check) in parse_phases(out).items()}

    def print_distance(self, w, q, native, insns):
        if not native and not insns:
            return
        print("\n  %-15s %9s %9s %9s %9s %11s" % (
            "phase", "native s", "wirt s", "wirt/nat", "G insns", "wirt/qemu MIPS"))
        for k in native:
            a, b, n = w.get(k), q.get(k), native[k]
            if a and a["check"] != n["check"]:
                self.ok = False
                self.results["errors"].append("%s: wirt and native disagree" % k)
            mips = "-"
            if k in insns and a:
                mips = "%.0f" % (insns[k] / a["guest"] / 1e6)
                if b:
                    mips += " / %.0f" % (insns[k] / b["guest"] / 1e6)
            print("  %-15s %9.3f %9s %9s %9s %11s" % (
                k, n["guest"], fmt_s(a and a["guest"]), fmt_ratio(a and a["guest"], n["guest"]),
                "%.2f" % (insns[k] / 1e9) if k in insns else "-", mips))

    def run(self):
        self.preflight()
        if not self.vmms:
            return 1
        only = self.args.only
        if only in (None, "boot"):
            self.boot()
        if only in (None, "cpu"):
            self.cpu()
        if self.args.json:
            with open(self.args.json, "w") as f:
                json.dump(self.results, f, indent=2)
            print("\nresults: %s" % self.args.json)
        if self.results["errors"]:
            print("\nerrors:\n  " + "\n  ".join(self.results["errors"]))
        return 0 if self.ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", choices=("boot", "cpu"))
    ap.add_argument("--vmm", default="wirt,qemu")
    ap.add_argument("--data-mib", type=int, default=16)
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if args.json is None:
        args.json = os.path.join(REPO, args.build, "bench", "results.json")
        os.makedirs(os.path.dirname(args.json), exist_ok=True)
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
