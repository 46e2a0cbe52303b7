#!/usr/bin/python3
"""Self-tests of the test fixtures (tests/fixtures): the real registry with
its auth variants and the test OpenShift master.  Run by make check."""

import base64
import http.client
import json
import os
import shutil
import socket
import ssl
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
sys.dont_write_bytecode = True
sys.path.insert(0, FIX)
import fixturelib as fl  # noqa: E402

HOSTILE = "<img src=x onerror=alert(1)>"
EXPECTED_TAGS = {
    "demo/hello": {"1.0", "1.1", "latest"},
    "demo/labels": {"1.0"},
    "demo/tools": {"latest", "2.0"},
    "library/busybox-like": {"1.36", "latest"},
    "project-b/app": {"v1", "v2", "stable"},
}
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = ", ".join(["application/vnd.oci.image.manifest.v1+json", OCI_INDEX,
                    "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json"])


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


def request(url, method="GET", headers=None, body=None, ctx=None, timeout=10, follow=True):
    """(status, headers, body bytes) for any status."""
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    if data is not None and "Content-Type" not in (headers or {}):
        req.add_header("Content-Type", "application/json")
    handlers = [urllib.request.HTTPSHandler(context=ctx)] if ctx else []
    if not follow:
        handlers.append(NoRedirect())
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()}


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise AssertionError("%s: exit %d\n%s%s" % (cmd, r.returncode, r.stdout, r.stderr))
    return r.stdout


class Registry:
    def __init__(self, *flags):
        self.dir = tempfile.mkdtemp(prefix="rc-registry-")
        t0 = time.monotonic()
        run([os.path.join(FIX, "registry-up"), "--quiet", *flags, self.dir])
        self.seconds = time.monotonic() - t0
        self.env = fl.read_env(os.path.join(self.dir, "env"))
        self.url = self.env["REGISTRY_URL"]

    def down(self):
        run([os.path.join(FIX, "registry-down"), self.dir])
        shutil.rmtree(self.dir, ignore_errors=True)


class RegistryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.reg = Registry()

    @classmethod
    def tearDownClass(cls):
        cls.reg.down()

    def get_json(self, path, accept=None):
        st, h, body = request(self.reg.url + path, headers={"Accept": accept} if accept else {})
        self.assertEqual(st, 200, path)
        return json.loads(body), h

    def test_catalog_and_tags(self):
        cat, _ = self.get_json("/v2/_catalog")
        self.assertEqual(sorted(cat["repositories"]), sorted(EXPECTED_TAGS))
        for repo, tags in EXPECTED_TAGS.items():
            got, _ = self.get_json("/v2/%s/tags/list" % repo)
            self.assertEqual(set(got["tags"]), tags, repo)

    def test_image_config(self):
        m, h = self.get_json("/v2/demo/hello/manifests/1.1", ACCEPT)
        self.assertEqual(h["Content-Type"], "application/vnd.oci.image.manifest.v1+json")
        self.assertEqual(len(m["layers"]), 3)
        conf, _ = self.get_json("/v2/demo/hello/blobs/" + m["config"]["digest"])
        c = conf["config"]
        self.assertEqual(c["Labels"]["org.opencontainers.image.description"], HOSTILE)
        self.assertEqual(c["Cmd"], ["--greet", "world"])
        self.assertEqual(c["Entrypoint"], ["/usr/bin/hello"])
        self.assertIn("GREETING=hello world", c["Env"])
        self.assertEqual(set(c["ExposedPorts"]), {"8080/tcp", "8443/tcp"})
        self.assertEqual(set(c["Volumes"]), {"/data", "/var/log/hello"})
        self.assertEqual((c["WorkingDir"], c["User"]), ("/srv", "1001:0"))
        self.assertEqual(conf["author"], "Registry Console Fixtures <fixtures@example.com>")
        self.assertEqual(len([x for x in conf["history"] if not x.get("empty_layer")]), 3)
        # latest and 1.1 are the same image
        _, h2 = self.get_json("/v2/demo/hello/manifests/latest", ACCEPT)
        self.assertEqual(h["Docker-Content-Digest"], h2["Docker-Content-Digest"])

    def test_long_non_ascii_labels(self):
        """demo/labels:1.0 carries long 2-, 3- and 4-byte UTF-8 label values,
        written raw (not \\u-escaped) into its config blob, so that cutting
        the blob into the console's 4 KiB pieces cuts characters of each
        width: what the console's UTF-8 handling is tested with."""
        m, _ = self.get_json("/v2/demo/labels/manifests/1.0", ACCEPT)
        st, _, blob = request(self.reg.url + "/v2/demo/labels/blobs/" + m["config"]["digest"])
        self.assertEqual(st, 200)
        labels = json.loads(blob)["config"]["Labels"]
        self.assertEqual(labels["org.example.text.latin"], "\u00e9" * 20000)
        self.assertEqual(labels["org.example.text.cjk"], "\u4e2d\u6587" * 3500)
        self.assertEqual(labels["org.example.text.emoji"], "\U0001f600\U0001d11e" * 2600)
        self.assertEqual(labels["org.example.text.mixed"], "a\u00e9\u20ac\U0001f600" * 2000)
        self.assertIn("\u00e9".encode() * 1000, blob)
        # at a 4 KiB boundary: the width of the character it falls into,
        # for each boundary inside a character
        cut = set()
        for off in range(4096, len(blob), 4096):
            start = off
            while 0x80 <= blob[start] < 0xC0:
                start -= 1
            if start != off:
                cut.add(len(blob[start:start + 4].decode("utf-8", "ignore")[0].encode()))
        self.assertEqual(cut, {2, 3, 4}, "4 KiB boundaries cut 2-, 3- and 4-byte characters")

    def test_index_and_schema2(self):
        idx, h = self.get_json("/v2/demo/tools/manifests/latest", ACCEPT)
        self.assertEqual(h["Content-Type"], OCI_INDEX)
        plats = sorted((m["platform"]["os"], m["platform"]["architecture"])
                       for m in idx["manifests"])
        self.assertEqual(plats, [("linux", "amd64"), ("linux", "arm64")])
        for m in idx["manifests"]:
            sub, _ = self.get_json("/v2/demo/tools/manifests/" + m["digest"], ACCEPT)
            conf, _ = self.get_json("/v2/demo/tools/blobs/" + sub["config"]["digest"])
            self.assertEqual(conf["architecture"], m["platform"]["architecture"])
        _, h = self.get_json("/v2/library/busybox-like/manifests/latest", ACCEPT)
        self.assertEqual(h["Content-Type"],
                         "application/vnd.docker.distribution.manifest.v2+json")

    def test_push_and_delete(self):
        run([os.path.join(FIX, "registry-push"), self.reg.dir, "app-v1", "demo/scratch:gone"])
        _, h = self.get_json("/v2/demo/scratch/manifests/gone", ACCEPT)
        st, _, _ = request(self.reg.url + "/v2/demo/scratch/manifests/" +
                           h["Docker-Content-Digest"], method="DELETE")
        self.assertEqual(st, 202)
        tags, _ = self.get_json("/v2/demo/scratch/tags/list")
        self.assertFalse(tags.get("tags"))

    def test_env_and_cache(self):
        env = self.reg.env
        self.assertTrue(env["REGISTRY_URL"].startswith("http://127.0.0.1:"))
        self.assertEqual(env["REGISTRY_HOST"], "127.0.0.1:" + env["REGISTRY_PORT"])
        self.assertTrue(os.path.isfile(os.path.join(env["REGISTRY_LAYOUT"], "index.json")))
        os.kill(int(env["REGISTRY_PID"]), 0)


class RegistryAuthTest(unittest.TestCase):
    def test_htpasswd(self):
        reg = Registry("--htpasswd")
        try:
            e = reg.env
            st, h, _ = request(reg.url + "/v2/")
            self.assertEqual(st, 401)
            self.assertIn("Basic", h["WWW-Authenticate"])
            st, _, _ = request(reg.url + "/v2/_catalog", headers=basic(e["REGISTRY_USER"], "wrong"))
            self.assertEqual(st, 401)
            st, _, body = request(reg.url + "/v2/_catalog",
                                  headers=basic(e["REGISTRY_USER"], e["REGISTRY_PASSWORD"]))
            self.assertEqual(st, 200)
            self.assertIn("demo/hello", json.loads(body)["repositories"])
        finally:
            reg.down()

    def test_token(self):
        reg = Registry("--token")
        try:
            e = reg.env
            st, h, _ = request(reg.url + "/v2/_catalog")
            self.assertEqual(st, 401)
            chal = h["WWW-Authenticate"]
            self.assertTrue(chal.startswith('Bearer realm="%s"' % e["REGISTRY_TOKEN_REALM"]), chal)

            def token(user, pw, scope):
                q = urllib.parse.urlencode({"service": e["REGISTRY_TOKEN_SERVICE"],
                                            "scope": scope})
                st, _, body = request(e["REGISTRY_TOKEN_REALM"] + "?" + q,
                                      headers=basic(user, pw))
                return st, json.loads(body)

            st, _ = token(e["REGISTRY_USER"], "wrong", "registry:catalog:*")
            self.assertEqual(st, 401)
            st, t = token(e["REGISTRY_USER"], e["REGISTRY_PASSWORD"], "registry:catalog:*")
            self.assertEqual(st, 200)
            st, _, body = request(reg.url + "/v2/_catalog",
                                  headers={"Authorization": "Bearer " + t["token"]})
            self.assertEqual(st, 200)
            self.assertIn("project-b/app", json.loads(body)["repositories"])
            # reader may pull but not push
            st, t = token(e["REGISTRY_READER_USER"], e["REGISTRY_READER_PASSWORD"],
                          "repository:demo/hello:pull,push")
            auth = {"Authorization": "Bearer " + t["token"]}
            st, _, _ = request(reg.url + "/v2/demo/hello/tags/list", headers=auth)
            self.assertEqual(st, 200)
            st, _, _ = request(reg.url + "/v2/demo/hello/blobs/uploads/", method="POST",
                               headers=auth, body=b"")
            self.assertEqual(st, 401)
            # a forged token (signed by another key) is refused
            bad = t["token"].rsplit(".", 1)[0] + "." + fl.b64url(b"\x01" * 256)
            st, _, _ = request(reg.url + "/v2/demo/hello/tags/list",
                               headers={"Authorization": "Bearer " + bad})
            self.assertEqual(st, 401)
        finally:
            reg.down()

    def test_tls(self):
        reg = Registry("--tls", "--empty")
        try:
            self.assertTrue(reg.url.startswith("https://127.0.0.1:"))
            ctx = ssl.create_default_context(cafile=reg.env["REGISTRY_CA"])
            st, _, _ = request(reg.url + "/v2/", ctx=ctx)
            self.assertEqual(st, 200)
            # and the push helper copes with TLS
            run([os.path.join(FIX, "registry-push"), reg.dir, "hello-1.0", "x/y:z"])
            st, _, body = request(reg.url + "/v2/x/y/tags/list", ctx=ctx)
            self.assertEqual(json.loads(body)["tags"], ["z"])
        finally:
            reg.down()


class MasterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.reg = Registry("--htpasswd")
        cls.mdir = tempfile.mkdtemp(prefix="rc-master-")
        cls.start_master()

    @classmethod
    def start_master(cls, *extra):
        run([sys.executable, os.path.join(FIX, "test-master.py"), "--quiet", "--poll", "0.2",
             "--registry-env", os.path.join(cls.reg.dir, "env"), *extra, cls.mdir])
        cls.env = fl.read_env(os.path.join(cls.mdir, "env"))
        cls.url = cls.env["MASTER_URL"]
        cls.ctx = ssl.create_default_context(cafile=cls.env["MASTER_CA"])

    @classmethod
    def tearDownClass(cls):
        run([sys.executable, os.path.join(FIX, "test-master.py"), "--down", cls.mdir])
        shutil.rmtree(cls.mdir, ignore_errors=True)
        cls.reg.down()

    def call(self, path, token=None, method="GET", body=None, headers=None, **kw):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        st, hdrs, raw = request(self.url + path, method=method, headers=h, body=body,
                                ctx=self.ctx, **kw)
        try:
            return st, json.loads(raw) if raw else None
        except ValueError:
            return st, raw

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

    def authorize(self, redirect, **extra):
        q = {"client_id": "cockpit-oauth-client", "response_type": "token",
             "redirect_uri": redirect, "state": "st-123"}
        q.update(extra)
        st, h, body = request(self.url + "/oauth/authorize?" + urllib.parse.urlencode(q),
                              ctx=self.ctx, follow=False)
        return st, h.get("Location"), body

    def test_authorize_redirect(self):
        st, loc, _ = self.authorize("https://127.0.0.1:41234/console/")
        self.assertEqual(st, 302)
        base, _, frag = loc.partition("#")
        self.assertEqual(base, "https://127.0.0.1:41234/console/")
        f = urllib.parse.parse_qs(frag)
        self.assertEqual(f["token_type"], ["Bearer"])
        self.assertEqual(f["expires_in"], ["86400"])
        self.assertEqual(f["state"], ["st-123"])
        st, user = self.call("/apis/user.openshift.io/v1/users/~", f["access_token"][0])
        self.assertEqual((st, user["metadata"]["name"]), (200, "alice"))
        # an unregistered redirect_uri is never redirected to
        st, loc, body = self.authorize("https://evil.example/")
        self.assertEqual((st, loc), (400, None))
        self.assertIn(b"invalid_request", body)
        st, loc, _ = self.authorize("https://127.0.0.1:1/", response_type="bogus")
        self.assertIn("#error=unsupported_response_type", loc)
        self.control(deny=True)
        try:
            st, loc, _ = self.authorize("https://127.0.0.1:1/")
            f = urllib.parse.parse_qs(loc.partition("#")[2])
            self.assertEqual((f["error"], f["state"]), (["access_denied"], ["st-123"]))
            self.assertIn("error_description", f)
        finally:
            self.control(deny=False)
        # basic credentials choose the user (the challenging client flow)
        q = urllib.parse.urlencode({"client_id": "cockpit-oauth-client",
                                    "response_type": "token",
                                    "redirect_uri": "https://127.0.0.1:1/"})
        st, h, _ = request(self.url + "/oauth/authorize?" + q, ctx=self.ctx, follow=False,
                           headers=basic("bob", self.env["MASTER_PASSWORD_BOB"]))
        tok = urllib.parse.parse_qs(h["Location"].partition("#")[2])["access_token"][0]
        self.assertEqual(self.call("/oapi/v1/users/~", tok)[1]["metadata"]["name"], "bob")
        st, well = self.call("/.well-known/oauth-authorization-server")
        self.assertEqual(well["authorization_endpoint"], self.url + "/oauth/authorize")

    def test_code_grant(self):
        st, loc, _ = self.authorize("https://127.0.0.1:1/cb", response_type="code")
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)["code"][0]
        form = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code,
                                       "redirect_uri": "https://127.0.0.1:1/cb"}).encode()
        st, _, raw = request(self.url + "/oauth/token", method="POST", body=form, ctx=self.ctx,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(raw)["token_type"], "Bearer")
        st, _, _ = request(self.url + "/oauth/token", method="POST", body=form, ctx=self.ctx,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 400)  # a code is good once

    def test_users(self):
        for path in ("/apis/user.openshift.io/v1/users/~", "/oapi/v1/users/~"):
            st, u = self.call(path, self.alice)
            self.assertEqual(st, 200)
            self.assertEqual((u["kind"], u["metadata"]["name"]), ("User", "alice"))
            self.assertIn("system:authenticated", u["groups"])
            for tok in (None, self.env["MASTER_INVALID_TOKEN"]):
                st, s = self.call(path, tok)
                self.assertEqual(st, 401)
                self.assertEqual((s["kind"], s["status"], s["reason"], s["code"]),
                                 ("Status", "Failure", "Unauthorized", 401))
        st, u = self.call("/oapi/v1/users/~", self.env["MASTER_SA_TOKEN"])
        self.assertEqual(u["metadata"]["name"], "system:serviceaccount:default:registry-console")

    def test_streams_match_registry(self):
        st, lst = self.call("/apis/image.openshift.io/v1/imagestreams", self.alice)
        self.assertEqual(st, 200)
        got = {"%s/%s" % (i["metadata"]["namespace"], i["metadata"]["name"]):
               {t["tag"] for t in i["status"]["tags"]} for i in lst["items"]}
        for repo, tags in EXPECTED_TAGS.items():
            self.assertEqual(got[repo], tags)
        st, projects = self.call("/apis/project.openshift.io/v1/projects", self.alice)
        names = {p["metadata"]["name"] for p in projects["items"]}
        self.assertTrue({"demo", "library", "project-b"} <= names)

    def test_image_from_registry(self):
        st, ist = self.call("/apis/image.openshift.io/v1/namespaces/demo/imagestreamtags/"
                            "hello:1.1", self.alice)
        self.assertEqual(st, 200)
        img = ist["image"]
        md = img["dockerImageMetadata"]
        self.assertEqual(md["Config"]["Labels"]["org.opencontainers.image.description"], HOSTILE)
        self.assertEqual(md["Config"]["WorkingDir"], "/srv")
        self.assertEqual(md["Architecture"], "amd64")
        self.assertEqual(len(img["dockerImageLayers"]), 3)
        st, img2 = self.call("/apis/image.openshift.io/v1/images/" + img["metadata"]["name"],
                             self.alice)
        self.assertEqual(img2["dockerImageMetadata"]["Id"], md["Id"])
        st, ist = self.call("/apis/image.openshift.io/v1/namespaces/demo/imagestreamtags/"
                            "tools:latest", self.alice)
        arches = sorted(m["architecture"] for m in ist["image"]["dockerImageManifests"])
        self.assertEqual(arches, ["amd64", "arm64"])

    def test_field_selector(self):
        st, lst = self.call("/apis/image.openshift.io/v1/imagestreams?fieldSelector="
                            "metadata.name%3Dhello", self.alice)
        self.assertEqual([(i["metadata"]["namespace"], i["metadata"]["name"])
                          for i in lst["items"]], [("demo", "hello")])

    def test_forbidden(self):
        st, s = self.call("/apis/image.openshift.io/v1/namespaces/demo/imagestreams", self.bob)
        self.assertEqual((st, s["reason"]), (403, "Forbidden"))
        st, s = self.call("/apis/project.openshift.io/v1/projects/demo", self.bob)
        self.assertEqual(st, 403)
        st, lst = self.call("/apis/project.openshift.io/v1/projects", self.bob)
        self.assertEqual({p["metadata"]["name"] for p in lst["items"]}, {"library", "project-b"})
        st, _ = self.call("/apis/image.openshift.io/v1/namespaces/project-b/imagestreams/app",
                          self.bob)
        self.assertEqual(st, 200)

    def read_events(self, path, token, until, deadline_s=15):
        """Open a watch, call until(events) after each event; returns events."""
        u = urllib.parse.urlsplit(self.url)
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=self.ctx,
                                           timeout=deadline_s)
        conn.request("GET", path, headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Transfer-Encoding"], "chunked")
        events = []
        end = time.monotonic() + deadline_s
        try:
            while time.monotonic() < end:
                line = r.readline()
                if not line:
                    break
                events.append(json.loads(line))
                if until(events):
                    return events
        finally:
            conn.close()
        self.fail("watch %s: expected event not seen; got %s" % (
            path, [(e["type"], e["object"].get("metadata", {}).get("name")) for e in events]))

    def test_watch_sees_push(self):
        st, lst = self.call("/apis/image.openshift.io/v1/namespaces/project-b/imagestreams",
                            self.bob)
        rv = lst["metadata"]["resourceVersion"]
        import threading
        pushed = threading.Event()

        def push():
            run([os.path.join(FIX, "registry-push"), self.reg.dir, "app-v1",
                 "project-b/app:pushed"])
            pushed.set()

        threading.Thread(target=push).start()

        def seen(evs):
            return any(e["type"] == "MODIFIED" and e["object"]["metadata"]["name"] == "app" and
                       "pushed" in {t["tag"] for t in e["object"]["status"]["tags"]}
                       for e in evs)
        evs = self.read_events("/apis/image.openshift.io/v1/namespaces/project-b/imagestreams"
                               "?watch=true&resourceVersion=" + rv, self.bob, seen)
        self.assertTrue(pushed.wait(30))
        self.assertTrue(all(e["object"]["metadata"]["namespace"] == "project-b" for e in evs))

    def test_project_lifecycle_and_watch(self):
        import threading
        st, lst = self.call("/apis/project.openshift.io/v1/projects", self.bob)
        rv = lst["metadata"]["resourceVersion"]

        def create():
            st, p = self.call("/apis/project.openshift.io/v1/projectrequests", self.bob, "POST",
                              {"kind": "ProjectRequest",
                               "apiVersion": "project.openshift.io/v1",
                               "metadata": {"name": "bobs"}, "displayName": "Bob's"})
            self.assertEqual(st, 201)
        threading.Thread(target=create).start()
        self.read_events("/apis/project.openshift.io/v1/projects?watch=true&resourceVersion=" +
                         rv, self.bob, lambda evs: any(
                             e["type"] == "ADDED" and e["object"]["metadata"]["name"] == "bobs"
                             for e in evs))
        st, _ = self.call("/apis/project.openshift.io/v1/projectrequests", self.bob, "POST",
                          {"metadata": {"name": "bobs"}})
        self.assertEqual(st, 409)
        st, _ = self.call("/apis/project.openshift.io/v1/projectrequests", self.bob, "POST",
                          {"metadata": {"name": "Bad_Name"}})
        self.assertEqual(st, 422)
        # bob administers it: image streams and role bindings
        st, s = self.call("/apis/image.openshift.io/v1/namespaces/bobs/imagestreams", self.bob,
                          "POST", {"metadata": {"name": "fresh"}})
        self.assertEqual(st, 201)
        st, rb = self.call("/apis/rbac.authorization.k8s.io/v1/namespaces/bobs/rolebindings",
                           self.bob, "POST",
                           {"metadata": {"name": "viewers"},
                            "roleRef": {"kind": "ClusterRole", "name": "registry-viewer"},
                            "subjects": [{"kind": "Group",
                                          "name": "system:authenticated"}]})
        self.assertEqual(st, 201)
        st, lst = self.call("/apis/authorization.openshift.io/v1/namespaces/bobs/rolebindings",
                            self.bob)
        byname = {i["metadata"]["name"]: i for i in lst["items"]}
        self.assertEqual(byname["admin"]["userNames"], ["bob"])
        self.assertEqual(byname["viewers"]["groupNames"], ["system:authenticated"])
        st, _ = self.call("/apis/authorization.openshift.io/v1/namespaces/bobs/rolebindings/"
                          "viewers", self.bob, "DELETE")
        self.assertEqual(st, 200)
        st, _ = self.call("/apis/project.openshift.io/v1/projects/bobs", self.bob, "DELETE")
        self.assertEqual(st, 200)
        st, _ = self.call("/apis/project.openshift.io/v1/projects/bobs", self.alice)
        self.assertEqual(st, 404)

    def test_fault_switches(self):
        self.control(fail=True)
        try:
            st, s = self.call("/apis/user.openshift.io/v1/users/~", self.alice)
            self.assertEqual((st, s["reason"]), (500, "InternalError"))
        finally:
            self.control(fail=False)
        self.control(hang=True)
        try:
            with self.assertRaises((socket.timeout, TimeoutError, urllib.error.URLError)):
                request(self.url + "/apis/user.openshift.io/v1/users/~", ctx=self.ctx,
                        timeout=0.5, headers={"Authorization": "Bearer " + self.alice})
        finally:
            self.control(hang=False)
        self.assertEqual(self.call("/apis/user.openshift.io/v1/users/~", self.alice)[0], 200)

    def test_import_and_spec_tags(self):
        host = self.reg.env["REGISTRY_HOST"]
        base = "/apis/image.openshift.io/v1/namespaces/project-b/"
        st, out = self.call(base + "imagestreamimports", self.bob, "POST", {
            "kind": "ImageStreamImport", "apiVersion": "image.openshift.io/v1",
            "metadata": {"name": "synced"},
            "spec": {"import": True, "images": [
                {"from": {"kind": "DockerImage", "name": host + "/demo/hello:1.0"},
                 "to": {"name": "one"}},
                {"from": {"kind": "DockerImage", "name": "quay.example/x/y:1"},
                 "to": {"name": "remote"}}]}})
        self.assertEqual(st, 201)
        res = {r["tag"]: r["status"]["status"] for r in out["status"]["images"]}
        self.assertEqual(res, {"one": "Success", "remote": "Failure"})
        st, s = self.call(base + "imagestreams/synced", self.bob)
        self.assertEqual(st, 200)
        one = [t for t in s["status"]["tags"] if t["tag"] == "one"][0]
        self.assertTrue(one["items"][0]["image"].startswith("sha256:"))
        # a spec tag pointing at another stream's tag resolves; a remote one fails
        s["spec"]["tags"].append({"name": "alias", "from": {"kind": "ImageStreamTag",
                                                            "name": "app:v2"}})
        s["spec"]["tags"].append({"name": "far", "from": {"kind": "DockerImage",
                                                          "name": "quay.example/a/b:c"}})
        st, s2 = self.call(base + "imagestreams/synced", self.bob, "PUT", s)
        self.assertEqual(st, 200)
        tags = {t["tag"]: t for t in s2["status"]["tags"]}
        st, app = self.call(base + "imagestreamtags/app:v2", self.bob)
        self.assertEqual(tags["alias"]["items"][0]["image"], app["image"]["metadata"]["name"])
        self.assertIsNone(tags["far"]["items"])
        self.assertEqual(tags["far"]["conditions"][0]["status"], "False")
        # a stale resourceVersion conflicts
        st, _ = self.call(base + "imagestreams/synced", self.bob, "PUT", s)
        self.assertEqual(st, 409)
        # merge patch of an annotation, then delete a tag and the stream
        st, s3 = self.call(base + "imagestreams/synced", self.bob, "PATCH",
                           {"metadata": {"annotations": {"note": "<b>x</b>"}}},
                           headers={"Content-Type": "application/merge-patch+json"})
        self.assertEqual((st, s3["metadata"]["annotations"]["note"]), (200, "<b>x</b>"))
        st, _ = self.call(base + "imagestreamtags/synced:alias", self.bob, "DELETE")
        self.assertEqual(st, 200)
        st, s4 = self.call(base + "imagestreams/synced", self.bob)
        self.assertNotIn("alias", {t["tag"] for t in s4["status"]["tags"]})
        st, _ = self.call(base + "imagestreams/synced", self.bob, "DELETE")
        self.assertEqual(st, 200)
        self.assertEqual(self.call(base + "imagestreams/synced", self.bob)[0], 404)

    def test_zz_restart_keeps_tokens(self):
        st, loc, _ = self.authorize("https://127.0.0.1:2/")
        tok = urllib.parse.parse_qs(loc.partition("#")[2])["access_token"][0]
        port = self.env["MASTER_PORT"]
        run([sys.executable, os.path.join(FIX, "test-master.py"), "--down", self.mdir])
        type(self).start_master("--port", port)
        self.assertEqual(self.env["MASTER_PORT"], port)
        st, u = self.call("/apis/user.openshift.io/v1/users/~", tok)
        self.assertEqual((st, u["metadata"]["name"]), (200, "alice"))


class ScaleTest(unittest.TestCase):
    """registry-up --tags/--repos/--bulk and registry-fill (scalegen.py)."""

    @classmethod
    def setUpClass(cls):
        cls.reg = Registry("--htpasswd", "--tags", "scale/t:40", "--write-tags", "scale/w:40", "--repos", "300",
                           "--bulk", "30")
        e = cls.reg.env
        cls.auth = basic(e["REGISTRY_USER"], e["REGISTRY_PASSWORD"])

    @classmethod
    def tearDownClass(cls):
        cls.reg.down()

    def get(self, path, accept=None):
        h = dict(self.auth, **({"Accept": accept} if accept else {}))
        st, hdrs, body = request(self.reg.url + path, headers=h)
        self.assertEqual(st, 200, path)
        return json.loads(body), hdrs

    def catalog(self):
        names, path = [], "/v2/_catalog?n=100"
        while path:
            body, h = self.get(path)
            names += body["repositories"]
            link = h.get("Link") or ""
            path = link[1:link.index(">")] if link else None
        return names

    def test_tags_through_the_api(self):
        tags = self.get("/v2/scale/t/tags/list")[0]["tags"]
        self.assertEqual(len(tags), 40)
        for t in ["latest", "1.9", "1.10", "v2.0.0-rc1", "v2.0.0", "multi", "multi-docker"]:
            self.assertIn(t, tags)
        images = {}
        for t in tags:
            m, h = self.get("/v2/scale/t/manifests/" + t, ACCEPT)
            images[t] = (h["Docker-Content-Digest"], h["Content-Type"], m)
        # every 10th tag is an alias of the one before; the others are distinct
        names = [t for t in sorted(tags, key=lambda t: (not t.startswith("build-"), t))
                 if t.startswith("build-")]
        self.assertEqual(images["build-00002"][0], images["build-00001"][0])
        self.assertEqual(images["build-00012"][0], images["build-00011"][0])
        self.assertEqual(len({images[t][0] for t in tags}), 37)   # 3 aliases
        created, sizes = {}, {}
        for t, (digest, ctype, m) in images.items():
            if "index" in ctype or "list" in ctype:
                self.assertEqual(sorted(x["platform"]["architecture"] for x in m["manifests"]),
                                 ["amd64", "arm64"])
                continue
            self.assertIn(len(m["layers"]), (1, 2, 3))
            conf, _ = self.get("/v2/scale/t/blobs/" + m["config"]["digest"])
            created[digest] = conf["created"]
            sizes[digest] = m["config"]["size"] + sum(x["size"] for x in m["layers"])
        self.assertEqual(len(set(created.values())), len(created))
        self.assertEqual(len(set(sizes.values())), len(sizes))
        self.assertEqual(images["multi"][1], OCI_INDEX)
        self.assertIn("application/vnd.docker.distribution.manifest.v2+json",
                      {c for _, c, _ in images.values()})
        # created spans months, not minutes, and is not in name order
        self.assertGreater(max(created.values())[:7], min(created.values())[:7])
        order = [created[images[t][0]] for t in names]
        self.assertNotEqual(order, sorted(order))

    def test_tags_written_into_the_storage_are_the_pushed_ones(self):
        pushed = self.get("/v2/scale/t/tags/list")[0]["tags"]
        written = self.get("/v2/scale/w/tags/list")[0]["tags"]
        self.assertEqual(sorted(written), sorted(pushed))
        for t in pushed:
            m, h = self.get("/v2/scale/w/manifests/" + t, ACCEPT)
            _, ht = self.get("/v2/scale/t/manifests/" + t, ACCEPT)
            self.assertEqual(h["Docker-Content-Digest"], ht["Docker-Content-Digest"], t)
            for d in [x["digest"] for x in m.get("manifests", [])]:
                self.get("/v2/scale/w/manifests/" + d, ACCEPT)
            if "config" in m:
                st, hdrs, _ = request(self.reg.url + "/v2/scale/w/blobs/" + m["layers"][0]["digest"],
                                      headers=self.auth, method="HEAD")
                self.assertEqual((st, int(hdrs["Content-Length"])), (200, m["layers"][0]["size"]), t)

    def test_repositories_in_storage(self):
        names = self.catalog()
        gen = [n for n in names
               if not n.startswith(("bulk/", "demo/", "library/", "project-b/", "scale/"))]
        self.assertEqual(len(gen), 300)
        kinds = {n.split("-")[0] for n in gen}
        self.assertEqual(kinds, {"team", "user", "tool", "org"})
        self.assertTrue(any(n.count("/") == 2 for n in gen))
        counts = set()
        for n in gen[:40]:
            tags = self.get("/v2/%s/tags/list" % n)[0]["tags"]
            counts.add(len(tags))
            m, h = self.get("/v2/%s/manifests/%s" % (n, tags[0]), ACCEPT)
            if "config" in m:
                conf, _ = self.get("/v2/%s/blobs/%s" % (n, m["config"]["digest"]))
                self.assertTrue(conf["created"])
        self.assertGreater(len(counts), 2)
        self.assertTrue(counts <= {1, 2, 3, 4, 5}, counts)

    def test_bulk(self):
        names = self.catalog()
        self.assertEqual(len([n for n in names if n.startswith("bulk/image-")]), 30)
        self.assertEqual(self.get("/v2/bulk/image-00030/tags/list")[0]["tags"], ["latest"])
        _, h1 = self.get("/v2/bulk/image-00030/manifests/latest", ACCEPT)
        _, h2 = self.get("/v2/library/busybox-like/manifests/latest", ACCEPT)
        self.assertEqual(h1["Docker-Content-Digest"], h2["Docker-Content-Digest"])

    def test_full_layout_keeps_repositories_apart(self):
        reg = Registry("--empty")
        try:
            run([os.path.join(FIX, "registry-fill"), "repos", reg.dir, "--count", "20",
                 "--layout", "full", "--seed", "full"])
            body = json.loads(request(reg.url + "/v2/_catalog")[2])["repositories"]
            self.assertEqual(len(body), 20)
            one, two = body[0], body[1]
            t1 = json.loads(request(reg.url + "/v2/%s/tags/list" % one)[2])["tags"]
            st, h, _ = request(reg.url + "/v2/%s/manifests/%s" % (one, t1[0]),
                               headers={"Accept": ACCEPT})
            digest = h["Docker-Content-Digest"]
            st, _, _ = request(reg.url + "/v2/%s/manifests/%s" % (one, digest), method="DELETE")
            self.assertEqual(st, 202)
            st, _, _ = request(reg.url + "/v2/%s/manifests/%s" % (one, digest),
                               headers={"Accept": ACCEPT})
            self.assertEqual(st, 404)
            # the other repositories keep their tags
            t2 = json.loads(request(reg.url + "/v2/%s/tags/list" % two)[2])["tags"]
            for t in t2:
                st, _, _ = request(reg.url + "/v2/%s/manifests/%s" % (two, t),
                                   headers={"Accept": ACCEPT})
                self.assertEqual(st, 200, "%s:%s" % (two, t))
        finally:
            reg.down()

    def test_tags_with_token_auth(self):
        reg = Registry("--token", "--empty", "--tags", "scale/tok:12")
        try:
            e = reg.env
            q = urllib.parse.urlencode({"service": e["REGISTRY_TOKEN_SERVICE"],
                                        "scope": "repository:scale/tok:pull"})
            st, _, body = request(e["REGISTRY_TOKEN_REALM"] + "?" + q,
                                  headers=basic(e["REGISTRY_USER"], e["REGISTRY_PASSWORD"]))
            tok = json.loads(body)["token"]
            st, _, body = request(reg.url + "/v2/scale/tok/tags/list",
                                  headers={"Authorization": "Bearer " + tok})
            self.assertEqual(st, 200)
            self.assertEqual(len(json.loads(body)["tags"]), 12)
        finally:
            reg.down()


if __name__ == "__main__":
    unittest.main(verbosity=2)
