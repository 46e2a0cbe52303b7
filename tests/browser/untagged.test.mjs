// Untagged leftovers (OpenShift mode): an image no tag refers to any more
// is listed with its size, as `oc adm prune images` would find it: the
// master's image list against every tag of every image stream. The layers
// it shares with a tagged image are not counted as freed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { launch, newPage, loginOpenShift, masterControl, masterApi, registry, shotsAt, LANGS } from "./lib.mjs";

const URL_ = process.env.RC_OPENSHIFT_URL;
const IS = "/apis/image.openshift.io/v1";
const alice = process.env.MASTER_TOKEN_ALICE;
const OCI = "application/vnd.oci.image.manifest.v1+json";

let browser;
before(async () => {
    browser = await launch();
    await masterControl({ authorizeUser: "alice" });
});
after(async () => {
    await browser.close();
});

async function untaggedRows(page) {
    if (new URL(page.url()).hash === "#/untagged")
        await page.reload();
    else
        await page.goto(`${URL_}#/untagged`);
    await page.waitForSelector("#untagged-summary");
    return page.locator("#untagged-list tbody tr").evaluateAll(trs => trs.map(tr => tr.dataset.digest));
}

test("an image whose last tag goes is listed with its size; shared layers free nothing", async () => {
    const page = await newPage(browser);
    try {
        // the busybox-like image pushed as OCI: a new digest, with the
        // layers of the tagged Docker schema 2 image
        execFileSync(process.env.RC_REGISTRY_PUSH, [process.env.RC_REGISTRY_DIR, "busybox-1.36", "library/busybox-like:oci"]);
        const m = await registry("/v2/library/busybox-like/manifests/oci", OCI);
        const digest = m.headers.get("docker-content-digest");
        const tagged = async () => (await masterApi(alice, "GET", `${IS}/namespaces/library/imagestreams/busybox-like`))
            .body.status.tags.some(t => t.tag === "oci");
        for (const end = Date.now() + 20000; !(await tagged());) {
            assert.ok(Date.now() < end, "the master sees the pushed tag");
            await masterControl({ poll: true });
        }
        await loginOpenShift(page, URL_);
        await page.waitForSelector("#overview-untagged");
        let rows = await untaggedRows(page);
        assert.ok(!rows.includes(digest), "tagged: not listed");
        const freedBefore = Number(await page.locator("#untagged-freed").getAttribute("data-bytes"));

        // the tag goes (as `oc tag -d`): nothing refers to the image any more
        assert.equal((await masterApi(alice, "DELETE", `${IS}/namespaces/library/imagestreamtags/busybox-like:oci`)).status, 200);
        rows = await untaggedRows(page);
        assert.ok(rows.includes(digest), `listed: ${rows}`);
        const image = (await masterApi(alice, "GET", `${IS}/images/${digest}`)).body;
        const row = page.locator(`#untagged-list tr[data-digest="${digest}"]`);
        assert.equal(Number(await row.locator("td.size").getAttribute("data-bytes")), image.dockerImageMetadata.Size);
        assert.equal(await row.locator("td.repository").textContent(), "library/busybox-like");
        // its layers are those of the tagged busybox-like: pruning it frees none of them
        assert.equal(Number(await page.locator("#untagged-freed").getAttribute("data-bytes")), freedBefore);
        assert.match(await page.locator("#untagged-summary").textContent(), /^\d+ untagged images? · /);
        await shotsAt(page, "untagged");
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("German, and only for those who may list images", async () => {
    const page = await newPage(browser, { locale: LANGS[1][1] });
    try {
        await loginOpenShift(page, URL_);
        await untaggedRows(page);
        assert.equal(await page.locator("h1").textContent(), "Images ohne Tag");
        await shotsAt(page, "untagged");
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
    await masterControl({ authorizeUser: "bob" });
    const bob = await newPage(browser);
    try {
        await loginOpenShift(bob, URL_);
        await bob.waitForSelector("#overview-projects");
        assert.equal(await bob.locator("#overview-untagged").count(), 0);
    } finally {
        await bob.context().close();
        await masterControl({ authorizeUser: "alice" });
    }
});
