// taglist.js: a repository's tags as the tag page shows them, built from
// the rows of the "registry-tags" / "openshift-images" channels
// (doc/architecture.md, "Registry channels"). Pure data, no DOM; imports
// only versions.js and touches nothing at import time.
//
//   const list = new TagList();
//   list.addNames(["1.0", "latest"]);     // a "names" row: every tag, not yet read
//   list.addRow(row);                      // a "tag" row: its digest, created, size, …
//   list.view({ filter: "v1.*", sort: "version", descending: true })  // groups in order
//   list.plan(["sha256:…"])                // what deleting these manifests does
//
// Tags on the same manifest (digest) are one group: one image with several
// tags, as Portus shows them. A tag not read yet, or whose row has an
// error, is a group of its own.

import { compareVersions, tagMatcher } from "./versions.js";

export const SORTS = ["version", "name", "created", "size"];

// What a content digest looks like (the OCI image spec's grammar, with at
// least 32 characters of encoded hash): anything else from a row is no
// digest, however it came.
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

export function isDigest(d) {
    return typeof d === "string" && DIGEST.test(d);
}

// A size in bytes from a row or an API answer: a finite number >= 0 (a
// string of digits too), else null (unknown). Never a string to add.
export function byteSize(x) {
    const n = typeof x === "number" ? x : typeof x === "string" && /^\s*\d+\s*$/.test(x) ? Number(x) : NaN;
    return Number.isFinite(n) && n >= 0 ? n : null;
}

function pendingKey(tag) {
    return `?${tag}`;
}

function errorKey(tag) {
    return `!${tag}`;
}

// digest → size of every blob a row names (with "blobs" and "blobSizes"),
// or null when the row does not say (or says something that is no size).
export function rowBlobs(row) {
    if (!row || !Array.isArray(row.blobs) || !Array.isArray(row.blobSizes) ||
        row.blobs.length !== row.blobSizes.length)
        return null;
    const m = new Map();
    for (let i = 0; i < row.blobs.length; i++) {
        const n = byteSize(row.blobSizes[i]);
        // a size that is none makes the row one that does not say
        if (n === null || typeof row.blobs[i] !== "string")
            return null;
        m.set(row.blobs[i], n);
    }
    return m;
}

// A group: its tags are a Set (many tags on one digest come and go in
// constant time each); g.tags is that set as an array, made when read.
function newGroup(fields, tags = []) {
    return {
        ...fields,
        members: new Set(tags),
        cached: null,
        get tags() {
            if (!this.cached)
                this.cached = [...this.members];
            return this.cached;
        },
    };
}

// the platforms of a group's index row that name a digest
function platformsOf(g) {
    const platforms = g.row && Array.isArray(g.row.platforms) ? g.row.platforms : [];
    return platforms.filter(p => p && isDigest(p.digest));
}

function isIndexRow(row) {
    return !!row && Array.isArray(row.platforms);
}

export class TagList {
    constructor() {
        this.names = [];            // every tag, in the order first seen
        this.nameSet = new Set();
        this.groups = new Map();    // key → group
        this.groupOf = new Map();   // tag → key
        this.errors = [];           // "error" rows (a later tags/list page failed)
        this.resolved = 0;          // tags with a row
        this.version = 0;           // bumped on every change (views cache by it)
        this.ranks = null;          // tag → position in version order, by sort
    }

    get size() {
        return this.names.length;
    }

    addNames(names) {
        for (const tag of names || []) {
            if (typeof tag !== "string" || this.nameSet.has(tag))
                continue;
            this.nameSet.add(tag);
            this.names.push(tag);
            const key = pendingKey(tag);
            this.groups.set(key, newGroup({ key, digest: "", pending: true, row: null }, [tag]));
            this.groupOf.set(tag, key);
        }
        this.ranks = null;
        this.version++;
    }

    // Take TAG out of its group (the group goes when it was the last).
    detach(tag) {
        const key = this.groupOf.get(tag);
        if (key === undefined)
            return;
        const g = this.groups.get(key);
        this.groupOf.delete(tag);
        if (!g)
            return;
        if (!g.pending)
            this.resolved--;
        g.members.delete(tag);
        g.cached = null;
        if (!g.members.size)
            this.groups.delete(key);
    }

    addRow(row) {
        if (!row || row.type !== "tag" || typeof row.tag !== "string")
            return;
        const tag = row.tag;
        if (!this.nameSet.has(tag)) {
            this.nameSet.add(tag);
            this.names.push(tag);
            this.ranks = null;
        }
        this.detach(tag);
        // a row with something else than a digest is a failed read (its
        // platforms and blobs are not believed either)
        if (row.digest !== undefined && row.digest !== null && row.digest !== "" && !isDigest(row.digest))
            row = { type: "tag", tag, error: row.error || "invalid digest", invalidDigest: true };
        const failed = !!row.error || !row.digest;
        const key = failed ? errorKey(tag) : row.digest;
        let g = this.groups.get(key);
        if (!g) {
            g = newGroup({ key, digest: row.digest || "", pending: false, row, blobs: rowBlobs(row) });
            this.groups.set(key, g);
        }
        g.members.add(tag);
        g.cached = null;
        this.groupOf.set(tag, key);
        this.resolved++;
        this.version++;
    }

    addError(row) {
        this.errors.push(row);
        this.version++;
    }

    // Forget TAGS (deleted): they leave their groups.
    removeTags(tags) {
        for (const tag of tags) {
            if (!this.nameSet.has(tag))
                continue;
            this.detach(tag);
            this.nameSet.delete(tag);
        }
        this.names = this.names.filter(t => this.nameSet.has(t));
        this.ranks = null;
        this.version++;
    }

    group(key) {
        return this.groups.get(key) || null;
    }

    // Tags read without a digest: {failed: [tags whose read failed and
    // that may still be on a manifest], gone: [tags the registry no longer
    // has (HTTP 404): on no manifest]}; tags not read yet are in neither.
    unreadTags() {
        const failed = [], gone = [];
        for (const g of this.groups.values()) {
            if (g.pending || g.digest)
                continue;
            (g.row && g.row.status === 404 ? gone : failed).push(...g.tags);
        }
        return { failed, gone };
    }

    groupOfTag(tag) {
        const key = this.groupOf.get(tag);
        return key === undefined ? null : this.groups.get(key);
    }

    // tag → its place in version order (computed once per set of names)
    versionRanks() {
        if (!this.ranks) {
            const sorted = this.names.slice().sort(compareVersions);
            this.ranks = new Map(sorted.map((t, i) => [t, i]));
        }
        return this.ranks;
    }

    // The groups to show, in order: those with a tag the filter matches
    // (the first such tag in the chosen order is the group's "primary",
    // shown first and deciding its place). Unknown created times and sizes
    // go last in both directions.
    view({ filter = "", sort = "version", descending = false } = {}) {
        const match = tagMatcher(filter);
        const digestFilter = /^(sha256:)?[0-9a-f]{6,}$/.test(filter.trim()) && !/^\d+$/.test(filter.trim())
            ? filter.trim().replace(/^sha256:/, "") : null;
        const ranks = this.versionRanks();
        const byName = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
        const tagOrder = sort === "name" ? byName : (a, b) => ranks.get(a) - ranks.get(b);
        const dir = descending ? -1 : 1;
        const out = [];
        const filtering = filter.trim() !== "";
        for (const g of this.groups.values()) {
            let tags = filtering ? g.tags.filter(match) : g.tags.slice();
            if (!tags.length && digestFilter && g.digest && g.digest.replace(/^sha256:/, "").startsWith(digestFilter))
                tags = g.tags.slice();
            if (!tags.length)
                continue;
            if (tags.length > 1)
                tags.sort((a, b) => dir * tagOrder(a, b));
            const matched = tags.length === g.members.size ? null : new Set(tags);
            const others = matched ? g.tags.filter(t => !matched.has(t)).sort((a, b) => dir * tagOrder(a, b)) : [];
            // rank: the primary tag's place in version order, read once
            // (the sort below compares each entry many times)
            out.push({ group: g, primary: tags[0], tags: others.length ? [...tags, ...others] : tags,
                       matched: tags.length, rank: ranks.get(tags[0]) });
        }
        const value = e => {
            const r = e.group.row;
            if (!r)
                return null;
            if (sort === "created") {
                const t = r.created ? Date.parse(r.created) : NaN;
                return isNaN(t) ? null : t;
            }
            return byteSize(r.size);
        };
        let cmp;
        if (sort === "created" || sort === "size") {
            const vals = new Map(out.map(e => [e, value(e)]));
            cmp = (a, b) => {
                const va = vals.get(a), vb = vals.get(b);
                if (va === null || vb === null) {
                    if (va !== vb)
                        return va === null ? 1 : -1;
                } else if (va !== vb) {
                    return dir * (va < vb ? -1 : 1);
                }
                return a.rank - b.rank;
            };
        } else if (sort === "name") {
            cmp = (a, b) => dir * byName(a.primary, b.primary);
        } else {
            cmp = (a, b) => dir * (a.rank - b.rank);
        }
        out.sort(cmp);
        return out;
    }

    // Every distinct blob of the repository's images that were read, once:
    // {bytes, blobs, images, complete (every tag read, every row with its
    // blobs)}.
    storage() {
        const seen = new Map();
        let images = 0, complete = this.resolved === this.names.length;
        for (const g of this.groups.values()) {
            if (g.pending || !g.digest)
                continue;
            images++;
            if (!g.blobs) {
                complete = false;
                continue;
            }
            for (const [d, n] of g.blobs)
                seen.set(d, n);
        }
        let bytes = 0;
        for (const n of seen.values())
            bytes += n;
        return { bytes, blobs: seen.size, images, complete };
    }

    // What deleting the manifests DIGESTS does (registry mode): the tags
    // that go with them, the manifests deleted (an index's platform
    // manifests too, unless a remaining tag still uses them), the space
    // freed once the registry collects its garbage (blobs only the deleted
    // images use; shared layers counted once), what was counted, and
    // remaining indexes that would lose a platform; parents: a manifest
    // (platform) → the deleted indexes that list it.
    plan(digests) {
        const doomed = new Set(digests);
        // indexes first: none points at a manifest already gone meanwhile
        const groups = [...doomed].map(d => this.groups.get(d)).filter(g => g && g.digest)
            .sort((a, b) => Number(isIndexRow(b.row)) - Number(isIndexRow(a.row)));
        const remaining = [...this.groups.values()].filter(g => g.digest && !doomed.has(g.digest));
        // manifests still used: remaining tags' digests and their platforms
        const kept = new Set();
        for (const g of remaining) {
            kept.add(g.digest);
            for (const p of platformsOf(g))
                kept.add(p.digest);
        }
        const manifests = [];
        const children = [];
        // manifest → the deleted indexes that list it: it goes only after them
        const parents = new Map();
        for (const g of groups) {
            manifests.push(g.digest);
            for (const p of platformsOf(g)) {
                if (p.digest === g.digest || kept.has(p.digest))
                    continue;
                if (!doomed.has(p.digest) && !parents.has(p.digest))
                    children.push(p.digest);
                if (!parents.has(p.digest))
                    parents.set(p.digest, []);
                if (!parents.get(p.digest).includes(g.digest))
                    parents.get(p.digest).push(g.digest);
            }
        }
        const broken = [];
        for (const g of remaining)
            for (const p of platformsOf(g))
                if (doomed.has(p.digest))
                    broken.push({ index: g.digest, tags: g.tags.slice(), platform: p.digest });
        const tags = groups.flatMap(g => g.tags);
        // blobs
        let known = true;
        const freed = new Map();
        for (const g of groups) {
            if (!g.blobs) {
                known = false;
                continue;
            }
            for (const [d, n] of g.blobs)
                freed.set(d, n);
        }
        for (const g of remaining) {
            if (g.blobs)
                for (const d of g.blobs.keys())
                    freed.delete(d);
        }
        // a kept platform's blobs stay too (the index's blob list names them)
        let bytes = 0;
        for (const n of freed.values())
            bytes += n;
        const otherTags = remaining.reduce((n, g) => n + g.tags.length, 0);
        const otherUnknown = remaining.filter(g => !g.blobs).reduce((n, g) => n + g.tags.length, 0);
        // tags not read yet, or that failed, may use these blobs too
        const pending = [...this.groups.values()].filter(g => !g.digest).reduce((n, g) => n + g.tags.length, 0);
        return {
            tags, manifests: [...manifests, ...children], indexes: manifests.length, children, parents,
            freed: known ? bytes : null, freedBlobs: freed.size, broken,
            counted: { otherTags: otherTags - otherUnknown, unknown: otherUnknown + pending },
        };
    }
}

// Selection of groups (by key) over a view: click, shift-click ranges,
// everything the filter shows. Each selected group keeps the tags that
// were shown matching when it was picked (entry.tags up to entry.matched):
// in OpenShift mode only those are removed.
export class Selection {
    constructor() {
        this.keys = new Set();
        this.tags = new Map();      // key → the tags picked with it
        this.anchor = null;
    }

    get size() {
        return this.keys.size;
    }

    has(key) {
        return this.keys.has(key);
    }

    clear() {
        this.keys.clear();
        this.tags.clear();
        this.anchor = null;
    }

    add(entry) {
        this.keys.add(entry.group.key);
        this.tags.set(entry.group.key, entry.tags.slice(0, entry.matched || entry.tags.length));
    }

    delete(key) {
        this.keys.delete(key);
        this.tags.delete(key);
    }

    // [{key, tags}]: every selected group with the tags picked with it
    picks() {
        return [...this.keys].map(key => ({ key, tags: (this.tags.get(key) || []).slice() }));
    }

    // a click on the entry at INDEX of VIEW (entries {group}); with RANGE
    // (shift) every entry from the last click's to this one takes this
    // one's new state. Groups without a digest cannot be selected.
    click(view, index, range = false) {
        const entry = view[index];
        if (!entry || !entry.group.digest)
            return;
        const on = !this.keys.has(entry.group.key);
        const anchorIndex = this.anchor === null ? -1 : view.findIndex(e => e.group.key === this.anchor);
        if (range && anchorIndex >= 0) {
            const [from, to] = anchorIndex < index ? [anchorIndex, index] : [index, anchorIndex];
            for (let i = from; i <= to; i++) {
                const g = view[i].group;
                if (!g.digest)
                    continue;
                if (on)
                    this.add(view[i]);
                else
                    this.delete(g.key);
            }
        } else if (on) {
            this.add(entry);
        } else {
            this.delete(entry.group.key);
        }
        this.anchor = entry.group.key;
    }

    // every group of VIEW that can be selected; returns how many could not
    // (not read yet, or failed)
    selectAll(view) {
        let skipped = 0;
        for (const e of view) {
            if (e.group.digest)
                this.add(e);
            else
                skipped++;
        }
        return skipped;
    }

    // drop keys whose group is gone (deleted, or moved to another digest),
    // and picked tags no longer on their group
    prune(list) {
        for (const k of [...this.keys]) {
            const g = list.group(k);
            if (!g) {
                this.delete(k);
                continue;
            }
            const picked = this.tags.get(k) || [];
            const still = picked.filter(t => list.groupOf.get(t) === k);
            if (!still.length)
                this.delete(k);
            else if (still.length !== picked.length)
                this.tags.set(k, still);
        }
    }
}
