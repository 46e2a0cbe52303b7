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

// A glob as tokens: {kind: "char", ch} (lower case), {kind: "any"} for
// "?", {kind: "star"} for a run of "*", {kind: "set", negate, singles,
// ranges} for "[...]" ("[!...]" or "[^...]" negated; a "]" right after the
// "[" is one of the set). A "[" without its "]", and a set with a range out
// of order such as "[z-a]", are plain text: "[z-a]" matches only a name
// with those five characters. No regular expression is made of it.
export function parseGlob(glob) {
    const tokens = [];
    const chars = Array.from(String(glob));
    const literal = ch => tokens.push({ kind: "char", ch: ch.toLowerCase() });
    for (let i = 0; i < chars.length; i++) {
        const ch = chars[i];
        if (ch === "*") {
            if (!tokens.length || tokens[tokens.length - 1].kind !== "star")
                tokens.push({ kind: "star" });
        } else if (ch === "?") {
            tokens.push({ kind: "any" });
        } else if (ch === "[") {
            const set = parseSet(chars, i);
            if (!set) {
                literal(ch);
                continue;
            }
            tokens.push(set.token);
            i = set.end;
        } else {
            literal(ch);
        }
    }
    return tokens;
}

// The set that starts at chars[start] ("["): {token, end (the index of its
// "]")}, or null when it is no set (no "]", or a range out of order).
function parseSet(chars, start) {
    let i = start + 1;
    const negate = chars[i] === "!" || chars[i] === "^";
    if (negate)
        i++;
    const first = i;
    let end = -1;
    for (let j = first + 1; j < chars.length; j++) {
        if (chars[j] === "]") {
            end = j;
            break;
        }
    }
    if (end < 0)
        return null;
    const singles = new Set();
    const ranges = [];
    for (let j = first; j < end; j++) {
        if (j + 2 < end && chars[j + 1] === "-") {
            const lo = chars[j].codePointAt(0), hi = chars[j + 2].codePointAt(0);
            if (lo > hi)
                return null;
            ranges.push([lo, hi]);
            j += 2;
        } else {
            singles.add(chars[j]);
        }
    }
    return { token: { kind: "set", negate, singles, ranges }, end };
}

function inSet(token, ch) {
    const forms = [ch, ch.toUpperCase()];
    const hit = forms.some(c => token.singles.has(c) ||
                           token.ranges.some(([lo, hi]) => c.codePointAt(0) >= lo && c.codePointAt(0) <= hi));
    return hit !== token.negate;
}

function matchesOne(token, ch) {
    if (token.kind === "any")
        return true;
    if (token.kind === "char")
        return token.ch === ch;
    return inSet(token, ch);
}

// Whether the glob TOKENS (parseGlob()) match the whole of NAME, ignoring
// case: one pass over the name that goes back only to the last "*" seen,
// at most (name length + 1) × (tokens + 1) steps; STATS.steps counts them.
export function globMatches(tokens, name, stats = null) {
    const s = Array.from(String(name).toLowerCase());
    let p = 0, i = 0, starP = -1, starI = 0, steps = 0;
    while (i < s.length) {
        steps++;
        const t = tokens[p];
        if (t && t.kind !== "star" && matchesOne(t, s[i])) {
            p++;
            i++;
        } else if (t && t.kind === "star") {
            starP = p++;
            starI = i;
        } else if (starP >= 0) {
            p = starP + 1;
            i = ++starI;
        } else {
            break;
        }
    }
    while (p < tokens.length && tokens[p].kind === "star")
        p++;
    if (stats)
        stats.steps = (stats.steps || 0) + steps;
    return i >= s.length && p === tokens.length;
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
        const tokens = parseGlob(t);
        return name => globMatches(tokens, name);
    }
    const lower = t.toLowerCase();
    return name => name.toLowerCase().includes(lower);
}
