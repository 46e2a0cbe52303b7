// format.js: how values are shown: digests, authors, and the shell commands
// a user copies (login, pull, push). Command strings are plain text, shown
// with textContent by command(); a value that the shell would split or
// expand is single-quoted, so what the user pastes is what they see.
// Imports only dom.js and i18n.js; touches nothing at import time.

import { h, copyText } from "./dom.js";
import { _ } from "./i18n.js";

// "sha256:0123456789abcdef…" → "0123456789ab"
export function shortDigest(d) {
    return d ? d.replace(/^sha256:/, "").substring(0, 12) : "";
}

// "Jane Doe <jane@example.com>" → "Jane Doe"; the whole string stays in the title.
export function authorName(author) {
    const m = /^\s*([^<]*?)\s*<[^>]*>\s*$/.exec(author || "");
    return (m && m[1]) || author || "";
}

// One shell word: unchanged when it has only characters no shell treats
// specially ("~" and "=" only after the first), else single-quoted ('…'\''…').
export function shellWord(s) {
    s = String(s);
    if (/^[\w@%+:,./-][\w@%+=:,./~-]*$/.test(s))
        return s;
    return `'${s.replace(/'/g, "'\\''")}'`;
}

// kind: "master" (token login) or "registry" (user name, password asked by docker)
export function loginCommand({ kind, host, user, token }) {
    return kind === "master"
        ? `docker login -p ${shellWord(token || "TOKEN")} -u unused ${shellWord(host)}`
        : `docker login -u ${shellWord(user || "USER")} ${shellWord(host)}`;
}

// ref: a tag, or a digest ("sha256:…", pulled as repo@digest)
export function pullCommand(host, repo, ref) {
    return `docker pull ${shellWord(`${host}/${repo}${ref.includes(":") ? "@" : ":"}${ref}`)}`;
}

// [tag, push]: what pushes a local IMAGE to repo
export function pushCommands(host, repo) {
    const target = shellWord(`${host}/${repo}:TAG`);
    return [`docker tag IMAGE ${target}`, `docker push ${target}`];
}

// A command line as text, with a button that copies it.
export function command(text) {
    const copy = h("button", { type: "button", class: "copy", title: _("Copy to clipboard"),
                               "aria-label": _("Copy to clipboard") }, _("Copy"));
    copy.addEventListener("click", () => copyText(text, copy));
    return h("div", { class: "command" }, h("code", null, text), copy);
}
