// images.js: every repository (registry mode) or image stream (OpenShift)
// with its tag count, newest tag, when it was last updated and its size
// (every blob once, however many tags share it); filter as you type, sort
// by any column. Only the rows on screen are in the page, so 100,000
// repositories stay responsive.
//
// Registry mode: the names come from the catalog the server keeps
// (registry-catalog: at once, or as the server's one walk brings them);
// the columns from registry-summary, for the rows on screen first and,
// when the list is sorted by a column, for the rest in the background
// (summaries.js: one channel at a time). The rows on screen are polled
// with their fingerprints, backing off while nothing changes, to show a
// pushed tag without reading the catalog again; the kept catalog itself
// is read again every few minutes for new repositories.
// OpenShift mode: the streams and their changes from the master's watch,
// sizes from the Image objects of the streams on screen.

import { h, replace } from "./dom.js";
import { _, relativeTime, nformat, format, formatSize, formatNumber } from "./i18n.js";
import { streamHref, imagesHref, searchHref } from "./routes.js";
import { newStreamButton } from "./actions.js";
import { SORTS, itemFromName, itemFromStream, applySummary, filterItems, sortItems, distinctSize } from "./repolist.js";
import { SummaryQueue } from "./summaries.js";
import { mapLimit } from "./limit.js";

const ROW = 44;
const OVERSCAN = 5;
// the kept catalog is read again this often (new and removed
// repositories); the server walks the registry again after its
// RegistryCatalogMaxAge (300 s by default)
const CATALOG_REFRESH = 300000;
// OpenShift: image streams (and images of one) sized at once
const STREAMS_AT_ONCE = 8;
// how often a list that is growing or filling is filtered and sorted again
const REFILTER_EVERY = 300;

function columnName(key) {
    return { name: _("Name"), tags: _("Tags"), updated: _("Updated"), size: _("Size") }[key];
}

function parseSort(value) {
    const [key, dir] = String(value || "").split(":");
    if (!SORTS[key])
        return { key: "name", desc: false };
    return { key, desc: dir === "asc" ? false : dir === "desc" ? true : SORTS[key].desc };
}

function sortParam({ key, desc }) {
    if (key === "name")
        return desc ? "name:desc" : "";
    return desc === SORTS[key].desc ? key : `${key}:${desc ? "desc" : "asc"}`;
}

// What a digest typed into the filter looks like: "sha256:…" or 12+ hex.
function looksLikeDigest(q) {
    return /^(sha256|sha512):[0-9a-f]*$/.test(q) || /^[0-9a-f]{12,128}$/.test(q);
}

// The sizes of OpenShift image streams (registry-summary's rows, made in
// the browser): every distinct blob of the streams' tagged images once.
function streamSizes(backend, items) {
    return (names, handlers) => {
        let closed = false;
        // a few images at a time (the backend reads at most a few Image
        // objects at once anyway); nothing more once closed
        const done = mapLimit(names, STREAMS_AT_ONCE, async name => {
            const it = items.get(name);
            if (closed || !it || !it.stream)
                return;
            const digests = it.digests;
            const blobs = await mapLimit(digests.split(" ").filter(Boolean), STREAMS_AT_ONCE,
                                         d => (closed ? [] : backend.imageBlobs(d).catch(() => [])));
            if (!closed)
                handlers.row({ type: "repository", repository: name, size: distinctSize(blobs), digests });
        }).then(() => ({}));
        return { done, close: () => { closed = true; } };
    };
}

export async function show({ backend, params, main, navigate, showError }) {
    const registry = backend.kind === "registry";
    const items = new Map();        // repository → item (repolist.js)
    let all = [];                   // the items, in the order they came
    let projects = new Set();
    let projectFilter = params.get("project") || "";
    let text = params.get("q") || "";
    let sort = parseSort(params.get("sort"));
    let stopped = false;

    /* -- the page */
    const select = h("select", { id: "filter-project", "aria-label": _("Project") });
    const search = h("input", { id: "filter-text", type: "search", placeholder: _("Filter by name"),
                                "aria-label": _("Filter by name") });
    search.value = text;
    const count = h("span", { class: "count", id: "stream-count" });
    const progress = h("span", { class: "list-progress", id: "list-progress", role: "status", "aria-live": "polite" });
    const reload = registry
        ? h("button", { type: "button", class: "secondary", id: "reload-list", title: _("Read the catalog and the details again") },
            _("Reload"))
        : null;
    const note = h("p", { class: "hint sort-note", id: "sort-note", hidden: true });
    const searchHint = h("p", { class: "hint", id: "search-hint", hidden: true });
    const viewport = h("div", { class: "viewport repo-list", id: "stream-list", role: "list", tabindex: "0" });
    const spacer = h("div", { class: "spacer" });
    const rowsBox = h("div", { class: "rows" });
    viewport.append(spacer, rowsBox);

    const sortButtons = new Map();
    const sortButton = key => {
        const b = h("button", { type: "button", class: "sort", id: `sort-${key}` }, columnName(key));
        b.addEventListener("click", () => {
            sort = sort.key === key ? { key, desc: !sort.desc } : { key, desc: SORTS[key].desc };
            updateUrl();
            refilter(true);
        });
        sortButtons.set(key, b);
        return b;
    };
    const head = h("div", { class: "row head repo-head", id: "list-head" },
                   h("span", { class: "name" }, sortButton("name")),
                   h("span", { class: "ntags" }, sortButton("tags")),
                   h("span", { class: "newest" }, _("Newest tag")),
                   h("span", { class: "age" }, sortButton("updated")),
                   h("span", { class: "size" }, sortButton("size")));
    const showSortState = () => {
        for (const [key, b] of sortButtons) {
            b.classList.toggle("active", key === sort.key);
            b.dataset.dir = key === sort.key ? (sort.desc ? "desc" : "asc") : "";
            b.setAttribute("aria-pressed", String(key === sort.key));
            b.title = key === sort.key
                ? format(sort.desc ? _("Sorted by {column}, descending") : _("Sorted by {column}, ascending"), { column: columnName(key) })
                : format(_("Sort by {column}"), { column: columnName(key) });
        }
    };

    /* -- summaries */
    const queue = new SummaryQueue(registry ? (names, handlers) => backend.summaryRows(names, handlers)
                                            : streamSizes(backend, items), (row) => {
        const it = items.get(row.repository);
        if (!it)
            return;
        if (registry) {
            if (!applySummary(it, row))
                return;
        } else {
            if (row.digests !== it.digests)
                return;
            it.size = row.size;
            it.sizeOf = row.digests;
            it.summarized = true;
        }
        summaryArrived();
    }, () => showProgress(), { poll: registry });

    /* -- filter, sort, render */
    let visible = [];
    let lastFilter = 0;
    let filterTimer = null;
    const refilter = (now = false) => {
        if (stopped)
            return;
        const wait = lastFilter + REFILTER_EVERY - Date.now();
        if (!now && wait > 0) {
            if (!filterTimer)
                filterTimer = setTimeout(() => { filterTimer = null; refilter(true); }, wait);
            return;
        }
        clearTimeout(filterTimer);
        filterTimer = null;
        lastFilter = Date.now();
        const before = visible;
        visible = filterItems(all, text, projectFilter || null);
        sortItems(visible, sort.key, sort.desc);
        count.textContent = registry
            ? nformat("{n} repository", "{n} repositories", visible.length)
            : nformat("{n} image stream", "{n} image streams", visible.length);
        spacer.style.height = `${visible.length * ROW}px`;
        showSortState();
        // sorted by a column the summaries fill (registry: all but the
        // name; OpenShift: the size): fill in the rest, in the background
        const filling = (registry ? sort.key !== "name" : sort.key === "size") && visible.some(it => !it.summarized);
        note.hidden = !filling;
        if (filling)
            note.textContent = format(_("Sorted by {column} where known: {known} of {total} so far. The rest follow as their details come in."),
                                      { column: columnName(sort.key),
                                        known: formatNumber(visible.reduce((a, it) => a + (it.summarized ? 1 : 0), 0)),
                                        total: formatNumber(visible.length) });
        if (filling && (before.length !== visible.length || !queue.background.length))
            queue.setBackground([...visible].filter(it => !it.summarized).map(it => it.repository).sort());
        else if (!filling)
            queue.setBackground(null);
        const q = text.trim();
        searchHint.hidden = !q || (visible.length > 0 && !looksLikeDigest(q));
        if (!searchHint.hidden)
            replace(searchHint, h("a", { href: searchHref({ q }), id: "search-link" },
                                  format(_("Search tags and digests in every repository for “{query}”"), { query: q })));
        render();
        showProgress();
    };

    let renderQueued = false;
    const renderSoon = () => {
        if (!renderQueued) {
            renderQueued = true;
            requestAnimationFrame(() => {
                renderQueued = false;
                render();
            });
        }
    };

    // a summary came: re-sort when sorted by its column, else redraw
    const summaryArrived = () => {
        if (sort.key !== "name")
            refilter();
        else
            renderSoon();
    };

    const cells = it => {
        const bad = it.error ? _("Details could not be read: {error}") : "";
        const partial = it.partial ? _("More than 100 tags: open the repository for its newest tag and size") : "";
        const cut = it.truncated ? format(_("More tags than the server reads: only the first {n} are counted"),
                                          { n: formatNumber(it.tags || 0) }) : "";
        return [
            h("a", { href: streamHref(it.project, it.name), class: "name" },
              h("span", { class: "ns" }, it.project ? `${it.project}/` : ""), it.name),
            h("span", { class: `ntags${it.error ? " row-error" : ""}`, title: bad ? format(bad, { error: it.error }) : cut || null },
              it.tags !== undefined ? formatNumber(it.tags) + (it.truncated ? "+" : "") : it.error ? "!" : ""),
            h("span", { class: "newest", title: partial || null },
              it.newest ? h("span", { class: "tag" }, it.newest) : it.partial ? "…" : ""),
            h("span", { class: "age", title: it.created || null }, it.created ? relativeTime(it.created) : ""),
            h("span", { class: "size", title: partial || null, dataset: it.size !== undefined ? { bytes: String(it.size) } : null },
              it.size !== undefined ? formatSize(it.size) : it.partial ? "…" : ""),
        ];
    };

    const render = () => {
        if (stopped)
            return;
        if (!visible.length) {
            rowsBox.style.transform = "";
            replace(rowsBox, h("p", { class: "empty" }, loading ? _("Loading…")
                : all.length ? _("No image streams match the filter.") : _("There are no image streams yet.")));
            queue.setVisible([]);
            return;
        }
        const height = viewport.clientHeight || 600;
        const first = Math.max(0, Math.floor(viewport.scrollTop / ROW) - OVERSCAN);
        const last = Math.min(visible.length, first + Math.ceil(height / ROW) + 2 * OVERSCAN);
        rowsBox.style.transform = `translateY(${first * ROW}px)`;
        const shown = visible.slice(first, last);
        replace(rowsBox, shown.map(it => h("div", { class: `row${it.summarized ? "" : " pending"}`, role: "listitem",
                                                    dataset: { repository: it.repository } }, cells(it))));
        queue.setVisible(document.hidden ? [] : shown.map(it => it.repository));
    };

    /* -- progress: the catalog's walk, the summaries being filled in */
    let loading = true;
    let catalogProgress = null;     // the walk's last progress, while it runs
    let catalogDone = null;
    const showProgress = () => {
        const st = queue.state();
        const parts = [];
        let bar = null;
        if (loading || (catalogProgress && catalogProgress.walking)) {
            parts.push(catalogProgress && catalogProgress.walking
                ? format(_("Reading the registry's catalog: {n} names so far…"), { n: formatNumber(all.length) })
                : _("Reading the catalog…"));
            bar = h("progress", { class: "spinner" });
        } else if (st.kind === "visible" || st.kind === "background") {
            const filled = visible.reduce((a, it) => a + (it.summarized ? 1 : 0), 0);
            parts.push(format(_("Details: {known} of {total}"), { known: formatNumber(filled), total: formatNumber(visible.length) }));
            bar = h("progress", { max: String(visible.length || 1), value: String(filled) });
        }
        if (st.error)
            parts.push(format(_("Details could not be loaded ({error}); trying again."), { error: st.error.message || st.error.problem }));
        if (catalogDone && catalogDone.truncated)
            parts.push(_("The catalog is longer than the server keeps: the list is cut."));
        if (catalogDone && catalogDone.error)
            parts.push(format(_("The catalog could not be read to its end: {error}"), { error: catalogDone.error }));
        progress.dataset.state = st.kind || (loading ? "catalog" : "idle");
        progress.hidden = !parts.length;
        replace(progress, bar, parts.join(" "));
    };

    /* -- the items */
    const addName = repository => {
        if (typeof repository !== "string" || !repository || items.has(repository))
            return;
        const it = itemFromName(repository);
        items.set(repository, it);
        all.push(it);
        projects.add(it.project);
    };
    // the repositories of the Set GONE leave the list, their projects
    // (when no other repository has them) and the summaries to be asked
    const removeAll = gone => {
        if (!gone.size)
            return;
        for (const name of gone)
            items.delete(name);
        all = all.filter(it => !gone.has(it.repository));
        projects = new Set(all.map(it => it.project));
        projectsShown = -1;
        queue.drop(gone);
    };
    const remove = repository => removeAll(new Set([repository]));

    let projectsShown = 0;
    let projectsAt = 0;
    let projectsTimer = null;
    // the select is rebuilt at most once a second while names stream in,
    // never while the user has it open
    const fillProjects = () => {
        if (projects.size === projectsShown || projectsTimer)
            return;
        const wait = projectsAt + 1000 - Date.now();
        if (wait > 0 || document.activeElement === select) {
            projectsTimer = setTimeout(() => { projectsTimer = null; fillProjects(); }, Math.max(wait, 1000));
            return;
        }
        projectsAt = Date.now();
        projectsShown = projects.size;
        const names = [...projects].sort();
        if (projectFilter && !projects.has(projectFilter))
            names.unshift(projectFilter);
        replace(select, h("option", { value: "" }, _("All projects")),
                names.map(p => h("option", { value: p, selected: p === projectFilter }, p || "/")));
    };

    const updateUrl = () => history.replaceState(null, "", imagesHref({ project: projectFilter, q: text, sort: sortParam(sort) }));
    select.addEventListener("change", () => { projectFilter = select.value; updateUrl(); refilter(true); });
    search.addEventListener("input", () => { text = search.value; updateUrl(); refilter(true); });
    viewport.addEventListener("scroll", renderSoon);
    const onVisibility = () => render();
    document.addEventListener("visibilitychange", onVisibility);

    // OpenShift: the streams first (a watch follows)
    const streams = registry ? [] : await backend.streams();
    for (const st of streams) {
        const it = itemFromStream(st);
        items.set(it.repository, it);
        all.push(it);
        projects.add(it.project);
    }
    loading = registry;
    // only for those who may create one somewhere
    const create = newStreamButton({ backend, navigate }, [...projects].sort(), { preselect: projectFilter });
    replace(main, h("div", { class: "title-row" }, h("h1", null, _("Images")), create),
            h("div", { class: "toolbar" }, select, search, count, progress, reload),
            note, searchHint, head, viewport);
    fillProjects();
    showProgress();
    refilter(true);

    const cleanups = [() => queue.stop(), () => document.removeEventListener("visibilitychange", onVisibility),
                      () => clearTimeout(filterTimer), () => clearTimeout(projectsTimer)];

    if (registry) {
        let catalog = null;
        let refreshTimer = null;
        const readCatalog = fresh => {
            clearTimeout(refreshTimer);
            if (catalog)
                catalog.close();
            const seen = new Set();
            const stream = catalog = backend.catalogRows({
                row: r => {
                    if (r.type !== "names" || !Array.isArray(r.names))
                        return;
                    for (const n of r.names) {
                        seen.add(n);
                        addName(n);
                    }
                    if (loading && all.length) {
                        loading = false;
                        refilter(true);
                    } else {
                        refilter();
                    }
                    fillProjects();
                },
                progress: p => {
                    catalogProgress = p;
                    // while the server walks the registry's catalog, the
                    // rows on screen are not polled: the walk goes first
                    queue.holdPolls(!!p.walking);
                    showProgress();
                },
            }, fresh ? { fresh: true } : {});
            stream.done.then(done => {
                if (stopped || catalog !== stream)
                    return;
                catalog = null;
                catalogProgress = null;
                catalogDone = done;
                loading = false;
                queue.holdPolls(false);
                // gone from a catalog read to its end: gone
                if (done.complete && !done.truncated)
                    removeAll(new Set([...items.keys()].filter(name => !seen.has(name))));
                fillProjects();
                refilter(true);
                refreshTimer = setTimeout(() => readCatalog(false), CATALOG_REFRESH);
            }, e => {
                if (stopped || catalog !== stream || e.problem === "cancelled")
                    return;
                catalog = null;
                loading = false;
                catalogProgress = null;
                queue.holdPolls(false);
                refilter(true);
                showError(e);
                refreshTimer = setTimeout(() => readCatalog(false), CATALOG_REFRESH);
            });
        };
        reload.addEventListener("click", () => {
            queue.clear();
            for (const it of all)
                it.summarized = false;
            readCatalog(true);
        });
        readCatalog(false);
        cleanups.push(() => {
            clearTimeout(refreshTimer);
            if (catalog)
                catalog.close();
        });
    } else {
        cleanups.push(backend.watchStreams(null, (type, s) => {
            const repository = s.project ? `${s.project}/${s.name}` : s.name;
            if (type === "DELETED") {
                remove(repository);
            } else {
                const old = items.get(repository);
                const it = itemFromStream(s, old);
                if (!old) {
                    items.set(repository, it);
                    all.push(it);
                    projects.add(it.project);
                    fillProjects();
                } else if (!it.summarized) {
                    queue.forget(repository);
                }
            }
            refilter();
        }, problem => {
            if (problem)
                showError(Object.assign(new Error(_("Live updates stopped.")), { problem }));
        }));
    }
    return () => {
        stopped = true;
        for (const f of cleanups)
            f();
    };
}
