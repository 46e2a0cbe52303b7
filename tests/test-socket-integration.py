#!/usr/bin/python3
"""Integration tests of /cockpit/socket beyond tests/test-server.py: the real
binary over real TLS, WebSocket framing details (fragmentation, binary raw
channels, size limit, close handshake) and the upgrade checks that need a
hand-written request (no Origin, no session)."""

import importlib.util
import json
import os
import shutil
import socket
import struct
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("test_server", os.path.join(HERE, "test-server.py"))
ts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ts)
cc = ts.cc


class SocketTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        os.makedirs(os.path.join(cls.tmp, "static"))
        # these tests are about the protocol's own limits (16 MiB messages):
        # memory budgets above them (the budgets have tests of their own,
        # tests/test-hostile-user.py)
        with open(os.path.join(cls.tmp, "cockpit.conf"), "w") as f:
            f.write("[WebService]\nSocketBufferLimit = 64M\nUserBufferLimit = 256M\n")
        cls.server = ts.Server(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        ts.registry_down()

    def console(self):
        con = cc.Console("https://127.0.0.1:%d" % self.server.port, insecure=True)
        self.assertEqual(con.login_registry("tester", "any")[0], 200)
        return con

    def assertSocketFailed(self, received, what=None):
        channel, msg = received
        self.assertEqual((channel, msg.get("command"), msg.get("problem"), msg.get("channel")),
                         ("", "close", "protocol-error", None), what)

    def echo_socket(self):
        ws = self.console().socket()
        ws.control(command="open", channel="e", payload="echo")
        self.assertEqual(ws.recv(), ("", {"command": "ready", "channel": "e"}))
        return ws

    def raw_upgrade_status(self, headers):
        con = self.console()
        raw = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        with con.ctx.wrap_socket(raw) as s:
            lines = ["GET /cockpit/socket HTTP/1.1", "Host: 127.0.0.1:%d" % self.server.port,
                     "Upgrade: websocket", "Connection: Upgrade",
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
                     "Sec-WebSocket-Protocol: cockpit1"]
            lines += [h % {"cookie": con.cookie_header()} for h in headers]
            s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        return int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.") else data

    def test_upgrade_needs_origin_and_session(self):
        origin = "Origin: https://127.0.0.1:%d" % self.server.port
        self.assertEqual(self.raw_upgrade_status([origin, "Cookie: %(cookie)s"]), 101)
        self.assertEqual(self.raw_upgrade_status(["Cookie: %(cookie)s"]), 403)
        self.assertEqual(self.raw_upgrade_status([origin]), 401)

    def test_init_with_wrong_version_is_protocol_error(self):
        ws = self.console().socket(init=False)
        self.assertEqual(ws.recv()[1]["command"], "init")
        ws.control(command="init", version=2)
        self.assertSocketFailed(ws.recv())

    def test_fragmented_message_with_ping_in_between(self):
        ws = self.echo_socket()
        ws.sock.sendall(cc.frame(b"e\nhel", 1, fin=False) + cc.frame(b"are you there", 9) +
                        cc.frame(b"lo ", 0, fin=False) + cc.frame("wörld".encode(), 0))
        # the pong for the control frame comes back before the message
        b1, b2 = ws._read(2)
        self.assertEqual((b1 & 0x0F, ws._read(b2 & 0x7F)), (10, b"are you there"))
        self.assertEqual(ws.recv(), ("e", "hello wörld".encode()))
        # a 4 MiB message in 64 KiB fragments comes back whole
        payload = os.urandom(2 * 1024 * 1024).hex().encode()
        pieces = [b"e\n" + payload[:65536]] + [payload[i:i + 65536] for i in range(65536, len(payload), 65536)]
        ws.sock.sendall(b"".join(cc.frame(p, 1 if i == 0 else 0, fin=i == len(pieces) - 1)
                                 for i, p in enumerate(pieces)))
        self.assertEqual(ws.recv(), ("e", payload))
        ws.close()

    def test_binary_raw_channel_gets_binary_frames(self):
        ws = self.console().socket()
        ws.control(command="open", channel="b", payload="echo", binary="raw")
        self.assertEqual(ws.recv()[1], {"command": "ready", "channel": "b"})
        data = bytes(range(256)) * 300
        ws.sock.sendall(cc.frame(b"b\n" + data, 2))
        self.assertEqual(ws.recv_message(), (2, b"b\n" + data))
        # a text channel on the same socket still gets text frames
        ws.control(command="open", channel="t", payload="echo")
        ws.recv()
        ws.send("t", "text")
        self.assertEqual(ws.recv_message(), (1, b"t\ntext"))
        ws.close()

    def test_message_over_the_limit_is_protocol_error(self):
        ws = self.echo_socket()
        piece = b"z" * (1024 * 1024)
        msg = [cc.frame(b"e\n" + piece, 1, fin=False)] + [cc.frame(piece, 0, fin=False)] * 15 + [cc.frame(b"z", 0)]
        for f in msg:
            ws.sock.sendall(f)
        self.assertSocketFailed(ws.recv())
        with self.assertRaises(ConnectionError):
            ws.recv()
        # just under the limit is fine on another socket, and the server still serves
        ws = self.echo_socket()
        ws.send("e", "ok")
        self.assertEqual(ws.recv(), ("e", b"ok"))
        ws.close()

    def test_channel_close_done_and_unknown_channel(self):
        ws = self.echo_socket()
        ws.control(command="done", channel="e")
        self.assertEqual(ws.recv(), ("", {"command": "done", "channel": "e"}))   # echo echoes done
        ws.control(command="close", channel="e")
        self.assertEqual(ws.recv(), ("", {"command": "close", "channel": "e"}))
        ws.send("e", "to a closed channel")      # ignored, like Cockpit
        ws.control(command="ping")
        self.assertEqual(ws.recv(), ("", {"command": "pong"}))
        # the id can be used again
        ws.control(command="open", channel="e", payload="null")
        self.assertEqual(ws.recv(), ("", {"command": "ready", "channel": "e"}))
        ws.send("e", "swallowed")
        ws.control(command="ping")
        self.assertEqual(ws.recv(), ("", {"command": "pong"}))
        ws.close()

    def test_same_channel_id_on_two_sockets_is_independent(self):
        a, b = self.echo_socket(), self.echo_socket()
        a.send("e", "from a")
        b.send("e", "from b")
        self.assertEqual(b.recv(), ("e", b"from b"))
        self.assertEqual(a.recv(), ("e", b"from a"))
        a.close()
        b.send("e", "b alone")
        self.assertEqual(b.recv(), ("e", b"b alone"))
        b.close()

    def test_close_frame_is_answered(self):
        ws = self.echo_socket()
        ws.send_frame(struct.pack(">H", 1000) + b"bye", 8)
        with self.assertRaises(ConnectionError):
            ws.recv()
        self.assertEqual(ws.close_code, 1000)
        ws.sock.close()

    def test_control_json_errors(self):
        for bad in ({"command": "open", "channel": 5, "payload": "echo"},
                    {"command": "nonsense-without-channel"},
                    {"no": "command"}):
            ws = self.console().socket()
            ws.send("", json.dumps(bad))
            self.assertSocketFailed(ws.recv(), bad)
            ws.sock.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
