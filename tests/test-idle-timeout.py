#!/usr/bin/python3
"""IdleTimeout ends an idle session, and only an idle one: the real server
with `[WebService] IdleTimeout = 1` (one minute, the smallest value
cockpit.conf can say) and a real registry to log in to.

Timeline (seconds after login, the session ends 60 s after the last
activity):
   0  log in: cookie A; open a socket and make a request through it
  20  activity: GET /cockpit/session refreshes the cookie (B) and a request
      through the socket refreshes the socket's session
  65  A is refused (its 60 s are over); B still works; the socket is open
 ~80  the socket's session ends: the server closes the socket with
      "authentication-failed"; B is refused now, and so is a new socket.
It takes about 85 s: it waits for real time to pass, as a user would."""

import os
import shutil
import socket
import sys
import tempfile
import time
import unittest
import importlib.util

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("test_server", os.path.join(HERE, "test-server.py"))
ts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ts)
cc = ts.cc

IDLE = 60


class IdleTimeoutTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        os.makedirs(os.path.join(self.tmp, "static"))
        with open(os.path.join(self.tmp, "cockpit.conf"), "w") as f:
            f.write("[WebService]\nIdleTimeout = %d\n" % (IDLE // 60))
        self.server = ts.Server(self.tmp)

    def tearDown(self):
        self.server.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        ts.registry_down()

    def url(self):
        return "https://127.0.0.1:%d" % self.server.port

    def session_status(self, cookie):
        """GET /cockpit/session with exactly this cookie: (status, new cookie or None)."""
        con = cc.Console(self.url(), insecure=True)
        con.cookies = {"__Host-cockpit": cookie}
        status, _, _ = con.request("GET", "/cockpit/session")
        new = con.cookies.get("__Host-cockpit")
        return status, (new if new != cookie else None)

    def wait_on_socket(self, ws, until):
        """Read the socket until the time `until`; return the first message
        that is not a ping, or None when the time came first."""
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
                continue
            return ch, msg

    def test_idle_session_ends_active_one_lives(self):
        con = cc.Console(self.url(), insecure=True)
        self.assertEqual(con.login_registry("idle-user", "any")[0], 200)
        t0 = time.monotonic()
        cookie_a = con.cookies["__Host-cockpit"]
        ws = con.socket()
        status, _, _ = ws.http("GET", "/v2/")
        self.assertEqual(status, 200, "a request through the new socket works")

        # t = 20: activity on both paths
        self.assertIsNone(self.wait_on_socket(ws, t0 + 20), "nothing but pings while idle")
        status, cookie_b = self.session_status(cookie_a)
        t_b = time.monotonic()
        self.assertEqual(status, 200)
        self.assertIsNotNone(cookie_b, "an active session gets a refreshed cookie")
        status, _, _ = ws.http("GET", "/v2/")
        self.assertEqual(status, 200)
        t_active = time.monotonic()

        # t = 65: the first cookie is past its minute, the refreshed one is not
        self.assertIsNone(self.wait_on_socket(ws, t0 + IDLE + 5),
                          "the socket stays open while its session is alive")
        self.assertEqual(self.session_status(cookie_a)[0], 401, "the old cookie has expired")
        self.assertEqual(self.session_status(cookie_b)[0], 200, "the refreshed cookie still works")

        # ~t = 80: the socket's session ends; the server says so and closes it
        got = self.wait_on_socket(ws, t_active + IDLE + 15)
        waited = time.monotonic() - t_active
        self.assertIsNotNone(got, "the socket of an idle session is closed (waited %.0f s)" % waited)
        self.assertEqual(got, ("", {"command": "close", "problem": "authentication-failed",
                                    "message": "the session has expired"}))
        self.assertGreaterEqual(waited, IDLE - 1, "not before the idle timeout")
        with self.assertRaises(ConnectionError):
            while True:
                self.wait_on_socket(ws, time.monotonic() + 10) or self.fail("socket not closed")
        self.assertIn("the session has expired", self.server.output())

        # the cookie refreshed at t = 20 ends at t = 80 as well (expiry has
        # one-second resolution: look a little after), and a new socket with
        # it is refused
        time.sleep(max(0.0, t_b + IDLE + 1.5 - time.monotonic()))
        con.cookies = {"__Host-cockpit": cookie_b}
        status, _, _ = con.request("GET", "/cockpit/session")
        self.assertEqual(status, 401, "the refreshed cookie ends with its own idle minute")
        with self.assertRaises(cc.HandshakeError) as ctx:
            con.cookies = {"__Host-cockpit": cookie_b}
            con.socket()
        self.assertEqual(ctx.exception.status, 401)


if __name__ == "__main__":
    unittest.main(testRunner=unittest.TextTestRunner(stream=sys.stdout, verbosity=2))
