// overview.js: recent images, projects with their access policy, quick
// actions (new project, new image stream) and the login/pull/push commands,
// each shown only to a user who may use it.

import { h, replace, urlRoot } from "./dom.js";
import { _, relativeTime, format } from "./i18n.js";
import { imagesHref, streamHref, projectHref, untaggedHref } from "./routes.js";
import { authorName } from "./format.js";
import { accessHint, commandsBox } from "./commands.js";
import { newProjectButton, newStreamButton, policyBadge } from "./actions.js";
import { storageCard } from "./storage.js";

// The session's OAuth token, for the login command (OpenShift).
async function sessionToken() {
    const r = await fetch(urlRoot() + "/cockpit/token", { method: "POST", credentials: "same-origin" });
    if (!r.ok)
        throw new Error(`${r.status} ${r.statusText}`);
    return (await r.json()).token;
}

export async function show(ctx) {
    const { backend, session, main } = ctx;
    const registryHost = session.registry_host || location.hostname;
    const [projects, streams] = await Promise.all([backend.projects(), backend.streams()]);

    let recent = [];
    if (backend.kind === "master") {
        for (const s of streams)
            for (const t of s.tags)
                if (t.created)
                    recent.push({ project: s.project, stream: s.name, tag: t.name, digest: t.digest,
                                  created: t.created, author: "" });
        recent.sort((a, b) => b.created.localeCompare(a.created));
        recent = recent.slice(0, 10);
        // OpenShift records no pusher on a tag: the image's author is who
        // the image says made it (empty when it does not say).
        // One request per image, however many tags point at it.
        const authors = new Map();
        for (const r of recent)
            if (r.digest && !authors.has(r.digest))
                authors.set(r.digest, backend.image(r.project, r.stream, r.digest).then(i => i.author, () => ""));
        for (const r of recent)
            r.author = r.digest ? await authors.get(r.digest) : "";
    }

    const project = (projects[0] && projects[0].name) || "myproject";
    const commands = h("div", { class: "commands" });
    const projectSelect = h("select", { id: "cmd-project", "aria-label": _("Project") },
                            projects.map(p => h("option", { value: p.name }, p.name || "/")));
    let shown = 0;
    const renderCommands = async () => {
        const p = projectSelect.value || project;
        const mine = ++shown;
        // push only for those who may push in that project
        const first = streams.find(s => s.project === p);
        const may = await backend.permissions(p, first ? first.name : null).catch(() => null);
        if (mine !== shown)
            return;
        replace(commands, commandsBox({
            host: registryHost, repo: `${p ? p + "/" : ""}IMAGE`, ref: "TAG", push: !may || may.push, id: "overview-commands",
            login: { kind: backend.kind, user: session.user, getToken: backend.kind === "master" ? sessionToken : null },
        }), accessHint(may, format(_("You may pull from {project} but not push to it."), { project: p || "/" })));
    };
    projectSelect.addEventListener("change", () => renderCommands());
    await renderCommands();

    // a project's access policy, filled in as it comes (OpenShift)
    const policies = new Map();
    if (backend.hasMembers) {
        for (const p of projects) {
            const slot = h("span", { class: "policy-slot" });
            policies.set(p.name, slot);
            backend.policy(p.name).then(policy => replace(slot, policyBadge(policy)), () => null);
        }
    }
    const [newProject, cluster] = await Promise.all([
        newProjectButton(ctx, { id: "overview-new-project", cls: "secondary" }),
        backend.clusterPermissions(),
    ]);
    const newStream = newStreamButton(ctx, projects.map(p => p.name), { id: "overview-new-stream", cls: "secondary" });
    const untagged = cluster.listImages
        ? h("p", null, h("a", { href: untaggedHref(), id: "overview-untagged" }, _("Untagged images (what pruning would remove)")))
        : null;

    const recentList = backend.kind === "master"
        ? (recent.length
            ? h("table", { class: "list", id: "recent-images" },
                h("thead", null, h("tr", null, h("th", null, _("Image")), h("th", null, _("Tag")), h("th", null, _("Pushed")),
                                         h("th", null, _("Author")))),
                h("tbody", null, recent.map(r => h("tr", null,
                    h("td", null, h("a", { href: streamHref(r.project, r.stream) }, `${r.project}/${r.stream}`)),
                    h("td", null, r.tag),
                    h("td", { title: r.created, class: "nowrap" }, relativeTime(r.created)),
                    h("td", { class: "author", title: r.author }, authorName(r.author) || "—")))))
            : h("p", { class: "empty" }, _("No images have been pushed yet.")))
        : (streams.length
            ? h("ul", { class: "plain", id: "recent-images" }, streams.slice(0, 10).map(s =>
                h("li", null, h("a", { href: streamHref(s.project, s.name) }, s.repository || `${s.project}/${s.name}`))))
            : h("p", { class: "empty" }, _("The registry has no images yet.")));

    // the largest repositories (projects), every blob counted once
    const storage = storageCard(backend, streams);
    replace(main,
            h("h1", null, _("Overview")),
            h("div", { class: "columns" },
              h("section", { class: "card recent" },
                h("h2", null, backend.kind === "master" ? _("Images pushed recently") : _("Images")),
                recentList,
                h("p", null, h("a", { href: imagesHref() }, format(_("All images ({n})"), { n: streams.length })))),
              h("section", { class: "card", id: "overview-projects-card" },
                h("div", { class: "title-row" },
                  h("h2", null, backend.hasMembers ? _("Projects") : _("Namespaces")),
                  h("div", { class: "buttons" }, newProject, newStream)),
                projects.length
                    ? h("ul", { class: "plain", id: "overview-projects" }, projects.map(p => h("li", { dataset: { project: p.name } },
                        h("a", { href: projectHref(p.name) }, p.name || "/"),
                        p.displayName ? h("span", { class: "muted" }, " ", p.displayName) : null,
                        policies.get(p.name))))
                    : h("p", { class: "empty" }, _("No projects.")),
                untagged),
              storage.node,
              h("section", { class: "card wide" },
                h("h2", null, _("Commands")),
                h("label", { for: "cmd-project" }, backend.hasMembers ? _("Project") : _("Namespace"), " "), projectSelect,
                commands)));
    return storage.stop;
}
