// ui-harness.mjs: the UI's real OpenShift code (static/backend.js) against
// the test master, without a browser. Run by tests/test-contract.py:
//
//   node ui-harness.mjs STATIC_DIR OUT.json
//   env: MASTER_URL, MASTER_CONTROL, MASTER_TOKEN_ALICE, MASTER_TOKEN_BOB,
//        REGISTRY_HOST (the registry the master imports from)
//
// static/backend.js and the modules it imports are copied into a temporary
// directory beside a channel.js that sends the same requests straight to
// the master (the browser suite covers the real channel through the
// server). Every JSON object the master answers is wrapped in a Proxy that
// records which fields the UI reads; OUT.json gets those reads (by the
// object's apiVersion and kind) and the request bodies the UI sent, for the
// test to check against the OpenShift schema.

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [staticDir, outPath] = process.argv.slice(2);
const env = process.env;
const reads = new Set();
const requests = [];
const H = { token: env.MASTER_TOKEN_ALICE, beforeRequest: null, count: { list: 0, continued: 0, expired: 0 }, paused: 0 };
globalThis.__contract = H;
// copying an object whole (JSON.stringify, to send it back or clone it) is
// not reading its fields
const stringify = JSON.stringify;
JSON.stringify = (...args) => {
    H.paused++;
    try {
        return stringify(...args);
    } finally {
        H.paused--;
    }
};

// -- read tracing
const SKIP = new Set(["toJSON", "then", "constructor", "length"]);
function trace(value, root, at) {
    if (value === null || typeof value !== "object")
        return value;
    const copying = new Set();
    return new Proxy(value, {
        // a spread ({ ...o }) asks for each property's descriptor, then
        // gets it: a copy, not a read (as JSON.stringify below)
        getOwnPropertyDescriptor(target, prop) {
            copying.add(prop);
            return Reflect.getOwnPropertyDescriptor(target, prop);
        },
        get(target, prop, receiver) {
            const v = Reflect.get(target, prop, receiver);
            if (copying.delete(prop))
                return v;
            if (typeof prop !== "string" || SKIP.has(prop) ||
                (Array.isArray(target) && !/^\d+$/.test(prop)) ||
                (typeof v === "function" && !Object.prototype.hasOwnProperty.call(target, prop)))
                return v;
            const p = [...at, Array.isArray(target) ? "[]" : prop];
            if (!Array.isArray(target) && !H.paused)
                reads.add(`${root}\t${JSON.stringify(p)}`);
            // a watch event's object is of its own kind
            if (root === "WatchEvent" && p.length === 1 && p[0] === "object" && v && typeof v === "object")
                return trace(v, `${v.apiVersion} ${v.kind}`, []);
            return trace(v, root, p);
        },
    });
}
H.trace = (parsed, isEvent) => {
    if (!parsed || typeof parsed !== "object")
        return parsed;
    return trace(parsed, isEvent ? "WatchEvent" : `${parsed.apiVersion} ${parsed.kind}`, []);
};
H.record = (method, p, body) => requests.push({ method, path: p, body });

async function control(body) {
    const r = await fetch(env.MASTER_CONTROL, { method: "POST", body: JSON.stringify(body) });
    assert.equal(r.status, 200);
    return r.json();
}

// -- the UI modules beside the harness channel
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rc-ui-harness-"));
// every module backend.js may import (channel.js is the harness's own)
for (const f of fs.readdirSync(staticDir).filter(f => f.endsWith(".js") && f !== "channel.js"))
    fs.copyFileSync(path.join(staticDir, f), path.join(dir, f));
fs.writeFileSync(path.join(dir, "channel.js"), `
const H = globalThis.__contract;
export async function http(backend, method, path, { body = null, headers = {} } = {}) {
    if (backend !== "master")
        throw new Error("harness: master only");
    if (H.beforeRequest)
        await H.beforeRequest(method, path);
    if (method === "GET" && /[?&]limit=/.test(path))
        H.count.list++;
    if (/[?&]continue=/.test(path))
        H.count.continued++;
    const r = await fetch(process.env.MASTER_URL + path, {
        method, headers: { ...headers, Authorization: "Bearer " + H.token },
        body: body === null || body === undefined ? undefined : (typeof body === "string" ? body : JSON.stringify(body)),
    });
    if (r.status === 410)
        H.count.expired++;
    const hdrs = {};
    r.headers.forEach((v, k) => { hdrs[k] = v; });
    return { status: r.status, reason: r.statusText, headers: hdrs, body: await r.text() };
}
export async function json(backend, method, path, body) {
    if (body !== undefined)
        H.record(method, path, body);
    const headers = { Accept: "application/json" };
    if (body !== undefined)
        headers["Content-Type"] = "application/json";
    const r = await http(backend, method, path, { body, headers });
    const parsed = r.body ? JSON.parse(r.body) : null;
    if (r.status < 200 || r.status >= 300) {
        const err = new Error(parsed && parsed.message ? parsed.message : String(r.status));
        err.status = r.status;
        throw err;
    }
    return { body: H.trace(parsed), headers: r.headers };
}
export async function query() {
    throw new Error("harness: no registry-access channel");
}
export function rows() {
    throw new Error("harness: no registry channels");
}
export function watch(backend, path, onEvent, onEnd) {
    const abort = new AbortController();
    let cancelled = false;
    (async () => {
        if (H.beforeRequest)
            await H.beforeRequest("GET", path);
        const r = await fetch(process.env.MASTER_URL + path, {
            headers: { Accept: "application/json", Authorization: "Bearer " + H.token }, signal: abort.signal });
        if (r.status < 200 || r.status >= 300) {
            const text = await r.text();
            let message = String(r.status);
            try { message = JSON.parse(text).message || message; } catch (e) { /* keep */ }
            if (!cancelled)
                onEnd("http-error", Object.assign(new Error(message), { status: r.status }));
            return;
        }
        const decoder = new TextDecoder();
        let buffer = "";
        for await (const chunk of r.body) {
            buffer += decoder.decode(chunk, { stream: true });
            let nl;
            while ((nl = buffer.indexOf("\\n")) >= 0) {
                const line = buffer.substring(0, nl).trim();
                buffer = buffer.substring(nl + 1);
                if (line && !cancelled)
                    onEvent(H.trace(JSON.parse(line), true));
            }
        }
        if (!cancelled && onEnd)
            onEnd(null);
    })().catch(e => {
        if (!cancelled && onEnd)
            onEnd(e.name === "AbortError" ? null : "disconnected");
    });
    return () => { cancelled = true; abort.abort(); };
}
`);
const { OpenShiftBackend } = await import(pathToFileURL(path.join(dir, "backend.js")).href);

// poll with a deadline (no sleeps to wait for readiness)
async function until(what, pred, ms = 15000) {
    const end = Date.now() + ms;
    for (;;) {
        const v = await pred();
        if (v)
            return v;
        if (Date.now() > end)
            throw new Error(`timed out waiting for ${what}`);
        await new Promise(r => setTimeout(r, 50));
    }
}

const results = {};
const alice = new OpenShiftBackend({ user: "alice" });
const bob = new OpenShiftBackend({ user: "bob" });
const REG = env.REGISTRY_HOST;

try {
    // -- reading: overview, images, stream, image views
    const projects = await alice.projects();
    assert.deepEqual(projects.map(p => p.name).filter(n => ["demo", "library", "project-b"].includes(n)),
                     ["demo", "library", "project-b"]);
    const streams = await alice.streams();
    assert.ok(streams.find(s => s.project === "demo" && s.name === "hello"));
    assert.ok((await alice.streams("demo")).every(s => s.project === "demo"));
    const hello = await alice.stream("demo", "hello");
    await alice.tagSizes(hello);
    assert.ok(hello.tags.find(t => t.name === "1.0").size > 0, "tag sizes from the image objects");
    const img = await alice.image("demo", "hello", "1.1");
    assert.equal(img.author, "Registry Console Fixtures <fixtures@example.com>");
    assert.ok(img.layers.length >= 2 && img.config.labels["org.opencontainers.image.description"]);
    const index = await alice.image("demo", "tools", "latest");
    assert.deepEqual(index.platforms.map(p => p.architecture).sort(), ["amd64", "arm64"]);
    // the build history from the image's config (dockerImageConfig)
    const built = await alice.image("project-b", "app", "v2");
    assert.equal(built.history.length, 12);
    assert.equal(built.history.filter(e => !e.emptyLayer).length, built.layers.length);
    assert.equal(built.history[2].createdBy, "/bin/sh -c #(nop)  ENV APP_ENV=production APP_PORT=8000 APP_WORKERS=4");
    const arm = index.platforms.find(p => p.architecture === "arm64");
    assert.equal((await alice.image("demo", "tools", arm.digest)).history.length, 4);   // 3 layers (the first busybox-like's), the config
    // storage: an image's blobs (layers and config, with sizes) from its
    // Image object; an index's through its platforms' images
    const blobs = await alice.imageBlobs(hello.tags.find(t => t.name === "1.0").digest);
    assert.ok(blobs.length === 3 && blobs.every(([d, n]) => d.startsWith("sha256:") && n > 0), JSON.stringify(blobs));
    const indexBlobs = new Map(await alice.imageBlobs(index.digest));
    for (const p of index.platforms)
        for (const [d] of await alice.imageBlobs(p.digest))
            assert.ok(indexBlobs.has(d), `${d} of ${p.architecture} in the index's blobs`);

    // -- what the user may do (SelfSubjectAccessReview): alice everything
    assert.deepEqual(await alice.permissions("demo"), { known: true, unchecked: false, pull: true, push: true, deleteImage: true,
        createStream: true, editStream: true, deleteStream: true, editMembers: true, deleteProject: true });
    assert.deepEqual(await alice.clusterPermissions(), { createProject: true, listUsers: true, listGroups: true,
        createGroup: true, editGroups: true, deleteGroup: true, listImages: true });
    assert.deepEqual(await alice.streamProjects(["demo", "library"]), ["demo", "library"]);

    // -- users, identities and groups
    const users = await alice.users();
    assert.deepEqual(users.filter(u => ["alice", "bob", "dave"].includes(u.name)).map(u => [u.name, u.fullName]),
                     [["alice", "Alice Admin"], ["bob", "Bob Builder"], ["dave", "Dave Viewer"]]);
    const dave = await alice.user("dave");
    assert.deepEqual(dave.identities, ["htpasswd_provider:dave"]);
    assert.deepEqual(await alice.identity(dave.identities[0]), { name: "htpasswd_provider:dave", provider: "htpasswd_provider",
                                                                providerUserName: "dave", user: "dave", extra: {} });
    assert.deepEqual((await alice.groups()).find(g => g.name === "viewers").users, ["dave"]);
    await alice.createGroup("contract-group");
    assert.deepEqual((await alice.group("contract-group")).users, []);
    await alice.addGroupMember("contract-group", "bob");
    await alice.addGroupMember("contract-group", "dave");
    await alice.addGroupMember("contract-group", "bob");
    assert.deepEqual((await alice.group("contract-group")).users, ["bob", "dave"]);
    await alice.removeGroupMember("contract-group", "bob");
    assert.deepEqual((await alice.group("contract-group")).users, ["dave"]);
    await alice.deleteGroup("contract-group");
    await assert.rejects(alice.group("contract-group"), e => e.status === 404);

    // -- images no tag refers to: after a tag of an image of its own goes
    const before = await alice.untaggedImages();
    assert.ok(before.total >= 8 && before.images.every(i => i.digest.startsWith("sha256:")), JSON.stringify(before).slice(0, 300));
    const busybox = (await alice.stream("library", "busybox-like")).tags.find(t => t.name === "latest").digest;
    assert.ok(!before.images.some(i => i.digest === busybox));
    for (const tag of ["1.36", "latest"])
        await alice.removeTag("library", "busybox-like", tag);
    const after = await alice.untaggedImages();
    const gone = after.images.find(i => i.digest === busybox);
    assert.ok(gone && gone.size > 0 && gone.layers.length === 2, JSON.stringify(gone));
    // what it frees: its layers no tagged image uses (the first is also
    // demo/tools' base layer, so it stays)
    const toolsLayers = new Set((await alice.imageBlobs(index.digest)).map(([d]) => d));
    assert.ok(toolsLayers.has(gone.layers[0].digest), "busybox-like's base layer is demo/tools' too");
    assert.equal(after.freed - before.freed, gone.layers.filter(l => !toolsLayers.has(l.digest)).reduce((a, l) => a + l.size, 0),
                 "its layers, used by no other image");
    for (const tag of ["1.36", "latest"])
        await alice.addTag("library", "busybox-like", tag, `${REG}/library/busybox-like:${tag}`);
    assert.ok(!(await alice.untaggedImages()).images.some(i => i.digest === busybox), "tagged again");

    // -- writing: project, stream, tags (import), sync, members, policy
    await alice.createProject("contract-p", "Contract project", "made by the contract test");
    const created = (await alice.projects()).find(p => p.name === "contract-p");
    assert.equal(created.displayName, "Contract project");
    await alice.createStream("contract-p", "s1");
    await alice.addTag("contract-p", "s1", "ok", `${REG}/demo/hello:1.0`);
    // a failed import is an error the dialog shows, with the master's reason
    await assert.rejects(alice.addTag("contract-p", "s1", "bad", "docker.io/library/busybox:latest"),
                         e => /Importing docker.io\/library\/busybox:latest failed: .*unable to access/.test(e.message));
    let s1 = await alice.stream("contract-p", "s1");
    assert.ok(s1.tags.find(t => t.name === "ok").digest.startsWith("sha256:"));
    assert.ok(!s1.tags.find(t => t.name === "bad"), "a failed import adds no tag");
    // named tags from a registry the master cannot reach: the tag says why
    await alice.setSync("contract-p", "s1", "tags", "docker.io/library/busybox", ["1.36"]);
    s1 = await alice.stream("contract-p", "s1");
    const failed = s1.tags.find(t => t.name === "1.36");
    assert.ok(failed && !failed.digest && /^Import failed: .*cannot import/.test(failed.error), JSON.stringify(failed));
    await alice.setSync("contract-p", "s1", "all", "docker.io/library/busybox", []);
    assert.equal((await alice.stream("contract-p", "s1")).dockerImageRepository, "docker.io/library/busybox");
    await alice.setSync("contract-p", "s1", "none", "", []);
    await alice.removeTag("contract-p", "s1", "ok");
    await alice.addMember("contract-p", "carol", "registry-editor");
    let members = await alice.members("contract-p");
    const carol = members.find(m => m.name === "carol");
    assert.equal(carol.role, "registry-editor");
    await alice.removeMember("contract-p", carol);
    members = await alice.members("contract-p");
    assert.ok(!members.find(m => m.name === "carol"));
    for (const policy of ["shared", "anonymous", "private"]) {
        await alice.setPolicy("contract-p", policy);
        assert.equal(await alice.policy("contract-p"), policy);
    }
    assert.ok((await alice.members("project-b")).find(m => m.name === "bob" && m.role === "registry-admin"));

    // -- paging: the master answers 2 items a page, the UI follows continue
    await control({ pageSize: 2 });
    H.count.continued = 0;
    const paged = await alice.streams();
    assert.equal(paged.length, streams.length + 1, "every stream, page by page (and s1)");
    assert.ok(H.count.continued >= 2, `followed continue ${H.count.continued} times`);
    assert.deepEqual((await alice.projects()).map(p => p.name), (await control({ pageSize: 0 }), await alice.projects()).map(p => p.name));
    // a continue token compacted away (410 Expired) starts the list again
    await control({ pageSize: 2 });
    let compacted = false;
    H.beforeRequest = async (method, p) => {
        if (!compacted && /[?&]continue=/.test(p)) {
            compacted = true;
            await control({ compact: true });
        }
    };
    assert.equal((await alice.streams()).length, streams.length + 1);
    assert.ok(compacted && H.count.expired === 1, `${H.count.expired} answers 410 Expired`);
    H.beforeRequest = null;
    await control({ pageSize: 0 });

    // -- watches: events, then 410 Gone after compaction: list again
    const seen = new Map();
    const log = [];
    const stop = alice.watchStreams(null, (type, s) => {
        log.push(`${type} ${s.project}/${s.name}`);
        if (type === "DELETED")
            seen.delete(`${s.project}/${s.name}`);
        else
            seen.set(`${s.project}/${s.name}`, s);
    }, (problem, e) => log.push(`END ${problem} ${e && e.message}`));
    results.watchLog = log;
    await until("the initial list", () => seen.has("contract-p/s1") && seen.has("demo/hello"));
    await alice.createStream("contract-p", "s2");
    await until("ADDED s2 from the watch", () => seen.has("contract-p/s2"));
    // the watch is cut; meanwhile s1 is deleted, s3 made, history compacted
    await control({ holdWatches: true });
    await alice.deleteStream("contract-p", "s1");
    await alice.createStream("contract-p", "s3");
    await control({ compact: true, holdWatches: false });
    await until("the list again after 410 Gone", () => !seen.has("contract-p/s1") && seen.has("contract-p/s3"));
    assert.ok(!log.some(l => l.startsWith("END")), log.join(", "));
    stop();
    results.watchLog = log.slice(-4);

    // -- bob: no cluster-wide rights (403 Forbidden); per project instead
    H.token = env.MASTER_TOKEN_BOB;
    const bobLibrary = await bob.permissions("library");
    assert.deepEqual([bobLibrary.pull, bobLibrary.push, bobLibrary.deleteImage, bobLibrary.editMembers], [true, false, false, false]);
    assert.equal((await bob.permissions("project-b")).push, true);
    assert.deepEqual(await bob.clusterPermissions(), { createProject: true, listUsers: false, listGroups: false,
        createGroup: false, editGroups: false, deleteGroup: false, listImages: false });
    assert.deepEqual(await bob.streamProjects(["demo", "library", "project-b"]), ["project-b"]);
    await assert.rejects(bob.users(), e => e.status === 403);
    const bobStreams = await bob.streams();
    assert.deepEqual([...new Set(bobStreams.map(s => s.project))].sort(), ["library", "project-b"]);
    const bobSeen = new Set();
    let bobEnd = null;
    const stopBob = bob.watchStreams(null, (type, s) => bobSeen.add(`${type} ${s.project}/${s.name}`),
                                     (problem, e) => { bobEnd = `${problem} ${e && e.message}`; });
    await until("bob's per-project watches", () => bobSeen.has("ADDED project-b/app") && bobSeen.has("ADDED library/busybox-like"));
    await bob.createStream("project-b", "bobs-stream");
    await until("bob sees his new stream live", () => bobSeen.has("ADDED project-b/bobs-stream"));
    assert.equal(bobEnd, null);
    assert.ok(![...bobSeen].some(e => e.includes(" demo/")), "nothing of demo");
    stopBob();
    await bob.deleteStream("project-b", "bobs-stream");
    H.token = env.MASTER_TOKEN_ALICE;

    await alice.deleteStream("contract-p", "s2");
    await alice.deleteProject("contract-p");
    results.ok = true;
} finally {
    await control({ pageSize: 0, holdWatches: false }).catch(() => null);
    fs.writeFileSync(outPath, JSON.stringify({ results, requests, reads: [...reads].sort() }, null, 1));
    fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
