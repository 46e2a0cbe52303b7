// history.js: an image's layers with the commands that made them, and the
// Dockerfile those commands spell. The image config's history (OCI image
// spec, "history") has one entry per build step; an entry with empty_layer
// made no layer (ENV, CMD, LABEL …), every other one made the next layer of
// the manifest, in order. Everything here is data in, data out (or text
// nodes): commands come from the image and are shown as text only.
// Imports only leaf modules; touches nothing at import time.

import { h } from "./dom.js";
import { _, format, nformat, formatSize, formatDate } from "./i18n.js";
import { shortDigest } from "./format.js";

// The history of an image config (the parsed JSON of a config blob, or of
// OpenShift's Image.dockerImageConfig): [{createdBy, created, author,
// comment, emptyLayer}], or null when the config records none.
export function configHistory(config) {
    const list = config && Array.isArray(config.history) ? config.history : null;
    if (!list || !list.length)
        return null;
    return list.filter(e => e && typeof e === "object").map(e => ({
        createdBy: typeof e.created_by === "string" ? e.created_by : "",
        created: typeof e.created === "string" ? e.created : "",
        author: typeof e.author === "string" ? e.author : "",
        comment: typeof e.comment === "string" ? e.comment : "",
        emptyLayer: e.empty_layer === true,
    }));
}

// The build steps: each history entry with the layer it made (null for an
// empty_layer step), then any layers the history does not account for.
// layers: [{digest, size, mediaType}]; history: configHistory() or null.
// Returns {steps: [{command, created, comment, layer}], total, layerCount,
// consistent}: consistent is false when the history and the layers do not
// add up (then the layers are still all there, in order).
export function layerSteps(layers, history) {
    layers = layers || [];
    const steps = [];
    let next = 0;
    let consistent = true;
    for (const e of history || []) {
        let layer = null;
        if (!e.emptyLayer) {
            if (next < layers.length)
                layer = layers[next++];
            else
                consistent = false;
        }
        steps.push({ command: e.createdBy, created: e.created, comment: e.comment, layer });
    }
    if (history && next < layers.length)
        consistent = false;
    for (; next < layers.length; next++)
        steps.push({ command: null, created: "", comment: "", layer: layers[next] });
    const total = layers.reduce((a, l) => a + (Number(l.size) || 0), 0);
    return { steps, total, layerCount: layers.length, consistent: consistent && !!history };
}

// One history command as its Dockerfile instruction:
//   "/bin/sh -c #(nop)  ENV A=b"          → "ENV A=b"        (docker build)
//   "/bin/sh -c apt-get update"           → "RUN apt-get update"
//   "|2 A=1 B=2 /bin/sh -c make"          → "RUN make"       (with build args)
//   "RUN /bin/sh -c make # buildkit"      → "RUN make"       (BuildKit)
//   "COPY . /src # buildkit"              → "COPY . /src"
// Anything else (umoci, buildah, kaniko …) stays as recorded.
export function dockerfileInstruction(command) {
    let c = String(command || "").trim();
    c = c.replace(/\s+# buildkit$/, "");
    let m = /^\/bin\/sh -c #\(nop\)\s+([\s\S]*)$/.exec(c);
    if (m)
        return m[1].trim();
    m = /^(?:\|\d+(?:\s+[^\s=]+=\S*)*\s+)?\/bin\/sh -c\s+([\s\S]*)$/.exec(c);
    if (m)
        return `RUN ${m[1].trim()}`;
    m = /^RUN \/bin\/sh -c\s+([\s\S]*)$/.exec(c);
    if (m)
        return `RUN ${m[1].trim()}`;
    return c;
}

// The whole history as Dockerfile text, one instruction a line (a command
// with line breaks continues with " \" as in a Dockerfile).
export function dockerfileText(steps) {
    return steps.map(s => {
        if (s.command === null || s.command === "")
            return `# ${s.layer ? format(_("layer {digest}: no command recorded"), { digest: shortDigest(s.layer.digest) })
                               : _("a step without a recorded command")}`;
        return dockerfileInstruction(s.command).split("\n").join(" \\\n");
    }).join("\n") + "\n";
}

// The layers table: one row per step ("#", command, size, layer digest),
// steps without a layer marked as such, and the total.
export function layersTable(result, id = "image-layers") {
    let n = 0;
    const rows = result.steps.map(s => {
        const command = s.command === null
            ? h("span", { class: "muted" }, _("no command recorded"))
            : h("code", { class: "created-by", title: s.created ? formatDate(s.created) : null }, s.command || "—");
        return h("tr", { class: s.layer ? "layer" : "step", dataset: { layer: s.layer ? s.layer.digest : "" } },
                 h("td", { class: "num" }, s.layer ? String(++n) : ""),
                 h("td", null, command, s.comment ? h("div", { class: "muted small" }, s.comment) : null),
                 h("td", { class: "size nowrap" }, s.layer ? formatSize(s.layer.size) : h("span", { class: "muted" }, _("no layer"))),
                 h("td", { class: "digest-cell" }, s.layer ? h("code", { title: s.layer.digest, class: "digest" }, shortDigest(s.layer.digest)) : ""));
    });
    return h("table", { class: "list layers", id },
             h("thead", null, h("tr", null, h("th", null, "#"), h("th", null, _("Command")), h("th", null, _("Size")),
                                h("th", null, _("Layer")))),
             h("tbody", null, rows),
             h("tfoot", null, h("tr", null, h("td", null, ""),
                                h("th", { scope: "row" }, nformat("Total of {n} layer", "Total of {n} layers", result.layerCount)),
                                h("td", { class: "size nowrap", id: `${id}-total` }, formatSize(result.total)), h("td", null, ""))));
}
