// Long non-ASCII text from an image (fixture demo/labels: 20,000 × "é" and
// runs of 3- and 4-byte characters, cut by the server's 4 KiB pieces) is
// shown exactly, and the WebSocket that carried it stays up: a browser fails
// the whole socket on a text frame that is not valid UTF-8.
import { test } from "node:test";
import assert from "node:assert/strict";
import { shot, registry, MANIFEST_TYPES, usePage, loginForm } from "./lib.mjs";

const URL_ = process.env.RC_REGISTRY_URL;
const ctx = usePage();

test("an image's long non-ASCII labels are shown exactly, over a socket that stays up", async () => {
    const page = ctx.page;
    const sockets = [];
    let dropped;
    const drop = new Promise(resolve => { dropped = resolve; });
    page.on("websocket", ws => {
        const s = { url: ws.url(), closed: false, errors: [] };
        sockets.push(s);
        ws.on("close", () => { s.closed = true; dropped(s); });
        ws.on("socketerror", e => { s.errors.push(String(e)); dropped(s); });
    });
    await page.goto(URL_);
    await loginForm(page, process.env.REGISTRY_USER, process.env.REGISTRY_PASSWORD);
    await page.waitForSelector("#recent-images");

    const m = await registry("/v2/demo/labels/manifests/1.0", MANIFEST_TYPES);
    const cfg = await registry(`/v2/demo/labels/blobs/${m.body.config.digest}`);
    const expected = cfg.body.config.Labels;
    assert.equal(expected["org.example.text.latin"], "é".repeat(20000));

    await page.goto(`${URL_}#/images/demo/labels/1.0`);
    const first = await Promise.race([page.waitForSelector("#image-labels").then(() => "labels"), drop]);
    assert.equal(first, "labels", `the socket dropped while the labels came: ${JSON.stringify(first)}`);
    const rows = await page.locator("#image-labels tr").evaluateAll(trs =>
        trs.map(tr => [tr.querySelector("th").textContent, tr.querySelector("td").textContent]));
    const shown = Object.fromEntries(rows);
    assert.deepEqual(Object.keys(shown).sort(), Object.keys(expected).sort());
    for (const [k, v] of Object.entries(expected)) {
        if (shown[k] === v)
            continue;
        const a = [...v], b = [...(shown[k] || "")];
        assert.fail(`label ${k}: ${a.length} characters expected, ${b.length} shown, ` +
                    `first difference at ${a.findIndex((c, i) => b[i] !== c)}`);
    }
    assert.ok(!Object.values(shown).some(v => v.includes("\uFFFD")), "no replacement character shown");
    await shot(page, "labels-image");

    // the socket that carried the labels is still the one open
    const console_ = sockets.filter(s => s.url.includes("/cockpit/socket"));
    assert.ok(console_.length >= 1, "the page opened its socket");
    assert.deepEqual(console_.filter(s => s.closed || s.errors.length), [], "no socket dropped");
    assert.deepEqual(page.problems, []);
});
