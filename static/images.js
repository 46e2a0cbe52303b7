// images.js: all image streams, filterable by project and text. Rows are
// rendered only while visible, so 10,000 streams stay responsive.

import { h, replace } from "./dom.js";
import { _, relativeTime, nformat } from "./i18n.js";
import { streamHref, imagesHref } from "./routes.js";
import { newStreamButton } from "./actions.js";

const ROW = 44;

function latest(s) {
    if (!s.tags || !s.tags.length)
        return "";
    return s.tags.reduce((a, t) => (t.created > a ? t.created : a), "");
}

export async function show({ backend, params, main, navigate, showError }) {
    let streams = await backend.streams();
    const projects = [...new Set(streams.map(s => s.project))].sort();
    let projectFilter = params.get("project") || "";
    let text = params.get("q") || "";

    const select = h("select", { id: "filter-project", "aria-label": _("Project") },
                     h("option", { value: "" }, _("All projects")),
                     projects.map(p => h("option", { value: p, selected: p === projectFilter }, p || "/")));
    const search = h("input", { id: "filter-text", type: "search", placeholder: _("Filter by name"),
                                "aria-label": _("Filter by name") });
    search.value = text;
    const count = h("span", { class: "count", id: "stream-count" });
    const viewport = h("div", { class: "viewport", id: "stream-list", role: "list", tabindex: "0" });
    const spacer = h("div", { class: "spacer" });
    const rows = h("div", { class: "rows" });
    viewport.append(spacer, rows);

    let visible = [];
    const filter = () => {
        const q = text.toLowerCase();
        visible = streams.filter(s => (!projectFilter || s.project === projectFilter) &&
                                      (!q || `${s.project}/${s.name}`.toLowerCase().includes(q)));
        visible.sort((a, b) => a.project.localeCompare(b.project) || a.name.localeCompare(b.name));
        count.textContent = nformat("{n} image stream", "{n} image streams", visible.length);
        spacer.style.height = `${visible.length * ROW}px`;
        render();
    };
    const render = () => {
        if (!visible.length) {
            replace(rows, h("p", { class: "empty" }, streams.length ? _("No image streams match the filter.") : _("There are no image streams yet.")));
            return;
        }
        const first = Math.max(0, Math.floor(viewport.scrollTop / ROW) - 5);
        const last = Math.min(visible.length, first + Math.ceil((viewport.clientHeight || 600) / ROW) + 10);
        rows.style.transform = `translateY(${first * ROW}px)`;
        replace(rows, visible.slice(first, last).map(s => {
            const when = latest(s);
            return h("div", { class: "row", role: "listitem" },
                     h("a", { href: streamHref(s.project, s.name), class: "name" },
                       h("span", { class: "ns" }, s.project ? `${s.project}/` : ""), s.name),
                     h("span", { class: "tags" }, s.tags ? s.tags.map(t => h("span", { class: "tag" }, t.name)) : ""),
                     h("span", { class: "age", title: when }, when ? relativeTime(when) : ""));
        }));
    };
    const updateUrl = () => history.replaceState(null, "", imagesHref({ project: projectFilter, q: text }));
    select.addEventListener("change", () => { projectFilter = select.value; updateUrl(); filter(); });
    search.addEventListener("input", () => { text = search.value; updateUrl(); filter(); });
    viewport.addEventListener("scroll", () => requestAnimationFrame(render));

    // only for those who may create one somewhere
    const create = newStreamButton({ backend, navigate }, projects, { preselect: projectFilter });

    replace(main, h("div", { class: "title-row" }, h("h1", null, _("Images")), create),
            h("div", { class: "toolbar" }, select, search, count), viewport);
    filter();

    const cancel = backend.watchStreams(null, (type, s) => {
        const i = streams.findIndex(x => x.project === s.project && x.name === s.name);
        if (type === "DELETED") {
            if (i >= 0)
                streams.splice(i, 1);
        } else if (i >= 0) {
            streams[i] = s;
        } else {
            streams.push(s);
        }
        filter();
    }, problem => {
        if (problem)
            showError(Object.assign(new Error(_("Live updates stopped.")), { problem }));
    });
    return cancel;
}
