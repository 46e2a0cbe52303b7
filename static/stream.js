// stream.js: one repository (image stream): its tags as images (tags on
// one digest together), sortable by version, name, created time and size,
// filtered by text or glob, streamed from the server (registry-tags or
// openshift-images: names first, then a row per tag; the rows on screen
// first), drawn only where visible; pull commands; management (add tag,
// sync, delete stream in OpenShift; delete one image, a selection, or the
// whole repository in a registry), each delete saying what it frees.

import { h, replace } from "./dom.js";
import { _, format, nformat, formatNumber } from "./i18n.js";
import { dialog, confirmDelete } from "./dialogs.js";
import { projectFromPart, imagesHref, streamHref } from "./routes.js";
import { accessHint, commandsBox } from "./commands.js";
import { TagList, Selection, SORTS } from "./taglist.js";
import { tagTable, summaryText, summaryTitle } from "./tagtable.js";
import { tagDeleter } from "./tagdelete.js";

function problemText(e, repo) {
    if (e && e.problem === "access-denied")
        return format(_("You may not read {repository}."), { repository: repo });
    if (e && e.problem === "not-found")
        return format(_("{repository} does not exist."), { repository: repo });
    return (e && e.message) || String(e);
}

// OpenShift: the image stream's own actions (add a tag, sync from a remote
// registry, delete the stream), each only for those who may.
function streamActions({ backend, project, name, may, navigate, refresh, stream, tagCount }) {
    const actions = [];
    if (may.editStream) {
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
                    { name: "mode", label: _("Follow"), type: "radio", value: stream().dockerImageRepository ? "all" : "none",
                      options: [["none", _("Nothing: only pushed images")], ["all", _("All tags of a remote image")],
                                ["tags", _("Named tags of a remote image")]] },
                    { name: "remote", label: _("Remote image"), value: stream().dockerImageRepository, placeholder: "docker.io/library/busybox" },
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
    if (may.deleteStream) {
        actions.push(h("button", { type: "button", class: "danger", id: "delete-stream", onclick: async () => {
            const ok = await confirmDelete({
                title: _("Delete image stream"),
                what: [nformat("The image stream {name} and its {n} tag will be deleted.",
                               "The image stream {name} and its {n} tags will be deleted.", tagCount(),
                               { name: `${project}/${name}` })],
                typeName: name,
                run: () => backend.deleteStream(project, name),
            });
            if (ok)
                navigate(imagesHref());
        } }, _("Delete")));
    }
    return actions;
}

export async function show({ backend, session, params, main, navigate, showError }, projectPart, name) {
    const project = projectFromPart(projectPart);
    const repo = project ? `${project}/${name}` : name;
    const registryHost = session.registry_host || location.hostname;
    const master = backend.kind === "master";
    // what the user may do here (actions and commands only for that) and,
    // in OpenShift, the stream itself: asked while the tags stream in
    const asked = Promise.all([backend.permissions(project, name),
                               master ? backend.stream(project, name) : null]);
    let may = null;             // then the page is up
    let s = null;

    const state = {
        filter: params.get("q") || "",
        sort: SORTS.includes(params.get("sort")) ? params.get("sort") : "version",
        descending: params.get("order") !== "asc",
    };
    let list = new TagList();
    const selection = new Selection();
    let channel = null;
    let complete = false;
    let failure = null;
    let stopped = false;

    /* ---- the page */
    const filterInput = h("input", { id: "tag-filter", type: "search", placeholder: _("Filter tags: text or a glob such as v1.*"),
                                     "aria-label": _("Filter tags") });
    filterInput.value = state.filter;
    const sortSelect = h("select", { id: "tag-sort", "aria-label": _("Sort by") },
                         [["version", _("Version")], ["name", _("Name")], ["created", _("Created")], ["size", _("Size")]]
                             .map(([v, l]) => h("option", { value: v, selected: v === state.sort }, l)));
    const orderButton = h("button", { type: "button", class: "secondary", id: "tag-order" });
    const count = h("span", { class: "count", id: "tag-count", role: "status" });
    let selectAll = null;       // for those who may delete
    const reload = h("button", { type: "button", class: "secondary", id: "reload-tags" }, _("Reload"));
    const summary = h("p", { class: "tag-summary", id: "tag-summary" });
    const progressBar = h("progress", { id: "tag-progress-bar", max: "1", value: "0" });
    const progressText = h("span", null);
    const progress = h("div", { class: "tag-progress", id: "tag-progress", role: "status" }, progressBar, progressText);
    const errors = h("div", { id: "tag-errors" });
    const selectionText = h("span", { id: "selection-count" });
    const deleteSelected = h("button", { type: "button", class: "danger", id: "delete-selected" }, _("Delete selected…"));
    // registry mode: why nothing can be deleted yet (deleter.blocked())
    const deleteNote = h("p", { class: "hint", id: "delete-blocked", hidden: true });
    const clearSelection = h("button", { type: "button", class: "secondary", id: "clear-selection" }, _("Clear selection"));
    const selectionBar = h("div", { class: "selection-bar", id: "selection-bar", hidden: true },
                           selectionText, deleteSelected, clearSelection);
    const emptyBox = h("div", { id: "tags-empty" });
    const commands = h("div", { id: "stream-commands-box" });
    let deleteRepo = null;      // registry mode: every manifest of the repository

    let view = [];
    let viewStamp = "";
    const computeView = () => {
        const stamp = `${list.version}|${state.filter}|${state.sort}|${state.descending}`;
        if (stamp !== viewStamp) {
            view = list.view(state);
            viewStamp = stamp;
        }
        return view;
    };

    /* ---- priority: the tags on screen that are not read yet go first */
    let lastPriority = "";
    let priorityTimer = null;
    const onVisible = entries => {
        if (master || !channel || complete)
            return;
        const tags = entries.filter(e => e.group.pending).map(e => e.group.tags[0]);
        const key = tags.join("\n");
        if (!tags.length || key === lastPriority)
            return;
        clearTimeout(priorityTimer);
        priorityTimer = setTimeout(() => {
            lastPriority = key;
            if (channel)
                channel.control({ command: "priority", tags });
        }, 80);
    };

    let table = null;

    const render = () => {
        if (stopped || !table)
            return;
        const v = computeView();
        const storage = list.storage();
        summary.textContent = list.size || complete ? summaryText(list, storage) : "";
        summary.title = summaryTitle(storage);
        const matchedTags = v.reduce((n, e) => n + e.matched, 0);
        count.textContent = state.filter
            ? format(_("{tags} of {total} match"), {
                tags: nformat("{n} tag", "{n} tags", matchedTags), total: formatNumber(list.size) })
            : "";
        orderButton.textContent = state.descending ? _("Descending") : _("Ascending");
        orderButton.setAttribute("aria-label", state.descending ? _("Descending order: change to ascending")
                                                                 : _("Ascending order: change to descending"));
        if (selectAll)
            selectAll.textContent = state.filter ? _("Select all matching") : _("Select all");
        selection.prune(list);
        const chosen = [...selection.keys].map(k => list.group(k)).filter(Boolean);
        selectionBar.hidden = !chosen.length;
        selectionText.textContent = format(_("{images} selected ({tags})"), {
            images: nformat("{n} image", "{n} images", chosen.length),
            // OpenShift removes the tags picked, a registry every tag of the manifests
            tags: nformat("{n} tag", "{n} tags", master ? selection.picks().reduce((n, p) => n + p.tags.length, 0)
                                                        : chosen.reduce((n, g) => n + g.tags.length, 0)) });
        const blocked = canDelete ? deleter.blocked() : "";
        table.setBlocked(blocked);
        if (selectAll) {
            selectAll.disabled = !!blocked;
            selectAll.title = blocked;
        }
        deleteSelected.disabled = !!blocked;
        deleteSelected.title = blocked;
        // while tags are read the progress bar says why; afterwards, this
        deleteNote.hidden = !blocked || !complete;
        deleteNote.textContent = blocked;
        if (deleteRepo) {
            deleteRepo.disabled = !!blocked || !list.size;
            deleteRepo.title = blocked || _("Every manifest of the repository, after every tag was read");
        }
        const empty = complete && !list.size
            ? h("p", { class: "empty" }, master ? _("This image stream has no tags yet. Push an image to it:")
                                                : _("This repository has no tags. Push an image to it:"))
            : list.size && !v.length ? h("p", { class: "empty" }, _("No tags match the filter.")) : null;
        replace(emptyBox, empty);
        table.element.hidden = !v.length;
        replace(errors, list.errors.map(r => h("p", { class: "tag-error" },
            format(_("Not every tag could be listed: {error}"), { error: r.error || "" }))));
        table.update(v, selection);
    };

    let frame = null;
    let last = 0;
    const scheduleRender = () => {
        if (frame !== null)
            return;
        // while rows stream in, redraw at most every 150 ms
        const wait = Math.max(0, 150 - (performance.now() - last));
        frame = setTimeout(() => requestAnimationFrame(() => {
            frame = null;
            last = performance.now();
            render();
        }), wait);
    };

    const updateUrl = () => {
        const q = new URLSearchParams();
        if (state.filter)
            q.set("q", state.filter);
        if (state.sort !== "version")
            q.set("sort", state.sort);
        if (!state.descending)
            q.set("order", "asc");
        const qs = q.toString();
        history.replaceState(null, "", `${streamHref(project, name)}${qs ? "?" + qs : ""}`);
    };
    filterInput.addEventListener("input", () => {
        if (filterInput.value === state.filter)
            return;
        state.filter = filterInput.value;
        // what is selected is what was shown: a new filter starts afresh
        if (selection.size) {
            selection.clear();
            if (table)
                table.invalidate();
        }
        updateUrl();
        render();
        table.reveal(0);
    });
    sortSelect.addEventListener("change", () => {
        state.sort = sortSelect.value;
        // the newest and the largest first; names and versions as chosen
        updateUrl();
        render();
        table.reveal(0);
    });
    orderButton.addEventListener("click", () => {
        state.descending = !state.descending;
        updateUrl();
        render();
        table.reveal(0);
    });
    clearSelection.addEventListener("click", () => {
        selection.clear();
        table.invalidate();
        render();
    });
    reload.addEventListener("click", () => open({ fresh: true }));

    /* ---- the rows from the server */
    const specTags = () => {
        // OpenShift: tags the stream names without an image (not imported,
        // or an import that failed) get a row of their own at once
        if (!master || !s)
            return;
        for (const t of s.tags)
            if (!t.digest && !list.groupOfTag(t.name))
                list.addRow({ type: "tag", tag: t.name, importError: t.error || "" });
    };
    const importError = row => {
        if (master && s && !row.digest) {
            const t = s.tags.find(x => x.name === row.tag);
            if (t && t.error)
                row.importError = t.error;
        }
        return row;
    };

    // open the channel; swap: keep showing the old list until the new one
    // is complete (live updates in OpenShift), else start afresh
    const open = ({ fresh = false, swap = false } = {}) => {
        // refresh and delete-repository call this after awaits: the user
        // may have left meanwhile
        if (stopped)
            return;
        if (channel)
            channel.close();
        const next = swap ? new TagList() : (list = new TagList());
        if (!swap) {
            complete = false;
            failure = null;
            lastPriority = "";
            progress.hidden = false;
            progressBar.removeAttribute("value");
            progressText.textContent = _("Listing tags…");
            specTags();
            render();
        }
        const mine = backend.tagRows(project, name, {
            row: row => {
                if (row.type === "names") {
                    const first = !next.size;
                    next.addNames(row.names);
                    if (first && !swap)
                        renderCommands();
                } else if (row.type === "tag") {
                    next.addRow(importError(row));
                } else if (row.type === "error") {
                    next.addError(row);
                }
                if (!swap)
                    scheduleRender();
            },
            progress: msg => {
                if (swap || channel !== mine)
                    return;
                const listed = msg.listed || 0, done = msg.done || 0;
                progressBar.max = String(Math.max(listed, 1));
                progressBar.value = String(done);
                progressText.textContent = format(_("Reading tags: {done} of {listed}"),
                                                  { done: formatNumber(done), listed: formatNumber(listed) });
            },
        }, { fresh });
        channel = mine;
        mine.done.then(() => {
            if (channel !== mine)
                return;
            channel = null;
            if (swap)
                list = next;
            specTags();
            complete = true;
            progress.hidden = true;
            render();
            renderCommands();
            // OpenShift: the layers of the stream's images, for its storage
            if (master)
                deleter.loadBlobs([]).then(render, () => null);
        }, e => {
            if (channel !== mine || e.problem === "cancelled")
                return;
            channel = null;
            failure = e;
            progress.hidden = true;
            replace(errors, h("p", { class: "tag-error", id: "tags-failed" }, problemText(e, repo), " ",
                              h("button", { type: "button", class: "secondary small", onclick: () => open() }, _("Retry"))));
            if (e.problem !== "not-found" && e.problem !== "access-denied")
                showError(e);
        });
    };

    // the pull command names the first tag by name (not the sort chosen)
    const firstTag = () => list.names.reduce((a, t) => (a === null || t < a ? t : a), null) || "latest";
    function renderCommands() {
        if (!may || stopped)
            return;
        replace(commands,
                commandsBox({ host: registryHost, repo, ref: firstTag(), push: may.push, id: "stream-commands" }),
                accessHint(may, _("You may pull from this repository but not push to it.")));
    }

    /* ---- deleting */
    const deleter = tagDeleter({
        backend, project, name, list: () => list, complete: () => complete && !failure && !channel,
        deleted: tags => {
            list.removeTags(tags);
            selection.prune(list);
            table.invalidate();
            render();
        },
    });

    // the tags start streaming in at once; the page is built when the
    // user's permissions (and the OpenShift stream) are known
    open();
    try {
        [may, s] = await asked;
    } catch (e) {
        stopped = true;
        if (channel)
            channel.close();
        throw e;
    }
    const canDelete = !!may.deleteImage;
    table = tagTable({
        project, name, selectable: canDelete, deleteTagless: master, onVisible,
        onToggle: (key, shift) => {
            if (deleter.blocked())
                return;
            const i = view.findIndex(e => e.group.key === key);
            selection.click(view, i, shift);
            render();
        },
        onDelete: canDelete ? entry => deleter.one(entry) : null,
    });
    if (canDelete) {
        selectAll = h("button", { type: "button", class: "secondary", id: "select-matching" });
        selectAll.addEventListener("click", () => {
            if (deleter.blocked())
                return;
            selection.selectAll(computeView());
            table.invalidate();
            render();
        });
    }
    deleteSelected.addEventListener("click", () => deleter.selected(selection.picks()));
    const actions = [];
    if (master) {
        // OpenShift: add a tag, sync, delete the stream
        const refresh = async () => {
            try {
                s = await backend.stream(project, name);
                open({ swap: list.size > 0 });
            } catch (e) {
                showError(e);
            }
        };
        actions.push(...streamActions({ backend, project, name, may, navigate, refresh, stream: () => s,
                                        tagCount: () => list.size || s.tags.length }));
    } else if (canDelete) {
        deleteRepo = h("button", { type: "button", class: "danger", id: "delete-repository", disabled: true,
                                   title: _("Every manifest of the repository, after every tag was read") },
                       _("Delete repository…"));
        deleteRepo.addEventListener("click", async () => {
            if (await deleter.repository())
                open({ fresh: true });      // what the registry has now
        });
        actions.push(deleteRepo);
    }

    replace(main,
            h("nav", { class: "breadcrumb", "aria-label": _("Breadcrumb") },
              h("a", { href: imagesHref() }, _("Images")), " / ",
              project ? h("a", { href: imagesHref({ project }) }, project) : null,
              project ? " / " : null, h("span", null, name)),
            h("div", { class: "title-row" }, h("h1", null, repo), h("div", { class: "buttons" }, actions)),
            s && s.dockerImageRepository ? h("p", null, _("Follows"), " ", h("code", null, s.dockerImageRepository)) : null,
            summary, progress,
            h("div", { class: "toolbar tag-toolbar" }, filterInput,
              h("label", { class: "sort" }, h("span", { class: "offscreen" }, _("Sort by")), sortSelect), orderButton,
              count, selectAll, reload),
            deleteNote, selectionBar, errors, emptyBox, table.element, commands);
    specTags();
    render();
    renderCommands();

    let stopWatch = null;
    let watchTimer = null;
    if (master) {
        stopWatch = backend.watchStreams(project, (type, obj) => {
            if (obj.name !== name)
                return;
            if (type === "DELETED") {
                if (channel)
                    channel.close();
                replace(emptyBox, h("p", { class: "empty" }, _("This image stream was deleted.")));
                table.element.hidden = true;
                return;
            }
            if (s && s.raw && obj.raw && s.raw.metadata.resourceVersion === obj.raw.metadata.resourceVersion)
                return;     // the stream as read: nothing new
            s = obj;
            clearTimeout(watchTimer);
            watchTimer = setTimeout(() => open({ swap: list.size > 0 }), 300);
        });
    }
    return () => {
        stopped = true;
        clearTimeout(priorityTimer);
        clearTimeout(watchTimer);
        if (frame !== null)
            clearTimeout(frame);
        if (channel)
            channel.close();
        channel = null;
        table.destroy();
        if (stopWatch)
            stopWatch();
    };
}
