#!/bin/bash
# tests/test-services-untouched.sh (make check): the demo and the test
# fixtures leave the machine's own services alone.
#
# A user's machine may run nginx, Debian's docker-registry service (port 5000)
# and cockpit.socket (port 9090); Debian starts them when the packages are
# installed. This test starts an nginx of its own as the stand-in for such a
# service (own config, pid file and logs in a temp dir; one worker; a free
# port, plus 127.0.0.1:5000 and 127.0.0.1:9090 when they are free, so those
# ports are held either way), then runs, while it is up:
#   - ./scripts/demo --check (DEMO_PORT a free port, DEMO_BUILD this build,
#     DEMO_DIR a temp dir), which also runs scripts/install-deps --demo
#   - the fixtures: registry-up (htpasswd; token + TLS), registry-push, the
#     test master, registry-down
#   - tests/test-scale-out.py, which starts and stops an nginx of its own
# and asserts the stand-in is still the same process (pid, pid file), with the
# same worker (no reload), answering with its own reply. Only the nginx
# started here is stopped at the end, by its pid. ~10 s.
set -uo pipefail
top_srcdir="${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}"
top_builddir="${top_builddir:-$(pwd)}"
export top_srcdir top_builddir
F="$top_srcdir/tests/fixtures"

command -v nginx >/dev/null || { echo "FAIL: nginx is not installed (scripts/install-deps)"; exit 1; }

tmp="$(mktemp -d /tmp/rc-untouched.XXXXXX)"
nginx_pid=""
regs=()
master_dir=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  [ -z "$master_dir" ] || "$F/test-master.py" --down "$master_dir" >/dev/null 2>&1
  for r in "${regs[@]}"; do "$F/registry-down" "$r" >/dev/null 2>&1; done
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null; wait "$nginx_pid" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port_free() {  # PORT: nobody listens on 127.0.0.1:PORT
  python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$1"
}
children() {  # PID: its child pids, from /proc
  local f line ppid
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$f" || continue
    read -r _ ppid _ <<<"${line##*) }"   # state, ppid, ...: the fields after "pid (comm) "
    [ "$ppid" = "$1" ] && { f=${f#/proc/}; echo "${f%/stat}"; }
  done
}
nginx_state() {  # the master pid, its pid file and its workers, one line
  echo "master $nginx_pid pidfile $(cat "$tmp/nginx/nginx.pid" 2>/dev/null) workers $(children "$nginx_pid" | sort -n | tr '\n' ' ')"
}
answer() { curl -s --max-time 5 "http://127.0.0.1:$nginx_port/"; }

# ---- the stand-in service --------------------------------------------------
token="stand-in-$RANDOM$RANDOM"
start_nginx() {  # extra listen ports...
  local listens="    listen 127.0.0.1:$nginx_port;" p
  for p in "$@"; do listens="$listens
    listen 127.0.0.1:$p;"; done
  rm -rf "$tmp/nginx"; mkdir -p "$tmp/nginx"
  cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 64; }
http {
  access_log $tmp/nginx/access.log;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  server {
$listens
    default_type text/plain;
    return 200 "$token\n";
  }
}
EOF
  nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" >"$tmp/nginx.out" 2>&1 &
  nginx_pid=$!
  local deadline=$((SECONDS + 20))
  while [ $SECONDS -lt $deadline ]; do
    kill -0 "$nginx_pid" 2>/dev/null || { wait "$nginx_pid"; nginx_pid=""; return 1; }
    [ "$(answer)" = "$token" ] && [ -s "$tmp/nginx/nginx.pid" ] && [ -n "$(nginx_state | sed -n 's/.*workers \([0-9]\).*/\1/p')" ] && return 0
    sleep 0.05
  done
  return 1
}
nginx_port=$(free_port)
extra=()
for p in 5000 9090; do port_free "$p" && extra+=("$p"); done
# a port found free may be taken before nginx binds it: then without the extras
start_nginx "${extra[@]}" || { extra=(); nginx_port=$(free_port); start_nginx; } || {
  echo "FAIL: the stand-in nginx did not start:"; cat "$tmp/nginx.out" "$tmp/nginx/error.log" 2>/dev/null; exit 1; }
before="$(nginx_state)"
echo "stand-in nginx on 127.0.0.1:$nginx_port${extra[*]:+ and ${extra[*]}}: $before"
for p in 5000 9090; do port_free "$p" && fail "port $p is not held during the test"; done

# ---- what must leave it alone ----------------------------------------------
demo_port=$(free_port)
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL DEMO_PORT="$demo_port" DEMO_DIR="$tmp/demo" \
     DEMO_BUILD="$top_builddir" "$top_srcdir/scripts/demo" --check >"$tmp/demo.log" 2>&1; then
  ok "scripts/demo --check on port $demo_port"
else
  fail "scripts/demo --check on port $demo_port:"; tail -20 "$tmp/demo.log"
fi

fixtures() {
  local r1="$tmp/reg-htpasswd" r2="$tmp/reg-token"
  regs+=("$r1") && "$F/registry-up" --htpasswd --quiet "$r1" >/dev/null || return 1
  regs+=("$r2") && "$F/registry-up" --token --tls --empty --quiet "$r2" >/dev/null || return 1
  "$F/registry-push" "$r2" hello-1.0 demo/hello:1.0 >/dev/null || return 1
  master_dir="$tmp/master"
  "$F/test-master.py" --registry-env "$r1/env" "$master_dir" >/dev/null || return 1
  "$F/test-master.py" --down "$master_dir" >/dev/null && master_dir="" || return 1
  "$F/registry-down" "$r1" && "$F/registry-down" "$r2" || return 1
  regs=()
}
if fixtures >"$tmp/fixtures.log" 2>&1; then
  ok "fixtures: registry-up (htpasswd; token + TLS), registry-push, test master, registry-down"
else
  fail "fixtures:"; tail -20 "$tmp/fixtures.log"
fi

if python3 "$top_srcdir/tests/test-scale-out.py" >"$tmp/scale-out.log" 2>&1; then
  ok "tests/test-scale-out.py (its own nginx)"
else
  fail "tests/test-scale-out.py:"; tail -20 "$tmp/scale-out.log"
fi

# ---- the stand-in is untouched ---------------------------------------------
after="$(nginx_state)"
if ! kill -0 "$nginx_pid" 2>/dev/null; then
  fail "the stand-in nginx (pid $nginx_pid) is gone"
elif [ "$after" != "$before" ]; then
  fail "the stand-in nginx changed: before: $before; after: $after"
elif [ "$(answer)" != "$token" ]; then
  fail "the stand-in nginx no longer answers on 127.0.0.1:$nginx_port"
else
  ok "the stand-in nginx still runs, unchanged: $after"
fi
[ $failures -eq 0 ] && echo "PASS" || echo "FAIL ($failures)"
exit $((failures > 0))
