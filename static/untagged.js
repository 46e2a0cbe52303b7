// untagged.js: the images of the OpenShift master that no tag refers to
// any more (what `oc adm prune images` would remove), each with its size,
// and the space their layers would free (layers other images use are not
// counted; shared ones once).

import { h, replace } from "./dom.js";
import { _, format, nformat, formatSize, relativeTime } from "./i18n.js";
import { shortDigest } from "./format.js";
import { imagesHref } from "./routes.js";

export async function show({ backend, main }) {
    const { images, freed, total } = await backend.untaggedImages();
    const repoOf = ref => ref.replace(/^[^/]*\//, "").replace(/@.*$/, "");
    replace(main,
            h("nav", { class: "breadcrumb", "aria-label": _("Breadcrumb") },
              h("a", { href: imagesHref() }, _("Images")), " / ", h("span", null, _("Untagged images"))),
            h("h1", null, _("Untagged images")),
            h("p", { class: "hint" }, _("Images no tag of any image stream refers to, now or in its history: what \"oc adm prune images\" would remove. Pruning is done by a cluster administrator on the master, not here.")),
            h("p", { id: "untagged-summary" },
              nformat("{n} untagged image", "{n} untagged images", images.length), " · ",
              h("span", { id: "untagged-freed", dataset: { bytes: String(freed) } },
                format(_("{size} in layers no tagged image uses"), { size: formatSize(freed) })),
              " · ", h("span", { class: "muted" }, nformat("{n} image in all", "{n} images in all", total))),
            images.length
                ? h("table", { class: "list", id: "untagged-list" },
                    h("thead", null, h("tr", null, h("th", null, _("Image")), h("th", null, _("Last repository")),
                                       h("th", null, _("Created")), h("th", null, _("Size")))),
                    h("tbody", null, images.map(i => h("tr", { dataset: { digest: i.digest } },
                        h("td", null, h("code", { class: "digest", title: i.digest }, shortDigest(i.digest)),
                          i.platforms ? h("span", { class: "badge" }, nformat("{n} platform", "{n} platforms", i.platforms)) : null),
                        h("td", { class: "repository" }, repoOf(i.reference)),
                        h("td", { title: i.created }, i.created ? relativeTime(i.created) : ""),
                        h("td", { class: "size nowrap", dataset: { bytes: String(i.size) } }, formatSize(i.size))))))
                : h("p", { class: "empty" }, _("Every image is tagged: pruning would remove nothing.")));
    return null;
}
