// search.js: find a tag name or a digest (full, or its first digits) in
// every repository the user can read. Registry mode: the server walks the
// registry (registry-search) and the matches stream in with the progress
// of the walk; OpenShift mode: the image streams the user can read, with
// their images' layers (streamsearch.js). "Where is this digest": every
// repository:tag whose image is it, and for a layer or config every image
// that holds it, each linked to its repository and image.

import { h, replace } from "./dom.js";
import { _, format, nformat, formatNumber, formatSize, relativeTime } from "./i18n.js";
import { shortDigest } from "./format.js";
import { searchHref, streamHref, imageHref } from "./routes.js";
import { split } from "./repolist.js";
import { queryKind, searchStreams, digestQueryProblem } from "./streamsearch.js";

// Matches shown at most (all are counted).
const SHOWN_MAX = 1000;

function matchLabel(match) {
    return {
        tag: _("tag name"),
        manifest: _("the image"),
        platform: _("an image of the index"),
        config: _("its config"),
        layer: _("a layer"),
        blob: _("a layer or its config"),
    }[match] || match;
}

export async function show({ backend, params, main, navigate }) {
    const query = (params.get("q") || "").trim();
    const kind = ["tag", "digest"].includes(params.get("kind")) ? params.get("kind") : "";
    const exact = params.get("exact") === "1";

    const input = h("input", { id: "search-query", type: "search", placeholder: _("Tag name or digest"),
                               "aria-label": _("Tag name or digest"), required: true, autocomplete: "off" });
    input.value = query;
    const kindSelect = h("select", { id: "search-kind", "aria-label": _("Search for") },
                         h("option", { value: "", selected: !kind }, _("Tag or digest (guess)")),
                         h("option", { value: "tag", selected: kind === "tag" }, _("Tag name")),
                         h("option", { value: "digest", selected: kind === "digest" }, _("Digest")));
    const exactBox = h("input", { type: "checkbox", id: "search-exact", checked: exact });
    const form = h("form", { class: "toolbar", id: "search-form" }, input, kindSelect,
                   h("label", { class: "check", for: "search-exact" }, exactBox, " ", _("Whole tag name only")),
                   h("button", { type: "submit", class: "primary", id: "search-button" }, _("Search")));
    form.addEventListener("submit", ev => {
        ev.preventDefault();
        const q = input.value.trim();
        if (q)
            navigate(searchHref({ q, kind: kindSelect.value, exact: exactBox.checked }));
    });

    const status = h("div", { class: "search-status", id: "search-progress", role: "status", "aria-live": "polite" });
    const where = h("div", { id: "search-where" });
    const tbody = h("tbody");
    const table = h("table", { class: "list", id: "search-results", hidden: true },
                    h("thead", null, h("tr", null, h("th", null, _("Repository")), h("th", null, _("Tag")),
                                       h("th", null, _("Found as")), h("th", null, _("Digest")),
                                       h("th", null, _("Created")), h("th", null, _("Size")))),
                    tbody);
    const more = h("p", { class: "hint", id: "search-more", hidden: true });
    replace(main, h("h1", null, _("Search")),
            h("p", { class: "hint" }, _("Finds a tag name, or an image, layer or config by its digest (the whole digest or its first 12 digits or more), in every repository you can read.")),
            form, status, where, table, more);
    input.focus();
    if (!query) {
        replace(status);
        return null;
    }

    const k = kind || queryKind(query);
    // "sha256:" alone, or a few digits, would match (and read) nearly everything
    if (k === "digest" && digestQueryProblem(query)) {
        replace(status, h("p", { class: "tag-error", id: "search-too-short" }, digestQueryProblem(query)));
        return null;
    }
    const found = [];
    const pending = [];
    let shown = 0;
    let drawQueued = false;
    const cell = (text, attrs) => h("td", attrs || null, text);
    const draw = () => {
        drawQueued = false;
        const rows = [];
        for (const r of pending.splice(0)) {
            if (shown >= SHOWN_MAX)
                break;
            shown++;
            const [project, name] = split(r.repository);
            rows.push(h("tr", { dataset: { repository: r.repository, tag: r.tag || "", match: r.match || "" } },
                        cell(h("a", { href: streamHref(project, name), class: "repository" }, r.repository)),
                        cell(r.tag ? h("a", { href: imageHref(project, name, r.tag), class: "tag-link" }, r.tag) : ""),
                        cell(r.error ? h("span", { class: "tag-error" }, r.error) : matchLabel(r.match), { class: "match" }),
                        cell(r.digest ? h("a", { href: imageHref(project, name, r.digest), class: "digest", title: r.digest },
                                          shortDigest(r.digest)) : ""),
                        cell(r.created ? relativeTime(r.created) : "", { title: r.created || null, class: "nowrap" }),
                        cell(typeof r.size === "number" ? formatSize(r.size) : "", { class: "nowrap" })));
        }
        tbody.append(...rows);
        table.hidden = !found.length;
        more.hidden = found.length <= SHOWN_MAX;
        more.textContent = format(_("Showing the first {shown} of {n} matches."),
                                  { shown: formatNumber(SHOWN_MAX), n: formatNumber(found.length) });
        if (k === "digest")
            showWhere();
    };
    // "where is this digest": the tags that are the image, those that hold it
    const showWhere = () => {
        const images = found.filter(r => ["manifest", "platform"].includes(r.match));
        const holders = found.filter(r => ["layer", "config", "blob"].includes(r.match));
        const repos = list => new Set(list.map(r => r.repository)).size;
        replace(where, found.length ? h("ul", { class: "plain where" },
            images.length ? h("li", { id: "where-image" }, format(_("Tags that are this image: {tags} in {repositories}."), {
                tags: nformat("{n} tag", "{n} tags", images.length),
                repositories: nformat("{n} repository", "{n} repositories", repos(images)) })) : null,
            holders.length ? h("li", { id: "where-layer" }, format(_("Images that contain it: {tags} in {repositories}."), {
                tags: nformat("{n} tag", "{n} tags", holders.length),
                repositories: nformat("{n} repository", "{n} repositories", repos(holders)) })) : null) : null);
    };

    let progress = null;
    const showStatus = (done, error) => {
        const p = progress || {};
        if (error) {
            replace(status, h("p", { class: "tag-error" }, format(_("The search failed: {error}"), { error: error.message || error.problem })));
            return;
        }
        const walked = done ? done.repositories : p.repositories || 0;
        const total = Math.max(p.total || 0, walked);
        const skipped = (done ? done.skipped : p.skipped) || 0;
        replace(status,
                done ? null : h("progress", { max: String(total || 1), value: String(walked) }),
                h("span", { id: "search-count" }, done
                    ? format(_("{matches} in {repositories} searched."), {
                        matches: nformat("{n} match", "{n} matches", done.matches ?? found.length),
                        repositories: nformat("{n} repository", "{n} repositories", walked) })
                    : format(_("Searching: {walked} of {total} repositories, {matches} so far…"), {
                        walked: formatNumber(walked), total: formatNumber(total),
                        matches: nformat("{n} match", "{n} matches", found.length) })),
                skipped ? h("span", { class: "muted" }, " ", nformat("{n} repository you may not read was skipped.",
                                                                     "{n} repositories you may not read were skipped.", skipped)) : null,
                done && done.complete === false ? h("span", { class: "muted" }, " ", _("Not every repository could be searched.")) : null);
        status.dataset.state = done ? "done" : "searching";
    };
    showStatus(null);

    const handlers = {
        row: r => {
            if (r.type !== "tag" || typeof r.repository !== "string")
                return;
            found.push(r);
            pending.push(r);
            if (!drawQueued) {
                drawQueued = true;
                requestAnimationFrame(draw);
            }
        },
        progress: p => {
            progress = p;
            showStatus(null);
        },
    };
    const options = { ...(kind ? { kind } : {}), ...(exact ? { exact: true } : {}) };
    const stream = backend.kind === "registry" ? backend.searchRows(query, handlers, options)
                                               : searchStreams(backend, query, handlers, options);
    let stopped = false;
    stream.done.then(done => {
        if (stopped)
            return;
        draw();
        showStatus(done || {});
    }, e => {
        if (!stopped && e.problem !== "cancelled")
            showStatus(null, e);
    });
    return () => {
        stopped = true;
        stream.close();
    };
}
