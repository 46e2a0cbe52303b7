// stream.js: one image stream: its tags, pull commands and management
// (add/remove tag, sync from a remote registry, delete).

import { h, replace } from "./dom.js";
import { _, relativeTime, formatSize, format, nformat } from "./i18n.js";
import { dialog, confirmDelete } from "./dialogs.js";
import { projectFromPart, imagesHref, imageHref } from "./routes.js";
import { shortDigest } from "./format.js";
import { commandsBox } from "./commands.js";

export async function show({ backend, session, main, navigate, showError }, projectPart, name) {
    const project = projectFromPart(projectPart);
    const repo = project ? `${project}/${name}` : name;
    const registryHost = session.registry_host || location.hostname;
    let s;
    // what the user may do here: actions and commands only for that
    const asked = backend.permissions(project, name);
    let may = null;

    const tagsBox = h("div", { id: "tags" });
    const render = () => {
        const actions = [];
        if (backend.kind === "master" && may.editStream) {
            actions.push(h("button", { type: "button", class: "secondary", id: "add-tag", onclick: async () => {
                const r = await dialog({
                    title: _("Add tag"), action: _("Add"),
                    fields: [{ name: "tag", label: _("Tag"), required: true, pattern: "[\\w][\\w.-]{0,127}" },
                             { name: "from", label: _("From image"), required: true, placeholder: "docker.io/library/busybox:latest" }],
                    run: v => backend.addTag(project, name, v.tag, v.from),
                });
                if (r)
                    refresh();
            } }, _("Add tag")));
            actions.push(h("button", { type: "button", class: "secondary", id: "edit-sync", onclick: async () => {
                const r = await dialog({
                    title: _("Sync from a remote registry"), action: _("Save"),
                    fields: [
                        { name: "mode", label: _("Follow"), type: "radio", value: s.dockerImageRepository ? "all" : "none",
                          options: [["none", _("Nothing: only pushed images")], ["all", _("All tags of a remote image")],
                                    ["tags", _("Named tags of a remote image")]] },
                        { name: "remote", label: _("Remote image"), value: s.dockerImageRepository, placeholder: "docker.io/library/busybox" },
                        { name: "tags", label: _("Tags (space separated)"), value: "" },
                    ],
                    run: v => {
                        if (v.mode !== "none" && !v.remote)
                            throw new Error(_("Remote image is required"));
                        return backend.setSync(project, name, v.mode, v.remote, v.tags.split(/\s+/).filter(Boolean));
                    },
                });
                if (r)
                    refresh();
            } }, _("Sync…")));
        }
        if (backend.kind === "master" && may.deleteStream) {
            actions.push(h("button", { type: "button", class: "danger", id: "delete-stream", onclick: async () => {
                const ok = await confirmDelete({
                    title: _("Delete image stream"),
                    what: [nformat("The image stream {name} and its {n} tag will be deleted.",
                                    "The image stream {name} and its {n} tags will be deleted.", s.tags.length, { name: repo })],
                    typeName: name,
                    run: () => backend.deleteStream(project, name),
                });
                if (ok)
                    navigate(imagesHref());
            } }, _("Delete")));
        }

        const rows = (s.tags || []).map(t => {
            const href = imageHref(project, name, t.digest || t.name);
            const cells = [
                h("td", null, h("a", { href: imageHref(project, name, t.name), class: "tag-link" }, t.name),
                  t.multiarch ? h("span", { class: "badge" }, _("multi-arch")) : null),
                h("td", null, t.digest ? h("a", { href, class: "digest", title: t.digest }, shortDigest(t.digest))
                                        : h("span", { class: t.error ? "tag-error" : "muted" }, t.error || _("not yet imported"))),
                h("td", { title: t.created || "" }, t.created ? relativeTime(t.created) : ""),
                h("td", null, t.size ? formatSize(t.size) : ""),
            ];
            const del = h("button", { type: "button", class: "danger small", "aria-label": format(_("Delete {what}"), { what: `${repo}:${t.name}` }) },
                          _("Delete"));
            if (backend.kind === "master") {
                del.addEventListener("click", async () => {
                    if (await confirmDelete({ title: _("Remove tag"),
                                              what: [format(_("The tag {tag} will be removed from {name}. The image stays in the registry until it is pruned."), { tag: t.name, name: repo })],
                                              run: () => backend.removeTag(project, name, t.name) }))
                        refresh();
                });
            } else {
                del.disabled = !t.digest;
                del.addEventListener("click", async () => {
                    const others = s.tags.filter(x => x.digest === t.digest && x.name !== t.name).map(x => x.name);
                    const what = [format(_("The manifest {digest} will be deleted from {name}."), { digest: t.digest, name: repo })];
                    what.push(others.length
                        ? format(_("Tags that point at it and will go too: {tags}"), { tags: [t.name, ...others].join(", ") })
                        : format(_("The tag {tag} will go with it."), { tag: t.name }));
                    if (await confirmDelete({ title: _("Delete image manifest"), what, typeName: shortDigest(t.digest),
                                              run: () => backend.deleteManifest(project, name, t.digest) }))
                        refresh();
                });
            }
            cells.push(h("td", { class: "actions" }, may.deleteImage ? del : null));
            return h("tr", { dataset: { tag: t.name } }, cells);
        });

        replace(tagsBox,
                rows.length
                    ? h("table", { class: "list" },
                        h("thead", null, h("tr", null, h("th", null, _("Tag")), h("th", null, _("Digest")),
                                           h("th", null, _("Created")), h("th", null, _("Size")), h("th", null, ""))),
                        h("tbody", null, rows))
                    : h("p", { class: "empty" }, _("This image stream has no tags yet. Push an image to it:")),
                commandsBox({ host: registryHost, repo, ref: (s.tags[0] && s.tags[0].name) || "latest", push: may.push,
                              id: "stream-commands" }),
                may.known && !may.push
                    ? h("p", { class: "hint", id: "no-push-hint" }, _("You may pull from this repository but not push to it."))
                    : null);
        replace(main,
                h("nav", { class: "breadcrumb", "aria-label": _("Breadcrumb") },
                  h("a", { href: imagesHref() }, _("Images")), " / ",
                  project ? h("a", { href: imagesHref({ project }) }, project) : null,
                  project ? " / " : null, h("span", null, name)),
                h("div", { class: "title-row" }, h("h1", null, repo), h("div", { class: "buttons" }, actions)),
                s.dockerImageRepository ? h("p", null, _("Follows"), " ", h("code", null, s.dockerImageRepository)) : null,
                tagsBox);
    };

    const refresh = async () => {
        try {
            s = await backend.stream(project, name);
            render();
            if (backend.tagSizes)
                backend.tagSizes(s).then(render, () => null);
        } catch (e) {
            showError(e);
        }
    };
    s = await backend.stream(project, name);
    may = await asked;
    render();
    const sizes = () => {
        if (backend.tagSizes)
            backend.tagSizes(s).then(render, () => null);
    };
    sizes();

    if (backend.kind === "master") {
        return backend.watchStreams(project, (type, obj) => {
            if (obj.name !== name)
                return;
            if (type === "DELETED") {
                replace(tagsBox, h("p", { class: "empty" }, _("This image stream was deleted.")));
                return;
            }
            s = obj;
            render();
            sizes();
        });
    }
    return null;
}
