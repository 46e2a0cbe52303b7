// facts.mjs: what a registry holds, read from the registry itself (not
// through the console), to compare with what the UI shows: per repository
// its tag count, the newest image's created time, and the size of its
// distinct blobs (every config and layer once, however many tags use it).

const ACCEPT = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

// GET PATH of the registry at BASE (basic auth when USER is given): the
// parsed body, and the headers.
export async function get(base, pathname, { user, password, accept } = {}) {
    const headers = {};
    if (user)
        headers.Authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    if (accept)
        headers.Accept = accept;
    const r = await fetch(new URL(pathname, base), { headers });
    if (r.status !== 200)
        throw new Error(`${pathname}: ${r.status}`);
    return { body: await r.json(), headers: r.headers };
}

// The main registry of the tests, with the admin's credentials.
export const MAIN = () => ({ base: process.env.REGISTRY_URL, user: process.env.REGISTRY_USER,
                             password: process.env.REGISTRY_PASSWORD });

// {repository, tags, size, created, time, blobs: Map digest → size,
//  digests: {tag: manifest digest}} of REPOSITORY.
export async function repositoryFacts(reg, repository) {
    const opts = { user: reg.user, password: reg.password };
    const { body } = await get(reg.base, `/v2/${repository}/tags/list`, opts);
    const tags = body.tags || [];
    const blobs = new Map();
    const digests = {};
    let time;
    for (const tag of tags) {
        const m = await get(reg.base, `/v2/${repository}/manifests/${tag}`, { ...opts, accept: ACCEPT });
        digests[tag] = m.headers.get("docker-content-digest");
        const images = m.body.manifests
            ? await Promise.all(m.body.manifests.map(p => get(reg.base, `/v2/${repository}/manifests/${p.digest}`,
                                                                { ...opts, accept: ACCEPT })))
            : [m];
        for (const im of images) {
            const c = im.body.config;
            blobs.set(c.digest, c.size);
            for (const l of im.body.layers)
                blobs.set(l.digest, l.size);
            const cfg = await get(reg.base, `/v2/${repository}/blobs/${c.digest}`, opts);
            const t = Date.parse(cfg.body.created);
            if (!isNaN(t) && (time === undefined || t > time))
                time = t;
        }
    }
    const size = [...blobs.values()].reduce((a, n) => a + n, 0);
    return { repository, tags: tags.length, size, time, blobs, digests };
}

// The catalog of the registry (every page).
export async function catalog(reg) {
    const names = [];
    let next = "/v2/_catalog?n=1000";
    while (next) {
        const r = await get(reg.base, next, { user: reg.user, password: reg.password });
        names.push(...(r.body.repositories || []));
        const m = /<([^>]+)>;\s*rel="next"/.exec(r.headers.get("link") || "");
        next = m ? m[1] : null;
    }
    return names;
}

// FACTS sorted as the list sorts by KEY ("size", "updated", "tags"): DESC
// or not, ties by name (code-point order), always ascending.
export function expectedOrder(facts, key, desc) {
    const value = f => (key === "updated" ? f.time : f[key]);
    const byName = (a, b) => (a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : 0);
    return [...facts].sort((a, b) => {
        const va = value(a), vb = value(b);
        if (va !== vb)
            return (va < vb ? -1 : 1) * (desc ? -1 : 1);
        return byName(a, b);
    }).map(f => f.repository);
}
