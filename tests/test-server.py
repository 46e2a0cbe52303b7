#!/usr/bin/python3
"""Integration tests of the registry-console server: the real binary on a free
loopback port, a temporary certificate directory, real TLS.

TLS protocol checks use gnutls-cli (GnuTLS); HTTP and WebSocket checks use
the stdlib client in tests/fixtures/cockpit_client.py over TLS."""

import gzip
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "fixtures"))
import cockpit_client as cc  # noqa: E402
from fixturelib import free_port  # noqa: E402

BUILD = os.environ.get("top_builddir") or os.getcwd()
SERVER = os.environ.get("RC_SERVER") or os.path.join(BUILD, "registry-console")
REMOTECTL = os.path.join(BUILD, "remotectl")
WRAPPER = os.environ.get("RC_SERVER_WRAPPER", "").split()




REGISTRY = {}


def registry_env():
    """A real, empty docker-registry (no auth) for the console to log in to."""
    if not REGISTRY:
        d = tempfile.mkdtemp()
        subprocess.run([os.path.join(HERE, "fixtures", "registry-up"), "--empty", "--quiet", d],
                       check=True, capture_output=True)
        with open(os.path.join(d, "env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                REGISTRY[k] = v.strip("'\"")
        REGISTRY["dir"] = d
    return REGISTRY


def registry_down():
    if REGISTRY:
        subprocess.run([os.path.join(HERE, "fixtures", "registry-down"), REGISTRY["dir"]], capture_output=True)
        shutil.rmtree(REGISTRY["dir"], ignore_errors=True)


class Server:
    def __init__(self, tmp, extra=(), env=None, port=None):
        self.tmp = tmp
        self.port = port or free_port()
        self.certs = os.path.join(tmp, "certs")
        self.static = os.path.join(tmp, "static")
        self.log = open(os.path.join(tmp, "server-%d.log" % self.port), "w+")
        e = dict(os.environ, G_MESSAGES_DEBUG="cockpit-ws", RC_HANDSHAKE_TIMEOUT_MS="1500")
        for k in ("KUBERNETES_SERVICE_HOST", "REGISTRY_URL", "COCKPIT_KUBE_INSECURE"):
            e.pop(k, None)
        e["REGISTRY_URL"] = registry_env()["REGISTRY_URL"]
        e.update(env or {})
        self.proc = subprocess.Popen(WRAPPER + [SERVER, "--port", str(self.port), "--address", "127.0.0.1",
                                                "--cert-dir", self.certs, "--static-dir", self.static,
                                                "--session-key-file", os.path.join(tmp, "session.key"),
                                                "--config", os.path.join(tmp, "cockpit.conf")] + list(extra),
                                     stdout=self.log, stderr=subprocess.STDOUT, env=e)
        deadline = time.time() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if s.recv(100).startswith(b"HTTP/1.1 200"):
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError("server did not start: " + self.output())
            time.sleep(0.05)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()
        return self.proc.returncode

    def ctx(self):
        c = ssl.create_default_context(cafile=self.cert_file())
        c.check_hostname = False
        return c

    def cert_file(self):
        out = subprocess.run([REMOTECTL, "certificate", "--cert-dir", self.certs], capture_output=True, text=True).stdout
        return out.split("certificate: ", 1)[1].strip()

    def https(self, method, path, headers=None, body=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx(), timeout=10)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r, data


def gnutls_cli(port, *args, data=b""):
    return subprocess.run(["gnutls-cli", "--insecure", "-p", str(port), *args, "127.0.0.1"],
                          input=data, capture_output=True, timeout=20)


class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        static = os.path.join(cls.tmp, "static")
        os.makedirs(os.path.join(static, "sub"))
        cls.index = b"<!DOCTYPE html><title>index</title>\n"
        cls.js = ("// module\n" + "export const x = 'registry';\n" * 300).encode()
        with open(os.path.join(static, "index.html"), "wb") as f:
            f.write(cls.index)
        with open(os.path.join(static, "app.js"), "wb") as f:
            f.write(cls.js)
        with open(os.path.join(static, "sub", "data.json"), "wb") as f:
            f.write(b'{"a": 1}')
        with open(os.path.join(static, "404.html"), "wb") as f:
            f.write(b"<!DOCTYPE html><title>custom 404</title>")
        with open(os.path.join(cls.tmp, "secret.txt"), "w") as f:
            f.write("outside the static tree")
        os.symlink(os.path.join(cls.tmp, "secret.txt"), os.path.join(static, "link.txt"))
        os.symlink("../app.js", os.path.join(static, "sub", "rel-link.js"))          # stays inside
        os.symlink(os.path.join(static, "app.js"), os.path.join(static, "abs-link.js"))  # absolute, inside
        os.symlink("../../secret.txt", os.path.join(static, "sub", "up-link.txt"))  # relative, out
        cls.server = Server(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_creates_self_signed_certificate_and_serves_it(self):
        path = self.server.cert_file()
        self.assertEqual(os.path.basename(path), "0-self-signed.cert")
        with open(path) as f:
            first = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", f.read(), re.S).group(0)
        with socket.create_connection(("127.0.0.1", self.server.port)) as raw:
            with self.server.ctx().wrap_socket(raw) as s:
                der = s.getpeercert(binary_form=True)
                self.assertIn(s.version(), ("TLSv1.2", "TLSv1.3"))
                self.assertEqual(s.selected_alpn_protocol(), None)
        self.assertEqual(ssl.DER_cert_to_PEM_cert(der).strip(), first.strip())

    def test_gnutls_client_tls13_and_tls12(self):
        for prio, want in (("NORMAL:-VERS-ALL:+VERS-TLS1.3", "(TLS1.3"), ("NORMAL:-VERS-ALL:+VERS-TLS1.2", "(TLS1.2")):
            r = gnutls_cli(self.server.port, "--priority", prio, "--alpn", "http/1.1",
                           data=b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            out = r.stdout.decode(errors="replace")
            self.assertIn(want, out)
            self.assertIn("Application protocol: http/1.1", out)
            self.assertIn('{"service":"cockpit"}', out)

    def test_old_tls_refused(self):
        for prio in ("NORMAL:-VERS-ALL:+VERS-TLS1.1", "NORMAL:-VERS-ALL:+VERS-TLS1.0"):
            r = gnutls_cli(self.server.port, "--priority", prio)
            self.assertNotEqual(r.returncode, 0)
            self.assertNotIn(b"Handshake was completed", r.stdout + r.stderr)

    def test_static_file_bytes_and_headers(self):
        r, body = self.server.https("GET", "/app.js")
        self.assertEqual(r.status, 200)
        self.assertEqual(body, self.js)
        self.assertEqual(r.getheader("Content-Type"), "text/javascript; charset=utf-8")
        csp = r.getheader("Content-Security-Policy")
        self.assertIn("default-src 'self'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertEqual(r.getheader("X-Frame-Options"), "sameorigin")
        self.assertEqual(r.getheader("X-Content-Type-Options"), "nosniff")
        self.assertEqual(r.getheader("Referrer-Policy"), "no-referrer")
        self.assertEqual(r.getheader("Cross-Origin-Resource-Policy"), "same-origin")
        self.assertIn("max-age=", r.getheader("Strict-Transport-Security"))
        self.assertTrue(r.getheader("ETag"))
        r, body = self.server.https("GET", "/index.html")
        self.assertEqual(body, self.index)
        self.assertEqual(r.getheader("Content-Type"), "text/html; charset=utf-8")
        r, body = self.server.https("GET", "/sub/data.json")
        self.assertEqual((r.status, body, r.getheader("Content-Type")), (200, b'{"a": 1}', "application/json"))

    def test_etag_gives_304(self):
        r, _ = self.server.https("GET", "/app.js")
        etag = r.getheader("ETag")
        r, body = self.server.https("GET", "/app.js", {"If-None-Match": etag})
        self.assertEqual((r.status, body), (304, b""))
        self.assertEqual(r.getheader("ETag"), etag)
        r, body = self.server.https("GET", "/app.js", {"If-None-Match": '"other"'})
        self.assertEqual(r.status, 200)

    def test_gzip_when_accepted(self):
        r, body = self.server.https("GET", "/app.js", {"Accept-Encoding": "gzip, deflate"})
        self.assertEqual(r.getheader("Content-Encoding"), "gzip")
        self.assertEqual(r.getheader("Vary"), "Accept-Encoding")
        self.assertLess(len(body), len(self.js))
        self.assertEqual(gzip.decompress(body), self.js)
        r, body = self.server.https("GET", "/app.js")
        self.assertIsNone(r.getheader("Content-Encoding"))

    def test_head(self):
        r, body = self.server.https("HEAD", "/app.js")
        self.assertEqual((r.status, body), (200, b""))
        self.assertEqual(int(r.getheader("Content-Length")), len(self.js))

    def raw_tls(self, request):
        with socket.create_connection(("127.0.0.1", self.server.port)) as raw:
            with self.server.ctx().wrap_socket(raw) as s:
                s.sendall(request)
                data = b""
                s.settimeout(10)
                while True:
                    try:
                        chunk = s.recv(65536)
                    except (ssl.SSLError, OSError):
                        break
                    if not chunk:
                        break
                    data += chunk
                return data

    def test_path_traversal_is_refused(self):
        for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/%252e%252e/secret.txt", "/..%2fsecret.txt",
                     "/sub/..%2f..%2fsecret.txt", "/..\\secret.txt", "/%5c..%5csecret.txt", "/app.js%00.html",
                     "/link.txt", "/sub/up-link.txt", "/sub/../../secret.txt", "//etc/passwd",
                     "/%2fetc%2fpasswd", "/sub"):
            data = self.raw_tls(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
            status = data.split(b"\r\n", 1)[0]
            if "%00" in path and data == b"":
                continue        # libwebsockets drops a request with an encoded NUL outright
            self.assertRegex(status, rb"HTTP/1.1 (404|400|403)", path)
            self.assertNotIn(b"outside the static tree", data, path)
            self.assertNotIn(b"root:", data, path)

    def test_symlinks_inside_the_tree_are_served(self):
        for path in ("/sub/rel-link.js", "/abs-link.js"):
            r, body = self.server.https("GET", path)
            self.assertEqual(r.status, 200, path)
            self.assertEqual(body, self.js, path)

    def test_unknown_path_gets_404_page(self):
        r, body = self.server.https("GET", "/no/such/file")
        self.assertEqual(r.status, 404)
        self.assertIn(b"custom 404", body)
        self.assertEqual(r.getheader("X-Frame-Options"), "sameorigin")

    def test_ping_over_tls_and_plain_http_on_the_same_port(self):
        r, body = self.server.https("GET", "/ping")
        self.assertEqual((r.status, json.loads(body)), (200, {"service": "cockpit"}))
        self.assertEqual(r.getheader("Access-Control-Allow-Origin"), "*")
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        conn.request("GET", "/ping")
        r = conn.getresponse()
        self.assertEqual((r.status, json.loads(r.read())), (200, {"service": "cockpit"}))

    def test_plain_http_is_redirected_to_https(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        conn.request("GET", "/images/x?y=1", headers={"Host": "console.example.com:9090"})
        r = conn.getresponse()
        self.assertEqual(r.status, 301)
        self.assertEqual(r.getheader("Location"), "https://console.example.com:9090/images/x?y=1")

    def test_websocket_not_over_plain_http_on_tls_port(self):
        con = cc.Console("http://127.0.0.1:%d" % self.server.port)
        with self.assertRaises(cc.HandshakeError):
            con.socket()

    def test_handshake_that_never_finishes_is_dropped(self):
        s = socket.create_connection(("127.0.0.1", self.server.port))
        s.sendall(b"\x16\x03\x01")          # the start of a ClientHello, then silence
        s.settimeout(10)
        t0 = time.time()
        self.assertEqual(s.recv(10), b"")   # closed by the server
        self.assertLess(time.time() - t0, 8)
        s.close()

    def test_busy_port_is_a_clear_error(self):
        r = subprocess.run([SERVER, "--port", str(self.server.port), "--address", "127.0.0.1",
                            "--cert-dir", self.server.certs, "--static-dir", self.server.static],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.strip().splitlines()[-1],
                         "registry-console: cannot listen on port %d: Address already in use" % self.server.port)

    # -- WebSocket ---------------------------------------------------------
    def console(self, origin=None, user="tester"):
        con = cc.Console("https://127.0.0.1:%d" % self.server.port, insecure=True, origin=origin)
        con.skip_pings = True       # the class's server may be up past its first ping
        if origin is None:
            self.assertEqual(con.login_registry(user, "any")[0], 200)
        else:
            con.cookies = dict(self.console().cookies)
        return con

    def test_websocket_origin_checked(self):
        ws = self.console().socket()
        ws.close()
        for origin in ("https://evil.example", "http://127.0.0.1:%d" % self.server.port):
            with self.assertRaises(cc.HandshakeError) as cm:
                self.console(origin=origin).socket()
            self.assertEqual(cm.exception.status, 403)

    def test_init_exchange(self):
        ws = self.console().socket(init=False)
        channel, msg = ws.recv()
        self.assertEqual(channel, "")
        self.assertEqual(msg["command"], "init")
        self.assertEqual(msg["version"], 1)
        self.assertEqual(msg["channel-seed"], "1:")
        self.assertRegex(msg["csrf-token"], r"^[0-9a-f]{64}$")
        self.assertEqual(set(msg["capabilities"]), {"multi", "credentials", "binary"})
        # anything before the client's init is a protocol error
        ws.control(command="open", channel="a", payload="echo")
        channel, msg = ws.recv()
        self.assertEqual((msg["command"], msg.get("problem")), ("close", "protocol-error"))

    def test_echo_sizes_and_null(self):
        ws = self.console().socket()
        ws.control(command="open", channel="e", payload="echo")
        self.assertEqual(ws.recv()[1], {"command": "ready", "channel": "e"})
        for size in (1, 64 * 1024, 1024 * 1024):
            payload = ("%07d" % size) * (size // 7) + "x" * (size % 7)
            ws.send("e", payload)
            channel, data = ws.recv()
            self.assertEqual(channel, "e")
            self.assertEqual(data, payload.encode())
        ws.control(command="open", channel="n", payload="null")
        self.assertEqual(ws.recv()[1], {"command": "ready", "channel": "n"})
        ws.control(command="ping")
        self.assertEqual(ws.recv()[1], {"command": "pong"})
        ws.control(command="open", channel="u", payload="no-such-payload")
        self.assertEqual(ws.recv()[1], {"command": "close", "channel": "u", "problem": "not-supported"})
        ws.close()

    def test_bad_frames_close_with_protocol_error_and_others_keep_working(self):
        good = self.console().socket()
        good.control(command="open", channel="e", payload="echo")
        good.recv()
        for bad in ("no newline at all", "\n{not json", "\n[1,2]", "\n{\"command\":\"open\"}",
                    "\n{\"command\":\"open\",\"channel\":\"a\",\"payload\":\"echo\"}" + "\n"):
            ws = self.console().socket()
            if bad.endswith("}\n"):
                ws.send_frame(bad[:-1].encode())
                ws.send_frame(bad[:-1].encode())   # duplicate channel id
                ws.recv()
            else:
                ws.send_frame(bad.encode())
            channel, msg = ws.recv()
            self.assertEqual((channel, msg["command"], msg.get("problem")), ("", "close", "protocol-error"), bad)
            good.send("e", "still here")
            self.assertEqual(good.recv(), ("e", b"still here"))

    def test_200_concurrent_sockets_echo(self):
        # 200 users with a socket each (one user may hold only MaxSocketsPerUser)
        sockets = []
        for i in range(200):
            ws = self.console(user="user-%d" % i).socket()
            ws.control(command="open", channel="e", payload="echo")
            sockets.append(ws)
        for i, ws in enumerate(sockets):
            ws.recv()
            ws.send("e", "socket %d" % i)
        for i, ws in enumerate(sockets):
            self.assertEqual(ws.recv(), ("e", b"socket %d" % i))
            ws.close()

    def test_flood_without_reading_is_bounded(self):
        ws = self.console().socket()
        ws.control(command="open", channel="e", payload="echo")
        ws.recv()
        base_kb = rss_kb(self.server.proc.pid)
        chunk = "y" * 65536
        sent = 0
        ws.sock.settimeout(0.5)
        try:
            for _ in range(2000):           # up to 128 MiB offered, never reading
                ws.send("e", chunk)
                sent += len(chunk)
        except (socket.timeout, ssl.SSLError, OSError):
            pass
        # the server stopped reading long before 128 MiB, and what it holds
        # for this client is bounded (growth, so a sanitizer's own footprint
        # does not count)
        self.assertLess(sent, 64 << 20, "server kept reading from a client that never reads")
        grown = rss_kb(self.server.proc.pid) - base_kb
        self.assertLess(grown, 48 * 1024, "server RSS grew %d kB after %d MB offered" % (grown, sent >> 20))
        # and others are served meanwhile
        other = self.console().socket()
        other.control(command="open", channel="e", payload="echo")
        other.recv()
        other.send("e", "hi")
        self.assertEqual(other.recv(), ("e", b"hi"))
        other.close()
        ws.sock.close()


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


class LifecycleTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        os.makedirs(os.path.join(self.tmp, "static"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def served_cert(self, port):
        with socket.create_connection(("127.0.0.1", port)) as raw:
            c = ssl.create_default_context()
            c.check_hostname = False
            c.verify_mode = ssl.CERT_NONE
            with c.wrap_socket(raw) as s:
                return ssl.DER_cert_to_PEM_cert(s.getpeercert(binary_form=True))

    def test_sighup_picks_up_a_new_last_cert_and_keeps_open_connections(self):
        srv = Server(self.tmp)
        try:
            before = self.served_cert(srv.port)
            # an open keep-alive connection from before the reload
            c = ssl.create_default_context()
            c.check_hostname = False
            c.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=c, timeout=10)
            conn.request("GET", "/ping")
            conn.getresponse().read()
            other = os.path.join(self.tmp, "other")
            subprocess.run([REMOTECTL, "certificate", "--cert-dir", other, "--ensure"], check=True, capture_output=True)
            shutil.copy(os.path.join(other, "0-self-signed.cert"), os.path.join(srv.certs, "50-new.cert"))
            srv.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 10
            while self.served_cert(srv.port) == before:
                self.assertLess(time.time(), deadline, "new certificate not served after SIGHUP")
                time.sleep(0.05)
            with open(os.path.join(srv.certs, "50-new.cert")) as f:
                self.assertIn(self.served_cert(srv.port).strip().splitlines()[1], f.read())
            conn.request("GET", "/ping")
            self.assertEqual(conn.getresponse().status, 200)
            self.assertIn("50-new.cert", srv.output())
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_sigterm_closes_websockets_with_1001_and_exits_0(self):
        srv = Server(self.tmp)
        con = cc.Console("https://127.0.0.1:%d" % srv.port, insecure=True)
        con.login_registry("tester", "any")
        ws = con.socket()
        srv.proc.send_signal(signal.SIGTERM)
        ws.sock.settimeout(10)
        with self.assertRaises(ConnectionError):
            while True:
                ws.recv_message()
        self.assertEqual(ws.close_code, 1001)
        self.assertEqual(srv.proc.wait(15), 0)

    def test_no_tls_serves_plain_http(self):
        srv = Server(self.tmp, extra=["--no-tls"])
        try:
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
            conn.request("GET", "/ping")
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertIsNone(r.getheader("Strict-Transport-Security"))
            con = cc.Console("http://127.0.0.1:%d" % srv.port)
            self.assertEqual(con.login_registry("tester", "any")[0], 200)
            con.socket().close()
        finally:
            srv.stop()

    def test_systemd_socket_activation(self):
        """registry-console.socket hands over a listening socket (LISTEN_FDS)."""
        port = free_port()
        env = dict(os.environ, REGISTRY_URL=registry_env()["REGISTRY_URL"])
        proc = subprocess.Popen(["systemd-socket-activate", "-l", "127.0.0.1:%d" % port, SERVER,
                                 "--cert-dir", os.path.join(self.tmp, "c"), "--static-dir", os.path.join(self.tmp, "static"),
                                 "--session-key-file", os.path.join(self.tmp, "k"), "--config", os.path.join(self.tmp, "none.conf"),
                                 "--port", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.time() + 20
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/ping")
                    r = conn.getresponse()
                    break
                except OSError:
                    self.assertLess(time.time(), deadline)
                    time.sleep(0.05)
            self.assertEqual((r.status, json.loads(r.read())), (200, {"service": "cockpit"}))
        finally:
            proc.terminate()
            out = proc.communicate(timeout=15)[0].decode()
        self.assertIn("using the listening socket from systemd", out)

    def test_bad_config_is_refused_naming_the_key(self):
        with open(os.path.join(self.tmp, "cockpit.conf"), "w") as f:
            f.write("[WebService]\nIdleTimeout = soon\n")
        r = subprocess.run([SERVER, "--port", "0", "--cert-dir", os.path.join(self.tmp, "c"),
                            "--config", os.path.join(self.tmp, "cockpit.conf")], capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn("IdleTimeout", r.stderr)
        self.assertIn("soon", r.stderr)


def tearDownModule():
    registry_down()


if __name__ == "__main__":
    unittest.main(verbosity=2)
