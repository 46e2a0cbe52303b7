// Language: a German browser gets the German catalogue built from po/de.po,
// and dates and sizes are formatted for its locale.
import { test } from "node:test";
import assert from "node:assert/strict";
import { shot, usePage, loginForm } from "./lib.mjs";

const URL_ = process.env.RC_REGISTRY_URL;
const ctx = usePage({ locale: "de-DE" });

test("the login page and the console speak German", async () => {
    const page = ctx.page;
    await page.goto(URL_);
    await page.waitForSelector("#login-user");
    await page.waitForFunction(() => document.documentElement.lang.startsWith("de"));
    assert.equal(await page.locator("#login-button").textContent(), "Anmelden");
    assert.equal(await page.locator('label[for="login-password"]').textContent(), "Passwort");
    await loginForm(page, process.env.REGISTRY_USER, process.env.REGISTRY_PASSWORD);
    await page.waitForSelector("#recent-images");
    assert.equal(await page.locator("h1").textContent(), "Übersicht");
    assert.equal(await page.locator("#logout").textContent(), "Abmelden");
    await page.goto(`${URL_}#/images/demo/hello`);
    await page.waitForSelector("#tags table");
    const headers = await page.locator("#tags th:not(.select):not(.actions)").allTextContents();
    assert.deepEqual(headers, ["Tag", "Digest", "Plattform", "Erstellt", "Größe"]);
    // sizes use the German decimal comma, e.g. "2,1 kB"
    await page.waitForFunction(() => /\d/.test(document.querySelector('tr[data-tags~="1.1"] td.size')?.textContent || ""));
    assert.match(await page.locator('tr[data-tags~="1.1"] td.size').textContent(), /^\d+,\d kB$/);
    await shot(page, "registry-stream-german");
    await page.click("#logout");
    await page.waitForSelector("#login-user");
});
