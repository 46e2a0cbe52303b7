#!/bin/sh
# tests/installcheck-l10n.sh BINDIR: the installed remotectl speaks German
# under a German locale (the catalogue is found where it was installed).
# Run by `make installcheck`, and so by `make distcheck`.
set -u
remotectl="$1/remotectl"
loc="$(mktemp -d)"
trap 'rm -rf "$loc"' EXIT
if ! localedef -i de_DE -f UTF-8 "$loc/de_DE.UTF-8" >/dev/null 2>&1; then
  echo "installcheck-l10n: cannot build the de_DE.UTF-8 locale (Debian package 'locales')" >&2
  exit 1
fi
fail=0
expect() {  # expect WHAT TEXT
  if printf '%s' "$out" | grep -qF -- "$2"; then echo "ok: $1"; else
    echo "FAIL: $1: expected \"$2\" in:"; printf '%s\n' "$out"; fail=1; fi
}
out="$(LOCPATH="$loc" LC_ALL=de_DE.UTF-8 "$remotectl" --help 2>&1)"
expect "usage in German" "remotectl BEFEHL [OPTION…]"
out="$(LOCPATH="$loc" LC_ALL=de_DE.UTF-8 "$remotectl" certificate --cert-dir "$loc/none" 2>&1)"
expect "no certificate, in German" "remotectl: Kein Zertifikat im Verzeichnis gefunden: $loc/none"
printf -- '-----BEGIN PRIVATE KEY-----\nMII\n' >"$loc/cut.cert"
out="$(LOCPATH="$loc" LC_ALL=de_DE.UTF-8 "$remotectl" certificate --cert-dir "$loc" "$loc/cut.cert" 2>&1)"
expect "truncated block, in German" "$loc/cut.cert: abgeschnittener PEM-Block „PRIVATE KEY“: BEGIN ohne END"
out="$(LC_ALL=C "$remotectl" certificate --cert-dir "$loc/none" 2>&1)"
expect "English without a German locale" "remotectl: No certificate found in dir: $loc/none"
exit $fail
