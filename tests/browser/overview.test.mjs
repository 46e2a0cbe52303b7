// The overview as the original console had it: projects with their access
// policy (icon and label: private, shared, anonymous), quick "new project"
// and "new image stream" actions, and the login command with the session's
// token for docker, podman and skopeo, each with a copy button.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, loginForm, loginOpenShift, masterControl, masterApi, shotsAt, LANGS } from "./lib.mjs";

const URL_ = process.env.RC_OPENSHIFT_URL;
const alice = process.env.MASTER_TOKEN_ALICE;
const PROJ = "/apis/project.openshift.io/v1";
const RBAC = "/apis/rbac.authorization.k8s.io/v1";
const IS = "/apis/image.openshift.io/v1";

let browser;
before(async () => {
    browser = await launch();
    await masterControl({ authorizeUser: "alice" });
    // a project anyone may pull from, for the third policy
    assert.equal((await masterApi(alice, "POST", `${PROJ}/projectrequests`, {
        kind: "ProjectRequest", apiVersion: "project.openshift.io/v1", metadata: { name: "open-house" } })).status, 201);
    assert.equal((await masterApi(alice, "POST", `${RBAC}/namespaces/open-house/rolebindings`, {
        kind: "RoleBinding", apiVersion: "rbac.authorization.k8s.io/v1",
        metadata: { name: "registry-viewer-anonymous", namespace: "open-house" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "registry-viewer" },
        subjects: ["system:authenticated", "system:unauthenticated"].map(name =>
            ({ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name })),
    })).status, 201);
});
after(async () => {
    await masterApi(alice, "DELETE", `${IS}/namespaces/project-b/imagestreams/quick-stream`);
    for (const p of ["open-house", "quick-project"])
        await masterApi(alice, "DELETE", `${PROJ}/projects/${p}`);
    await browser.close();
});

const policyOf = (page, project) => page.locator(`#overview-projects li[data-project="${project}"] .policy`);

test("projects show their access policy as an icon and a label", async () => {
    const page = await newPage(browser);
    try {
        await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
        await loginOpenShift(page, URL_);
        for (const [project, policy, label] of [["demo", "private", "Private"], ["library", "shared", "Shared"],
                                                ["open-house", "anonymous", "Anonymous"]]) {
            await policyOf(page, project).waitFor();
            assert.equal(await policyOf(page, project).getAttribute("data-policy"), policy);
            assert.equal(await policyOf(page, project).textContent(), label);
            // the icon is an image of the console's own (CSP: img-src 'self')
            const icon = await policyOf(page, project).locator(".policy-icon").evaluate(e => getComputedStyle(e).backgroundImage);
            assert.match(icon, new RegExp(`/policy-${policy}\\.svg"\\)$`));
        }
        // the label's sentence on hover
        assert.equal(await policyOf(page, "library").getAttribute("title"), "Shared: any authenticated user can pull");

        // the login command with the session's token, for each tool
        await page.click("#overview-commands .show-token");
        const login = page.locator("#overview-commands .command code").first();
        await login.filter({ hasText: "sha256~" }).waitFor();
        const m = /^docker login -p (sha256~[\w-]+) -u unused registry\.example\.com:5000$/.exec(await login.textContent());
        assert.ok(m, await login.textContent());
        // it is the session's token: the master knows it as alice
        assert.equal((await masterApi(m[1], "GET", "/apis/user.openshift.io/v1/users/~")).body.metadata.name, "alice");
        await page.click('#overview-commands button[data-tool="podman"]');
        assert.equal(await login.textContent(), `podman login -p ${m[1]} -u unused registry.example.com:5000`);
        await page.click('#overview-commands button[data-tool="skopeo"]');
        assert.equal(await login.textContent(), `skopeo login -p ${m[1]} -u unused registry.example.com:5000`);
        await page.click("#overview-commands .command button.copy >> nth=0");
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), await login.textContent());
        await page.click('#overview-commands button[data-tool="docker"]');
        await shotsAt(page, "overview-openshift");
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("quick actions: a new project, a new image stream", async () => {
    const page = await newPage(browser);
    try {
        await loginOpenShift(page, URL_);
        await page.click("#overview-new-project");
        await page.fill("#field-name", "quick-project");
        await page.keyboard.press("Enter");
        await page.waitForURL(u => u.hash === "#/projects/quick-project");
        assert.equal((await masterApi(alice, "GET", `${PROJ}/projects/quick-project`)).status, 200);
        await page.goto(`${URL_}#/`);
        await page.waitForSelector('#overview-new-stream[data-allowed="true"]');
        await page.click("#overview-new-stream");
        await page.selectOption("#field-project", "project-b");
        await page.fill("#field-name", "quick-stream");
        await page.keyboard.press("Enter");
        await page.waitForSelector("h1:text('project-b/quick-stream')");
        assert.equal((await masterApi(alice, "GET", `${IS}/namespaces/project-b/imagestreams/quick-stream`)).status, 200);
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("German overview, and registry mode without projects to manage", async () => {
    const page = await newPage(browser, { locale: LANGS[1][1] });
    try {
        await loginOpenShift(page, URL_);
        await policyOf(page, "library").waitFor();
        assert.equal(await policyOf(page, "library").textContent(), "Geteilt");
        await shotsAt(page, "overview-openshift");
    } finally {
        await page.context().close();
    }
    for (const [, locale] of LANGS) {
        const reg = await newPage(browser, { locale });
        try {
            await reg.goto(process.env.RC_REGISTRY_URL);
            await loginForm(reg, process.env.REGISTRY_USER, process.env.REGISTRY_PASSWORD);
            await reg.waitForSelector("#overview-commands");
            assert.equal(await reg.locator("#overview-projects .policy, #overview-new-project").count(), 0);
            assert.equal(await reg.locator("#overview-new-stream").count(), 0);
            assert.equal(await reg.locator("#overview-commands .command code").first().textContent(),
                         `docker login -u ${process.env.REGISTRY_USER} registry.example.com:5000`);
            await shotsAt(reg, "overview-registry");
            assert.deepEqual(reg.problems, []);
        } finally {
            await reg.context().close();
        }
    }
});
