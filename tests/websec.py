#!/usr/bin/python3
"""tests/websec.py: web security tests against the real registry-console.

Starts the built server on a free loopback port over TLS with a temporary
certificate and a copy of static/ (plus symlinks pointing out of it), then
checks what an attacker would try:
  - cross-site WebSocket hijacking: a foreign Origin on /cockpit/socket is
    refused (403) while the console's own origin is accepted (101)
  - login CSRF: a foreign Origin on POST /cockpit/login is refused
  - open redirects through redirect_uri / state / the plain-HTTP redirect
  - cookie flags on the wire (Secure, HttpOnly, SameSite=Strict)
  - no secret in the G_MESSAGES_DEBUG=all log of the whole run
  - path traversal (encoded, double-encoded, backslash, NUL, symlinks): 404/400
  - security headers on every response
Exit status 0 when everything passes. Python stdlib only.
Environment: RC_SERVER, top_srcdir, top_builddir.
"""

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

top_srcdir = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
top_builddir = os.environ.get("top_builddir") or os.getcwd()
RC_SERVER = os.environ.get("RC_SERVER") or os.path.join(top_builddir, "registry-console")

FOREIGN = "https://evil.example"
SECRETS = []          # strings that must never appear in the server log
results = []


def check(name, ok, detail=""):
    results.append((name, ok))
    print("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""), flush=True)
    return ok


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, tmp, extra_args=(), env=None):
        self.tmp = tmp
        self.port = free_port()
        certs = os.path.join(tmp, "certs")
        os.makedirs(certs, exist_ok=True)
        key, crt = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
        tmpl = os.path.join(tmp, "cert.tmpl")
        with open(tmpl, "w") as f:
            f.write("cn = localhost\ndns_name = localhost\nip_address = 127.0.0.1\n"
                    "expiration_days = 30\ntls_www_server\nsigning_key\nencryption_key\n")
        subprocess.run(["certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", key],
                       check=True, capture_output=True)
        subprocess.run(["certtool", "--generate-self-signed", "--load-privkey", key,
                        "--template", tmpl, "--outfile", crt], check=True, capture_output=True)
        with open(os.path.join(certs, "50-websec.cert"), "w") as out:
            out.write(open(crt).read() + open(key).read())
        with open(key) as f:
            SECRETS.append(re.sub(r"-----[^-]+-----|\s", "", f.read())[:40])
        # static dir: a copy of the built or source static/ plus escapes
        self.static = os.path.join(tmp, "static")
        src = None
        for cand in (os.path.join(top_builddir, "static"), os.path.join(top_srcdir, "static")):
            if os.path.exists(os.path.join(cand, "index.html")):
                src = cand
                break
        if src:
            shutil.copytree(src, self.static, symlinks=True)
        else:
            os.makedirs(self.static)
            with open(os.path.join(self.static, "index.html"), "w") as f:
                f.write("<!DOCTYPE html><title>test</title>\n")
        with open(os.path.join(tmp, "outside.txt"), "w") as f:
            f.write("OUTSIDE-THE-STATIC-DIR\n")
        os.symlink(os.path.join(tmp, "outside.txt"), os.path.join(self.static, "escape.txt"))
        os.symlink(tmp, os.path.join(self.static, "escape-dir"))
        self.log_path = os.path.join(tmp, "server.log")
        e = dict(os.environ)
        e.update(env or {})
        e["G_MESSAGES_DEBUG"] = "all"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([RC_SERVER, "--address", "127.0.0.1", "--port", str(self.port),
                                      "--cert-dir", certs, "--static-dir", self.static] + list(extra_args),
                                     stdout=self.log, stderr=subprocess.STDOUT, env=e)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + open(self.log_path).read()[-2000:])
            try:
                status, _, _ = self.request("GET", "/ping")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not answer /ping in 10 s")

    def origin(self):
        return "https://127.0.0.1:%d" % self.port

    def connect(self, tls=True):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s, server_hostname="localhost")
        return s

    def raw(self, data, tls=True):
        """Send raw request bytes; return (status or None, headers dict-list, body bytes)."""
        s = self.connect(tls)
        try:
            s.sendall(data)
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            if b"\r\n\r\n" not in buf:
                return None, [], buf
            head, body = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            m = re.match(r"HTTP/1\.[01] (\d+)", lines[0])
            headers = []
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers.append((k.strip().lower(), v.strip()))
            status = int(m.group(1)) if m else None
            length = next((int(v) for k, v in headers if k == "content-length"), None)
            if status != 101 and status not in (204, 304):
                s.settimeout(5)
                while length is None or len(body) < length:
                    try:
                        chunk = s.recv(65536)
                    except (socket.timeout, ssl.SSLError, OSError):
                        break
                    if not chunk:
                        break
                    body += chunk
            return status, headers, body
        finally:
            s.close()

    def request(self, method, path, headers=(), body=b"", tls=True):
        req = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n" % (method, path, self.port)
        for k, v in headers:
            req += "%s: %s\r\n" % (k, v)
        if body or method == "POST":
            req += "Content-Length: %d\r\n" % len(body)
        data = req.encode("latin-1") + b"\r\n" + body
        return self.raw(data, tls)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return open(self.log_path, errors="replace").read()


def header(headers, name):
    return [v for k, v in headers if k == name]


def upgrade_headers(origin):
    return [("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Protocol", "cockpit1"), ("Origin", origin)]


def test_websocket_origin(srv):
    status, _, _ = srv.request("GET", "/cockpit/socket", upgrade_headers(srv.origin()))
    check("websocket: own origin upgrades", status == 101, "status %s" % status)
    for origin in (FOREIGN, "null", "http://127.0.0.1:%d" % srv.port,
                   "https://127.0.0.1:%d.evil.example" % srv.port, "https://127.0.0.1"):
        status, _, _ = srv.request("GET", "/cockpit/socket", upgrade_headers(origin))
        check("websocket: Origin %s refused" % origin, status == 403, "status %s" % status)
    hdrs = [h for h in upgrade_headers("") if h[0] != "Origin"]
    status, _, _ = srv.request("GET", "/cockpit/socket", hdrs)
    check("websocket: missing Origin refused", status == 403, "status %s" % status)


TRAVERSALS = [
    "/../../../../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/%252e%252e/%252e%252e/%252e%252e/etc/passwd",
    "/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/..\\..\\..\\..\\etc\\passwd",
    "/..%5c..%5c..%5c..%5cetc%5cpasswd",
    "/..%255c..%255c..%255cetc%255cpasswd",
    "/%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/.%2e/.%2e/.%2e/etc/passwd",
    "/....//....//....//etc/passwd",
    "//etc/passwd",
    "/index.html%00.js",
    "/%00",
    "/escape.txt",
    "/escape-dir/outside.txt",
    "/escape-dir/certs/50-websec.cert",
    "/./escape.txt",
    "/%2fetc%2fpasswd",
]


def test_traversal(srv):
    for path in TRAVERSALS:
        status, _, body = srv.request("GET", path)
        leaked = b"root:" in body or b"OUTSIDE-THE-STATIC-DIR" in body or b"PRIVATE KEY" in body
        check("traversal %s" % path, status in (400, 404) and not leaked,
              "status %s%s" % (status, ", LEAKED file contents" if leaked else ""))
    # a raw NUL byte in the request line: refused, never served
    status, _, body = srv.raw(b"GET /index.html\x00/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check("traversal raw NUL in request line", status in (400, 404, None) and b"root:" not in body,
          "status %s" % (status if status else "connection closed"))


def test_headers(srv):
    for path in ("/", "/ping", "/does-not-exist"):
        status, headers, _ = srv.request("GET", path, [("Origin", srv.origin())])
        missing = [h for h in ("content-security-policy", "x-frame-options", "x-content-type-options",
                               "referrer-policy", "cross-origin-resource-policy", "strict-transport-security")
                   if not header(headers, h)]
        check("security headers on %s (%s)" % (path, status), not missing, "missing " + ", ".join(missing))
        csp = " ".join(header(headers, "content-security-policy"))
        check("CSP on %s has no unsafe-inline script" % path, "unsafe-inline" not in csp.split("style-src")[0], csp)


def test_plain_redirect(srv):
    # plain HTTP on the TLS port: only /ping, everything else 301 to https on the same host
    status, headers, _ = srv.request("GET", "/ping", tls=False)
    check("plain /ping on the TLS port answered", status == 200, "status %s" % status)
    req = b"GET //evil.example/x HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" % srv.port
    status, headers, _ = srv.raw(req, tls=False)
    loc = (header(headers, "location") or [""])[0]
    check("plain-HTTP redirect stays on this host", status == 301 and loc.startswith(srv.origin() + "/")
          and "evil.example" not in loc.split("/")[2], "status %s Location %s" % (status, loc))
    req = b"GET /x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    status, headers, _ = srv.raw(req, tls=False)
    loc = (header(headers, "location") or [""])[0]
    check("plain-HTTP redirect with a foreign Host does not send the browser away",
          status in (301, 400) and not loc.startswith("https://evil.example"), "status %s Location %s" % (status, loc))


def test_login_csrf(srv):
    status, _, _ = srv.request("POST", "/cockpit/login",
                               [("Origin", FOREIGN), ("Content-Type", "application/x-www-form-urlencoded"),
                                ("Authorization", "Basic " + "YWRtaW46d3Jvbmc=")], b"")
    check("login: foreign Origin on POST /cockpit/login refused", status == 403, "status %s" % status)


def test_open_redirect(srv):
    bad = [FOREIGN, "//evil.example", "https:evil.example", "/\\evil.example", "https://127.0.0.1.evil.example"]
    for target in bad:
        for q in ("redirect_uri", "state", "return", "next"):
            for path in ("/cockpit/login", "/cockpit/logout", "/"):
                status, headers, body = srv.request("GET", "%s?%s=%s" % (path, q, target.replace("/", "%2F")))
                loc = " ".join(header(headers, "location"))
                refresh = body[:4096].decode("latin-1", "replace")
                bad_loc = "evil.example" in loc.split("?")[0] or re.search(r"url=[^\"']*evil\.example", refresh, re.I)
                if bad_loc:
                    check("open redirect %s?%s=%s" % (path, q, target), False, "Location %s" % loc)
                    return
    check("open redirect through redirect_uri/state/next on login, logout, /", True,
          "%d attempts, none redirected off-site" % (len(bad) * 4 * 3))


def test_log_secrets(log):
    leaked = [s for s in SECRETS if s and s in log]
    check("no secret in the G_MESSAGES_DEBUG=all log (%d secrets, %d log lines)" % (len(SECRETS), log.count("\n")),
          not leaked, "leaked: %s" % ", ".join(x[:12] + "..." for x in leaked))


def main():
    if not os.access(RC_SERVER, os.X_OK):
        print("websec: %s not built" % RC_SERVER)
        return 1
    only = set(sys.argv[1:])
    tmp = tempfile.mkdtemp(prefix="rc-websec.")
    srv = None
    try:
        srv = Server(tmp)
        for name, fn in (("origin", test_websocket_origin), ("traversal", test_traversal),
                         ("headers", test_headers), ("redirect", test_plain_redirect),
                         ("csrf", test_login_csrf), ("open-redirect", test_open_redirect)):
            if not only or name in only:
                fn(srv)
        if srv.proc.poll() is not None:
            check("server still running after the attacks", False, "exit status %s" % srv.proc.returncode)
        log = srv.stop()
        test_log_secrets(log)
    finally:
        if srv:
            srv.stop() if srv.proc.poll() is None else None
        shutil.rmtree(tmp, ignore_errors=True)
    failed = [n for n, ok in results if not ok]
    print("websec: %d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
