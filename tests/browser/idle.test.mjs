// IdleTimeout in the browser: a console left alone for its minute goes back
// to the login page and says why. Waits real time (about 75 s).
import { test } from "node:test";
import assert from "node:assert/strict";
import { shot, usePage, loginForm } from "./lib.mjs";

const URL_ = process.env.RC_IDLE_URL;
const ctx = usePage();

test("an idle console is logged out and told why", async () => {
    const page = ctx.page;
    await page.goto(URL_);
    await loginForm(page, process.env.REGISTRY_USER, process.env.REGISTRY_PASSWORD);
    await page.waitForSelector("#recent-images");
    const t0 = Date.now();

    // nothing to do but wait: the server ends the session after a minute
    // without activity and closes the socket; the page goes to the login
    const error = page.locator("#login-error");
    await error.waitFor({ state: "visible", timeout: 120000 });
    const waited = (Date.now() - t0) / 1000;
    assert.equal(await error.textContent(), "You have been logged out due to inactivity.");
    assert.ok(waited >= 55, `logged out after ${waited} s, not before the minute`);
    assert.ok(await page.locator("#login-user").isVisible(), "the login form is back");
    // the old session is gone for good: the console itself says not logged in
    const status = await page.evaluate(async () => (await fetch("/cockpit/session", { credentials: "same-origin" })).status);
    assert.equal(status, 401);
    assert.deepEqual(page.problems, []);
    await shot(page, "idle-logged-out");
});
