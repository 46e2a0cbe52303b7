#!/usr/bin/python3
"""Validate templates/registry-console.yaml and the container launcher.

- the template parses; every ${PARAM} / ${{PARAM}} used is declared and every
  declared parameter is used; required ones have no default or generator;
- the objects are the ones OpenShift 3's template had, with the fields
  existing procedures depend on (probes, ports, env, OAuthClient);
- the probes point at a real route: the real server answers GET /ping over
  plain HTTP on its TLS port with 200 {"service":"cockpit"};
- the launcher combines a mounted tls.crt + tls.key with the real remotectl,
  and fails with remotectl's message when the secret is bad.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import yaml

srcdir = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
from fixturelib import free_port  # noqa: E402
builddir = os.environ.get("top_builddir", ".")
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


with open(os.path.join(srcdir, "templates", "registry-console.yaml")) as f:
    text = f.read()
tpl = yaml.safe_load(text)

check(tpl["kind"] == "Template", "kind is Template")
check(tpl["metadata"]["name"] == "registry-console", "template is named registry-console")

params = {p["name"]: p for p in tpl["parameters"]}
used = set(re.findall(r"\$\{\{?([A-Z_][A-Z0-9_]*)\}?\}", text))
check(used == set(params), "parameters used == declared (used-only %s, unused %s)"
      % (sorted(used - set(params)), sorted(set(params) - used)))
for name in ("IMAGE_NAME", "OPENSHIFT_OAUTH_PROVIDER_URL", "COCKPIT_KUBE_URL", "REGISTRY_HOST",
             "OPENSHIFT_OAUTH_CLIENT_ID", "OPENSHIFT_OAUTH_CLIENT_SECRET", "REPLICAS"):
    check(name in params, "parameter %s declared" % name)
for name in ("OPENSHIFT_OAUTH_PROVIDER_URL", "COCKPIT_KUBE_URL", "REGISTRY_HOST"):
    p = params[name]
    check(p.get("required") is True and "value" not in p and "generate" not in p,
          "%s is required without default" % name)
for name, p in params.items():
    if not p.get("required"):
        check("value" in p or p.get("generate") == "expression", "%s has a default or generator" % name)
check(params["OPENSHIFT_OAUTH_CLIENT_ID"].get("value") == "cockpit-oauth-client", "client id default")
check(params["OPENSHIFT_OAUTH_CLIENT_SECRET"].get("from") == "user[a-zA-Z0-9]{64}", "client secret generator")
check(params["REPLICAS"].get("value") == "1", "REPLICAS defaults to 1")

objs = {(o["kind"], o["metadata"]["name"]): o for o in tpl["objects"]}
dc = objs.get(("DeploymentConfig", "registry-console"))
svc = objs.get(("Service", "registry-console"))
oauth = objs.get(("OAuthClient", "${OPENSHIFT_OAUTH_CLIENT_ID}"))
check(dc is not None and svc is not None and oauth is not None, "DeploymentConfig, Service, OAuthClient present")

c = dc["spec"]["template"]["spec"]["containers"][0]
check(c["image"] == "${IMAGE_NAME}", "container image is IMAGE_NAME")
check(dc["spec"]["replicas"] == "${{REPLICAS}}", "replicas from REPLICAS")
check([p["containerPort"] for p in c["ports"]] == [9090], "container port 9090")
for probe in ("livenessProbe", "readinessProbe"):
    g = c[probe]["httpGet"]
    check(g == {"path": "/ping", "port": 9090, "scheme": "HTTP"}, "%s is httpGet /ping 9090 HTTP" % probe)
env = {e["name"]: e.get("value") for e in c["env"]}
expect = {"OPENSHIFT_OAUTH_PROVIDER_URL": "${OPENSHIFT_OAUTH_PROVIDER_URL}",
          "OPENSHIFT_OAUTH_CLIENT_ID": "${OPENSHIFT_OAUTH_CLIENT_ID}",
          "KUBERNETES_INSECURE": "false", "COCKPIT_KUBE_INSECURE": "false",
          "REGISTRY_ONLY": "true", "REGISTRY_HOST": "${REGISTRY_HOST}",
          "COCKPIT_KUBE_URL": "${COCKPIT_KUBE_URL}"}
for k, v in expect.items():
    check(env.get(k) == v, "env %s=%s" % (k, v))
check("requests" in c["resources"] and "limits" in c["resources"], "resource requests and limits")
secret_name = dc["spec"]["template"]["spec"]["volumes"][0]["secret"]["secretName"]
check(("Secret", secret_name) in objs, "session key Secret %s is an object of the template" % secret_name)

sp = svc["spec"]["ports"][0]
check(sp["name"] == "registry-console" and sp["port"] == 9000 and sp["targetPort"] == 9090,
      "service port 9000 named registry-console -> 9090")
check(svc["spec"]["selector"] == dc["spec"]["template"]["metadata"]["labels"], "service selects the pods")
check(oauth.get("respondWithChallenges") is False, "OAuthClient respondWithChallenges false")
check(oauth.get("secret") == "${OPENSHIFT_OAUTH_CLIENT_SECRET}", "OAuthClient secret")
check(oauth.get("redirectURIs") == ["${COCKPIT_KUBE_URL}"], "OAuthClient redirect is COCKPIT_KUBE_URL")

# --- the probes point at a real route -------------------------------------
server = os.path.join(builddir, "registry-console")
remotectl = os.path.join(builddir, "remotectl")
check(os.access(server, os.X_OK), "server binary built")
check(os.access(remotectl, os.X_OK), "remotectl built")




def http_get_plain(port, path, deadline):
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"
                           % (path, port)).encode())
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                return data
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)


tmp = tempfile.mkdtemp()
try:
    if os.access(server, os.X_OK):
        port = free_port()
        staticdir = os.path.join(tmp, "static")
        os.mkdir(staticdir)
        with open(os.path.join(staticdir, "index.html"), "w") as f:
            f.write("<!doctype html><title>x</title>")
        proc = subprocess.Popen([server, "--port", str(port), "--address", "127.0.0.1",
                                 "--cert-dir", os.path.join(tmp, "certs"), "--static-dir", staticdir,
                                 "--session-key-file", os.path.join(tmp, "session.key")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            raw = http_get_plain(port, "/ping", time.time() + 20)
            head, _, body = raw.partition(b"\r\n\r\n")
            status = head.split(b"\r\n")[0]
            check(status.startswith(b"HTTP/1.1 200"), "plain GET /ping on the TLS port: %r" % status)
            if b"transfer-encoding: chunked" in head.lower():
                body = body.split(b"\r\n", 1)[1].rsplit(b"\r\n0\r\n", 1)[0]
            try:
                check(json.loads(body.strip()) == {"service": "cockpit"}, "ping body %r" % body)
            except ValueError:
                check(False, "ping body is JSON: %r" % body)
        finally:
            proc.terminate()
            proc.wait(10)

    # --- the launcher --------------------------------------------------------
    launcher = os.path.join(builddir, "registry-console-launch")
    secrets = os.path.join(tmp, "secrets")
    certs = os.path.join(tmp, "launch-certs")
    os.mkdir(secrets)
    subprocess.run(["certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile",
                    os.path.join(secrets, "tls.key")], check=True, capture_output=True)
    with open(os.path.join(tmp, "tmpl"), "w") as f:
        f.write('cn = "console.example.com"\ndns_name = "console.example.com"\nexpiration_days = 30\ntls_www_server\n')
    subprocess.run(["certtool", "--generate-self-signed", "--load-privkey", os.path.join(secrets, "tls.key"),
                    "--template", os.path.join(tmp, "tmpl"), "--outfile", os.path.join(secrets, "tls.crt")],
                   check=True, capture_output=True)
    env = dict(os.environ, WS_CERTS_SECRET_DIR=secrets, WS_CERTS_DIR=certs,
               REMOTECTL=remotectl, REGISTRY_CONSOLE="/bin/echo")
    r = subprocess.run([launcher, "--port", "1"], env=env, capture_output=True, text=True)
    check(r.returncode == 0, "launcher succeeds with a mounted secret (%s)" % r.stderr.strip())
    check("certificate: %s/tls.cert" % certs in r.stdout, "launcher reports the combined tls.cert: %r" % r.stdout)
    check("--cert-dir %s --port 1" % certs in r.stdout, "launcher execs the server with the cert dir")

    # a bad secret: the key does not match the certificate
    subprocess.run(["certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile",
                    os.path.join(secrets, "tls.key")], check=True, capture_output=True)
    shutil.rmtree(certs)
    r = subprocess.run([launcher], env=env, capture_output=True, text=True)
    check(r.returncode != 0, "launcher fails on a mismatched secret")
    check("does not match" in r.stderr or "match" in r.stderr, "launcher shows remotectl's reason: %r" % r.stderr)
    check("/bin/echo" not in r.stdout and r.stdout.strip() == "", "server not started after a failure")

    # no secret: a self-signed certificate is created
    shutil.rmtree(secrets)
    r = subprocess.run([launcher], env=env, capture_output=True, text=True)
    check(r.returncode == 0 and "certificate: %s/0-self-signed.cert" % certs in r.stdout,
          "launcher creates the self-signed certificate without a secret: %r %r" % (r.stdout, r.stderr))
finally:
    shutil.rmtree(tmp, ignore_errors=True)

if failures:
    print("test-template: %d failure(s)" % len(failures))
    sys.exit(1)
print("test-template: all checks passed")
