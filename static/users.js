// users.js: users and groups of the OpenShift master (user.openshift.io):
// the lists, one user (identities, groups), one group (members); create and
// delete groups, add and remove members: each action shown only to a user
// the master lets do it (SelfSubjectAccessReview).

import { h, replace } from "./dom.js";
import { _, format, nformat, relativeTime } from "./i18n.js";
import { dialog, confirmDelete } from "./dialogs.js";
import { usersHref, userHref, groupHref } from "./routes.js";

function breadcrumb(...items) {
    return h("nav", { class: "breadcrumb", "aria-label": _("Breadcrumb") },
             h("a", { href: usersHref() }, _("Users and groups")), items.map(i => [" / ", h("span", null, i)]));
}

// The groups a user is in, from the groups (User.groups is deprecated).
function groupsOf(groups, user) {
    return groups.filter(g => g.users.includes(user)).map(g => g.name);
}

function errorBox(e) {
    return h("p", { class: "empty" }, e.status === 403 ? _("You may not see these.") : (e.message || String(e)));
}

async function groupDialog(backend) {
    return dialog({
        title: _("New group"), action: _("Create"),
        fields: [{ name: "name", label: _("Name"), required: true, pattern: "[^/%:\\s][^/%\\s]*",
                   patternHelp: _("no spaces, '/' or '%'") }],
        run: v => backend.createGroup(v.name).then(() => v),
    });
}

export async function show({ backend, main, navigate }) {
    const may = await backend.clusterPermissions();
    const [users, groups] = await Promise.all([
        backend.users().catch(e => e),
        backend.groups().catch(e => e),
    ]);
    const userList = users instanceof Error ? errorBox(users)
        : users.length ? h("table", { class: "list", id: "user-list" },
            h("thead", null, h("tr", null, h("th", null, _("Name")), h("th", null, _("Full name")),
                                h("th", null, _("Identities")), h("th", null, _("Groups")))),
            h("tbody", null, users.map(u => h("tr", { dataset: { user: u.name } },
                h("td", null, h("a", { href: userHref(u.name) }, u.name)),
                h("td", null, u.fullName),
                h("td", null, u.identities.map(i => h("div", null, h("code", null, i)))),
                h("td", { class: "user-groups" }, groups instanceof Error ? "" : groupsOf(groups, u.name).map(g =>
                    h("a", { href: groupHref(g), class: "tag" }, g)))))))
        : h("p", { class: "empty" }, _("No users."));

    const newGroup = may.createGroup
        ? h("button", { type: "button", class: "secondary", id: "create-group", onclick: async () => {
            const r = await groupDialog(backend);
            if (r)
                navigate(groupHref(r.name));
        } }, _("New group"))
        : null;
    const groupList = groups instanceof Error ? errorBox(groups)
        : groups.length ? h("table", { class: "list", id: "group-list" },
            h("thead", null, h("tr", null, h("th", null, _("Name")), h("th", null, _("Members")),
                                h("th", null, _("Created")))),
            h("tbody", null, groups.map(g => h("tr", { dataset: { group: g.name } },
                h("td", null, h("a", { href: groupHref(g.name) }, g.name)),
                h("td", { class: "members" }, nformat("{n} member", "{n} members", g.users.length)),
                h("td", { title: g.created }, g.created ? relativeTime(g.created) : "")))))
        : h("p", { class: "empty" }, _("No groups."));

    replace(main,
            h("h1", null, _("Users and groups")),
            h("div", { class: "columns" },
              h("section", { class: "card", id: "users" },
                h("h2", null, users instanceof Error ? _("Users") : nformat("{n} user", "{n} users", users.length)),
                userList),
              h("section", { class: "card", id: "groups" },
                h("div", { class: "title-row" },
                  h("h2", null, groups instanceof Error ? _("Groups") : nformat("{n} group", "{n} groups", groups.length)),
                  newGroup),
                groupList)));
    return null;
}

export async function showUser({ backend, main, showError }, name) {
    const may = await backend.clusterPermissions();
    const [user, groups] = await Promise.all([backend.user(name), backend.groups().catch(() => null)]);
    const identities = await Promise.all(user.identities.map(i => backend.identity(i).catch(() => ({ name: i }))));
    const box = h("section", { class: "card", id: "user-groups" });
    const render = async () => {
        const all = await backend.groups();
        const mine = groupsOf(all, name);
        const others = all.map(g => g.name).filter(g => !mine.includes(g));
        const add = may.editGroups && others.length
            ? h("button", { type: "button", class: "secondary", id: "add-to-group", onclick: async () => {
                if (await dialog({
                    title: format(_("Add {user} to a group"), { user: name }), action: _("Add"),
                    fields: [{ name: "group", label: _("Group"), type: "select", value: others[0],
                               options: others.map(g => [g, g]) }],
                    run: v => backend.addGroupMember(v.group, name),
                }))
                    render().catch(showError);
            } }, _("Add to group…"))
            : null;
        replace(box, h("h2", null, _("Groups")),
                mine.length
                    ? h("ul", { class: "plain", id: "user-group-list" }, mine.map(g => h("li", { dataset: { group: g } },
                        h("a", { href: groupHref(g) }, g),
                        may.editGroups ? [" ", h("button", { type: "button", class: "danger small",
                            "aria-label": format(_("Remove {user} from {group}"), { user: name, group: g }),
                            onclick: async () => {
                                if (await confirmDelete({ title: _("Remove from group"), action: _("Remove"),
                                                          what: [format(_("{user} will no longer be a member of {group}, and lose the roles the group has."), { user: name, group: g })],
                                                          run: () => backend.removeGroupMember(g, name) }))
                                    render().catch(showError);
                            } }, _("Remove"))] : null)))
                    : h("p", { class: "empty" }, _("Not in any group.")),
                add);
    };
    if (groups)
        await render();
    else
        replace(box, h("h2", null, _("Groups")), h("p", { class: "empty" }, _("You may not see these.")));
    replace(main,
            breadcrumb(name),
            h("h1", null, name),
            h("div", { class: "columns" },
              h("section", { class: "card", id: "user-details" },
                h("h2", null, _("User")),
                h("dl", { class: "props" },
                  h("dt", null, _("Full name")), h("dd", { id: "user-fullname" }, user.fullName || "—"),
                  h("dt", null, _("Created")), h("dd", { title: user.created }, user.created ? relativeTime(user.created) : "")),
                h("h3", null, _("Identities")),
                identities.length
                    ? h("table", { class: "list", id: "user-identities" },
                        h("thead", null, h("tr", null, h("th", null, _("Identity")), h("th", null, _("Provider")),
                                           h("th", null, _("User name at the provider")))),
                        h("tbody", null, identities.map(i => h("tr", null, h("td", null, h("code", null, i.name)),
                                                                 h("td", null, i.provider || ""), h("td", null, i.providerUserName || "")))))
                    : h("p", { class: "empty" }, _("No identities."))),
              box));
    return null;
}

export async function showGroup({ backend, main, navigate, showError }, name) {
    const may = await backend.clusterPermissions();
    const users = may.listUsers ? await backend.users().catch(() => []) : [];
    const box = h("section", { class: "card", id: "group-members" });
    let group = await backend.group(name);
    const render = () => {
        const known = h("datalist", { id: "known-users" },
                        users.filter(u => !group.users.includes(u.name)).map(u => h("option", { value: u.name })));
        const add = may.editGroups
            ? h("button", { type: "button", class: "secondary", id: "add-group-member", onclick: async () => {
                if (await dialog({
                    title: format(_("Add a member to {group}"), { group: name }), action: _("Add"),
                    fields: [{ name: "user", label: _("User name"), required: true, list: "known-users" }],
                    run: v => backend.addGroupMember(name, v.user),
                }))
                    refresh();
            } }, _("Add member"))
            : null;
        replace(box, h("h2", null, nformat("{n} member", "{n} members", group.users.length)),
                group.users.length
                    ? h("table", { class: "list", id: "group-member-list" },
                        h("tbody", null, group.users.map(u => h("tr", { dataset: { member: u } },
                            h("td", null, h("a", { href: userHref(u) }, u)),
                            h("td", { class: "actions" }, may.editGroups ? h("button", {
                                type: "button", class: "danger small",
                                "aria-label": format(_("Remove {user} from {group}"), { user: u, group: name }),
                                onclick: async () => {
                                    if (await confirmDelete({ title: _("Remove member"), action: _("Remove"),
                                                              what: [format(_("{user} will no longer be a member of {group}, and lose the roles the group has."), { user: u, group: name })],
                                                              run: () => backend.removeGroupMember(name, u) }))
                                        refresh();
                                } }, _("Remove")) : null)))))
                    : h("p", { class: "empty" }, _("This group has no members.")),
                add, known);
    };
    const refresh = async () => {
        try {
            group = await backend.group(name);
            render();
        } catch (e) {
            showError(e);
        }
    };
    const del = may.deleteGroup
        ? h("button", { type: "button", class: "danger", id: "delete-group", onclick: async () => {
            if (await confirmDelete({
                title: _("Delete group"),
                what: [nformat("The group {name} will be deleted; its {n} member loses the roles the group has.",
                               "The group {name} will be deleted; its {n} members lose the roles the group has.",
                               group.users.length, { name })],
                typeName: name,
                run: () => backend.deleteGroup(name),
            }))
                navigate(usersHref());
        } }, _("Delete"))
        : null;
    render();
    replace(main,
            breadcrumb(name),
            h("div", { class: "title-row" }, h("h1", null, name), h("div", { class: "buttons" }, del)),
            h("p", { class: "muted" }, group.created ? format(_("Created {when}"), { when: relativeTime(group.created) }) : ""),
            box);
    return null;
}
