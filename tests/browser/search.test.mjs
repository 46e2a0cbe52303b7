// Search across the registry (issue 12): a tag name or a digest, full or a
// prefix, in every repository the user can read; "where is this digest":
// every repository:tag that is that image, and for a layer every image
// that contains it, linked to the repository and the image. Compared with
// what the registry itself holds (facts.mjs).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, loginForm, loginOpenShift, masterControl, shotsAt, LANGS } from "./lib.mjs";
import { MAIN, get, catalog, repositoryFacts } from "./facts.mjs";

const URL_ = process.env.RC_REGISTRY_URL;
const OPENSHIFT = process.env.RC_OPENSHIFT_URL;
const ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

let browser;
let facts;
let sharedLayer;
before(async () => {
    browser = await launch();
    facts = await Promise.all((await catalog(MAIN())).map(r => repositoryFacts(MAIN(), r)));
    // the fixture's layer that two repositories use: library/busybox-like's
    // base, which demo/tools is built on
    const m = await get(MAIN().base, "/v2/library/busybox-like/manifests/1.36",
                        { user: MAIN().user, password: MAIN().password, accept: ACCEPT });
    sharedLayer = m.body.layers[0].digest;
});
after(async () => {
    await browser.close();
});

async function login(locale = "en-US") {
    const page = await newPage(browser, { locale });
    await page.goto(URL_);
    await loginForm(page, process.env.REGISTRY_USER, process.env.REGISTRY_PASSWORD);
    await page.waitForSelector("#recent-images");
    return page;
}

async function searchFor(page, query) {
    await page.goto(`${page.url().split("#")[0]}#/search`);
    await page.fill("#search-query", query);
    await page.click("#search-button");
    await page.waitForSelector("#search-progress[data-state=done]", { timeout: 60000 });
    return page.locator("#search-results tbody tr").evaluateAll(trs => trs.map(tr => ({
        repository: tr.dataset.repository, tag: tr.dataset.tag, match: tr.dataset.match,
    })).sort((a, b) => `${a.repository}:${a.tag}`.localeCompare(`${b.repository}:${b.tag}`)));
}

const key = (r, t) => `${r}:${t}`;

test("a layer shared by two repositories: every image that contains it", async () => {
    const page = await login();
    try {
        const rows = await searchFor(page, sharedLayer);
        const expected = [];
        for (const f of facts)
            for (const [tag, digest] of Object.entries(f.digests)) {
                // an index's tags contain it through a platform's layers
                const holds = await imageHolds(f.repository, digest, sharedLayer);
                if (holds)
                    expected.push(key(f.repository, tag));
            }
        assert.deepEqual(rows.map(r => key(r.repository, r.tag)), expected.sort());
        assert.deepEqual(new Set(rows.map(r => r.repository)), new Set(["demo/tools", "library/busybox-like"]));
        assert.ok(rows.every(r => r.match === "layer"));
        assert.match(await page.locator("#where-layer").textContent(), /in 2 repositories/);
        assert.match(await page.locator("#search-count").textContent(), new RegExp(`^${rows.length} matches in ${facts.length} repositories searched\\.$`));
        for (const [, locale] of LANGS) {
            const p = locale === "en-US" ? page : await login(locale);
            if (p !== page)
                await searchFor(p, sharedLayer);
            await shotsAt(p, "search-layer");
            if (p !== page)
                await p.context().close();
        }
        // a match leads to its image
        await page.click('#search-results tr[data-repository="library/busybox-like"][data-tag="1.36"] a.tag-link');
        await page.waitForURL(u => u.hash === "#/images/library/busybox-like/1.36");
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

async function imageHolds(repository, digest, layer) {
    const opts = { user: MAIN().user, password: MAIN().password,
                   accept: `application/vnd.oci.image.index.v1+json, ${ACCEPT}` };
    const m = await get(MAIN().base, `/v2/${repository}/manifests/${digest}`, opts);
    if (m.body.manifests) {
        for (const p of m.body.manifests)
            if (await imageHolds(repository, p.digest, layer))
                return true;
        return false;
    }
    return m.body.layers.some(l => l.digest === layer);
}

test("an image by a digest prefix: the tags that are that image, in each repository", async () => {
    const page = await login();
    try {
        const tools = facts.find(f => f.repository === "demo/tools");
        // demo/tools:2.0 is also the amd64 image of demo/tools:latest
        const digest = tools.digests["2.0"];
        const rows = await searchFor(page, digest.replace(/^sha256:/, "").substring(0, 16));
        const m = Object.fromEntries(rows.map(r => [key(r.repository, r.tag), r.match]));
        assert.equal(m["demo/tools:2.0"], "manifest");
        assert.equal(m["demo/tools:latest"], "platform");
        const sameImage = facts.flatMap(f => Object.entries(f.digests).filter(([, d]) => d === digest)
            .map(([t]) => key(f.repository, t)));
        for (const k of sameImage)
            assert.equal(m[k], "manifest", k);
        assert.match(await page.locator("#where-image").textContent(), /^Tags that are this image: /);
        await page.click('#search-results tr[data-tag="2.0"] a.digest');
        await page.waitForURL(u => u.hash === `#/images/demo/tools/${encodeURIComponent(digest)}`);
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("a tag name in every repository, or only whole names", async () => {
    const page = await login();
    try {
        const expected = facts.flatMap(f => Object.keys(f.digests).filter(t => t.toLowerCase().includes("lates"))
            .map(t => key(f.repository, t))).sort();
        const rows = await searchFor(page, "LATES");
        assert.deepEqual(rows.map(r => key(r.repository, r.tag)), expected);
        assert.ok(rows.length >= 3 && rows.every(r => r.match === "tag"));
        await shotsAt(page, "search-tag");
        // whole names only
        await page.fill("#search-query", "v");
        await page.check("#search-exact");
        await page.click("#search-button");
        await page.waitForSelector("#search-progress[data-state=done]");
        assert.equal(await page.locator("#search-results tbody tr").count(), 0);
        assert.match(page.url(), /exact=1/);
        // a filter that matches no name offers the search
        await page.goto(`${URL_}#/images?q=${encodeURIComponent(sharedLayer.substring(7, 30))}`);
        await page.click("#search-link");
        await page.waitForSelector("#search-progress[data-state=done]", { timeout: 60000 });
        assert.ok(await page.locator("#search-results tbody tr").count() >= 2);
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("OpenShift: the same search over the image streams", async () => {
    await masterControl({ authorizeUser: "alice" });
    const page = await newPage(browser);
    try {
        await loginOpenShift(page, OPENSHIFT);
        const rows = await searchFor(page, sharedLayer);
        const repos = new Set(rows.map(r => r.repository));
        assert.ok(repos.has("demo/tools") && repos.has("library/busybox-like"), [...repos].join(" "));
        assert.ok(rows.every(r => r.match === "blob"));
        await shotsAt(page, "search-layer-openshift");
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});
