# SPDX-License-Identifier: MIT
"""docs/openapi.yaml against the code of `wirt serve`, both ways, so the
document cannot drift:

- the YAML parses, is OpenAPI 3.0, every operation has a unique
  operationId and responses, and every $ref resolves;
- every path word the routing code of src/serve/*.c compares with appears
  in a documented path, and every literal word of a documented path is
  one the code compares with;
- a running service answers every documented (method, path) and answers
  "no such resource" (404) or 405 to every other method on those paths.
"""
import glob
import json
import os
import re
import shutil
import tempfile
import unittest

import yaml

from servelib import ServeTestCase, WebSocket

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(REPO, "docs", "openapi.yaml")
METHODS = ("get", "head", "post", "put", "patch", "delete")
SAMPLE = {"name": "probe-vm", "snap": "snap1", "file": "index.html"}


def load_doc():
    with open(DOC) as f:
        return yaml.safe_load(f)


def code_words():
    """The path words the routing code compares with: is(verb|parts[N],
    "W"), str(n)cmp(url..., "W"), and the sscanf patterns matched on url."""
    words = set()
    for path in glob.glob(os.path.join(REPO, "src", "serve", "*.c")):
        with open(path) as f:
            text = f.read()
        for m in re.finditer(r'\bis\((?:verb|parts\[\d\]), "([^"]+)"\)', text):
            words.add(m.group(1))
        for m in re.finditer(r'\bstrn?cmp\(url(?: \+ \d+)?, "([^"]+)"', text):
            words.update(w for w in m.group(1).split("/") if w)
        for m in re.finditer(r'\bsscanf\(url(?: \+ \d+)?, "([^"]+)"', text):
            fmt = re.sub(r"%\d*\[[^\]]*\]", "%s", m.group(1)).replace("%n", "")
            words.update(w for w in fmt.split("/") if w and "%" not in w)
    return words


def doc_words(doc):
    words = set()
    for p in doc["paths"]:
        words.update(w for w in p.split("/") if w and not w.startswith("{"))
    return words


class OpenApiDocument(unittest.TestCase):
    def setUp(self):
        self.doc = load_doc()

    def test_parses_as_openapi_3(self):
        self.assertTrue(str(self.doc["openapi"]).startswith("3.0"))
        self.assertIn("title", self.doc["info"])
        ids = []
        for path, item in self.doc["paths"].items():
            self.assertTrue(path.startswith("/"), path)
            params = re.findall(r"\{(\w+)\}", path)
            declared = [p["name"] for p in item.get("parameters", [])
                        if "$ref" not in p] + [
                self.resolve(p["$ref"])["name"] for p in item.get("parameters", []) if "$ref" in p]
            for p in params:
                self.assertIn(p, declared, "%s: {%s} is not declared" % (path, p))
            for m in METHODS:
                if m in item:
                    op = item[m]
                    ids.append(op["operationId"])
                    self.assertTrue(op.get("summary"), "%s %s: no summary" % (m, path))
                    self.assertTrue(op.get("responses"), "%s %s: no responses" % (m, path))
            self.assertFalse(set(item) - set(METHODS) - {"parameters", "summary", "description"},
                             "%s: unknown keys" % path)
        self.assertEqual(len(ids), len(set(ids)), "operationIds are not unique")

    def resolve(self, ref):
        self.assertTrue(ref.startswith("#/"), ref)
        node = self.doc
        for part in ref[2:].split("/"):
            self.assertIn(part, node, "dangling $ref " + ref)
            node = node[part]
        return node

    def test_every_ref_resolves(self):
        refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(self.doc))
        self.assertGreater(len(refs), 20)
        for ref in refs:
            self.resolve(ref)

    def test_code_words_are_documented(self):
        code, doc = code_words(), doc_words(self.doc)
        # The scan itself must find the routes (a change of coding style
        # must not turn this test into one that cannot fail).
        self.assertTrue({"vms", "metrics", "events", "start", "console", "login"} <= code, code)
        self.assertEqual(sorted(code - doc), [], "routes in src/serve/ missing from " + DOC)
        self.assertEqual(sorted(doc - code), [], "paths in %s that src/serve/ never matches" % DOC)


class OpenApiServed(ServeTestCase):
    """Every method on every documented path of a running service."""

    def start_serve(self):
        # A UI directory of our own, so / and /ui/FILE answer whether or
        # not `make web` ran.
        self.web = tempfile.mkdtemp(prefix="wirt-openapi-web-")
        with open(os.path.join(self.web, "index.html"), "w") as f:
            f.write("<html></html>\n")
        import subprocess
        from servelib import WIRT
        self.proc = subprocess.Popen([WIRT, "serve", "--store", self.s.store, "--listen",
                                      "127.0.0.1:%d" % self.port, "--web", self.web],
                                     stderr=self.log)
        import time
        token_file = os.path.join(self.s.store, "serve.token")
        for _ in range(200):
            if os.path.exists(token_file) and self.request("GET", "/api/v1/vms")[0] == 401:
                return
            time.sleep(0.05)
        raise AssertionError("wirt serve did not come up")

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.web, ignore_errors=True)

    def answers(self, method, path, websocket):
        """True when the service serves (method, path): anything but a 405
        or a 404 naming no resource (a 404 for the sample VM is an answer)."""
        if websocket:
            ws = WebSocket(self.port, path, {"Authorization": "Bearer " + self.token})
            status = ws.status
            body = ws.rest
            ws.close()
        else:
            # X-Wirt-Request: /login asks it of everyone (bearer clients
            # are not held to it elsewhere).
            hdrs = {"Authorization": "Bearer " + self.token, "Content-Type": "application/json",
                    "X-Wirt-Request": "1"}
            body_out = "{}" if method in ("POST", "PUT", "PATCH") else None
            if path == "/login" and body_out:
                body_out = json.dumps({"token": self.token})
            status, body, _ = self.request(method, path, body_out, hdrs)
        self.assertNotEqual(status, 0, "%s %s: no answer" % (method, path))
        self.assertNotIn(status, (401, 403, 500), "%s %s: %d %r" % (method, path, status, body))
        if method == "HEAD":
            return status < 400
        if status == 405:
            return False
        return not (status == 404 and b"no such resource" in body)

    def test_documented_operations_are_served_and_no_others(self):
        doc = load_doc()
        checked = 0
        for template, item in doc["paths"].items():
            path = re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], template)
            for m in METHODS:
                op = item.get(m)
                ws = bool(op and op.get("x-websocket"))
                got = self.answers(m.upper(), path, ws)
                self.assertEqual(got, op is not None,
                                 "%s %s: %s" % (m.upper(), template,
                                                "documented but not served" if op else
                                                "served but not in docs/openapi.yaml"))
                checked += 1
        self.assertGreaterEqual(checked, 17 * len(METHODS))


if __name__ == "__main__":
    unittest.main()
