#!/usr/bin/python3
"""The registry channels (registry-tags, registry-catalog, registry-search,
registry-summary) of the real registry-console, over real TLS, against the
real docker-registry (htpasswd) behind a paging, faulting proxy
(tests/fixtures/registry_proxy.py): rows as the registry has them, tags/list
and _catalog pages followed by Link, 429/500 answered for some requests (the
rows say so, the walk completes), a tag deleted or moved mid-walk, bad input
(malformed manifests, configs without created, huge and non-UTF-8 tag
names), the cache shared between users but never to one without access, at
most RegistryConcurrency requests at once, and the server's RSS flat over
repeated walks. doc/architecture.md, "Registry channels"."""

import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "fixtures"))
sys.dont_write_bytecode = True
import cockpit_client as cc  # noqa: E402
import fixturelib as fl  # noqa: E402
import integration as it  # noqa: E402
from registry_proxy import Proxy  # noqa: E402

F = os.path.join(HERE, "fixtures")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = ", ".join([OCI_INDEX, "application/vnd.docker.distribution.manifest.list.v2+json",
                    OCI_MANIFEST, "application/vnd.docker.distribution.manifest.v2+json"])
CONCURRENCY = 3


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def layer(name):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = name.encode()
        info = tarfile.TarInfo(name)
        info.size, info.mtime = len(data), 0
        tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


SHARED_LAYER = layer("shared")


def image(n, created=True):
    """Blobs and manifest of a distinct small image number N."""
    own = layer("own-%d" % n)
    cfg = {"architecture": "amd64", "os": "linux", "config": {"Labels": {"n": str(n)}},
           "rootfs": {"type": "layers", "diff_ids": [sha(b"x"), sha(b"y")]}}
    if created:
        cfg["created"] = "2024-%02d-%02dT10:00:00Z" % (n % 12 + 1, n % 28 + 1)
    config = canonical(cfg)
    manifest = canonical({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": sha(b), "size": len(b)} for b in (SHARED_LAYER, own)]})
    return {"config": config, "layers": [SHARED_LAYER, own], "manifest": manifest,
            "digest": sha(manifest), "size": len(config) + len(SHARED_LAYER) + len(own),
            "created": cfg.get("created")}


def write_storage(regdir, repo, tags):
    """TAGS {tag: image} written straight into the registry's filesystem
    storage as docker-registry lays it out (fast, no bcrypt per request)."""
    v2 = os.path.join(regdir, "storage", "docker", "registry", "v2")

    def put(path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    def blob(data):
        h = hashlib.sha256(data).hexdigest()
        p = os.path.join(v2, "blobs", "sha256", h[:2], h, "data")
        if not os.path.exists(p):
            put(p, data)
        return "sha256:" + h

    r = os.path.join(v2, "repositories", repo)
    for tag, im in tags.items():
        for b in [im["config"]] + im["layers"]:
            d = blob(b)
            put(os.path.join(r, "_layers", "sha256", d[7:], "link"), d.encode())
        d = blob(im["manifest"])
        put(os.path.join(r, "_manifests", "revisions", "sha256", d[7:], "link"), d.encode())
        put(os.path.join(r, "_manifests", "tags", tag, "current", "link"), d.encode())
        put(os.path.join(r, "_manifests", "tags", tag, "index", "sha256", d[7:], "link"), d.encode())


def write_wide_index(regdir, repo, tag, platforms, layers):
    """An index of PLATFORMS image manifests of LAYERS distinct layers each,
    written into storage (the layers themselves are not: only manifests
    are read)."""
    v2 = os.path.join(regdir, "storage", "docker", "registry", "v2")

    def put(path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    def manifest(data):
        d = sha(data)
        put(os.path.join(v2, "blobs", "sha256", d[7:9], d[7:], "data"), data)
        put(os.path.join(v2, "repositories", repo, "_manifests", "revisions", "sha256", d[7:], "link"),
            d.encode())
        return d

    entries = []
    for p in range(platforms):
        m = canonical({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": sha(b"config %s %d" % (tag.encode(), p)), "size": 10},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": sha(b"layer %s %d %d" % (tag.encode(), p, n)), "size": 1000}
                       for n in range(layers)]})
        entries.append({"mediaType": OCI_MANIFEST, "digest": manifest(m), "size": len(m),
                        "platform": {"os": "linux", "architecture": "arch%d" % p}})
    d = manifest(canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}))
    tags = os.path.join(v2, "repositories", repo, "_manifests", "tags", tag)
    put(os.path.join(tags, "current", "link"), d.encode())
    put(os.path.join(tags, "index", "sha256", d[7:], "link"), d.encode())


class Registry:
    """Requests straight to the registry (not through the console)."""

    def __init__(self, env):
        self.url = env["REGISTRY_URL"]
        self.auth = "Basic " + base64.b64encode(
            ("%s:%s" % (env["REGISTRY_USER"], env["REGISTRY_PASSWORD"])).encode()).decode()

    def request(self, method, path, data=None, headers=None):
        h = {"Authorization": self.auth, **(headers or {})}
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict((k.lower(), v) for k, v in r.headers.items()), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict((k.lower(), v) for k, v in e.headers.items()), e.read()

    def push(self, repo, tag, im):
        for b in [im["config"]] + im["layers"]:
            st, h, _ = self.request("POST", "/v2/%s/blobs/uploads/" % repo, b"")
            assert st == 202, st
            loc = h["location"]
            loc = loc[len(self.url):] if loc.startswith(self.url) else loc
            st, _, _ = self.request("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + sha(b), b,
                                    {"Content-Type": "application/octet-stream"})
            assert st == 201, st
        st, _, body = self.request("PUT", "/v2/%s/manifests/%s" % (repo, tag), im["manifest"],
                                   {"Content-Type": OCI_MANIFEST})
        assert st == 201, (st, body)

    def digest(self, repo, ref):
        st, h, _ = self.request("HEAD", "/v2/%s/manifests/%s" % (repo, ref), headers={"Accept": ACCEPT})
        return h.get("docker-content-digest") if st == 200 else None

    def json(self, path):
        st, _, body = self.request("GET", path, headers={"Accept": ACCEPT})
        assert st == 200, (path, st)
        return json.loads(body)


class Walk:
    """One registry channel, read to its end."""

    def __init__(self, ws, payload, **options):
        self.ch = ws.open(payload, **options)
        self.rows, self.progress, self.frames, self.order = [], [], 0, []
        self.close, self.ready = None, False
        while self.close is None:
            c, msg = ws.recv()
            if c == self.ch:
                self.frames += 1
                text = msg.decode("utf-8")      # a text channel: must be UTF-8
                self.assertWholeLines(text)
                for line in text.splitlines():
                    row = json.loads(line)
                    self.rows.append(row)
                    self.order.append(row["type"])
            elif c == "" and msg.get("channel") == self.ch:
                if msg["command"] == "ready":
                    self.ready = True
                elif msg["command"] == "progress":
                    self.progress.append(msg)
                elif msg["command"] == "close":
                    self.close = msg

    @staticmethod
    def assertWholeLines(text):
        assert text.endswith("\n"), "a frame ends inside a row"

    @property
    def problem(self):
        return self.close.get("problem")

    def tags(self):
        return {r["tag"]: r for r in self.rows if r["type"] == "tag"}

    def names(self):
        return [n for r in self.rows if r["type"] == "names" for n in r["names"]]


class Base(unittest.TestCase):
    """The real registry (htpasswd, the fixture's images and a 40-tag
    repository), the proxy in front, the console behind it."""

    CONF = ""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rc-registry-channels-")
        cls.regdir = os.path.join(cls.tmp, "registry")
        it.run([os.path.join(F, "registry-up"), "--quiet", "--htpasswd", cls.regdir])
        cls.env = fl.read_env(os.path.join(cls.regdir, "env"))
        cls.registry = Registry(cls.env)
        cls.images = [image(n) for n in range(40)]
        write_storage(cls.regdir, "paged/many", {"t-%04d" % n: im for n, im in enumerate(cls.images)})
        cls.proxy = Proxy(cls.env["REGISTRY_URL"])
        conf = os.path.join(cls.tmp, "cockpit.conf")
        with open(conf, "w") as f:
            f.write("[WebService]\nRegistryConcurrency = %d\n%s" % (CONCURRENCY, cls.CONF))
        cls.console = it.Console(cls.tmp, {"REGISTRY_URL": cls.proxy.url}, args=["--config", conf])
        cls.admin = cls.login(cls.env["REGISTRY_USER"], cls.env["REGISTRY_PASSWORD"])
        cls.reader = cls.login(cls.env["REGISTRY_READER_USER"], cls.env["REGISTRY_READER_PASSWORD"])

    @classmethod
    def tearDownClass(cls):
        cls.admin.close()
        cls.reader.close()
        cls.console.stop()
        cls.proxy.stop()
        it.run([os.path.join(F, "registry-down"), cls.regdir])
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def login(cls, user, password):
        c = cls.console.client()
        st, body = c.login_registry(user, password)
        assert st == 200, body
        return c.socket()

    def setUp(self):
        self.proxy.reset()

    def walk(self, ws, repository, **options):
        w = Walk(ws, "registry-tags", repository=repository, **options)
        self.assertTrue(w.ready, w.close)
        return w

    def everything(self):
        """{(repository, tag): {digests of its manifest, platforms, configs, layers}}
        straight from the registry."""
        out = {}
        for repo in self.registry.json("/v2/_catalog?n=1000")["repositories"]:
            for tag in self.registry.json("/v2/%s/tags/list" % repo).get("tags") or []:
                digest = self.registry.digest(repo, tag)
                if not digest:
                    continue
                found, todo = {digest}, [digest]
                while todo:
                    m = self.registry.json("/v2/%s/manifests/%s" % (repo, todo.pop()))
                    for p in m.get("manifests", []):
                        found.add(p["digest"])
                        todo.append(p["digest"])
                    found.update(x["digest"] for x in [m.get("config") or {}] + m.get("layers", [])
                                 if x.get("digest"))
                out[(repo, tag)] = found
        return out


class RegistryChannels(Base):
    # ---------------------------------------------------------------- rows

    def test_rows_are_what_the_registry_holds(self):
        w = self.walk(self.admin, "demo/hello", fresh=True)
        self.assertIsNone(w.problem, w.close)
        tags = w.tags()
        self.assertEqual(sorted(tags), ["1.0", "1.1", "latest"])
        for name, row in tags.items():
            digest = self.registry.digest("demo/hello", name)
            self.assertEqual(row["digest"], digest)
            m = self.registry.json("/v2/demo/hello/manifests/" + digest)
            cfg = self.registry.json("/v2/demo/hello/blobs/" + m["config"]["digest"])
            self.assertEqual(row["size"], m["config"]["size"] + sum(x["size"] for x in m["layers"]))
            self.assertEqual(row["layers"], len(m["layers"]))
            self.assertEqual(row["created"], cfg["created"])
            self.assertEqual(row["mediaType"], OCI_MANIFEST)
            self.assertNotIn("error", row)
        self.assertEqual(tags["latest"]["digest"], tags["1.1"]["digest"])
        final = w.progress[-1]
        self.assertEqual((final["listed"], final["done"], final["complete"]), (3, 3, True))

    def test_index_rows_have_platforms(self):
        w = self.walk(self.admin, "demo/tools", fresh=True)
        row = w.tags()["latest"]
        self.assertEqual(row["mediaType"], OCI_INDEX)
        plats = {(p["os"], p["architecture"], p.get("variant")) for p in row["platforms"]}
        self.assertEqual(plats, {("linux", "amd64", None), ("linux", "arm64", "v8")})
        for p in row["platforms"]:
            m = self.registry.json("/v2/demo/tools/manifests/" + p["digest"])
            self.assertEqual(p["size"], m["config"]["size"] + sum(x["size"] for x in m["layers"]))
            self.assertIn("created", p)
        self.assertEqual(w.tags()["2.0"]["digest"], [p for p in row["platforms"]
                                                     if p["architecture"] == "amd64"][0]["digest"])

    def test_names_first_then_rows_paged_by_link(self):
        self.proxy.page = 7
        w = self.walk(self.admin, "paged/many", fresh=True)
        self.assertIsNone(w.problem, w.close)
        self.assertEqual(w.order[0], "names")
        self.assertEqual(sorted(w.names()), sorted("t-%04d" % n for n in range(40)))
        self.assertEqual(len(w.tags()), 40)
        self.assertGreaterEqual(self.proxy.count("GET", r"/tags/list"), 6)    # 40 / 7 pages
        for n, im in enumerate(self.images):
            row = w.tags()["t-%04d" % n]
            self.assertEqual((row["digest"], row["size"], row["created"]),
                             (im["digest"], im["size"], im["created"]))
        # rows come batched: far fewer frames than rows
        self.assertLess(w.frames, len(w.rows))

    # -------------------------------------------------------------- faults

    def test_429_and_500_show_in_rows_and_the_walk_completes(self):
        self.proxy.faults = [
            {"path": r"/paged/many/manifests/t-0003$", "status": 429, "times": 2, "retry_after": 0},
            {"path": r"/paged/many/manifests/t-0005$", "status": 500, "times": -1},
            {"path": r"/paged/many/blobs/" + sha(self.images[7]["config"]), "status": 503, "times": -1},
        ]
        w = self.walk(self.admin, "paged/many", fresh=True)
        self.assertIsNone(w.problem, w.close)
        tags = w.tags()
        self.assertEqual(len(tags), 40)
        self.assertEqual(tags["t-0003"]["digest"], self.images[3]["digest"])     # retried
        self.assertNotIn("error", tags["t-0003"])
        self.assertEqual(tags["t-0005"]["status"], 500)
        self.assertIn("500", tags["t-0005"]["error"])
        # a config that cannot be had: the row has the manifest's size, no created
        if "created" not in tags["t-0007"]:
            self.assertIn("503", tags["t-0007"]["warning"])
        self.assertEqual(tags["t-0007"]["size"], self.images[7]["size"])
        self.assertEqual(sum(1 for r in tags.values() if "error" in r), 1)
        self.assertEqual(self.proxy.count("GET", r"manifests/t-0005$"), 1)      # a 500 is not retried
        self.assertEqual(self.proxy.count("GET", r"manifests/t-0003$"), 3)      # a 429 is, twice

    def test_failed_later_page_is_an_error_row(self):
        self.proxy.page = 10
        self.proxy.faults = [{"path": r"tags/list\?.*last=t-0019", "status": 500, "times": -1}]
        w = self.walk(self.admin, "paged/many", fresh=True)
        self.assertIsNone(w.problem, w.close)
        errors = [r for r in w.rows if r["type"] == "error"]
        self.assertEqual(len(errors), 1)
        self.assertEqual(errors[0]["status"], 500)
        self.assertEqual(len(w.tags()), 20)
        self.assertFalse(w.progress[-1]["complete"] and w.progress[-1]["listed"] == 40)

    def test_tag_deleted_mid_walk(self):
        repo = "moving/deleted"
        a, b = image(100), image(101)
        self.registry.push(repo, "keep", a)
        self.registry.push(repo, "gone", b)
        self.proxy.on_list[repo] = [lambda: self.registry.request(
            "DELETE", "/v2/%s/manifests/%s" % (repo, b["digest"]))]
        w = self.walk(self.admin, repo, fresh=True)
        self.assertIsNone(w.problem, w.close)
        tags = w.tags()
        self.assertEqual(tags["keep"]["digest"], a["digest"])
        if "gone" in tags:     # listed before the delete took effect
            self.assertEqual(tags["gone"]["status"], 404)

    def test_tag_moved_between_requests(self):
        repo = "moving/tag"
        a, b = image(110), image(111)
        self.registry.push(repo, "mover", a)
        w = self.walk(self.admin, repo, fresh=True)
        self.assertEqual(w.tags()["mover"]["digest"], a["digest"])
        # moved after tags/list answered, before the manifest is read
        self.proxy.on_list[repo] = [lambda: self.registry.push(repo, "mover", b)]
        w = self.walk(self.admin, repo, fresh=True)
        row = w.tags()["mover"]
        self.assertEqual((row["digest"], row["created"], row["size"]), (b["digest"], b["created"], b["size"]))
        # another user never gets this user's tag → digest: moved back, the
        # reader sees where it is now
        self.proxy.on_list.clear()
        self.registry.push(repo, "mover", a)
        w = self.walk(self.reader, repo)
        self.assertEqual(w.tags()["mover"]["digest"], a["digest"])

    # ----------------------------------------------------------- bad input

    def test_bad_input_shows_in_rows(self):
        repo = "bad/input"
        good, nocreated, broken = image(120), image(121, created=False), image(122)
        self.registry.push(repo, "good", good)
        self.registry.push(repo, "nocreated", nocreated)
        self.registry.push(repo, "notjson", broken)
        self.registry.push(repo, "latin1", broken)
        self.proxy.extra_tags[repo] = [b"x" * 300, b"caf\xe9", b"../escape", b"a b"]
        self.proxy.bodies["/v2/%s/manifests/notjson" % repo] = {
            "type": OCI_MANIFEST, "body": b"<html>not a manifest</html>"}
        self.proxy.bodies["/v2/%s/manifests/latin1" % repo] = {
            "type": OCI_MANIFEST, "body": b'{"schemaVersion":2,"annotations":{"a":"caf\xe9"}}'}
        w = self.walk(self.admin, repo, fresh=True)
        self.assertIsNone(w.problem, w.close)
        self.assertEqual(w.order[0], "names")       # the good names first, then the rows
        tags = w.tags()
        self.assertEqual(tags["good"]["created"], good["created"])
        self.assertNotIn("created", tags["nocreated"])
        self.assertIn("no \"created\"", tags["nocreated"]["warning"])
        self.assertEqual(tags["nocreated"]["size"], nocreated["size"])
        self.assertIn("manifest", tags["notjson"]["error"])
        self.assertIn("error", tags["latin1"])
        huge = [t for t in tags if t.startswith("xxxx")]
        self.assertEqual(len(huge), 1)
        self.assertLess(len(huge[0]), 300)
        self.assertIn("128", tags[huge[0]]["error"])
        self.assertIn("caf\ufffd", tags)
        self.assertIn("not a valid tag name", tags["caf\ufffd"]["error"])
        self.assertIn("not a valid tag name", tags["../escape"]["error"])
        self.assertIn("not a valid tag name", tags["a b"]["error"])
        # nothing was asked of the registry for a name that is not a tag
        self.assertEqual(self.proxy.count(pattern=r"manifests/(caf|\.\.|a%20b|a b|xxxx)"), 0)

    # ------------------------------------------------------- cache, access

    def test_warm_visits_cost_little_and_another_user_is_checked(self):
        self.walk(self.admin, "paged/many", fresh=True)
        self.proxy.reset()
        w = self.walk(self.admin, "paged/many")     # same user, within the memo time
        self.assertEqual(len(w.tags()), 40)
        self.assertEqual(self.proxy.count(), 1)      # tags/list only
        self.proxy.reset()
        w = self.walk(self.reader, "paged/many")     # another user: own tags/list and HEADs
        self.assertEqual(len(w.tags()), 40)
        self.assertEqual(self.proxy.count("GET", r"tags/list"), 1)
        self.assertEqual(self.proxy.count("HEAD", r"/manifests/t-"), 40)
        self.assertEqual(self.proxy.count(pattern=r"/blobs/|/manifests/sha256:"), 0)
        self.assertEqual({u for _, _, u, _ in self.proxy.log}, {self.env["REGISTRY_READER_USER"]})

    def test_no_pull_rights_gets_nothing_from_the_cache(self):
        self.walk(self.admin, "demo/hello", fresh=True)       # the cache knows demo/hello
        self.proxy.reset()
        self.proxy.deny.add((self.env["REGISTRY_READER_USER"], "demo/hello"))
        w = self.walk(self.reader, "demo/hello")
        self.assertEqual(w.problem, "access-denied")
        self.assertEqual(w.rows, [])
        self.assertEqual(self.proxy.count(), 1)
        # a subset of tags is checked the same way
        w = self.walk(self.reader, "demo/hello", tags=["1.0"])
        self.assertEqual((w.problem, w.rows), ("access-denied", []))

    def test_subset_and_unknown_repository(self):
        w = self.walk(self.admin, "paged/many", tags=["t-0001", "t-0002", "nope"], fresh=True)
        tags = w.tags()
        self.assertEqual(sorted(tags), ["nope", "t-0001", "t-0002"])
        self.assertEqual(tags["nope"]["status"], 404)
        self.assertEqual(tags["t-0002"]["digest"], self.images[2]["digest"])
        w = self.walk(self.admin, "does/not-exist")
        self.assertEqual(w.problem, "not-found")
        w = Walk(self.admin, "registry-tags", repository="../etc")
        self.assertEqual(w.problem, "not-found")
        w = Walk(self.admin, "registry-tags", repository=7)
        self.assertEqual(w.problem, "protocol-error")

    def test_tag_names_are_charged_to_the_channel(self):
        # 8M a socket (the default): the names of 100,005 tags (about 100
        # bytes each as the server holds them) are more than it holds
        names = huge_repository(self.proxy, "huge/tags", 100005)
        listed, error = read_until_cut(self, self.admin, "huge/tags")
        sys.stderr.write("names of 100,005 taken within an 8M socket budget: %d\n" % len(listed))
        self.assertGreater(len(listed), 10000)
        self.assertLess(len(listed), 100000)
        self.assertEqual(listed, names[:len(listed)])
        self.assertIn("only the first %d tags are read" % len(listed), error["error"])
        # the socket lives on: another walk on it
        self.assertEqual(len(self.walk(self.admin, "paged/many").tags()), 40)

    def test_an_index_of_too_many_layers_fails(self):
        # 4 platforms of 4,000 layers: held; 5 of them: over 16,384 layers
        # and configs a tag may hold, the row says so
        write_wide_index(self.regdir, "wide/index", "four", 4, 4000)
        write_wide_index(self.regdir, "wide/index", "five", 5, 4000)
        tags = self.walk(self.admin, "wide/index", fresh=True).tags()
        self.assertNotIn("error", tags["four"])
        self.assertEqual(len(tags["four"]["platforms"]), 4)
        self.assertEqual(tags["four"]["size"], 4 * (10 + 4000 * 1000))
        self.assertIn("the index is too large", tags["five"]["error"])

    def test_priority_tags_come_first(self):
        # the tags on screen are asked of the registry before the others
        # (listed last, they would come last). The console sends them first;
        # the order in which the proxy sees requests on its connections can
        # differ by the few that run at once, and which rows come back first
        # is up to the registry.
        self.proxy.reset()
        w = self.walk(self.admin, "paged/many", fresh=True, priority=["t-0039", "t-0038"])
        self.assertEqual(len(w.tags()), 40)
        with self.proxy.lock:
            asked = [path for method, path in self.proxy.started if re.search(r"/manifests/t-", path)]
        first = [path.rsplit("/", 1)[1] for path in asked[:2 * CONCURRENCY]]
        self.assertIn("t-0039", first, asked)
        self.assertIn("t-0038", first, asked)

    def test_requests_at_once_are_capped(self):
        w = self.walk(self.admin, "paged/many", fresh=True, blobs=True)
        self.assertEqual(len(w.tags()), 40)
        self.assertLessEqual(self.proxy.max_active, CONCURRENCY)
        self.assertGreater(self.proxy.count(), 40)
        blobs = w.tags()["t-0000"]["blobs"]
        self.assertEqual(sorted(blobs), sorted([sha(self.images[0]["config"])] +
                                               [sha(b) for b in self.images[0]["layers"]]))
        # each blob's size beside it: the registry's own lengths
        sizes = dict(zip(blobs, w.tags()["t-0000"]["blobSizes"]))
        self.assertEqual(sizes, {sha(b): len(b) for b in [self.images[0]["config"]] + self.images[0]["layers"]})


def huge_repository(proxy, repo, n):
    """A tags/list of N names (served by the proxy in one page; the tags
    themselves do not exist: each resolves to a 404 row)."""
    names = ["t%06d" % i for i in range(n)]
    proxy.bodies["/v2/%s/tags/list" % repo] = {
        "type": "application/json", "body": json.dumps({"name": repo, "tags": names}).encode()}
    return names


def read_until_cut(test, ws, repository):
    """Open registry-tags of REPOSITORY and read it until the listing was
    cut (an error row, progress "truncated"): (names listed, the error row).
    The channel is closed then (the rest would be 100,000 404 rows)."""
    ch = ws.open("registry-tags", repository=repository, fresh=True)
    listed, error, truncated = [], None, False
    while error is None or not truncated:
        c, msg = ws.recv()
        if c == ch:
            for line in msg.decode().splitlines():
                row = json.loads(line)
                if row["type"] == "names":
                    listed += row["names"]
                elif row["type"] == "error":
                    error = row
        elif c == "" and msg.get("channel") == ch:
            test.assertNotEqual(msg["command"], "close", msg)
            truncated = truncated or (msg["command"] == "progress" and msg.get("truncated", False))
    ws.control(command="close", channel=ch)
    return listed, error


class RegistryHugeRepository(Base):
    """A repository of more tags than a walk takes, with socket budgets
    that hold them."""

    CONF = "SocketBufferLimit = 24M\nUserBufferLimit = 64M\n"

    def test_a_walk_takes_at_most_100000_tags(self):
        names = huge_repository(self.proxy, "huge/tags", 100005)
        listed, error = read_until_cut(self, self.admin, "huge/tags")
        self.assertEqual(listed, names[:100000])
        self.assertIn("only the first 100000 tags are read", error["error"])
        # a summary counts them (without keeping them) and says it is cut
        w = Walk(self.admin, "registry-summary", repositories=["huge/tags"])
        row = w.rows[0]
        self.assertEqual((row["tags"], row.get("partial"), row.get("truncated")), (100000, True, True), row)


class RegistryCatalogSearch(Base):
    """registry-catalog, registry-search, registry-summary; a kept catalog
    older than a second is walked again in the background."""

    CONF = "RegistryCatalogMaxAge = 1\n"

    def catalog(self, ws, **options):
        w = Walk(ws, "registry-catalog", **options)
        return w

    def test_catalog_walked_by_pages_kept_and_checked_per_user(self):
        self.proxy.page = 3
        expect = self.registry.json("/v2/_catalog?n=1000")["repositories"]
        # a view walks when nothing is kept or what is kept is over a second
        # old: the first views list what the walk has read so far, then the
        # whole catalog in the registry's order (also while a later walk
        # runs: a slow machine keeps walking, every view being a second late)
        deadline = time.monotonic() + 60
        while True:
            w = self.catalog(self.admin)
            self.assertIsNone(w.problem, w.close)
            pages = self.proxy.count("GET", r"/v2/_catalog\?last=")
            if w.names() == expect and pages >= len(expect) // 3:    # a walk page by page
                break
            self.assertLess(time.monotonic(), deadline, "no whole walk of the catalog: %d of %d names, %d pages"
                            % (len(w.names()), len(expect), pages))
            time.sleep(0.2)     # poll interval
        # another user: the kept list after that user's own check
        self.proxy.reset()
        w = self.catalog(self.reader, contains="DEMO/")
        self.assertEqual(w.names(), [n for n in expect if n.startswith("demo/")])
        self.assertEqual(self.proxy.log[0][1:3], ("/v2/_catalog?n=1", self.env["REGISTRY_READER_USER"]))
        # refused for a user the registry refuses: nothing kept is shown
        self.proxy.deny.add((self.env["REGISTRY_READER_USER"], "_catalog"))
        w = self.catalog(self.reader)
        self.assertEqual((w.problem, w.rows), ("access-denied", []))

    def test_catalog_refreshes_in_the_background(self):
        self.catalog(self.admin)
        self.registry.push("fresh/new-repo", "v1", image(200))
        deadline = time.monotonic() + 60
        while True:
            w = self.catalog(self.admin, fresh=True)
            if "fresh/new-repo" in w.names():
                break
            self.assertLess(time.monotonic(), deadline, "the kept catalog never learnt the new repository")
            time.sleep(0.2)     # poll interval
        self.assertTrue(w.rows)

    def search(self, ws, query, **options):
        w = Walk(ws, "registry-search", query=query, **options)
        self.assertIsNone(w.problem, w.close)
        return w

    def matches(self, w):
        return {(r["repository"], r["tag"]): r for r in w.rows if r["type"] == "tag"}

    def test_search_tag_names(self):
        w = self.search(self.admin, "T-001")
        self.assertEqual(set(self.matches(w)), {("paged/many", "t-%04d" % n) for n in range(10, 20)})
        row = self.matches(w)[("paged/many", "t-0012")]
        self.assertEqual((row["match"], row["digest"], row["created"]),
                         ("tag", self.images[12]["digest"], self.images[12]["created"]))
        w = self.search(self.admin, "latest", exact=True)
        expect = {k for k in self.everything() if k[1] == "latest"}
        self.assertEqual(set(self.matches(w)), expect)
        self.assertGreater(w.progress[-1]["repositories"], 4)

    def test_search_digests_where_is_this_digest(self):
        everything = self.everything()
        hello = self.registry.digest("demo/hello", "1.0")
        # a manifest digest, by prefix without "sha256:"
        w = self.search(self.admin, hello[7:19])
        self.assertEqual(set(self.matches(w)), {k for k, v in everything.items()
                                                if any(d.startswith(hello[:19]) for d in v)})
        self.assertEqual(self.matches(w)[("demo/hello", "1.0")]["match"], "manifest")
        # a layer: every image that holds it
        shared = sha(SHARED_LAYER)
        w = self.search(self.admin, shared)
        expect = {k for k, v in everything.items() if shared in v}
        self.assertGreaterEqual(len(expect), 40)
        self.assertEqual(set(self.matches(w)), expect)
        self.assertEqual({r["match"] for r in self.matches(w).values()}, {"layer"})
        # a platform of an index
        tools = self.registry.json("/v2/demo/tools/manifests/latest")
        arm = [p["digest"] for p in tools["manifests"] if p["platform"]["architecture"] == "arm64"][0]
        w = self.search(self.admin, arm, repositories=["demo/tools"])
        self.assertEqual(self.matches(w)[("demo/tools", "latest")]["match"], "platform")

    def test_search_skips_what_the_user_cannot_read(self):
        self.proxy.deny.add((self.env["REGISTRY_READER_USER"], "demo/hello"))
        w = self.search(self.reader, "1.", kind="tag")
        found = {k[0] for k in self.matches(w)}
        self.assertNotIn("demo/hello", found)
        self.assertIn("library/busybox-like", found)
        self.assertGreaterEqual(w.progress[-1]["skipped"], 1)

    def test_cached_hits_never_reach_past_the_users_list(self):
        # the admin's search leaves paged/many's manifests (with the shared
        # layer) in the cache
        shared = sha(SHARED_LAYER)
        w = self.search(self.admin, shared, repositories=["paged/many"])
        self.assertEqual(len(self.matches(w)), 40)
        # the reader, who may not read paged/many, asks about one other
        # repository: paged/many is neither walked nor counted
        self.proxy.reset()
        self.proxy.deny.add((self.env["REGISTRY_READER_USER"], "paged/many"))
        w = self.search(self.reader, shared, repositories=["demo/hello"])
        self.assertEqual((w.progress[-1]["repositories"], w.progress[-1]["skipped"]), (1, 0))
        self.assertEqual({k[0] for k in self.matches(w)}, set())
        self.assertEqual(self.proxy.count(pattern="paged/many"), 0)
        # within the user's own list, the hit is walked (once)
        w = self.search(self.admin, shared, repositories=["demo/hello", "library/busybox-like", "paged/many"])
        self.assertEqual(w.progress[-1]["repositories"], 3)
        self.assertEqual({k[0] for k in self.matches(w)}, {"paged/many"})

    def test_one_search_a_session(self):
        ws = self.admin
        first = ws.open("registry-search", query="t-00")
        second = ws.open("registry-search", query="t-001", repositories=["paged/many"])
        closes = {}
        while len(closes) < 2:
            c, msg = ws.recv()
            if c == "" and msg.get("command") == "close":
                closes[msg["channel"]] = msg
        self.assertEqual(closes[first].get("problem"), "terminated")
        self.assertIsNone(closes[second].get("problem"))

    def test_summary_rows_and_change_detection(self):
        w = Walk(self.admin, "registry-summary", repositories=["demo/hello", "paged/many", "no/such"])
        rows = {r["repository"]: r for r in w.rows}
        self.assertEqual(rows["demo/hello"]["tags"], 3)
        self.assertEqual(rows["paged/many"]["tags"], 40)
        blobs = {}
        for (repo, tag), digests in self.everything().items():
            if repo == "demo/hello":
                m = self.registry.json("/v2/demo/hello/manifests/" + self.registry.digest(repo, tag))
                for x in [m["config"]] + m["layers"]:
                    blobs[x["digest"]] = x["size"]
        self.assertEqual(rows["demo/hello"]["size"], sum(blobs.values()))
        newest = max(self.images, key=lambda im: im["created"])
        self.assertEqual(rows["paged/many"]["created"], newest["created"])
        self.assertIn("error", rows["no/such"])
        before = rows["paged/many"]["fingerprint"]
        # a poll within the memo time costs one request a repository
        self.proxy.reset()
        w = Walk(self.admin, "registry-summary", repositories=["paged/many"])
        self.assertEqual(w.rows[0]["fingerprint"], before)
        self.assertEqual(self.proxy.count(), 1)
        # a new tag changes the fingerprint
        self.registry.push("paged/many", "t-new", image(300))
        w = Walk(self.admin, "registry-summary", repositories=["paged/many"], fresh=True)
        self.assertEqual(w.rows[0]["tags"], 41)
        self.assertNotEqual(w.rows[0]["fingerprint"], before)


class OpenShiftBase(unittest.TestCase):
    """The console in OpenShift mode: a real registry (htpasswd), the test
    master reading it, and, when PROXIED, the registry behind the counting
    proxy (the console's REGISTRY_URL)."""
    PREFIX = "rc-openshift-"
    MASTER_ARGS = []
    PROXIED = False

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix=cls.PREFIX)
        cls.regdir = os.path.join(cls.tmp, "registry")
        it.run([os.path.join(F, "registry-up"), "--quiet", "--htpasswd", cls.regdir])
        cls.env = fl.read_env(os.path.join(cls.regdir, "env"))
        cls.proxy = Proxy(cls.env["REGISTRY_URL"]) if cls.PROXIED else None
        cls.mdir = os.path.join(cls.tmp, "master")
        it.run([sys.executable, os.path.join(F, "test-master.py"), "--quiet", *cls.MASTER_ARGS,
                "--registry-env", os.path.join(cls.regdir, "env"), cls.mdir])
        cls.m = fl.read_env(os.path.join(cls.mdir, "env"))
        with open(cls.m["MASTER_CA"]) as f:
            ca = f.read()
        env = {"OPENSHIFT_OAUTH_PROVIDER_URL": cls.m["MASTER_URL"], "KUBERNETES_CA_DATA": ca}
        if cls.proxy:
            env["REGISTRY_URL"] = cls.proxy.url
        cls.console = it.Console(cls.tmp, env, args=["--master", cls.m["MASTER_URL"]])

    @classmethod
    def tearDownClass(cls):
        cls.console.stop()
        if cls.proxy:
            cls.proxy.stop()
        it.run([sys.executable, os.path.join(F, "test-master.py"), "--down", cls.mdir])
        it.run([os.path.join(F, "registry-down"), cls.regdir])
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def login(self, user):
        """(OAuth token, socket) of a new OpenShift login of USER."""
        c = self.console.client()
        st, body = c.login_openshift(master_ca=self.m["MASTER_CA"], basic=(
            user, self.m["MASTER_PASSWORD_" + user.upper()]))
        self.assertEqual(st, 200, body)
        ws = c.socket()
        self.addCleanup(ws.close)
        return c.oauth_token, ws

    def socket_of(self, user):
        return self.login(user)[1]


class OpenShiftImages(OpenShiftBase):
    """openshift-images against the test master (its image streams and Image
    objects read from the real registry): rows from the Image objects, each
    fetched once and shared, never to a user who cannot read the stream."""

    PREFIX = "rc-openshift-images-"
    MASTER_ARGS = ["--poll", "0.2"]

    def master_json(self, path, token):
        api = cc.Console(self.m["MASTER_URL"], cafile=self.m["MASTER_CA"])
        st, _, body = api.request("GET", path, headers={"Authorization": "Bearer " + token})
        self.assertEqual(st, 200, path)
        return json.loads(body)

    def test_rows_from_image_objects_shared_but_checked(self):
        alice = self.socket_of("alice")
        w = Walk(alice, "openshift-images", namespace="demo", name="hello")
        self.assertIsNone(w.problem, w.close)
        self.assertEqual(sorted(w.names()), ["1.0", "1.1", "latest"])
        tags = w.tags()
        for tag, row in tags.items():
            img = self.master_json("/apis/image.openshift.io/v1/images/" + row["digest"],
                                   self.m["MASTER_TOKEN_ALICE"])
            self.assertEqual(row["size"], img["dockerImageMetadata"]["Size"])
            self.assertEqual(row["created"], img["dockerImageMetadata"]["Created"])
            self.assertEqual(row["layers"], len(img["dockerImageLayers"]))
        # 1.1 and latest are one image: fetched once, then every view from the cache
        self.assertEqual(w.progress[-1]["requests"], 1 + len({r["digest"] for r in tags.values()}))
        w = Walk(alice, "openshift-images", namespace="demo", name="hello")
        self.assertEqual(w.progress[-1]["requests"], 1)
        self.assertEqual(w.tags(), tags)
        # bob may not read demo: nothing, though the cache knows these images
        bob = self.socket_of("bob")
        w = Walk(bob, "openshift-images", namespace="demo", name="hello")
        self.assertEqual((w.problem, w.rows), ("access-denied", []))
        w = Walk(bob, "openshift-images", namespace="project-b", name="app")
        self.assertIsNone(w.problem, w.close)
        self.assertEqual(sorted(w.tags()), ["stable", "v1", "v2"])
        self.assertTrue(all("size" in r for r in w.tags().values()))

    def test_index_has_platforms(self):
        alice = self.socket_of("alice")
        w = Walk(alice, "openshift-images", namespace="demo", name="tools")
        row = w.tags()["latest"]
        self.assertEqual({(p["os"], p["architecture"]) for p in row["platforms"]},
                         {("linux", "amd64"), ("linux", "arm64")})
        w = Walk(alice, "openshift-images", namespace="demo", name="../x")
        self.assertEqual(w.problem, "protocol-error")


class OpenShiftLimits(OpenShiftBase):
    """OpenShift mode with the registry behind the proxy: per-user limits
    count the user, not the login (each OpenShift login is a new token)."""

    PREFIX = "rc-openshift-limits-"
    PROXIED = True

    def until_ready(self, ws, channels):
        """Read WS until each of CHANNELS is ready (or closed: a failure)."""
        left = set(channels)
        while left:
            c, msg = ws.recv()
            if c == "" and msg.get("channel") in left:
                self.assertEqual(msg["command"], "ready", msg)
                left.discard(msg["channel"])

    def test_logins_of_one_user_share_the_walk_limit(self):
        # every tags/list waits until the test is over: the walks stay open
        gate = threading.Event()
        self.addCleanup(gate.set)
        self.proxy.on_list["demo/hello"] = [lambda: gate.wait(60)]
        token1, first = self.login("alice")
        token2, second = self.login("alice")
        self.assertNotEqual(token1, token2)
        self.until_ready(first, [first.open("registry-tags", repository="demo/hello") for _ in range(8)])
        # alice's other login: her ninth walk
        w = Walk(second, "registry-tags", repository="demo/hello")
        self.assertEqual(w.problem, "too-many", w.close)
        # another user is not counted with her
        _, bob = self.login("bob")
        self.until_ready(bob, [bob.open("registry-tags", repository="demo/hello")])


class RegistryMemory(unittest.TestCase):
    """The server's RSS after ten walks of a repository stays within a few
    MiB of its RSS after one (the issue: 76 → 91 → 97 → 99 MiB with the
    browser's path). The cache is kept small, so every walk fetches, parses
    and evicts: what would grow if memory were lost or fragmented."""

    TAGS = 300

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rc-registry-memory-")
        cls.regdir = os.path.join(cls.tmp, "registry")
        it.run([os.path.join(F, "registry-up"), "--quiet", "--empty", cls.regdir])
        cls.env = fl.read_env(os.path.join(cls.regdir, "env"))
        write_storage(cls.regdir, "scale/tags", {"t-%05d" % n: image(n) for n in range(cls.TAGS)})
        # a small cache, so that every walk fetches and evicts
        conf = os.path.join(cls.tmp, "cockpit.conf")
        with open(conf, "w") as f:
            f.write("[WebService]\nRegistryCacheSize = 128K\nRegistryTagMemoTime = 0\n")
        cls.console = it.Console(cls.tmp, {"REGISTRY_URL": cls.env["REGISTRY_URL"]},
                                 args=["--config", conf], measures_rss=True)

    @classmethod
    def tearDownClass(cls):
        cls.console.stop()
        it.run([os.path.join(F, "registry-down"), cls.regdir])
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def rss_mib(self):
        with open("/proc/%d/status" % self.console.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0

    def settled_rss(self):
        """RSS once the server has trimmed after the walk (it does so about
        a second after the last walk ends): polled until it stops falling."""
        last, stable, deadline = self.rss_mib(), 0, time.monotonic() + 10
        while stable < 3 and time.monotonic() < deadline:
            time.sleep(0.5)    # sampling interval, not a readiness guess
            now = self.rss_mib()
            stable = stable + 1 if abs(now - last) < 0.25 else 0
            last = now
        return last

    def test_rss_after_ten_walks_stays_near_one(self):
        c = self.console.client()
        st, _ = c.login_registry("anyone", "anything")
        self.assertEqual(st, 200)
        ws = c.socket()
        w = Walk(ws, "registry-tags", repository="scale/tags")
        self.assertEqual(len(w.tags()), self.TAGS)
        self.assertFalse([r for r in w.tags().values() if "error" in r])
        after_one = self.settled_rss()
        for _ in range(9):
            w = Walk(ws, "registry-tags", repository="scale/tags", fresh=True)
            self.assertEqual(len(w.tags()), self.TAGS)
        after_ten = self.settled_rss()
        sys.stderr.write("RSS after 1 walk %.1f MiB, after 10 %.1f MiB\n" % (after_one, after_ten))
        self.assertLess(after_ten - after_one, 4.0)
        ws.close()


if __name__ == "__main__":
    if not os.access(it.SERVER, os.X_OK):
        sys.exit("test-registry-channels: no server binary %s" % it.SERVER)
    unittest.main(verbosity=2)
