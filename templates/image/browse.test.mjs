// The console running from its container image shows its own image in
// Chromium: labels, layers, size. Run by test-image.py with RC_URL (the
// container's console), RC_IMAGE (repository:tag), RC_EXPECT (a JSON file:
// labels, layer digests, their history commands and size as read through the console's WebSocket),
// REGISTRY_USER and REGISTRY_PASSWORD.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { shot, usePage, loginForm } from "../../tests/browser/lib.mjs";

const URL_ = process.env.RC_URL;
const expect = JSON.parse(fs.readFileSync(process.env.RC_EXPECT, "utf8"));
const [repo, tag] = process.env.RC_IMAGE.split(":");
const ctx = usePage();

test("the console in its image shows its own image", async () => {
    const page = ctx.page;
    await page.goto(URL_);
    await loginForm(page, process.env.REGISTRY_USER, process.env.REGISTRY_PASSWORD);
    await page.waitForSelector("#recent-images");
    await page.goto(`${URL_}#/images/${repo}/${tag}`);
    try {
        await page.waitForSelector("#image-labels");
    } catch (e) {
        await shot(page, "image-own-failed");
        throw new Error(`${e.message}\npage shows: ${await page.locator("body").innerText()}`);
    }

    const rows = await page.locator("#image-labels tr").evaluateAll(trs =>
        trs.map(tr => [tr.querySelector("th").textContent, tr.querySelector("td").textContent]));
    assert.deepEqual(Object.fromEntries(rows), expect.labels);
    assert.ok(rows.some(([k]) => k === "org.opencontainers.image.version"));
    const size = await page.locator("#image-size").textContent();
    // the compressed size as stored: the config and each layer
    assert.match(size, new RegExp(`^\\d+(\\.\\d+)? MB \\(compressed: the config and ${expect.layers.length} layers as stored\\)$`),
                 `size shown: ${size}`);
    assert.ok(Math.abs(parseFloat(size) - expect.size / 1e6) < 0.5, `size ${size} is ${expect.size} bytes`);
    await shot(page, "image-own-details");

    await page.click("#tabbtn-config");
    assert.equal(await page.locator("#image-user").textContent(), "1001");
    assert.deepEqual(await page.locator("#image-ports li").allTextContents(), ["9090/tcp"]);

    await page.click("#tabbtn-layers");
    // each layer's row: its digest, and the command its history records
    const layers = await page.locator("#image-layers tbody tr.layer").evaluateAll(trs =>
        trs.map(tr => [tr.dataset.layer, tr.querySelector("code.created-by")?.textContent]));
    assert.deepEqual(layers.map(([d]) => d), expect.layers);
    assert.deepEqual(layers.map(([, c]) => c), expect.history);
    await shot(page, "image-own-layers");
    assert.deepEqual(page.problems, []);
});
