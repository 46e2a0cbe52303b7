// Each UI module loaded alone in Chromium, from the console itself (its CSP,
// its MIME types), into a page without scripts (404.html): the import fetches
// nothing but modules, opens no socket, changes neither the page nor its
// title, cookies or storage. The pages' entry modules (main.js, login.js)
// are the control: they are seen to act. tests/static/test-modules.mjs checks
// the same under Node.js in `make check`, with the import rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { usePage } from "./lib.mjs";

const URL_ = process.env.RC_REGISTRY_URL;
const ctx = usePage();

const staticDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "static");
const files = fs.readdirSync(staticDir).sort();
const entries = new Set(files.filter(f => f.endsWith(".html")).flatMap(f =>
    [...fs.readFileSync(path.join(staticDir, f), "utf-8").matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map(m => m[1])));
const modules = files.filter(f => f.endsWith(".js") && !entries.has(f));

function snapshot(page) {
    return page.evaluate(() => ({
        html: document.documentElement.outerHTML, title: document.title, cookie: document.cookie,
        localStorage: localStorage.length, sessionStorage: sessionStorage.length, location: location.href,
    }));
}

// A fresh document (modules load once per document) that records what
// happens from now on: requests, sockets, DOM mutations.
async function blankPage(page) {
    await page.goto(new URL("404.html", URL_).href);
    const seen = { requests: [], sockets: [] };
    const onRequest = r => seen.requests.push(`${r.method()} ${new URL(r.url()).pathname}`);
    const onSocket = ws => seen.sockets.push(ws.url());
    page.on("request", onRequest);
    page.on("websocket", onSocket);
    seen.stop = () => {
        page.off("request", onRequest);
        page.off("websocket", onSocket);
    };
    await page.evaluate(() => {
        window.mutations = [];
        new MutationObserver(list => window.mutations.push(...list.map(m => `${m.type} ${m.target.nodeName}`)))
            .observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    return seen;
}

for (const module of modules) {
    test(`${module} loads alone in Chromium and changes nothing`, async () => {
        const page = ctx.page;
        const seen = await blankPage(page);
        const before = await snapshot(page);
        const exported = await page.evaluate(m => import(m).then(x => Object.keys(x)), `./${module}`);
        // one turn of the event loop for whatever the import may have started
        const mutations = await page.evaluate(() => new Promise(resolve => setTimeout(() => resolve(window.mutations), 0)));
        seen.stop();
        assert.ok(exported.length > 0, `${module} exports nothing`);
        assert.deepEqual(mutations, []);
        assert.deepEqual(await snapshot(page), before);
        assert.deepEqual(seen.sockets, []);
        for (const r of seen.requests)
            assert.match(r, /^GET \/[\w-]+\.js$/, `${module} made a request that is not a module's`);
        assert.ok(seen.requests.includes(`GET /${module}`), seen.requests.join(", "));
        assert.deepEqual(page.problems, []);
    });
}

test("main.js, the console page's entry, is seen starting the console", async () => {
    const page = ctx.page;
    const seen = await blankPage(page);
    const session = page.waitForRequest(r => new URL(r.url()).pathname === "/cockpit/session");
    await page.evaluate(() => import("./main.js"));
    await session;
    seen.stop();
    assert.ok(entries.has("main.js"));
});
