#!/usr/bin/python3
"""A hostile logged-in user against the real registry-console (make check).

What one user can make the server hold is bounded (cockpit.conf limits, set
small here), and going over a limit costs that user a channel or a socket,
never the server or another user:

  channels      MaxChannelsPerSocket: the next channel closes "too-many",
                the socket goes on
  sockets       MaxSocketsPerUser: the next socket of that user closes
                "too-many", another user's sockets are unaffected
  bodies        SocketBufferLimit / UserBufferLimit: a request body over
                the socket's (or the user's) budget closes that channel
                "too-large"
  unread        SocketWriteTimeout: a client that stops reading has its
                socket closed and freed (descriptors and memory back)
  upstream      UpstreamTimeout: a registry that accepts and never answers
                closes the channel "timeout"; MaxUpstreamConnectionsPerHost
                caps the connections such requests hold
  watches       MaxWatchesPerUser: the next watch closes "too-many"
  logins        MaxLogins / MaxLoginsPerAddress: logins beyond them are
                answered 429 at once, while a user whose credentials the
                registry accepted a moment ago still logs in
  headers       http-stream2 passes only its allow list of request headers
  UTF-8         a config blob of long non-ASCII labels (fixture demo/labels)
                arrives in valid UTF-8 text frames, byte for byte
  OAuth state   a login's state is good once

Backends: the real docker-registry fixture (htpasswd, two users), in front of
it tests/fixtures/trap_upstream.py where a registry must hang, echo or take
its time, and the test OpenShift master for watches and OAuth.
RC_SERVER overrides the binary (default $top_builddir/registry-console)."""

import base64
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "fixtures"))
import cockpit_client as cc  # noqa: E402
import fixturelib as fl  # noqa: E402
import integration as it  # noqa: E402
from trap_upstream import Trap  # noqa: E402

MiB = 1024 * 1024


def write_conf(directory, name, **keys):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write("[WebService]\n" + "".join("%s = %s\n" % kv for kv in keys.items()))
    return path


def recv_until(ws, pred, seconds, what):
    """Read (channel, payload) messages until pred(channel, payload) is true;
    return that message. Fails the test after SECONDS."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("%s: nothing within %.0f s" % (what, seconds))
        ws.sock.settimeout(left)
        try:
            ch, msg = ws.recv()
        except (socket.timeout, TimeoutError):
            raise AssertionError("%s: nothing within %.0f s" % (what, seconds)) from None
        if pred(ch, msg):
            return ch, msg


def control_for(channel, command=None):
    return lambda ch, msg: ch == "" and msg.get("channel") == channel and \
        (command is None or msg.get("command") == command)


def socket_close(ch, msg):
    """The control message that closes the whole socket."""
    return ch == "" and msg.get("command") == "close" and not msg.get("channel")


def echo(ws, channel, data):
    ws.send(channel, data)
    return recv_until(ws, lambda ch, _: ch == channel, 10, "echo on " + channel)[1]


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def poll(pred, seconds, what):
    deadline = time.monotonic() + seconds
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("%s: not within %.0f s" % (what, seconds))
        time.sleep(0.05)


class Fixture(unittest.TestCase):
    """One htpasswd registry (with the sample images) for the whole file."""
    reg = None

    @classmethod
    def registry(cls):
        if Fixture.reg is None:
            Fixture.tmp_root = tempfile.mkdtemp(prefix="rc-hostile-")
            Fixture.regdir = os.path.join(Fixture.tmp_root, "registry")
            it.run([os.path.join(HERE, "fixtures", "registry-up"), "--quiet", "--htpasswd",
                    Fixture.regdir])
            Fixture.reg = fl.read_env(os.path.join(Fixture.regdir, "env"))
        return Fixture.reg

    @classmethod
    def setUpClass(cls):
        cls.registry()
        cls.tmp = tempfile.mkdtemp(prefix=cls.__name__ + "-", dir=Fixture.tmp_root)

    def login(self, console, user="admin", **kw):
        c = console.client()
        c.skip_pings = True         # the server's pings (every 30 s) are not what a test waits for
        for k, v in kw.items():
            setattr(c, k, v)
        pw = self.reg["REGISTRY_PASSWORD"] if user == "admin" else self.reg["REGISTRY_READER_PASSWORD"]
        st, body = c.login_registry(user, pw)
        self.assertEqual(st, 200, body)
        return c


def tearDownModule():
    if Fixture.reg is not None:
        it.run([os.path.join(HERE, "fixtures", "registry-down"), Fixture.regdir])
        shutil.rmtree(Fixture.tmp_root, ignore_errors=True)


# ---------------------------------------------------------------------------

class SocketLimits(Fixture):
    """The console in front of the real registry, small socket limits."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        conf = write_conf(cls.tmp, "cockpit.conf", MaxChannelsPerSocket=8, MaxSocketsPerUser=3,
                          SocketBufferLimit="1M", UserBufferLimit="1536K", SocketWriteTimeout=2)
        cls.console = it.Console(cls.tmp, {"REGISTRY_URL": cls.reg["REGISTRY_URL"]},
                                 args=["--config", conf])

    @classmethod
    def tearDownClass(cls):
        cls.console.stop()

    def setUp(self):
        # the sockets of earlier tests are gone from the server (they count
        # against MaxSocketsPerUser until it has seen them close)
        def settled():
            log = self.console.log()
            return log.count(": WebSocket open\n") == log.count(": WebSocket closed\n")
        poll(settled, 10, "the server closes the sockets of earlier tests")

    def open_echo(self, ws, channel):
        ws.control(command="open", channel=channel, payload="echo")
        return recv_until(ws, control_for(channel), 10, "open " + channel)[1]

    def test_channels_over_the_limit_close_too_many(self):
        ws = self.login(self.console).socket()
        for i in range(1, 9):
            self.assertEqual(self.open_echo(ws, "e%d" % i), {"command": "ready", "channel": "e%d" % i})
        got = self.open_echo(ws, "e9")
        self.assertEqual((got["command"], got.get("problem")), ("close", "too-many"), got)
        # the socket goes on: its channels answer, a closed one makes room
        self.assertEqual(echo(ws, "e1", "still here"), b"still here")
        ws.control(command="close", channel="e8")
        recv_until(ws, control_for("e8", "close"), 10, "close e8")
        self.assertEqual(self.open_echo(ws, "e10")["command"], "ready")
        self.assertEqual(echo(ws, "e10", "new"), b"new")
        ws.close()

    def test_sockets_of_one_user_over_the_limit_close_too_many(self):
        first, second = self.login(self.console), self.login(self.console)   # two sessions
        mine = [first.socket(), first.socket(), second.socket()]
        for n, ws in enumerate(mine):
            self.open_echo(ws, "e")
            self.assertEqual(echo(ws, "e", "socket %d" % n), b"socket %d" % n)
        extra = second.socket()
        _, msg = recv_until(extra, lambda ch, msg: ch == "", 10, "the fourth socket")
        self.assertEqual((msg.get("command"), msg.get("problem")), ("close", "too-many"), msg)
        with self.assertRaises(ConnectionError):
            recv_until(extra, lambda ch, msg: False, 10, "the fourth socket's end")
        extra.sock.close()
        # another user is not affected, nor are the user's own sockets
        other = self.login(self.console, "reader").socket()
        self.open_echo(other, "e")
        self.assertEqual(echo(other, "e", "reader"), b"reader")
        self.assertEqual(echo(mine[0], "e", "still"), b"still")
        # a socket closed makes room for a new one
        mine.pop().close()

        def new_socket_works():
            ws = first.socket()
            try:
                ws.control(command="open", channel="e", payload="echo")
                _, msg = recv_until(ws, lambda ch, msg: ch == "", 10, "open")
                return msg.get("command") == "ready"
            finally:
                ws.close()
        poll(new_socket_works, 10, "a new socket after one was closed")
        for ws in mine + [other]:
            ws.close()

    def put_body(self, ws, channel, size):
        """Open a PUT to the registry and send SIZE body bytes in 64 KiB
        frames, without "done". Returns the close message if the channel
        was closed meanwhile, else None."""
        ws.control(command="open", channel=channel, payload="http-stream2", method="PUT",
                   path="/v2/demo/body/manifests/huge", headers={"Content-Type": "application/json"})
        self.assertEqual(recv_until(ws, control_for(channel), 10, "open")[1]["command"], "ready")
        piece = b"x" * 65536
        for _ in range(size // len(piece)):
            ws.send(channel, piece)
        ws.control(command="ping")
        while True:     # everything sent so far is processed when the pong comes
            ch, msg = recv_until(ws, lambda ch, msg: ch == "", 10, "pong")
            if msg.get("command") == "pong":
                return None
            if msg.get("channel") == channel and msg.get("command") == "close":
                recv_until(ws, lambda ch, msg: msg.get("command") == "pong", 10, "pong")
                return msg

    def test_request_body_over_the_budget_closes_too_large(self):
        ws = self.login(self.console).socket()
        closed = self.put_body(ws, "big", int(1.25 * MiB))
        self.assertIsNotNone(closed, "a 1.25 MiB body on a 1 MiB socket budget is refused")
        self.assertEqual(closed.get("problem"), "too-large", closed)
        self.open_echo(ws, "e")
        self.assertEqual(echo(ws, "e", "socket still works"), b"socket still works")
        ws.close()

        # the user's budget (1.5 MiB) over two sockets of 1 MiB each
        c = self.login(self.console)
        a, b = c.socket(), c.socket()
        self.assertIsNone(self.put_body(a, "held", 896 * 1024), "896 KiB fit in one socket")
        closed = self.put_body(b, "over", 896 * 1024)
        self.assertEqual((closed or {}).get("problem"), "too-large", "the user's budget is shared")
        a.control(command="close", channel="held")
        recv_until(a, control_for("held", "close"), 10, "close held")
        # the budget is back: the same body now goes to the registry
        self.assertIsNone(self.put_body(b, "fits", 896 * 1024))
        b.control(command="done", channel="fits")
        _, resp = recv_until(b, control_for("fits"), 20, "response to the PUT")
        self.assertEqual(resp.get("command"), "response", resp)
        self.assertEqual(resp["status"], 400, "the registry itself judged the 896 KiB body")
        a.close()
        b.close()

    def test_deeply_nested_control_message_is_refused(self):
        """A control message of 200,000 nested arrays (200 KB) took the
        whole server down (json-glib recursed off the stack): it is refused
        as a protocol error of that socket, everyone else goes on."""
        other = self.login(self.console).socket()
        self.open_echo(other, "calm")
        ws = self.login(self.console).socket()
        deep = 200000
        ws.send("", '{"command":"open","channel":"x","payload":"echo","x":' + "[" * deep + "]" * deep + "}")
        with self.assertRaises(ConnectionError):
            while True:
                ws.recv()
        self.assertIsNone(self.console.proc.poll(), "the server is running")
        self.assertIn("nested deeper than", self.console.log())
        self.assertEqual(echo(other, "calm", "still here"), b"still here")
        st, _, _ = self.console.client().request("GET", "/ping")
        self.assertEqual(st, 200)
        other.close()

    def test_text_frames_are_valid_utf8(self):
        """The config blob of demo/labels (long 2-, 3- and 4-byte text, cut
        by 4 KiB pieces) comes as valid UTF-8 text frames whose payloads put
        together are the registry's blob, byte for byte."""
        ws = self.login(self.console).socket()
        st, _, body = ws.http("GET", "/v2/demo/labels/manifests/1.0",
                              headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        self.assertEqual(st, 200)
        digest = json.loads(body)["config"]["digest"]
        cred = base64.b64encode(("admin:%s" % self.reg["REGISTRY_PASSWORD"]).encode()).decode()
        u = urllib.parse.urlsplit(self.reg["REGISTRY_URL"])
        h = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        h.request("GET", "/v2/demo/labels/blobs/" + digest, headers={"Authorization": "Basic " + cred})
        blob = h.getresponse().read()
        h.close()
        self.assertGreater(len(blob), 100000)

        ch = ws.open("http-stream2", method="GET", path="/v2/demo/labels/blobs/" + digest,
                     backend="registry", headers={})
        ws.control(command="done", channel=ch)
        pieces, frames, invalid = [], 0, []
        ws.sock.settimeout(20)
        while True:
            opcode, data = ws.recv_message()
            if opcode == 1:
                try:
                    data.decode("utf-8", "strict")
                except UnicodeDecodeError as e:
                    invalid.append("frame %d: %s" % (frames, e))
            channel, _, payload = data.partition(b"\n")
            if channel == ch.encode():
                self.assertEqual(opcode, 1, "a text channel sends text frames")
                pieces.append(payload)
                frames += 1
            elif channel == b"":
                msg = json.loads(payload)
                if msg.get("channel") == ch and msg.get("command") == "close":
                    self.assertIsNone(msg.get("problem"), msg)
                    break
        self.assertEqual(invalid, [], "every text frame is valid UTF-8")
        self.assertGreater(frames, len(blob) // 4096 - 1)
        self.assertEqual(b"".join(pieces), blob, "the frames put together are the registry's blob")
        self.assertEqual(json.loads(b"".join(pieces))["config"]["Labels"]["org.example.text.latin"],
                         "\u00e9" * 20000)
        ws.close()


class UnreadSockets(Fixture):
    """SocketWriteTimeout = 2 with the default budgets (8 MiB a socket): a
    client that stops reading fills the kernel's buffers and then the
    socket's queue, which then waits unread."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        conf = write_conf(cls.tmp, "cockpit.conf", SocketWriteTimeout=2)
        cls.console = it.Console(cls.tmp, {"REGISTRY_URL": cls.reg["REGISTRY_URL"]},
                                 args=["--config", conf], measures_rss=True)

    @classmethod
    def tearDownClass(cls):
        cls.console.stop()

    open_echo = SocketLimits.open_echo

    def test_client_that_stops_reading_is_closed_and_freed(self):
        pid = self.console.proc.pid
        idle = self.login(self.console).socket()    # a user who reads, for comparison
        self.open_echo(idle, "e")
        # the same work once before measuring, so that the baseline counts
        # what the server keeps anyway (TLS sessions, caches, allocator pools)
        for _ in range(2):
            fds0, rss0 = fd_count(pid), rss_kib(pid)
            c = self.login(self.console, rcvbuf=4096)
            ws = c.socket()
            self.open_echo(ws, "flood")
            open_fds = fd_count(pid)
            ws.sock.settimeout(0.5)
            piece = b"f" * 65536
            sent = 0
            try:
                while sent < 8 * MiB:            # and never reads a byte of the echo
                    ws.send("flood", piece)
                    sent += len(piece)
            except (socket.timeout, TimeoutError):
                pass                             # the server stopped reading: enough
            except OSError:
                pass                             # (a slow machine: it has closed already)
            t_stop = time.monotonic()
            peak_rss = rss_kib(pid)
            # the server lets go of the connection (reading now would make
            # this a client that reads: watch the server, not the socket)
            poll(lambda: fd_count(pid) <= fds0, 2 + 8,
                 "the server's descriptors back to %d (SocketWriteTimeout = 2, %.1f MiB sent)" %
                 (fds0, sent / MiB))
            closed_after = time.monotonic() - t_stop
            # and the client sees the end of it
            ws.sock.settimeout(10)
            try:
                while ws.sock.recv(65536):
                    pass
            except (ConnectionError, ssl.SSLError):
                pass
            ws.sock.close()
            rss1 = rss_kib(pid)
        print("\n  non-reading client: %.1f MiB sent, closed %.1f s after it stopped reading; "
              "server fds %d → %d → %d, RSS %d → %d → %d KiB" %
              (sent / MiB, closed_after, fds0, open_fds, fd_count(pid), rss0, peak_rss, rss1),
              file=sys.stderr)
        self.assertGreater(open_fds, fds0, "the flood's connection held descriptors")
        self.assertLess(closed_after, 2 + 5)
        self.assertIn("has not read for 2 s", self.console.log())
        self.assertLess(rss1 - rss0, 4096, "the server's memory is back (RSS %d → %d KiB)" % (rss0, rss1))
        # the reading user was never disturbed
        self.assertEqual(echo(idle, "e", "fine"), b"fine")
        idle.close()


class UnboundedBudgets(Fixture):
    """SocketBufferLimit = 0 and UserBufferLimit = 0 mean no limit
    (cockpit.conf(5)), not a budget of nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        conf = write_conf(cls.tmp, "cockpit.conf", SocketBufferLimit=0, UserBufferLimit=0)
        cls.console = it.Console(cls.tmp, {"REGISTRY_URL": cls.reg["REGISTRY_URL"]},
                                 args=["--config", conf])

    @classmethod
    def tearDownClass(cls):
        cls.console.stop()

    def test_zero_means_no_limit(self):
        ws = self.login(self.console).socket()
        st, _, body = ws.http("GET", "/v2/_catalog")
        self.assertEqual(st, 200)
        self.assertIn("demo/labels", json.loads(body)["repositories"])
        st, resp, _ = ws.http("PUT", "/v2/demo/body/manifests/x", body="y" * 300000,
                              headers={"Content-Type": "application/json"})
        self.assertEqual(st, 400, resp)
        ws.close()


# ---------------------------------------------------------------------------

class UpstreamLimits(Fixture):
    """The console's registry is the trap in front of the real registry."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.trap = Trap(target=cls.reg["REGISTRY_URL"])
        conf = write_conf(cls.tmp, "cockpit.conf", UpstreamTimeout=2, MaxUpstreamConnectionsPerHost=2)
        cls.console = it.Console(cls.tmp, {"REGISTRY_URL": cls.trap.url}, args=["--config", conf])

    @classmethod
    def tearDownClass(cls):
        cls.console.stop()
        cls.trap.stop()

    def test_upstream_that_never_answers_times_out(self):
        ws = self.login(self.console).socket()
        t0 = time.monotonic()
        ws.sock.settimeout(12)
        try:
            st, close, _ = ws.http("GET", "/v2/hang/forever/manifests/latest")
        except (socket.timeout, TimeoutError):
            self.fail("a registry that never answers held the channel for 12 s (UpstreamTimeout = 2)")
        took = time.monotonic() - t0
        self.assertIsNone(st)
        self.assertEqual(close.get("problem"), "timeout", close)
        self.assertGreaterEqual(took, 1.5)
        poll(lambda: self.trap.hanging == 0, 10, "the console lets go of the hanging connection")
        st, _, _ = ws.http("GET", "/v2/_catalog")
        self.assertEqual(st, 200, "the socket and the registry still work")
        ws.close()

    def test_connections_per_host_are_capped(self):
        ws = self.login(self.console).socket()
        self.trap.max_hanging = 0
        chans = [ws.open("http-stream2", method="GET", path="/v2/hang/%d/tags/list" % i,
                         backend="registry", headers={}) for i in range(6)]
        for ch in chans:
            ws.control(command="done", channel=ch)
        closed = {}
        deadline = time.monotonic() + 20
        while len(closed) < len(chans):
            if time.monotonic() > deadline:
                self.fail("channels still open after 20 s: %s (upstream connections at most %d at once)" %
                          (sorted(set(chans) - set(closed)), self.trap.max_hanging))
            ch, msg = recv_until(ws, lambda ch, msg: ch == "" and msg.get("command") == "close",
                                 max(0.1, deadline - time.monotonic()), "closes")
            closed[msg["channel"]] = msg.get("problem")
        self.assertEqual(set(closed.values()), {"timeout"}, closed)
        self.assertEqual(self.trap.max_hanging, 2, "at most MaxUpstreamConnectionsPerHost at once")
        ws.close()

    def test_connections_in_all_are_capped(self):
        """MaxUpstreamConnections caps the connections of all hosts together
        (a console of its own: 3 in all, 16 per host)."""
        tmp = tempfile.mkdtemp(dir=self.tmp)
        conf = write_conf(tmp, "cockpit.conf", UpstreamTimeout=2, MaxUpstreamConnections=3)
        console = it.Console(tmp, {"REGISTRY_URL": self.trap.url}, args=["--config", conf])
        try:
            ws = self.login(console).socket()
            self.trap.max_hanging = 0
            chans = [ws.open("http-stream2", method="GET", path="/v2/hang/all%d/tags/list" % i,
                             backend="registry", headers={}) for i in range(6)]
            problems = {}
            while len(problems) < len(chans):
                try:
                    _, msg = recv_until(ws, lambda ch, msg: ch == "" and msg.get("command") == "close",
                                        20, "the hanging requests end")
                except AssertionError as e:
                    self.fail("%s (upstream connections at most %d at once)" % (e, self.trap.max_hanging))
                problems[msg["channel"]] = msg.get("problem")
            self.assertEqual(set(problems.values()), {"timeout"}, problems)
            self.assertEqual(self.trap.max_hanging, 3, "at most MaxUpstreamConnections at once")
            ws.close()
        finally:
            console.stop()

    def test_request_headers_allow_list(self):
        ws = self.login(self.console).socket()
        sent = {
            "Accept": "application/vnd.oci.image.manifest.v1+json",
            "Content-Type": "application/json",
            "If-None-Match": '"sha256:abc"',
            "Accept-Language": "de",
            "Forwarded": "for=10.0.0.1;host=evil.example",
            "X-Forwarded-For": "10.0.0.1",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Proto": "http",
            "X-Real-IP": "10.0.0.1",
            "X-Remote-User": "system:admin",
            "X-Remote-Group": "system:masters",
            "Impersonate-User": "system:admin",
            "Impersonate-Group": "system:masters",
            "Authorization": "Bearer stolen-token",
            "Cookie": "session=stolen",
            "Proxy-Authorization": "Basic c3RvbGVu",
            "X-Csrf-Token": "x",
            "Host": "evil.example",
        }
        st, _, body = ws.http("GET", "/v2/echo/headers", headers=sent)
        self.assertEqual(st, 200)
        got = json.loads(body)["headers"]
        for name in ("Accept", "Content-Type", "If-None-Match", "Accept-Language"):
            self.assertEqual(got.get(name.lower()), sent[name], name + " reaches the registry")
        leaked = sorted(k for k in got if k in {n.lower() for n in sent} and k not in
                        ("accept", "content-type", "if-none-match", "accept-language", "host",
                         "authorization"))
        self.assertEqual(leaked, [], "headers outside the allow list reached the registry")
        self.assertEqual(got.get("host"), urllib.parse.urlsplit(self.trap.url).netloc)
        # the one Authorization upstream is the session's own registry credential
        own = "Basic " + base64.b64encode(("admin:%s" % self.reg["REGISTRY_PASSWORD"]).encode()).decode()
        self.assertIn(got.get("authorization"), (None, own))
        self.assertNotIn("stolen", json.dumps(got))
        self.assertNotIn("evil.example", json.dumps(got))
        self.assertNotIn("system:", json.dumps(got))
        ws.close()


class LoginLimits(Fixture):
    """Logins checked by the real registry behind the trap, which can be
    made to take its time."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.trap = Trap(target=cls.reg["REGISTRY_URL"])
        conf = write_conf(cls.tmp, "cockpit.conf", MaxLogins=3, MaxLoginsPerAddress=2)
        cls.console = it.Console(cls.tmp, {"REGISTRY_URL": cls.trap.url}, args=["--config", conf])

    @classmethod
    def tearDownClass(cls):
        cls.console.stop()
        cls.trap.stop()

    def test_logins_beyond_the_limits_get_429(self):
        # admin logs in while the registry answers: known-good credentials
        self.login(self.console)
        self.trap.hold()
        waiting = []
        try:
            def stuck_login(source):
                c = self.console.client()
                c.source, c.timeout = (source, 0), 60
                waiting.append(c.login_registry("mallory", "guess-%s" % source))
            threads = []

            def start(source, n):
                t = threading.Thread(target=stuck_login, args=(source,), daemon=True)
                t.start()
                threads.append(t)
                poll(lambda: self.trap.held == n, 10, "%d logins waiting at the registry" % n)

            def quick_login(source, user="mallory", password="another-guess"):
                c = self.console.client()
                c.source, c.timeout = (source, 0), 5
                try:
                    return c.login_registry(user, password)
                except (socket.timeout, TimeoutError):
                    return "no answer within 5 s", None

            start("127.0.0.1", 1)
            start("127.0.0.1", 2)
            # MaxLoginsPerAddress = 2: the third from this address is refused at once
            # (answered while the registry still holds the other two)
            st, body = quick_login("127.0.0.1")
            self.assertEqual(st, 429, body)
            self.assertEqual(body.get("problem"), "too-many")
            self.assertEqual(self.trap.held, 2, "the refused login never reached the registry")
            # another address still has room, until MaxLogins = 3 are waiting
            start("127.0.0.2", 3)
            st, body = quick_login("127.0.0.3")
            self.assertEqual(st, 429, body)
            self.assertEqual(self.trap.held, 3)
            # a user whose credentials the registry accepted a moment ago
            # logs in anyway, from the crowded address too
            st, body = quick_login("127.0.0.1", "admin", self.reg["REGISTRY_PASSWORD"])
            self.assertEqual(st, 200, body)
            self.assertEqual(body["user"], "admin")
            self.assertEqual(self.trap.held, 3, "the known-good login did not ask the registry")
        finally:
            self.trap.release()
        for t in threads:
            t.join(30)
        self.assertEqual([st for st, _ in waiting], [401, 401, 401], "the held logins are checked")
        # the places are free again
        st, body = self.console.client().login_registry("reader", self.reg["REGISTRY_READER_PASSWORD"])
        self.assertEqual(st, 200, body)



# ---------------------------------------------------------------------------

class OpenShiftLimits(Fixture):
    """OpenShift mode: the test master (watches, OAuth) and the registry."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mdir = os.path.join(cls.tmp, "master")
        it.run([sys.executable, os.path.join(HERE, "fixtures", "test-master.py"), "--quiet",
                "--registry-env", os.path.join(Fixture.regdir, "env"), cls.mdir])
        cls.m = fl.read_env(os.path.join(cls.mdir, "env"))
        with open(cls.m["MASTER_CA"]) as f:
            ca = f.read()
        conf = write_conf(cls.tmp, "cockpit.conf", MaxWatchesPerUser=3)
        cls.console = it.Console(cls.tmp, {"OPENSHIFT_OAUTH_PROVIDER_URL": cls.m["MASTER_URL"],
                                           "KUBERNETES_CA_DATA": ca},
                                 args=["--master", cls.m["MASTER_URL"], "--config", conf])

    @classmethod
    def tearDownClass(cls):
        cls.console.stop()
        it.run([sys.executable, os.path.join(HERE, "fixtures", "test-master.py"), "--down", cls.mdir])

    def oauth_login(self, basic=None):
        c = self.console.client()
        c.skip_pings = True
        st, body = c.login_openshift(master_ca=self.m["MASTER_CA"], basic=basic)
        self.assertEqual(st, 200, body)
        return c

    def open_watch(self, ws, channel, path="/apis/image.openshift.io/v1/imagestreams?watch=true"):
        ws.control(command="open", channel=channel, payload="http-stream2", method="GET", backend="master",
                   path=path, headers={})
        ws.control(command="done", channel=channel)
        # the first event, or the channel's end
        return recv_until(ws, lambda ch, msg: ch == channel or (
            ch == "" and msg.get("channel") == channel and msg.get("command") == "close"),
            10, "watch " + channel)

    def test_watches_over_the_limit_close_too_many(self):
        alice = self.oauth_login()
        a1, a2 = alice.socket(), alice.socket()
        for ws, ch in ((a1, "w1"), (a1, "w2"), (a2, "w3")):
            got_ch, event = self.open_watch(ws, ch)
            self.assertEqual(got_ch, ch, "watch %s delivers events: %r" % (ch, event))
            self.assertIn(b'"ADDED"', event)
        ch, msg = self.open_watch(a2, "w4")
        self.assertEqual(ch, "", "a fourth watch is served (MaxWatchesPerUser = 3): %s" % str(msg)[:80])
        self.assertEqual((msg.get("command"), msg.get("problem")), ("close", "too-many"), msg)
        # a plain request of the same user still works, and so do bob's watches
        st, _, _ = a2.http("GET", "/apis/project.openshift.io/v1/projects", backend="master")
        self.assertEqual(st, 200)
        bob = self.oauth_login(basic=("bob", self.m["MASTER_PASSWORD_BOB"])).socket()
        ch, event = self.open_watch(bob, "b1", "/apis/project.openshift.io/v1/projects?watch=true")
        self.assertEqual(ch, "b1", "another user's watch is not counted against alice: %r" % (event,))
        # a watch closed makes room
        a1.control(command="close", channel="w1")
        recv_until(a1, control_for("w1", "close"), 10, "close w1")
        got_ch, _ = self.open_watch(a2, "w5")
        self.assertEqual(got_ch, "w5")
        for ws in (a1, a2, bob):
            ws.close()

    def test_oauth_state_is_good_once(self):
        c = self.console.client()
        st, _, data = c.request("GET", "/cockpit/login/config")
        self.assertEqual(st, 200)
        au = urllib.parse.urlsplit(json.loads(data)["authorize_url"])
        h = http.client.HTTPSConnection(au.hostname, au.port, timeout=10,
                                        context=ssl.create_default_context(cafile=self.m["MASTER_CA"]))
        h.request("GET", au.path + "?" + au.query)
        r = h.getresponse()
        r.read()
        h.close()
        frag = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.getheader("Location")).fragment))
        # the request as it goes out, cookies included, so it can be replayed
        headers = {"Authorization": "Bearer " + frag["access_token"], "X-State": frag["state"],
                   "Origin": c.origin, "Cookie": c.cookie_header()}
        first = self.console.client()
        st, _, body = first.request("POST", "/cockpit/login", headers=headers)
        self.assertEqual(st, 200, body)
        replay = self.console.client()
        st, hdrs, body = replay.request("POST", "/cockpit/login", headers=headers)
        self.assertEqual(st, 403, "a replayed login (same state, same state cookie) is refused: %s" % body)
        self.assertIsNone(re.search(r"(^|\n)(__Host-)?cockpit=[^;\s]", hdrs.get("set-cookie", "")),
                          "no session cookie for the replay")


if __name__ == "__main__":
    if not os.access(it.SERVER, os.X_OK):
        sys.exit("test-hostile-user: no server binary %s" % it.SERVER)
    unittest.main(verbosity=2)
