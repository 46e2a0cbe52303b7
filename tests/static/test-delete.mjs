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
