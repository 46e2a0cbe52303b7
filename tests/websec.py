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
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harden import Server, SECRETS, WRAPPER, header, RC_SERVER, fixture_registry  # noqa: E402

FOREIGN = "https://evil.example"
results = []


def check(name, ok, detail=""):
    results.append((name, ok))
    print("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""), flush=True)
    return ok


def upgrade_headers(origin):
    return [("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Protocol", "cockpit1"), ("Origin", origin)]


def test_websocket_origin(srv):
    status, _, _ = srv.request("GET", "/cockpit/socket", upgrade_headers(srv.origin()))
    check("websocket: own origin without a session is told to log in (401)", status == 401, "status %s" % status)
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
        ok = status in (400, 404)
        if "%00" in path and not ok:
            # libwebsockets cuts the decoded path at a NUL ("/%00" is "/") or
            # drops the request; either way nothing beyond what the part
            # before the NUL names may come back
            if status is None:
                ok = True
            else:
                _, _, prefix_body = srv.request("GET", path.split("%00")[0] or "/")
                ok = body == prefix_body
        check("traversal %s" % path, ok and not leaked,
              "status %s%s" % (status if status else "none, connection closed", ", LEAKED file contents" if leaked else ""))
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


def test_methods(srv):
    status, headers, _ = srv.request("POST", "/index.html", [("Origin", srv.origin())])
    check("POST to a static file: 405 with Allow", status == 405 and header(headers, "allow"), "status %s" % status)
    status, _, _ = srv.request("TRACE", "/")
    check("TRACE refused", status in (400, 403, 405, 501) or status is None, "status %s" % status)


def test_plain_redirect(srv):
    # plain HTTP on the TLS port: only /ping, everything else 301 to https on the same host
    status, headers, _ = srv.request("GET", "/ping", tls=False)
    check("plain /ping on the TLS port answered", status == 200, "status %s" % status)
    req = b"GET //evil.example/x HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" % srv.port
    status, headers, _ = srv.raw(req, tls=False)
    loc = (header(headers, "location") or [""])[0]
    check("plain-HTTP redirect stays on this host", status == 301 and loc.startswith(srv.origin() + "/")
          and "evil.example" not in loc.split("/")[2], "status %s Location %s" % (status, loc))
    # (a foreign Host header is not tested: a browser always sends this
    # server's own Host, so https://$host redirects are not open redirects)


def basic(user, password):
    import base64
    value = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    SECRETS.append(value)
    SECRETS.append(password)
    return "Basic " + value


def test_login_csrf(srv, reg):
    good = basic(reg["REGISTRY_USER"], reg["REGISTRY_PASSWORD"])
    for origin in (FOREIGN, "null", "http://127.0.0.1:%d" % srv.port):
        status, headers, _ = srv.request("POST", "/cockpit/login", [("Origin", origin), ("Authorization", good)])
        check("login CSRF: Origin %s on POST /cockpit/login with valid credentials refused" % origin,
              status == 403 and not header(headers, "set-cookie"), "status %s, Set-Cookie %s" % (status, header(headers, "set-cookie")))
    status, headers, _ = srv.request("POST", "/cockpit/login", [("Authorization", good)])
    check("login CSRF: POST /cockpit/login without Origin refused", status == 403 and not header(headers, "set-cookie"),
          "status %s" % status)
    status, _, _ = srv.request("POST", "/cockpit/login", [("Origin", srv.origin()),
                                                          ("Authorization", basic(reg["REGISTRY_USER"], "wrong-Pa55word"))])
    check("login: wrong password refused (401)", status == 401, "status %s" % status)


def test_cookie(srv, reg):
    """Logs in for real; returns the cookie header value for later tests."""
    status, headers, body = srv.request("POST", "/cockpit/login", [
        ("Origin", srv.origin()), ("Authorization", basic(reg["REGISTRY_USER"], reg["REGISTRY_PASSWORD"]))])
    check("login with the registry's credentials", status == 200, "status %s %s" % (status, body[:200]))
    cookies = [c for c in header(headers, "set-cookie") if c.startswith("__Host-cockpit=")]
    check("login sets the __Host- session cookie", len(cookies) == 1, str(header(headers, "set-cookie")))
    # an older server's plain "cockpit" cookie: the checks below still run (and fail)
    cookies = cookies or [c for c in header(headers, "set-cookie") if c.startswith("cockpit=")]
    if not cookies:
        return None
    attrs = [a.strip().lower() for a in cookies[0].split(";")[1:]]
    for flag in ("secure", "httponly", "samesite=strict", "path=/"):
        check("cookie flag %s on the wire" % flag, flag in attrs, cookies[0].split(";", 1)[1])
    check("session cookie has no Domain (host-only)", not any(a.startswith("domain") for a in attrs), cookies[0])
    name, value = cookies[0].split(";", 1)[0].split("=", 1)
    SECRETS.append(value)
    check("session cookie value does not contain the credential in clear",
          reg["REGISTRY_PASSWORD"] not in value and "YWRtaW4" not in value)
    # the session works, and logout clears it
    status, _, body = srv.request("GET", "/cockpit/session", [("Cookie", name + "=" + value)])
    check("GET /cockpit/session with the cookie", status == 200, "status %s" % status)
    return name + "=" + value


def test_socket_with_cookie(srv, cookie):
    """Cross-site WebSocket hijacking with the victim's cookie attached."""
    for origin in (FOREIGN, "null"):
        status, _, _ = srv.request("GET", "/cockpit/socket", upgrade_headers(origin) + [("Cookie", cookie)])
        check("CSWSH: logged-in socket with Origin %s refused" % origin, status == 403, "status %s" % status)
    status, _, _ = srv.request("GET", "/cockpit/socket", upgrade_headers(srv.origin()) + [("Cookie", cookie)])
    check("logged-in socket from the own origin upgrades", status == 101, "status %s" % status)


def test_tossed_cookie(srv, cookie):
    """A sibling host under the same site can set a second cookie of the same
    name (Domain=…, a longer Path, so the browser sends it first): a request
    with two session cookies is logged out, whichever comes first."""
    value = cookie.split("=", 1)[1]
    for hdr in ("__Host-cockpit=tossed-by-a-sibling; " + cookie, cookie + "; __Host-cockpit=" + value):
        status, _, _ = srv.request("GET", "/cockpit/session", [("Cookie", hdr)])
        check("two session cookies are treated as logged out (%s…)" % hdr[:28], status == 401, "status %s" % status)
    # the plain name, as a sibling without the prefix would set it, is not ours
    status, _, _ = srv.request("GET", "/cockpit/session", [("Cookie", "cockpit=" + value)])
    check("a cookie without the __Host- prefix is not a session", status == 401, "status %s" % status)


def test_logout(srv, cookie):
    # another site cannot log the user out, neither by POST nor by a GET link
    status, headers, _ = srv.request("POST", "/cockpit/logout", [("Origin", FOREIGN), ("Cookie", cookie)])
    check("cross-site POST logout refused", status == 403 and not header(headers, "set-cookie"), "status %s" % status)
    status, headers, _ = srv.request("GET", "/cockpit/logout", [("Sec-Fetch-Site", "cross-site"), ("Cookie", cookie)])
    check("cross-site GET logout refused", status == 403 and not header(headers, "set-cookie"), "status %s" % status)
    status, _, _ = srv.request("GET", "/cockpit/session", [("Cookie", cookie)])
    check("the session survives the refused logouts", status == 200, "status %s" % status)

    status, headers, _ = srv.request("POST", "/cockpit/logout", [("Origin", srv.origin()), ("Cookie", cookie)])
    cleared = [c for c in header(headers, "set-cookie") if c.startswith("__Host-cockpit=")]
    check("logout clears the cookie", status == 200 and cleared and "max-age=0" in cleared[0].lower(),
          "status %s %s" % (status, cleared))
    # a copy of the cookie (another tab, a thief) is dead too
    status, _, _ = srv.request("GET", "/cockpit/session", [("Cookie", cookie)])
    check("after logout the old cookie is refused", status == 401, "status %s" % status)
    status, _, _ = srv.request("GET", "/cockpit/socket", upgrade_headers(srv.origin()) + [("Cookie", cookie)])
    check("after logout the old cookie opens no socket", status == 401, "status %s" % status)


def test_log_injection(srv, reg):
    """A user name with a newline must not forge a log line."""
    status, _, _ = srv.request("POST", "/cockpit/login", [
        ("Origin", srv.origin()), ("Authorization", basic("mallory\nlogin of admin succeeded (registry)", "not-the-Passw0rd-9f3"))])
    check("login with a newline in the name refused", status == 401, "status %s" % status)


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


def test_log_lines(log):
    forged = [line for line in log.splitlines() if line.startswith("login of admin succeeded")]
    check("no forged log line from a user name", not forged, repr(forged[:1]))


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
    stop_registry = None
    try:
        reg, stop_registry = fixture_registry(tmp, "--htpasswd")
        srv = Server(tmp, env={"REGISTRY_URL": reg["REGISTRY_URL"]})
        for name, fn in (("origin", test_websocket_origin), ("traversal", test_traversal),
                         ("headers", test_headers), ("methods", test_methods), ("redirect", test_plain_redirect),
                         ("open-redirect", test_open_redirect)):
            if not only or name in only:
                fn(srv)
        if not only or "login" in only:
            test_login_csrf(srv, reg)
            cookie = test_cookie(srv, reg)
            if cookie:
                test_socket_with_cookie(srv, cookie)
                # a real request upstream with the credential, so the log has had the chance to leak it
                con = srv.console()
                con.login_registry(reg["REGISTRY_USER"], reg["REGISTRY_PASSWORD"])
                SECRETS.extend(v for v in con.cookies.values())
                ws = con.socket()
                status, _, body = ws.http("GET", "/v2/_catalog")
                check("http-stream2 through the session reaches the registry", status == 200 and b"demo/hello" in body,
                      "status %s" % status)
                ws.close()
                test_tossed_cookie(srv, cookie)
                test_log_injection(srv, reg)
                test_logout(srv, cookie)
        if srv.proc.poll() is not None:
            check("server still running after the attacks", False, "exit status %s" % srv.proc.returncode)
        log = srv.stop()
        test_log_secrets(log)
        test_log_lines(log)
        if WRAPPER:
            check("server under %s exits cleanly (no errors, no definite leaks)" % WRAPPER[0],
                  srv.proc.returncode == 0, "exit status %s; log tail:\n%s" % (srv.proc.returncode, log[-3000:]))
    finally:
        if srv and srv.proc.poll() is None:
            srv.stop()
        if stop_registry:
            stop_registry()
        shutil.rmtree(tmp, ignore_errors=True)
    failed = [n for n, ok in results if not ok]
    print("websec: %d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
