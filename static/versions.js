// versions.js: the order of tag names and the tag filter. Pure functions,
// no DOM; imports nothing and touches nothing at import time.
//
//   compareNatural(a, b)    runs of digits compared as numbers: build-9 < build-10
//   compareVersions(a, b)   versions first, in version order (1.9 < 1.10,
//                           v2.0.0-rc1 < v2.0.0-rc2 < v2.0.0 < v10.0.0),
//                           then other names in natural order
//   tagMatcher(text)        the filter: a glob (*, ?, [...]) matches the
//                           whole name, other text a part of it; case ignored

const DIGITS = /^\d+$/;

// "build-0010" → ["build-", "0010"]
function chunks(s) {
    return String(s).match(/\d+|\D+/g) || [];
}

function compareNumbers(x, y) {
    // arbitrarily long digit runs: compare without leading zeros, by
    // length, then lexically (no Number overflow)
    const a = x.replace(/^0+(?=\d)/, ""), b = y.replace(/^0+(?=\d)/, "");
    if (a.length !== b.length)
        return a.length < b.length ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
}

function compareText(a, b) {
    const la = a.toLowerCase(), lb = b.toLowerCase();
    if (la !== lb)
        return la < lb ? -1 : 1;
    return 0;
}

export function compareNatural(a, b) {
    const x = chunks(a), y = chunks(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const dx = DIGITS.test(x[i]), dy = DIGITS.test(y[i]);
        let c;
        if (dx && dy)
            c = compareNumbers(x[i], y[i]);
        else if (dx !== dy)
            c = dx ? -1 : 1;        // a number before text at the same place
        else
            c = compareText(x[i], y[i]);
        if (c)
            return c;
    }
    return x.length - y.length;
}

// "v2.0.0-rc1" → {core: ["2","0","0"], kind: -1 (a pre-release), rest: "rc1"};
// "1.10" → {core: ["1","10"], kind: 0}; "1.2_1" → kind 1 (after 1.2);
// names that do not start with a number (after an optional "v") → null.
export function parseVersion(name) {
    const m = /^[vV]?(\d+(?:\.\d+)*)(.*)$/.exec(String(name));
    if (!m)
        return null;
    const core = m[1].split(".");
    const rest = m[2];
    if (rest === "")
        return { core, kind: 0, rest: "" };
    // "-rc1", "rc1", "-alpha.2": before the release (semver); "_1", ".x",
    // "+build": after it
    if (rest[0] === "-")
        return { core, kind: -1, rest: rest.substring(1) };
    if (/^[A-Za-z]/.test(rest))
        return { core, kind: -1, rest };
    return { core, kind: 1, rest: rest.replace(/^[_.+]/, "") };
}

// semver's pre-release order (dot-separated identifiers, numbers before
// words, fewer before more), digit runs inside an identifier compared as
// numbers so that rc2 < rc10
function comparePrerelease(a, b) {
    const x = a.split("."), y = b.split(".");
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareNatural(x[i], y[i]);
        if (c)
            return c;
    }
    return x.length - y.length;
}

export function compareVersions(a, b) {
    const va = parseVersion(a), vb = parseVersion(b);
    if (!va || !vb) {
        if (va || vb)
            return va ? -1 : 1;         // versions before other names
        return compareNatural(a, b) || (a < b ? -1 : a > b ? 1 : 0);
    }
    const n = Math.max(va.core.length, vb.core.length);
    for (let i = 0; i < n; i++) {
        const c = compareNumbers(va.core[i] || "0", vb.core[i] || "0");
        if (c)
            return c;
    }
    if (va.core.length !== vb.core.length)      // 1.2 before 1.2.0
        return va.core.length - vb.core.length;
    if (va.kind !== vb.kind)
        return va.kind - vb.kind;
    const c = comparePrerelease(va.rest, vb.rest);
    if (c)
        return c;
    // the same version written differently ("v1.0", "1.0"): any fixed order
    return a < b ? -1 : a > b ? 1 : 0;
}

function globToRegExp(glob) {
    let re = "";
    for (let i = 0; i < glob.length; i++) {
        const ch = glob[i];
        if (ch === "*") {
            re += ".*";
        } else if (ch === "?") {
            re += ".";
        } else if (ch === "[") {
            const end = glob.indexOf("]", i + 2);
            if (end < 0) {
                re += "\\[";
                continue;
            }
            let set = glob.substring(i + 1, end);
            const negate = set[0] === "!" || set[0] === "^";
            if (negate)
                set = set.substring(1);
            re += `[${negate ? "^" : ""}${set.replace(/[\\\]^]/g, "\\$&")}]`;
            i = end;
        } else {
            re += ch.replace(/[.+^${}()|\\/]/g, "\\$&");
        }
    }
    return new RegExp(`^${re}$`, "i");
}

export function isGlob(text) {
    return /[*?[]/.test(text);
}

// A predicate over tag names; empty text matches everything.
export function tagMatcher(text) {
    const t = String(text || "").trim();
    if (!t)
        return () => true;
    if (isGlob(t)) {
        const re = globToRegExp(t);
        return name => re.test(name);
    }
    const lower = t.toLowerCase();
    return name => name.toLowerCase().includes(lower);
}
