#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The management plane's latency: `wirt serve`'s REST API against the
`wirt vm` CLI doing the same work on the same store.

1. list and info with --vms VMs in the store (stopped copies of the default
   template; one more, running, when --running is given): the median and
   95th percentile of --rounds calls.  The API is asked over its Unix socket
   (the default, owner-only) on one kept-alive connection, as a script or a
   UI would; the CLI is a new process per call, as a shell script would run
   it.  Both go through the same vm/ library, so the difference is the cost
   of a process start against that of an HTTP request.
2. create to guest-ready: POST /api/v1/vms + POST .../start, then polling
   the list every 0.1 s until the VM says guest-ready; against `wirt vm
   create` + `wirt vm start` + polling `wirt vm info` (its text says
   "guest ready"; `list --json` does not carry it).  --boots
   rounds each, alternating, each VM deleted after.

libvirt/virsh is not compared: virsh needs libvirtd (or its session
daemon) and libvirt has no RISC-V TCG guest that would match ours, so the
anchor is wirt's own CLI.

Usage: bench/api_bench.py [--vms N] [--rounds N] [--boots N] [--build DIR]
                          [--json FILE]
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class UnixConn(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=300)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(300)
        self.sock.connect(self.path)


class Api:
    def __init__(self, sock):
        self.conn = UnixConn(sock)

    def call(self, method, path, body=None):
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None,
                          headers={"Content-Type": "application/json"})
        r = self.conn.getresponse()
        data = r.read()
        if r.status >= 300:
            raise RuntimeError("%s %s: %d %s" % (method, path, r.status, data[:200]))
        return json.loads(data) if data else None


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def timed(fn, rounds):
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def ms(xs):
    return "median %7.2f ms  p95 %7.2f ms" % (statistics.median(xs) * 1e3, pct(xs, 95) * 1e3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vms", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--boots", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--json")
    args = ap.parse_args()
    wirt = os.path.abspath(os.path.join(args.build, "wirt"))
    if not os.access(wirt, os.X_OK):
        sys.exit("api_bench: %s is missing (make)" % wirt)

    root = tempfile.mkdtemp(prefix="wirt-api-bench-")
    store = os.path.join(root, "store")
    sock = os.path.join(root, "api.sock")
    env = dict(os.environ, WIRT_STORE=store)

    def cli(*a, check=True):
        p = subprocess.run([wirt, "vm"] + list(a), env=env, capture_output=True, text=True,
                           timeout=300)
        if check and p.returncode != 0:
            raise RuntimeError("wirt vm %s: %s" % (" ".join(a), p.stderr.strip()))
        return p.stdout

    serve = None
    results = {"vms": args.vms, "rounds": args.rounds}
    try:
        print("api_bench: making %d VMs in %s" % (args.vms, store))
        for i in range(args.vms):
            cli("create", "vm%02d" % i, "--from", "debian")
        serve = subprocess.Popen([wirt, "serve", "--store", store, "--socket", sock],
                                 stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        api = Api(sock)
        assert len(api.call("GET", "/api/v1/vms")) == args.vms + 1

        print("\n%d VMs in the store (+ the template), %d calls each:" % (args.vms, args.rounds))
        rows = [
            ("list", "API  GET /api/v1/vms", lambda: api.call("GET", "/api/v1/vms")),
            ("list", "CLI  wirt vm list --json", lambda: cli("list", "--json")),
            ("info", "API  GET /api/v1/vms/vm07", lambda: api.call("GET", "/api/v1/vms/vm07")),
            ("info", "CLI  wirt vm info vm07 --json", lambda: cli("info", "vm07", "--json")),
        ]
        for op, label, fn in rows:
            fn()  # warm the page cache
            xs = timed(fn, args.rounds)
            results["%s-%s" % (op, label[:3].lower())] = {
                "median_ms": statistics.median(xs) * 1e3, "p95_ms": pct(xs, 95) * 1e3}
            print("  %-32s %s" % (label, ms(xs)))
        for op in ("list", "info"):
            r = results["%s-api" % op]["median_ms"] / results["%s-cli" % op]["median_ms"]
            results["%s-ratio" % op] = r
            print("  %s: API/CLI = %.2f" % (op, r))

        def ready_api(name):
            t = time.perf_counter()
            api.call("POST", "/api/v1/vms", {"name": name})
            api.call("POST", "/api/v1/vms/%s/start" % name, {})
            while True:
                vms = {v["name"]: v for v in api.call("GET", "/api/v1/vms")}
                if vms[name].get("guest-ready"):
                    return time.perf_counter() - t
                time.sleep(0.1)

        def ready_cli(name):
            t = time.perf_counter()
            cli("create", name, "--from", "debian")
            cli("start", name)
            # `list --json` does not carry guest-ready; info's text does.
            while ", guest ready)" not in cli("info", name):
                time.sleep(0.1)
            return time.perf_counter() - t

        print("\ncreate -> guest ready (%d boots each, the other %d VMs stopped):" %
              (args.boots, args.vms))
        boots = {"api": [], "cli": []}
        for i in range(args.boots):
            for how, fn in (("api", ready_api), ("cli", ready_cli)):
                name = "boot-%s-%d" % (how, i)
                boots[how].append(fn(name))
                cli("stop", name, "--force")
                cli("delete", name)
                print("  %-4s round %d: %.2f s" % (how.upper(), i + 1, boots[how][-1]))
        for how in ("api", "cli"):
            results["ready-%s-s" % how] = statistics.median(boots[how])
        results["ready-ratio"] = results["ready-api-s"] / results["ready-cli-s"]
        print("  median: API %.2f s, CLI %.2f s, API/CLI = %.2f" %
              (results["ready-api-s"], results["ready-cli-s"], results["ready-ratio"]))
    finally:
        if serve:
            serve.terminate()
            serve.wait(30)
        for name in os.listdir(os.path.join(store, "vms")) if os.path.isdir(store) else []:
            if name.startswith("boot-"):
                cli("stop", name, "--force", check=False)
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
