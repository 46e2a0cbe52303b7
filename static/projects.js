// projects.js: projects (OpenShift) or namespaces (registry): list, create,
// delete, access policy and members.

import { h, replace } from "./dom.js";
import { _, format, nformat, relativeTime } from "./i18n.js";
import { dialog, confirmDelete } from "./dialogs.js";
import { streamHref, projectsHref, projectHref, projectFromPart } from "./routes.js";
import { newProjectButton, newStreamButton, policyBadge, policyDescription, POLICIES } from "./actions.js";

// The registry's cluster roles a member can be given, most powerful first.
const ROLES = ["registry-admin", "registry-editor", "registry-viewer"];

export async function show({ backend, main, navigate }) {
    const projects = await backend.projects();
    // only for those who may request a project
    const create = await newProjectButton({ backend, navigate });
    // the access policy of each project, filled in as it comes (OpenShift)
    const policy = p => {
        if (!backend.hasMembers)
            return null;
        const cell = h("td", { class: "policy-cell" });
        backend.policy(p.name).then(v => replace(cell, policyBadge(v)), () => null);
        return cell;
    };
    replace(main,
            h("div", { class: "title-row" }, h("h1", null, backend.hasMembers ? _("Projects") : _("Namespaces")), create),
            projects.length
                ? h("table", { class: "list", id: "project-list" },
                    h("thead", null, h("tr", null, h("th", null, _("Name")), h("th", null, _("Display name")), h("th", null, _("Created")),
                                       backend.hasMembers ? h("th", null, _("Access policy")) : null)),
                    h("tbody", null, projects.map(p => h("tr", { dataset: { project: p.name } },
                        h("td", null, h("a", { href: projectHref(p.name) }, p.name || "/")),
                        h("td", null, p.displayName),
                        h("td", { title: p.created }, p.created ? relativeTime(p.created) : ""),
                        policy(p)))))
                : h("p", { class: "empty" }, _("There are no projects yet.")));
    return null;
}

export async function showProject({ backend, main, navigate, showError }, namePart) {
    const name = projectFromPart(namePart);
    const [streams, may] = await Promise.all([backend.streams(name), backend.permissions(name)]);
    const parts = [
        h("nav", { class: "breadcrumb", "aria-label": _("Breadcrumb") },
          h("a", { href: projectsHref() }, backend.hasMembers ? _("Projects") : _("Namespaces")), " / ", h("span", null, name || "/")),
    ];
    const actions = [newStreamButton({ backend, navigate }, [name], { preselect: name, id: "project-new-stream", cls: "secondary" })];
    if (backend.kind === "master" && may.deleteProject) {
        actions.push(h("button", { type: "button", class: "danger", id: "delete-project", onclick: async () => {
            if (await confirmDelete({
                title: _("Delete project"),
                what: [nformat("The project {name}, its {n} image stream and its members will be deleted.",
                               "The project {name}, its {n} image streams and its members will be deleted.", streams.length, { name })],
                typeName: name,
                run: () => backend.deleteProject(name),
            }))
                navigate(projectsHref());
        } }, _("Delete")));
    }
    parts.push(h("div", { class: "title-row" }, h("h1", null, name || "/"), h("div", { class: "buttons" }, actions)));

    parts.push(h("section", { class: "card" }, h("h2", null, _("Image streams")),
        streams.length
            ? h("ul", { class: "plain", id: "project-streams" }, streams.map(s => h("li", null, h("a", { href: streamHref(s.project, s.name) }, s.name))))
            : h("p", { class: "empty" }, _("No image streams in this project."))));

    if (backend.hasMembers) {
        const policyBox = h("section", { class: "card", id: "policy" });
        const membersBox = h("section", { class: "card", id: "members" });
        parts.push(policyBox, membersBox);

        const renderPolicy = async () => {
            const policy = await backend.policy(name);
            const change = may.editMembers ? h("button", { type: "button", class: "secondary", id: "change-policy", onclick: async () => {
                if (await dialog({
                    title: _("Access policy"), action: _("Save"),
                    fields: [{ name: "policy", label: _("Who may pull images"), type: "radio", value: policy,
                               options: POLICIES.map(p => [p, policyDescription(p)]) }],
                    run: v => backend.setPolicy(name, v.policy),
                }))
                    renderPolicy().catch(showError);
            } }, _("Change…")) : null;
            replace(policyBox, h("h2", null, _("Access policy")),
                    h("p", { id: "policy-value", dataset: { policy } }, policyBadge(policy), " ",
                      h("span", { class: "muted" }, policyDescription(policy))), change);
        };
        const renderMembers = async () => {
            const members = await backend.members(name);
            const add = !may.editMembers ? null : h("button", { type: "button", class: "secondary", id: "add-member", onclick: async () => {
                if (await dialog({
                    title: _("Add member"), action: _("Add"),
                    fields: [{ name: "user", label: _("User name"), required: true },
                             { name: "role", label: _("Role"), type: "select", value: "registry-viewer",
                               options: ROLES.map(r => [r, roleLabel(r)]) }],
                    run: v => backend.addMember(name, v.user, v.role),
                }))
                    renderMembers().catch(showError);
            } }, _("Add member"));
            replace(membersBox, h("h2", null, _("Members")),
                    members.length
                        ? h("table", { class: "list", id: "member-list" },
                            h("thead", null, h("tr", null, h("th", null, _("Name")), h("th", null, _("Role")), h("th", null, ""))),
                            h("tbody", null, members.map(m => h("tr", { dataset: { member: m.name, role: m.role } },
                                h("td", null, m.name), h("td", null, roleLabel(m.role)),
                                h("td", { class: "actions" }, !may.editMembers ? null : h("button", { type: "button", class: "danger small",
                                    "aria-label": format(_("Remove {user}"), { user: m.name }),
                                    onclick: async () => {
                                        if (await confirmDelete({ title: _("Remove member"),
                                                                  what: [format(_("{user} will lose the role {role} in {project}."), { user: m.name, role: roleLabel(m.role), project: name })],
                                                                  run: () => backend.removeMember(name, m) }))
                                            renderMembers().catch(showError);
                                    } }, _("Remove")))))))
                        : h("p", { class: "empty" }, _("No members.")),
                    add);
        };
        await Promise.all([renderPolicy(), renderMembers()]).catch(showError);
    }
    replace(main, parts);
    return null;
}

function roleLabel(role) {
    return { "registry-admin": _("Admin"), "registry-editor": _("Push"), "registry-viewer": _("Pull") }[role] || role;
}
