#!/bin/bash
# test-remotectl.sh: the exact stdout, stderr and exit status of every
# `remotectl` form, run against the built binary. Fixtures come from
# remotectl itself and certtool (gnutls-bin).
set -u

RC="$(cd "${top_builddir:-.}" && pwd)/remotectl"
config_h="${top_builddir:-.}/config.h"
VERSION=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$config_h")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd -P)

n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

# expect NAME STATUS STDOUT STDERR -- COMMAND...
# STDOUT and STDERR are the exact contents (without the final newline).
expect() {
    local name="$1" status="$2" out="$3" err="$4"
    shift 5
    local got_status=0
    "$@" >"$tmp/stdout" 2>"$tmp/stderr" || got_status=$?
    local got_out got_err
    got_out=$(cat "$tmp/stdout")
    got_err=$(cat "$tmp/stderr")
    if [ "$got_status" = "$status" ] && [ "$got_out" = "$out" ] && [ "$got_err" = "$err" ]; then
        ok "$name"
    else
        not_ok "$name"
        echo "#   command: $*"
        echo "#   status:  $got_status (expected $status)"
        echo "#   stdout:  $(printf '%q' "$got_out")"
        echo "#   expected $(printf '%q' "$out")"
        echo "#   stderr:  $(printf '%q' "$got_err")"
        echo "#   expected $(printf '%q' "$err")"
    fi
}

# check NAME COMMAND... (any command that must succeed)
check() {
    local name="$1"
    shift
    if "$@" >"$tmp/check.log" 2>&1; then ok "$name"; else not_ok "$name"; sed 's/^/#   /' "$tmp/check.log"; fi
}

split_pem() { # FILE LABEL-REGEX → the matching blocks
    sed -n "/-----BEGIN $2-----/,/-----END $2-----/p" "$1"
}

# ---------------------------------------------------------------- no certificate
mkdir "$tmp/empty"
expect "empty dir: not found, exit 1" 1 "" "remotectl: No certificate found in dir: $tmp/empty" -- \
    "$RC" certificate --cert-dir "$tmp/empty"
touch "$tmp/empty/tls.crt" "$tmp/empty/tls.key" "$tmp/empty/.hidden.cert" "$tmp/empty/x.cert.bak"
mkdir "$tmp/empty/dir.cert"
expect "only non-.cert names: not found" 1 "" "remotectl: No certificate found in dir: $tmp/empty" -- \
    "$RC" certificate --cert-dir "$tmp/empty"
expect "missing dir: not found" 1 "" "remotectl: No certificate found in dir: $tmp/missing" -- \
    "$RC" certificate --cert-dir "$tmp/missing"
expect "--cert-dir=DIR form" 1 "" "remotectl: No certificate found in dir: $tmp/empty" -- \
    "$RC" certificate --cert-dir="$tmp/empty"

# ---------------------------------------------------------------- --ensure
d="$tmp/certs"
mkdir "$d"
expect "--ensure creates 0-self-signed.cert" 0 "certificate: $d/0-self-signed.cert" "" -- \
    "$RC" certificate --cert-dir "$d" --ensure
check "generated file has mode 0640" test "$(stat -c %a "$d/0-self-signed.cert")" = 640
check "certtool -i accepts the generated file" certtool -i --infile "$d/0-self-signed.cert"
certtool -i --infile "$d/0-self-signed.cert" >"$tmp/info" 2>&1
check "generated: ECDSA P-256" grep -q "Curve:.*SECP256R1" "$tmp/info"
check "generated: SAN localhost" grep -q "DNSname: localhost" "$tmp/info"
check "generated: SAN 127.0.0.1" grep -q "IPAddress: 127.0.0.1" "$tmp/info"
check "generated: SAN ::1" grep -q "IPAddress: ::1" "$tmp/info"
check "generated: CN is the host name" grep -q "Subject: CN=$(hostname)\$" "$tmp/info"
check "generated: not a CA" grep -q "Certificate Authority (CA): FALSE" "$tmp/info"
check "generated: TLS server purpose" grep -q "TLS WWW Server" "$tmp/info"
check "generated: certtool reads the key" certtool -k --infile "$d/0-self-signed.cert"
check "generated: exactly one file in the dir" test "$(ls -A "$d")" = "0-self-signed.cert"
cp "$d/0-self-signed.cert" "$tmp/saved"
expect "plain form prints the generated file" 0 "certificate: $d/0-self-signed.cert" "" -- \
    "$RC" certificate --cert-dir "$d"
expect "--ensure again keeps it" 0 "certificate: $d/0-self-signed.cert" "" -- \
    "$RC" certificate --cert-dir "$d" --ensure
check "--ensure again: file unchanged" cmp "$d/0-self-signed.cert" "$tmp/saved"

expect "--ensure creates a missing dir" 0 "certificate: $tmp/new/ws-certs.d/0-self-signed.cert" "" -- \
    "$RC" certificate --cert-dir "$tmp/new/ws-certs.d" --ensure

mkdir "$tmp/rsa"
expect "--ensure --rsa" 0 "certificate: $tmp/rsa/0-self-signed.cert" "" -- \
    "$RC" certificate --cert-dir "$tmp/rsa" --ensure --rsa
certtool -i --infile "$tmp/rsa/0-self-signed.cert" >"$tmp/info-rsa" 2>&1
check "--rsa: RSA 2048 key" grep -q "Modulus (bits 2048)" "$tmp/info-rsa"

# the last .cert wins, in byte order
cp "$tmp/saved" "$d/9-b.cert"
cp "$tmp/saved" "$d/10-a.cert"
expect "last .cert in byte order" 0 "certificate: $d/9-b.cert" "" -- "$RC" certificate --cert-dir "$d"

# owner of created files
if [ "$(id -u)" = 0 ]; then owner=nobody; group=nogroup; else owner=$(id -un); group=$(id -gn); fi
mkdir "$tmp/owned"
expect "--user/--group with --ensure" 0 "certificate: $tmp/owned/0-self-signed.cert" "" -- \
    "$RC" certificate --cert-dir "$tmp/owned" --ensure --user "$owner" --group "$group"
check "--user/--group set the owner" test "$(stat -c %U:%G "$tmp/owned/0-self-signed.cert")" = "$owner:$group"
# an unprivileged caller cannot give files away: a clear error, nothing left behind
mkdir -m 777 "$tmp/giveaway"
chmod 755 "$tmp"
cp "$RC" "$tmp/remotectl-copy"
if [ "$(id -u)" = 0 ]; then as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups); else as_user=(); fi
expect "--user without privilege" 1 "" \
    "remotectl: $tmp/giveaway/0-self-signed.cert: cannot set owner: Operation not permitted" -- \
    "${as_user[@]}" "$tmp/remotectl-copy" certificate --cert-dir "$tmp/giveaway" --ensure --user root
check "--user without privilege: no file left" test -z "$(ls -A "$tmp/giveaway")"
chmod 700 "$tmp"
expect "unknown user" 1 "" "remotectl: unknown user: no-such-user-xyz" -- \
    "$RC" certificate --cert-dir "$tmp/owned" --ensure --user no-such-user-xyz
expect "unknown group" 1 "" "remotectl: unknown group: no-such-group-xyz" -- \
    "$RC" certificate --cert-dir "$tmp/owned" --ensure --group no-such-group-xyz

# ---------------------------------------------------------------- bad files
b="$tmp/bad"
mkdir "$b"
split_pem "$tmp/saved" CERTIFICATE >"$tmp/server.crt"
split_pem "$tmp/saved" "PRIVATE KEY" >"$tmp/server.key"
certtool --generate-privkey --key-type ecdsa --outfile "$tmp/other.key" >/dev/null 2>&1
certtool --generate-privkey --key-type ecdsa --pkcs8 --password secret --outfile "$tmp/enc.key" >/dev/null 2>&1

# bad_file NAME CONTENT-FILE... REASON
bad_file() {
    local name="$1" reason="${*: -1}"
    local files=("${@:2:$#-2}")
    rm -f "$b"/*.cert
    cat "${files[@]}" >"$b/$name"
    expect "bad file $name: $reason" 1 "" "remotectl: $b/$name: $reason" -- "$RC" certificate --cert-dir "$b"
}
echo "hello" >"$tmp/text"
: >"$tmp/nothing"
bad_file not-pem.cert "$tmp/text" 'not a PEM file (no "-----BEGIN" block)'
bad_file empty.cert "$tmp/nothing" 'not a PEM file (no "-----BEGIN" block)'
bad_file no-key.cert "$tmp/server.crt" "no private key found"
bad_file no-cert.cert "$tmp/server.key" "no certificate found"
bad_file encrypted.cert "$tmp/server.crt" "$tmp/enc.key" "private key is encrypted"
bad_file two-keys.cert "$tmp/server.crt" "$tmp/server.key" "$tmp/other.key" "more than one private key"
bad_file mismatch.cert "$tmp/server.crt" "$tmp/other.key" "private key does not match the certificate"
head -c 600 "$tmp/saved" >"$tmp/cut"
bad_file truncated.cert "$tmp/cut" 'truncated PEM block "CERTIFICATE": BEGIN without END'
sed '2s/^..../!!!!/' "$tmp/saved" >"$tmp/bad64"
bad_file bad-base64.cert "$tmp/bad64" 'truncated PEM block "CERTIFICATE": invalid base64 data'

rm -f "$b"/*.cert
cp "$tmp/saved" "$b/1-good.cert"
cp "$tmp/server.crt" "$b/2-bad.cert"
expect "bad last file: no fallback" 1 "" "remotectl: $b/2-bad.cert: no private key found" -- \
    "$RC" certificate --cert-dir "$b"
expect "bad last file: --ensure reports it too" 1 "" "remotectl: $b/2-bad.cert: no private key found" -- \
    "$RC" certificate --cert-dir "$b" --ensure
check "bad last file: --ensure generated nothing" test ! -e "$b/0-self-signed.cert"
rm -f "$b/2-bad.cert"
ln -s "$tmp/missing-target" "$b/3-dangling.cert"
expect "dangling symlink is not a candidate" 0 "certificate: $b/1-good.cert" "" -- "$RC" certificate --cert-dir "$b"

# expired: loads, with a one-line warning
cat >"$tmp/expired.tmpl" <<'EOF'
cn = "expired"
activation_date = "2020-01-01 00:00:00 UTC"
expiration_date = "2021-01-01 00:00:00 UTC"
tls_www_server
EOF
mkdir "$tmp/expired"
certtool --generate-self-signed --load-privkey "$tmp/other.key" --template "$tmp/expired.tmpl" \
    --outfile "$tmp/expired.crt" >/dev/null 2>&1
cat "$tmp/expired.crt" "$tmp/other.key" >"$tmp/expired/old.cert"
expect "expired certificate: warning, exit 0" 0 "certificate: $tmp/expired/old.cert" \
    "remotectl: $tmp/expired/old.cert: certificate expired on 2021-01-01 00:00:00 UTC" -- \
    "$RC" certificate --cert-dir "$tmp/expired"

# ---------------------------------------------------------------- combine
s="$tmp/secret"
c="$tmp/combined"
mkdir "$s"
cp "$tmp/server.crt" "$s/tls.crt"
cp "$tmp/server.key" "$s/tls.key"
expect "combine tls.crt tls.key" 0 "certificate: $c/tls.cert" "" -- \
    "$RC" certificate --cert-dir "$c" "$s/tls.crt" "$s/tls.key"
check "combined file has mode 0640" test "$(stat -c %a "$c/tls.cert")" = 640
check "certtool -i accepts the combined file" certtool -i --infile "$c/tls.cert"
expect "combined file is the one in use" 0 "certificate: $c/tls.cert" "" -- "$RC" certificate --cert-dir "$c"
expect "combine: key first, name from the first file" 0 "certificate: $c/tls.cert" "" -- \
    "$RC" certificate --cert-dir "$c" "$s/tls.key" "$s/tls.crt"
(cd "$s" && "$RC" certificate --cert-dir "$c" tls.crt tls.key) >"$tmp/rel" 2>&1
check "combine: relative paths" test "$(cat "$tmp/rel")" = "certificate: $c/tls.cert"
cp "$tmp/other.key" "$s/other.key"
expect "combine: mismatched key" 1 "" \
    "remotectl: $s/tls.crt, $s/other.key: private key does not match the certificate" -- \
    "$RC" certificate --cert-dir "$c" "$s/tls.crt" "$s/other.key"
expect "combine: missing file" 1 "" "remotectl: $s/nope.key: cannot read: No such file or directory" -- \
    "$RC" certificate --cert-dir "$c" "$s/tls.crt" "$s/nope.key"
expect "combine: no key" 1 "" "remotectl: $s/tls.crt: no private key found" -- \
    "$RC" certificate --cert-dir "$c" "$s/tls.crt"

# ---------------------------------------------------------------- usage
usage='Usage:
  remotectl COMMAND [OPTION…]
  remotectl --help | --version

Commands:
  certificate   Print, create or combine the web server'"'"'s TLS certificate

Run "remotectl certificate --help" for the command'"'"'s options.'
expect "--help" 0 "$usage" "" -- "$RC" --help
expect "no arguments: usage on stderr, exit 2" 2 "" "$usage" -- "$RC"
expect "--version" 0 "remotectl $VERSION" "" -- "$RC" --version
check "version is known" test -n "$VERSION"
expect "unknown option" 2 "" 'remotectl: unknown option: --bogus (see "remotectl --help")' -- "$RC" --bogus
expect "unknown command" 2 "" 'remotectl: unknown command: frobnicate (see "remotectl --help")' -- "$RC" frobnicate
expect "certificate: unknown option" 2 "" \
    'remotectl: Unknown option --bogus (see "remotectl certificate --help")' -- "$RC" certificate --bogus
expect "certificate: option missing its value" 2 "" \
    'remotectl: Missing argument for --cert-dir (see "remotectl certificate --help")' -- "$RC" certificate --cert-dir

"$RC" certificate --help >"$tmp/help" 2>"$tmp/help.err"
status=$?
check "certificate --help: exit 0, nothing on stderr" test "$status" = 0 -a ! -s "$tmp/help.err"
check "certificate --help: usage line" grep -qx "  remotectl certificate \[OPTION…\] \[FILE…\]" "$tmp/help"
for opt in "--cert-dir=DIR .*Certificate directory (default: .*/cockpit/ws-certs.d)" "--ensure " "--rsa " "--user=USER " "--group=GROUP "; do
    check "certificate --help: $opt" grep -q -- "^  $opt" "$tmp/help"
done

echo "1..$n"
[ "$failed" = 0 ]
