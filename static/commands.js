// commands.js: the login, pull and push commands of a repository, for the
// tool the user picks (docker, podman, skopeo; remembered in this browser),
// each with a copy button. Views decide what to show (push only to those
// who may push); this module only builds it. Imports only leaf modules;
// touches nothing at import time.

import { h, replace } from "./dom.js";
import { _ } from "./i18n.js";
import { TOOLS, command, loginCommand, pullCommand, pushCommands } from "./format.js";

const KEY = "registry-console-tool";

export function preferredTool() {
    try {
        const t = localStorage.getItem(KEY);
        return TOOLS.includes(t) ? t : "docker";
    } catch (e) {
        return "docker";
    }
}

function remember(t) {
    try {
        localStorage.setItem(KEY, t);
    } catch (e) { /* private mode: not remembered */ }
}

// Every box on the page follows the user's choice (box → {render, made});
// boxes no longer in the page are forgotten (one made a moment ago may not
// be in the page yet).
const boxes = new Map();

function renderAll() {
    for (const [box, { render }] of [...boxes]) {
        if (box.isConnected)
            render();
        else
            boxes.delete(box);
    }
}

// options: {host, repo ("ns/IMAGE"), ref (tag or digest to pull; none: no
// pull command), refs (more to pull), login: {kind, user, getToken} (none:
// no login command), push (show the push commands), id}
export function commandsBox(options) {
    const box = h("div", { class: "commands-box", id: options.id || null });
    let token = null;
    const render = () => {
        const t = preferredTool();
        const chooser = h("div", { class: "tool-choice", role: "group", "aria-label": _("Command-line tool") },
            TOOLS.map(name => h("button", { type: "button", class: "tool", dataset: { tool: name },
                                            "aria-pressed": String(name === t), onclick: () => {
                                                remember(name);
                                                renderAll();
                                            } }, name)));
        const parts = [chooser];
        const login = options.login;
        if (login) {
            parts.push(h("h3", null, _("Log into the registry")),
                       command(loginCommand({ kind: login.kind, host: options.host, user: login.user, token, tool: t })));
            if (login.kind === "master" && !token && login.getToken) {
                parts.push(h("button", { type: "button", class: "link show-token", onclick: async ev => {
                    ev.target.disabled = true;
                    try {
                        token = await login.getToken();
                        render();
                    } catch (e) {
                        ev.target.disabled = false;
                        ev.target.after(h("span", { class: "tag-error" }, " ", e.message || String(e)));
                    }
                } }, _("Show login command with token")));
            }
        }
        const refs = [options.ref, ...(options.refs || [])].filter(Boolean);
        if (refs.length)
            parts.push(h("h3", null, _("Pull")), refs.map(r => command(pullCommand(options.host, options.repo, r, t))));
        if (options.push)
            parts.push(h("h3", null, _("Push")), pushCommands(options.host, options.repo, t).map(command));
        replace(box, parts);
    };
    for (const [b, { made }] of [...boxes])
        if (!b.isConnected && Date.now() - made > 10000)
            boxes.delete(b);
    boxes.set(box, { render, made: Date.now() });
    render();
    return box;
}

// What the page says under the commands about what the user may do (MAY
// from the backend's permissions()): a pull-only user is told so
// (NO_PUSH, the view's own words); when the question itself failed,
// everything is offered and the user is told why.
export function accessHint(may, noPush) {
    if (may && may.known && !may.push)
        return h("p", { class: "hint", id: "no-push-hint" }, noPush);
    if (may && may.unchecked)
        return h("p", { class: "hint", id: "access-unchecked" },
                 _("Your permissions could not be checked: every action is offered, and a refusal is explained."));
    return null;
}
