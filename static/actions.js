// actions.js: actions several views offer (new project, new image stream),
// each shown only to a user who may perform it, and the access policy of
// a project as an icon and a label. The backend comes in as an argument
// (views get it from the router); imports only leaf modules and touches
// nothing at import time.

import { h } from "./dom.js";
import { _ } from "./i18n.js";
import { dialog } from "./dialogs.js";
import { projectHref, streamHref } from "./routes.js";

export const PROJECT_NAME = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
export const STREAM_NAME = "[a-z0-9]+(?:[._-][a-z0-9]+)*";

// The "New project" button, or null for a user who may not request projects.
export async function newProjectButton({ backend, navigate }, { id = "create-project", cls = "primary" } = {}) {
    if (backend.kind !== "master" || !(await backend.clusterPermissions()).createProject)
        return null;
    return h("button", { type: "button", class: cls, id, onclick: async () => {
        const r = await dialog({
            title: _("New project"), action: _("Create"),
            fields: [{ name: "name", label: _("Name"), required: true, pattern: PROJECT_NAME,
                       patternHelp: _("lower case letters, digits and '-'") },
                     { name: "displayName", label: _("Display name") },
                     { name: "description", label: _("Description") }],
            run: v => backend.createProject(v.name, v.displayName, v.description).then(() => v),
        });
        if (r)
            navigate(projectHref(r.name));
    } }, _("New project"));
}

// The "New image stream" button: hidden until the projects where the user
// may create one are known, and only then shown when there is one.
// projects: names; preselect: the project chosen first, if allowed there.
export function newStreamButton({ backend, navigate }, projects, { preselect = "", id = "create-stream", cls = "primary" } = {}) {
    if (backend.kind !== "master")
        return null;
    const button = h("button", { type: "button", class: cls, id, hidden: true }, _("New image stream"));
    let allowed = [];
    backend.streamProjects(projects).then(names => {
        allowed = names;
        button.hidden = !names.length;
        button.dataset.allowed = String(names.length > 0);
    }, () => null);
    button.addEventListener("click", async () => {
        const r = await dialog({
            title: _("New image stream"), action: _("Create"),
            fields: [
                { name: "project", label: _("Project"), type: "select",
                  value: allowed.includes(preselect) ? preselect : allowed[0],
                  options: allowed.map(p => [p, p]) },
                { name: "name", label: _("Name"), required: true, pattern: STREAM_NAME,
                  patternHelp: _("lower case letters, digits, '.', '_' and '-'") },
            ],
            run: v => backend.createStream(v.project, v.name).then(() => v),
        });
        if (r)
            navigate(streamHref(r.project, r.name));
    });
    return button;
}

export const POLICIES = ["private", "shared", "anonymous"];

export function policyLabel(policy) {
    return { private: _("Private"), shared: _("Shared"), anonymous: _("Anonymous") }[policy] || policy;
}

export function policyDescription(policy) {
    return { private: _("Private: only members can pull and push"),
             shared: _("Shared: any authenticated user can pull"),
             anonymous: _("Anonymous: anyone can pull, even without logging in") }[policy] || policy;
}

// A project's access policy: its icon and its word, the sentence on hover.
export function policyBadge(policy) {
    return h("span", { class: `policy policy-${policy}`, title: policyDescription(policy), dataset: { policy } },
             h("span", { class: "policy-icon", "aria-hidden": "true" }), policyLabel(policy));
}
