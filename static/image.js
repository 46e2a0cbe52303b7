// image.js: one image, in Details / Config / Layers tabs.

import { h, replace } from "./dom.js";
import { _, formatDate, formatSize } from "./i18n.js";
import { projectFromPart, imagesHref, streamHref, imageHref } from "./routes.js";
import { shortDigest, command, pullCommand } from "./format.js";

function dl(pairs) {
    return h("dl", { class: "props" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "" &&
                                                   !(Array.isArray(v) && !v.length))
        .map(([k, v, id]) => [h("dt", null, k), h("dd", { id: id || null }, v)]));
}

function list(values, id) {
    return values && values.length ? h("ul", { class: "plain", id }, values.map(v => h("li", null, h("code", null, v)))) : null;
}

function joinCmd(v) {
    if (!v)
        return "";
    return Array.isArray(v) ? v.map(a => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" ") : String(v);
}

export async function show({ backend, session, main }, projectPart, name, ref) {
    const project = projectFromPart(projectPart);
    const repo = project ? `${project}/${name}` : name;
    const registryHost = session.registry_host || location.hostname;
    const img = await backend.image(project, name, ref);
    const c = img.config;

    const labels = Object.entries(c.labels || {});
    const annotations = Object.entries(img.annotations || {});
    const kv = (entries, id) => entries.length
        ? h("table", { class: "kv", id }, h("tbody", null, entries.map(([k, v]) => h("tr", null, h("th", null, k), h("td", null, v)))))
        : h("p", { class: "muted" }, _("None"));

    const details = h("section", { id: "tab-details", role: "tabpanel" },
        dl([[_("Digest"), h("code", { title: img.digest }, img.digest), "image-digest"],
            [_("Media type"), img.mediaType],
            [_("Author"), img.author, "image-author"],
            [_("Built"), img.created ? h("time", { datetime: img.created, title: img.created }, formatDate(img.created)) : "", "image-created"],
            [_("Docker version"), img.dockerVersion],
            [_("Architecture"), [img.os, img.architecture].filter(Boolean).join("/")],
            [_("Size"), img.size ? formatSize(img.size) : "", "image-size"]]),
        img.platforms.length ? [h("h3", null, _("Platforms")),
            h("table", { class: "list", id: "image-platforms" },
              h("thead", null, h("tr", null, h("th", null, _("Platform")), h("th", null, _("Digest")))),
              h("tbody", null, img.platforms.map(p => h("tr", null,
                  h("td", null, [p.os, p.architecture, p.variant].filter(Boolean).join("/")),
                  h("td", null, h("a", { href: imageHref(project, name, p.digest),
                                        title: p.digest, class: "digest" }, shortDigest(p.digest)))))))] : null,
        h("h3", null, _("Labels")), kv(labels, "image-labels"),
        annotations.length ? [h("h3", null, _("Annotations")), kv(annotations, "image-annotations")] : null,
        h("h3", null, _("Pull")),
        !/^sha256:/.test(ref) ? command(pullCommand(registryHost, repo, ref)) : null,
        img.digest ? command(pullCommand(registryHost, repo, img.digest)) : null);

    const config = h("section", { id: "tab-config", role: "tabpanel", hidden: true },
        dl([[_("Command"), h("code", null, joinCmd(c.cmd)), "image-cmd"],
            [_("Entrypoint"), c.entrypoint ? h("code", null, joinCmd(c.entrypoint)) : "", "image-entrypoint"],
            [_("Working directory"), c.workingDir, "image-workdir"],
            [_("User"), c.user, "image-user"],
            [_("Exposed ports"), list(c.ports, "image-ports")],
            [_("Volumes"), list(c.volumes, "image-volumes")]]),
        h("h3", null, _("Environment")),
        c.env.length ? list(c.env, "image-env") : h("p", { class: "muted" }, _("None")));

    const layers = h("section", { id: "tab-layers", role: "tabpanel", hidden: true },
        img.layers.length
            ? h("table", { class: "list", id: "image-layers" },
                h("thead", null, h("tr", null, h("th", null, "#"), h("th", null, _("Layer")), h("th", null, _("Size")))),
                h("tbody", null, img.layers.map((l, i) => h("tr", null, h("td", null, String(i + 1)),
                    h("td", null, h("code", { title: l.digest }, l.digest)), h("td", null, formatSize(l.size))))))
            : h("p", { class: "muted" }, _("No layers.")));

    const panels = { details, config, layers };
    const tabs = h("div", { class: "tabs", role: "tablist" });
    const select = key => {
        for (const [k, panel] of Object.entries(panels)) {
            panel.hidden = k !== key;
            const b = tabs.querySelector(`[data-tab="${k}"]`);
            b.setAttribute("aria-selected", String(k === key));
            b.tabIndex = k === key ? 0 : -1;
        }
    };
    for (const [key, label] of [["details", _("Details")], ["config", _("Config")], ["layers", _("Layers")]]) {
        const b = h("button", { type: "button", role: "tab", dataset: { tab: key }, id: `tabbtn-${key}` }, label);
        b.addEventListener("click", () => select(key));
        b.addEventListener("keydown", ev => {
            const keys = Object.keys(panels);
            const i = keys.indexOf(key);
            if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
                const next = keys[(i + (ev.key === "ArrowRight" ? 1 : keys.length - 1)) % keys.length];
                select(next);
                tabs.querySelector(`[data-tab="${next}"]`).focus();
            }
        });
        tabs.append(b);
    }

    replace(main,
            h("nav", { class: "breadcrumb", "aria-label": _("Breadcrumb") },
              h("a", { href: imagesHref() }, _("Images")), " / ", h("a", { href: streamHref(project, name) }, repo), " / ", h("span", null, /^sha256:/.test(ref) ? shortDigest(ref) : ref)),
            h("h1", null, `${repo}${/^sha256:/.test(ref) ? "@" + shortDigest(ref) : ":" + ref}`),
            tabs, details, config, layers);
    select("details");
    return null;
}
