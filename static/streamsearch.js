// streamsearch.js: what query means, and the search across the registry
// in OpenShift mode, made from the image streams the user can read (the
// master's data; the registry channels search the registry itself). It
// streams rows as registry-search does ({"type":"tag","repository","tag",
// "digest","match",…}, progress {repositories, total, matches}, done
// {complete, repositories, matches, skipped}), so the view is the same.
// The backend comes in as an argument; imports nothing, touches nothing
// at import time.

// "digest" when Q starts with an algorithm or is 12 or more lowercase hex
// digits (as the server decides), else "tag".
export function queryKind(q) {
    return /^(sha256|sha512):/.test(q) || /^[0-9a-f]{12,}$/.test(q) ? "digest" : "tag";
}

// The images whose layers and config are looked at, at most.
export const IMAGES_MAX = 2000;

// A rows()-like stream: {done, close}; handlers.row, handlers.progress.
export function searchStreams(backend, query, handlers, { kind = "", exact = false } = {}) {
    let closed = false;
    const k = kind || queryKind(query);
    const q = k === "digest" ? query.replace(/^(sha256|sha512):/, "") : query.toLowerCase();
    const algo = /^(sha256|sha512):/.exec(query);
    const digestMatches = d => {
        if (!d)
            return false;
        const [a, hex] = d.includes(":") ? d.split(":") : ["sha256", d];
        return (!algo || algo[1] === a) && hex.startsWith(q);
    };
    const emit = row => {
        if (!closed && handlers.row)
            handlers.row(row);
    };
    const done = (async () => {
        const streams = await backend.streams();
        let matches = 0;
        let walked = 0;
        let images = 0;
        const progress = () => {
            if (!closed && handlers.progress)
                handlers.progress({ repositories: walked, total: streams.length, matches, walking: false });
        };
        for (const s of streams) {
            if (closed)
                break;
            const repository = s.project ? `${s.project}/${s.name}` : s.name;
            for (const t of s.tags || []) {
                const base = { type: "tag", repository, tag: t.name, digest: t.digest || undefined,
                               created: t.created || undefined };
                if (k === "tag") {
                    const name = t.name.toLowerCase();
                    if (exact ? name === q : name.includes(q)) {
                        emit({ ...base, match: "tag" });
                        matches++;
                    }
                    continue;
                }
                if (!t.digest)
                    continue;
                if (digestMatches(t.digest)) {
                    emit({ ...base, match: "manifest" });
                    matches++;
                    continue;
                }
                if (images >= IMAGES_MAX)
                    continue;
                images++;
                const blobs = await backend.imageBlobs(t.digest).catch(() => []);
                const hit = blobs.find(([d]) => digestMatches(d));
                if (hit) {
                    emit({ ...base, match: "blob", blob: hit[0] });
                    matches++;
                }
            }
            walked++;
            progress();
        }
        return { complete: images < IMAGES_MAX, repositories: walked, matches, skipped: 0 };
    })();
    return { done, close: () => { closed = true; } };
}
