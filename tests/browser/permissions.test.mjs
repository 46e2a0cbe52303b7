// Commands and actions by permission: a pull-only user sees no push command
// and no delete button, in both modes; those who may see them. Registry
// mode asks the registry's token service (the server's registry-access
// channel: "reader" may only pull); OpenShift mode asks the master
// (SelfSubjectAccessReview: dave may only pull in demo, bob administers
// project-b). A registry without token auth cannot say beforehand: every
// action is offered and the registry's answer explained; one without
// delete answers 405, and the console says so and how to enable it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, loginForm, loginOpenShift, masterControl, MANIFEST_TYPES, shotsAt, LANGS } from "./lib.mjs";

const TOKEN = process.env.RC_TOKEN_URL;
const OPENSHIFT = process.env.RC_OPENSHIFT_URL;
const NODELETE = process.env.RC_NODELETE_URL;

let browser;
before(async () => {
    browser = await launch();
});
after(async () => {
    await masterControl({ authorizeUser: "alice" });
    await browser.close();
});

// What the stream page offers: [push commands?, delete buttons, actions]
async function offered(page) {
    await page.waitForSelector("#stream-commands");
    // every tag read (delete buttons come with the digests)
    await page.waitForSelector("#tag-progress[hidden]", { state: "attached" });
    const commands = await page.locator("#stream-commands code").allTextContents();
    return {
        push: commands.some(c => / push /.test(c)),
        pull: commands.some(c => / pull /.test(c)),
        deletes: await page.locator("#tags td.actions button.danger").count(),
        actions: await page.locator(".title-row .buttons button").evaluateAll(bs => bs.map(b => b.id)),
    };
}

test("token registry: the pull-only reader sees no push command and no delete button", async () => {
    for (const [, locale] of LANGS) {
        const page = await newPage(browser, { locale });
        try {
            await page.goto(TOKEN);
            await loginForm(page, process.env.RC_TOKEN_READER, process.env.RC_TOKEN_READER_PASSWORD);
            await page.waitForSelector("#recent-images");
            // the overview: pull, but no push command
            await page.waitForSelector("#overview-commands");
            const overview = await page.locator("#overview-commands code").allTextContents();
            assert.ok(overview.some(c => c.startsWith("docker pull ")), overview.join("\n"));
            assert.ok(!overview.some(c => / push /.test(c)), overview.join("\n"));
            assert.equal(await page.locator("#no-push-hint").count(), 1);
            await page.goto(`${TOKEN}#/images/demo/hello`);
            await page.waitForSelector('tr[data-tags~="1.0"]');
            assert.deepEqual(await offered(page), { push: false, pull: true, deletes: 0, actions: [] });
            assert.ok(await page.locator("#no-push-hint").isVisible());
            await shotsAt(page, "permissions-registry-reader");
            assert.deepEqual(page.problems, []);
        } finally {
            await page.context().close();
        }
    }
});

test("token registry: the admin sees push commands and delete buttons", async () => {
    const page = await newPage(browser);
    try {
        await page.goto(TOKEN);
        await loginForm(page, process.env.RC_TOKEN_ADMIN, process.env.RC_TOKEN_ADMIN_PASSWORD);
        await page.waitForSelector("#recent-images");
        await page.goto(`${TOKEN}#/images/demo/hello`);
        await page.waitForSelector('tr[data-tags~="1.0"]');
        // 1.0, and 1.1 = latest (one image, one delete)
        assert.deepEqual(await offered(page), { push: true, pull: true, deletes: 2, actions: ["delete-repository"] });
        assert.equal(await page.locator("#no-push-hint").count(), 0);
        // the tool chooser: podman and skopeo say the same, each with a copy button
        await page.click('#stream-commands button[data-tool="podman"]');
        assert.deepEqual(await page.locator("#stream-commands code").allTextContents(),
                         ["podman pull registry.example.com:5000/demo/hello:1.0",
                          "podman tag IMAGE registry.example.com:5000/demo/hello:TAG",
                          "podman push registry.example.com:5000/demo/hello:TAG"]);
        await page.click('#stream-commands button[data-tool="skopeo"]');
        assert.deepEqual(await page.locator("#stream-commands code").allTextContents(),
                         ["skopeo copy docker://registry.example.com:5000/demo/hello:1.0 oci:hello:1.0",
                          "skopeo copy oci:IMAGE docker://registry.example.com:5000/demo/hello:TAG"]);
        assert.equal(await page.locator("#stream-commands .command button.copy").count(), 2);
        await shotsAt(page, "permissions-registry-admin");
        // the choice is remembered
        await page.reload();
        await page.waitForSelector("#stream-commands");
        assert.equal(await page.locator('#stream-commands button[aria-pressed="true"]').textContent(), "skopeo");
        await page.click('#stream-commands button[data-tool="docker"]');
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("OpenShift: dave (pull only in demo) sees no push command, no delete, no management", async () => {
    await masterControl({ authorizeUser: "dave" });
    for (const [, locale] of LANGS) {
        const page = await newPage(browser, { locale });
        try {
            await loginOpenShift(page, OPENSHIFT);
            assert.equal(await page.locator("#user").textContent(), "dave");
            await page.waitForSelector('#nav-users[data-allowed="false"]', { state: "attached" });
            assert.ok(await page.locator("#nav-users").isHidden(), "no users and groups for dave");
            await page.waitForSelector("#overview-commands");
            assert.ok(!(await page.locator("#overview-commands code").allTextContents()).some(c => / push /.test(c)));
            await page.goto(`${OPENSHIFT}#/images/demo/hello`);
            await page.waitForSelector('tr[data-tags~="1.0"]');
            assert.deepEqual(await offered(page), { push: false, pull: true, deletes: 0, actions: [] });
            await shotsAt(page, "permissions-openshift-dave");
            await page.goto(`${OPENSHIFT}#/projects/demo`);
            await page.waitForSelector("#policy-value");
            await page.waitForSelector('#project-new-stream[data-allowed="false"]', { state: "attached" });
            for (const id of ["#add-member", "#change-policy", "#delete-project", "#project-new-stream"])
                assert.ok(await page.locator(id).isHidden(), `${id} not offered`);
            // the images page: no "New image stream" (dave may create none)
            await page.goto(`${OPENSHIFT}#/images`);
            await page.waitForSelector('#create-stream[data-allowed="false"]', { state: "attached" });
            assert.ok(await page.locator("#create-stream").isHidden());
            assert.deepEqual(page.problems, []);
        } finally {
            await page.context().close();
        }
    }
});

test("OpenShift: when the master cannot answer what dave may do, everything is offered and the page says so", async () => {
    await masterControl({ authorizeUser: "dave", failReviews: true });
    try {
        for (const [lang, locale] of LANGS) {
            const page = await newPage(browser, { locale });
            try {
                await loginOpenShift(page, OPENSHIFT);
                await page.waitForSelector("#overview-commands");
                assert.ok((await page.locator("#overview-commands code").allTextContents()).some(c => / push /.test(c)));
                assert.equal(await page.locator("#access-unchecked").textContent(), {
                    en: "Your permissions could not be checked: every action is offered, and a refusal is explained.",
                    de: "Ihre Berechtigungen konnten nicht geprüft werden: Jede Aktion wird angeboten, und eine Ablehnung wird erklärt.",
                }[lang]);
                await page.goto(`${OPENSHIFT}#/images/demo/hello`);
                await page.waitForSelector('tr[data-tags~="1.0"]');
                const mine = await offered(page);
                assert.ok(mine.push && mine.deletes > 0, JSON.stringify(mine));
                assert.ok(await page.locator("#access-unchecked").isVisible());
                assert.equal(await page.locator("#no-push-hint").count(), 0);
                await shotsAt(page, "permissions-unchecked");
            } finally {
                await page.context().close();
            }
        }
    } finally {
        await masterControl({ authorizeUser: "alice", failReviews: false });
    }
});

test("OpenShift: bob may push and delete in project-b, only pull in library", async () => {
    await masterControl({ authorizeUser: "bob" });
    const page = await newPage(browser);
    try {
        await loginOpenShift(page, OPENSHIFT);
        await page.goto(`${OPENSHIFT}#/images/project-b/app`);
        await page.waitForSelector('tr[data-tags~="v2"]');
        const mine = await offered(page);
        assert.ok(mine.push && mine.deletes > 0, JSON.stringify(mine));
        assert.deepEqual(mine.actions, ["add-tag", "edit-sync", "delete-stream"]);
        await page.goto(`${OPENSHIFT}#/images/library/busybox-like`);
        await page.waitForSelector('tr[data-tags~="latest"]');
        assert.deepEqual(await offered(page), { push: false, pull: true, deletes: 0, actions: [] });
        await page.goto(`${OPENSHIFT}#/projects/project-b`);
        await page.waitForSelector("#add-member");
        assert.ok(await page.locator("#delete-project").isVisible());
        await page.goto(`${OPENSHIFT}#/projects/library`);
        await page.waitForSelector("#policy-value");
        assert.equal(await page.locator("#add-member, #change-policy, #delete-project").count(), 0);
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
        await masterControl({ authorizeUser: "alice" });
    }
});

test("a registry without delete: the console says 405 and how to enable it", async () => {
    const page = await newPage(browser);
    try {
        await page.goto(NODELETE);
        await loginForm(page, "anyone", "x");
        await page.waitForSelector("#recent-images");
        await page.goto(`${NODELETE}#/images/project-b/app`);
        await page.waitForSelector('tr[data-tags~="v1"]');
        // without token auth nothing can be known beforehand: delete is offered
        await page.click('tr[data-tags~="v1"] button.danger');
        const dialog = page.locator("dialog.modal");
        await dialog.waitFor();
        const digest = await page.locator('tr[data-tags~="v1"] a.digest').getAttribute("title");
        await page.fill("#confirm-name", digest.replace(/^sha256:/, "").substring(0, 12));
        await page.keyboard.press("Enter");
        const error = dialog.locator(".dialog-error");
        await error.filter({ hasText: /405/ }).waitFor();
        const text = await error.textContent();
        assert.match(text, /^This registry does not allow deleting images \(HTTP 405: The operation is unsupported\)\. /);
        assert.ok(text.includes("storage.delete.enabled: true") && text.includes("REGISTRY_STORAGE_DELETE_ENABLED=true"), text);
        await shotsAt(page, "registry-delete-405");
        await page.keyboard.press("Escape");
        await dialog.waitFor({ state: "detached" });
        // still there
        const r = await fetch(`${process.env.RC_NODELETE_REGISTRY_URL}/v2/project-b/app/manifests/v1`,
                              { method: "HEAD", headers: { Accept: MANIFEST_TYPES } });
        assert.equal(r.status, 200);
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("the German console explains the 405 in German", async () => {
    const page = await newPage(browser, { locale: "de-DE" });
    try {
        await page.goto(NODELETE);
        await loginForm(page, "anyone", "x");
        await page.waitForSelector("#recent-images");
        await page.goto(`${NODELETE}#/images/project-b/app`);
        await page.waitForSelector('tr[data-tags~="v2"]');
        await page.click('tr[data-tags~="v2"] button.danger');
        const digest = await page.locator('tr[data-tags~="v2"] a.digest').getAttribute("title");
        await page.fill("#confirm-name", digest.replace(/^sha256:/, "").substring(0, 12));
        await page.keyboard.press("Enter");
        const error = page.locator("dialog.modal .dialog-error");
        await error.filter({ hasText: /405/ }).waitFor();
        assert.match(await error.textContent(), /^Diese Registry erlaubt kein Löschen von Images \(HTTP 405/);
        await shotsAt(page, "registry-delete-405");
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});
