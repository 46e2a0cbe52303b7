// OpenShift mode: OAuth login through the test master, projects, streams,
// members, live updates from a watch.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { shot, usePage } from "./lib.mjs";

const URL_ = process.env.RC_OPENSHIFT_URL;
const ctx = usePage();

test("log in through the master's OAuth redirect", async () => {
    const page = ctx.page;
    await page.goto(URL_);
    await page.waitForSelector("#oauth-button");
    await shot(page, "openshift-login");
    await Promise.all([
        page.waitForURL(u => u.href.startsWith(URL_) && !u.hash.includes("access_token"), { timeout: 20000 }),
        page.click("#oauth-button"),
    ]);
    await page.waitForSelector("#recent-images, #overview-projects", { timeout: 20000 });
    assert.equal(await page.locator("#user").textContent(), "alice");
    assert.ok(!page.url().includes("access_token"), "the token is not left in the address bar");
    const history = await page.evaluate(() => history.length);
    assert.ok(history >= 1);
    const projects = await page.locator("#overview-projects li > a").allTextContents();
    for (const p of ["demo", "library", "project-b"])
        assert.ok(projects.includes(p), `project ${p} listed in ${projects}`);
    assert.ok(await page.locator("#recent-images tbody tr").count() > 0, "recent images listed");
    // who made each recent image: the author recorded in the real image config
    await page.waitForSelector("#recent-images td.author");
    const authors = await page.locator("#recent-images td.author").allTextContents();
    assert.ok(authors.includes("Registry Console Fixtures"), `image author shown for recent images: ${authors}`);
    const full = await page.locator("#recent-images td.author").evaluateAll(tds => tds.map(td => td.title));
    assert.ok(full.includes("Registry Console Fixtures <fixtures@example.com>"), `full author on hover: ${full}`);
    await shot(page, "openshift-overview");
});

test("create and delete an image stream, with confirmation", async () => {
    const page = ctx.page;
    await page.goto(`${URL_}#/images`);
    await page.waitForSelector("#stream-list .row");
    await page.click("#create-stream");
    await page.selectOption("#field-project", "project-b");
    await page.fill("#field-name", "fresh-stream");
    await page.keyboard.press("Enter");
    await page.waitForSelector("h1:text('project-b/fresh-stream')");
    await shot(page, "openshift-new-stream");
    await page.click("#delete-stream");
    const dialog = page.locator("dialog.modal");
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /project-b\/fresh-stream/);
    await page.fill("#confirm-name", "fresh-stream");
    await dialog.locator("button.danger").click();
    await page.waitForURL(u => u.hash === "#/images");
    await page.waitForSelector("#stream-list .row");
    const names = await page.locator("#stream-list .row .name").allTextContents();
    assert.ok(!names.includes("project-b/fresh-stream"));
});

test("a project's members can be added and removed", async () => {
    const page = ctx.page;
    await page.goto(`${URL_}#/projects/project-b`);
    await page.waitForSelector("#member-list, #members .empty");
    await shot(page, "openshift-project");
    await page.click("#add-member");
    await page.fill("#field-user", "carol");
    await page.selectOption("#field-role", "registry-editor");
    await page.keyboard.press("Enter");
    await page.waitForSelector('tr[data-member="carol"][data-role="registry-editor"]');
    await page.click('tr[data-member="carol"] button.danger');
    await page.locator("dialog.modal button.danger").click();
    await page.waitForFunction(() => !document.querySelector('tr[data-member="carol"]'));
});

test("the access policy can be changed", async () => {
    const page = ctx.page;
    await page.goto(`${URL_}#/projects/project-b`);
    await page.waitForSelector("#policy-value");
    await page.click("#change-policy");
    await page.check('input[name="policy"][value="shared"]');
    await page.locator("dialog.modal button.primary").click();
    await page.waitForSelector('#policy-value[data-policy="shared"]');
    await page.click("#change-policy");
    await page.check('input[name="policy"][value="private"]');
    await page.locator("dialog.modal button.primary").click();
    await page.waitForSelector('#policy-value[data-policy="private"]');
});

test("a newly pushed tag appears without reload", async () => {
    const page = ctx.page;
    await page.goto(`${URL_}#/images/demo/hello`);
    await page.waitForSelector('tr[data-tags~="1.0"]');
    // sizes come from the tags' image objects, filled in after the list
    await page.waitForFunction(() => /\d/.test(document.querySelector('tr[data-tags~="1.0"] td.size').textContent));
    assert.equal(await page.locator('tr[data-tags~="pushed-now"]').count(), 0);
    execFileSync(process.env.RC_REGISTRY_PUSH, [process.env.RC_REGISTRY_DIR, "hello-1.0", "demo/hello:pushed-now"]);
    await page.waitForSelector('tr[data-tags~="pushed-now"]', { timeout: 20000 });
    await shot(page, "openshift-live-tag");
});

test("image details come from the master's image object", async () => {
    const page = ctx.page;
    await page.goto(`${URL_}#/images/demo/hello/1.1`);
    await page.waitForSelector("#image-labels");
    const text = await page.locator("#image-labels").textContent();
    assert.ok(text.includes("<img src=x onerror=alert(1)>"));
    assert.equal(await page.locator("#image-labels img").count(), 0);
    await page.click("#tabbtn-layers");
    assert.ok(await page.locator("#image-layers tbody tr").count() >= 2);
    await shot(page, "openshift-image");
    assert.deepEqual(page.problems, []);
});

test("log out", async () => {
    const page = ctx.page;
    await page.click("#logout");
    await page.waitForSelector("#oauth-button");
});
