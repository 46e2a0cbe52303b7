// The tag page at scale (registry mode, the server's registry-tags
// channel), against a registry filled with repositories of many tags
// (tests/fixtures/README.md, "Registries at scale": version-like names,
// aliases, two indexes, distinct created times and sizes; no auth):
//  - sorting by version, created time and size gives the order the
//    registry's own data gives; a glob filters;
//  - sizes: each image's is its config and layers as the registry stores
//    them, the repository's counts a shared blob once, a delete says what
//    it frees (compared with the registry's own blob lengths);
//  - bulk delete of three images (click, shift-click): exactly those
//    manifests are gone from the registry, the others are there;
//  - deleting a whole repository: every manifest gone, the summary says
//    what was and was not deleted;
//  - a 10,000-tag repository renders only what is on screen, and the rows
//    scrolled to are read first;
//  - opening a 3,000-tag repository ten times keeps the server's RSS
//    within a few MiB of its RSS after the first;
//  - screenshots of the views at 1280 and 800 px, English and German.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { launch, newPage, loginForm, shotsAt, LANGS } from "./lib.mjs";

const URL_ = process.env.RC_SCALE_URL;
const REGISTRY = process.env.RC_SCALE_REGISTRY_URL;
const ACCEPT = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
                "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"].join(", ");
const MiB = 1024 * 1024;

let browser;
before(async () => {
    browser = await launch();
});
after(async () => {
    await browser.close();
});

async function loggedIn(locale = "en-US", height = 800) {
    const page = await newPage(browser, { locale, height });
    await page.goto(URL_);
    await loginForm(page, "tester", "x");      // the registry checks no password
    await page.waitForSelector("#recent-images", { timeout: 30000 });
    return page;
}

// Open a repository's tag page and wait until every tag is read.
async function openRepo(page, repo, { timeout = 60000 } = {}) {
    await page.goto(`${URL_}#/images/${repo}`);
    await page.waitForSelector("#tag-progress[hidden]", { state: "attached", timeout });
}

/* ------------------------------------------------------------- the registry's own view */

async function reg(pathname, { method = "GET", accept = ACCEPT } = {}) {
    const r = await fetch(new URL(pathname, REGISTRY), { method, headers: { Accept: accept } });
    return { status: r.status, headers: r.headers, body: method === "GET" && r.status === 200 ? await r.json() : null };
}

// Every tag of REPO as the registry tells it: digest → {digest, tags,
// created, size, blobs: Map(digest → length)}. Blob lengths are the
// registry's (HEAD Content-Length); an index's created is its newest
// platform's, its blobs every platform's.
async function registryImages(repo) {
    const tags = (await reg(`/v2/${repo}/tags/list`)).body.tags || [];
    const lengths = new Map();
    const length = async d => {
        if (!lengths.has(d)) {
            const r = await reg(`/v2/${repo}/blobs/${d}`, { method: "HEAD" });
            assert.equal(r.status, 200, d);
            lengths.set(d, Number(r.headers.get("content-length")));
        }
        return lengths.get(d);
    };
    const image = async (ref) => {
        const m = await reg(`/v2/${repo}/manifests/${ref}`);
        if (m.status !== 200)
            return { error: m.status };
        const digest = m.headers.get("docker-content-digest");
        if (m.body.manifests) {
            const parts = await Promise.all(m.body.manifests.map(p => image(p.digest)));
            const blobs = new Map(parts.flatMap(p => [...p.blobs]));
            return { digest, platforms: parts.map(p => p.digest), created: parts.map(p => p.created).sort().at(-1),
                     blobs, size: [...blobs.values()].reduce((a, n) => a + n, 0) };
        }
        const cfg = (await reg(`/v2/${repo}/blobs/${m.body.config.digest}`)).body;
        const blobs = new Map();
        for (const b of [m.body.config, ...m.body.layers])
            blobs.set(b.digest, await length(b.digest));
        return { digest, created: cfg.created, blobs, size: [...blobs.values()].reduce((a, n) => a + n, 0) };
    };
    const images = new Map();
    for (const tag of tags) {
        const im = await image(tag);
        if (im.error)
            continue;
        const known = images.get(im.digest) || { ...im, tags: [] };
        known.tags.push(tag);
        images.set(im.digest, known);
    }
    return images;
}

function distinctBytes(images) {
    const all = new Map();
    for (const im of images)
        for (const [d, n] of im.blobs)
            all.set(d, n);
    return [...all.values()].reduce((a, n) => a + n, 0);
}

// As the UI writes sizes in English (i18n.js formatSize).
function formatSize(bytes) {
    const units = ["B", "kB", "MB", "GB", "TB"];
    let i = 0, n = bytes;
    while (n >= 1000 && i < units.length - 1) {
        n /= 1000;
        i++;
    }
    return `${new Intl.NumberFormat("en-US", { maximumFractionDigits: i === 0 ? 0 : 1 }).format(n)} ${units[i]}`;
}

const bytesOf = title => Number(/^([\d,]+) bytes?/.exec(title || "")[1].replace(/,/g, ""));

/* ------------------------------------------------------------- the page's rows */

// Every row of the table in order, scrolling through it (only the rows on
// screen are in the page): [{key, tag, tags, created, size (title), pending}].
async function allRows(page) {
    await page.evaluate(() => { document.querySelector("#tags").scrollTop = 0; });
    const seen = new Map();
    for (let step = 0; step < 2000; step++) {
        const { rows, end } = await page.evaluate(async () => {
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
            const v = document.querySelector("#tags");
            const rows = [...v.querySelectorAll("tbody tr[data-key]")].map(tr => ({
                key: tr.dataset.key, tag: tr.dataset.tag, tags: tr.dataset.tags.split(" "),
                created: tr.querySelector("td.created").title, size: tr.querySelector("td.size").title,
                pending: !!tr.querySelector(".pending"), error: tr.querySelector(".tag-error")?.textContent || "",
            }));
            const end = v.scrollTop + v.clientHeight >= v.scrollHeight - 1;
            v.scrollTop += Math.max(40, v.clientHeight - 80);
            return { rows, end };
        });
        for (const r of rows)
            if (!seen.has(r.key))
                seen.set(r.key, r);
        if (end)
            break;
    }
    return [...seen.values()];
}

// Scroll the table until the row of TAG is in the page (only the rows on
// screen are).
async function reveal(page, tag) {
    const found = await page.evaluate(async t => {
        const v = document.querySelector("#tags");
        for (v.scrollTop = 0; ; v.scrollTop += Math.max(40, v.clientHeight - 80)) {
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
            if ([...v.querySelectorAll("tbody tr[data-tags]")].some(tr => tr.dataset.tags.split(" ").includes(t)))
                return true;
            if (v.scrollTop + v.clientHeight >= v.scrollHeight - 1)
                return false;
        }
    }, tag);
    assert.ok(found, `row of ${tag}`);
    return page.locator(`tr[data-tags~="${tag}"]`);
}

async function setSort(page, sort, descending) {
    await page.selectOption("#tag-sort", sort);
    const now = (await page.locator("#tag-order").textContent()) === "Descending";
    if (now !== descending)
        await page.click("#tag-order");
}

/* ------------------------------------------------------------- tests */

test("sorting by version, created time and size gives the registry's order; a glob filters", async () => {
    const page = await loggedIn();
    try {
        const images = await registryImages("scale/sort");
        await openRepo(page, "scale/sort");
        const byKey = new Map([...images.values()].map(im => [im.digest, im]));

        // version, ascending: 1.9 before 1.10, release candidates before the release
        await setSort(page, "version", false);
        let rows = await allRows(page);
        assert.equal(rows.length, images.size);
        const versions = ["1.2", "1.9", "1.10", "v2.0.0-rc1", "v2.0.0-rc2", "v2.0.0", "v10.0.0"];
        const builds = [...images.values()].filter(im => im.tags[0].startsWith("build-"))
            .map(im => im.tags.slice().sort()[0]).sort();
        assert.deepEqual(rows.map(r => r.tag), [...versions, ...builds, "latest", "multi", "multi-docker"]);
        // aliases are one row: every tag of an image together
        for (const r of rows)
            assert.deepEqual(r.tags.slice().sort(), byKey.get(r.key).tags.slice().sort(), r.tag);
        const ascending = rows.map(r => r.key);

        await setSort(page, "version", true);
        rows = await allRows(page);
        assert.deepEqual(rows.map(r => r.key), ascending.slice().reverse());

        // created, newest first: the configs' times (an index: its newest platform's)
        await setSort(page, "created", true);
        rows = await allRows(page);
        assert.equal(rows.length, images.size);
        const created = rows.map(r => byKey.get(r.key).created);
        assert.deepEqual(created, created.slice().sort().reverse());
        assert.deepEqual(rows.map(r => Date.parse(r.created)), created.map(c => Date.parse(c)));
        // the names are in another order than the dates
        assert.notDeepEqual(rows.map(r => r.key), ascending);
        assert.notDeepEqual(rows.map(r => r.key), ascending.slice().reverse());

        // size, smallest first: config and layers (an index: every blob of its platforms once)
        await setSort(page, "size", false);
        rows = await allRows(page);
        const sizes = rows.map(r => bytesOf(r.size));
        assert.deepEqual(sizes, rows.map(r => byKey.get(r.key).size));
        assert.deepEqual(sizes, sizes.slice().sort((a, b) => a - b));

        // the choice is in the address: a reload keeps it
        assert.match(page.url(), /sort=size/);
        await page.reload();
        await page.waitForSelector("#tag-progress[hidden]", { state: "attached" });
        assert.equal(await page.locator("#tag-sort").inputValue(), "size");

        // a glob picks names (and keeps the order chosen)
        await setSort(page, "version", true);
        await page.fill("#tag-filter", "v2.*");
        rows = await allRows(page);
        assert.deepEqual(rows.map(r => r.tag), ["v2.0.0", "v2.0.0-rc2", "v2.0.0-rc1"]);
        assert.equal(await page.locator("#tag-count").textContent(), "3 tags of 60 match");
        await page.fill("#tag-filter", "build-0000?");
        rows = await allRows(page);
        assert.equal(rows.flatMap(r => r.tags).filter(t => /^build-0000\d$/.test(t)).length, 9);
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("sizes: each image's config and layers, the repository's blobs once, what a delete frees", async () => {
    const page = await loggedIn();
    try {
        const images = await registryImages("scale/sort");
        await openRepo(page, "scale/sort");
        // the repository: every distinct blob once (the shared layers are
        // in many images: the sum of the images' sizes is far more)
        const total = distinctBytes(images.values());
        const sum = [...images.values()].reduce((a, im) => a + im.size, 0);
        assert.ok(sum > total, `${sum} vs ${total}`);
        assert.equal(bytesOf(await page.locator("#tag-summary").getAttribute("title")), total);
        assert.match(await page.locator("#tag-summary").textContent(),
                     new RegExp(`^60 tags · ${images.size} images · ${formatSize(total)} stored \\(shared layers counted once\\)$`));
        // each image
        for (const r of await allRows(page))
            assert.equal(bytesOf(r.size), images.get(r.key).size, r.tag);

        // a delete frees the blobs no other image of the repository has
        await setSort(page, "version", false);
        const chosen = ["1.9", "v2.0.0", "multi"];
        const doomed = chosen.map(t => [...images.values()].find(im => im.tags.includes(t)));
        const others = [...images.values()].filter(im => !doomed.includes(im));
        const keep = new Set(others.flatMap(im => [...im.blobs.keys()]));
        const freed = new Map(doomed.flatMap(im => [...im.blobs]).filter(([d]) => !keep.has(d)));
        const expected = [...freed.values()].reduce((a, n) => a + n, 0);
        assert.ok(expected > 0);
        for (const t of chosen)
            await (await reveal(page, t)).locator("input.select").click();
        assert.equal(await page.locator("#selection-count").textContent(), "3 images selected (3 tags)");
        await page.click("#delete-selected");
        const dialog = page.locator("dialog.modal");
        await dialog.waitFor();
        const text = await dialog.textContent();
        assert.ok(text.includes(`This frees about ${formatSize(expected)} now that no other tag uses these layers ` +
                                `(counted: the ${60 - 3} other tags of this repository)`), text);
        // the index's platform manifests go with it (no other tag has them)
        assert.ok(text.includes("platform manifests go too"), text);
        await dialog.locator("button.secondary").click();
        await dialog.waitFor({ state: "detached" });
        // a new filter starts a new selection: no image stays selected unseen
        await page.fill("#tag-filter", "v2");
        await page.waitForSelector("#selection-bar[hidden]", { state: "attached" });
        assert.equal(await page.locator("tbody tr.selected").count(), 0);
        await page.fill("#tag-filter", "");
        assert.equal(await page.locator("tbody tr.selected").count(), 0);
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("bulk delete: three images chosen by click and shift-click are gone from the registry, the rest stays", async () => {
    const page = await loggedIn();
    try {
        const before = await registryImages("scale/bulk");
        await openRepo(page, "scale/bulk");
        await setSort(page, "name", false);
        await page.fill("#tag-filter", "build-0001*");
        const rows = await allRows(page);
        // build-00010, build-00011 = build-00012 (one image), build-00013
        assert.deepEqual(rows.slice(0, 3).map(r => r.tags), [["build-00010"], ["build-00011", "build-00012"], ["build-00013"]]);
        await page.click(`tr[data-tag="build-00010"] input.select`);
        await page.click(`tr[data-tag="build-00013"] input.select`, { modifiers: ["Shift"] });
        assert.equal(await page.locator("#selection-count").textContent(), "3 images selected (4 tags)");
        assert.equal(await page.locator("tbody tr.selected").count(), 3);
        await page.click("#delete-selected");
        const confirm = page.locator("dialog.modal");
        await confirm.waitFor();
        const text = await confirm.textContent();
        assert.ok(text.includes("3 images will be deleted from scale/bulk: 3 manifests and every tag on them, 4 tags: " +
                                "build-00010, build-00011, build-00012, build-00013."), text);
        await confirm.locator("button.danger").click();
        await page.waitForSelector("#delete-progress-close:not([hidden])");
        assert.deepEqual(await page.locator("#delete-progress tbody tr .result").allTextContents(),
                         ["deleted", "deleted", "deleted"]);
        assert.match(await page.locator("#delete-progress-summary").textContent(), /^3 manifests deleted, and with them 4 tags\./);
        await page.click("#delete-progress-close");
        await page.waitForFunction(() => !document.querySelector('tr[data-tags~="build-00011"]'));
        assert.match(await page.locator("#tag-summary").textContent(), /^36 tags · /);

        // the registry: those manifests are gone, every other tag is there
        const gone = rows.slice(0, 3).map(r => r.key);
        for (const d of gone)
            assert.equal((await reg(`/v2/scale/bulk/manifests/${d}`, { method: "HEAD" })).status, 404, d);
        const left = (await reg("/v2/scale/bulk/tags/list")).body.tags;
        assert.equal(left.length, 36);
        for (const t of ["build-00010", "build-00011", "build-00012", "build-00013"])
            assert.ok(!left.includes(t), t);
        for (const im of before.values()) {
            if (gone.includes(im.digest))
                continue;
            for (const t of im.tags)
                assert.equal((await reg(`/v2/scale/bulk/manifests/${t}`, { method: "HEAD" })).status, 200, t);
            assert.equal((await reg(`/v2/scale/bulk/manifests/${im.digest}`, { method: "HEAD" })).status, 200, im.digest);
        }
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("deleting a repository: every manifest goes, and the summary says what was and was not deleted", async () => {
    // a tag whose manifest is missing: it is shown with what is wrong and
    // cannot be deleted
    const storage = path.join(process.env.RC_SCALE_DIR, "storage", "docker", "registry", "v2", "repositories",
                              "scale", "whole", "_manifests", "tags", "broken", "current");
    fs.mkdirSync(storage, { recursive: true });
    fs.writeFileSync(path.join(storage, "link"), `sha256:${"0".repeat(64)}`);
    const page = await loggedIn();
    try {
        const images = await registryImages("scale/whole");
        const manifests = [...images.values()].flatMap(im => [im.digest, ...(im.platforms || [])]);
        await openRepo(page, "scale/whole");
        const broken = page.locator('tr[data-tags~="broken"] .tag-error');
        assert.match(await broken.textContent(), /^HTTP 404: /);
        await page.click("#delete-repository");
        const confirm = page.locator("dialog.modal");
        await confirm.waitFor();
        const text = await confirm.textContent();
        assert.ok(text.includes(`Every manifest of scale/whole will be deleted: ${manifests.length} manifests, with every tag, 20 tags.`), text);
        assert.ok(text.includes("Tags whose manifest is missing (HTTP 404) are on no manifest deleted here and stay: broken"), text);
        assert.ok(text.includes(`This frees about ${formatSize(distinctBytes(images.values()))} (every blob of this repository once)`), text);
        const ok = confirm.locator("button.danger");
        assert.equal(await ok.isDisabled(), true);
        await page.fill("#confirm-name", "scale/whole");
        await ok.click();
        await page.waitForSelector("#delete-progress-close:not([hidden])");
        const summary = await page.locator("#delete-progress-summary").textContent();
        assert.ok(summary.startsWith(`${manifests.length} manifests deleted, and with them 20 tags.`), summary);
        assert.ok(summary.includes("garbage collection"), summary);
        assert.ok(summary.includes("The registry keeps listing scale/whole in its catalog"), summary);
        await page.click("#delete-progress-close");
        // the page reads the repository again: only the broken tag is left
        await page.waitForFunction(() => /^1 tag · 0 images/.test(document.querySelector("#tag-summary").textContent));

        for (const d of manifests)
            assert.equal((await reg(`/v2/scale/whole/manifests/${d}`, { method: "HEAD" })).status, 404, d);
        assert.deepEqual((await reg("/v2/scale/whole/tags/list")).body.tags, ["broken"]);
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("a 10,000-tag repository: names at once, only the visible rows in the page, the rows scrolled to read first", async () => {
    const page = await loggedIn();
    try {
        await page.goto(`${URL_}#/images/scale/many-tags`);
        await page.waitForFunction(() => /^10,000 tags · /.test(document.querySelector("#tag-summary")?.textContent || ""),
                                   null, { timeout: 30000 });
        const inPage = await page.locator("#tags tbody tr[data-key]").count();
        assert.ok(inPage > 10 && inPage < 100, `only the rows on screen are in the page (${inPage})`);
        // the first screen gets its rows (the server reads them first)
        const screenRead = () => page.waitForFunction(() => {
            const v = document.querySelector("#tags");
            const top = v.getBoundingClientRect().top, bottom = v.getBoundingClientRect().bottom;
            const rows = [...v.querySelectorAll("tbody tr[data-key]")].filter(tr => {
                const r = tr.getBoundingClientRect();
                return r.bottom > top + 40 && r.top < bottom;
            });
            return rows.length > 5 && rows.every(tr => !tr.querySelector(".pending") && tr.querySelector("td.size").textContent);
        }, null, { timeout: 30000 });
        await screenRead();
        // the middle of the list: read while most of the repository is not
        await page.evaluate(() => {
            const v = document.querySelector("#tags");
            v.scrollTop = v.scrollHeight / 2;
        });
        await screenRead();
        const { done, listed } = await page.evaluate(() => {
            const p = document.querySelector("#tag-progress-bar");
            return { done: Number(p.value), listed: Number(p.max), hidden: document.querySelector("#tag-progress").hidden };
        });
        assert.ok(listed === 10000 && done < listed * 0.9, `read ${done} of ${listed} when the rows scrolled to were read`);
        assert.ok(await page.locator("#tags tbody tr[data-key]").count() < 100);
        // a filter reaches any tag
        await page.fill("#tag-filter", "build-0998*");
        await page.waitForFunction(() => /of 10,000 match$/.test(document.querySelector("#tag-count").textContent));
        const names = (await allRows(page)).flatMap(r => r.tags);
        assert.ok(names.length >= 9 && names.every(t => /^build-0998\d$/.test(t)), names.join(" "));
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

function serverRss() {
    const status = fs.readFileSync(`/proc/${process.env.RC_SCALE_PID}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

test("opening a 3,000-tag repository ten times: the server's RSS stays within 4 MiB of the first", async () => {
    const page = await loggedIn();
    try {
        const series = [];
        for (let visit = 1; visit <= 10; visit++) {
            await openRepo(page, "scale/rss", { timeout: 120000 });
            if (visit > 1) {
                // and read every tag again from the registry (no memo)
                await page.click("#reload-tags");
                await page.waitForSelector("#tag-progress:not([hidden])", { state: "attached" });
                await page.waitForSelector("#tag-progress[hidden]", { state: "attached", timeout: 120000 });
            }
            assert.match(await page.locator("#tag-summary").textContent(), /^3,000 tags · \d[\d,]* images · [\d.]+ [kM]B stored/);
            await page.goto(`${URL_}#/`);
            await page.waitForSelector("#recent-images");
            series.push(serverRss());
        }
        console.log(`# server RSS after each of 10 visits: ${series.map(x => (x / MiB).toFixed(1)).join(", ")} MiB`);
        assert.ok(series.at(-1) <= series[0] + 4 * MiB,
                  `RSS ${(series[0] / MiB).toFixed(1)} MiB after one visit, ${(series.at(-1) / MiB).toFixed(1)} MiB after ten`);
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("screenshots: the tag list, a selection, the delete dialogs, the results; 1280 and 800 px, English and German", async () => {
    for (const [lang, locale] of LANGS) {
        const page = await loggedIn(locale);
        try {
            await openRepo(page, "scale/sort");
            await page.selectOption("#tag-sort", "created");
            await shotsAt(page, "tags-created");
            await page.fill("#tag-filter", "build-000*");
            await page.click("#select-matching");
            await shotsAt(page, "tags-selection");
            await page.click("#delete-selected");
            await page.locator("dialog.modal").waitFor();
            await shotsAt(page, "tags-bulk-confirm");
            await page.locator("dialog.modal button.secondary").click();
            await page.click("#clear-selection");
            await page.click("#delete-repository");
            await page.locator("dialog.modal").waitFor();
            await shotsAt(page, "tags-repository-confirm");
            await page.locator("dialog.modal button.secondary").click();
            await page.fill("#tag-filter", "");
            // the results of a deletion (one image of scale/bulk per language)
            await openRepo(page, "scale/bulk");
            await page.fill("#tag-filter", lang === "en" ? "build-00020" : "build-00021");
            await page.click("#select-matching");
            await page.click("#delete-selected");
            await page.locator("dialog.modal button.danger").click();
            await page.waitForSelector("#delete-progress-close:not([hidden])");
            await shotsAt(page, "tags-bulk-result");
            await page.click("#delete-progress-close");
            // an image's storage
            await page.goto(`${URL_}#/images/scale/sort/multi`);
            await page.waitForSelector("#image-size");
            await shotsAt(page, "image-storage");
            assert.deepEqual(page.problems, []);
        } finally {
            await page.context().close();
        }
    }
});
