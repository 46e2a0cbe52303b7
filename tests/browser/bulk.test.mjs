// 10,005 repositories: the list appears at once (names from the catalog the
// server keeps) and only the rows on screen are in the page; the columns
// fill in for the rows on screen, and for all of them when sorted by one,
// while filtering and scrolling go on; a tag pushed to a repository on
// screen shows without reading the catalog again.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { shot, shotsAt, usePage, loginForm, newPage, LANGS } from "./lib.mjs";
import { repositoryFacts } from "./facts.mjs";

const URL_ = process.env.RC_BULK_URL;
const BULK = { base: process.env.RC_BULK_REGISTRY_URL };
const LOG = path.join(process.env.RC_BULK_REGISTRY_DIR, "registry.log");
const ctx = usePage();

// The registry's requests since byte OFFSET of its log, by kind.
function registryRequests(offset) {
    const counts = { catalogPages: 0, catalogChecks: 0, tagsList: 0, manifests: 0, blobs: 0 };
    for (const line of fs.readFileSync(LOG, "utf8").slice(offset).split("\n")) {
        const m = /"(GET|HEAD) (\/v2\/\S*) HTTP/.exec(line);
        if (!m)
            continue;
        if (m[2].startsWith("/v2/_catalog"))
            counts[/[?&]n=1(&|$)/.test(m[2]) ? "catalogChecks" : "catalogPages"]++;
        else if (m[2].includes("/tags/list"))
            counts.tagsList++;
        else if (m[2].includes("/manifests/"))
            counts.manifests++;
        else if (m[2].includes("/blobs/"))
            counts.blobs++;
    }
    return counts;
}

const rowOf = (page, repository) => page.locator(`#stream-list .row[data-repository="${repository}"]`);

test("a registry with 10,005 repositories lists at once and fills the columns of the rows on screen", async () => {
    const page = ctx.page;
    await page.goto(URL_);
    await loginForm(page, "anyone", "x");
    await page.waitForSelector("#recent-images", { timeout: 60000 });
    // the overview says the registry is too large to add up there
    await page.waitForSelector("#storage-too-many");

    const t = Date.now();
    await page.goto(`${URL_}#/images`);
    await page.waitForFunction(() => /^10,005 repositories$/.test(document.querySelector("#stream-count")?.textContent || ""),
                               null, { timeout: 60000 });
    console.log(`# 10,005 repositories listed in ${Date.now() - t} ms`);
    const rows = await page.locator("#stream-list .row").count();
    assert.ok(rows > 5 && rows < 100, `only the visible rows are in the page (${rows})`);

    // the rows on screen get their columns: what the registry says
    const facts = await repositoryFacts(BULK, "bulk/image-00001");
    await rowOf(page, "bulk/image-00001").locator(".size[data-bytes]").waitFor({ timeout: 30000 });
    assert.equal(Number(await rowOf(page, "bulk/image-00001").locator(".size").getAttribute("data-bytes")), facts.size);
    assert.equal(await rowOf(page, "bulk/image-00001").locator(".ntags").textContent(), "1");
    assert.equal(await rowOf(page, "bulk/image-00001").locator(".newest").textContent(), "latest");
    await page.waitForFunction(() => [...document.querySelectorAll("#stream-list .row")]
        .filter(r => r.getBoundingClientRect().top < innerHeight).every(r => r.querySelector(".size").dataset.bytes));
    // ... and not every repository's: the rest wait until they are shown
    assert.equal(await rowOf(page, "bulk/image-05000").count(), 0);

    await page.fill("#filter-text", "image-09999");
    await page.waitForFunction(() => document.querySelectorAll("#stream-list .row").length === 1);
    assert.equal(await page.locator("#stream-list .row .name").textContent(), "bulk/image-09999");
    await rowOf(page, "bulk/image-09999").locator(".size[data-bytes]").waitFor({ timeout: 30000 });

    await page.fill("#filter-text", "");
    await page.evaluate(() => {
        const v = document.querySelector("#stream-list");
        v.scrollTop = v.scrollHeight;
    });
    await page.waitForFunction(() => [...document.querySelectorAll("#stream-list .row .name")]
        .some(n => n.textContent === "project-b/app" || n.textContent === "library/busybox-like"));
    await rowOf(page, "project-b/app").locator(".size[data-bytes]").waitFor({ timeout: 30000 });
    await shot(page, "bulk-images-scrolled");
    assert.deepEqual(page.problems, []);
});

test("sorted by size, the rest fill in the background while filtering works", async () => {
    const page = ctx.page;
    await page.goto(`${URL_}#/images`);
    await page.waitForFunction(() => /^10,005 /.test(document.querySelector("#stream-count")?.textContent || ""));
    await page.click("#sort-size");
    // it says the order is of what is known so far, and shows the progress
    await page.waitForSelector("#sort-note:not([hidden])");
    assert.match(await page.locator("#sort-note").textContent(), /^Sorted by Size where known: [\d,]+ of 10,005 so far\./);
    await page.waitForSelector("#list-progress[data-state=background] progress");
    const before = Number(/known: ([\d,]+) of/.exec(await page.locator("#sort-note").textContent())[1].replace(/,/g, ""));
    await shotsAt(page, "bulk-sorting-by-size");

    // filtering while it fills: the matches at once, with their columns
    await page.fill("#filter-text", "image-0777");
    await page.waitForFunction(() => document.querySelectorAll("#stream-list .row").length === 10);
    const shown = await page.locator("#stream-list .row .name").allTextContents();
    assert.deepEqual([...shown].sort(), Array.from({ length: 10 }, (_, i) => `bulk/image-0777${i}`));
    await page.waitForFunction(() => [...document.querySelectorAll("#stream-list .row .size")].every(s => s.dataset.bytes));
    await page.fill("#filter-text", "");
    await page.waitForFunction(() => /^10,005 /.test(document.querySelector("#stream-count").textContent));
    // the background goes on where it was
    await page.waitForFunction(n => {
        const m = /known: ([\d,]+) of/.exec(document.querySelector("#sort-note").textContent);
        return document.querySelector("#sort-note").hidden || (m && Number(m[1].replace(/,/g, "")) > n + 200);
    }, before, { timeout: 60000 });
    // what is known comes first, largest first; the rest after it
    const sizes = await page.locator("#stream-list .row .size").evaluateAll(s => s.map(e => e.dataset.bytes));
    const known = sizes.filter(b => b !== undefined).map(Number);
    assert.deepEqual(sizes.slice(0, known.length).map(Number), known, "known sizes first");
    assert.deepEqual(known, [...known].sort((a, b) => b - a), "largest first");
    for (const [lang, locale] of LANGS.slice(1)) {
        const de = await newPage(ctx.browser, { locale });
        try {
            await de.goto(URL_);
            await loginForm(de, "anyone", "x");
            await de.waitForSelector("#main h1");
            await de.goto(`${URL_}#/images?sort=size`);
            await de.waitForSelector("#sort-note:not([hidden])");
            assert.match(await de.locator("#sort-note").textContent(), /^Nach Größe sortiert/);
            await shotsAt(de, "bulk-sorting-by-size");
            assert.deepEqual(de.problems, [], lang);
        } finally {
            await de.context().close();
        }
    }
    assert.deepEqual(page.problems, []);
});

test("a tag pushed to a repository on screen shows without a catalog walk", async () => {
    const page = ctx.page;
    await page.goto(`${URL_}#/images`);
    await page.waitForFunction(() => /^10,005 /.test(document.querySelector("#stream-count")?.textContent || ""));
    const row = rowOf(page, "bulk/image-00002");
    await row.locator(".size[data-bytes]").waitFor({ timeout: 30000 });
    assert.equal(await row.locator(".ntags").textContent(), "1");
    const offset = fs.statSync(LOG).size;
    execFileSync(process.env.RC_REGISTRY_PUSH, [process.env.RC_BULK_REGISTRY_DIR, "hello-1.1", "bulk/image-00002:pushed"]);
    const t = Date.now();
    await page.waitForFunction(() => document.querySelector('#stream-list .row[data-repository="bulk/image-00002"] .ntags')
        ?.textContent === "2", null, { timeout: 150000 });
    console.log(`# the pushed tag showed after ${Date.now() - t} ms`);
    // newest and size follow the new image
    const facts = await repositoryFacts(BULK, "bulk/image-00002");
    await page.waitForFunction(size => document.querySelector('#stream-list .row[data-repository="bulk/image-00002"] .size')
        .dataset.bytes === String(size), facts.size);
    assert.equal(await row.locator(".newest").textContent(), "pushed");
    const counts = registryRequests(offset);
    console.log(`# registry requests meanwhile: ${JSON.stringify(counts)}`);
    // no catalog walk: the repositories on screen were asked, nothing else
    assert.equal(counts.catalogPages, 0);
    const onScreen = await page.locator("#stream-list .row").count();
    assert.ok(counts.tagsList > 0 && counts.tagsList <= onScreen * 20, `${counts.tagsList} tags/list for ${onScreen} rows`);
    assert.deepEqual(page.problems, []);
});
