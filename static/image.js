// image.js: one image, in Details / Config / Layers / Dockerfile tabs. For
// an index (multi-arch), the platform chosen above the tabs is the one whose
// config, layers and history are shown.

import { h, replace } from "./dom.js";
import { _, format, nformat, formatDate, formatSize } from "./i18n.js";
import { projectFromPart, imagesHref, streamHref, imageHref } from "./routes.js";
import { shortDigest, textBlock } from "./format.js";
import { commandsBox } from "./commands.js";
import { layerSteps, layersTable, dockerfileText } from "./history.js";

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

// The image's compressed size as the registry stores it, and what it counts.
function storageText(img) {
    const what = img.platforms.length
        ? _("compressed; every distinct blob of its platforms once")
        : typeof img.configSize === "number"
            ? format(_("compressed: the config and {layers} as stored"),
                     { layers: nformat("{n} layer", "{n} layers", img.layers.length) })
            : _("compressed");
    return `${formatSize(img.size)} (${what})`;
}

export async function show({ backend, session, main }, projectPart, name, ref) {
    const project = projectFromPart(projectPart);
    const repo = project ? `${project}/${name}` : name;
    const registryHost = session.registry_host || location.hostname;
    const img = await backend.image(project, name, ref);

    const labels = Object.entries(img.config.labels || {});
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
            [_("Size"), img.size ? storageText(img) : "", "image-size"],
            [_("Uncompressed size"), typeof img.uncompressed === "number" ? formatSize(img.uncompressed) : "",
             "image-uncompressed"]]),
        img.platforms.length ? [h("h3", null, _("Platforms")),
            h("table", { class: "list", id: "image-platforms" },
              h("thead", null, h("tr", null, h("th", null, _("Platform")), h("th", null, _("Digest")),
                                 h("th", { class: "size" }, _("Size")))),
              h("tbody", null, img.platforms.map(p => h("tr", null,
                  h("td", null, [p.os, p.architecture, p.variant].filter(Boolean).join("/")),
                  h("td", null, h("a", { href: imageHref(project, name, p.digest),
                                        title: p.digest, class: "digest" }, shortDigest(p.digest))),
                  h("td", { class: "size" }, typeof p.imageSize === "number" ? formatSize(p.imageSize) : "")))))] : null,
        h("h3", null, _("Labels")), kv(labels, "image-labels"),
        annotations.length ? [h("h3", null, _("Annotations")), kv(annotations, "image-annotations")] : null,
        commandsBox({ host: registryHost, repo, ref: /^sha256:/.test(ref) ? null : ref,
                      refs: img.digest ? [img.digest] : [], id: "image-commands" }));

    const config = h("section", { id: "tab-config", role: "tabpanel", hidden: true });
    const layers = h("section", { id: "tab-layers", role: "tabpanel", hidden: true });
    const dockerfile = h("section", { id: "tab-dockerfile", role: "tabpanel", hidden: true });
    // config, layers and history of one image (a platform's, for an index)
    const showPlatform = one => {
        const c = one.config;
        replace(config,
            dl([[_("Command"), h("code", null, joinCmd(c.cmd)), "image-cmd"],
                [_("Entrypoint"), c.entrypoint ? h("code", null, joinCmd(c.entrypoint)) : "", "image-entrypoint"],
                [_("Working directory"), c.workingDir, "image-workdir"],
                [_("User"), c.user, "image-user"],
                [_("Exposed ports"), list(c.ports, "image-ports")],
                [_("Volumes"), list(c.volumes, "image-volumes")]]),
            h("h3", null, _("Environment")),
            c.env.length ? list(c.env, "image-env") : h("p", { class: "muted" }, _("None")));
        const steps = layerSteps(one.layers, one.history);
        replace(layers,
            steps.steps.length ? layersTable(steps) : h("p", { class: "muted" }, _("No layers.")),
            one.history ? null : h("p", { class: "muted", id: "no-history" }, _("The image records no history: the commands that made its layers are unknown.")),
            one.history && !steps.consistent
                ? h("p", { class: "muted", id: "history-mismatch" }, _("The image's history does not match its layers; they are shown in order."))
                : null);
        replace(dockerfile,
            one.history
                ? [h("p", { class: "hint" }, _("The commands recorded in the image's history, as a Dockerfile. Build arguments, the base image and files copied in are not recorded.")),
                   textBlock(dockerfileText(steps.steps), "image-dockerfile")]
                : h("p", { class: "muted" }, _("The image records no history: the commands that made its layers are unknown.")));
    };

    const panels = { details, config, layers, dockerfile };
    const tabs = h("div", { class: "tabs", role: "tablist" });
    const select = key => {
        for (const [k, panel] of Object.entries(panels)) {
            panel.hidden = k !== key;
            const b = tabs.querySelector(`[data-tab="${k}"]`);
            b.setAttribute("aria-selected", String(k === key));
            b.tabIndex = k === key ? 0 : -1;
        }
    };
    for (const [key, label] of [["details", _("Details")], ["config", _("Config")], ["layers", _("Layers")],
                                ["dockerfile", _("Dockerfile")]]) {
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

    // an index: choose the platform (linux/amd64 first, as a pull would on
    // most machines)
    let platformBox = null;
    if (img.platforms.length) {
        const label = p => [p.os, p.architecture, p.variant].filter(Boolean).join("/");
        const first = img.platforms.find(p => p.os === "linux" && p.architecture === "amd64") || img.platforms[0];
        const choose = h("select", { id: "image-platform" },
                         img.platforms.map(p => h("option", { value: p.digest, selected: p === first }, label(p))));
        const status = h("span", { class: "muted", role: "status" });
        choose.addEventListener("change", async () => {
            status.textContent = _("Loading…");
            try {
                showPlatform(await backend.image(project, name, choose.value));
                status.textContent = "";
            } catch (e) {
                status.textContent = e.message || String(e);
            }
        });
        platformBox = h("div", { class: "toolbar platform" }, h("label", { for: "image-platform" }, _("Platform")), choose, status);
        showPlatform(await backend.image(project, name, first.digest));
    } else {
        showPlatform(img);
    }

    replace(main,
            h("nav", { class: "breadcrumb", "aria-label": _("Breadcrumb") },
              h("a", { href: imagesHref() }, _("Images")), " / ", h("a", { href: streamHref(project, name) }, repo), " / ", h("span", null, /^sha256:/.test(ref) ? shortDigest(ref) : ref)),
            h("h1", null, `${repo}${/^sha256:/.test(ref) ? "@" + shortDigest(ref) : ":" + ref}`),
            platformBox, tabs, details, config, layers, dockerfile);
    select("details");
    return null;
}
