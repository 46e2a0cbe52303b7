// Users and groups (OpenShift mode) against the test master: the lists, a
// user's identities and groups, a group created, members added and removed
// (checked at the master), the group deleted; shown only to those who may.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, loginOpenShift, masterControl, masterApi, shotsAt, LANGS } from "./lib.mjs";

const URL_ = process.env.RC_OPENSHIFT_URL;
const USERS = "/apis/user.openshift.io/v1";
const alice = process.env.MASTER_TOKEN_ALICE;

let browser;
const pages = {};
before(async () => {
    browser = await launch();
    await masterControl({ authorizeUser: "alice" });
    for (const [lang, locale] of LANGS) {
        pages[lang] = await newPage(browser, { locale });
        await loginOpenShift(pages[lang], URL_);
    }
});
after(async () => {
    await masterApi(alice, "DELETE", `${USERS}/groups/testers`);
    await browser.close();
});

async function members(group) {
    const { status, body } = await masterApi(alice, "GET", `${USERS}/groups/${group}`);
    return status === 404 ? null : (body.users || []);
}

test("the users and groups of the master, for a cluster admin", async () => {
    const page = pages.en;
    await page.waitForSelector('#nav-users[data-allowed="true"]');
    await page.click("#nav-users");
    await page.waitForSelector("#user-list");
    const rows = await page.locator("#user-list tbody tr").evaluateAll(trs => trs.map(tr => [
        tr.dataset.user, tr.querySelector("td:nth-child(2)").textContent,
        [...tr.querySelectorAll("td.user-groups a")].map(a => a.textContent)]));
    for (const want of [["alice", "Alice Admin", ["admins"]], ["bob", "Bob Builder", ["developers"]],
                        ["dave", "Dave Viewer", ["viewers"]]])
        assert.deepEqual(rows.find(r => r[0] === want[0]), want);
    const { body } = await masterApi(alice, "GET", `${USERS}/groups`);
    assert.deepEqual(await page.locator("#group-list tbody tr").evaluateAll(trs => trs.map(tr => tr.dataset.group)),
                     body.items.map(g => g.metadata.name).sort());
    assert.equal(await page.locator('#group-list tr[data-group="viewers"] td.members').textContent(), "1 member");
    await shotsAt(page, "users-list");

    // one user: identities and groups
    await page.click('#user-list a:text-is("dave")');
    await page.waitForSelector("#user-identities");
    assert.deepEqual(await page.locator("#user-identities tbody td").allTextContents(),
                     ["htpasswd_provider:dave", "htpasswd_provider", "dave"]);
    assert.equal(await page.locator("#user-fullname").textContent(), "Dave Viewer");
    assert.deepEqual(await page.locator("#user-group-list li a").allTextContents(), ["viewers"]);
    await shotsAt(page, "users-user");
    assert.deepEqual(page.problems, []);
});

test("create a group, add and remove members, delete it", async () => {
    const page = pages.en;
    await page.goto(`${URL_}#/users`);
    await page.click("#create-group");
    await page.fill("#field-name", "testers");
    await page.keyboard.press("Enter");
    await page.waitForURL(u => u.hash === "#/groups/testers");
    await page.waitForSelector("#group-members .empty");
    assert.deepEqual(await members("testers"), []);
    for (const user of ["bob", "dave"]) {
        await page.click("#add-group-member");
        await page.fill("#field-user", user);
        await page.keyboard.press("Enter");
        await page.waitForSelector(`#group-member-list tr[data-member="${user}"]`);
    }
    assert.deepEqual(await members("testers"), ["bob", "dave"]);
    assert.equal(await page.locator("#group-members h2").textContent(), "2 members");
    await shotsAt(page, "users-group");
    // remove bob, with confirmation
    await page.click('#group-member-list tr[data-member="bob"] button.danger');
    const dialog = page.locator("dialog.modal");
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /bob will no longer be a member of testers/);
    await dialog.locator("button.danger").click();
    await page.waitForFunction(() => !document.querySelector('#group-member-list tr[data-member="bob"]'));
    assert.deepEqual(await members("testers"), ["dave"]);

    // from the user's page: add bob back to the group
    await page.goto(`${URL_}#/users/bob`);
    await page.click("#add-to-group");
    await page.selectOption("#field-group", "testers");
    await page.locator("dialog.modal button.primary").click();
    await page.waitForSelector('#user-group-list li[data-group="testers"]');
    assert.deepEqual(await members("testers"), ["dave", "bob"]);

    // delete the group: the name must be typed
    await page.goto(`${URL_}#/groups/testers`);
    await page.click("#delete-group");
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /its 2 members lose the roles/);
    assert.equal(await dialog.locator("button.danger").isDisabled(), true);
    await page.fill("#confirm-name", "testers");
    await dialog.locator("button.danger").click();
    await page.waitForURL(u => u.hash === "#/users");
    await page.waitForSelector("#group-list");
    assert.equal(await page.locator('#group-list tr[data-group="testers"]').count(), 0);
    assert.equal(await members("testers"), null);
    assert.deepEqual(page.problems, []);
});

test("a group membership gives its roles: dave leaves viewers and loses demo", async () => {
    const page = pages.en;
    await page.goto(`${URL_}#/groups/viewers`);
    await page.waitForSelector('#group-member-list tr[data-member="dave"]');
    await page.click('#group-member-list tr[data-member="dave"] button.danger');
    await page.locator("dialog.modal button.danger").click();
    await page.waitForFunction(() => !document.querySelector('#group-member-list tr[data-member="dave"]'));
    try {
        const r = await fetch(`${process.env.MASTER_URL}/apis/image.openshift.io/v1/namespaces/demo/imagestreams`,
                              { headers: { Authorization: `Bearer ${process.env.MASTER_TOKEN_DAVE}` } });
        assert.equal(r.status, 403);
    } finally {
        await page.click("#add-group-member");
        await page.fill("#field-user", "dave");
        await page.keyboard.press("Enter");
        await page.waitForSelector('#group-member-list tr[data-member="dave"]');
    }
    assert.deepEqual(await members("viewers"), ["dave"]);
});

test("German: the same views", async () => {
    const page = pages.de;
    await page.goto(`${URL_}#/users`);
    await page.waitForSelector("#user-list");
    assert.equal(await page.locator("h1").textContent(), "Benutzer und Gruppen");
    assert.equal(await page.locator('#group-list tr[data-group="viewers"] td.members').textContent(), "1 Mitglied");
    await shotsAt(page, "users-list");
    await page.goto(`${URL_}#/users/dave`);
    await page.waitForSelector("#user-identities");
    await shotsAt(page, "users-user");
    await page.goto(`${URL_}#/groups/developers`);
    await page.waitForSelector("#group-member-list");
    assert.equal(await page.locator("#group-members h2").textContent(), "1 Mitglied");
    await shotsAt(page, "users-group");
    assert.deepEqual(page.problems, []);
});

test("bob, no cluster admin: no users and groups", async () => {
    await masterControl({ authorizeUser: "bob" });
    const page = await newPage(browser);
    try {
        await loginOpenShift(page, URL_);
        // the nav link stays hidden once the master has said no
        await page.waitForSelector('#nav-users[data-allowed="false"]', { state: "attached" });
        assert.ok(await page.locator("#nav-users").isHidden());
        await page.goto(`${URL_}#/users`);
        await page.waitForSelector("#users .empty");
        assert.equal(await page.locator("#users .empty").textContent(), "You may not see these.");
        assert.equal(await page.locator("#create-group").count(), 0);
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
        await masterControl({ authorizeUser: "alice" });
    }
});
