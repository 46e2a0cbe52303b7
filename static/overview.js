// overview.js: recent images, projects, login/pull/push commands.

import { h, replace, urlRoot } from "./dom.js";
import { _, relativeTime, format } from "./i18n.js";
import { imagesHref, streamHref, projectHref } from "./routes.js";
import { authorName, command, loginCommand, pullCommand, pushCommands } from "./format.js";

export async function show({ backend, session, main }) {
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
    const renderCommands = (token) => {
        const p = projectSelect.value || project;
        const repo = `${p ? p + "/" : ""}IMAGE`;
        replace(commands,
                h("h3", null, _("Log into the registry")),
                command(loginCommand({ kind: backend.kind, host: registryHost, user: session.user, token })),
                backend.kind === "master" && !token
                    ? h("button", { type: "button", class: "link", id: "show-token", onclick: async () => {
                        const r = await fetch(urlRoot() + "/cockpit/token", { method: "POST", credentials: "same-origin" });
                        if (r.ok)
                            renderCommands((await r.json()).token);
                    } }, _("Show login command with token"))
                    : null,
                h("p", { class: "hint" }, _("podman works the same way: podman login, podman pull, podman push.")),
                h("h3", null, _("Pull an image")), command(pullCommand(registryHost, repo, "TAG")),
                h("h3", null, _("Push an image")),
                pushCommands(registryHost, repo).map(command));
    };
    projectSelect.addEventListener("change", () => renderCommands(null));
    renderCommands(null);

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

    replace(main,
            h("h1", null, _("Overview")),
            h("div", { class: "columns" },
              h("section", { class: "card recent" },
                h("h2", null, backend.kind === "master" ? _("Images pushed recently") : _("Images")),
                recentList,
                h("p", null, h("a", { href: imagesHref() }, format(_("All images ({n})"), { n: streams.length })))),
              h("section", { class: "card" },
                h("h2", null, backend.hasMembers ? _("Projects") : _("Namespaces")),
                projects.length
                    ? h("ul", { class: "plain", id: "overview-projects" }, projects.map(p => h("li", null,
                        h("a", { href: projectHref(p.name) }, p.name || "/"))))
                    : h("p", { class: "empty" }, _("No projects."))),
              h("section", { class: "card wide" },
                h("h2", null, _("Commands")),
                h("label", { for: "cmd-project" }, _("Project"), " "), projectSelect,
                commands)));
    return null;
}
