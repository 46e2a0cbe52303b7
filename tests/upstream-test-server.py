#!/usr/bin/python3
"""HTTP server for tests/test-upstream.c: binds 127.0.0.1:0 and prints
"PORT\n" on stdout once listening. Stdlib only.

  /hello            200 "hello"
  /echo             JSON {method, path, headers, body, client_port}
  /stream?n=N       N chunks of "chunk-i\n" 100 ms apart (chunked)
  /watch            chunked, one line per 100 ms until the client goes away
  /big?size=N       N bytes of a repeating pattern
  /hang             never answers (until the client goes away)
  /drop             promises 1000 bytes, sends 10, closes
  /v2/...           Distribution-like: 401 Bearer challenge unless
                    "Authorization: Bearer good-token-<scope>"
  /token            basic auth user:pass → {"token":"good-token-<scope>"}
  /stats            JSON {token_requests, watch_open}
"""
import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

STATS = {"token_requests": 0, "watch_open": 0}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, status, body, ctype="text/plain", extra=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def chunk(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def handle_any(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        p = url.path
        if p == "/hello":
            return self.send_body(200, "hello")
        if p == "/echo":
            return self.send_body(200, json.dumps({
                "method": self.command, "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("latin-1"),
                "client_port": self.client_address[1]}), "application/json")
        if p == "/stats":
            with LOCK:
                return self.send_body(200, json.dumps(STATS), "application/json")
        if p == "/stream":
            n = int(q.get("n", ["5"])[0])
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(n):
                self.chunk("chunk-%d\n" % i)
                time.sleep(0.1)
            self.wfile.write(b"0\r\n\r\n")
            return
        if p == "/watch":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            with LOCK:
                STATS["watch_open"] += 1
            try:
                i = 0
                while True:
                    self.chunk('{"type":"ADDED","n":%d}\n' % i)
                    i += 1
                    time.sleep(0.1)
            except OSError:
                pass
            finally:
                with LOCK:
                    STATS["watch_open"] -= 1
            self.close_connection = True
            return
        if p == "/big":
            size = int(q.get("size", ["5242880"])[0])
            pattern = bytes(range(256))
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            sent = 0
            while sent < size:
                n = min(65536, size - sent)
                buf = (pattern * (65536 // 256 + 1))[(sent % 256):(sent % 256) + n]
                self.wfile.write(buf)
                sent += n
            return
        if p == "/hang":
            time.sleep(30)
            self.close_connection = True
            return
        if p == "/drop":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
            return
        if p == "/token":
            with LOCK:
                STATS["token_requests"] += 1
            auth = self.headers.get("Authorization", "")
            ok = auth.startswith("Basic ") and base64.b64decode(auth[6:]) == b"user:pass"
            if not ok:
                return self.send_body(401, '{"errors":[{"code":"UNAUTHORIZED"}]}', "application/json")
            scope = q.get("scope", [""])[0]
            return self.send_body(200, json.dumps({"token": "good-token-" + scope, "expires_in": 300}),
                                  "application/json")
        if p.startswith("/v2/"):
            scope = "repository:%s:pull" % p[4:].split("/manifests/")[0]
            if self.headers.get("Authorization") == "Bearer good-token-" + scope:
                return self.send_body(200, '{"ok":true}', "application/json")
            realm = "http://127.0.0.1:%d/token" % self.server.server_address[1]
            return self.send_body(401, '{"errors":[{"code":"UNAUTHORIZED"}]}', "application/json",
                                  [("WWW-Authenticate",
                                    'Bearer realm="%s",service="test",scope="%s"' % (realm, scope))])
        return self.send_body(404, "not found")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
