// tagtable.js: the tag page's table of images (tags grouped by digest),
// rendered only where it is visible, so a repository of 10,000 tags stays
// responsive. Imports only leaf modules; touches nothing at import time.
//
//   const table = tagTable({ project, name, selectable, onToggle(key, shift), onDelete(entry),
//                            deleteTagless (rows without a digest can be deleted: OpenShift tags),
//                            onVisible(entries on screen) });
//   table.element                      // <div id="tags"> to put on the page
//   table.update(entries, selection)   // entries: TagList.view(); redraws what is on screen
//   table.onScreen()                   // the entries on screen now
//
// Every row is a <tr> with data-key (the digest, or "?tag" not read yet,
// "!tag" failed), data-tag (its first tag) and data-tags (all its tags,
// space-separated: select with [data-tags~="1.0"]).

import { h } from "./dom.js";
import { _, format, nformat, relativeTime, formatSize } from "./i18n.js";
import { imageHref } from "./routes.js";
import { shortDigest } from "./format.js";
import { byteSize } from "./taglist.js";

const ROW = 41;         // px, as style.css sets table.taglist rows
const OVERSCAN = 12;    // rows drawn above and below the visible ones
const SHOWN_TAGS = 3;   // tags shown in a row before "+N"

function platformText(p) {
    return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

export const INDEX_TYPES = ["application/vnd.oci.image.index.v1+json",
                            "application/vnd.docker.distribution.manifest.list.v2+json"];

export function isIndex(row) {
    return !!row && (INDEX_TYPES.includes(row.mediaType) || Array.isArray(row.platforms));
}

export function tagTable({ project, name, selectable = false, onToggle = null, onDelete = null, deleteTagless = false,
                           onVisible = null }) {
    const viewport = h("div", { id: "tags", class: "tag-viewport", tabindex: "-1" });
    const body = h("tbody");
    const before = h("tr", { class: "spacer", "aria-hidden": "true" });
    const after = h("tr", { class: "spacer", "aria-hidden": "true" });
    const headers = [
        selectable ? h("th", { class: "select" }, h("span", { class: "offscreen" }, _("Select"))) : null,
        h("th", { class: "tagcol" }, _("Tag")),
        h("th", { class: "digest" }, _("Digest")),
        h("th", { class: "platform" }, _("Platform")),
        h("th", { class: "created" }, _("Created")),
        h("th", { class: "size" }, _("Size")),
        h("th", { class: "actions" }, h("span", { class: "offscreen" }, _("Actions"))),
    ];
    const table = h("table", { class: "taglist" }, h("thead", null, h("tr", null, headers)), body);
    viewport.append(table);

    let entries = [];
    let selection = null;
    let blocked = "";           // why Delete and Select are off, or ""
    let rowHeight = ROW;
    let shown = [0, 0];
    const cache = new Map();    // key → {stamp, tr}
    let drawn = [];             // the rows on the page, in order
    let measured = false;       // rowHeight read from a row on the page

    const cells = e => {
        const g = e.group, r = g.row;
        const index_ = isIndex(r);
        const tags = e.tags;
        const more = tags.length - SHOWN_TAGS;
        const tagCell = h("td", { class: "tagcol", title: tags.join(" ") },
            tags.slice(0, SHOWN_TAGS).map((t, i) => h("a", { href: imageHref(project, name, t),
                                                               class: i === 0 ? "tag-link" : "tag alias" }, t)),
            more > 0 ? h("span", { class: "more" }, format(_("+{n} more"), { n: more })) : null,
            index_ ? h("span", { class: "badge" }, _("multi-arch")) : null);
        let digestCell;
        if (g.pending) {
            digestCell = h("td", { class: "digest-cell" }, h("span", { class: "muted pending" }, _("reading…")));
        } else if (r && r.error) {
            const what = r.invalidDigest ? _("The registry gave something that is not a digest")
                : r.status ? format(_("HTTP {status}: {error}"), { status: r.status, error: r.error }) : String(r.error);
            digestCell = h("td", { class: "digest-cell" }, h("span", { class: "tag-error", title: what }, what));
        } else if (!g.digest) {
            const what = r && r.importError ? r.importError : _("not yet imported");
            digestCell = h("td", { class: "digest-cell" },
                           h("span", { class: r && r.importError ? "tag-error" : "muted", title: what }, what));
        } else {
            digestCell = h("td", { class: "digest-cell" },
                           h("a", { href: imageHref(project, name, g.digest), class: "digest", title: g.digest },
                             shortDigest(g.digest)),
                           r && r.warning ? h("span", { class: "tag-warning", title: r.warning,
                                                        "aria-label": format(_("Warning: {warning}"), { warning: r.warning }) },
                                              "⚠") : null);
        }
        let platform = "";
        let platformTitle = "";
        if (r && Array.isArray(r.platforms)) {
            platformTitle = r.platforms.map(platformText).join(", ");
            platform = nformat("{n} platform", "{n} platforms", r.platforms.length);
        } else if (r) {
            platform = platformText(r);
        }
        const bytes = r ? byteSize(r.size) : null;
        const size = bytes !== null ? formatSize(bytes) : "";
        const sizeTitle = bytes !== null
            ? `${nformat("{n} byte", "{n} bytes", bytes)}; ${
                index_ ? _("compressed, every distinct blob of its platforms once") : _("compressed: config and layers")}`
            : "";
        const out = [
            h("td", { class: "platform", title: platformTitle || null }, platform),
            h("td", { class: "created", title: (r && r.created) || null }, r && r.created ? relativeTime(r.created) : ""),
            h("td", { class: "size", title: sizeTitle || null }, size),
        ];
        let del = null;
        if (onDelete && (g.digest || (deleteTagless && !g.pending))) {
            del = h("button", { type: "button", class: "danger small", disabled: !!blocked, title: blocked || null,
                                "aria-label": format(_("Delete {what}"), { what: `${name}:${e.primary}` }) }, _("Delete"));
            del.addEventListener("click", () => onDelete(e));
        }
        let box = null;
        if (selectable) {
            box = h("input", { type: "checkbox", class: "select",
                               "aria-label": format(_("Select {tags}"), { tags: tags.join(", ") }),
                               disabled: !g.digest || !!blocked, title: blocked || null,
                               checked: !!(selection && selection.has(g.key)) });
            box.addEventListener("click", ev => {
                if (onToggle)
                    onToggle(g.key, ev.shiftKey);
            });
        }
        return [selectable ? h("td", { class: "select" }, box) : null, tagCell, digestCell, ...out,
                h("td", { class: "actions" }, del)];
    };

    const row = e => {
        const g = e.group;
        const selected = !!(selection && selection.has(g.key));
        const stamp = `${e.tags.join(" ")}|${g.pending}|${selected}|${g.row ? 1 : 0}`;
        const hit = cache.get(g.key);
        if (hit && hit.stamp === stamp)
            return hit.tr;
        const tr = h("tr", { class: selected ? "selected" : null,
                             dataset: { key: g.key, tag: e.primary, tags: e.tags.join(" ") } }, cells(e));
        cache.set(g.key, { stamp, tr });
        return tr;
    };

    const setHeight = (tr, px) => {
        if (tr.style.height !== px)
            tr.style.height = px;
    };

    const draw = () => {
        const height = viewport.clientHeight || 600;
        const top = viewport.scrollTop;
        const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN);
        const last = Math.min(entries.length, Math.ceil((top + height) / rowHeight) + OVERSCAN);
        shown = [first, last];
        const focused = viewport.contains(document.activeElement) ? document.activeElement : null;
        const trs = [];
        const keep = new Set();
        for (let i = first; i < last; i++) {
            trs.push(row(entries[i]));
            keep.add(entries[i].group.key);
        }
        for (const k of [...cache.keys()])
            if (!keep.has(k))
                cache.delete(k);
        setHeight(before, `${first * rowHeight}px`);
        setHeight(after, `${(entries.length - last) * rowHeight}px`);
        // while rows stream in, the ones on screen mostly stay: the page is
        // touched (and laid out again) only when they change
        if (trs.length !== drawn.length || trs.some((tr, i) => tr !== drawn[i]) ||
            body.firstChild !== before || body.lastChild !== after) {
            body.replaceChildren(before, ...trs, after);
            drawn = trs;
            if (focused && focused !== document.activeElement && viewport.contains(focused))
                focused.focus({ preventScroll: true });
        }
        // the real height of a row, read once one is on the page (reading
        // it lays the page out: not on every draw)
        const sample = trs[0];
        if (!measured && sample && sample.offsetHeight) {
            measured = true;
            if (Math.abs(sample.offsetHeight - rowHeight) > 0.5) {
                rowHeight = sample.offsetHeight;
                requestAnimationFrame(draw);
            }
        }
    };

    let pending = false;
    const schedule = () => {
        if (pending)
            return;
        pending = true;
        requestAnimationFrame(() => {
            pending = false;
            draw();
            if (onVisible)
                onVisible(entries.slice(shown[0], shown[1]));
        });
    };
    viewport.addEventListener("scroll", schedule);
    window.addEventListener("resize", schedule);

    return {
        element: viewport,
        update(list, sel) {
            // keep the row at the top of the screen where it is while rows
            // above it change (tags read merge into one image, rows go)
            const top = viewport.scrollTop;
            const at = Math.floor(top / rowHeight);
            const anchor = top > 0 && entries[at] ? { tag: entries[at].primary, offset: top - at * rowHeight } : null;
            entries = list;
            selection = sel;
            if (anchor) {
                const i = entries.findIndex(e => e.tags.includes(anchor.tag));
                if (i >= 0 && i !== at) {
                    before.style.height = "0px";
                    after.style.height = `${entries.length * rowHeight}px`;
                    body.replaceChildren(before, after);
                    drawn = [];
                    viewport.scrollTop = i * rowHeight + anchor.offset;
                }
            }
            draw();
            if (onVisible)
                onVisible(entries.slice(shown[0], shown[1]));
        },
        // REASON (text) turns every row's Delete and Select off, "" on again
        setBlocked(reason) {
            if (reason !== blocked) {
                blocked = reason;
                cache.clear();
            }
        },
        // forget drawn rows (the selection or the rows' content changed)
        invalidate() {
            cache.clear();
        },
        onScreen() {
            return entries.slice(shown[0], shown[1]);
        },
        // scroll so that the entry at INDEX is on screen
        reveal(index) {
            viewport.scrollTop = Math.max(0, index * rowHeight - rowHeight * 2);
            schedule();
        },
        destroy() {
            window.removeEventListener("resize", schedule);
        },
    };
}

// The exact size of a summary line, for its title.
export function summaryTitle(storage) {
    return storage.bytes ? nformat("{n} byte", "{n} bytes", storage.bytes) : "";
}

// The words for a summary line: "3 tags · 2 images · 5.6 kB".
export function summaryText(list, storage) {
    const parts = [nformat("{n} tag", "{n} tags", list.size)];
    parts.push(nformat("{n} image", "{n} images", storage.images));
    if (storage.bytes)
        parts.push(format(storage.complete ? _("{size} stored (shared layers counted once)")
                                           : _("at least {size} stored (shared layers counted once)"),
                          { size: formatSize(storage.bytes) }));
    return parts.join(" · ");
}
