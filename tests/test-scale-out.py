#!/usr/bin/python3
"""Scale out: three registry-console replicas sharing one session key and one
certificate behind Debian's nginx as a round-robin TLS-passthrough balancer
(stream module), in registry mode against the real registry (htpasswd).

A user logs in once through the balancer; then 50 requests and a WebSocket
each (every one a new TLS connection) land on all replicas and succeed; one
replica is killed and the user keeps working."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "fixtures"))
import cockpit_client as cc  # noqa: E402
from fixturelib import free_port  # noqa: E402

BUILD = os.environ.get("top_builddir") or os.getcwd()
SERVER = os.environ.get("RC_SERVER") or os.path.join(BUILD, "registry-console")
REMOTECTL = os.path.join(BUILD, "remotectl")
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"




def wait_port(port, proc, deadline=20):
    end = time.time() + deadline
    while time.time() < end:
        if proc.poll() is not None:
            raise AssertionError("process exited with %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("port %d not listening" % port)


class ScaleOut(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        reg = os.path.join(cls.tmp, "registry")
        subprocess.run([os.path.join(HERE, "fixtures", "registry-up"), "--htpasswd", "--quiet", reg],
                       check=True, capture_output=True)
        cls.env = {}
        with open(os.path.join(reg, "env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                cls.env[k] = v.strip("'\"")
        cls.reg = reg

        # one certificate and one session key for all replicas
        certs = os.path.join(cls.tmp, "certs")
        subprocess.run([REMOTECTL, "certificate", "--cert-dir", certs, "--ensure"], check=True, capture_output=True)
        key = os.path.join(cls.tmp, "session.key")
        with open(key, "w") as f:
            f.write(os.urandom(32).hex())
        os.chmod(key, 0o600)
        os.makedirs(os.path.join(cls.tmp, "static"))

        cls.replicas = []
        for i in range(3):
            port = free_port()
            log = open(os.path.join(cls.tmp, "replica-%d.log" % i), "w+")
            env = dict(os.environ, REGISTRY_URL=cls.env["REGISTRY_URL"], G_MESSAGES_DEBUG="cockpit-ws,cockpit-wrapper")
            env.pop("KUBERNETES_SERVICE_HOST", None)
            proc = subprocess.Popen([SERVER, "--port", str(port), "--address", "127.0.0.1", "--cert-dir", certs,
                                     "--static-dir", os.path.join(cls.tmp, "static"), "--session-key-file", key,
                                     "--config", os.path.join(cls.tmp, "none.conf")],
                                    stdout=log, stderr=subprocess.STDOUT, env=env)
            cls.replicas.append({"port": port, "proc": proc, "log": log})
        for r in cls.replicas:
            wait_port(r["port"], r["proc"])

        cls.lb_port = free_port()
        nginx_dir = os.path.join(cls.tmp, "nginx")
        os.makedirs(nginx_dir)
        servers = "\n".join("    server 127.0.0.1:%d max_fails=1 fail_timeout=30s;" % r["port"] for r in cls.replicas)
        conf = os.path.join(nginx_dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""load_module %s;
daemon off;
pid %s/nginx.pid;
error_log %s/error.log info;
events { worker_connections 1024; }
stream {
  upstream consoles {
%s
  }
  server {
    listen 127.0.0.1:%d;
    proxy_pass consoles;
    proxy_connect_timeout 2s;
    proxy_next_upstream on;
  }
}
""" % (STREAM_MODULE, nginx_dir, nginx_dir, servers, cls.lb_port))
        cls.nginx = subprocess.Popen(["nginx", "-c", conf, "-p", nginx_dir, "-e", os.path.join(nginx_dir, "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_port(cls.lb_port, cls.nginx)

    @classmethod
    def tearDownClass(cls):
        cls.nginx.terminate()
        cls.nginx.wait(10)
        for r in cls.replicas:
            if r["proc"].poll() is None:
                r["proc"].terminate()
                r["proc"].wait(10)
        subprocess.run([os.path.join(HERE, "fixtures", "registry-down"), cls.reg], capture_output=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def log_of(self, r):
        r["log"].flush()
        r["log"].seek(0)
        return r["log"].read()

    def count(self, r, pattern):
        return len(re.findall(pattern, self.log_of(r)))

    def test_session_works_on_every_replica_and_survives_one_dying(self):
        con = cc.Console("https://127.0.0.1:%d" % self.lb_port, insecure=True)
        st, body = con.login_registry(self.env["REGISTRY_USER"], self.env["REGISTRY_PASSWORD"])
        self.assertEqual(st, 200, body)

        before = [self.count(r, r"GET /cockpit/session 200") for r in self.replicas]
        for i in range(50):
            st, _, body = con.request("GET", "/cockpit/session")     # a new TLS connection each time
            self.assertEqual(st, 200, "request %d: %s" % (i, body))
        per_replica = [self.count(r, r"GET /cockpit/session 200") - b for r, b in zip(self.replicas, before)]
        self.assertEqual(sum(per_replica), 50)
        for i, n in enumerate(per_replica):
            self.assertGreater(n, 0, "replica %d served none of the 50 requests: %s" % (i, per_replica))
        print("requests per replica:", per_replica)

        ws_before = [self.count(r, r"WebSocket open") for r in self.replicas]
        for i in range(6):
            ws = con.socket()
            st, resp, body = ws.http("GET", "/v2/_catalog", backend="registry")
            self.assertEqual(st, 200)
            self.assertIn(b"demo/hello", body if isinstance(body, bytes) else body.encode())
            ws.close()
        ws_per_replica = [self.count(r, r"WebSocket open") - b for r, b in zip(self.replicas, ws_before)]
        self.assertTrue(all(n > 0 for n in ws_per_replica), "WebSockets per replica: %s" % ws_per_replica)
        print("websockets per replica:", ws_per_replica)

        # one replica dies: the user keeps working through the others
        victim = self.replicas[1]
        victim["proc"].kill()
        victim["proc"].wait()
        for i in range(20):
            st, _, body = con.request("GET", "/cockpit/session")
            self.assertEqual(st, 200, "after the kill, request %d: %s" % (i, body))
        ws = con.socket()
        st, _, _ = ws.http("GET", "/v2/_catalog", backend="registry")
        self.assertEqual(st, 200)
        ws.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
