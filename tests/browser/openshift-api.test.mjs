// OpenShift mode against what a real OpenShift 3.11 master does and the
// test master imitates: lists in pages (limit/continue), a watch whose
// resourceVersion was compacted away (410 Gone: the UI lists again), a
// failed image import, and a user without cluster-wide rights (403: the UI
// goes project by project). The master runs with --check-contract: at the
// end nothing it sent or received broke the OpenShift schema.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { shot, usePage, newPage } from "./lib.mjs";

const URL_ = process.env.RC_OPENSHIFT_URL;
const IS = "/apis/image.openshift.io/v1";
const registryHost = new URL(process.env.REGISTRY_URL).host;
const ctx = usePage();

async function control(body) {
    const r = await fetch(process.env.MASTER_CONTROL, { method: body ? "POST" : "GET", body: body ? JSON.stringify(body) : undefined });
    assert.equal(r.status, 200);
    return r.json();
}

// the master's API as alice (test setup and checks, not the UI)
async function api(method, path, body) {
    const r = await fetch(process.env.MASTER_URL + path, {
        method, body: body ? JSON.stringify(body) : undefined,
        headers: { Authorization: `Bearer ${process.env.MASTER_TOKEN_ALICE}`, "Content-Type": "application/json" },
    });
    return { status: r.status, body: await r.json() };
}

const stream = name => ({ kind: "ImageStream", apiVersion: "image.openshift.io/v1", metadata: { name } });

async function login(page) {
    await page.goto(URL_);
    await page.waitForSelector("#oauth-button");
    await Promise.all([
        page.waitForURL(u => u.href.startsWith(URL_) && !u.hash.includes("access_token"), { timeout: 20000 }),
        page.click("#oauth-button"),
    ]);
    await page.waitForSelector("#recent-images, #overview-projects", { timeout: 20000 });
}

async function streamNames(page) {
    return page.locator("#stream-list .row .name").allTextContents();
}

after(async () => {
    await control({ pageSize: 0, holdWatches: false, authorizeUser: "alice" });
    for (const name of ["doomed", "fresh", "contract-ui"])
        await api("DELETE", `${IS}/namespaces/project-b/imagestreams/${name}`);
});

test("lists come page by page: every image stream is shown", async () => {
    const page = ctx.page;
    await login(page);
    const { body: all } = await api("GET", `${IS}/imagestreams`);
    assert.ok(all.items.length >= 4);
    await control({ pageSize: 1 });
    await page.goto(`${URL_}#/images`);
    await page.waitForSelector("#stream-list .row");
    const names = await streamNames(page);
    for (const s of all.items)
        assert.ok(names.includes(`${s.metadata.namespace}/${s.metadata.name}`), `${s.metadata.name} in ${names}`);
    assert.equal(names.length, all.items.length);
    await control({ pageSize: 0 });
});

test("a watch whose resourceVersion is gone (410): the list is read again", async () => {
    const page = ctx.page;
    await page.goto(`${URL_}#/images`);
    await page.waitForSelector("#stream-list .row");
    assert.equal((await api("POST", `${IS}/namespaces/project-b/imagestreams`, stream("doomed"))).status, 201);
    await page.waitForFunction(() => [...document.querySelectorAll("#stream-list .row .name")]
        .some(n => n.textContent === "project-b/doomed"), null, { timeout: 20000 });
    // the watch ends; while the UI cannot watch, one stream goes, one comes,
    // and the master's history is compacted: the UI's resourceVersion is gone
    await control({ holdWatches: true });
    assert.equal((await api("DELETE", `${IS}/namespaces/project-b/imagestreams/doomed`)).status, 200);
    assert.equal((await api("POST", `${IS}/namespaces/project-b/imagestreams`, stream("fresh"))).status, 201);
    await control({ compact: true, holdWatches: false });
    await page.waitForFunction(() => {
        const names = [...document.querySelectorAll("#stream-list .row .name")].map(n => n.textContent);
        return names.includes("project-b/fresh") && !names.includes("project-b/doomed");
    }, null, { timeout: 20000 });
    assert.ok(await page.locator("#banner").isHidden(), "no error shown");
    await shot(page, "openshift-relisted");
});

test("a failed image import is shown: in the dialog and on the tag", async () => {
    const page = ctx.page;
    assert.equal((await api("POST", `${IS}/namespaces/project-b/imagestreams`, stream("contract-ui"))).status, 201);
    await page.goto(`${URL_}#/images/project-b/contract-ui`);
    await page.waitForSelector("#add-tag");
    // an image the master cannot reach: ImageStreamImport says why
    await page.click("#add-tag");
    await page.fill("#field-tag", "remote");
    await page.fill("#field-from", "docker.io/library/busybox:latest");
    await page.keyboard.press("Enter");
    const error = page.locator("dialog.modal .dialog-error");
    await error.filter({ hasText: /Importing docker\.io\/library\/busybox:latest failed: unable to access/ }).waitFor();
    await shot(page, "openshift-import-failed");
    await page.locator("dialog.modal button.secondary").click();
    assert.equal(await page.locator('tr[data-tags~="remote"]').count(), 0);
    // one it can: the tag gets the image
    await page.click("#add-tag");
    await page.fill("#field-tag", "copied");
    await page.fill("#field-from", `${registryHost}/demo/hello:1.0`);
    await page.keyboard.press("Enter");
    await page.waitForSelector('tr[data-tags~="copied"] a.digest');
    // a tag that follows another registry: the failed import is on its row
    await page.click("#edit-sync");
    await page.check('input[name="mode"][value="tags"]');
    await page.fill("#field-remote", "docker.io/library/busybox");
    await page.fill("#field-tags", "1.36");
    await page.locator("dialog.modal button.primary").click();
    const failed = page.locator('tr[data-tags~="1.36"] .tag-error');
    await failed.waitFor();
    assert.match(await failed.textContent(), /^Import failed: .*docker\.io\/library\/busybox:1\.36/);
    await shot(page, "openshift-tag-import-failed");
});

test("without cluster-wide rights (403) streams are listed and watched per project", async () => {
    await control({ authorizeUser: "bob" });
    const page = await newPage(ctx.browser);
    try {
        await login(page);
        assert.equal(await page.locator("#user").textContent(), "bob");
        await page.goto(`${URL_}#/images`);
        await page.waitForSelector("#stream-list .row");
        const names = await streamNames(page);
        assert.ok(names.includes("project-b/app") && names.includes("library/busybox-like"), `${names}`);
        assert.ok(!names.some(n => n.startsWith("demo/")), `bob sees nothing of demo: ${names}`);
        assert.ok(await page.locator("#banner").isHidden(), "no error shown");
        // live updates through the per-project watches
        execFileSync(process.env.RC_REGISTRY_PUSH, [process.env.RC_REGISTRY_DIR, "app-v1", "project-b/app:bobs-live"]);
        await page.waitForFunction(() => [...document.querySelectorAll("#stream-list .row")]
            .some(r => r.querySelector(".name").textContent === "project-b/app" &&
                       [...r.querySelectorAll(".tag")].some(t => t.textContent === "bobs-live")),
                                   null, { timeout: 20000 });
        await shot(page, "openshift-bob-images");
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
        await control({ authorizeUser: "alice" });
    }
});

test("nothing the master sent or the UI sent broke the OpenShift schema", async () => {
    const c = await control();
    assert.ok(c.contractChecked);
    assert.deepEqual(c.contractViolations, []);
    assert.deepEqual(ctx.page.problems, []);
});
