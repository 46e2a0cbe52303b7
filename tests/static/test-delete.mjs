#!/usr/bin/env node
// test-delete.mjs: what the tag page deletes, under `make check` with plain
// Node.js over the stand-in DOM (no browser, no npm packages):
//  - registry mode offers deleting only once every tag is listed and read
//    (a manifest deleted by digest takes every tag on it along);
//  - what a selection deletes or removes, and what a dialog names;
//  - platform manifests only after every index naming them is deleted.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { install as installDom } from "./standin-dom.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const staticDir = path.join(here, "..", "..", "static");

// Node.js loads static/*.js as ES modules from a copy marked "type": "module".
const copy = fs.mkdtempSync(path.join(os.tmpdir(), "rc-delete-"));
process.on("exit", () => fs.rmSync(copy, { recursive: true, force: true }));
for (const f of fs.readdirSync(staticDir))
    if (f.endsWith(".js"))
        fs.copyFileSync(path.join(staticDir, f), path.join(copy, f));
fs.writeFileSync(path.join(copy, "package.json"), '{ "type": "module" }\n');
installDom();
const load = name => import(pathToFileURL(path.join(copy, name)).href);
const { TagList } = await load("taglist.js");
const tagdelete = await load("tagdelete.js");

const D = c => `sha256:${c.repeat(64)}`;

// 1.0 (a), 1.1 = latest (b), multi (an index over b and c), gone (404),
// later (not read yet)
function repository() {
    const list = new TagList();
    list.addNames(["1.0", "1.1", "latest", "multi", "gone", "later"]);
    list.addRow({ type: "tag", tag: "1.0", digest: D("a"), size: 1100, blobs: [D("1"), D("2")], blobSizes: [1000, 100] });
    list.addRow({ type: "tag", tag: "1.1", digest: D("b"), size: 1500, blobs: [D("1"), D("3")], blobSizes: [1000, 500] });
    list.addRow({ type: "tag", tag: "latest", digest: D("b"), size: 1500, blobs: [D("1"), D("3")], blobSizes: [1000, 500] });
    list.addRow({ type: "tag", tag: "multi", digest: D("m"), size: 3500,
                  mediaType: "application/vnd.oci.image.index.v1+json",
                  platforms: [{ digest: D("b") }, { digest: D("c") }],
                  blobs: [D("1"), D("3"), D("5")], blobSizes: [1000, 500, 1900] });
    list.addRow({ type: "tag", tag: "gone", error: "manifest unknown", status: 404 });
    return list;
}

const registryBackend = calls => ({
    kind: "registry",
    deleteManifest: (p, n, d) => { calls.push(d); return Promise.resolve(); },
});

test("registry mode: nothing is deleted before every tag is listed and read", async () => {
    const list = repository();
    let complete = false;
    const calls = [];
    const deleter = tagdelete.tagDeleter({ backend: registryBackend(calls), project: "", name: "app", list: () => list,
                                           complete: () => complete, deleted: () => null });
    // still streaming: blocked, and why
    assert.match(deleter.blocked(), /once every tag is read/);
    complete = true;
    // the channel ended but "later" has no row: still blocked
    assert.match(deleter.blocked(), /once every tag is read/);
    list.addRow({ type: "tag", tag: "later", digest: D("a"), size: 1100 });
    // "gone" (404) is on no manifest: it does not block
    assert.equal(deleter.blocked(), "");
    // a tag whose read failed otherwise could be on any manifest
    list.addNames(["broken"]);
    list.addRow({ type: "tag", tag: "broken", error: "502 Bad Gateway", status: 502 });
    assert.equal(deleter.blocked(), "1 tag could not be read: a deleted manifest could take it along unnamed. Reload to try again.");
    assert.deepEqual(list.unreadTags(), { failed: ["broken"], gone: ["gone"] });
    list.removeTags(["broken"]);
    assert.equal(deleter.blocked(), "");
    // a tags/list page that failed: tags may be missing altogether
    list.addError({ type: "error", error: "500 Internal Server Error" });
    assert.match(deleter.blocked(), /^Not every tag could be listed/);
    // blocked: the deleter itself refuses, no dialog, no request
    const entry = list.view({}).find(e => e.group.digest === D("a"));
    await deleter.one(entry);
    await deleter.selected([D("a")]);
    assert.equal(await deleter.repository(), false);
    assert.deepEqual(calls, []);
    assert.equal(document.body, undefined, "no dialog was made");
});

test("OpenShift mode: removing tags by name is never blocked", () => {
    const list = repository();
    const deleter = tagdelete.tagDeleter({ backend: { kind: "master" }, project: "p", name: "s", list: () => list,
                                           complete: () => false, deleted: () => null });
    assert.equal(deleter.blocked(), "");
});

/* ------------------------------------------------------------- the selection */

test("a selection keeps the tags shown matching; a manifest deleted names every tag on it, the hidden first", async () => {
    const { Selection } = await load("taglist.js");
    const list = repository();
    list.addRow({ type: "tag", tag: "later", digest: D("l"), size: 1 });
    const sel = new Selection();
    // "Select all matching" under the filter 1.*: images a and b, but of b
    // only 1.1 matched; latest is on the same manifest
    assert.equal(sel.selectAll(list.view({ filter: "1.*", sort: "name" })), 0);
    assert.deepEqual(sel.picks(), [{ key: D("a"), tags: ["1.0"] }, { key: D("b"), tags: ["1.1"] }]);

    // registry: both manifests go, with latest, which was not shown: named first
    const reg = tagdelete.describeSelection(list, sel.picks(), false);
    assert.deepEqual(reg.groups.map(g => g.digest), [D("a"), D("b")]);
    assert.deepEqual(reg.hidden, ["latest"]);
    assert.deepEqual(reg.tags, ["latest", "1.0", "1.1"]);
    assert.deepEqual(reg.plan.manifests, [D("a"), D("b")]);

    // OpenShift: only the tags that matched are removed; b keeps latest and
    // frees nothing, a is left without a tag
    const os_ = tagdelete.describeSelection(list, sel.picks(), true);
    assert.deepEqual(os_.tags, ["1.0", "1.1"]);
    assert.deepEqual(os_.hidden, []);
    assert.deepEqual(os_.plan.manifests, [D("a")]);

    // a picked tag that moved to another image is not taken from there
    list.addRow({ type: "tag", tag: "1.1", digest: D("l"), size: 1 });
    sel.prune(list);
    assert.deepEqual(sel.picks(), [{ key: D("a"), tags: ["1.0"] }]);
    assert.deepEqual(tagdelete.describeSelection(list, [{ key: D("b"), tags: ["1.1"] }], true).tags, []);
    // without a filter every tag of a clicked image is picked
    sel.clear();
    const all = list.view({ sort: "name" });
    sel.click(all, all.findIndex(e => e.group.digest === D("b")));
    assert.deepEqual(sel.picks(), [{ key: D("b"), tags: ["latest"] }]);
});

test("a dialog names at most 20 tags and says how many more", () => {
    const tags = Array.from({ length: 25 }, (_, i) => `t${i}`);
    assert.equal(tagdelete.tagNames(tags.slice(0, 3)), "t0, t1, t2");
    assert.equal(tagdelete.tagNames(tags), `${tags.slice(0, 20).join(", ")} and 5 more`);
});

/* ------------------------------------------------------------- indexes before their platforms */

// run() for deleteInPhases: records starts and ends, fails the ids in FAIL,
// each deletion ends a few turns later
function recorder(fail = []) {
    const log = [];
    const run = async item => {
        log.push(`start ${item.id}`);
        for (let i = 0; i < 3; i++)
            await new Promise(r => setImmediate(r));
        log.push(`end ${item.id}`);
        if (fail.includes(item.id))
            throw new Error(`${item.id} failed`);
    };
    return { log, run };
}

test("platform manifests go only after every index that lists them was deleted", async () => {
    const { deleteInPhases } = await load("deletions.js");
    const list = repository();
    list.addRow({ type: "tag", tag: "later", digest: D("a"), size: 1100 });
    // the index m and image a: m's platform c goes too (b stays, 1.1 uses it)
    const plan = list.plan([D("m"), D("a")]);
    assert.deepEqual(plan.manifests, [D("m"), D("a"), D("c")]);
    assert.deepEqual([...plan.parents], [[D("c"), [D("m")]]]);
    const items = plan.manifests.map(d => ({ id: d, label: d, after: plan.parents.get(d) || [] }));

    // the index fails: its platform is not even tried
    let { log, run } = recorder([D("m")]);
    let results = await deleteInPhases({ items, run }).promise;
    assert.deepEqual(results.map(r => [r.ok, r.skipped, r.blockedBy && r.blockedBy.id]),
                     [[false, false, null], [true, false, null], [false, true, D("m")]]);
    assert.ok(!log.includes(`start ${D("c")}`), log.join("\n"));

    // the index goes: then its platform, never before every index ended
    ({ log, run } = recorder());
    results = await deleteInPhases({ items, run }).promise;
    assert.deepEqual(results.map(r => r.ok), [true, true, true]);
    assert.ok(log.indexOf(`start ${D("c")}`) > log.indexOf(`end ${D("m")}`), log.join("\n"));
    assert.ok(log.indexOf(`start ${D("c")}`) > log.indexOf(`end ${D("a")}`), log.join("\n"));

    // a platform that is an image of its own, selected too, also waits
    const both = list.plan([D("m"), D("b")]);
    assert.deepEqual(both.parents.get(D("b")), [D("m")]);
});

test("stopping: what did not start is skipped, not deleted", async () => {
    const { deleteInPhases } = await load("deletions.js");
    const { run } = recorder();
    const items = Array.from({ length: 10 }, (_, i) => ({ id: `x${i}`, label: `x${i}` }));
    const phases = deleteInPhases({ items, run, atOnce: 2, stopOn: () => false });
    phases.stop();
    const results = await phases.promise;
    assert.equal(results.filter(r => r.ok).length, 2);
    assert.equal(results.filter(r => r.skipped).length, 8);
});
