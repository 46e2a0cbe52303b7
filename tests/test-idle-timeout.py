#!/usr/bin/python3
"""Sessions and sockets over real time, three scenarios run side by side (so
the file takes as long as the longest, about 85 s), each on its own real
server with its own cockpit.conf and a real registry to log in to:

idle (`IdleTimeout = 1`, one minute, the smallest value cockpit.conf can
say) ends an idle session, and only an idle one. Seconds after login (the
session ends 60 s after the last activity):
   0  log in: cookie A; open a socket and make a request through it
  20  activity: GET /cockpit/session refreshes the cookie (B) and a request
      through the socket refreshes the socket's session
  65  A is refused (its 60 s are over); B still works; the socket is open
 ~80  the socket's session ends: the server closes the socket with
      "authentication-failed"; B is refused now, and so is a new socket.

lifetime (`IdleTimeout = 0`, `SessionLifetime = 1`): however active, a
session ends a minute after login: its socket is closed at ~60 s with
"authentication-failed", its cookie refused from then on, a new login works.

pings (`SocketWriteTimeout = 30`, the default, as long as the ping
interval): a socket whose client reads survives the server's pings for over
a minute. Its first deadline check falls due as the first ping is queued;
a ping not yet written is not a browser that stopped reading.

It waits for real time to pass, as a user would."""

import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest
import importlib.util

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("test_server", os.path.join(HERE, "test-server.py"))
ts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ts)
cc = ts.cc

IDLE = 60


def start_server(conf):
    """A server with this cockpit.conf text; (server, tmp dir)."""
    tmp = tempfile.mkdtemp()
    os.makedirs(os.path.join(tmp, "static"))
    with open(os.path.join(tmp, "cockpit.conf"), "w") as f:
        f.write("[WebService]\n" + conf)
    return ts.Server(tmp), tmp


def url(server):
    return "https://127.0.0.1:%d" % server.port


def session_cookie(con):
    """The name of the session cookie the server set (__Host-cockpit over
    TLS; an older server called it cockpit)."""
    names = [n for n in con.cookies if n in ("__Host-cockpit", "cockpit")]
    assert len(names) == 1, con.cookies
    return names[0]


COOKIE = "__Host-cockpit"


def session_status(server, cookie, name=COOKIE):
    """GET /cockpit/session with exactly this cookie: (status, new cookie or None)."""
    con = cc.Console(url(server), insecure=True)
    con.cookies = {name: cookie}
    status, _, _ = con.request("GET", "/cockpit/session")
    new = con.cookies.get(name)
    return status, (new if new != cookie else None)


def wait_on_socket(ws, until, pings=None):
    """Read the socket until the time `until`; return the first message
    that is not a ping, or None when the time came first. Server pings
    are counted in pings[0]."""
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return None
        ws.sock.settimeout(left)
        try:
            ch, msg = ws.recv()
        except (socket.timeout, TimeoutError):
            return None
        if ch == "" and msg.get("command") == "ping":
            if pings is not None:
                pings[0] += 1
            continue
        return ch, msg


class Scenario(threading.Thread):
    """One scenario in its own thread; result() re-raises what failed."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn = fn
        self.error = None

    def run(self):
        try:
            self.fn(unittest.TestCase())
        except BaseException as e:  # handed to the test method
            self.error = e

    def result(self, test):
        self.join(300)
        test.assertFalse(self.is_alive(), "the scenario did not end within 300 s")
        if self.error:
            raise self.error


def scenario_idle(t):
    server, tmp = start_server("IdleTimeout = %d\n" % (IDLE // 60))
    try:
        con = cc.Console(url(server), insecure=True)
        t.assertEqual(con.login_registry("idle-user", "any")[0], 200)
        t0 = time.monotonic()
        cookie_a = con.cookies["__Host-cockpit"]
        ws = con.socket()
        status, _, _ = ws.http("GET", "/v2/")
        t.assertEqual(status, 200, "a request through the new socket works")

        # t = 20: activity on both paths
        t.assertIsNone(wait_on_socket(ws, t0 + 20), "nothing but pings while idle")
        status, cookie_b = session_status(server, cookie_a)
        t_b = time.monotonic()
        t.assertEqual(status, 200)
        t.assertIsNotNone(cookie_b, "an active session gets a refreshed cookie")
        # the activity is the request's channel opening, so the clock starts
        # before it (its answer may take seconds on a sanitizer build)
        t_active = time.monotonic()
        status, _, _ = ws.http("GET", "/v2/")
        t.assertEqual(status, 200)

        # t = 65: the first cookie is past its minute, the refreshed one is not
        t.assertIsNone(wait_on_socket(ws, t0 + IDLE + 5),
                       "the socket stays open while its session is alive")
        t.assertEqual(session_status(server, cookie_a)[0], 401, "the old cookie has expired")
        t.assertEqual(session_status(server, cookie_b)[0], 200, "the refreshed cookie still works")

        # ~t = 80: the socket's session ends; the server says so and closes it
        got = wait_on_socket(ws, t_active + IDLE + 15)
        waited = time.monotonic() - t_active
        t.assertIsNotNone(got, "the socket of an idle session is closed (waited %.0f s)" % waited)
        t.assertEqual(got, ("", {"command": "close", "problem": "authentication-failed",
                                 "message": "the session has expired"}))
        t.assertGreaterEqual(waited, IDLE - 1, "not before the idle timeout")
        with t.assertRaises(ConnectionError):
            while True:
                wait_on_socket(ws, time.monotonic() + 10) or t.fail("socket not closed")
        t.assertIn("the session has expired", server.output())

        # the cookie refreshed at t = 20 ends at t = 80 as well (expiry has
        # one-second resolution: look a little after), and a new socket with
        # it is refused
        time.sleep(max(0.0, t_b + IDLE + 1.5 - time.monotonic()))
        con.cookies = {"__Host-cockpit": cookie_b}
        status, _, _ = con.request("GET", "/cockpit/session")
        t.assertEqual(status, 401, "the refreshed cookie ends with its own idle minute")
        with t.assertRaises(cc.HandshakeError) as ctx:
            con.cookies = {"__Host-cockpit": cookie_b}
            con.socket()
        t.assertEqual(ctx.exception.status, 401)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def scenario_lifetime(t):
    server, tmp = start_server("IdleTimeout = 0\nSessionLifetime = 1\n")
    try:
        con = cc.Console(url(server), insecure=True)
        t_login = time.monotonic()      # the session is issued during the login
        t.assertEqual(con.login_registry("busy-user", "any")[0], 200)
        t0 = time.monotonic()
        name = session_cookie(con)
        cookie = con.cookies[name]
        ws = con.socket()
        # busy all the minute: requests through the socket and over HTTP
        for at in (15, 30, 45, 55):
            t.assertIsNone(wait_on_socket(ws, t0 + at), "the socket stays open before the minute")
            status, _, _ = ws.http("GET", "/v2/")
            t.assertEqual(status, 200, "t = %d: the socket works" % at)
            status, newer = session_status(server, cookie, name)
            t.assertEqual(status, 200, "t = %d: the cookie works" % at)
            cookie = newer or cookie
        # the minute after login: the socket is closed, however busy
        got = wait_on_socket(ws, t0 + IDLE + 10)
        waited = time.monotonic() - t0
        t.assertIsNotNone(got, "a busy session's socket is closed at its lifetime's end "
                               "(waited %.0f s)" % waited)
        t.assertEqual(got, ("", {"command": "close", "problem": "authentication-failed",
                                 "message": "the session has expired"}))
        t.assertGreaterEqual(time.monotonic() - t_login, IDLE - 1, "not before SessionLifetime")
        time.sleep(max(0.0, t0 + IDLE + 1.5 - time.monotonic()))   # one-second resolution
        for c in {con.cookies[name], cookie}:
            t.assertEqual(session_status(server, c, name)[0], 401, "the cookie is dead after the minute")
        with t.assertRaises(cc.HandshakeError) as ctx:
            con.cookies = {name: cookie}
            con.socket()
        t.assertEqual(ctx.exception.status, 401)
        # logging in again starts a new session
        fresh = cc.Console(url(server), insecure=True)
        t.assertEqual(fresh.login_registry("busy-user", "any")[0], 200)
        t.assertEqual(fresh.request("GET", "/cockpit/session")[0], 200)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def scenario_pings(t):
    server, tmp = start_server("SocketWriteTimeout = 30\n")
    try:
        con = cc.Console(url(server), insecure=True)
        t.assertEqual(con.login_registry("reader-user", "any")[0], 200)
        t0 = time.monotonic()
        ws = con.socket()
        ws.control(command="open", channel="e", payload="echo")
        t.assertEqual(ws.recv(), ("", {"command": "ready", "channel": "e"}))
        pings = [0]
        t.assertIsNone(wait_on_socket(ws, t0 + 65, pings),
                       "a socket whose client reads is left alone, pings and all")
        t.assertGreaterEqual(pings[0], 2, "the server pinged it (every 30 s)")
        ws.send("e", "still here after %d pings" % pings[0])
        t.assertEqual(wait_on_socket(ws, time.monotonic() + 10),
                      ("e", b"still here after %d pings" % pings[0]))
        t.assertNotIn("has not read", server.output())
        ws.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


class RealTimeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ts.registry_env()          # once, before the threads share it
        cls.scenarios = {name: Scenario(fn) for name, fn in (
            ("idle", scenario_idle), ("lifetime", scenario_lifetime), ("pings", scenario_pings))}
        for s in cls.scenarios.values():
            s.start()

    @classmethod
    def tearDownClass(cls):
        for s in cls.scenarios.values():
            s.join(300)
        ts.registry_down()

    def test_idle_session_ends_active_one_lives(self):
        self.scenarios["idle"].result(self)

    def test_session_lifetime_ends_a_busy_session(self):
        self.scenarios["lifetime"].result(self)

    def test_reading_socket_survives_pings_past_write_timeout(self):
        self.scenarios["pings"].result(self)


if __name__ == "__main__":
    unittest.main(testRunner=unittest.TextTestRunner(stream=sys.stdout, verbosity=2))
