#!/usr/bin/python3
"""Contract tests: the test master and the UI against the real OpenShift API
schema (tests/openshift-api: openshift/api openapi.json definitions).
Run by make check.

- the validator itself rejects what the schema forbids;
- every object the test master serves (lists, single objects, watch events,
  errors as Status, ImageStreamImport results, pages) validates, strictly:
  a field the schema does not define is an error;
- the UI's OpenShift code (static/backend.js, run by
  tests/openshift-api/ui-harness.mjs against the master) sends only bodies
  that validate, and reads only fields the schema has: statically (every
  field name the code reads is declared in ui-reads.json, whose paths are
  checked against the schema) and at run time (every read traced from the
  master's objects is declared);
- OpenShift 3.11 behaviours the UI depends on: 403 Forbidden Status at the
  cluster scope (the UI falls back per project), 410 Gone for an expired
  watch resourceVersion (the UI lists again), a failed ImageStreamImport
  (the UI shows why), paging with limit/continue (the UI follows it).
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("top_srcdir") or os.path.dirname(HERE)
FIX = os.path.join(SRC, "tests", "fixtures")
API = os.path.join(SRC, "tests", "openshift-api")
STATIC = os.path.join(SRC, "static")
sys.dont_write_bytecode = True
sys.path.insert(0, FIX)
import fixturelib as fl  # noqa: E402
import openshift_schema  # noqa: E402

SCHEMA = openshift_schema.Schema()
IS = "/apis/image.openshift.io/v1"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
USER = "/apis/user.openshift.io/v1"
SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
# kinds the master serves that the schema file does not define (the UI uses
# none of them)
NOT_IN_SCHEMA = {"v1 Namespace", "v1 NamespaceList", "v1 APIResourceList", "v1 APIGroupList",
                 "None APIVersions"}


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise AssertionError("%s: exit %d\n%s%s" % (cmd, r.returncode, r.stdout, r.stderr))
    return r.stdout


# ------------------------------------------------------------ the validator

def image_stream():
    return {"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
            "metadata": {"name": "s", "namespace": "p", "creationTimestamp": "2024-01-01T00:00:00Z",
                         "annotations": {"a": "b"}, "generation": 1},
            "spec": {"tags": [{"name": "t", "from": {"kind": "DockerImage", "name": "x/y:t"}}]},
            "status": {"dockerImageRepository": "r/p/s", "tags": [
                {"tag": "t", "items": None, "conditions": [
                    {"type": "ImportSuccess", "status": "False", "generation": 1,
                     "message": "failed"}]}]}}


class ValidatorTest(unittest.TestCase):
    def errors(self, mutate, name=None):
        obj = image_stream()
        mutate(obj)
        return SCHEMA.validate(obj, name)

    def test_valid(self):
        self.assertEqual(SCHEMA.validate(image_stream()), [])
        self.assertTrue(SCHEMA.sources[0].startswith("openshift/api openapi.json definitions"))

    def test_unknown_field(self):
        errs = self.errors(lambda o: o["status"].update(publicRepository="x"))
        self.assertEqual(errs, ["$.status.publicRepository: property not in the schema "
                                "(ImageStreamStatus)"])

    def test_wrong_type(self):
        errs = self.errors(lambda o: o["metadata"].update(generation="1"))
        self.assertEqual(errs, ["$.metadata.generation: expected an integer, got '1'"])
        errs = self.errors(lambda o: o["spec"]["tags"][0].update(reference="yes"))
        self.assertEqual(errs, ["$.spec.tags[0].reference: expected a boolean, got 'yes'"])

    def test_required(self):
        errs = self.errors(lambda o: o["status"]["tags"][0]["conditions"][0].pop("status"))
        self.assertEqual(errs, ["$.status.tags[0].conditions[0]: required property 'status' "
                                "missing"])

    def test_formats_and_null(self):
        errs = self.errors(lambda o: o["metadata"].update(creationTimestamp="yesterday"))
        self.assertEqual(errs, ["$.metadata.creationTimestamp: 'yesterday' is not an RFC 3339 "
                                "date-time"])
        self.assertEqual(self.errors(lambda o: o["metadata"].update(creationTimestamp=None)), [])
        errs = self.errors(lambda o: o["metadata"].update(name=None))
        self.assertEqual(errs, ["$.metadata.name: null where the schema has string"])
        errs = self.errors(lambda o: o["metadata"]["annotations"].update(a=1))
        self.assertEqual(errs, ["$.metadata.annotations.a: expected a string, got int"])

    def test_enum(self):
        p = {"kind": "Project", "apiVersion": "project.openshift.io/v1",
             "metadata": {"name": "p"}, "status": {"phase": "Active"}}
        self.assertEqual(SCHEMA.validate(p), [])
        p["status"]["phase"] = "Running"
        self.assertEqual(len(SCHEMA.validate(p)), 1)
        self.assertIn("is not one of", SCHEMA.validate(p)[0])

    def test_docker_image_metadata(self):
        img = {"kind": "Image", "apiVersion": "image.openshift.io/v1", "metadata": {"name": "d"},
               "dockerImageMetadata": {"kind": "DockerImage",
                                       "apiVersion": "image.openshift.io/1.0", "Id": "x",
                                       "Config": {"Cmd": ["a"], "StopSignal": "TERM"}}}
        self.assertEqual(SCHEMA.validate(img), ["$.dockerImageMetadata.Config.StopSignal: property "
                                                "not in the schema (DockerConfig)"])

    def test_paths(self):
        self.assertEqual(SCHEMA.path_exists("ImageStream", "status.tags[].items[].image"),
                         (True, None))
        self.assertEqual(SCHEMA.path_exists("ImageStream", "status.publicRepository"),
                         (False, "status has no field publicRepository"))
        self.assertEqual(SCHEMA.path_exists("Image", "dockerImageMetadata.Os"),
                         (False, "DockerImage has no field Os"))
        self.assertEqual(SCHEMA.normalize("ImageStreamList", ["items", "[]", "metadata", "name"]),
                         (openshift_schema.OS + "image.v1.ImageStream", "metadata.name", None))


# ---------------------------------------------------- the UI's field reads

def js_code(text):
    """text with comments removed and string literals emptied; template
    literals keep their ${...} expressions.  Returns (code, line of each
    char)."""
    out = []
    i, n = 0, len(text)
    stack = []      # brace depths of open template expressions
    depth = 0
    prev = ""       # last significant code char, to tell a regex from a division
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
            continue
        if c == "/" and text.startswith("/*", i):
            j = text.index("*/", i) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            continue
        if c == "/" and (prev == "" or prev in "(,=:[!&|?{};+-*%<>~^"):
            j, cls = i + 1, False
            while j < n and (text[j] != "/" or cls):
                if text[j] == "\\":
                    j += 1
                elif text[j] == "[":
                    cls = True
                elif text[j] == "]":
                    cls = False
                j += 1
            out.append('""' + " " * (j + 1 - i - 2))
            i = j + 1
            prev = '"'
            continue
        if c in "'\"" or (c == "`") or (c == "}" and stack and stack[-1] == depth):
            if c == "}":
                stack.pop()
            quote = "`" if c in "`}" else c
            j = i + 1
            while j < n:
                if text[j] == "\\":
                    j += 2
                    continue
                if text[j] == quote:
                    break
                if quote == "`" and text.startswith("${", j):
                    break
                j += 1
            seg = text[i:j + 1] if j < n and text[j] == quote else text[i:j]
            out.append(re.sub(r"[^\n]", " ", seg))
            if quote == "`" and text.startswith("${", j):
                out.append("  ")
                stack.append(depth)
                i = j + 2
            else:
                i = j + 1
            prev = '"'
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        out.append(c)
        if not c.isspace():
            prev = c
        i += 1
    return "".join(out)


def field_reads(path, start=None, end=None):
    """{name: [line, ...]} of the property names read in a part of a JS file."""
    with open(path) as f:
        text = f.read()
    a = text.index(start) if start else 0
    b = text.index(end, a) if end else len(text)
    code = js_code(text)
    first_line = text.count("\n", 0, a) + 1
    names = {}

    def add(name, pos):
        names.setdefault(name, []).append(first_line + code.count("\n", a, pos))

    part = code[:b]
    # a.b, a?.b (not a.b = … : that writes; not ...spread)
    for m in re.finditer(r"(?<!\.)(?:\?\.|\.)(?!\.)\s*([A-Za-z_$][\w$]*)(?![\w$])(?!\s*=[^=>])",
                         part[a:]):
        add(m.group(1), a + m.start())
    # destructuring: const { a, b } = …, ({ a, b }) => …
    for m in re.finditer(r"\{\s*([\w$]+(?:\s*,\s*[\w$]+)*)\s*,?\s*\}\s*(?:=(?![=>])|\)\s*=>)",
                         part[a:]):
        for name in re.split(r"\s*,\s*", m.group(1).strip()):
            add(name, a + m.start())
    return names


# the UI's OpenShift code: backend.js's image config reader and its OpenShift
# part, and channel.js's JSON and watch readers
OPENSHIFT_PART = "/* ------------------------------------------------------------ OpenShift"
REGISTRY_PART = "/* ------------------------------------------------------------- registry"
UI_PARTS = [("backend.js", "function normalizeConfig(", OPENSHIFT_PART),
            ("backend.js", OPENSHIFT_PART, REGISTRY_PART),
            ("channel.js", "export async function json(", None)]


class UiFieldsTest(unittest.TestCase):
    """A static check of static/*.js: the UI reads no field the schema lacks."""

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(API, "ui-reads.json")) as f:
            cls.decl = json.load(f)
        cls.api_names = set()
        for kind, paths in cls.decl["reads"].items():
            for p in paths:
                cls.api_names.update(s for s in SCHEMA.split_path(p) if s != "[]")
        cls.other_names = set(cls.decl["notApi"]["js"])
        for names in cls.decl["notApi"]["ui"].values():
            cls.other_names.update(names)
        cls.reads = {}
        for f, start, end in UI_PARTS:
            for name, lines in field_reads(os.path.join(STATIC, f), start, end).items():
                cls.reads.setdefault(name, []).extend("%s:%d" % (f, n) for n in lines)

    def test_declared_paths_exist_in_schema(self):
        bad = []
        for kind, paths in self.decl["reads"].items():
            for p in paths:
                ok, why = SCHEMA.path_exists(kind, p)
                if not ok:
                    bad.append("%s %s: %s" % (kind, p, why))
        self.assertEqual(bad, [], "ui-reads.json declares fields the OpenShift schema does not "
                         "have")

    def test_every_field_read_is_declared(self):
        unknown = {n: where for n, where in self.reads.items()
                   if n not in self.api_names and n not in self.other_names}
        self.assertEqual(unknown, {}, "the UI reads fields that are neither declared API fields "
                         "(tests/openshift-api/ui-reads.json \"reads\", checked against the "
                         "schema) nor the UI's own (\"notApi\")")

    def test_no_stale_declarations(self):
        stale = sorted((self.api_names | self.other_names) - set(self.reads))
        self.assertEqual(stale, [], "declared in ui-reads.json but not read by the UI code")

    def test_the_scan_sees_reads(self):
        # the scan finds reads through ., ?. and destructuring, not in
        # strings, comments or regular expressions
        with tempfile.NamedTemporaryFile("w", suffix=".js", delete=False) as f:
            f.write('const { body, headers } = await json("master", `${o.status.tagz}.x`);\n'
                    '// p.commented\nconst x = "s.quoted" + a?.optional + /re.gex"/.source;\n'
                    "y = n / d.divided / 2; z = [...s.spread]; this.written = q.eq == 1;\n")
        try:
            self.assertEqual(sorted(field_reads(f.name)), ["body", "divided", "eq", "headers",
                                                           "optional", "source", "spread",
                                                           "status", "tagz"])
        finally:
            os.unlink(f.name)


# ------------------------------------------------------ the test master

class MasterContractTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.regdir = tempfile.mkdtemp(prefix="rc-contract-reg-")
        cls.mdir = tempfile.mkdtemp(prefix="rc-contract-master-")
        run([os.path.join(FIX, "registry-up"), "--quiet", "--htpasswd", cls.regdir])
        try:
            run([os.path.join(FIX, "test-master.py"), "--quiet", "--http", "--check-contract",
                 "--poll", "0.2", "--registry-env", os.path.join(cls.regdir, "env"), cls.mdir])
        except AssertionError:
            run([os.path.join(FIX, "registry-down"), cls.regdir])
            raise
        cls.env = fl.read_env(os.path.join(cls.mdir, "env"))
        cls.renv = fl.read_env(os.path.join(cls.regdir, "env"))
        cls.url = cls.env["MASTER_URL"]

    @classmethod
    def tearDownClass(cls):
        run([os.path.join(FIX, "test-master.py"), "--down", cls.mdir])
        run([os.path.join(FIX, "registry-down"), cls.regdir])
        shutil.rmtree(cls.regdir, ignore_errors=True)
        shutil.rmtree(cls.mdir, ignore_errors=True)

    def call(self, path, token=None, method="GET", body=None):
        """(status, JSON body), the body checked against the schema."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, method=method, data=data)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                st, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            st, raw = e.code, e.read()
        obj = json.loads(raw)
        if path != "/__control":
            self.conforms(obj, "%s %s → %d" % (method, path, st))
        return st, obj

    def conforms(self, obj, what):
        name = SCHEMA.definition_for(obj)
        if name is None:
            self.assertIn("%s %s" % (obj.get("apiVersion"), obj.get("kind")), NOT_IN_SCHEMA, what)
            return
        self.assertEqual(SCHEMA.validate(obj, name), [], what)

    def control(self, **kw):
        st, out = self.call("/__control", method="POST", body=kw)
        self.assertEqual(st, 200)
        return out

    @property
    def alice(self):
        return self.env["MASTER_TOKEN_ALICE"]

    @property
    def bob(self):
        return self.env["MASTER_TOKEN_BOB"]

    def tearDown(self):
        # whatever the test did, the master itself found nothing either
        out = self.control(pageSize=0, holdWatches=False)
        self.assertTrue(out["contractChecked"])
        self.assertEqual(out["contractViolations"], [])
        self.assertLessEqual(set(out["uncheckedKinds"]), NOT_IN_SCHEMA)

    def test_objects_validate(self):
        st, tools = self.call(IS + "/namespaces/demo/imagestreams/tools", self.alice)
        self.assertEqual(st, 200)
        digests = {it["image"] for t in tools["status"]["tags"] for it in t["items"]}
        paths = ["/apis/user.openshift.io/v1/users/~", "/oapi/v1/users/~",
                 "/apis/project.openshift.io/v1/projects",
                 "/apis/project.openshift.io/v1/projects/demo", "/oapi/v1/projects",
                 IS + "/imagestreams", IS + "/namespaces/demo/imagestreams",
                 IS + "/namespaces/demo/imagestreams/hello", "/oapi/v1/imagestreams",
                 IS + "/namespaces/demo/imagestreamtags",
                 IS + "/namespaces/demo/imagestreamtags/hello:1.1",
                 RBAC + "/namespaces/library/rolebindings", RBAC + "/rolebindings",
                 RBAC + "/namespaces/library/rolebindings/registry-viewer",
                 "/apis/authorization.openshift.io/v1/namespaces/library/rolebindings",
                 "/oapi/v1/namespaces/library/rolebindings", IS + "/images",
                 USER + "/users", USER + "/groups", USER + "/groups/viewers", USER + "/identities",
                 USER + "/identities/htpasswd_provider:dave", "/oapi/v1/groups"] + \
            [IS + "/images/" + d for d in digests]
        for p in paths:
            st, obj = self.call(p, self.alice)
            self.assertEqual(st, 200, p)
        # the index and its platform images
        st, img = self.call(IS + "/images/" + tools["status"]["tags"][0]["items"][0]["image"],
                            self.alice)
        self.assertTrue(img.get("dockerImageManifests") or img["dockerImageLayers"])

    def may(self, token, **attrs):
        st, r = self.call(SSAR, token, "POST", {
            "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
            "spec": {"resourceAttributes": attrs}})
        self.assertEqual((st, r["kind"], r["spec"]["resourceAttributes"]),
                         (201, "SelfSubjectAccessReview", attrs))
        return r["status"]["allowed"]

    def test_access_reviews_answer_what_the_master_does(self):
        """SelfSubjectAccessReview answers from the same role bindings that
        decide the requests: each answer is checked by doing it."""
        dave = self.env["MASTER_TOKEN_DAVE"]
        stream = {"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
                  "metadata": {"name": "access-probe"}}
        rb = {"kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
              "metadata": {"name": "access-probe"},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                          "name": "registry-viewer"},
              "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io",
                            "name": "nobody"}]}
        seen = set()
        for who, token in (("alice", self.alice), ("bob", self.bob), ("dave", dave)):
            for ns in ("demo", "library", "project-b"):
                may_read = self.may(token, namespace=ns, verb="list", group="image.openshift.io",
                                    resource="imagestreams")
                st, _ = self.call("%s/namespaces/%s/imagestreams" % (IS, ns), token)
                self.assertEqual(st, 200 if may_read else 403, (who, ns, "list"))
                self.assertEqual(self.may(token, namespace=ns, verb="get",
                                          group="image.openshift.io", resource="imagestreams",
                                          subresource="layers"), may_read, (who, ns, "pull"))
                may_create = self.may(token, namespace=ns, verb="create",
                                      group="image.openshift.io", resource="imagestreams")
                self.assertEqual(self.may(token, namespace=ns, verb="update",
                                          group="image.openshift.io", resource="imagestreams",
                                          subresource="layers"), may_create, (who, ns, "push"))
                st, _ = self.call("%s/namespaces/%s/imagestreams" % (IS, ns), token, "POST",
                                  stream)
                self.assertEqual(st, 201 if may_create else 403, (who, ns, "create"))
                if st == 201:
                    self.assertEqual(self.call("%s/namespaces/%s/imagestreams/access-probe" % (
                        IS, ns), token, "DELETE")[0], 200)
                may_bind = self.may(token, namespace=ns, verb="create",
                                    group="rbac.authorization.k8s.io", resource="rolebindings")
                st, _ = self.call("%s/namespaces/%s/rolebindings" % (RBAC, ns), token, "POST", rb)
                self.assertEqual(st, 201 if may_bind else 403, (who, ns, "bind"))
                if st == 201:
                    self.assertEqual(self.call("%s/namespaces/%s/rolebindings/access-probe" % (
                        RBAC, ns), token, "DELETE")[0], 200)
                seen.add((who, ns, may_read, may_create, may_bind))
            for res in ("users", "groups", "identities"):
                may_list = self.may(token, verb="list", group="user.openshift.io", resource=res)
                st, _ = self.call("%s/%s" % (USER, res), token)
                self.assertEqual(st, 200 if may_list else 403, (who, res))
                self.assertEqual(may_list, who == "alice")
        # the fixture's roles, as the UI will meet them
        self.assertLessEqual({("alice", "demo", True, True, True),
                              ("bob", "project-b", True, True, True),
                              ("bob", "library", True, False, False),
                              ("bob", "demo", False, False, False),
                              ("dave", "demo", True, False, False),
                              ("dave", "project-b", False, False, False)}, seen)
        # and a group's members get its bindings at once
        st, g = self.call(USER + "/groups/viewers", self.alice)
        g["users"] = [u for u in g["users"] if u != "dave"]
        self.assertEqual(self.call(USER + "/groups/viewers", self.alice, "PUT", g)[0], 200)
        try:
            self.assertFalse(self.may(dave, namespace="demo", verb="get",
                                      group="image.openshift.io", resource="imagestreams"))
            self.assertEqual(self.call(IS + "/namespaces/demo/imagestreams", dave)[0], 403)
        finally:
            st, g = self.call(USER + "/groups/viewers", self.alice)
            g["users"] = (g["users"] or []) + ["dave"]
            self.assertEqual(self.call(USER + "/groups/viewers", self.alice, "PUT", g)[0], 200)
        self.assertTrue(self.may(dave, namespace="demo", verb="get",
                                 group="image.openshift.io", resource="imagestreams"))
        # cluster scope: anyone but the service account may request projects
        self.assertTrue(self.may(dave, verb="create", group="project.openshift.io",
                                 resource="projectrequests"))
        self.assertFalse(self.may(self.env["MASTER_SA_TOKEN"], verb="create",
                                  group="project.openshift.io", resource="projectrequests"))

    def test_groups(self):
        """Create, update (with a stale resourceVersion: 409), patch, delete."""
        body = {"kind": "Group", "apiVersion": "user.openshift.io/v1",
                "metadata": {"name": "contract-group"}, "users": ["bob"]}
        st, g = self.call(USER + "/groups", self.alice, "POST", body)
        self.assertEqual((st, g["users"]), (201, ["bob"]))
        self.assertEqual(self.call(USER + "/groups", self.alice, "POST", body)[0], 409)
        self.assertEqual(self.call(USER + "/groups", self.bob, "POST", body)[0], 403)
        g["users"].append("dave")
        st, g2 = self.call(USER + "/groups/contract-group", self.alice, "PUT", g)
        self.assertEqual((st, g2["users"]), (200, ["bob", "dave"]))
        st, s = self.call(USER + "/groups/contract-group", self.alice, "PUT", g)
        self.assertEqual((st, s["reason"]), (409, "Conflict"))
        st, g3 = self.call(USER + "/groups/contract-group", self.alice, "PATCH",
                           {"users": None})
        self.assertEqual((st, g3["users"]), (200, None))
        self.assertEqual(self.call(USER + "/groups/contract-group", self.bob, "DELETE")[0], 403)
        self.assertEqual(self.call(USER + "/groups/contract-group", self.alice, "DELETE")[0], 200)
        self.assertEqual(self.call(USER + "/groups/contract-group", self.alice)[0], 404)

    def test_errors_are_status(self):
        cases = [
            (None, "GET", IS + "/imagestreams", None, 401, "Unauthorized"),
            (self.bob, "GET", IS + "/imagestreams", None, 403, "Forbidden"),
            (self.bob, "GET", IS + "/imagestreams?watch=true", None, 403, "Forbidden"),
            (self.bob, "GET", RBAC + "/rolebindings", None, 403, "Forbidden"),
            (self.bob, "GET", IS + "/namespaces/demo/imagestreams", None, 403, "Forbidden"),
            (self.bob, "DELETE", "/apis/project.openshift.io/v1/projects/library", None, 403,
             "Forbidden"),
            (self.alice, "GET", IS + "/namespaces/demo/imagestreams/nothing", None, 404,
             "NotFound"),
            (self.alice, "POST", IS + "/namespaces/demo/imagestreams",
             {"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
              "metadata": {"name": "hello"}}, 409, "AlreadyExists"),
            (self.alice, "POST", IS + "/namespaces/demo/imagestreams",
             {"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
              "metadata": {"name": "Bad Name"}}, 422, "Invalid"),
            (self.alice, "GET", IS + "/imagestreams?limit=1&continue=bogus", None, 400,
             "BadRequest"),
        ]
        for token, method, path, body, code, reason in cases:
            st, s = self.call(path, token, method, body)
            self.assertEqual((st, s["kind"], s["status"], s["code"], s["reason"]),
                             (code, "Status", "Failure", code, reason), path)
        # what the UI's fallback needs: a 403 Status saying what was refused
        st, s = self.call(IS + "/imagestreams", self.bob)
        self.assertEqual(s["details"], {"kind": "imagestreams", "group": "image.openshift.io"})
        self.assertIn('User "bob" cannot list resource "imagestreams"', s["message"])

    def test_paging(self):
        st, full = self.call(IS + "/imagestreams", self.alice)
        self.assertNotIn("continue", full["metadata"])
        names, cont, pages = [], "", 0
        while True:
            q = "limit=1" + ("&continue=" + urllib.parse.quote(cont) if cont else "")
            st, page = self.call(IS + "/imagestreams?" + q, self.alice)
            self.assertEqual(st, 200)
            self.assertLessEqual(len(page["items"]), 1)
            names += [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in page["items"]]
            pages += 1
            cont = page["metadata"].get("continue")
            if not cont:
                break
        self.assertEqual(names, [(i["metadata"]["namespace"], i["metadata"]["name"])
                                 for i in full["items"]])
        self.assertEqual(pages, len(full["items"]))
        # the server may answer fewer than asked for
        self.control(pageSize=2)
        st, page = self.call(IS + "/imagestreams?limit=500", self.alice)
        self.assertEqual(len(page["items"]), 2)
        self.assertTrue(page["metadata"]["continue"])
        # a continue from before a compaction: 410 Expired
        self.control(compact=True)
        st, s = self.call(IS + "/imagestreams?limit=500&continue=" +
                          urllib.parse.quote(page["metadata"]["continue"]), self.alice)
        self.assertEqual((st, s["reason"], s["code"]), (410, "Expired", 410))

    def watch(self, path, token, until, deadline_s=15):
        """Events of a watch (each checked) until until(events) or its end."""
        u = urllib.parse.urlsplit(self.url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=deadline_s)
        conn.request("GET", path, headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        events = []
        end = time.monotonic() + deadline_s
        try:
            while time.monotonic() < end:
                line = r.readline()
                if not line:
                    return events, True
                ev = json.loads(line)
                self.assertEqual(SCHEMA.validate(ev, "WatchEvent"), [])
                self.conforms(ev["object"], "watch event of " + path)
                events.append(ev)
                if until(events):
                    return events, False
        finally:
            conn.close()
        self.fail("watch %s: expected event not seen: %s" % (path, events))

    def test_watch_events_and_gone(self):
        ns = IS + "/namespaces/project-b/imagestreams"
        st, lst = self.call(ns, self.bob)
        rv = lst["metadata"]["resourceVersion"]
        st, _ = self.call(ns, self.bob, "POST", {"kind": "ImageStream",
                                                 "apiVersion": "image.openshift.io/v1",
                                                 "metadata": {"name": "watched"}})
        self.assertEqual(st, 201)
        st, _ = self.call(ns + "/watched", self.bob, "DELETE")
        self.assertEqual(st, 200)
        evs, _ = self.watch(ns + "?watch=true&resourceVersion=" + rv, self.bob,
                            lambda e: [x["type"] for x in e] == ["ADDED", "DELETED"])
        self.assertEqual(evs[0]["object"]["metadata"]["name"], "watched")
        # compacted away: one ERROR event with a 410 Gone Status, then the end
        self.control(compact=True)
        evs, ended = self.watch(ns + "?watch=true&resourceVersion=" + rv, self.bob,
                                lambda e: False)
        self.assertTrue(ended)
        self.assertEqual([e["type"] for e in evs], ["ERROR"])
        s = evs[0]["object"]
        self.assertEqual((s["kind"], s["code"], s["reason"]), ("Status", 410, "Gone"))

    def test_import_with_a_failed_tag(self):
        host = self.renv["REGISTRY_HOST"]
        st, out = self.call(IS + "/namespaces/project-b/imagestreamimports", self.bob, "POST", {
            "kind": "ImageStreamImport", "apiVersion": "image.openshift.io/v1",
            "metadata": {"name": "imported", "namespace": "project-b"},
            "spec": {"import": True, "images": [
                {"from": {"kind": "DockerImage", "name": host + "/project-b/app:v1"},
                 "to": {"name": "v1"}},
                {"from": {"kind": "DockerImage", "name": "docker.io/library/busybox:1.36"},
                 "to": {"name": "remote"}}]},
            "status": {}})
        self.assertEqual(st, 201)
        good, bad = out["status"]["images"]
        self.assertEqual(good["status"]["status"], "Success")
        self.assertTrue(good["image"]["metadata"]["name"].startswith("sha256:"))
        self.assertEqual((bad["status"]["status"], bad["tag"]), ("Failure", "remote"))
        self.assertIn("unable to access docker.io/library/busybox:1.36", bad["status"]["message"])
        self.assertEqual([t["tag"] for t in out["status"]["import"]["status"]["tags"]], ["v1"])
        # a spec tag the master cannot import: the tag's condition says why
        st, s = self.call(IS + "/namespaces/project-b/imagestreams/imported", self.bob)
        s["spec"]["tags"].append({"name": "later", "from": {"kind": "DockerImage",
                                                            "name": "quay.io/x/y:1"}})
        st, s = self.call(IS + "/namespaces/project-b/imagestreams/imported", self.bob, "PUT", s)
        self.assertEqual(st, 200)
        later = next(t for t in s["status"]["tags"] if t["tag"] == "later")
        self.assertEqual((later["items"], later["conditions"][0]["type"],
                          later["conditions"][0]["status"]), (None, "ImportSuccess", "False"))
        self.assertEqual(self.call(IS + "/namespaces/project-b/imagestreams/imported", self.bob,
                                   "DELETE")[0], 200)

    def test_ui_against_the_master(self):
        """The UI's backend.js against the master: its requests validate, its
        reads are declared fields of the schema, and the behaviours above
        work from the UI's side (see ui-harness.mjs)."""
        out = os.path.join(self.mdir, "ui-harness.json")
        env = dict(os.environ, MASTER_URL=self.url, MASTER_CONTROL=self.env["MASTER_CONTROL"],
                   MASTER_TOKEN_ALICE=self.alice, MASTER_TOKEN_BOB=self.bob,
                   REGISTRY_HOST=self.renv["REGISTRY_HOST"])
        r = subprocess.run(["node", os.path.join(API, "ui-harness.mjs"), STATIC, out], env=env,
                           capture_output=True, text=True, timeout=180)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(out) as f:
            got = json.load(f)
        self.assertTrue(got["results"].get("ok"))
        # every body the UI sent
        kinds = set()
        for req in got["requests"]:
            kinds.add(req["body"].get("kind"))
            self.assertEqual(SCHEMA.validate(req["body"]), [],
                             "%s %s" % (req["method"], req["path"]))
        self.assertEqual(kinds, {"ProjectRequest", "ImageStream", "ImageStreamImport",
                                 "RoleBinding", "SelfSubjectAccessReview", "Group"})
        # every field the UI read from the master's objects
        with open(os.path.join(API, "ui-reads.json")) as f:
            declared = {(SCHEMA.resolve_name(k), p)
                        for k, paths in json.load(f)["reads"].items() for p in paths}
        missing, undeclared = [], []
        for line in got["reads"]:
            root, segs = line.split("\t")
            av, _, kind = root.partition(" ")
            name = "WatchEvent" if root == "WatchEvent" else \
                SCHEMA.definition_for({"apiVersion": av, "kind": kind})
            self.assertIsNotNone(name, root)
            cur, path, error = SCHEMA.normalize(name, json.loads(segs))
            if error:
                missing.append("%s %s: %s" % (cur.rsplit(".", 1)[1], path, error))
            elif (cur, path) not in declared:
                undeclared.append("%s %s" % (cur.rsplit(".", 1)[1], path))
        self.assertEqual(missing, [], "the UI read fields the OpenShift schema does not have")
        self.assertEqual(undeclared, [], "the UI read fields not declared in ui-reads.json")


if __name__ == "__main__":
    unittest.main(verbosity=2)
