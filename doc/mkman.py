#!/usr/bin/python3
"""Generate the man pages from doc/manpages.txt: mkman.py SOURCE OUTDIR"""
import re
import sys


def inline(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = re.sub(r"`([^`]*)`", r"\\fB\1\\fR", text)
    return text


def line(text):
    # a line starting with . or ' is a troff request: protect it
    return ("\\&" + text) if text[:1] in (".", "'") else text


def emit(name, section, title, body, outdir):
    out = ['.TH "%s" "%s" "" "registry-console" "%s"' % (name.upper(), section, title)]
    in_term = False
    para = []

    def flush():
        if para:
            out.append(line(inline(" ".join(para))))
            para.clear()

    for raw in body:
        if raw.startswith("# "):
            flush()
            out.append(".SH " + raw[2:].strip())
            in_term = False
        elif raw.startswith(": "):
            flush()
            out.append(".TP")
            out.append(line("\\fB" + inline(raw[2:].strip()) + "\\fR"))
            in_term = True
        elif raw.startswith("    ") and not in_term:
            flush()
            out.append(".nf")
            out.append(line(inline(raw[4:])))
            out.append(".fi")
        elif raw.strip() == "":
            flush()
            if not in_term:
                out.append(".PP")
            in_term = False
        else:
            para.append(raw.strip())
    flush()
    with open("%s/%s.%s" % (outdir, name, section), "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    page = None
    for raw in open(src, encoding="utf-8"):
        raw = raw.rstrip("\n")
        m = re.match(r'@page (\S+) (\d) "(.*)"', raw)
        if m:
            if page:
                emit(*page, outdir)
            page = (m.group(1), m.group(2), m.group(3), [])
        elif page:
            page[3].append(raw)
        # lines before the first @page are comments
    if page:
        emit(*page, outdir)


main()
