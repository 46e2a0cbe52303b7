// tagdelete.js: deleting from the tag page, each time saying first what
// goes and about how much it frees: one image (its manifest and every tag
// on it), the selected images, or every manifest of a repository (registry
// mode); in OpenShift mode tags are removed from the image stream and the
// images stay until pruned. Imports only leaf modules; the backend comes in
// as an argument; touches nothing at import time.
//
//   const deleter = tagDeleter({ backend, project, name, list: () => tagList, complete: () => bool,
//                                deleted: tags => … });
//   deleter.blocked()             // registry mode: why nothing may be deleted yet, or ""
//   deleter.one(entry)            // a row of the table (TagList.view() entry)
//   deleter.selected(picks)       // the selection: [{key, tags picked}] (Selection.picks())
//   deleter.repository()          // every manifest; resolves true when something was tried
//   deleter.loadBlobs(keys)       // OpenShift: the layers of the stream's images

import { _, format, nformat, formatSize } from "./i18n.js";
import { confirmDelete } from "./dialogs.js";
import { shortDigest } from "./format.js";
import { runDeletions, freedText } from "./deletions.js";

// How many tags a dialog names before "and N more".
const NAMED = 20;
// OpenShift: image objects read to count what a removal frees.
const IMAGES_COUNTED = 300;

export function tagNames(tags) {
    if (tags.length <= NAMED)
        return tags.join(", ");
    return format(_("{tags} and {n} more"), { tags: tags.slice(0, NAMED).join(", "), n: tags.length - NAMED });
}

// Registry mode: why deleting is not offered yet, or "". A manifest
// deleted by digest takes every tag on it, so a dialog can name them all
// only once every tag was listed and read (COMPLETE: the channel ended
// without failing). A tag whose read failed may be on any manifest; one
// the registry no longer has (HTTP 404) is on none and does not count.
export function deleteBlocked(list, complete) {
    if (!complete || list.resolved < list.size)
        return _("Deleting is possible once every tag is read: a deleted manifest takes every tag on it along, and tags not read yet could not be named.");
    if (list.errors.length)
        return _("Not every tag could be listed: a deleted manifest could take tags along that are not shown. Reload to try again.");
    const { failed } = list.unreadTags();
    if (failed.length)
        return nformat("{n} tag could not be read: a deleted manifest could take it along unnamed. Reload to try again.",
                       "{n} tags could not be read: a deleted manifest could take them along unnamed. Reload to try again.",
                       failed.length);
    return "";
}

// What deleting the selection PICKS ([{key, tags}], Selection.picks()) of
// LIST takes: {groups, tags (every tag that goes), hidden (of those, the
// ones not picked: a registry manifest takes every tag on it, whatever the
// filter showed), plan (TagList.plan() of the manifests that go, or in
// OpenShift of the images left without a tag)}. OpenShift removes only the
// picked tags still on their image.
export function describeSelection(list, picks, master) {
    const groups = [], tags = [], hidden = [];
    for (const { key, tags: picked } of picks) {
        const g = list.group(key);
        if (!g || !g.digest)
            continue;
        const chosen = new Set((picked || []).filter(t => list.groupOf.get(t) === key));
        if (master && !chosen.size)
            continue;
        groups.push(g);
        for (const t of g.tags) {
            if (chosen.has(t))
                tags.push(t);
            else if (!master)
                hidden.push(t);
        }
    }
    // the tags going though not picked come first in what is named
    const all = master ? tags : [...hidden, ...tags];
    const going = new Set(tags);
    const emptied = master ? groups.filter(g => g.tags.every(t => going.has(t))) : groups;
    return { groups, tags: all, hidden, plan: list.plan(emptied.map(g => g.digest)) };
}

// An error after which the other deletions would fail the same way.
function hopeless(e) {
    return !!e && (e.status === 405 || e.status === 401 || e.status === 403 || e.problem === "disconnected");
}

export function tagDeleter({ backend, project, name, list, complete = () => true, deleted }) {
    const repo = project ? `${project}/${name}` : name;
    const master = backend.kind === "master";
    const mode = master ? "openshift" : "registry";
    const blobCache = new Map();    // digest → its layers (images never change)
    // OpenShift removes tags by name: nothing is taken along unnamed
    const blocked = () => (master ? "" : deleteBlocked(list(), complete()));

    // OpenShift: the layers of the images of this stream, what a plan
    // compares with (those of KEYS first, at most IMAGES_COUNTED in all)
    const loadBlobs = async keys => {
        if (!master)
            return;
        const wanted = new Set(keys);
        const groups = [...list().groups.values()].filter(g => g.digest && !g.blobs);
        const first = groups.filter(g => wanted.has(g.key));
        const rest = groups.filter(g => !wanted.has(g.key)).slice(0, Math.max(0, IMAGES_COUNTED - first.length));
        await Promise.all([...first, ...rest].map(async g => {
            if (!blobCache.has(g.digest))
                blobCache.set(g.digest, backend.imageBlobs(g.digest).then(b => new Map(b)).catch(() => null));
            g.blobs = await blobCache.get(g.digest);
        }));
        list().version++;
    };

    // What a plan takes along and frees, as sentences.
    const planLines = plan => {
        const lines = [];
        if (plan.children.length)
            lines.push(nformat("The index's {n} platform manifest goes too: no other tag uses it.",
                               "The indexes' {n} platform manifests go too: no other tag uses them.",
                               plan.children.length));
        for (const b of plan.broken)
            lines.push(format(_("Warning: the index {tags} uses {digest} for a platform; it will point at a manifest that is gone."),
                              { tags: b.tags.join(", "), digest: shortDigest(b.platform) }));
        lines.push(freedText(plan, mode));
        return lines;
    };

    // The tags whose deletion succeeded: a registry manifest takes every
    // tag on it (a platform manifest none); OpenShift items are tags.
    const deletedTags = (results, plan) => {
        if (master)
            return results.filter(r => r.ok).map(r => r.item.id);
        const gone = new Set(results.filter(r => r.ok).map(r => r.item.id));
        return plan.tags.filter(t => {
            const g = list().groupOfTag(t);
            return g && gone.has(g.digest);
        });
    };

    const resultSummary = (results, plan, whole) => {
        const ok = results.filter(r => r.ok);
        const lines = [master
            ? nformat("{n} tag removed.", "{n} tags removed.", ok.length)
            : format(_("{manifests} deleted, and with them {tags}."), {
                manifests: nformat("{n} manifest", "{n} manifests", ok.length),
                tags: nformat("{n} tag", "{n} tags", deletedTags(results, plan).length) })];
        if (ok.length < results.length)
            lines.push(nformat("{n} not deleted: see the list above.", "{n} not deleted: see the list above.",
                               results.length - ok.length));
        if (!master && ok.length) {
            lines.push(plan.freed
                ? format(_("The registry reclaims about {size} at its next garbage collection (registry garbage-collect), not before."),
                         { size: formatSize(plan.freed) })
                : _("Storage comes back only at the registry's next garbage collection (registry garbage-collect)."));
        }
        if (whole) {
            lines.push(_("Manifests that no tag names (pushed by digest only) cannot be listed through the registry's API and were not deleted; garbage collection with --delete-untagged removes them."));
            lines.push(format(_("The registry keeps listing {repository} in its catalog, without tags, until its storage is cleaned up."),
                              { repository: repo }));
        }
        return lines;
    };

    // a platform manifest goes after the indexes that list it, and only
    // when they were deleted (deletions.js)
    const itemsOf = plan => plan.manifests.map(d => {
        const g = list().group(d);
        return { id: d, after: (plan.parents && plan.parents.get(d)) || [],
                 label: g ? `${tagNames(g.tags)} (${shortDigest(d)})`
                          : format(_("platform manifest {digest}"), { digest: shortDigest(d) }) };
    });

    // Run the deletions of PLAN with progress; the list learns what went.
    const run = async (title, items, plan, whole) => {
        const results = await runDeletions({
            title, items, stopOn: hopeless,
            run: item => (master ? backend.removeTag(project, name, item.id)
                                 : backend.deleteManifest(project, name, item.id)),
            summary: r => resultSummary(r, plan, whole),
        });
        deleted(deletedTags(results, plan));
        return results;
    };

    const one = async entry => {
        const g = entry.group;
        if (blocked())
            return;
        if (master) {
            await loadBlobs([g.key]);
            const what = [g.tags.length === 1
                ? format(_("The tag {tag} will be removed from {name}. The image stays in the registry until it is pruned."),
                         { tag: g.tags[0], name: repo })
                : format(_("The tags {tags} will be removed from {name}. The image stays in the registry until it is pruned."),
                         { tags: g.tags.join(", "), name: repo })];
            if (g.digest)
                what.push(freedText(list().plan([g.digest]), mode));
            const removeAll = () => g.tags.reduce((p, t) => p.then(() => backend.removeTag(project, name, t)),
                                                  Promise.resolve());
            if (await confirmDelete({ title: g.tags.length === 1 ? _("Remove tag") : _("Remove tags"), what,
                                      run: removeAll }))
                deleted(g.tags.slice());
            return;
        }
        const plan = list().plan([g.digest]);
        const others = g.tags.filter(t => t !== entry.primary);
        const what = [format(_("The manifest {digest} will be deleted from {name}."), { digest: g.digest, name: repo })];
        what.push(others.length
            ? nformat("{n} tag points at it and goes too: {tags}", "{n} tags point at it and go too: {tags}",
                      g.tags.length, { tags: tagNames([entry.primary, ...others]) })
            : format(_("The tag {tag} will go with it."), { tag: entry.primary }));
        what.push(...planLines(plan));
        // the index first, then its platforms
        const deleteAll = () => plan.manifests.reduce((p, d) => p.then(() => backend.deleteManifest(project, name, d)),
                                                      Promise.resolve());
        if (await confirmDelete({ title: _("Delete image manifest"), what, typeName: shortDigest(g.digest),
                                  run: deleteAll }))
            deleted(plan.tags);
    };

    const selected = async picks => {
        if (blocked())
            return;
        const first = describeSelection(list(), picks, master);
        if (!first.groups.length)
            return;
        await loadBlobs(first.groups.map(g => g.key));
        const { groups, tags, hidden, plan } = describeSelection(list(), picks, master);
        if (!groups.length)
            return;
        const what = [];
        if (hidden.length)
            what.push(nformat("{n} tag that the filter did not show goes too: it is on a manifest deleted. {list}",
                              "{n} tags that the filter did not show go too: they are on the manifests deleted. {list}",
                              hidden.length, { list: tagNames(hidden) }));
        what.push(master
            ? format(_("{tags} will be removed from {name}: {list}. The images stay in the registry until they are pruned."),
                     { tags: nformat("{n} tag", "{n} tags", tags.length), name: repo, list: tagNames(tags) })
            : format(_("{images} will be deleted from {name}: {manifests} and every tag on them, {tags}: {list}."), {
                images: nformat("{n} image", "{n} images", groups.length), name: repo,
                manifests: nformat("{n} manifest", "{n} manifests", plan.manifests.length),
                tags: nformat("{n} tag", "{n} tags", tags.length), list: tagNames(tags) }));
        what.push(...planLines(plan));
        const ok = await confirmDelete({
            title: master ? _("Remove the selected tags") : _("Delete the selected images"), what,
            action: master ? nformat("Remove {n} tag", "Remove {n} tags", tags.length)
                           : nformat("Delete {n} image", "Delete {n} images", groups.length),
        });
        if (ok)
            await run(master ? _("Removing tags") : _("Deleting images"),
                      master ? tags.map(t => ({ id: t, label: t })) : itemsOf(plan), plan, false);
    };

    // registry mode: every manifest of the repository, after the user typed its name
    const repository = async () => {
        if (blocked())
            return false;
        const groups = [...list().groups.values()].filter(g => g.digest);
        const { gone } = list().unreadTags();
        const plan = list().plan(groups.map(g => g.digest));
        const what = [format(_("Every manifest of {name} will be deleted: {manifests}, with every tag, {tags}."), {
            name: repo, manifests: nformat("{n} manifest", "{n} manifests", plan.manifests.length),
            tags: nformat("{n} tag", "{n} tags", plan.tags.length) })];
        if (gone.length)
            what.push(format(_("Tags whose manifest is missing (HTTP 404) are on no manifest deleted here and stay: {tags}"),
                             { tags: tagNames(gone) }));
        if (plan.freed !== null)
            what.push(format(_("This frees about {size} (every blob of this repository once); the registry reclaims it at its next garbage collection. Other repositories were not checked: a layer they share stays."),
                             { size: formatSize(plan.freed) }));
        what.push(_("Storage comes back only after the registry's garbage collection."));
        if (!await confirmDelete({ title: _("Delete repository"), what, typeName: repo, action: _("Delete repository") }))
            return false;
        await run(format(_("Deleting {repository}"), { repository: repo }), itemsOf(plan), plan, true);
        return true;
    };

    return { one, selected, repository, loadBlobs, blocked };
}
