// streamsearch.js: what query means, and the search across the registry
// in OpenShift mode, made from the image streams the user can read (the
// master's data; the registry channels search the registry itself). It
// streams rows as registry-search does ({"type":"tag","repository","tag",
// "digest","match",…}, progress {repositories, total, matches}, done
// {complete, repositories, matches, skipped}), so the view is the same.
// The backend comes in as an argument; imports only i18n.js, touches
// nothing at import time.

import { _ } from "./i18n.js";

// "digest" when Q starts with an algorithm or is 12 or more lowercase hex
// digits (as the server decides), else "tag".
export function queryKind(q) {
    return /^(sha256|sha512):/.test(q) || /^[0-9a-f]{12,}$/.test(q) ? "digest" : "tag";
}

// The fewest hex digits of a digest searched for: fewer match nearly
// every image (and "sha256:" alone every one).
export const DIGEST_MIN = 6;

// Why Q cannot be searched as a digest, or "" when it can.
export function digestQueryProblem(q) {
    const hex = String(q).replace(/^(sha256|sha512):/, "");
    return new RegExp(`^[0-9a-f]{${DIGEST_MIN},}$`).test(hex)
        ? "" : _("A digest search needs at least 6 hexadecimal digits (0-9, a-f), such as sha256:4f2a9c.");
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
        if (typeof d !== "string" || !d)
            return false;
        const [a, hex] = d.includes(":") ? d.split(":") : ["sha256", d];
        return (!algo || algo[1] === a) && hex.startsWith(q);
    };
    const emit = row => {
        if (!closed && handlers.row)
            handlers.row(row);
    };
    const done = (async () => {
        if (k === "digest" && digestQueryProblem(query))
            throw new Error(digestQueryProblem(query));
        const streams = (await backend.streams()).filter(st => st && typeof st.name === "string");
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
            const repository = s.project && typeof s.project === "string" ? `${s.project}/${s.name}` : s.name;
            // what the master says is checked: a tag without a name is
            // none, a digest that is no string is no digest
            for (const t of Array.isArray(s.tags) ? s.tags : []) {
                if (!t || typeof t.name !== "string")
                    continue;
                const digest = typeof t.digest === "string" && t.digest ? t.digest : undefined;
                const base = { type: "tag", repository, tag: t.name, digest,
                               created: typeof t.created === "string" && t.created ? t.created : undefined };
                if (k === "tag") {
                    const name = t.name.toLowerCase();
                    if (exact ? name === q : name.includes(q)) {
                        emit({ ...base, match: "tag" });
                        matches++;
                    }
                    continue;
                }
                if (!digest)
                    continue;
                if (digestMatches(digest)) {
                    emit({ ...base, match: "manifest" });
                    matches++;
                    continue;
                }
                if (images >= IMAGES_MAX)
                    continue;
                images++;
                const blobs = await backend.imageBlobs(digest).catch(() => []);
                const hit = (Array.isArray(blobs) ? blobs : []).find(b => Array.isArray(b) && typeof b[0] === "string" &&
                                                                     digestMatches(b[0]));
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
