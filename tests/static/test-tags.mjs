#!/usr/bin/env node
// test-tags.mjs: the tag page's leaf modules under plain Node.js (no
// browser, no npm packages), under `make check`:
//  - versions.js: the version order (1.9 < 1.10, v2.0.0-rc1 < v2.0.0),
//    natural order of other names, the filter (substring or glob);
//  - taglist.js: tags grouped by digest, sorted and filtered; the storage
//    of a repository with shared blobs counted once; what deleting some
//    manifests takes with it and frees; selection with shift-click ranges.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const staticDir = path.join(here, "..", "..", "static");

// Node.js loads static/*.js as ES modules from a copy marked "type": "module".
const copy = fs.mkdtempSync(path.join(os.tmpdir(), "rc-tags-"));
process.on("exit", () => fs.rmSync(copy, { recursive: true, force: true }));
for (const f of ["versions.js", "taglist.js"])
    fs.copyFileSync(path.join(staticDir, f), path.join(copy, f));
fs.writeFileSync(path.join(copy, "package.json"), '{ "type": "module" }\n');
const { compareVersions, compareNatural, parseVersion, tagMatcher, parseGlob, globMatches } =
    await import(pathToFileURL(path.join(copy, "versions.js")).href);
const TAGLIST = await import(pathToFileURL(path.join(copy, "taglist.js")).href);
const { TagList, Selection } = TAGLIST;

// Every pair of a list given in order compares as the list says, both ways.
function assertOrder(cmp, ordered) {
    for (let i = 0; i < ordered.length; i++) {
        for (let j = 0; j < ordered.length; j++) {
            const c = Math.sign(cmp(ordered[i], ordered[j]));
            assert.equal(c, Math.sign(i - j), `${ordered[i]} vs ${ordered[j]}: ${c}`);
        }
    }
    const shuffled = ordered.slice().reverse();
    shuffled.push(shuffled.shift());
    assert.deepEqual(shuffled.sort(cmp), ordered);
}

test("versions: numbers compare as numbers, pre-releases come before their release", () => {
    assertOrder(compareVersions, ["1.2", "1.9", "1.10", "v2.0.0-rc1", "v2.0.0-rc2", "v2.0.0-rc10", "v2.0.0", "v10.0.0"]);
    assertOrder(compareVersions, ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                                  "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]);
    // fewer parts first; a suffix without "-" after a letter is a pre-release,
    // after "_" or "." a later build
    assertOrder(compareVersions, ["1.2", "1.2.0", "1.2.1rc1", "1.2.1", "1.2.1_1", "1.2.1_2", "1.3"]);
    // leading zeros and very long numbers
    assertOrder(compareVersions, ["1.01", "1.2", "1.0010", "99999999999999999999.1", "100000000000000000000"]);
    // versions before other names; those in natural order (build-9 < build-10)
    assertOrder(compareVersions, ["0.9", "1.36", "2024.01", "build-9", "build-00010", "build-11", "edge", "latest",
                                  "stable"]);
    // the same version written twice still has a fixed order
    assert.notEqual(compareVersions("v1.0", "1.0"), 0);
    assert.equal(compareVersions("1.0", "1.0"), 0);
});

test("versions: what counts as one", () => {
    assert.deepEqual(parseVersion("v2.0.0-rc1"), { core: ["2", "0", "0"], kind: -1, rest: "rc1" });
    assert.deepEqual(parseVersion("1.10"), { core: ["1", "10"], kind: 0, rest: "" });
    assert.deepEqual(parseVersion("1.2_1"), { core: ["1", "2"], kind: 1, rest: "1" });
    for (const name of ["latest", "build-1", "v", "vx1", "", "-1"])
        assert.equal(parseVersion(name), null, name);
});

test("natural order: digit runs as numbers, text ignoring case", () => {
    assertOrder(compareNatural, ["a1", "a2", "a10", "a10b", "b", "B1"]);
    assert.equal(compareNatural("Latest", "latest"), 0);
});

test("the filter: text matches a part, a glob the whole name; case ignored", () => {
    const names = ["1.0", "1.10", "v1.2", "v2.0.0-rc1", "latest", "build-00001", "Build-7", "x[1]"];
    const pick = f => names.filter(tagMatcher(f));
    assert.deepEqual(pick(""), names);
    assert.deepEqual(pick("  "), names);
    assert.deepEqual(pick("1."), ["1.0", "1.10", "v1.2"]);
    assert.deepEqual(pick("BUILD"), ["build-00001", "Build-7"]);
    assert.deepEqual(pick("v*"), ["v1.2", "v2.0.0-rc1"]);
    assert.deepEqual(pick("1.?"), ["1.0"]);
    assert.deepEqual(pick("*rc?"), ["v2.0.0-rc1"]);
    assert.deepEqual(pick("[lx]*"), ["latest", "x[1]"]);
    assert.deepEqual(pick("[!0-9v]*"), ["latest", "build-00001", "Build-7", "x[1]"]);
    // a glob is not a regular expression: "." is a dot, an open "[" a bracket
    assert.deepEqual(pick("1.1*"), ["1.10"]);
    assert.deepEqual(pick("x[*"), ["x[1]"]);
    assert.deepEqual(pick("(.*)"), []);
});

test("the filter: a glob with many stars is one pass over each name, not a backtracking search", () => {
    // as a regular expression (every "*" a ".*") this took about 1.5 s on
    // one such name; here every name takes at most (length + 1) × (tokens + 1) steps
    const glob = "*a*a*a*a*b";
    const tokens = parseGlob(glob);
    assert.equal(tokens.length, 10);
    const names = [];
    for (let i = 0; i < 10000; i++)
        names.push(i % 1000 === 0 ? `${"a".repeat(120)}${String(i).padStart(7, "0")}b` : "a".repeat(128));
    const stats = { steps: 0 };
    const hits = names.filter(n => globMatches(tokens, n, stats));
    assert.ok(stats.steps <= names.length * 129 * 11, `${stats.steps} steps`);
    assert.equal(hits.length, 10);
    assert.deepEqual(names.filter(tagMatcher(glob)), hits);
    // runs of stars are one; a star matches the empty text too
    assert.deepEqual(parseGlob("a***b").map(t => t.kind), ["char", "star", "char"]);
    assert.deepEqual(["ab", "axb", "abx"].filter(tagMatcher("a***b")), ["ab", "axb"]);
    assert.deepEqual(["", "x"].filter(tagMatcher("*")), ["", "x"]);
});

test("the filter: a set with a range out of order is plain text, never an exception", () => {
    // "[z-a]" matches only a name that has these five characters; the
    // filter from an address (#…?q=[z-a]) no longer breaks the page
    const names = ["a", "m", "z", "[z-a]", "x[z-a]", "[Z-A]"];
    assert.deepEqual(names.filter(tagMatcher("[z-a]")), ["[z-a]", "[Z-A]"]);
    assert.deepEqual(names.filter(tagMatcher("*[z-a]")), ["[z-a]", "x[z-a]", "[Z-A]"]);
    for (const odd of ["[", "]", "[]", "[!]", "[^]", "[\\]", "[a-]*", "[-a]*", "[[]*", "\\*", "(*", "*)", "[z-a"])
        assert.doesNotThrow(() => names.filter(tagMatcher(odd)), odd);
    // a "]" right after "[" is one of the set; a range within it still counts
    assert.deepEqual(["]", "a", "b", "c"].filter(tagMatcher("[]a-b]")), ["]", "a", "b"]);
    assert.deepEqual(["]", "a", "c"].filter(tagMatcher("[!]a]")), ["c"]);
    // sets ignore case too
    assert.deepEqual(["A1", "b2", "Z"].filter(tagMatcher("[a-c]?")), ["A1", "b2"]);
    assert.deepEqual(["A1", "b2", "Z"].filter(tagMatcher("[A-C]?")), ["A1", "b2"]);
});

/* ------------------------------------------------------------- the list */

const D = c => `sha256:${c.repeat(64)}`;

// A repository: 1.0 (image a), 1.1 = latest (image b, shares a's base
// layer), multi (an index over b's manifest and c), gone (404).
function repository() {
    const list = new TagList();
    list.addNames(["1.0", "1.1", "latest", "multi", "gone", "later"]);
    list.addRow({ type: "tag", tag: "1.0", digest: D("a"), created: "2024-01-01T00:00:00Z", size: 1100,
                  blobs: [D("1"), D("2")], blobSizes: [1000, 100] });
    list.addRow({ type: "tag", tag: "1.1", digest: D("b"), created: "2024-03-01T00:00:00Z", size: 1500,
                  blobs: [D("1"), D("3"), D("4")], blobSizes: [1000, 400, 100] });
    list.addRow({ type: "tag", tag: "latest", digest: D("b"), created: "2024-03-01T00:00:00Z", size: 1500,
                  blobs: [D("1"), D("3"), D("4")], blobSizes: [1000, 400, 100] });
    list.addRow({ type: "tag", tag: "multi", digest: D("m"), created: "2024-02-01T00:00:00Z", size: 3500,
                  mediaType: "application/vnd.oci.image.index.v1+json",
                  platforms: [{ digest: D("b"), os: "linux", architecture: "amd64" },
                              { digest: D("c"), os: "linux", architecture: "arm64", variant: "v8" }],
                  blobs: [D("1"), D("3"), D("4"), D("5"), D("6")], blobSizes: [1000, 400, 100, 1900, 100] });
    list.addRow({ type: "tag", tag: "gone", error: "404 manifest unknown", status: 404 });
    return list;
}

test("tags on one digest are one image; unread and failed tags stand alone", () => {
    const list = repository();
    assert.equal(list.size, 6);
    const v = list.view({ sort: "name" });
    assert.deepEqual(v.map(e => [e.primary, e.tags]), [
        ["1.0", ["1.0"]], ["1.1", ["1.1", "latest"]], ["gone", ["gone"]], ["later", ["later"]], ["multi", ["multi"]]]);
    assert.equal(list.groupOfTag("latest").digest, D("b"));
    assert.equal(list.groupOfTag("later").pending, true);
    assert.equal(list.groupOfTag("gone").digest, "");
    // a tag that moves to another digest leaves its old image
    list.addRow({ type: "tag", tag: "latest", digest: D("a"), created: "2024-01-01T00:00:00Z", size: 1100 });
    assert.deepEqual(list.groupOfTag("1.0").tags, ["1.0", "latest"]);
    assert.deepEqual(list.groupOfTag("1.1").tags, ["1.1"]);
    // deleted tags leave; an image without tags goes
    list.removeTags(["1.1"]);
    assert.equal(list.group(D("b")), null);
    assert.equal(list.size, 5);
});

test("sorting: by version, name, created and size, both ways; unknown values last", () => {
    const list = new TagList();
    list.addNames(["v10.0.0", "1.9", "1.10", "v2.0.0", "v2.0.0-rc1", "latest", "build-10", "build-9"]);
    const at = (tag, day, size) => list.addRow({ type: "tag", tag, digest: D(String(day % 10)) + tag.replace(/\./g, "_"),
                                                created: `2024-05-${String(day).padStart(2, "0")}T00:00:00Z`, size });
    at("v10.0.0", 3, 500);
    at("1.9", 9, 100);
    at("1.10", 1, 900);
    at("v2.0.0", 5, 300);
    at("v2.0.0-rc1", 2, 700);
    at("latest", 8, 200);
    // build-10 and build-9 not read yet
    const order = opts => list.view(opts).map(e => e.primary);
    assert.deepEqual(order({ sort: "version" }),
                     ["1.9", "1.10", "v2.0.0-rc1", "v2.0.0", "v10.0.0", "build-9", "build-10", "latest"]);
    assert.deepEqual(order({ sort: "version", descending: true }),
                     ["latest", "build-10", "build-9", "v10.0.0", "v2.0.0", "v2.0.0-rc1", "1.10", "1.9"]);
    assert.deepEqual(order({ sort: "name" }),
                     ["1.10", "1.9", "build-10", "build-9", "latest", "v10.0.0", "v2.0.0", "v2.0.0-rc1"]);
    assert.deepEqual(order({ sort: "created", descending: true }),
                     ["1.9", "latest", "v2.0.0", "v10.0.0", "v2.0.0-rc1", "1.10", "build-9", "build-10"]);
    assert.deepEqual(order({ sort: "created" }),
                     ["1.10", "v2.0.0-rc1", "v10.0.0", "v2.0.0", "latest", "1.9", "build-9", "build-10"]);
    assert.deepEqual(order({ sort: "size", descending: true }),
                     ["1.10", "v2.0.0-rc1", "v10.0.0", "v2.0.0", "latest", "1.9", "build-9", "build-10"]);
    assert.deepEqual(order({ sort: "size" }),
                     ["1.9", "latest", "v2.0.0", "v10.0.0", "v2.0.0-rc1", "1.10", "build-9", "build-10"]);
    // the filter keeps the order; a glob picks names
    assert.deepEqual(order({ sort: "version", filter: "v2*" }), ["v2.0.0-rc1", "v2.0.0"]);
    assert.deepEqual(order({ sort: "size", filter: "1." }), ["1.9", "1.10"]);
    assert.deepEqual(order({ sort: "size", filter: "*0.0*", descending: true }), ["v2.0.0-rc1", "v10.0.0", "v2.0.0"]);
});

test("a group is placed by its first matching tag and shows it first", () => {
    const list = repository();
    let v = list.view({ sort: "version", filter: "atest" });
    assert.deepEqual(v.map(e => [e.primary, e.tags, e.matched]), [["latest", ["latest", "1.1"], 1]]);
    v = list.view({ sort: "version", descending: true });
    // descending: b is placed (and named) by "latest", its last tag in version order
    assert.deepEqual(v.map(e => e.primary), ["multi", "latest", "later", "gone", "1.0"]);
    // a digest finds its image
    v = list.view({ filter: "sha256:bbbbbbbb" });
    assert.deepEqual(v.map(e => e.tags), [["1.1", "latest"]]);
    v = list.view({ filter: "aaaaaaaaaaaa" });
    assert.deepEqual(v.map(e => e.tags), [["1.0"]]);
});

test("20,000 tags on one digest: one image, matched tags first, tags leave one by one", () => {
    const list = new TagList();
    const names = Array.from({ length: 20000 }, (_, i) => `t${String(i).padStart(5, "0")}`);
    list.addNames(names);
    for (const tag of names)
        list.addRow({ type: "tag", tag, digest: D("e"), size: 1 });
    assert.equal(list.groups.size, 1);
    const [e] = list.view({ sort: "name", filter: "*5" });
    assert.equal(e.matched, 2000);
    assert.equal(e.tags.length, 20000);
    assert.deepEqual(e.tags.slice(0, 2), ["t00005", "t00015"]);
    assert.equal(e.tags[2000], "t00000");
    assert.equal(new Set(e.tags).size, 20000);
    list.removeTags(names.filter((_, i) => i % 2));
    assert.equal(list.group(D("e")).tags.length, 10000);
    assert.equal(list.groupOfTag("t00001"), null);
    // a tag moving to another image leaves this one
    list.addRow({ type: "tag", tag: "t00000", digest: D("f"), size: 1 });
    assert.equal(list.group(D("e")).tags.length, 9999);
    assert.deepEqual(list.group(D("f")).tags, ["t00000"]);
});

test("a row's digest must be a digest: anything else is a failed read, never another image", () => {
    const { isDigest } = TAGLIST;
    assert.ok(isDigest(D("a")));
    assert.ok(isDigest(`sha512:${"ab".repeat(64)}`));
    assert.ok(isDigest(`multihash+base58:${"Qm".repeat(20)}`));
    for (const bad of ["?latest", "!x", "sha256:abc", "latest", "sha256:", ":" + "a".repeat(64), `SHA256:${"a".repeat(64)}`,
                       `sha256:${"a".repeat(63)}/`, 7, null, {}, [D("a")]])
        assert.equal(isDigest(bad), false, JSON.stringify(bad));
    const list = new TagList();
    list.addNames(["latest", "x", "y", "z"]);
    // "?latest" is the key of latest while unread: x does not join it
    list.addRow({ type: "tag", tag: "x", digest: "?latest", size: 1 });
    assert.deepEqual(list.groupOfTag("latest").tags, ["latest"]);
    assert.equal(list.groupOfTag("latest").pending, true);
    assert.equal(list.groupOfTag("x").digest, "");
    assert.equal(list.groupOfTag("x").row.invalidDigest, true);
    // not a string: no exception, in the view or elsewhere
    list.addRow({ type: "tag", tag: "y", digest: { toString: () => D("b") }, size: 1 });
    list.addRow({ type: "tag", tag: "z", digest: 12345, size: 1 });
    assert.deepEqual(list.view({ filter: "sha256:bbbbbb" }), []);
    assert.deepEqual(list.view({ sort: "name" }).map(e => [e.primary, e.group.digest]),
                     [["latest", ""], ["x", ""], ["y", ""], ["z", ""]]);
    assert.deepEqual(list.unreadTags().failed, ["x", "y", "z"]);
    // an index's platforms that are no digests are not deleted with it
    list.addRow({ type: "tag", tag: "latest", digest: D("m"), platforms: [{ digest: "../x" }, { digest: D("c") }, null] });
    assert.deepEqual(list.plan([D("m")]).manifests, [D("m"), D("c")]);
});

test("sizes are finite and not negative, else unknown; never strings added up", () => {
    const { byteSize, rowBlobs } = TAGLIST;
    assert.deepEqual([0, 5, 1.5e9, "12", " 7 "].map(byteSize), [0, 5, 1.5e9, 12, 7]);
    for (const bad of [-1, -0.5, Infinity, -Infinity, NaN, "", "x", "1e400", "-3", "0x10", null, undefined, {}, [5], true])
        assert.equal(byteSize(bad), null, String(bad));
    assert.deepEqual([...rowBlobs({ blobs: [D("1"), D("2")], blobSizes: [10, "20"] })], [[D("1"), 10], [D("2"), 20]]);
    for (const bad of [-10, Infinity, "many", null])
        assert.equal(rowBlobs({ blobs: [D("1"), D("2")], blobSizes: [10, bad] }), null, String(bad));
    // storage and sorting: a hostile size is unknown, not a huge or negative figure
    const list = new TagList();
    list.addNames(["neg", "inf", "ok"]);
    list.addRow({ type: "tag", tag: "neg", digest: D("n"), size: -1e12, blobs: [D("1")], blobSizes: [-1e12] });
    list.addRow({ type: "tag", tag: "inf", digest: D("i"), size: Infinity, blobs: [D("2")], blobSizes: [Infinity] });
    list.addRow({ type: "tag", tag: "ok", digest: D("o"), size: 30, blobs: [D("3")], blobSizes: [30] });
    assert.deepEqual(list.storage(), { bytes: 30, blobs: 1, images: 3, complete: false });
    assert.deepEqual(list.view({ sort: "size", descending: true }).map(e => e.primary), ["ok", "inf", "neg"]);
    assert.equal(list.plan([D("n"), D("o")]).freed, null);
});

test("storage: every blob of the repository once", () => {
    const list = repository();
    // 1000 + 100 + 400 + 100 + 1900 + 100: blob 1 is in three images, 3 and 4 in two
    assert.deepEqual(list.storage(), { bytes: 3600, blobs: 6, images: 3, complete: false });
    list.addRow({ type: "tag", tag: "later", digest: D("a"), size: 1100, blobs: [D("1"), D("2")], blobSizes: [1000, 100] });
    assert.equal(list.storage().complete, true);
    // a row without blob sizes makes the figure a lower bound
    list.addRow({ type: "tag", tag: "new", digest: D("n"), size: 5 });
    assert.equal(list.storage().complete, false);
});

test("deleting an image: its tags go, shared blobs stay, only its own are freed", () => {
    const list = repository();
    let plan = list.plan([D("a")]);
    assert.deepEqual(plan.tags, ["1.0"]);
    assert.deepEqual(plan.manifests, [D("a")]);
    assert.equal(plan.freed, 100);      // blob 1 is shared with b and the index
    assert.deepEqual(plan.counted, { otherTags: 3, unknown: 2 });    // "later" not read, "gone" failed
    plan = list.plan([D("b")]);
    assert.deepEqual(plan.tags, ["1.1", "latest"]);
    assert.equal(plan.freed, 0);        // the index still holds b
    // b is a platform of the remaining index: it would break
    assert.deepEqual(plan.broken, [{ index: D("m"), tags: ["multi"], platform: D("b") }]);
    // the index: its own platform c goes with it, b stays (1.1 uses it)
    plan = list.plan([D("m")]);
    assert.deepEqual(plan.manifests, [D("m"), D("c")]);
    assert.deepEqual(plan.children, [D("c")]);
    assert.equal(plan.freed, 2000);     // c's blobs 5 and 6
    // everything: every blob once
    plan = list.plan([D("a"), D("b"), D("m")]);
    assert.deepEqual(plan.tags, ["multi", "1.0", "1.1", "latest"]);
    assert.deepEqual(plan.manifests, [D("m"), D("a"), D("b"), D("c")]);     // the index first
    assert.equal(plan.freed, 3600);
    assert.deepEqual(plan.broken, []);
    // without blob sizes the space is unknown, not zero
    const bare = new TagList();
    bare.addRow({ type: "tag", tag: "x", digest: D("x"), size: 10 });
    assert.equal(bare.plan([D("x")]).freed, null);
});

test("selection: clicks, shift-click ranges both ways, everything the filter shows", () => {
    const list = repository();
    const view = list.view({ sort: "name" });     // 1.0, 1.1, gone, later, multi
    const sel = new Selection();
    sel.click(view, 0);
    sel.click(view, 4, true);       // 1.0 … multi; gone and later cannot be selected
    assert.deepEqual([...sel.keys].sort(), [D("a"), D("b"), D("m")]);
    sel.click(view, 1);             // off
    assert.deepEqual([...sel.keys].sort(), [D("a"), D("m")]);
    sel.click(view, 0, true);       // from 1.1 (off) back to 1.0: both off
    assert.deepEqual([...sel.keys], [D("m")]);
    sel.click(view, 2);             // a failed tag: nothing
    assert.deepEqual([...sel.keys], [D("m")]);
    sel.clear();
    assert.equal(sel.selectAll(list.view({ filter: "1.*" })), 0);
    assert.deepEqual([...sel.keys].sort(), [D("a"), D("b")]);
    assert.equal(sel.selectAll(view), 2);       // gone and later skipped
    list.removeTags(["1.0"]);
    sel.prune(list);
    assert.deepEqual([...sel.keys].sort(), [D("b"), D("m")]);
});
