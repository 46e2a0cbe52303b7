// storage.js: how much storage repositories (registry) or projects
// (OpenShift) take, every blob (layer, config) counted once however many
// tags use it, and how much of that other repositories or projects share.
// storageCard() shows it on the overview. The backend comes in as an
// argument (registry: summaryRows, blobRows, imageBlobs; OpenShift:
// imageBlobs); imports only leaf modules, touches nothing at import time.
//
// Registry: the sizes are registry-summary's (every distinct blob of a
// repository once). What is shared needs each blob's size: the manifests
// of the images compared are read (once per digest, at most MANIFESTS_MAX
// a view), so it is computed between every repository of a registry of at
// most COMPARE_MAX repositories, else between the TOP largest only.

import { h, replace } from "./dom.js";
import { _, format, formatSize, formatNumber } from "./i18n.js";
import { streamHref, imagesHref, projectHref } from "./routes.js";

export const SUMMARY_MAX = 500;     // repositories summed up on the overview
export const COMPARE_MAX = 50;      // repositories whose blobs are compared
export const TOP = 10;              // largest shown
export const MANIFESTS_MAX = 400;   // image manifests read for the comparison
export const IMAGES_MAX = 1000;     // OpenShift: Image objects read

// A cancellable run: streams opened through it are closed by stop().
export function run() {
    const streams = new Set();
    return {
        stopped: false,
        track(stream) {
            streams.add(stream);
            stream.done.then(() => streams.delete(stream), () => streams.delete(stream));
            return stream;
        },
        stop() {
            this.stopped = true;
            for (const s of streams)
                s.close();
            streams.clear();
        },
    };
}

// For each group (name → list of blob lists [[digest, size], …]): its
// distinct size and the part of it any other group also uses.
export function shareOf(groups) {
    const users = new Map();            // digest → number of groups using it
    const sets = new Map();
    for (const [name, lists] of groups) {
        const set = new Map();
        for (const list of lists)
            for (const [d, n] of list)
                set.set(d, n);
        sets.set(name, set);
        for (const d of set.keys())
            users.set(d, (users.get(d) || 0) + 1);
    }
    const out = new Map();
    let total = 0;
    const all = new Map();
    for (const [name, set] of sets) {
        let size = 0, shared = 0;
        for (const [d, n] of set) {
            size += n;
            if (users.get(d) > 1)
                shared += n;
            all.set(d, n);
        }
        out.set(name, { size, shared });
    }
    for (const n of all.values())
        total += n;
    return { groups: out, total };
}

// Registry mode. NAMES: every repository. update(state) is called as it
// goes: {tooMany, total, repos: [{repository, tags, size, partial, shared,
// error}] (largest first), compared: "all" | "top" | null, distinct,
// incomplete}.
export async function registryStorage(backend, names, update, r = run()) {
    const state = { tooMany: names.length > SUMMARY_MAX, total: names.length, repos: [], compared: null,
                    distinct: undefined, incomplete: false };
    if (state.tooMany || !names.length) {
        update(state);
        return state;
    }
    const rows = new Map();
    await r.track(backend.summaryRows(names.slice(0, SUMMARY_MAX), {
        row: row => {
            if (row.type === "repository")
                rows.set(row.repository, row);
        },
    })).done;
    if (r.stopped)
        return state;
    const sized = [...rows.values()].filter(x => typeof x.size === "number")
        .sort((a, b) => b.size - a.size || (a.repository < b.repository ? -1 : 1));
    state.repos = sized.slice(0, TOP).map(x => ({ repository: x.repository, tags: x.tags, size: x.size }));
    state.unsized = rows.size - sized.length;
    update(state);

    // what is shared: the blobs of each image of the repositories compared
    const compare = names.length <= COMPARE_MAX ? sized.map(x => x.repository) : state.repos.map(x => x.repository);
    state.compared = names.length <= COMPARE_MAX && !state.unsized ? "all" : "top";
    const groups = new Map();
    let manifests = 0;
    for (const repository of compare) {
        const digests = new Set();
        await r.track(backend.blobRows(repository, {
            row: row => {
                if (row.type !== "tag" || !row.digest)
                    return;
                if (Array.isArray(row.platforms) && row.platforms.length) {
                    for (const p of row.platforms)
                        if (p.digest && !p.error)
                            digests.add(p.digest);
                } else {
                    digests.add(row.digest);
                }
            },
        })).done.catch(() => null);
        if (r.stopped)
            return state;
        const wanted = [...digests].sort();
        if (manifests + wanted.length > MANIFESTS_MAX) {
            state.incomplete = true;
            break;
        }
        manifests += wanted.length;
        groups.set(repository, await Promise.all(wanted.map(d => backend.imageBlobs(repository, d).catch(() => {
            state.incomplete = true;
            return [];
        }))));
        if (r.stopped)
            return state;
    }
    const { groups: share, total } = shareOf(groups);
    for (const x of state.repos) {
        const s = share.get(x.repository);
        if (s && !state.incomplete)
            x.shared = s.shared;
    }
    if (!state.incomplete && state.compared === "all")
        state.distinct = total;
    update(state);
    return state;
}

// OpenShift mode: per project, the distinct blobs of the images its image
// streams' tags point at, and the part other projects use too. STREAMS:
// backend.streams(). update(state): {projects: [{project, streams, size,
// shared}] (largest first), distinct, incomplete}.
export async function projectStorage(backend, streams, update, r = run()) {
    const state = { projects: [], distinct: undefined, incomplete: false, pending: true };
    const byProject = new Map();
    for (const s of streams) {
        const p = byProject.get(s.project) || { streams: 0, digests: new Set() };
        p.streams++;
        for (const t of s.tags || [])
            if (t.digest)
                p.digests.add(t.digest);
        byProject.set(s.project, p);
    }
    const digests = [...new Set([...byProject.values()].flatMap(p => [...p.digests]))].sort();
    if (digests.length > IMAGES_MAX)
        state.incomplete = true;
    const blobs = new Map(await Promise.all(digests.slice(0, IMAGES_MAX).map(async d =>
        [d, await backend.imageBlobs(d).catch(() => { state.incomplete = true; return []; })])));
    if (r.stopped)
        return state;
    const groups = new Map();
    for (const [project, p] of byProject)
        groups.set(project, [...p.digests].filter(d => blobs.has(d)).map(d => blobs.get(d)));
    const { groups: share, total } = shareOf(groups);
    state.projects = [...byProject].map(([project, p]) => ({ project, streams: p.streams, ...share.get(project) }))
        .sort((a, b) => b.size - a.size || (a.project < b.project ? -1 : 1));
    state.distinct = state.incomplete ? undefined : total;
    state.pending = false;
    update(state);
    return state;
}


function splitName(repository) {
    const i = repository.lastIndexOf("/");
    return i < 0 ? ["", repository] : [repository.substring(0, i), repository.substring(i + 1)];
}

const sizeCell = (bytes, cls) => h("td", { class: `nowrap ${cls}`, dataset: bytes === undefined ? null : { bytes: String(bytes) } },
                                   bytes === undefined ? "…" : formatSize(bytes));

function registryTable(state) {
    if (state.tooMany)
        return [h("p", { id: "storage-too-many" },
                  format(_("The registry has {n} repositories: too many to add up here."), { n: formatNumber(state.total) }), " ",
                  h("a", { href: imagesHref({ sort: "size" }), id: "storage-sorted-link" }, _("List them by size")))];
    if (!state.repos.length)
        return [h("p", { class: "empty" }, state.summed ? _("No repository has a size yet.") : _("Adding up sizes…"))];
    const sharedHead = state.compared === "all" ? _("Shared with other repositories") : _("Shared with the others listed");
    return [
        h("table", { class: "list", id: "storage-list" },
          h("thead", null, h("tr", null, h("th", null, _("Repository")), h("th", null, _("Tags")),
                                h("th", null, _("Size")), h("th", null, sharedHead))),
          h("tbody", null, state.repos.map(x => {
              const [project, name] = splitName(x.repository);
              return h("tr", { dataset: { repository: x.repository } },
                       h("td", null, h("a", { href: streamHref(project, name) }, x.repository)),
                       h("td", { class: "ntags" }, typeof x.tags === "number" ? formatNumber(x.tags) : ""),
                       sizeCell(x.size, "size"),
                       x.shared === undefined && state.done
                           ? h("td", { class: "shared", title: _("Too many images to compare here") }, "—")
                           : sizeCell(x.shared, "shared"));
          }))),
        h("p", { class: "hint" },
          _("Sizes count each layer and config once per repository, however many of its tags use it. Shared: the part that other repositories use as well (the registry stores it once)."),
          state.distinct !== undefined
              ? [" ", h("span", { id: "storage-distinct", dataset: { bytes: String(state.distinct) } },
                        format(_("All repositories together: {size}."), { size: formatSize(state.distinct) }))]
              : null),
        h("p", null, h("a", { href: imagesHref({ sort: "size" }), id: "storage-sorted-link" }, _("All repositories by size"))),
    ];
}

function projectTable(state) {
    if (state.pending)
        return [h("p", { class: "empty" }, _("Adding up sizes…"))];
    if (!state.projects.length)
        return [h("p", { class: "empty" }, _("No images yet."))];
    return [
        h("table", { class: "list", id: "storage-list" },
          h("thead", null, h("tr", null, h("th", null, _("Project")), h("th", null, _("Image streams")),
                                h("th", null, _("Size")), h("th", null, _("Shared with other projects")))),
          h("tbody", null, state.projects.slice(0, TOP).map(x => h("tr", { dataset: { project: x.project } },
              h("td", null, h("a", { href: projectHref(x.project) }, x.project || "/")),
              h("td", null, formatNumber(x.streams)),
              sizeCell(x.size, "size"), sizeCell(x.shared, "shared"))))),
        h("p", { class: "hint" },
          _("Sizes count each layer and config of a project's tagged images once, however many of its tags use it. Shared: the part that other projects use as well."),
          state.incomplete ? [" ", _("Only some images could be read: the figures are incomplete.")] : null,
          state.distinct !== undefined
              ? [" ", h("span", { id: "storage-distinct", dataset: { bytes: String(state.distinct) } },
                        format(_("All projects together: {size}."), { size: formatSize(state.distinct) }))]
              : null),
    ];
}

// The overview's storage card: {node, stop}. STREAMS: backend.streams().
export function storageCard(backend, streams) {
    const r = run();
    const body = h("div", { id: "storage-body" }, h("p", { class: "empty" }, _("Adding up sizes…")));
    const node = h("section", { class: "card wide", id: "storage-card" },
                   h("h2", null, backend.kind === "registry" ? _("Largest repositories") : _("Storage by project")), body);
    const fail = e => {
        if (!r.stopped)
            replace(body, h("p", { class: "tag-error" }, format(_("Sizes could not be read: {error}"), { error: e.message || e.problem })));
    };
    if (backend.kind === "registry") {
        const names = streams.map(s => s.repository || (s.project ? `${s.project}/${s.name}` : s.name));
        registryStorage(backend, names, state => {
            if (!r.stopped) {
                state.summed = true;
                replace(body, registryTable(state));
            }
        }, r).then(state => {
            if (!r.stopped) {
                state.done = true;
                replace(body, registryTable(state));
                body.dataset.state = "done";
            }
        }, fail);
    } else {
        projectStorage(backend, streams, state => {
            if (!r.stopped)
                replace(body, projectTable(state));
        }, r).then(() => {
            body.dataset.state = "done";
        }, fail);
    }
    return { node, stop: () => r.stop() };
}
