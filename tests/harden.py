"""tests/harden.py: start the real registry-console for the hardening tests
(websec.py, load/faults.py): free loopback port, temporary certificate and
static dir (with symlinks pointing out of it), G_MESSAGES_DEBUG=all log,
raw HTTP(S) helpers. Python stdlib only."""

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
FIXTURES = os.path.join(top_srcdir, "tests", "fixtures")
sys.path.insert(0, FIXTURES)
from fixturelib import free_port  # noqa: E402

SECRETS = []          # strings that must never appear in a server log
# e.g. "valgrind --leak-check=full --error-exitcode=1" (make check-valgrind)
WRAPPER = os.environ.get("RC_SERVER_WRAPPER", "").split()




class Server:
    def __init__(self, tmp, extra_args=(), env=None, tls=True):
        tmp = tempfile.mkdtemp(prefix="server.", dir=tmp)
        self.tmp = tmp
        self.tls = tls
        self.port = free_port()
        if not tls:
            extra_args = list(extra_args) + ["--no-tls"]
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
        self.log_path = os.path.join(tmp, "server-%d.log" % self.port)
        e = dict(os.environ)
        e.update(env or {})
        e["G_MESSAGES_DEBUG"] = "all"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(WRAPPER + [RC_SERVER, "--address", "127.0.0.1", "--port", str(self.port),
                                      "--cert-dir", certs, "--static-dir", self.static] + list(extra_args),
                                     stdout=self.log, stderr=subprocess.STDOUT, env=e)
        deadline = time.time() + (120 if WRAPPER else 10)
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + open(self.log_path).read()[-2000:])
            try:
                status, _, _ = self.request("GET", "/ping", tls=self.tls)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not answer /ping in time")

    def origin(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    url = property(origin)

    def alive(self):
        return self.proc.poll() is None

    def console(self, **kw):
        import cockpit_client
        return cockpit_client.Console(self.origin(), insecure=True, **kw)

    def connect(self, tls=None):
        tls = self.tls if tls is None else tls
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s, server_hostname="localhost")
        return s

    def raw(self, data, tls=None):
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

    def request(self, method, path, headers=(), body=b"", tls=None):
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
                self.proc.wait(120 if WRAPPER else 10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()
        return open(self.log_path, errors="replace").read()

    def log_text(self):
        self.log.flush()
        return open(self.log_path, errors="replace").read()




def header(headers, name):
    return [v for k, v in headers if k == name]


def fixture_registry(tmp, *args):
    """Start the real docker-registry fixture; returns its env dict and a stop function."""
    d = os.path.join(tmp, "registry-%d" % len(os.listdir(tmp)))
    os.makedirs(d)
    subprocess.run([os.path.join(FIXTURES, "registry-up"), "--quiet"] + list(args) + [d],
                   check=True, stdout=subprocess.DEVNULL)
    env = {}
    for line in open(os.path.join(d, "env")):
        m = re.match(r"(?:export )?(\w+)=['\"]?([^'\"\n]*)", line)
        if m:
            env[m.group(1)] = m.group(2)
    return env, lambda: subprocess.run([os.path.join(FIXTURES, "registry-down"), d],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
