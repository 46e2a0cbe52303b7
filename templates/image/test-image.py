#!/usr/bin/python3
"""test-image.py OUT: run the built container image as a cluster would.

OUT is build-image's output directory (OUT/oci, OUT/image.json).  Run as root
in a network namespace of its own (`make check-image` does:
unshare --net --pid --mount --fork --kill-child --mount-proc), so the
containers listen on their real port 9090 and nothing else on the machine
is touched.  Everything here is started by this script and stopped by it
(and the pid namespace ends whatever is left when it exits).

- The image holds no compiler and no test dependencies; every ELF file in it
  finds its libraries (ldd inside the running container).
- The image goes to a real docker-registry (htpasswd) with skopeo, and the
  test OpenShift master serves it as an image stream.
- A pod as templates/registry-console.yaml describes it: the template's
  environment (parameters filled in) and mounts (the session-key Secret), the
  service account the kubelet mounts, a kubernetes.io/tls secret (tls.crt,
  tls.key, in the kubelet's ..data symlink layout) at the launcher's path;
  user from the image (1001).  /ping answers plain HTTP on 9090, the console
  answers TLS with exactly the mounted certificate, `remotectl certificate`
  inside (`oc exec POD remotectl certificate`) prints the combined .cert;
  an OpenShift login through the master's OAuth works and the console shows
  its own image (labels, layers) from the master's image API.
- Without the secret and with a random uid and group 0 (as OpenShift runs
  pods): the launcher creates 0-self-signed.cert (owned by that uid),
  `remotectl certificate` prints it, the console serves it (its SANs name the
  pod's host name); in registry mode the console shows its own image through
  its WebSocket (http-stream2: manifest, layers, config, history, labels,
  size) and in Chromium (labels, layers, size).
- SIGTERM stops a container within the deadline with status 0.
- Prints the image size and the start-to-first-/ping time (median of 3).
"""

import json
import os
import re
import secrets
import shutil
import ssl
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
F = os.path.join(TOP, "tests", "fixtures")
sys.path.insert(0, HERE)
sys.path.insert(0, F)
import container as C  # noqa: E402
import cockpit_client as cc  # noqa: E402
import fixturelib as fl  # noqa: E402

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
REPO = "infra/registry-console"
# G_MESSAGES_DEBUG=cockpit-ws,cockpit-wrapper make check-image: the containers'
# debug messages, in the artifacts' container-*.log
DEBUG = {k: os.environ[k] for k in ("G_MESSAGES_DEBUG",) if os.environ.get(k)}
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def mb(n):
    return "%.1f MB" % (n / 1e6)


def k8s_secret_volume(path, files):
    """A secret volume as the kubelet writes it: files are symlinks through
    ..data to a timestamped directory; mode 0644 (defaultMode), owner root."""
    os.makedirs(path)
    ts = time.strftime("..%Y_%m_%d_%H_%M_%S.000000001", time.gmtime())
    os.mkdir(os.path.join(path, ts))
    for name, data in files.items():
        with open(os.path.join(path, ts, name), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        os.chmod(os.path.join(path, ts, name), 0o644)
        os.symlink(os.path.join("..data", name), os.path.join(path, name))
    os.symlink(ts, os.path.join(path, "..data"))
    return path


def process_template(path, params):
    """`oc process`: fill in ${P} and ${{P}}; generated parameters get values."""
    with open(path) as f:
        text = f.read()
    tpl = yaml.safe_load(text)
    values = {}
    for p in tpl["parameters"]:
        if p["name"] in params:
            values[p["name"]] = params[p["name"]]
        elif "value" in p:
            values[p["name"]] = p["value"]
        elif p.get("generate") == "expression":
            n = int(re.search(r"\{(\d+)\}", p["from"]).group(1))
            values[p["name"]] = secrets.token_hex(n)[:n]
        else:
            raise KeyError("required template parameter %s not given" % p["name"])
    text = re.sub(r"\$\{\{?([A-Z_][A-Z0-9_]*)\}?\}", lambda m: str(values[m.group(1)]), text)
    return yaml.safe_load(text)


def tls_peer(port, cafile=None, hostname=None):
    """(DER of the served certificate, error or None) of a TLS handshake."""
    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if not cafile:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=hostname or "127.0.0.1") as s:
                return s.getpeercert(binary_form=True), None
    except (OSError, ssl.SSLError) as e:
        return None, e


def first_cert_der(pem_text):
    blocks = [d for label, d in fl.pem_blocks(pem_text) if label == "CERTIFICATE"]
    return blocks[0] if blocks else None


def ping_ok(c):
    status, raw = C.http_get(9090, "/ping")
    body = raw.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in raw else b""
    if b"transfer-encoding: chunked" in raw.split(b"\r\n\r\n", 1)[0].lower():
        body = body.split(b"\r\n", 1)[1].rsplit(b"\r\n0\r\n", 1)[0]
    try:
        return status == 200 and json.loads(body) == {"service": "cockpit"}
    except ValueError:
        return False


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: test-image.py BUILD-IMAGE-OUTPUT-DIR")
    if os.geteuid() != 0:
        sys.exit("test-image: run as root")
    with open("/proc/net/dev") as f:
        ifaces = [line.split(":")[0].strip() for line in f.readlines()[2:]]
    if ifaces != ["lo"]:
        sys.exit("test-image: run in a network namespace of its own (make check-image), not beside %s" % ifaces)
    out = os.path.abspath(sys.argv[1])
    with open(os.path.join(out, "image.json")) as f:
        image = json.load(f)
    tag = image["tag"]
    print("image %s: %s compressed, %s unpacked, %d layers"
          % (image["digest"], mb(image["compressed_size"]), mb(image["unpacked_size"]), len(image["layers"])))

    tmp = tempfile.mkdtemp(prefix="rc-test-image-")
    artifacts = os.environ.get("RC_ARTIFACTS") or os.path.join(out, "artifacts")
    os.makedirs(artifacts, exist_ok=True)
    started, down = [], []
    try:
        run_tests(image, out, tag, tmp, started, down, artifacts)
    finally:
        for c in started:
            if c.running():
                c.stop()
            if os.path.exists(c.log):
                shutil.copy(c.log, os.path.join(artifacts, "container-%s.log" % c.name))
        for d in down:
            d()
        with open("/proc/self/mountinfo") as f:
            mounts = f.read()
        check(tmp not in mounts, "no mount of the containers is left in the test's mount namespace")
        check(all(not c.running() and not fl.alive(c.pid) for c in started),
              "every container's processes are gone")
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("test-image: %d failure(s)" % len(failures))
        sys.exit(1)
    print("test-image: all checks passed")


def run_tests(image, out, tag, tmp, started, down, artifacts):
    layout = image["layout"]
    t0 = time.monotonic()
    bundle = C.unpack(layout, tag, os.path.join(tmp, "bundle"))
    print("umoci unpack: %.1f s" % (time.monotonic() - t0))
    rootfs = os.path.join(bundle, "rootfs")

    # --- what is in the image ------------------------------------------------
    with open(os.path.join(rootfs, "var/lib/dpkg/status")) as f:
        pkgs = set(re.findall(r"^Package: (\S+)", f.read(), re.M))
    unwanted = sorted(p for p in pkgs if p.endswith("-dev") or re.match(
        r"((gcc|cpp|g\+\+|clang)(-\d+)?$|binutils|make$|libc6-dev|python3|perl$|apt$|valgrind|libcmocka|"
        r"docker-registry|skopeo|umoci|chromium|nodejs|nginx|cockpit)", p))
    check(not unwanted, "no compiler, build or test packages in the image (%d packages; found %s)"
          % (len(pkgs), unwanted))
    for tool in ("usr/bin/gcc", "usr/bin/cc", "usr/bin/ld", "usr/bin/make", "usr/bin/python3", "usr/bin/apt"):
        check(not os.path.lexists(os.path.join(rootfs, tool)), "no /%s in the image" % tool)
    for f in ("usr/sbin/registry-console", "usr/bin/remotectl", "usr/bin/registry-console-launch",
              "usr/share/registry-console/static/index.html"):
        check(os.path.exists(os.path.join(rootfs, f)), "/%s installed" % f)
    with open(os.path.join(rootfs, "usr/bin/registry-console-launch")) as f:
        m = re.search(r'WS_CERTS_SECRET_DIR:-([^}"]+)', f.read())
    secret_dir = m.group(1) if m else "/var/run/secrets/ws-certs.d"
    with open(os.path.join(bundle, "config.json")) as f:
        spec = json.load(f)
    check(spec["process"]["user"] == {"uid": 1001, "gid": 0}, "the image runs as 1001:0 (%s)" % spec["process"]["user"])
    check(spec["process"]["args"] == ["/usr/bin/registry-console-launch"], "entry point is the launcher")

    # --- registry and master ---------------------------------------------------
    reg = os.path.join(tmp, "registry")
    subprocess.run([os.path.join(F, "registry-up"), "--htpasswd", "--empty", "--quiet", reg],
                   check=True, capture_output=True)
    down.append(lambda: subprocess.run([os.path.join(F, "registry-down"), reg], capture_output=True))
    renv = fl.read_env(os.path.join(reg, "env"))
    host = renv["REGISTRY_HOST"]
    t0 = time.monotonic()
    for t in (tag, "latest"):
        subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--dest-creds",
                        "%s:%s" % (renv["REGISTRY_USER"], renv["REGISTRY_PASSWORD"]),
                        "oci:%s:%s" % (layout, tag), "docker://%s/%s:%s" % (host, REPO, t)],
                       check=True, capture_output=True)
    print("skopeo push (2 tags): %.1f s" % (time.monotonic() - t0))
    mdir = os.path.join(tmp, "master")
    subprocess.run([os.path.join(F, "test-master.py"), "--quiet", "--poll", "0.2",
                    "--registry-env", os.path.join(reg, "env"), mdir], check=True, capture_output=True)
    down.insert(0, lambda: subprocess.run([os.path.join(F, "test-master.py"), "--down", mdir],
                                          capture_output=True))
    menv = fl.read_env(os.path.join(mdir, "env"))

    # --- a pod as the template describes it, with the TLS secret ----------------
    tpl = process_template(os.path.join(TOP, "templates", "registry-console.yaml"), {
        "IMAGE_NAME": "%s/%s:%s" % (host, REPO, tag),
        "OPENSHIFT_OAUTH_PROVIDER_URL": menv["MASTER_URL"],
        "COCKPIT_KUBE_URL": "https://127.0.0.1:9090",
        "REGISTRY_HOST": host})
    objs = {(o["kind"], o["metadata"]["name"]): o for o in tpl["objects"]}
    pod = objs[("DeploymentConfig", "registry-console")]["spec"]["template"]["spec"]
    ctr = pod["containers"][0]
    check([p["containerPort"] for p in ctr["ports"]] == [9090], "the template's container port is 9090")
    env = {e["name"]: e["value"] for e in ctr.get("env", [])}
    # what the kubelet adds: the master's service, the service account
    env.update(KUBERNETES_SERVICE_HOST="127.0.0.1", KUBERNETES_SERVICE_PORT=menv["MASTER_PORT"], **DEBUG)
    volumes = [(menv["MASTER_SA_DIR"], "/var/run/secrets/kubernetes.io/serviceaccount")]
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    tls_in_template = False
    for vm in ctr.get("volumeMounts", []):
        sname = vols[vm["name"]]["secret"]["secretName"]
        secret = objs.get(("Secret", sname))
        if vm["mountPath"].rstrip("/") == secret_dir:
            tls_in_template = True  # the test's TLS secret goes there
        elif secret:
            volumes.append((k8s_secret_volume(os.path.join(tmp, "secret-" + sname), secret.get("stringData", {})),
                            vm["mountPath"]))
        else:
            print("note: the template mounts secret %s (not in the template) at %s; not mounted here"
                  % (sname, vm["mountPath"]))
    if not tls_in_template:
        print("note: the template mounts no TLS secret at the launcher's %s; mounting one there "
              "(as `oc set volume dc/registry-console --add --type=secret -m %s` would)" % (secret_dir, secret_dir))
    cert, key = fl.make_cert(tmp, "console-tls", rsa=True)
    with open(cert) as f:
        crt_text = f.read()
    with open(key) as f:
        key_text = f.read()
    volumes.append((k8s_secret_volume(os.path.join(tmp, "secret-tls"), {"tls.crt": crt_text, "tls.key": key_text}),
                    secret_dir))

    a = C.Container(bundle, os.path.join(tmp, "pod-tls"), name="registry-console-1-abcde",
                    env=env, volumes=volumes)
    started.append(a.start())
    secs = a.wait_ping()
    print("pod with TLS secret: first /ping after %.3f s" % secs)
    check(ping_ok(a), "plain HTTP GET /ping on 9090 answers 200 {\"service\":\"cockpit\"}")
    st, raw = C.http_get(9090, "/")
    loc = re.search(rb"(?im)^location: (\S+)", raw)
    check(st in (301, 302, 307, 308) and loc and loc.group(1).startswith(b"https://"),
          "plain HTTP GET / redirects to https (%s %s)" % (st, loc.group(1) if loc else None))
    der, err = tls_peer(9090, cafile=cert, hostname="127.0.0.1")
    check(der is not None and der == first_cert_der(crt_text),
          "TLS on 9090 serves exactly the mounted tls.crt (verified against it: %s)" % (err or "ok"))
    r = a.exec(["remotectl", "certificate"])
    combined = "/etc/cockpit/ws-certs.d/tls.cert"
    check(r.returncode == 0 and r.stdout.strip().splitlines()[-1:] == ["certificate: " + combined],
          "remotectl certificate in the pod prints %s: %r %r" % (combined, r.stdout.strip(), r.stderr.strip()))
    st = os.stat(a.file(combined))
    check(st.st_uid == 1001 and st.st_mode & 0o007 == 0,
          "the combined .cert is the user's and not world-readable (uid %d, mode %o)" % (st.st_uid, st.st_mode & 0o777))
    with open(a.file(combined)) as f:
        check(first_cert_der(f.read()) == first_cert_der(crt_text), "the combined .cert holds tls.crt")
    r = a.exec(["sh", "-c", "ldd /usr/sbin/registry-console /usr/bin/remotectl /usr/lib/*/libwebsockets-evlib_glib.so"])
    check(r.returncode == 0 and "not found" not in r.stdout and r.stdout.count("=>") > 10,
          "ldd in the container: every library found (%d resolved)%s"
          % (r.stdout.count("=>"), "" if "not found" not in r.stdout else ": " + r.stdout))
    r = a.exec(["id", "-u"])
    check(r.stdout.strip() == "1001", "oc exec runs as the pod's user (%s)" % r.stdout.strip())
    with open("/proc/%d/status" % a.pid) as f:
        uids = re.search(r"^Uid:\s+(.*)$", f.read(), re.M).group(1).split()
    check(uids == ["1001"] * 4, "the server runs as uid 1001 (%s)" % uids)

    # OpenShift login, and the console's own image through the master
    con = cc.Console("https://127.0.0.1:9090", cafile=cert)
    st, body = con.login_openshift(master_ca=menv["MASTER_CA"])
    check(st == 200, "OpenShift login through the master's OAuth (%s %s)" % (st, body))
    if st == 200:
        ws = con.socket()
        name = REPO.split("/")[1]
        ist = None
        for _ in range(50):  # the master polls the registry every 0.2 s
            st, _, data = ws.http("GET", "/apis/image.openshift.io/v1/namespaces/infra/imagestreamtags/%s:%s"
                                  % (name, tag), backend="master")
            if st == 200:
                ist = json.loads(data)
                break
            time.sleep(0.1)
        check(ist is not None, "image stream tag infra/%s:%s through the console" % (name, tag))
        if ist:
            img = ist["image"]
            meta = img.get("dockerImageMetadata", {})
            labels = (meta.get("Config") or meta.get("ContainerConfig") or {}).get("Labels") or {}
            check(img["metadata"]["name"] == image["digest"], "the image stream tag is the built image %s"
                  % img["metadata"]["name"])
            check(labels.get("org.opencontainers.image.title") == "registry-console"
                  and labels.get("org.opencontainers.image.version") == image["labels"].get("org.opencontainers.image.version"),
                  "its labels through the master: %s" % sorted(labels))
            check([l["name"] for l in img.get("dockerImageLayers", [])] == [l["digest"] for l in image["layers"]],
                  "its layers through the master")
        ws.close()
    code, secs, killed = a.stop()
    check(code == 0 and not killed, "SIGTERM stops the pod's container: exit %s in %.2f s" % (code, secs))

    # --- random uid, group 0, no secret; registry mode ------------------------------
    uid = 1000000000 + secrets.randbelow(900000000)
    b = C.Container(bundle, os.path.join(tmp, "pod-uid"), name="registry-console-2-fghij", uid=uid, gid=0,
                    env={"REGISTRY_URL": renv["REGISTRY_URL"], "REGISTRY_HOST": host, **DEBUG})
    started.append(b.start())
    secs = b.wait_ping()
    print("random uid %d, no secret: first /ping after %.3f s" % (uid, secs))
    check(ping_ok(b), "uid %d: /ping answers" % uid)
    r = b.exec(["remotectl", "certificate"])
    selfsigned = "/etc/cockpit/ws-certs.d/0-self-signed.cert"
    check(r.returncode == 0 and r.stdout.strip().splitlines()[-1:] == ["certificate: " + selfsigned],
          "remotectl certificate without the secret prints %s: %r %r" % (selfsigned, r.stdout.strip(), r.stderr.strip()))
    check(os.stat(b.file(selfsigned)).st_uid == uid, "the self-signed certificate belongs to uid %d" % uid)
    r = b.exec(["cat", selfsigned])
    ss_ca = os.path.join(tmp, "self-signed.pem")
    fl.atomic_write(ss_ca, "".join(re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?",
                                              r.stdout, re.S)))
    der, err = tls_peer(9090, cafile=ss_ca, hostname=b.name)
    check(der is not None, "TLS serves the self-signed certificate, its SANs name the pod (%s): %s"
          % (b.name, err or "ok"))
    with open("/proc/%d/status" % b.pid) as f:
        uids = re.search(r"^Uid:\s+(.*)$", f.read(), re.M).group(1).split()
    check(uids == [str(uid)] * 4, "the server runs as uid %d (%s)" % (uid, uids))

    # browse the console's own image through its WebSocket
    con = cc.Console("https://127.0.0.1:9090", cafile=ss_ca, origin="https://127.0.0.1:9090")
    con.ctx.check_hostname = False
    st, body = con.login_registry(renv["REGISTRY_USER"], renv["REGISTRY_PASSWORD"])
    check(st == 200, "registry login through the console (%s)" % st)
    shown = {}
    if st == 200:
        ws = con.socket()
        st, resp, data = ws.http("GET", "/v2/%s/manifests/%s" % (REPO, tag), headers={"Accept": OCI_MANIFEST})
        check(st == 200, "manifest through http-stream2 (%s)" % st)
        m = json.loads(data)
        digest = {k.lower(): v for k, v in resp.get("headers", {}).items()}.get("docker-content-digest")
        check(digest == image["digest"], "the registry holds the built image (%s)" % digest)
        check([l["digest"] for l in m["layers"]] == [l["digest"] for l in image["layers"]],
              "layers: %s" % ", ".join("%s (%s)" % (l["digest"][:19], mb(l["size"])) for l in m["layers"]))
        st, _, data = ws.http("GET", "/v2/%s/blobs/%s" % (REPO, m["config"]["digest"]))
        cfg = json.loads(data)
        hist = [h.get("created_by", "") for h in cfg.get("history", []) if not h.get("empty_layer")]
        check(len(hist) == 2 and hist[0].startswith("mmdebstrap") and hist[1].startswith("make install"),
              "history: %s" % [h[:60] for h in hist])
        labels = cfg["config"].get("Labels", {})
        oci = sorted(k for k in labels if k.startswith("org.opencontainers.image."))
        check({"org.opencontainers.image.title", "org.opencontainers.image.version",
               "org.opencontainers.image.created", "org.opencontainers.image.description"} <= set(oci),
              "labels: %s" % oci)
        size = sum(l["size"] for l in m["layers"]) + m["config"]["size"]
        check(size == sum(l["size"] for l in image["layers"]) + image["config_size"],
              "size: %s (layers and config, as built)" % mb(size))
        check(cfg["config"].get("User") == "1001" and "9090/tcp" in cfg["config"].get("ExposedPorts", {}),
              "config: user 1001, port 9090/tcp")
        shown = {"labels": labels, "layers": [l["digest"] for l in m["layers"]], "size": size,
                 "history": hist}
        ws.close()

        # and in Chromium
        node = shutil.which("node")
        if check(node is not None and os.path.isdir(os.path.join(TOP, "tests/browser/node_modules/playwright-core")),
                 "node and playwright-core (tests/browser) are there for the browser check"):
            expect = os.path.join(tmp, "expect.json")
            fl.atomic_write(expect, json.dumps(shown))
            r = subprocess.run([node, "--test", os.path.join(HERE, "browse.test.mjs")], capture_output=True, text=True,
                               env=dict(os.environ, RC_URL="https://127.0.0.1:9090/", RC_ARTIFACTS=artifacts,
                                        RC_IMAGE="%s:%s" % (REPO, tag), RC_EXPECT=expect,
                                        REGISTRY_USER=renv["REGISTRY_USER"],
                                        REGISTRY_PASSWORD=renv["REGISTRY_PASSWORD"]), timeout=180)
            check(r.returncode == 0, "Chromium shows the image's labels, layers and size (screenshots in %s)%s"
                  % (artifacts, "" if r.returncode == 0 else "\n" + r.stdout[-3000:] + r.stderr[-2000:]))
    code, secs, killed = b.stop()
    check(code == 0 and not killed, "SIGTERM stops the random-uid container: exit %s in %.2f s" % (code, secs))

    # --- start to first /ping ------------------------------------------------------
    times = []
    for i in range(3):
        c = C.Container(bundle, os.path.join(tmp, "start-%d" % i), name="registry-console-start-%d" % i,
                        env={"REGISTRY_URL": renv["REGISTRY_URL"]})
        started.append(c.start())
        times.append(c.wait_ping())
        c.stop()
    print("start to first /ping (new container, self-signed certificate created): %s; median %.0f ms"
          % (", ".join("%.0f ms" % (t * 1000) for t in times), statistics.median(times) * 1000))
    print("image size: %s compressed (as pushed), %s unpacked"
          % (mb(image["compressed_size"]), mb(image["unpacked_size"])))


if __name__ == "__main__":
    main()
