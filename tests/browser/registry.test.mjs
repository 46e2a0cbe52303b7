// Registry mode: a plain Distribution registry behind the console.
import { test } from "node:test";
import assert from "node:assert/strict";
import { shot, registry, MANIFEST_TYPES, usePage, loginForm } from "./lib.mjs";

const URL_ = process.env.RC_REGISTRY_URL;
const ctx = usePage();

test("a wrong password is refused with a reason", async () => {
    const page = ctx.page;
    await page.goto(URL_);
    await loginForm(page, process.env.REGISTRY_USER, "wrong-password");
    const error = page.locator("#login-error");
    await error.waitFor({ state: "visible" });
    assert.match(await error.textContent(), /rejected|credentials/i);
    await shot(page, "registry-login-error");
});

test("log in and see the overview", async () => {
    const page = ctx.page;
    await page.fill("#login-password", process.env.REGISTRY_PASSWORD);
    await page.click("#login-button");
    await page.waitForSelector("#recent-images");
    assert.equal(await page.locator("#user").textContent(), process.env.REGISTRY_USER);
    const names = await page.locator("#recent-images li").allTextContents();
    assert.deepEqual(names.sort(), ["demo/hello", "demo/labels", "demo/tools", "library/busybox-like", "project-b/app"]);
    assert.match(await page.locator(".command code").first().textContent(), /^docker login -u admin registry\.example\.com:5000$/);
    await shot(page, "registry-overview");
});

test("the image list filters by text and project", async () => {
    const page = ctx.page;
    await page.goto(`${URL_}#/images`);
    await page.waitForSelector("#stream-list .row");
    assert.equal(await page.locator("#stream-list .row").count(), 5);
    await page.fill("#filter-text", "tool");
    await page.waitForFunction(() => document.querySelectorAll("#stream-list .row").length === 1);
    assert.equal(await page.locator("#stream-list .row .name").textContent(), "demo/tools");
    await page.fill("#filter-text", "");
    await page.selectOption("#filter-project", "demo");
    await page.waitForFunction(() => document.querySelectorAll("#stream-list .row").length === 3);
    await shot(page, "registry-images");
});

test("an image shows the registry's labels, layers and config as text", async () => {
    const page = ctx.page;
    const m = await registry("/v2/demo/hello/manifests/1.1", MANIFEST_TYPES);
    const cfg = await registry(`/v2/demo/hello/blobs/${m.body.config.digest}`);
    await page.goto(`${URL_}#/images/demo/hello/1.1`);
    await page.waitForSelector("#image-labels");

    const rows = await page.locator("#image-labels tr").evaluateAll(trs =>
        trs.map(tr => [tr.querySelector("th").textContent, tr.querySelector("td").textContent]));
    assert.deepEqual(Object.fromEntries(rows), cfg.body.config.Labels);
    // the hostile label is text: no <img> element was created, no dialog fired
    assert.equal(await page.locator("#image-labels img").count(), 0);
    assert.ok(rows.some(([, v]) => v === "<img src=x onerror=alert(1)>"));
    assert.equal(await page.locator("#image-digest").textContent(), m.headers.get("docker-content-digest"));
    await shot(page, "registry-image-details");

    await page.click("#tabbtn-config");
    assert.equal(await page.locator("#image-workdir").textContent(), cfg.body.config.WorkingDir);
    assert.deepEqual(await page.locator("#image-env li").allTextContents(), cfg.body.config.Env);
    assert.deepEqual((await page.locator("#image-ports li").allTextContents()).sort(),
                     Object.keys(cfg.body.config.ExposedPorts).sort());
    await shot(page, "registry-image-config");

    await page.click("#tabbtn-layers");
    const layers = await page.locator("#image-layers tbody tr.layer").evaluateAll(trs => trs.map(tr => tr.dataset.layer));
    assert.deepEqual(layers, m.body.layers.map(l => l.digest));
    await shot(page, "registry-image-layers");
    assert.deepEqual(page.problems, []);
});

test("a multi-arch index lists its platforms", async () => {
    const page = ctx.page;
    const idx = await registry("/v2/demo/tools/manifests/latest", "application/vnd.oci.image.index.v1+json");
    await page.goto(`${URL_}#/images/demo/tools/latest`);
    await page.waitForSelector("#image-platforms");
    const platforms = await page.locator("#image-platforms tbody td:first-child").allTextContents();
    assert.deepEqual(platforms, idx.body.manifests.map(p =>
        [p.platform.os, p.platform.architecture, p.platform.variant].filter(Boolean).join("/")));
    await shot(page, "registry-image-multiarch");
});

test("deleting a manifest asks for confirmation and deletes exactly that digest", async () => {
    const page = ctx.page;
    const v1 = await registry("/v2/project-b/app/manifests/v1", MANIFEST_TYPES);
    const digest = v1.headers.get("docker-content-digest");
    const v2 = await registry("/v2/project-b/app/manifests/v2", MANIFEST_TYPES);
    await page.goto(`${URL_}#/images/project-b/app`);
    await page.waitForSelector('tr[data-tags~="v1"]');
    await page.click('tr[data-tags~="v1"] button.danger');
    const dialog = page.locator("dialog.modal");
    await dialog.waitFor();
    assert.match(await dialog.textContent(), new RegExp(digest.replace(/[:]/g, ".")));
    const ok = dialog.locator("button.danger");
    assert.equal(await ok.isDisabled(), true, "delete is disabled until the name is typed");
    await shot(page, "registry-delete-confirm");
    // Escape cancels and nothing is deleted
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    assert.equal((await registry("/v2/project-b/app/manifests/v1", MANIFEST_TYPES)).status, 200);

    await page.click('tr[data-tags~="v1"] button.danger');
    await dialog.waitFor();
    await page.fill("#confirm-name", digest.replace(/^sha256:/, "").substring(0, 12));
    await page.keyboard.press("Enter");
    await dialog.waitFor({ state: "detached" });
    await page.waitForFunction(() => !document.querySelector('tr[data-tags~="v1"]'));
    assert.equal((await registry(`/v2/project-b/app/manifests/${digest}`, MANIFEST_TYPES)).status, 404);
    // the other tag is untouched
    assert.equal((await registry(`/v2/project-b/app/manifests/${v2.headers.get("docker-content-digest")}`, MANIFEST_TYPES)).status, 200);
});

test("the page's JavaScript does a WebSocket echo through /cockpit/socket", async () => {
    const page = ctx.page;
    const echoed = await page.evaluate(() => new Promise((resolve, reject) => {
        const ws = new WebSocket(`wss://${location.host}/cockpit/socket`, "cockpit1");
        ws.onmessage = ev => {
            const nl = ev.data.indexOf("\n");
            const channel = ev.data.substring(0, nl);
            const payload = ev.data.substring(nl + 1);
            if (channel === "") {
                const msg = JSON.parse(payload);
                if (msg.command === "init") {
                    ws.send("\n" + JSON.stringify({ command: "init", version: 1, host: "localhost" }));
                    ws.send("\n" + JSON.stringify({ command: "open", channel: "e", payload: "echo" }));
                } else if (msg.command === "ready") {
                    ws.send("e\nhello from the page ünïcode");
                }
            } else if (channel === "e") {
                ws.close();
                resolve(payload);
            }
        };
        ws.onerror = () => reject(new Error("websocket error"));
        setTimeout(() => reject(new Error("timeout")), 10000);
    }));
    assert.equal(echoed, "hello from the page ünïcode");
});

test("the UI works at 800 px wide", async () => {
    const page = ctx.page;
    await page.setViewportSize({ width: 800, height: 700 });
    await page.goto(`${URL_}#/images/demo/hello`);
    await page.waitForSelector("#tags table");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
    await shot(page, "registry-stream-800px");
    await page.setViewportSize({ width: 1280, height: 800 });
});

test("log out returns to the login page and the socket is refused", async () => {
    const page = ctx.page;
    await page.click("#logout");
    await page.waitForSelector("#login-user");
    const status = await page.evaluate(async () => (await fetch("cockpit/session")).status);
    assert.equal(status, 401);
    const refused = await page.evaluate(() => new Promise(resolve => {
        const ws = new WebSocket(`wss://${location.host}/cockpit/socket`, "cockpit1");
        ws.onopen = () => resolve(false);
        ws.onerror = () => resolve(true);
    }));
    assert.equal(refused, true);
    assert.deepEqual(page.problems, []);
});
