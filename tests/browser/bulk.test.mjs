// 10,000 image streams stay usable: the list renders only the visible rows,
// filtering and scrolling reach any of them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { shot, usePage, loginForm } from "./lib.mjs";

const URL_ = process.env.RC_BULK_URL;
const ctx = usePage();

test("a registry with 10,005 repositories", async () => {
    const page = ctx.page;
    await page.goto(URL_);
    await loginForm(page, "anyone", "x");
    await page.waitForSelector("#recent-images", { timeout: 60000 });

    let t = Date.now();
    await page.goto(`${URL_}#/images`);
    await page.waitForFunction(() => /^10,005 image streams$/.test(document.querySelector("#stream-count")?.textContent || ""),
                               null, { timeout: 60000 });
    console.log(`# 10,005 streams listed in ${Date.now() - t} ms`);
    const rows = await page.locator("#stream-list .row").count();
    assert.ok(rows > 5 && rows < 100, `only the visible rows are in the page (${rows})`);

    await page.fill("#filter-text", "image-09999");
    await page.waitForFunction(() => document.querySelectorAll("#stream-list .row").length === 1);
    assert.equal(await page.locator("#stream-list .row .name").textContent(), "bulk/image-09999");

    await page.fill("#filter-text", "");
    await page.evaluate(() => {
        const v = document.querySelector("#stream-list");
        v.scrollTop = v.scrollHeight;
    });
    await page.waitForFunction(() => [...document.querySelectorAll("#stream-list .row .name")]
        .some(n => n.textContent === "project-b/app" || n.textContent === "library/busybox-like"));
    await shot(page, "bulk-images-scrolled");
    assert.deepEqual(page.problems, []);
});
