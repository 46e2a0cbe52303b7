#!/usr/bin/env node
// test-modules.mjs: the browser UI's module structure, under `make check`
// with plain Node.js (18 or later; no npm packages, no browser).
//
//  - import rules, read from the sources: views (modules exporting show())
//    import neither app.js nor another view nor the data layer (their
//    backend comes in the router's context); leaf modules import only leaf
//    modules; only a page's entry module imports app.js; no inline scripts.
//  - every module but the pages' entries (main.js, login.js) loads alone,
//    in its own Node process where every browser global is a recorder,
//    without touching any of them: no network, no DOM, no timers.
//  - the leaf functions: routes round-trip odd names, digests shorten,
//    commands survive a real shell word for word and reach the page as text.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { install as installDom } from "./standin-dom.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const staticDir = path.join(here, "..", "..", "static");

// The modules that talk to the server; a view gets them through its context.
const DATA_LAYER = ["channel.js", "backend.js"];

function readSources(dir) {
    const sources = new Map();
    for (const f of fs.readdirSync(dir).sort())
        if (/\.(js|html)$/.test(f))
            sources.set(f, fs.readFileSync(path.join(dir, f), "utf-8"));
    return sources;
}

// The specifiers a module imports (import … from, export … from, import "…"),
// and whether it uses import(), which this check could not follow.
function importsOf(source) {
    const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    const specs = [];
    for (const m of code.matchAll(/^\s*(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']/gm))
        specs.push(m[1]);
    for (const m of code.matchAll(/^\s*import\s*["']([^"']+)["']/gm))
        specs.push(m[1]);
    return { specs, dynamic: /\bimport\s*\(/.test(code) };
}

// The rules over a map of file name → source (*.js and *.html); returns
// the violations, one sentence each.
function importViolations(sources) {
    const problems = [];
    const modules = [...sources.keys()].filter(f => f.endsWith(".js"));
    const entries = new Set();
    for (const [file, html] of sources) {
        if (!file.endsWith(".html"))
            continue;
        for (const m of html.matchAll(/<script\b([^>]*)>/g)) {
            const src = /\bsrc="\.?\/?([^"]+)"/.exec(m[1]);
            if (!src)
                problems.push(`${file} has an inline script (the CSP forbids it)`);
            else if (!/\btype="module"/.test(m[1]))
                problems.push(`${file} loads ${src[1]} as a classic script, not a module`);
            else
                entries.add(src[1]);
        }
    }
    const views = new Set(modules.filter(f => /^export\s+(?:async\s+)?function\s+show\b/m.test(sources.get(f))));
    const kind = f => (entries.has(f) ? "an entry" : f === "app.js" ? "the app" : views.has(f) ? "a view"
        : DATA_LAYER.includes(f) ? "the data layer" : "a leaf");

    for (const file of modules) {
        const { specs, dynamic } = importsOf(sources.get(file));
        if (dynamic)
            problems.push(`${file} uses import(), which this check cannot follow`);
        for (const spec of specs) {
            const m = /^\.\/([\w-]+\.js)$/.exec(spec);
            if (!m) {
                problems.push(`${file} imports "${spec}": only "./name.js" of static/ (there is no bundler)`);
                continue;
            }
            const dep = m[1];
            if (!sources.has(dep))
                problems.push(`${file} imports ${dep}, which does not exist`);
            else if (entries.has(dep))
                problems.push(`${file} imports ${dep}, a page's entry module`);
            else if (dep === "app.js" && !entries.has(file))
                problems.push(`${file} (${kind(file)}) imports app.js: only a page's entry may`);
            else if (views.has(dep) && file !== "app.js")
                problems.push(`${file} (${kind(file)}) imports the view ${dep}: only app.js may`);
            else if (views.has(file) && DATA_LAYER.includes(dep))
                problems.push(`${file} (a view) imports ${dep}: a view gets its backend from the router's context`);
            else if (kind(file) === "a leaf" && kind(dep) !== "a leaf")
                problems.push(`${file} (a leaf) imports ${dep} (${kind(dep)}): leaves import only leaves`);
        }
    }
    return { problems, entries, views };
}

const sources = readSources(staticDir);
const { problems, entries, views } = importViolations(sources);

// Node.js loads static/*.js as ES modules from a copy marked "type": "module".
const copy = fs.mkdtempSync(path.join(os.tmpdir(), "rc-static-"));
process.on("exit", () => fs.rmSync(copy, { recursive: true, force: true }));
for (const f of sources.keys())
    if (f.endsWith(".js"))
        fs.copyFileSync(path.join(staticDir, f), path.join(copy, f));
fs.writeFileSync(path.join(copy, "package.json"), '{ "type": "module" }\n');

// The leaf modules are tested here, over the stand-in DOM.
const document = installDom();
const leaf = name => import(pathToFileURL(path.join(copy, name)).href);

// What the rules below are about, so that they cannot pass by finding nothing
// (a new view or page belongs here too).
test("the pages load one entry module each, and there are views", () => {
    assert.deepEqual([...entries].sort(), ["login.js", "main.js"]);
    assert.deepEqual([...views].sort(), ["image.js", "images.js", "overview.js", "projects.js", "search.js", "stream.js",
                                         "untagged.js", "users.js"]);
});

test("no view imports app.js, another view or the data layer; leaves import only leaves", () => {
    assert.deepEqual(problems, []);
});

test("the import check finds a view importing app.js or another view", () => {
    const tree = new Map([
        ["index.html", '<script type="module" src="main.js"></script>'],
        ["main.js", 'import { start } from "./app.js";\nstart();'],
        ["app.js", 'import * as a from "./a.js";\nimport * as b from "./b.js";\nexport function start() {}'],
        ["a.js", 'import { h } from "./dom.js";\nexport async function show() {}'],
        ["b.js", 'import { h } from "./dom.js";\nexport function show() {}'],
        ["dom.js", "export function h() {}"],
        ["channel.js", 'import { h } from "./dom.js";'],
    ]);
    assert.deepEqual(importViolations(tree).problems, []);
    tree.set("a.js", `import { start } from "./app.js";\n${tree.get("a.js")}`);
    tree.set("b.js", `import {\n    show,\n} from "./a.js";\nimport { http } from "./channel.js";\n${tree.get("b.js")}`);
    tree.set("dom.js", `import "./channel.js";\n${tree.get("dom.js")}`);
    tree.set("index.html", `${tree.get("index.html")}<script>start()</script>`);
    assert.deepEqual(importViolations(tree).problems, [
        "index.html has an inline script (the CSP forbids it)",
        "a.js (a view) imports app.js: only a page's entry may",
        "b.js (a view) imports the view a.js: only app.js may",
        "b.js (a view) imports channel.js: a view gets its backend from the router's context",
        "dom.js (a leaf) imports channel.js (the data layer): leaves import only leaves",
    ]);
});

function probe(module) {
    const out = execFileSync(process.execPath, [path.join(here, "probe-import.mjs"), path.join(copy, module)],
                             { encoding: "utf-8", timeout: 30000 });
    return JSON.parse(out);
}

for (const module of [...sources.keys()].filter(f => f.endsWith(".js") && !entries.has(f))) {
    test(`${module} loads alone and touches nothing`, () => {
        assert.deepEqual(probe(module), { touched: [], error: null });
    });
}

// The control: an entry does act when loaded, and the probe sees it.
for (const module of [...entries].sort()) {
    test(`${module} (a page's entry) is seen starting the page`, () => {
        const { touched } = probe(module);
        assert.ok(touched.includes("location.pathname"), JSON.stringify(touched));
        assert.ok(touched.includes("document"), JSON.stringify(touched));
    });
}

/* ------------------------------------------------------------- leaf functions */

const ODD_NAMES = ["a/b", "a#b", "a?b=c", "100%", "%41", "a b", "..", ".", "_", "Ünïcödé", "<img src=x onerror=alert(1)>",
                   "\"quoted\"", "a&b", "tab\there", "\u202eevil"];

test("stream and image addresses keep odd names: one path part each, read back as written", async () => {
    const routes = await leaf("routes.js");
    for (const project of ["", "demo", ...ODD_NAMES]) {
        for (const name of ["app", ...ODD_NAMES]) {
            const href = routes.streamHref(project, name);
            assert.match(href, /^#\/images\/[^/#?\s<>"]+\/[^/#?\s<>"]+$/, href);
            const { parts } = routes.parseRoute(href);
            assert.deepEqual(parts, ["images", project || "_", name], href);
            assert.equal(routes.projectFromPart(parts[1]), project === "_" ? "" : project);

            const digest = "sha256:" + "ab".repeat(32);
            assert.deepEqual(routes.parseRoute(routes.imageHref(project, name, digest)).parts,
                             ["images", project || "_", name, digest]);
        }
    }
    assert.equal(routes.streamHref("", "busybox"), "#/images/_/busybox");
    assert.equal(routes.streamHref("demo", "a/b"), "#/images/demo/a%2Fb");
});

test("project addresses and the image list's filters read back as written", async () => {
    const routes = await leaf("routes.js");
    for (const name of ["", "demo", ...ODD_NAMES]) {
        const { parts } = routes.parseRoute(routes.projectHref(name));
        assert.deepEqual(parts, ["projects", name || "_"]);
    }
    assert.equal(routes.projectsHref(), "#/projects");
    assert.equal(routes.imagesHref(), "#/images");
    assert.equal(routes.imagesHref({ project: "", q: "" }), "#/images");
    for (const project of ODD_NAMES) {
        for (const q of ["tool", ...ODD_NAMES]) {
            const { parts, params } = routes.parseRoute(routes.imagesHref({ project, q }));
            assert.deepEqual(parts, ["images"]);
            assert.equal(params.get("project"), project);
            assert.equal(params.get("q"), q);
        }
    }
});

test("a hand-typed address with broken percent-encoding is read as typed", async () => {
    const routes = await leaf("routes.js");
    assert.deepEqual(routes.parseRoute("#/images/%zz/a%2Fb").parts, ["images", "%zz", "a/b"]);
    assert.deepEqual(routes.parseRoute("#images//x/").parts, ["images", "x"]);
    assert.deepEqual(routes.parseRoute("").parts, []);
    assert.deepEqual(routes.parseRoute("#/").parts, []);
});

test("a view whose show() ends after the user went on is stopped at once, and the newer view stays", async () => {
    const { ViewTurns } = await leaf("routes.js");
    const turns = new ViewTurns();
    const stopped = [];
    const slow = turns.begin();             // a slow page: its show() still runs
    const fast = turns.begin();             // the user went on
    assert.equal(turns.settle(fast, () => stopped.push("fast")), true);
    // the slow one ends now: its cleanup runs, it does not become current
    assert.equal(turns.current(slow), false);
    assert.equal(turns.settle(slow, () => stopped.push("slow")), false);
    assert.deepEqual(stopped, ["slow"]);
    // the next route ends the view shown, once
    turns.begin();
    assert.deepEqual(stopped, ["slow", "fast"]);
    turns.begin();
    assert.deepEqual(stopped, ["slow", "fast"]);
    // a view without cleanup, or one whose cleanup throws
    const t = turns.begin();
    assert.equal(turns.settle(t, undefined), true);
    const u = turns.begin();
    assert.equal(turns.settle(u, () => { throw new Error("gone"); }), true);
    assert.doesNotThrow(() => turns.begin());
});

test("OpenShift image blobs: one level of platforms, at most 64 of them, a few reads at once, cycles end", async () => {
    const { OpenShiftBackend, PLATFORMS_MAX } = await leaf("backend.js");
    assert.equal(PLATFORMS_MAX, 64);
    const backend = new OpenShiftBackend({});
    const objects = new Map();
    const image = (name, layers, manifests = []) =>
        objects.set(name, { metadata: { name }, dockerImageLayers: layers.map(([n, size]) => ({ name: n, size })),
                            dockerImageManifests: manifests.map(digest => ({ digest })) });
    // A lists B and B lists A; C lists 100,000 platforms, the first of which lists more
    image("sha256:A", [["sha256:a1", 10]], ["sha256:B"]);
    image("sha256:B", [["sha256:b1", 20]], ["sha256:A"]);
    image("sha256:C", [], Array.from({ length: 100000 }, (_, i) => `sha256:p${i}`));
    let inFlight = 0, most = 0;
    const reads = [];
    backend.imageObject = async digest => {
        reads.push(digest);
        most = Math.max(most, ++inFlight);
        await new Promise(r => setImmediate(r));
        inFlight--;
        if (objects.has(digest))
            return objects.get(digest);
        const m = /^sha256:p(\d+)$/.exec(digest);
        if (!m)
            throw Object.assign(new Error("not found"), { status: 404 });
        return { metadata: { name: digest }, dockerImageLayers: [{ name: `sha256:l${m[1]}`, size: 1 }],
                 dockerImageManifests: m[1] === "0" ? [{ digest: "sha256:deep" }] : [] };
    };
    assert.deepEqual(await backend.imageBlobs("sha256:A"), [["sha256:a1", 10], ["sha256:b1", 20]]);
    assert.deepEqual(await backend.imageBlobs("sha256:B"), [["sha256:b1", 20], ["sha256:a1", 10]]);
    assert.deepEqual(reads, ["sha256:A", "sha256:B"]);
    reads.length = 0;
    const blobs = await backend.imageBlobs("sha256:C");
    assert.equal(blobs.length, 64);
    assert.deepEqual(blobs.slice(0, 2), [["sha256:l0", 1], ["sha256:l1", 1]]);
    assert.equal(reads.length, 65, "the list and its first 64 platforms, not the platforms' platforms");
    assert.ok(!reads.includes("sha256:deep"));
    assert.ok(most <= 8, `${most} Image objects read at once`);
    // an image that cannot be read is no platform; the list is still read
    image("sha256:D", [["sha256:d1", 5]], ["sha256:missing"]);
    assert.deepEqual(await backend.imageBlobs("sha256:D"), [["sha256:d1", 5]]);
});

test("the registry backend deletes manifests by digest only", async () => {
    const { RegistryBackend } = await leaf("backend.js");
    const backend = new RegistryBackend({});
    for (const bad of ["latest", "?latest", "sha256:abc", "../../v2/_catalog", "", null, 7])
        await assert.rejects(backend.deleteManifest("", "app", bad), /^Error: Not deleted: .* is not a digest\.$/, String(bad));
});

test("permissions: a failed question offers everything and says so; no token auth offers everything quietly", async () => {
    const { RegistryBackend, OpenShiftBackend } = await leaf("backend.js");
    const { accessHint } = await leaf("commands.js");
    const hint = may => {
        const p = accessHint(may, "pull only");
        return p && [p.getAttribute("id"), p.textContent];
    };
    const registry = answer => {
        const b = new RegistryBackend({});
        b.askAccess = async () => answer();
        return b.permissions("demo", "hello");
    };
    // the registry-access channel failed (closed with a problem, not JSON)
    for (const fail of [() => { throw new Error("terminated"); }, () => JSON.parse("<html>")]) {
        const may = await registry(fail);
        assert.deepEqual([may.known, may.unchecked, may.push, may.deleteImage], [false, true, true, true]);
        assert.deepEqual(hint(may), ["access-unchecked",
                                     "Your permissions could not be checked: every action is offered, and a refusal is explained."]);
    }
    // htpasswd: the registry cannot say beforehand; no hint
    let may = await registry(() => ({ known: false }));
    assert.deepEqual([may.known, may.unchecked, may.push], [false, false, true]);
    assert.equal(hint(may), null);
    // token auth: pull only
    may = await registry(() => ({ known: true, pull: true, push: false, delete: false }));
    assert.deepEqual([may.known, may.unchecked, may.push, may.deleteImage], [true, false, false, false]);
    assert.deepEqual(hint(may), ["no-push-hint", "pull only"]);
    may = await registry(() => ({ known: true, pull: true, push: true, delete: true }));
    assert.equal(hint(may), null);
    // OpenShift: any review the master could not answer
    const master = answers => {
        const b = new OpenShiftBackend({});
        let i = 0;
        b.canI = async () => answers[i++ % answers.length];
        return b.permissions("demo");
    };
    may = await master([true, null]);
    assert.deepEqual([may.known, may.unchecked, may.push], [false, true, true]);
    assert.equal(hint(may)[0], "access-unchecked");
    may = await master([true, false]);
    assert.deepEqual([may.known, may.unchecked], [true, false]);
});

test("image sizes from a manifest or an Image object: numbers only, hostile ones count as 0", async () => {
    const { imageSizes, OpenShiftBackend } = await leaf("backend.js");
    // strings were concatenated ("5" + "10"), negatives and Infinity taken
    assert.deepEqual(imageSizes({ config: { size: "5" }, layers: [{ size: "10" }, { size: -3 }, { size: Infinity }, null, 7] }),
                     { size: 15, configSize: 5, uncompressed: null });
    assert.deepEqual(imageSizes({ config: { size: 2 }, layers: "x" }), { size: 2, configSize: 2, uncompressed: null });
    const backend = new OpenShiftBackend({});
    backend.imageObject = async name => ({ metadata: { name }, dockerImageMetadata: { Id: "sha256:cfg", Size: "100" },
                                           dockerImageLayers: [{ name: "sha256:l1", size: -50 }, { name: "sha256:l2", size: Infinity },
                                                               { name: "sha256:l3", size: "40" }, { size: 9 }] });
    assert.deepEqual(await backend.imageBlobs("sha256:x"),
                     [["sha256:l1", 0], ["sha256:l2", 0], ["sha256:l3", 40], ["sha256:cfg", 60]]);
});

test("limits: at most so many at once, results in order", async () => {
    const { limiter, mapLimit } = await leaf("limit.js");
    let inFlight = 0, most = 0;
    const work = async x => {
        most = Math.max(most, ++inFlight);
        await new Promise(r => setImmediate(r));
        inFlight--;
        return x * 2;
    };
    assert.deepEqual(await mapLimit([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3, work), [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    assert.equal(most, 3);
    most = 0;
    const gate = limiter(2);
    const all = await Promise.all([1, 2, 3, 4, 5].map(x => gate(() => work(x))));
    assert.deepEqual(all, [2, 4, 6, 8, 10]);
    assert.equal(most, 2);
    await assert.rejects(gate(() => { throw new Error("x"); }), /x/);
    assert.deepEqual(await mapLimit([], 8, work), []);
});

test("shortDigest shows 12 hex digits without the algorithm", async () => {
    const format = await leaf("format.js");
    const hex = "0123456789abcdef".repeat(4);
    assert.equal(format.shortDigest(`sha256:${hex}`), "0123456789ab");
    assert.equal(format.shortDigest(hex), "0123456789ab");
    assert.equal(format.shortDigest("sha256:abc"), "abc");
    assert.equal(format.shortDigest(""), "");
    assert.equal(format.shortDigest(null), "");
    assert.equal(format.shortDigest(undefined), "");
});

test("authorName drops the mail address", async () => {
    const format = await leaf("format.js");
    assert.equal(format.authorName("Jane Doe <jane@example.com>"), "Jane Doe");
    assert.equal(format.authorName("  Jane   <j@x>  "), "Jane");
    assert.equal(format.authorName("<only@mail>"), "<only@mail>");
    assert.equal(format.authorName("plain"), "plain");
    assert.equal(format.authorName(""), "");
    assert.equal(format.authorName(undefined), "");
});

// The words a POSIX shell makes of a command line: the line becomes the
// arguments of `set --`, in a directory where "*" matches files; a command
// substitution left unquoted would run (and leave the file `pwned`).
function shellWords(line) {
    const out = execFileSync("/bin/sh", ["-c", `set -- ${line}; printf '%s\\0' "$@"`],
                             { encoding: "utf-8", cwd: copy, env: { PATH: "/usr/bin:/bin", HOME: "/nonexistent" } });
    return out.split("\0").slice(0, -1);
}

const pwned = path.join(copy, "pwned");
const HOSTILE = [`x; touch ${pwned}`, `$(touch ${pwned})`, `\`touch ${pwned}\``, "it's", "a b", "~root", "=ls", "*",
                 "a\nb", "\"\\\"", "$HOME", "<script>alert(1)</script>", "", "-", "a'b'c", "\u00a0"];

test("commands for ordinary names read as they always did", async () => {
    const format = await leaf("format.js");
    assert.equal(format.loginCommand({ kind: "registry", host: "registry.example.com:5000", user: "admin" }),
                 "docker login -u admin registry.example.com:5000");
    assert.equal(format.loginCommand({ kind: "registry", host: "r:5000" }), "docker login -u USER r:5000");
    assert.equal(format.loginCommand({ kind: "master", host: "r:5000", token: null }), "docker login -p TOKEN -u unused r:5000");
    assert.equal(format.loginCommand({ kind: "master", host: "r:5000", token: "sha256~AbC-_9" }),
                 "docker login -p sha256~AbC-_9 -u unused r:5000");
    assert.equal(format.pullCommand("r:5000", "demo/app", "v1.0"), "docker pull r:5000/demo/app:v1.0");
    assert.equal(format.pullCommand("r:5000", "app", "sha256:abc"), "docker pull r:5000/app@sha256:abc");
    assert.deepEqual(format.pushCommands("r:5000", "demo/IMAGE"),
                     ["docker tag IMAGE r:5000/demo/IMAGE:TAG", "docker push r:5000/demo/IMAGE:TAG"]);
});

test("podman and skopeo commands say the same as docker's", async () => {
    const format = await leaf("format.js");
    assert.deepEqual(format.TOOLS, ["docker", "podman", "skopeo"]);
    assert.equal(format.loginCommand({ kind: "registry", host: "r:5000", user: "admin", tool: "podman" }),
                 "podman login -u admin r:5000");
    assert.equal(format.loginCommand({ kind: "master", host: "r:5000", token: "sha256~x", tool: "skopeo" }),
                 "skopeo login -p sha256~x -u unused r:5000");
    assert.equal(format.pullCommand("r:5000", "demo/app", "v1.0", "podman"), "podman pull r:5000/demo/app:v1.0");
    assert.equal(format.pullCommand("r:5000", "demo/app", "v1.0", "skopeo"),
                 "skopeo copy docker://r:5000/demo/app:v1.0 oci:app:v1.0");
    assert.equal(format.pullCommand("r:5000", "demo/app", "sha256:abc", "skopeo"),
                 "skopeo copy docker://r:5000/demo/app@sha256:abc oci:app");
    assert.deepEqual(format.pushCommands("r:5000", "demo/IMAGE", "podman"),
                     ["podman tag IMAGE r:5000/demo/IMAGE:TAG", "podman push r:5000/demo/IMAGE:TAG"]);
    assert.deepEqual(format.pushCommands("r:5000", "demo/IMAGE", "skopeo"),
                     ["skopeo copy oci:IMAGE docker://r:5000/demo/IMAGE:TAG"]);
    // an unknown tool is docker, never a word of its own
    assert.equal(format.pullCommand("r", "a", "b", "rm -rf /"), "docker pull r/a:b");
});

test("commands with hostile values give the shell the same words, nothing to run", async () => {
    const format = await leaf("format.js");
    for (const bad of HOSTILE) {
        assert.deepEqual(shellWords(format.shellWord(bad)), [bad], JSON.stringify(bad));
        assert.deepEqual(shellWords(format.loginCommand({ kind: "registry", host: "r:5000", user: bad })),
                         ["docker", "login", "-u", bad || "USER", "r:5000"]);
        assert.deepEqual(shellWords(format.loginCommand({ kind: "master", host: bad, token: bad })),
                         ["docker", "login", "-p", bad || "TOKEN", "-u", "unused", bad]);
        assert.deepEqual(shellWords(format.pullCommand(bad, bad, "latest")), ["docker", "pull", `${bad}/${bad}:latest`]);
        assert.deepEqual(format.pushCommands("r", bad).map(shellWords),
                         [["docker", "tag", "IMAGE", `r/${bad}:TAG`], ["docker", "push", `r/${bad}:TAG`]]);
        assert.deepEqual(shellWords(format.pullCommand(bad, bad, "latest", "podman")), ["podman", "pull", `${bad}/${bad}:latest`]);
        assert.deepEqual(shellWords(format.pullCommand(bad, bad, "latest", "skopeo")),
                         ["skopeo", "copy", `docker://${bad}/${bad}:latest`, `oci:${bad.split("/").pop() || "image"}:latest`]);
        assert.deepEqual(format.pushCommands("r", bad, "skopeo").map(shellWords),
                         [["skopeo", "copy", "oci:IMAGE", `docker://r/${bad}:TAG`]]);
    }
    assert.equal(fs.existsSync(pwned), false);
});

test("a command reaches the page as text with a copy button, never as markup", async () => {
    const format = await leaf("format.js");
    for (const text of HOSTILE) {
        document.created.length = 0;
        const box = format.command(text);
        assert.equal(box.tagName, "DIV");
        assert.equal(box.className, "command");
        const [code, button] = box.children;
        assert.equal(code.tagName, "CODE");
        assert.equal(code.childNodes.length, 1);
        assert.equal(code.childNodes[0].constructor.name, "Text");
        assert.equal(code.childNodes[0].data, text);
        assert.equal(code.children.length, 0);
        assert.equal(button.tagName, "BUTTON");
        assert.equal(button.getAttribute("type"), "button");
        assert.equal(button.getAttribute("aria-label"), "Copy to clipboard");
        assert.equal(button.textContent, "Copy");
        assert.equal(button.listeners.get("click").length, 1);
        assert.deepEqual(document.created.sort(), ["button", "code", "div"]);
        assert.deepEqual(box.descendants().map(e => e.tagName), ["CODE", "BUTTON"]);
    }
});

/* ------------------------------------------------------------- translations */

test("plural forms follow the po file's Plural-Forms expression", async () => {
    const i18n = await leaf("i18n.js");
    const forms = (header, ns) => ns.map(i18n.pluralFunction(header));
    assert.deepEqual(forms("nplurals=2; plural=(n != 1);", [0, 1, 2, 21]), [1, 0, 1, 1]);
    assert.deepEqual(forms("nplurals=2; plural=(n > 1);", [0, 1, 2]), [0, 0, 1]);
    assert.deepEqual(forms("nplurals=1; plural=0;", [0, 1, 7]), [0, 0, 0]);
    // Polish and Russian: three forms, chosen by ternaries and modulo
    const pl = "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);";
    assert.deepEqual(forms(pl, [1, 2, 4, 5, 12, 22, 25, 112]), [0, 1, 1, 2, 2, 1, 2, 2]);
    const ru = "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);";
    assert.deepEqual(forms(ru, [1, 11, 21, 2, 14, 24, 5, 100]), [0, 2, 0, 1, 2, 1, 2, 2]);
    // Arabic: six forms
    const ar = "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);";
    assert.deepEqual(forms(ar, [0, 1, 2, 3, 11, 100, 102, 103]), [0, 1, 2, 3, 4, 5, 5, 3]);
    // nothing to evaluate: no function, and never code from the header
    for (const bad of ["", "nplurals=2;", "nplurals=2; plural=(n != 1;", "nplurals=2; plural=alert(1);",
                       "nplurals=2; plural=n ? 1;", "nplurals=2; plural=constructor;"])
        assert.equal(i18n.pluralFunction(bad), null, bad);
});

// The strings the UI translates: every _("…") and every ngettext/nformat
// ("singular", "plural", …) with literal strings in static/*.js.
function uiMessages() {
    const singles = new Map(), plurals = new Map();
    const lit = '"((?:[^"\\\\]|\\\\.)*)"';
    for (const [file, source] of sources) {
        if (file.endsWith(".html")) {
            // <a … data-i18n>Text</a>, translated in place by i18n.js
            for (const m of source.matchAll(/<(\w+)\b[^>]*\sdata-i18n\b[^>]*>([^<]*)</g))
                singles.set(m[2].trim(), file);
            continue;
        }
        if (!file.endsWith(".js"))
            continue;
        for (const m of source.matchAll(new RegExp(`\\b_\\(\\s*${lit}\\s*\\)`, "g")))
            singles.set(JSON.parse(`"${m[1]}"`), file);
        for (const m of source.matchAll(new RegExp(`\\b(?:ngettext|nformat)\\(\\s*${lit}\\s*,\\s*${lit}`, "g")))
            plurals.set(JSON.parse(`"${m[1]}"`), [JSON.parse(`"${m[2]}"`), file]);
    }
    return { singles, plurals };
}

test("every UI string has a German translation, plurals with every form", () => {
    const out = path.join(copy, "de.json");
    execFileSync("python3", [path.join(here, "..", "..", "po", "po2json.py"), path.join(here, "..", "..", "po", "de.po"), out]);
    const catalog = JSON.parse(fs.readFileSync(out, "utf-8"));
    assert.equal(catalog[""]["plural-forms"], "nplurals=2; plural=(n != 1);");
    const { singles, plurals } = uiMessages();
    assert.ok(singles.size > 100 && plurals.size >= 3, `${singles.size} strings, ${plurals.size} plurals found`);
    const missing = [...singles].filter(([id]) => typeof catalog[id] !== "string").map(([id, f]) => `${f}: ${id}`);
    assert.deepEqual(missing, []);
    const badPlurals = [...plurals].filter(([id]) => !(Array.isArray(catalog[id]) && catalog[id].length === 2 &&
                                                      catalog[id].every(Boolean))).map(([id, [, f]]) => `${f}: ${id}`);
    assert.deepEqual(badPlurals, []);
    // a count in a message is a plural: its forms keep the {n}
    for (const [id, [plural]] of plurals) {
        assert.ok(id.includes("{n}") && plural.includes("{n}"), id);
        assert.ok(catalog[id].every(f => f.includes("{n}")), id);
    }
});

test("ngettext picks the form for the count, and English without a catalogue", async () => {
    const i18n = await leaf("i18n.js");
    assert.equal(i18n.ngettext("{n} image stream", "{n} image streams", 1), "{n} image stream");
    assert.equal(i18n.ngettext("{n} image stream", "{n} image streams", 0), "{n} image streams");
    assert.equal(i18n.nformat("{n} image stream", "{n} image streams", 2), "2 image streams");
    assert.equal(i18n.nformat("{n} tag of {name}", "{n} tags of {name}", 1, { name: "x" }), "1 tag of x");
});

/* ------------------------------------------------------------- layers and history */

test("each layer gets the command that made it; steps without a layer get none", async () => {
    const history = await leaf("history.js");
    const layers = [{ digest: "sha256:a", size: 10 }, { digest: "sha256:b", size: 20 }];
    const config = { history: [
        { created_by: "/bin/sh -c #(nop) ADD file:x in / ", created: "2024-01-01T00:00:00Z" },
        { created_by: "/bin/sh -c #(nop)  ENV A=1", empty_layer: true },
        { created_by: "/bin/sh -c make", comment: "built" },
        { created_by: "/bin/sh -c #(nop)  CMD [\"sh\"]", empty_layer: true },
    ] };
    const h = history.configHistory(config);
    assert.deepEqual(h.map(e => e.emptyLayer), [false, true, false, true]);
    const r = history.layerSteps(layers, h);
    assert.deepEqual(r.steps.map(s => [s.command, s.layer && s.layer.digest]), [
        ["/bin/sh -c #(nop) ADD file:x in / ", "sha256:a"], ["/bin/sh -c #(nop)  ENV A=1", null],
        ["/bin/sh -c make", "sha256:b"], ["/bin/sh -c #(nop)  CMD [\"sh\"]", null]]);
    assert.deepEqual([r.total, r.layerCount, r.consistent], [30, 2, true]);
    // no history: the layers without commands; too short or too long a
    // history: every layer still there, in order, and said so
    assert.equal(history.configHistory({}), null);
    assert.equal(history.configHistory({ history: [] }), null);
    const none = history.layerSteps(layers, null);
    assert.deepEqual(none.steps.map(s => [s.command, s.layer.digest]), [[null, "sha256:a"], [null, "sha256:b"]]);
    assert.equal(none.consistent, false);
    const short = history.layerSteps(layers, h.slice(0, 2));
    assert.deepEqual(short.steps.map(s => s.layer && s.layer.digest), ["sha256:a", null, "sha256:b"]);
    assert.equal(short.consistent, false);
    const long = history.layerSteps(layers.slice(0, 1), h);
    assert.deepEqual(long.steps.map(s => s.layer && s.layer.digest), ["sha256:a", null, null, null]);
    assert.equal(long.consistent, false);
    // odd entries from an image: no crash, no other types
    assert.deepEqual(history.configHistory({ history: [null, 7, { created_by: 5, empty_layer: "yes" }] }),
                     [{ createdBy: "", created: "", author: "", comment: "", emptyLayer: false }]);
});

test("history commands read as the Dockerfile that made them", async () => {
    const history = await leaf("history.js");
    const cases = [
        ["/bin/sh -c #(nop)  ENV A=1 B=2", "ENV A=1 B=2"],
        ["/bin/sh -c #(nop) COPY dir:abc in /app ", "COPY dir:abc in /app"],
        ["/bin/sh -c #(nop)  CMD [\"python3\" \"/app/app.py\"]", "CMD [\"python3\" \"/app/app.py\"]"],
        ["/bin/sh -c apt-get update && apt-get install -y x", "RUN apt-get update && apt-get install -y x"],
        ["|2 VERSION=1 DEBUG= /bin/sh -c make install", "RUN make install"],
        ["RUN /bin/sh -c make # buildkit", "RUN make"],
        ["COPY . /src # buildkit", "COPY . /src"],
        ["ENV PATH=/usr/bin", "ENV PATH=/usr/bin"],
        ["COPY /etc # umoci insert", "COPY /etc # umoci insert"],
        ["", ""],
    ];
    for (const [command, instruction] of cases)
        assert.equal(history.dockerfileInstruction(command), instruction, command);
    const steps = history.layerSteps([{ digest: "sha256:0123456789abcdef", size: 1 }, { digest: "sha256:fedcba9876543210", size: 1 }],
                                     history.configHistory({ history: [{ created_by: "/bin/sh -c #(nop)  LABEL a=b" , empty_layer: true },
                                                                       { created_by: "/bin/sh -c printf 'a\nb'" }] }));
    assert.equal(history.dockerfileText(steps.steps),
                 "LABEL a=b\nRUN printf 'a \\\nb'\n# layer fedcba987654: no command recorded\n");
});

test("the layers table shows image text as text, with sizes and the total", async () => {
    const history = await leaf("history.js");
    const hostile = "<img src=x onerror=alert(1)>";
    const r = history.layerSteps([{ digest: "sha256:" + "a".repeat(64), size: 2000 }],
                                 [{ createdBy: hostile, created: "", author: "", comment: hostile, emptyLayer: false },
                                  { createdBy: "ENV X=1", created: "", author: "", comment: "", emptyLayer: true }]);
    document.created.length = 0;
    const table = history.layersTable(r);
    assert.equal(table.tagName, "TABLE");
    assert.ok(!document.created.includes("img"), document.created.join(" "));
    const rows = table.descendants().filter(e => e.tagName === "TR");
    // header, two steps, total
    assert.equal(rows.length, 4);
    assert.ok(table.textContent.includes(hostile));
    assert.ok(table.textContent.includes("no layer"));
    assert.ok(table.textContent.includes("Total of 1 layer"));
});

/* ------------------------------------------------------------- the repository list */

test("the repository list sorts what is known first, either way, ties by name", async () => {
    const list = await leaf("repolist.js");
    const items = ["b/two", "a/one", "c/three", "d/four"].map(list.itemFromName);
    const sizes = { "b/two": 30, "a/one": 10, "d/four": 30 };
    for (const it of items)
        if (sizes[it.repository] !== undefined)
            assert.equal(list.applySummary(it, { type: "repository", repository: it.repository, tags: 1,
                                                 size: sizes[it.repository], created: "2024-01-01T00:00:00Z" }), true);
    assert.equal(list.sortItems(items, "size", true), 3);
    assert.deepEqual(items.map(i => i.repository), ["b/two", "d/four", "a/one", "c/three"]);
    assert.equal(list.sortItems(items, "size", false), 3);
    assert.deepEqual(items.map(i => i.repository), ["a/one", "b/two", "d/four", "c/three"]);
    assert.equal(list.sortItems(items, "name", false), 4);
    assert.deepEqual(items.map(i => i.repository), ["a/one", "b/two", "c/three", "d/four"]);
    // the same summary again changes nothing shown; a new tag does
    assert.equal(list.applySummary(items[0], { repository: "a/one", tags: 1, size: 10, created: "2024-01-01T00:00:00Z" }), false);
    assert.equal(list.applySummary(items[0], { repository: "a/one", tags: 2, size: 10, created: "2024-01-01T00:00:00Z" }), true);
    // a walk cut at its limit: said so (the list shows "100,000+")
    assert.equal(list.applySummary(items[0], { repository: "a/one", tags: 2, size: 10, created: "2024-01-01T00:00:00Z",
                                               truncated: true }), true);
    assert.equal(items[0].truncated, true);
    // nanoseconds and offsets compare as times, not as text
    const [x, y] = ["x", "y"].map(list.itemFromName);
    list.applySummary(x, { repository: "x", created: "2024-01-01T10:00:00.5Z" });
    list.applySummary(y, { repository: "y", created: "2024-01-01T11:00:00+02:00" });
    const xy = [y, x];
    list.sortItems(xy, "updated", true);
    assert.deepEqual(xy.map(i => i.repository), ["x", "y"]);
    assert.deepEqual(list.filterItems(items, "ONE", null).map(i => i.repository), ["a/one"]);
    assert.deepEqual(list.filterItems(items, "", "b").map(i => i.repository), ["b/two"]);
    assert.equal(list.distinctSize([[["sha256:a", 5], ["sha256:b", 7]], [["sha256:a", 5]]]), 12);
});

// A stand-in for rows(): every channel the queue opens, resolved by hand.
function fakeChannels() {
    const opened = [];
    const open = (names, handlers) => {
        let settle;
        const done = new Promise((resolve, reject) => { settle = { resolve, reject }; });
        const ch = { names, handlers, closed: false, settle, done, close: () => { ch.closed = true; } };
        opened.push(ch);
        return ch;
    };
    const answer = async (ch, fingerprint = "f") => {
        for (const n of ch.names)
            ch.handlers.row({ type: "repository", repository: n, tags: 1, fingerprint });
        ch.settle.resolve({});
        await new Promise(r => setImmediate(r));
    };
    return { opened, open, answer };
}

test("summaries: one channel at a time, the rows on screen first, then the background, then polls backing off", async () => {
    const { SummaryQueue, POLL_MIN, POLL_MAX } = await leaf("summaries.js");
    const { opened, open, answer } = fakeChannels();
    const rows = [];
    const q = new SummaryQueue(open, row => rows.push(row.repository), null);
    try {
        q.setVisible(["a", "b"]);
        assert.equal(opened.length, 1);
        assert.deepEqual(opened[0].names, ["a", "b"]);
        q.setBackground(["a", "b", "c", "d"]);
        assert.equal(opened.length, 1, "one channel at a time");
        await answer(opened[0]);
        assert.deepEqual(opened[1].names, ["c", "d"], "then the rest, in the order given");
        // a scroll to rows nobody asked for yet ends the background batch
        q.setVisible(["x"]);
        assert.ok(opened[1].closed);
        assert.deepEqual(opened[2].names, ["x"]);
        await answer(opened[2]);
        // ... which goes on afterwards with what it had not got
        assert.deepEqual(opened[3].names, ["c", "d"]);
        await answer(opened[3]);
        assert.equal(opened.length, 4);
        assert.deepEqual(rows, ["a", "b", "x", "c", "d"]);
        // polls: what is on screen once its summary is older than the interval
        const now = Date.now();
        assert.equal(q.next(now), null);
        assert.deepEqual(q.next(now + POLL_MIN), { kind: "poll", names: ["x"] });
        q.start(q.next(now + POLL_MIN));
        await answer(opened[4]);
        assert.equal(q.interval, 2 * POLL_MIN, "nothing changed: back off");
        q.start({ kind: "poll", names: ["x"] });
        await answer(opened[5]);
        q.start({ kind: "poll", names: ["x"] });
        await answer(opened[6], "changed");
        assert.equal(q.interval, POLL_MIN, "a change: poll often again");
        // no further than POLL_MAX
        for (let i = 0; i < 10; i++) {
            q.start({ kind: "poll", names: ["x"] });
            await answer(opened.at(-1), "changed");
        }
        assert.equal(q.interval, POLL_MAX);
    } finally {
        q.stop();
    }
});

test("summaries: a failed channel is tried again later, not at once", async () => {
    const { SummaryQueue } = await leaf("summaries.js");
    const { opened, open } = fakeChannels();
    const q = new SummaryQueue(open, () => null, null);
    try {
        q.setVisible(["a"]);
        opened[0].settle.reject(Object.assign(new Error("terminated"), { problem: "terminated" }));
        await new Promise(r => setImmediate(r));
        assert.equal(opened.length, 1, "no new channel at once");
        assert.equal(q.state().error.problem, "terminated");
        assert.ok(q.retryAt > Date.now());
    } finally {
        q.stop();
    }
});

test("summaries: no polls while held (the catalog is walked), the unknown rows still", async () => {
    const { SummaryQueue, POLL_MIN } = await leaf("summaries.js");
    const { opened, open, answer } = fakeChannels();
    const q = new SummaryQueue(open, () => null, null);
    try {
        q.holdPolls(true);
        q.setVisible(["a"]);
        assert.deepEqual(opened[0].names, ["a"]);
        await answer(opened[0]);
        assert.equal(q.next(Date.now() + 10 * POLL_MIN), null);
        q.holdPolls(false);
        assert.deepEqual(q.next(Date.now() + POLL_MIN), { kind: "poll", names: ["a"] });
    } finally {
        q.stop();
    }
});

test("summaries: repositories gone from the catalog are dropped, not asked for again", async () => {
    const { SummaryQueue } = await leaf("summaries.js");
    const { opened, open, answer } = fakeChannels();
    const q = new SummaryQueue(open, () => null, null);
    try {
        q.setVisible(["a", "b"]);
        q.setBackground(["a", "b", "c", "d", "e"]);
        await answer(opened[0]);
        assert.deepEqual(opened[1].names, ["c", "d", "e"]);
        opened[1].close();
        q.cancel();
        q.drop(new Set(["b", "d"]));
        assert.equal(q.get("b"), undefined);
        assert.deepEqual(q.visible, ["a"]);
        assert.deepEqual(q.background, ["a", "c", "e"]);
        assert.deepEqual(opened.at(-1).names, ["c", "e"]);
    } finally {
        q.stop();
    }
});

test("OpenShift search: odd tags from the master are skipped, a digest query needs 6 hex digits", async () => {
    const { searchStreams, digestQueryProblem, queryKind } = await leaf("streamsearch.js");
    const hex = "4f2a9c" + "0".repeat(58);
    const reads = [];
    const backend = {
        streams: async () => [
            { project: "p", name: "s", tags: [
                { name: 7, digest: `sha256:${hex}` }, null, { name: "ok", digest: { x: 1 } },
                { name: "v1", digest: `sha256:${hex}`, created: 5 }, { name: "v2", digest: 12 } ] },
            { project: "p", name: "t", tags: "many" }, { project: "p", name: 3, tags: [] }, null,
        ],
        imageBlobs: async d => { reads.push(d); return [["sha256:" + "1".repeat(64), 1], null, [5, 5]]; },
    };
    const run = async (q, options) => {
        const rows = [];
        const done = await searchStreams(backend, q, { row: r => rows.push(r) }, options).done;
        return { rows, done };
    };
    let r = await run("v");
    assert.deepEqual(r.rows.map(x => [x.repository, x.tag, x.digest, x.created]),
                     [["p/s", "v1", `sha256:${hex}`, undefined], ["p/s", "v2", undefined, undefined]]);
    assert.equal(r.done.repositories, 2);
    r = await run("OK");
    assert.deepEqual(r.rows.map(x => [x.tag, x.digest]), [["ok", undefined]]);
    r = await run("sha256:4f2a9c");
    assert.deepEqual(r.rows.map(x => [x.tag, x.match]), [["v1", "manifest"]]);
    r = await run("sha256:111111");
    assert.deepEqual(r.rows.map(x => [x.tag, x.match]), [["v1", "blob"]]);
    // too short: nothing is read, and the user is told why
    reads.length = 0;
    for (const q of ["sha256:", "sha256:4f2a9", "sha512:xyz"]) {
        assert.equal(queryKind(q), "digest");
        assert.match(digestQueryProblem(q), /at least 6 hexadecimal digits/);
        await assert.rejects(run(q), /at least 6 hexadecimal digits/);
    }
    await assert.rejects(run("4f2", { kind: "digest" }), /at least 6 hexadecimal digits/);
    assert.deepEqual(reads, []);
    assert.equal(digestQueryProblem("4f2a9c"), "");
    assert.equal(digestQueryProblem(`sha256:${hex}`), "");
});
