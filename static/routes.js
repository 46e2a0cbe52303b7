// routes.js: the console's addresses. Every view links through these
// functions, so a name with "/", "#", "?" or "%" in it still leads where it
// says, and the router reads back exactly what was written. A route is
// "#/" followed by path parts, each one encodeURIComponent'ed; "_" stands
// for the empty project (a registry repository without a namespace).
// Imports nothing, touches nothing at import time.

function part(s) {
    return encodeURIComponent(s);
}

// The empty project is "_" in a route; "_" in a route is the empty project.
export function projectPart(project) {
    return project || "_";
}

export function projectFromPart(p) {
    return p === "_" ? "" : p;
}

export function projectsHref() {
    return "#/projects";
}

export function projectHref(name) {
    return `#/projects/${part(projectPart(name))}`;
}

// sort: "" (by name) or a column of the list, "size" or "size:asc"
export function imagesHref({ project = "", q = "", sort = "" } = {}) {
    const query = new URLSearchParams();
    if (project)
        query.set("project", project);
    if (q)
        query.set("q", q);
    if (sort)
        query.set("sort", sort);
    const s = query.toString();
    return `#/images${s ? "?" + s : ""}`;
}

export function streamHref(project, name) {
    return `#/images/${part(projectPart(project))}/${part(name)}`;
}

// ref: a tag name or a digest
export function imageHref(project, name, ref) {
    return `${streamHref(project, name)}/${part(ref)}`;
}

export function usersHref() {
    return "#/users";
}

export function userHref(name) {
    return `#/users/${part(name)}`;
}

export function groupHref(name) {
    return `#/groups/${part(name)}`;
}

export function untaggedHref() {
    return "#/untagged";
}

// The search across the registry: a tag name or a digest (q), and what it
// is when the user said so (kind: "tag" or "digest"); exact: whole tag
// names only.
export function searchHref({ q = "", kind = "", exact = false } = {}) {
    const query = new URLSearchParams();
    if (q)
        query.set("q", q);
    if (kind)
        query.set("kind", kind);
    if (exact)
        query.set("exact", "1");
    const s = query.toString();
    return `#/search${s ? "?" + s : ""}`;
}

// "#/images/p/n?q=x" → { parts: ["images", "p", "n"], params: URLSearchParams }.
// A part that is not valid percent-encoding (typed by hand) stays as typed.
export function parseRoute(hash) {
    const [path, query] = String(hash || "").replace(/^#\/?/, "").split("?");
    const parts = path.split("/").filter(p => p !== "").map(p => {
        try {
            return decodeURIComponent(p);
        } catch (e) {
            return p;
        }
    });
    return { parts, params: new URLSearchParams(query || "") };
}

// One view at a time. Each route() takes a turn (begin(): the shown view's
// cleanup runs, the number of the new turn comes back); a view whose show()
// ends after a newer turn began is stale: settle() calls its cleanup at
// once (its channels and timers stop) and says false, so that it neither
// becomes the current view nor touches the page.
export class ViewTurns {
    constructor() {
        this.turn = 0;
        this.cleanup = null;
    }

    begin() {
        const old = this.cleanup;
        this.cleanup = null;
        this.turn++;
        runCleanup(old);
        return this.turn;
    }

    current(turn) {
        return turn === this.turn;
    }

    settle(turn, cleanup) {
        if (turn !== this.turn) {
            runCleanup(cleanup);
            return false;
        }
        this.cleanup = typeof cleanup === "function" ? cleanup : null;
        return true;
    }
}

function runCleanup(f) {
    if (typeof f !== "function")
        return;
    try {
        f();
    } catch (e) { /* the view is gone already */ }
}
