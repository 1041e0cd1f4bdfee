#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""wirt's test runner: runs every test layer and ends with the line
`N passed, N failed, N skipped`.  Exits 1 if anything failed.

Layers, in order:
  unit     each cmocka binary built from tests/{unit,dev,block}/test_*.c
           (every test case counts; a crash or a non-zero exit that no case
           explains counts as one more failure)
  asan     `make asan`, then the same binaries from build-asan/
  tsan     `make tsan`, then the same binaries from build-tsan/ under
           ThreadSanitizer (a data race fails the binary)
  isa      `make isa-tests`, then `build/wirt run --elf` on each
           build/isa/*.elf (exit 0 = pass), once per execution engine
           (default, [interp] = WIRT_JIT=0, [jit-all] = WIRT_JIT_THRESHOLD=1)
  scripts  tests/*/test_*.py as unittest modules (each test method counts),
           tests/*/test_*.sh run with bash (exit 0 pass, 77 skip)

Usage: tests/run_tests.py [--quick] [-k PATTERN] [--no-asan] [--no-build]
                          [--layers unit,asan,tsan,isa,scripts]
  --quick     skip the guest tests (tests/guest/) and the sanitizer layers
  -k PATTERN  run only tests whose name contains PATTERN (or matches it as a
              shell wildcard); names look like unit/test_bus,
              isa/rv64i.elf, guest/test_boot.py::BootTest.test_uname
  --no-asan   skip the sanitizer layers (asan and tsan)
  --no-build  don't run `make asan` / `make tsan` / `make isa-tests`; use
              what is built
Options can also come from the environment: make test WIRT_TEST_ARGS=--quick

Tests listed in tests/expected-failures.txt (one name or wildcard a line)
that fail are reported as XFAIL and counted as skipped, not failed; if they
pass they are reported as XPASS so the entry can be removed.
"""
import argparse
import fnmatch
import glob
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CMOCKA_DIRS = ("unit", "dev", "block")
BIN_TIMEOUT = 600       # one cmocka binary
ELF_TIMEOUT = 60        # one ISA test
SH_TIMEOUT = 1200       # one shell test script
PY_FILE_TIMEOUT = 3600  # one python test file (guest boots are slow)

COLOR = sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def rel(path):
    return os.path.relpath(path, REPO)


def tail(text, lines=40):
    t = text.rstrip("\n").split("\n")
    if len(t) > lines:
        t = ["[... %d lines cut ...]" % (len(t) - lines)] + t[-lines:]
    return "\n".join(t)


def run_capture(argv, timeout, env=None, cwd=REPO):
    """Runs argv with stdout+stderr captured; returns (status, output,
    seconds).  status is None on timeout; the whole process group is
    killed then."""
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
    except OSError as e:
        return 127, "cannot run %s: %s" % (argv[0], e), 0.0
    try:
        out, _ = proc.communicate(timeout=timeout)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, _ = proc.communicate()
        status = None
        out += b"\n[killed after %d s]" % timeout
    return status, out.decode("utf-8", "replace"), time.monotonic() - start


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def describe_status(status):
    if status is None:
        return "timed out"
    if status < 0:
        try:
            return "killed by %s" % signal.Signals(-status).name
        except ValueError:
            return "killed by signal %d" % -status
    return "exit status %d" % status


class Runner:
    def __init__(self, args):
        self.args = args
        self.passed = self.failed = self.skipped = self.xfailed = 0
        self.failures = []
        self.xfail_patterns = self._load_xfail()

    # -- bookkeeping ----------------------------------------------------

    def _load_xfail(self):
        pats = []
        path = os.path.join(REPO, "tests", "expected-failures.txt")
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    line = line.split("#", 1)[0].strip()
                    if line:
                        pats.append(line)
        return pats

    def selected(self, name):
        pat = self.args.k
        if not pat:
            return True
        return pat in name or fnmatch.fnmatchcase(name, pat)

    def expected_to_fail(self, name):
        return any(fnmatch.fnmatchcase(name, p) or p == name for p in self.xfail_patterns)

    def report(self, status, name, secs, note="", details="", counts=None):
        """status: PASS, FAIL or SKIP.  counts=(passed, failed, skipped)
        when one line stands for several test cases."""
        p, f, s = counts if counts else {"PASS": (1, 0, 0), "FAIL": (0, 1, 0),
                                         "SKIP": (0, 0, 1)}[status]
        if f and self.expected_to_fail(name):
            status = "XFAIL"
            self.xfailed += f
            s += f
            f = 0
        elif status == "PASS" and self.xfail_patterns and self.expected_to_fail(name):
            status = "XPASS"
        self.passed += p
        self.failed += f
        self.skipped += s
        label = status
        if COLOR:
            c = {"PASS": "32", "FAIL": "31", "SKIP": "33", "XFAIL": "33", "XPASS": "36"}[status]
            label = "\033[%sm%s\033[0m" % (c, status)
        line = "%-5s %s" % (label, name) if COLOR else "%-5s %s" % (status, name)
        if note:
            line += "  (%s)" % note
        line += "  %.1fs" % secs
        print(line, flush=True)
        if details and status in ("FAIL", "XFAIL"):
            print("      " + details.rstrip("\n").replace("\n", "\n      "), flush=True)
        if f:
            self.failures.append(name)

    def heading(self, text):
        print("== %s" % text, flush=True)

    # -- layer: cmocka binaries -----------------------------------------

    def cmocka_layer(self, build, prefix=""):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        # A race report makes the binary exit 66 after its tests ran.
        env.setdefault("TSAN_OPTIONS", "halt_on_error=0:exitcode=66:second_deadlock_stack=1")
        env.pop("CMOCKA_MESSAGE_OUTPUT", None)
        for d in CMOCKA_DIRS:
            for src in sorted(glob.glob(os.path.join(REPO, "tests", d, "test_*.c"))):
                base = os.path.splitext(os.path.basename(src))[0]
                name = "%s%s/%s" % (prefix, d, base)
                if not self.selected(name):
                    continue
                binary = os.path.join(REPO, build, "tests", d, base)
                if not os.access(binary, os.X_OK):
                    self.report("FAIL", name, 0, "not built: %s is missing"
                                % rel(binary))
                    continue
                status, out, secs = run_capture([binary], BIN_TIMEOUT, env=env)
                self._cmocka_result(name, status, out, secs)

    def _cmocka_result(self, name, status, out, secs):
        cases = {}   # name -> OK/FAILED/SKIPPED/ERROR
        order = []
        current = None
        announced = 0
        for line in out.split("\n"):
            m = re.match(r"\[=+\] .*?Running (\d+) test", line)
            if m:
                announced += int(m.group(1))
                continue
            m = re.match(r"\[\s*(RUN|OK|FAILED|SKIPPED|ERROR)\s*\] (.*)$", line)
            if not m:
                continue
            tag, rest = m.group(1), m.group(2).strip()
            if tag == "RUN":
                current = rest
                order.append(rest)
                cases[rest] = "RUN"
            elif current is not None and rest == current:
                cases[rest] = tag
                current = None
        p = sum(1 for v in cases.values() if v == "OK")
        s = sum(1 for v in cases.values() if v == "SKIPPED")
        bad = [c for c in order if cases[c] not in ("OK", "SKIPPED")]
        # Cases announced but never started: the binary died first.
        unrun = max(0, announced - len(cases)) if status != 0 else 0
        f = len(bad) + unrun
        extra = ""
        if unrun:
            extra = "%d more did not run; %s" % (unrun, describe_status(status))
        elif status != 0 and not bad:
            # A crash between cases, a failing group setup, a leak report.
            f += 1
            extra = describe_status(status)
        elif status is None or (status is not None and status < 0):
            extra = describe_status(status)
        if not cases and status == 0:
            # Not a cmocka binary, or it ran no test: count the binary.
            self.report("PASS", name, secs, "no cmocka cases found; binary exit 0")
            return
        n = max(announced, len(cases))
        note = "%d case%s" % (n, "" if n == 1 else "s")
        if bad or f:
            what = []
            if bad:
                what.append("failed: " + ", ".join(
                    c + ("" if cases[c] != "RUN" else " (did not finish)") for c in bad))
            if extra:
                what.append(extra)
            self.report("FAIL", name, secs, note + "; " + "; ".join(what),
                        tail(out), counts=(p, f, s))
        elif s:
            self.report("PASS", name, secs, note + ", %d skipped" % s, counts=(p, 0, s))
        else:
            self.report("PASS", name, secs, note, counts=(p, 0, 0))

    # -- layer: sanitizer build -----------------------------------------

    def make(self, target, timeout=3600, extra=()):
        env = dict(os.environ)
        for v in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
            env.pop(v, None)
        argv = ["make", "-j%d" % (os.cpu_count() or 2)] + list(extra) + [target]
        if os.environ.get("CI"):
            argv.append("CI=1")
        return run_capture(argv, timeout, env=env)

    def has_make_target(self, target):
        status, _, _ = run_capture(["make", "-n", target], 60)
        return status == 0

    def cmocka_names(self, prefix=""):
        for d in CMOCKA_DIRS:
            for src in sorted(glob.glob(os.path.join(REPO, "tests", d, "test_*.c"))):
                yield "%s%s/%s" % (prefix, d, os.path.splitext(os.path.basename(src))[0])

    def sanitizer_layer(self, name):
        """`make NAME`, then the cmocka binaries from build-NAME/.  The
        tsan layer runs every binary, the JIT's included: TSan cannot see
        the x86 code the JIT generates (its memory accesses are not
        instrumented), so those tests only check the C around it, but they
        stay quiet and take seconds.  The threads that matter are the
        device workers (virtio-blk), the event loop, net backends and the
        two-hart tests."""
        if not any(self.selected(n) for n in self.cmocka_names(name + ":")):
            return  # -k names other tests; don't spend minutes building
        if not self.args.no_build:
            status, out, secs = self.make(name)
            if status != 0:
                self.report("FAIL", name + ":build", secs, "make %s: " % name +
                            describe_status(status), tail(out))
                return
            print("      (make %s: %.0fs)" % (name, secs), flush=True)
        self.cmocka_layer("build-" + name, prefix=name + ":")

    # -- layer: ISA tests -----------------------------------------------

    def isa_layer(self):
        wirt = os.path.join(REPO, "build", "wirt")
        if not self.args.no_build and self.has_make_target("isa-tests"):
            status, out, secs = self.make("isa-tests")
            if status != 0:
                self.report("FAIL", "isa:build", secs, "make isa-tests: " +
                            describe_status(status), tail(out))
        elfs = sorted(glob.glob(os.path.join(REPO, "build", "isa", "*.elf")))
        if not elfs:
            print("      (no build/isa/*.elf)", flush=True)
        # Each program under both execution engines: the interpreter alone,
        # the default JIT, and the JIT compiling every block on first jump.
        engines = [("", {}), ("[interp]", {"WIRT_JIT": "0"}),
                   ("[jit-all]", {"WIRT_JIT_THRESHOLD": "1"})]
        for elf in elfs:
            for suffix, extra in engines:
                name = "isa/" + os.path.basename(elf) + suffix
                if not self.selected(name):
                    continue
                if not os.access(wirt, os.X_OK):
                    self.report("FAIL", name, 0, "build/wirt is missing")
                    continue
                env = dict(os.environ, **extra)
                # smp*.S are multi-hart tests: every hart starts at _start.
                cpus = ["--cpus", "4"] if os.path.basename(elf).startswith("smp") else []
                # hext*.S need the hypervisor extension (hoff.S checks it is off by default).
                if os.path.basename(elf).startswith("hext"):
                    cpus += ["--cpu", "h=on"]
                status, out, secs = run_capture([wirt, "run", "--elf", elf] + cpus, ELF_TIMEOUT,
                                                env=env)
                if status == 0:
                    self.report("PASS", name, secs)
                else:
                    self.report("FAIL", name, secs, describe_status(status), tail(out, 25))

    # -- layer: python and shell test files -----------------------------

    def script_files(self):
        files = sorted(glob.glob(os.path.join(REPO, "tests", "*", "test_*.py")) +
                       glob.glob(os.path.join(REPO, "tests", "*", "test_*.sh")))
        for f in files:
            if self.args.quick and rel(f).startswith("tests/guest/"):
                continue
            yield f

    def scripts_layer(self):
        for path in self.script_files():
            short = rel(path)[len("tests/"):]
            if path.endswith(".sh"):
                if not self.selected(short):
                    continue
                status, out, secs = run_capture(["bash", path], SH_TIMEOUT)
                if status == 0:
                    self.report("PASS", short, secs)
                elif status == 77:
                    reason = out.strip().split("\n")[-1] if out.strip() else ""
                    self.report("SKIP", short, secs, reason[:120])
                else:
                    self.report("FAIL", short, secs, describe_status(status), tail(out))
            else:
                self.python_file(path, short)

    def python_file(self, path, short):
        rfd, wfd = os.pipe()
        argv = [sys.executable, os.path.abspath(__file__), "--child", path,
                "--result-fd", str(wfd)]
        if self.args.k:
            argv += ["-k", self.args.k]
        start = time.monotonic()
        log = tempfile.TemporaryFile(mode="w+b")
        proc = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT,
                                pass_fds=(wfd,), start_new_session=True)
        os.close(wfd)
        timer = threading.Timer(PY_FILE_TIMEOUT, kill_group, (proc,))
        timer.start()
        seen = 0
        with os.fdopen(rfd) as results:
            for line in results:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                seen += 1
                self.report(r["status"], r["name"], r["secs"], r.get("note", ""),
                            r.get("details", ""))
        proc.wait()
        timer.cancel()
        log.seek(0)
        out = log.read().decode("utf-8", "replace")
        log.close()
        secs = time.monotonic() - start
        if proc.returncode not in (0, 1) or (seen == 0 and proc.returncode != 0):
            self.report("FAIL", short, secs, "test file " + describe_status(proc.returncode),
                        tail(out))

    # -- all ------------------------------------------------------------

    def run(self):
        layers = self.args.layers.split(",")
        start = time.monotonic()
        if "unit" in layers:
            self.heading("unit, device and block tests (cmocka)")
            self.cmocka_layer("build")
        if "asan" in layers and not self.args.quick and not self.args.no_asan:
            self.heading("sanitizer build (ASan + UBSan)")
            self.sanitizer_layer("asan")
        if "tsan" in layers and not self.args.quick and not self.args.no_asan:
            self.heading("sanitizer build (ThreadSanitizer)")
            self.sanitizer_layer("tsan")
        if "isa" in layers:
            self.heading("ISA tests (build/wirt run --elf)")
            self.isa_layer()
        if "scripts" in layers:
            self.heading("python and shell tests" +
                         (" (--quick: no guest tests)" if self.args.quick else ""))
            self.scripts_layer()
        print()
        if self.failures:
            print("Failed:")
            for name in self.failures:
                print("  " + name)
        if self.xfailed:
            print("(%d of the skipped are known failures listed in "
                  "tests/expected-failures.txt)" % self.xfailed)
        print("total time %.0fs" % (time.monotonic() - start))
        print("%d passed, %d failed, %d skipped" % (self.passed, self.failed, self.skipped),
              flush=True)
        return 1 if self.failed else 0


# -- child: runs one python test file under unittest ----------------------

def child_main(path, pattern, fd):
    import importlib.util
    import traceback
    import unittest

    out = os.fdopen(fd, "w", buffering=1)
    short = os.path.relpath(path, os.path.join(REPO, "tests"))

    def emit(status, name, secs, note="", details=""):
        out.write(json.dumps({"status": status, "name": name, "secs": secs,
                              "note": note, "details": details}) + "\n")

    def selected(name):
        return not pattern or pattern in name or fnmatch.fnmatchcase(name, pattern)

    sys.path.insert(0, os.path.dirname(path))
    t0 = time.monotonic()
    try:
        modname = "wirt_test_" + re.sub(r"\W", "_", short)
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod
        spec.loader.exec_module(mod)
        suite = unittest.TestLoader().loadTestsFromModule(mod)
    except Exception:
        emit("FAIL", short, time.monotonic() - t0, "cannot load",
             traceback.format_exc())
        return 1

    def flatten(s):
        for t in s:
            if isinstance(t, unittest.TestSuite):
                yield from flatten(t)
            else:
                yield t

    def test_name(test):
        tid = test.id()
        if tid.startswith(modname + "."):
            tid = tid[len(modname) + 1:]
        return "%s::%s" % (short, tid)

    tests = [t for t in flatten(suite) if selected(test_name(t))]
    if not tests:
        return 0
    failed = [0]

    class Result(unittest.TestResult):
        def startTest(self, test):
            self._t = time.monotonic()
            super().startTest(test)

        def _secs(self):
            return time.monotonic() - getattr(self, "_t", time.monotonic())

        def addSuccess(self, test):
            super().addSuccess(test)
            emit("PASS", test_name(test), self._secs())

        def _bad(self, test, err):
            failed[0] += 1
            name = test_name(test) if hasattr(test, "_testMethodName") else \
                "%s::%s" % (short, str(getattr(test, "description", test)).replace(
                    modname + ".", ""))
            # Includes the test's buffered stdout/stderr.
            details = self._exc_info_to_string(err, test)
            emit("FAIL", name, self._secs(), "", details)

        def addFailure(self, test, err):
            super().addFailure(test, err)
            self._bad(test, err)

        def addError(self, test, err):
            super().addError(test, err)
            self._bad(test, err)

        def addSkip(self, test, reason):
            super().addSkip(test, reason)
            emit("SKIP", test_name(test) if hasattr(test, "_testMethodName")
                 else "%s::%s" % (short, test), self._secs(), reason)

        def addExpectedFailure(self, test, err):
            super().addExpectedFailure(test, err)
            emit("PASS", test_name(test), self._secs(), "expected failure")

        def addUnexpectedSuccess(self, test):
            super().addUnexpectedSuccess(test)
            failed[0] += 1
            emit("FAIL", test_name(test), self._secs(), "unexpected success")

    result = Result()
    result.buffer = True
    unittest.TestSuite(tests).run(result)
    return 1 if failed[0] else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("-k", metavar="PATTERN")
    ap.add_argument("--no-asan", action="store_true")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--layers", default="unit,asan,tsan,isa,scripts")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--result-fd", type=int, help=argparse.SUPPRESS)
    argv = sys.argv[1:]
    if "--child" not in argv:
        # `make test WIRT_TEST_ARGS="--quick -k virtio"` (make exports
        # command-line variables to the recipe's environment).
        argv = os.environ.get("WIRT_TEST_ARGS", "").split() + argv
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args.child, args.k, args.result_fd)
    os.chdir(REPO)
    return Runner(args).run()


if __name__ == "__main__":
    sys.exit(main())
