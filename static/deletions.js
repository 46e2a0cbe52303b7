// deletions.js: deleting many things at once, with progress and a result
// per item, in a dialog that stays open until the user has read it.
// Imports only leaf modules; touches nothing at import time.
//
//   const results = await runDeletions({
//       title, items: [{ id, label, after: [ids] }], run: item => Promise,   // one deletion
//       stopOn: err => bool,        // an error that makes the rest pointless (405)
//       summary: results => [text…] });
//   // results: [{ item, ok, error, skipped, blockedBy }] in the order of items
//
// Items with "after" (an index's platform manifests) wait until every item
// without it is done, and go only when every item they name was deleted;
// the others are skipped, blockedBy naming the one that was not.

import { h, replace } from "./dom.js";
import { _, format, nformat, formatSize, formatNumber } from "./i18n.js";

const AT_ONCE = 4;          // deletions in flight together
const LISTED = 500;         // above this, only the failures are listed one by one

// The scheduling of runDeletions() without its dialog: the items without
// "after" first, AT_ONCE at a time, then those whose every "after" item
// was deleted. onResult(r) after each item ends (or is skipped). Returns
// {promise (resolves to the results), stop()}.
export function deleteInPhases({ items, run, stopOn = () => false, atOnce = AT_ONCE, onResult = () => null }) {
    const results = items.map(item => ({ item, ok: false, error: null, skipped: false, blockedBy: null, done: false }));
    const byId = new Map(results.map(r => [r.item.id, r]));
    const waits = r => Array.isArray(r.item.after) && r.item.after.length > 0;
    let stopped = false;
    const runPhase = list => new Promise(resolve => {
        let next = 0, running = 0;
        const pump = () => {
            while (!stopped && running < atOnce && next < list.length) {
                const r = list[next++];
                const blocker = waits(r) ? r.item.after.find(id => !(byId.get(id) && byId.get(id).ok)) : undefined;
                if (blocker !== undefined) {
                    r.done = true;
                    r.skipped = true;
                    r.blockedBy = byId.get(blocker) ? byId.get(blocker).item : { id: blocker, label: blocker };
                    onResult(r);
                    continue;
                }
                running++;
                Promise.resolve().then(() => run(r.item)).then(() => {
                    r.ok = true;
                }, err => {
                    r.error = err;
                    if (stopOn(err))
                        stopped = true;
                }).finally(() => {
                    r.done = true;
                    running--;
                    onResult(r);
                    pump();
                });
            }
            if ((stopped || next >= list.length) && running === 0)
                resolve();
        };
        pump();
    });
    const promise = (async () => {
        await runPhase(results.filter(r => !waits(r)));
        await runPhase(results.filter(waits));
        for (const r of results) {
            if (!r.done) {
                r.done = true;
                r.skipped = true;
                onResult(r);
            }
        }
        return results;
    })();
    return { promise, results, stop: () => { stopped = true; } };
}

export function runDeletions({ title, items, run, stopOn = () => false, summary = null, id = "delete-progress" }) {
    return new Promise(resolve => {
        const status = h("p", { class: "delete-status", role: "status" });
        const bar = h("progress", { max: String(Math.max(items.length, 1)), value: "0" });
        const listAll = items.length <= LISTED;
        const rows = new Map();
        const tbody = h("tbody");
        const table = h("table", { class: "list delete-results" },
                        h("thead", null, h("tr", null, h("th", null, _("Item")), h("th", null, _("Result")))), tbody);
        const resultRow = r => {
            const cls = r.ok ? "deleted" : r.skipped ? "skipped" : r.error ? "failed" : "waiting";
            const text = r.ok ? _("deleted")
                : r.blockedBy ? format(_("not deleted: {index}, which lists it, was not deleted"), { index: r.blockedBy.label })
                : r.skipped ? _("not deleted (stopped)")
                : r.error ? format(_("not deleted: {error}"), { error: r.error.message || String(r.error) })
                    : r.done ? "" : _("waiting");
            return h("tr", { class: cls, dataset: { item: r.item.id } },
                     h("td", null, r.item.label), h("td", { class: "result" }, text));
        };
        const show = r => {
            if (!listAll && (r.ok || !r.done))
                return;
            const tr = resultRow(r);
            const old = rows.get(r.item.id);
            if (old)
                old.replaceWith(tr);
            else
                tbody.append(tr);
            rows.set(r.item.id, tr);
        };
        const summaryBox = h("div", { class: "delete-summary", id: `${id}-summary` });
        const stop = h("button", { type: "button", class: "secondary", id: `${id}-stop` }, _("Stop"));
        const close = h("button", { type: "button", class: "primary", id: `${id}-close`, hidden: true }, _("Close"));
        const dlg = h("dialog", { class: "modal wide", id, "aria-label": title },
                      h("h2", null, title), status, bar, h("div", { class: "delete-results-box" }, table), summaryBox,
                      h("div", { class: "dialog-actions" }, stop, close));
        document.body.append(dlg);
        // Escape does not hide a running deletion; once it is done, it closes
        dlg.addEventListener("cancel", ev => {
            ev.preventDefault();
            if (!close.hidden)
                close.click();
        });

        let finished = 0;
        const counts = { ok: 0, failed: 0, skipped: 0 };
        const update = () => {
            bar.value = finished;
            const n = { total: formatNumber(items.length), done: formatNumber(finished), ok: formatNumber(counts.ok),
                        failed: formatNumber(counts.failed), skipped: formatNumber(counts.skipped) };
            status.textContent = finished < items.length
                ? format(_("Deleting: {done} of {total} done, {failed} failed"), n)
                : format(_("Done: {ok} of {total} deleted, {failed} failed, {skipped} not tried"), n);
        };
        const end = () => {
            update();
            stop.hidden = true;
            close.hidden = false;
            if (summary)
                replace(summaryBox, [].concat(summary(phases.results)).map(t => (t instanceof Node ? t : h("p", null, t))));
            close.focus();
        };
        stop.addEventListener("click", () => {
            stop.disabled = true;
            phases.stop();
        });
        close.addEventListener("click", () => {
            dlg.close();
            dlg.remove();
            resolve(phases.results);
        });
        // the deletions start (none ends before the rows are listed)
        const phases = deleteInPhases({ items, run, stopOn, onResult: r => {
            counts[r.ok ? "ok" : r.skipped ? "skipped" : "failed"]++;
            finished++;
            show(r);
            update();
        } });
        if (listAll)
            phases.results.forEach(show);
        dlg.showModal();
        stop.focus();
        update();
        if (!listAll)
            tbody.append(h("tr", { class: "note" }, h("td", { colspan: "2" },
                nformat("{n} item: it is listed here only if it fails.",
                        "{n} items: only those that fail are listed here.", items.length))));
        phases.promise.then(end);
    });
}

// The words for what deleting PLAN (TagList.plan()) frees. mode: "registry"
// (the space comes back at the registry's garbage collection) or "openshift"
// (after image pruning). Returns a sentence, or null when the sizes are
// unknown.
export function freedText(plan, mode) {
    if (plan.freed === null || plan.freed === undefined)
        return mode === "openshift"
            ? _("The space this frees after image pruning is not known: the image's layers could not be read.")
            : _("The space this frees is not known: the registry did not give the sizes of these images' blobs.");
    let counted;
    if (mode === "openshift")
        counted = plan.counted.otherTags
            ? nformat("counted: the {n} other tag of this image stream", "counted: the {n} other tags of this image stream",
                      plan.counted.otherTags)
            : _("no other tag of this image stream is left");
    else
        counted = plan.counted.otherTags
            ? nformat("counted: the {n} other tag of this repository", "counted: the {n} other tags of this repository",
                      plan.counted.otherTags)
            : _("no other tag of this repository is left");
    const parts = [];
    if (plan.freed === 0) {
        parts.push(mode === "openshift"
            ? format(_("This frees nothing after image pruning: other tags of this image stream use every layer ({counted})."), { counted })
            : format(_("This frees nothing: other tags of this repository use every layer and config ({counted})."), { counted }));
    } else {
        parts.push(mode === "openshift"
            ? format(_("This frees about {size} after image pruning: the layers no other tag of this image stream uses ({counted})."),
                     { size: formatSize(plan.freed), counted })
            : format(_("This frees about {size} now that no other tag uses these layers ({counted}); the registry reclaims it at its next garbage collection."),
                     { size: formatSize(plan.freed), counted }));
        parts.push(mode === "openshift"
            ? _("Other image streams were not checked: a layer they use stays.")
            : _("Other repositories were not checked: a layer they share stays."));
    }
    if (plan.counted.unknown)
        parts.push(nformat("{n} tag was not read yet and was not counted.", "{n} tags were not read yet and were not counted.",
                           plan.counted.unknown));
    return parts.join(" ");
}
