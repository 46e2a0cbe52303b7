// login.js: OpenShift OAuth (implicit grant) or registry credentials.

import { init, _ } from "./i18n.js";
import { $, urlRoot } from "./dom.js";

const root = urlRoot();

function showError(text) {
    const el = $("#login-error");
    el.textContent = text;
    el.hidden = !text;
}

async function post(headers, body) {
    const r = await fetch(`${root}/cockpit/login`, {
        method: "POST", credentials: "same-origin", headers, body: body ? JSON.stringify(body) : null,
    });
    let data = {};
    try {
        data = await r.json();
    } catch (e) { /* not JSON */ }
    if (!r.ok)
        throw new Error(data.message || `${r.status} ${r.statusText}`);
    return data;
}

function enter() {
    location.replace(`${root}/`);
}

async function main() {
    await init();

    if (sessionStorage.getItem("logout-reason") === "expired") {
        sessionStorage.removeItem("logout-reason");
        showError(_("You have been logged out due to inactivity."));
    }

    // Back from the OAuth server? The answer is in the fragment. Handle it
    // before anything else: fetching the login config again would start a
    // new login (a new state) and this answer would no longer match.
    const frag = new URLSearchParams(location.hash.replace(/^#/, ""));
    if (frag.has("access_token") || frag.has("error")) {
        // never leave the token in the address bar or history
        history.replaceState(null, "", location.pathname + location.search);
        if (frag.has("error")) {
            showError(frag.get("error_description") || frag.get("error"));
        } else {
            $("#login-wait").hidden = false;
            try {
                await post({ Authorization: `Bearer ${frag.get("access_token")}`, "X-State": frag.get("state") || "" });
                enter();
                return;
            } catch (e) {
                $("#login-wait").hidden = true;
                showError(e.message);
            }
        }
    }

    const r = await fetch(`${root}/cockpit/login/config`, { credentials: "same-origin" });
    const config = await r.json();
    if (config.login_title) {
        $("#login-title").textContent = config.login_title;
        document.title = config.login_title;
    }

    if (config.mode === "openshift") {
        $("#openshift-login").hidden = false;
        $("#oauth-button").addEventListener("click", () => {
            location.assign(config.authorize_url);
        });
        $("#oauth-button").focus();
        return;
    }

    const form = $("#registry-form");
    form.hidden = false;
    $("#login-user").focus();
    form.addEventListener("submit", async ev => {
        ev.preventDefault();
        showError("");
        const user = $("#login-user").value;
        const password = $("#login-password").value;
        const button = $("#login-button");
        button.disabled = true;
        try {
            const bytes = new TextEncoder().encode(`${user}:${password}`);
            let bin = "";
            for (const b of bytes)
                bin += String.fromCharCode(b);
            await post({ Authorization: `Basic ${btoa(bin)}` });
            enter();
        } catch (e) {
            showError(e.message || _("Login failed"));
            button.disabled = false;
        }
    });
}

main().catch(e => showError(e.message || String(e)));
