// lib.mjs: shared helpers of the browser tests.
import { chromium } from "playwright-core";
import { before, after } from "node:test";
import fs from "node:fs";
import path from "node:path";

export const artifacts = process.env.RC_ARTIFACTS || "artifacts";
fs.mkdirSync(artifacts, { recursive: true });

// extraArgs: more Chromium switches (e.g. --host-resolver-rules for host names)
export async function launch(extraArgs = []) {
    return chromium.launch({
        executablePath: "/usr/bin/chromium",
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               "--disable-dev-shm-usage", ...extraArgs],
    });
}

// A page that records script errors and any dialog (a dialog would mean
// attacker-controlled text ran as script).
export async function newPage(browser, { width = 1280, height = 800, locale = "en-US" } = {}) {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width, height }, locale });
    const page = await context.newPage();
    page.problems = [];
    page.on("pageerror", e => page.problems.push(`pageerror: ${e}`));
    page.on("dialog", d => {
        page.problems.push(`dialog: ${d.message()}`);
        d.dismiss();
    });
    return page;
}

export async function shot(page, name) {
    await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

// Read the registry directly (basic auth), to compare with what the UI shows.
export async function registry(pathname, accept) {
    const auth = Buffer.from(`${process.env.REGISTRY_USER}:${process.env.REGISTRY_PASSWORD}`).toString("base64");
    const headers = { Authorization: `Basic ${auth}` };
    if (accept)
        headers.Accept = accept;
    const r = await fetch(new URL(pathname, process.env.REGISTRY_URL), { headers });
    return { status: r.status, headers: r.headers, body: r.status === 200 ? await r.json() : null };
}

export const MANIFEST_TYPES = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

// Fill in and send the registry login form of the page shown.
export async function loginForm(page, user, password) {
    await page.fill("#login-user", user);
    await page.fill("#login-password", password);
    await page.click("#login-button");
}

// One browser and page per test file, closed at the end.
export function usePage(options) {
    const state = {};
    before(async () => {
        state.browser = await launch();
        state.page = await newPage(state.browser, options);
    });
    after(async () => {
        await state.browser.close();
    });
    return state;
}

// Screenshots of the view PAGE shows at 1280 and 800 px wide:
// NAME-LANG-1280.png and NAME-LANG-800.png (LANG: the page's language).
// show(page) brings the view up again after the resize (nothing, if null).
export async function shotsAt(page, name, show = null) {
    const lang = (await page.evaluate(() => document.documentElement.lang || "en")).split("-")[0];
    for (const width of [1280, 800]) {
        await page.setViewportSize({ width, height: 800 });
        if (show)
            await show(page);
        await shot(page, `${name}-${lang}-${width}`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
}

// Log in through the test master's OAuth (as its authorizeUser).
export async function loginOpenShift(page, url) {
    await page.goto(url);
    await page.waitForSelector("#oauth-button");
    await Promise.all([
        page.waitForURL(u => u.href.startsWith(url) && !u.hash.includes("access_token"), { timeout: 20000 }),
        page.click("#oauth-button"),
    ]);
    await page.waitForSelector("#recent-images, #overview-projects", { timeout: 20000 });
}

// The test master's control switches (GET: its state).
export async function masterControl(body) {
    const r = await fetch(process.env.MASTER_CONTROL, { method: body ? "POST" : "GET",
                                                         body: body ? JSON.stringify(body) : undefined });
    if (r.status !== 200)
        throw new Error(`master control: ${r.status}`);
    return r.json();
}

// The master's API with a user's token (test setup and checks, not the UI).
export async function masterApi(token, method, path, body) {
    const r = await fetch(process.env.MASTER_URL + path, {
        method, body: body ? JSON.stringify(body) : undefined,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    });
    return { status: r.status, body: await r.json() };
}

// The languages of the screenshots: [name in the file name, browser locale].
export const LANGS = [["en", "en-US"], ["de", "de-DE"]];
