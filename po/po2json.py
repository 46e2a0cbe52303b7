#!/usr/bin/python3
"""po2json.py IN.po OUT.json: the UI's catalogue from a gettext po file.

{"": {"language": "de", "plural-forms": "..."}, "msgid": "msgstr",
 "singular": ["form 0", "form 1", ...]}
A plural entry keeps all nplurals forms of the Plural-Forms header, in order
(i18n.js picks one with the header's plural expression). Fuzzy and
untranslated entries (a plural one missing any form) are left out, so the UI
falls back to English.
"""
import json
import re
import sys


def unquote(s):
    s = s.strip()
    assert s.startswith('"') and s.endswith('"'), s
    return json.loads(s)


def parse(path):
    entries = []
    cur = {}
    key = None
    fuzzy = False
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip():
            if cur:
                entries.append((cur, fuzzy))
            cur, key, fuzzy = {}, None, False
            continue
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            cur[key] += unquote(line)
            continue
        word, _, rest = line.partition(" ")
        key = word
        cur[key] = unquote(rest)
    if cur:
        entries.append((cur, fuzzy))
    return entries


def main():
    src, out = sys.argv[1], sys.argv[2]
    catalog = {}
    nplurals = 2
    for e, fuzzy in parse(src):
        msgid = e.get("msgid")
        if msgid is None:
            continue
        if msgid == "":
            header = dict(l.split(": ", 1) for l in e.get("msgstr", "").splitlines() if ": " in l)
            catalog[""] = {"language": header.get("Language", ""), "plural-forms": header.get("Plural-Forms", "")}
            m = re.search(r"nplurals\s*=\s*(\d+)", catalog[""]["plural-forms"])
            if m:
                nplurals = int(m.group(1))
            continue
        if fuzzy:
            continue
        if "msgid_plural" in e:
            forms = [e.get("msgstr[%d]" % i, "") for i in range(nplurals)]
            if all(forms):
                catalog[msgid] = forms
        elif e.get("msgstr"):
            catalog[msgid] = e["msgstr"]
    with open(out, "w", encoding="utf-8") as f:
        json.dump(catalog, f, ensure_ascii=False, sort_keys=True)


main()
