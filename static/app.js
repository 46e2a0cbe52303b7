// app.js: session, header, connection banner and the hash router. Loading
// it does nothing; main.js (the page's module script) calls start(). Views
// get what they need from the router in a context object (backend, session,
// params, main, showError, navigate) and never import this module.

import { h, replace, $, urlRoot } from "./dom.js";
import { init as i18nInit, _ } from "./i18n.js";
import { connect, onConnectionChange, disconnect } from "./channel.js";
import { OpenShiftBackend, RegistryBackend } from "./backend.js";
import { parseRoute, ViewTurns } from "./routes.js";
import * as overview from "./overview.js";
import * as images from "./images.js";
import * as stream from "./stream.js";
import * as image from "./image.js";
import * as projects from "./projects.js";
import * as users from "./users.js";
import * as untagged from "./untagged.js";
import * as search from "./search.js";

let root = "";
let backend = null;
let session = null;
const turns = new ViewTurns();  // the active view and its cleanup

function banner(text, retry) {
    const el = $("#banner");
    if (!text) {
        el.hidden = true;
        replace(el);
        return;
    }
    replace(el, h("span", null, text),
            retry ? h("button", { type: "button", class: "secondary", onclick: retry }, _("Retry")) : null);
    el.hidden = false;
}

function showError(e) {
    const msg = e && e.problem === "access-denied" ? _("Access denied") : (e && e.message) || String(e);
    banner(msg, () => route());
}

async function route() {
    const turn = turns.begin();
    banner(null);
    const { parts, params } = parseRoute(location.hash);
    // each view draws in a box of its own: one that ends after the user
    // went on draws into a box no longer on the page
    const main = h("div", { class: "view" });
    replace($("#main"), main);
    const ctx = { backend, session, params, main, navigate,
                  showError: e => (turns.current(turn) ? showError(e) : null) };
    const view = parts[0] === "groups" ? "users" : parts[0] === "untagged" ? "images" : parts[0] || "overview";
    for (const a of document.querySelectorAll("nav a"))
        a.classList.toggle("active", a.dataset.view === view);
    replace(main, h("p", { class: "loading" }, _("Loading…")));
    let cleanup = null;
    try {
        if (parts[0] === "images" && parts.length >= 4)
            cleanup = await image.show(ctx, parts[1], parts[2], parts.slice(3).join("/"));
        else if (parts[0] === "images" && parts.length === 3)
            cleanup = await stream.show(ctx, parts[1], parts[2]);
        else if (parts[0] === "images")
            cleanup = await images.show(ctx);
        else if (parts[0] === "projects" && parts.length >= 2)
            cleanup = await projects.showProject(ctx, parts[1]);
        else if (parts[0] === "projects")
            cleanup = await projects.show(ctx);
        else if (parts[0] === "users" && parts.length >= 2)
            cleanup = await users.showUser(ctx, parts[1]);
        else if (parts[0] === "users")
            cleanup = await users.show(ctx);
        else if (parts[0] === "groups" && parts.length >= 2)
            cleanup = await users.showGroup(ctx, parts[1]);
        else if (parts[0] === "untagged")
            cleanup = await untagged.show(ctx);
        else if (parts[0] === "search")
            cleanup = await search.show(ctx);
        else
            cleanup = await overview.show(ctx);
    } catch (e) {
        if (!turns.current(turn))
            return;
        replace(main, h("div", { class: "empty" }, h("p", null, e.message || String(e))));
        showError(e);
    }
    // the user went on meanwhile: this view stops at once
    if (!turns.settle(turn, cleanup))
        return;
    const heading = main.querySelector("h1");
    document.title = `${heading ? heading.textContent + " – " : ""}${_("Registry")}`;
}

function navigate(hash) {
    if (location.hash === hash)
        route();
    else
        location.hash = hash;
}

async function logout() {
    disconnect();
    await fetch(`${root}/cockpit/logout`, { method: "POST", credentials: "same-origin" }).catch(() => null);
    location.replace(`${root}/`);
}

// Once per page: translate it, fetch the session, connect, route.
export async function start() {
    root = urlRoot();
    await i18nInit();
    const r = await fetch(`${root}/cockpit/session`, { credentials: "same-origin" });
    if (r.status === 401) {
        location.replace(`${root}/`);
        return;
    }
    session = await r.json();
    backend = session.backend === "master" ? new OpenShiftBackend(session) : new RegistryBackend(session);
    document.body.classList.toggle("registry-mode", backend.kind === "registry");
    replace($("#user"), session.user || "");
    $("#logout").addEventListener("click", logout);
    if (!backend.hasMembers)
        $("#nav-projects").textContent = _("Namespaces");
    // users and groups: only for those who may see them
    backend.clusterPermissions().then(may => {
        const allowed = may.listUsers || may.listGroups;
        $("#nav-users").hidden = !allowed;
        $("#nav-users").dataset.allowed = String(allowed);
    }, () => null);

    onConnectionChange((state, detail) => {
        if (state === "disconnected") {
            banner(_("Connection to the server was lost."), () => {
                connect().then(() => route(), () => null);
            });
        } else if (state === "connected") {
            banner(null);
        } else if (state === "failed" && detail === "authentication-failed") {
            sessionStorage.setItem("logout-reason", "expired");
            location.replace(`${root}/`);
        }
    });
    try {
        await connect();
    } catch (e) {
        banner(_("Cannot connect to the server."), () => location.reload());
        return;
    }
    window.addEventListener("hashchange", route);
    route();
}
