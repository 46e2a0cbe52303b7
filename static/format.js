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

// The command-line tools the console writes commands for: docker, and
// podman and skopeo (same registries, same credentials).
export const TOOLS = ["docker", "podman", "skopeo"];

function tool(t) {
    return TOOLS.includes(t) ? t : "docker";
}

// kind: "master" (token login) or "registry" (user name, password asked by
// the tool)
export function loginCommand({ kind, host, user, token, tool: t = "docker" }) {
    return kind === "master"
        ? `${tool(t)} login -p ${shellWord(token || "TOKEN")} -u unused ${shellWord(host)}`
        : `${tool(t)} login -u ${shellWord(user || "USER")} ${shellWord(host)}`;
}

function reference(host, repo, ref) {
    return `${host}/${repo}${ref.includes(":") ? "@" : ":"}${ref}`;
}

// ref: a tag, or a digest ("sha256:…", pulled as repo@digest). skopeo copies
// into an OCI layout directory named after the repository's last part.
export function pullCommand(host, repo, ref, t = "docker") {
    if (tool(t) === "skopeo") {
        const dir = repo.split("/").pop() || "image";
        const dest = ref.includes(":") ? `oci:${dir}` : `oci:${dir}:${ref}`;
        return `skopeo copy ${shellWord(`docker://${reference(host, repo, ref)}`)} ${shellWord(dest)}`;
    }
    return `${tool(t)} pull ${shellWord(reference(host, repo, ref))}`;
}

// What pushes a local IMAGE to repo: [tag, push] for docker and podman,
// [copy] from an OCI layout directory for skopeo.
export function pushCommands(host, repo, t = "docker") {
    const target = `${host}/${repo}:TAG`;
    if (tool(t) === "skopeo")
        return [`skopeo copy oci:IMAGE ${shellWord(`docker://${target}`)}`];
    return [`${tool(t)} tag IMAGE ${shellWord(target)}`, `${tool(t)} push ${shellWord(target)}`];
}

// A command line as text, with a button that copies it.
export function command(text) {
    const copy = h("button", { type: "button", class: "copy", title: _("Copy to clipboard"),
                               "aria-label": _("Copy to clipboard") }, _("Copy"));
    copy.addEventListener("click", () => copyText(text, copy));
    return h("div", { class: "command" }, h("code", null, text), copy);
}

// Lines of text (a Dockerfile, say) in a <pre>, with a button that copies
// them.
export function textBlock(text, id) {
    const copy = h("button", { type: "button", class: "copy", title: _("Copy to clipboard"),
                               "aria-label": _("Copy to clipboard") }, _("Copy"));
    copy.addEventListener("click", () => copyText(text, copy));
    return h("div", { class: "command block" }, h("pre", { id }, text), copy);
}
