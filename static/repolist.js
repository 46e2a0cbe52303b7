// repolist.js: the repository list's data: one item per repository (or
// image stream) with what is known of it, filtered and sorted. A value not
// known yet (its summary has not come) sorts after every known one, in
// either direction, so sorting by a column that is still filling in shows
// what is known first. Imports nothing; touches nothing at import time.

// The columns the list sorts by: the item's value and the direction a
// first click sorts in (newest, largest, most first).
export const SORTS = {
    name: { value: it => it.repository, desc: false },
    updated: { value: it => it.time, desc: true },
    size: { value: it => it.size, desc: true },
    tags: { value: it => it.tags, desc: true },
};

export function split(repository) {
    const i = repository.lastIndexOf("/");
    return i < 0 ? ["", repository] : [repository.substring(0, i), repository.substring(i + 1)];
}

// An item of a registry repository, known by name only.
export function itemFromName(repository) {
    const [project, name] = split(repository);
    return { repository, project, name, key: repository.toLowerCase(), summarized: false,
             tags: undefined, newest: undefined, created: undefined, time: undefined, size: undefined, error: "",
             partial: false, truncated: false };
}

// Fill ITEM from a registry-summary row; true when something shown changed.
export function applySummary(item, row) {
    const before = `${item.tags}|${item.newest}|${item.created}|${item.size}|${item.error}|${item.partial}|${item.truncated}`;
    item.summarized = true;
    item.error = row.error || "";
    item.partial = !!row.partial;
    // more tags than the server reads: "tags" is what it read
    item.truncated = !!row.truncated;
    item.tags = typeof row.tags === "number" ? row.tags : undefined;
    item.newest = typeof row.newest === "string" ? row.newest : undefined;
    item.created = typeof row.created === "string" && !isNaN(Date.parse(row.created)) ? row.created : undefined;
    item.time = item.created ? Date.parse(item.created) : undefined;
    item.size = typeof row.size === "number" ? row.size : undefined;
    return before !== `${item.tags}|${item.newest}|${item.created}|${item.size}|${item.error}|${item.partial}|${item.truncated}`;
}

// An item of an OpenShift image stream: tags and the newest (the tag set
// or pushed last) from the stream itself; the size comes later.
export function itemFromStream(s, old) {
    const repository = s.project ? `${s.project}/${s.name}` : s.name;
    const item = old || itemFromName(repository);
    item.stream = s;
    item.tags = (s.tags || []).length;
    let newest = null;
    for (const t of s.tags || [])
        if (t.created && !isNaN(Date.parse(t.created)) && (!newest || Date.parse(t.created) > Date.parse(newest.created)))
            newest = t;
    item.newest = newest ? newest.name : undefined;
    item.created = newest ? newest.created : undefined;
    item.time = item.created ? Date.parse(item.created) : undefined;
    // the images the size is made of: a new one means asking again
    item.digests = [...new Set((s.tags || []).map(t => t.digest).filter(Boolean))].sort().join(" ");
    item.summarized = item.sizeOf === item.digests;
    if (!item.summarized)
        item.size = undefined;
    return item;
}

// Items whose repository contains TEXT (ignoring case) in PROJECT (all:
// null).
export function filterItems(items, text, project) {
    const q = (text || "").toLowerCase();
    const all = project === null || project === undefined;
    return items.filter(it => (all || it.project === project) && (!q || it.key.includes(q)));
}

function byName(a, b) {
    return a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : 0;
}

// Sort ITEMS in place by KEY (a SORTS key), DESC or not; unknown values
// last, ties by name. Returns how many have a value for KEY.
export function sortItems(items, key, desc) {
    const sort = SORTS[key] || SORTS.name;
    if (sort === SORTS.name) {
        // the registry's catalog comes sorted: most often nothing to do
        let sorted = true;
        for (let i = 1; sorted && i < items.length; i++)
            sorted = byName(items[i - 1], items[i]) <= 0;
        if (!sorted)
            items.sort(byName);
        if (desc)
            items.reverse();
        return items.length;
    }
    let known = 0;
    for (const it of items)
        if (sort.value(it) !== undefined)
            known++;
    const dir = desc ? -1 : 1;
    items.sort((a, b) => {
        const va = sort.value(a), vb = sort.value(b);
        if (va === undefined || vb === undefined)
            return va === undefined ? (vb === undefined ? byName(a, b) : 1) : -1;
        if (va < vb)
            return -dir;
        if (va > vb)
            return dir;
        return byName(a, b);
    });
    return known;
}

// The size of a set of images' distinct blobs: BLOBS is a list of lists of
// [digest, size]; each digest counts once.
export function distinctSize(blobs) {
    const seen = new Map();
    for (const list of blobs)
        for (const [d, n] of list)
            seen.set(d, n);
    let total = 0;
    for (const n of seen.values())
        total += n;
    return total;
}
