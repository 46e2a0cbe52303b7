// The repository list (issue 12) and storage (issue 13): every repository
// with its tag count, newest tag, when it was updated and its size (every
// blob once), sortable by each; the overview's largest repositories with
// what they share. Compared with what the registry itself says (facts.mjs).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, loginForm, loginOpenShift, masterControl, shotsAt, LANGS } from "./lib.mjs";
import { MAIN, catalog, repositoryFacts, expectedOrder } from "./facts.mjs";

const URL_ = process.env.RC_REGISTRY_URL;
const OPENSHIFT = process.env.RC_OPENSHIFT_URL;

let browser;
let facts;
before(async () => {
    browser = await launch();
    facts = await Promise.all((await catalog(MAIN())).map(r => repositoryFacts(MAIN(), r)));
});
after(async () => {
    await browser.close();
});

async function login(locale) {
    const page = await newPage(browser, { locale });
    await page.goto(URL_);
    await loginForm(page, process.env.REGISTRY_USER, process.env.REGISTRY_PASSWORD);
    await page.waitForSelector("#recent-images");
    return page;
}

const names = page => page.locator("#stream-list .row .name").allTextContents();

// The list once every row has its size and no sort is still filling in.
async function filled(page) {
    await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll("#stream-list .row")];
        return rows.length && rows.every(r => r.querySelector(".size").dataset.bytes !== undefined) &&
            document.querySelector("#sort-note").hidden;
    }, null, { timeout: 30000 });
}

test("every repository with its tags, newest tag, update time and size, as the registry has them", async () => {
    const page = await login("en-US");
    try {
        await page.goto(`${URL_}#/images`);
        await filled(page);
        assert.deepEqual(await names(page), facts.map(f => f.repository).sort());
        for (const f of facts) {
            const row = page.locator(`#stream-list .row[data-repository="${f.repository}"]`);
            assert.equal(await row.locator(".ntags").textContent(), String(f.tags), f.repository);
            // every distinct blob once: what registry-summary says is the
            // registry's own configs and layers, shared ones counted once
            assert.equal(Number(await row.locator(".size").getAttribute("data-bytes")), f.size, f.repository);
            assert.equal(Date.parse(await row.locator(".age").getAttribute("title")), f.time, f.repository);
            const newest = await row.locator(".newest .tag").textContent();
            assert.ok(f.digests[newest], `${f.repository}: newest tag ${newest}`);
        }
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("sorting by last update, size and tag count gives the registry's order, both ways", async () => {
    const page = await login("en-US");
    try {
        await page.goto(`${URL_}#/images`);
        await filled(page);
        for (const key of ["updated", "size", "tags"]) {
            await page.click(`#sort-${key}`);
            await filled(page);
            assert.equal(await page.locator(`#sort-${key}`).getAttribute("data-dir"), "desc");
            assert.deepEqual(await names(page), expectedOrder(facts, key, true), `${key}, first click`);
            assert.match(page.url(), new RegExp(`sort=${key}$`));
            await page.click(`#sort-${key}`);
            await filled(page);
            assert.deepEqual(await names(page), expectedOrder(facts, key, false), `${key}, second click`);
        }
        // the order is in the address: a reload keeps it
        await page.reload();
        await filled(page);
        assert.deepEqual(await names(page), expectedOrder(facts, "tags", false));
        await page.click("#sort-size");
        await filled(page);
        for (const [lang, locale] of LANGS) {
            const p = lang === "en" ? page : await login(locale);
            if (p !== page) {
                await p.goto(`${URL_}#/images?sort=size`);
                await filled(p);
            }
            await shotsAt(p, "repository-list-by-size");
            if (p !== page)
                await p.context().close();
        }
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("the overview shows the largest repositories and what they share", async () => {
    for (const [, locale] of LANGS) {
        const page = await login(locale);
        try {
            await page.waitForSelector("#storage-body[data-state=done]", { timeout: 30000 });
            const rows = await page.locator("#storage-list tbody tr").evaluateAll(trs => trs.map(tr => ({
                repository: tr.dataset.repository,
                size: Number(tr.querySelector(".size").dataset.bytes),
                shared: Number(tr.querySelector(".shared").dataset.bytes),
            })));
            assert.deepEqual(rows.map(r => r.repository), expectedOrder(facts, "size", true));
            // shared: the bytes of blobs another repository uses too (the
            // fixture's demo/tools is built on library/busybox-like's base)
            for (const r of rows) {
                const f = facts.find(x => x.repository === r.repository);
                assert.equal(r.size, f.size);
                let shared = 0;
                for (const [digest, size] of f.blobs)
                    if (facts.some(o => o !== f && o.blobs.has(digest)))
                        shared += size;
                assert.equal(r.shared, shared, r.repository);
            }
            assert.ok(rows.find(r => r.repository === "demo/tools").shared > 0, "a layer shared by two repositories");
            const all = new Map();
            for (const f of facts)
                for (const [d, n] of f.blobs)
                    all.set(d, n);
            assert.equal(Number(await page.locator("#storage-distinct").getAttribute("data-bytes")),
                         [...all.values()].reduce((a, n) => a + n, 0));
            await page.locator("#storage-card").scrollIntoViewIfNeeded();
            await shotsAt(page, "overview-storage-registry");
            assert.deepEqual(page.problems, []);
        } finally {
            await page.context().close();
        }
    }
});

test("OpenShift: image streams with sizes from their images, storage by project", async () => {
    await masterControl({ authorizeUser: "alice" });
    for (const [, locale] of LANGS) {
        const page = await newPage(browser, { locale });
        try {
            await loginOpenShift(page, OPENSHIFT);
            await page.waitForSelector("#storage-body[data-state=done]", { timeout: 30000 });
            const demo = page.locator('#storage-list tr[data-project="demo"]');
            assert.ok(Number(await demo.locator(".shared").getAttribute("data-bytes")) > 0, "demo shares a layer with library");
            await page.locator("#storage-card").scrollIntoViewIfNeeded();
            await shotsAt(page, "overview-storage-openshift");
            await page.goto(`${OPENSHIFT}#/images?sort=size`);
            await filled(page);
            // the same images as in the registry: the same size (demo/tools
            // is not changed by any test)
            const tools = facts.find(f => f.repository === "demo/tools");
            const row = page.locator('#stream-list .row[data-repository="demo/tools"]');
            assert.equal(Number(await row.locator(".size").getAttribute("data-bytes")), tools.size);
            assert.equal(await row.locator(".ntags").textContent(), String(tools.tags));
            const sizes = await page.locator("#stream-list .row .size").evaluateAll(s => s.map(e => Number(e.dataset.bytes)));
            assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a), "largest first");
            await shotsAt(page, "repository-list-openshift");
            assert.deepEqual(page.problems, []);
        } finally {
            await page.context().close();
        }
    }
});
