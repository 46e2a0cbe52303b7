// Cookies that cannot be tossed: a page on a sibling host under the same
// site (sibling.example.test next to console.example.test; Chromium maps
// both names to 127.0.0.1) sets cookies for the whole site with the
// attacker's own session, so that the victim's console would run as the
// attacker ("login CSRF" by cookie tossing). The console's session cookie
// is __Host- prefixed over TLS, which a sibling cannot set; the victim's
// console shows the victim (or the login page), never the attacker.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import fs from "node:fs";
import { launch, shot, loginForm, artifacts } from "./lib.mjs";

const PORT = new URL(process.env.RC_TOSS_URL).port;
const CONSOLE = `https://console.example.test:${PORT}/`;
let browser, sibling, siblingUrl;

before(async () => {
    // the sibling: an https server of its own (the run script's certificate)
    sibling = https.createServer({
        key: fs.readFileSync(process.env.RC_TOSS_KEY), cert: fs.readFileSync(process.env.RC_TOSS_CERT),
    }, (req, res) => {
        const url = new URL(req.url, "https://x");
        const value = url.searchParams.get("v");
        if (url.pathname !== "/" || !value) {     // e.g. /favicon.ico
            res.statusCode = 404;
            res.end();
            return;
        }
        // what a sibling host can try: the console's cookie names, for the
        // whole site (Domain) and for the console's paths (longer Path: sent first)
        const attrs = "Domain=example.test; Secure; SameSite=Lax";
        res.setHeader("Set-Cookie", [
            `cockpit=${value}; Path=/cockpit; ${attrs}`,
            `cockpit=${value}; Path=/; ${attrs}`,
            `__Host-cockpit=${value}; Path=/; ${attrs}`,
            `__Host-cockpit=${value}; Path=/cockpit; Secure`,
            `__Secure-cockpit=${value}; Path=/cockpit; ${attrs}`,
        ]);
        res.setHeader("Content-Type", "text/html");
        // and from script, as a page would
        res.end(`<!DOCTYPE html><title>sibling</title><script>
            for (const c of ["cockpit=${value}; domain=example.test; path=/cockpit; secure",
                             "__Host-cockpit=${value}; domain=example.test; path=/; secure",
                             "__Host-cockpit=${value}; path=/; secure"])
                document.cookie = c;
            document.title = "tossed";
            </script>`);
    });
    await new Promise(resolve => sibling.listen(0, "127.0.0.1", resolve));
    siblingUrl = `https://sibling.example.test:${sibling.address().port}/`;
    browser = await launch(["--host-resolver-rules=MAP console.example.test 127.0.0.1, " +
                            "MAP sibling.example.test 127.0.0.1"]);
});

after(async () => {
    await browser?.close();
    sibling?.close();
});

async function context() {
    const c = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await c.newPage();
    page.problems = [];
    page.on("pageerror", e => page.problems.push(`pageerror: ${e}`));
    return { c, page };
}

test("a cookie tossed by a sibling host does not make the victim's console the attacker's", async () => {
    // the attacker logs in to the console as themselves and takes their cookie
    const attacker = await context();
    await attacker.page.goto(CONSOLE);
    await loginForm(attacker.page, process.env.REGISTRY_READER_USER, process.env.REGISTRY_READER_PASSWORD);
    await attacker.page.waitForSelector("#recent-images");
    const mine = (await attacker.c.cookies(CONSOLE)).filter(c => /^(__Host-)?cockpit$/.test(c.name));
    assert.equal(mine.length, 1, JSON.stringify(mine.map(c => c.name)));
    const value = mine[0].value;

    // the victim logs in
    const victim = await context();
    const page = victim.page;
    await page.goto(CONSOLE);
    await loginForm(page, process.env.REGISTRY_USER, process.env.REGISTRY_PASSWORD);
    await page.waitForSelector("#recent-images");
    assert.equal(await page.locator("#user").textContent(), process.env.REGISTRY_USER);

    // the victim visits the sibling, which tosses the attacker's session
    await page.goto(`${siblingUrl}?v=${encodeURIComponent(value)}`);
    await page.waitForFunction(() => document.title === "tossed");
    const jar = await victim.c.cookies([CONSOLE, `${CONSOLE}cockpit/session`]);
    fs.writeFileSync(`${artifacts}/toss-cookies.json`,
                     JSON.stringify(jar.map(c => ({ name: c.name, domain: c.domain, path: c.path,
                                                   attackers: c.value === value })), null, 1));
    assert.ok(jar.some(c => c.name === "cockpit" && c.domain === ".example.test" && c.value === value),
              "the sibling did toss a cookie for the whole site");
    assert.ok(!jar.some(c => c.name === "__Host-cockpit" && c.domain === ".example.test"),
              "the browser refuses a __Host- cookie with a Domain");

    // who the console says this browser is now, asked from one of its
    // plain pages (the browser sends the cookies it holds for the path)
    await page.goto(`${CONSOLE}ping`);
    const asked = await page.evaluate(async () => {
        const r = await fetch("/cockpit/session");
        return r.status === 200 ? (await r.json()).user : r.status;
    });
    assert.notEqual(asked, process.env.REGISTRY_READER_USER,
                    "after the toss, the console takes the victim's browser for the attacker");
    assert.ok(asked === process.env.REGISTRY_USER || asked === 401, `session: ${asked}`);

    // back in the console: the victim, or the login page; never the attacker
    await page.goto(CONSOLE);
    await page.waitForSelector("#recent-images, #login-user");
    const user = await page.locator("#user").count() ? await page.locator("#user").textContent() : null;
    const who = await page.evaluate(async () => {
        const r = await fetch("cockpit/session");
        return r.status === 200 ? (await r.json()).user : r.status;
    });
    await shot(page, "toss-victim-after");
    assert.notEqual(user, process.env.REGISTRY_READER_USER, "the console shows the attacker's session");
    assert.notEqual(who, process.env.REGISTRY_READER_USER, "/cockpit/session answers with the attacker");
    assert.ok(user === process.env.REGISTRY_USER || user === null, `shown: ${user}`);
    assert.deepEqual(page.problems, []);
    await attacker.c.close();
    await victim.c.close();
});
