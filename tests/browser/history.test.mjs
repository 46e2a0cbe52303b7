// Layers with their history, in both modes: project-b/app:v2 is built by
// the fixture step by step with the commands of a classic `docker build`
// (tests/fixtures/registry-up), so each layer's command, the steps without
// a layer and the Dockerfile are asserted exactly; for an index, the chosen
// platform's layers are shown.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, registry, MANIFEST_TYPES, loginForm, loginOpenShift, shotsAt, LANGS } from "./lib.mjs";

const REGISTRY = process.env.RC_REGISTRY_URL;
const OPENSHIFT = process.env.RC_OPENSHIFT_URL;

// What the fixture recorded, step by step: [command, makes a layer]
const STEPS = [
    ["/bin/sh -c #(nop) COPY multi:app.py,requirements.txt in /app/ ", true],
    ["/bin/sh -c #(nop) COPY dir:static in /app/static ", true],
    ["/bin/sh -c #(nop)  ENV APP_ENV=production APP_PORT=8000 APP_WORKERS=4", false],
    ["/bin/sh -c mkdir -p /etc/app && printf 'port=8000\\nworkers=4\\n' > /etc/app/app.conf", true],
    ["/bin/sh -c #(nop) COPY dir:migrations in /app/migrations ", true],
    ["/bin/sh -c #(nop)  EXPOSE 8000/tcp 9000/udp", false],
    ["/bin/sh -c #(nop)  VOLUME [/app/data]", false],
    ["/bin/sh -c #(nop)  LABEL org.opencontainers.image.title=app com.example.team=b com.example.release=2", false],
    ["/bin/sh -c #(nop) WORKDIR /app", false],
    ["/bin/sh -c #(nop)  USER app", false],
    ["/bin/sh -c #(nop)  ENTRYPOINT [\"/usr/bin/env\"]", false],
    ["/bin/sh -c #(nop)  CMD [\"python3\" \"/app/app.py\"]", false],
];

const DOCKERFILE = `COPY multi:app.py,requirements.txt in /app/
COPY dir:static in /app/static
ENV APP_ENV=production APP_PORT=8000 APP_WORKERS=4
RUN mkdir -p /etc/app && printf 'port=8000\\nworkers=4\\n' > /etc/app/app.conf
COPY dir:migrations in /app/migrations
EXPOSE 8000/tcp 9000/udp
VOLUME [/app/data]
LABEL org.opencontainers.image.title=app com.example.team=b com.example.release=2
WORKDIR /app
USER app
ENTRYPOINT ["/usr/bin/env"]
CMD ["python3" "/app/app.py"]
`;

let browser;
const pages = {};

before(async () => {
    browser = await launch();
    for (const [lang, locale] of LANGS) {
        pages[`registry-${lang}`] = await newPage(browser, { locale });
        pages[`openshift-${lang}`] = await newPage(browser, { locale });
    }
    for (const p of Object.values(pages))
        await p.context().grantPermissions(["clipboard-read", "clipboard-write"]);
});

after(async () => {
    await browser.close();
});

// The layers table as [command, layer digest or "", size text]
function layerRows(page) {
    return page.locator("#image-layers tbody tr").evaluateAll(trs => trs.map(tr => [
        tr.querySelector("td:nth-child(2) code, td:nth-child(2) span").textContent,
        tr.dataset.layer, tr.querySelector("td.size").textContent]));
}

async function checkApp(page, url) {
    const m = await registry("/v2/project-b/app/manifests/v2", MANIFEST_TYPES);
    await page.goto(`${url}#/images/project-b/app/v2`);
    await page.click("#tabbtn-layers");
    await page.waitForSelector("#image-layers");
    const rows = await layerRows(page);
    assert.deepEqual(rows.map(r => r[0]), STEPS.map(s => s[0]));
    // each step that made a layer has the next layer of the manifest, in order
    const layers = m.body.layers.map(l => l.digest);
    let next = 0;
    assert.deepEqual(rows.map(r => r[1]), STEPS.map(([, layer]) => (layer ? layers[next++] : "")));
    assert.equal(next, layers.length);
    // steps without a layer say so; layers have a size; the total adds up
    const noLayer = page.locator("#image-layers tbody tr.step td.size");
    assert.equal(await noLayer.count(), 8);
    assert.ok(rows.filter(r => r[1]).every(r => /\d/.test(r[2])), JSON.stringify(rows));
    const total = m.body.layers.reduce((a, l) => a + l.size, 0);
    const shown = await page.locator("#image-layers-total").textContent();
    assert.equal(shown, await page.evaluate(n => {
        // the console's own rule: 1000-based units, one decimal
        const units = ["B", "kB", "MB", "GB"];
        let i = 0;
        while (n >= 1000 && i < units.length - 1) {
            n /= 1000;
            i++;
        }
        return `${new Intl.NumberFormat(document.documentElement.lang, { maximumFractionDigits: i ? 1 : 0 }).format(n)} ${units[i]}`;
    }, total));
    // the Dockerfile, and its copy button copies exactly it
    await page.click("#tabbtn-dockerfile");
    assert.equal(await page.locator("#image-dockerfile").textContent(), DOCKERFILE);
    await page.click("#tab-dockerfile button.copy");
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), DOCKERFILE);
}

async function checkIndex(page, url) {
    const idx = await registry("/v2/demo/tools/manifests/latest", "application/vnd.oci.image.index.v1+json");
    const layersOf = async p => (await registry(`/v2/demo/tools/manifests/${p.digest}`, MANIFEST_TYPES)).body.layers.map(l => l.digest);
    const amd64 = idx.body.manifests.find(p => p.platform.architecture === "amd64");
    const arm64 = idx.body.manifests.find(p => p.platform.architecture === "arm64");
    await page.goto(`${url}#/images/demo/tools/latest`);
    await page.waitForSelector("#image-platform");
    assert.equal(await page.locator("#image-platform").inputValue(), amd64.digest);
    await page.click("#tabbtn-layers");
    const shown = () => page.locator("#image-layers tbody tr.layer").evaluateAll(trs => trs.map(tr => tr.dataset.layer));
    assert.deepEqual(await shown(), await layersOf(amd64));
    await page.selectOption("#image-platform", arm64.digest);
    const want = await layersOf(arm64);
    await page.waitForFunction(w => JSON.stringify([...document.querySelectorAll("#image-layers tbody tr.layer")]
        .map(tr => tr.dataset.layer)) === w, JSON.stringify(want));
    assert.notDeepEqual(want, await layersOf(amd64));
    // the config of that platform, too
    await page.click("#tabbtn-config");
    assert.ok((await page.locator("#image-env").textContent()).includes("ARCH=arm64"));
    await page.click("#tabbtn-layers");
    return page;
}

test("registry mode: each layer with the command that made it, the total, the Dockerfile", async () => {
    const page = pages["registry-en"];
    await page.goto(REGISTRY);
    await loginForm(page, process.env.REGISTRY_USER, process.env.REGISTRY_PASSWORD);
    await page.waitForSelector("#recent-images");
    await checkApp(page, REGISTRY);
    assert.deepEqual(page.problems, []);
});

test("registry mode: an index shows the layers of the platform chosen", async () => {
    await checkIndex(pages["registry-en"], REGISTRY);
});

test("OpenShift mode: the same history, from the master's image object", async () => {
    const page = pages["openshift-en"];
    await loginOpenShift(page, OPENSHIFT);
    await checkApp(page, OPENSHIFT);
    await checkIndex(page, OPENSHIFT);
    assert.deepEqual(page.problems, []);
});

test("screenshots: layers and Dockerfile, 1280 and 800 px, English and German", async () => {
    for (const [lang] of LANGS) {
        const page = pages[`registry-${lang}`];
        if (lang !== "en") {
            await page.goto(REGISTRY);
            await loginForm(page, process.env.REGISTRY_USER, process.env.REGISTRY_PASSWORD);
            await page.waitForSelector("#recent-images");
        }
        await page.goto(`${REGISTRY}#/images/project-b/app/v2`);
        await page.click("#tabbtn-layers");
        await page.waitForSelector("#image-layers");
        if (lang === "de")
            assert.deepEqual(await page.locator("#image-layers thead th").allTextContents(), ["#", "Befehl", "Größe", "Schicht"]);
        await shotsAt(page, "image-layers");
        await page.click("#tabbtn-dockerfile");
        await shotsAt(page, "image-dockerfile");
        await checkIndex(page, REGISTRY);
        await shotsAt(page, "image-layers-platform");
        const os = pages[`openshift-${lang}`];
        if (lang !== "en")
            await loginOpenShift(os, OPENSHIFT);
        await os.goto(`${OPENSHIFT}#/images/project-b/app/v2`);
        await os.click("#tabbtn-layers");
        await os.waitForSelector("#image-layers");
        await shotsAt(os, "openshift-image-layers");
        assert.deepEqual(page.problems, []);
        assert.deepEqual(os.problems, []);
    }
});
