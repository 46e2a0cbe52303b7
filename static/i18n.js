// i18n.js: translations from po/<lang>.json (built from po/*.po), and
// locale-aware formatting. The language is the browser's first preference
// (navigator.languages mirrors Accept-Language) that has a catalogue.

let catalog = {};
let language = "en";

export async function init() {
    const wanted = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language || "en"];
    for (const tag of wanted) {
        const lang = tag.toLowerCase().split("-")[0];
        if (lang === "en")
            break;
        try {
            const r = await fetch(`po/${lang}.json`, { credentials: "same-origin" });
            if (r.ok) {
                catalog = await r.json();
                pluralIndex = null;
                language = tag;
                break;
            }
        } catch (e) {
            // no catalogue for that language: try the next
        }
    }
    document.documentElement.lang = language;
    translateDocument(document);
}

export function lang() {
    return language;
}

export function _(msgid) {
    const t = catalog[msgid];
    return (typeof t === "string" && t) ? t : msgid;
}

// Plural forms: a catalogue entry is an array of the language's forms
// (po2json.py), chosen by the po file's Plural-Forms expression, e.g.
// "nplurals=2; plural=(n != 1);". The expression is parsed here (the CSP
// allows no eval): C syntax with n, integers, ! * / % + - < > <= >= == !=
// && || ?: and parentheses. A malformed one falls back to English rules.
export function pluralFunction(header) {
    const m = /plural\s*=\s*([^;]+)/.exec(header || "");
    if (!m)
        return null;
    const tokens = m[1].match(/\d+|n|&&|\|\||[=!<>]=|[-+*/%!<>?:()]|\S/g) || [];
    let i = 0;
    const peek = () => tokens[i];
    const take = t => {
        if (tokens[i] !== t)
            throw new Error(`plural expression: expected ${t} at ${tokens[i]}`);
        i++;
    };
    const binary = (next, ops) => () => {
        let left = next();
        while (ops[peek()]) {
            const op = ops[tokens[i++]];
            const l = left, r = next();
            left = x => op(l(x), r(x));
        }
        return left;
    };
    let ternary = null;
    const primary = () => {
        const t = tokens[i++];
        if (t === "n")
            return x => x;
        if (/^\d+$/.test(t)) {
            const v = Number(t);
            return () => v;
        }
        if (t === "!") {
            const e = primary();
            return x => (e(x) ? 0 : 1);
        }
        if (t === "-") {
            const e = primary();
            return x => -e(x);
        }
        if (t === "(") {
            const e = ternary();
            take(")");
            return e;
        }
        throw new Error(`plural expression: unexpected ${t}`);
    };
    const b = v => (v ? 1 : 0);
    const mul = binary(primary, { "*": (a, c) => a * c, "/": (a, c) => Math.trunc(a / c), "%": (a, c) => a % c });
    const add = binary(mul, { "+": (a, c) => a + c, "-": (a, c) => a - c });
    const rel = binary(add, { "<": (a, c) => b(a < c), ">": (a, c) => b(a > c), "<=": (a, c) => b(a <= c), ">=": (a, c) => b(a >= c) });
    const eq = binary(rel, { "==": (a, c) => b(a === c), "!=": (a, c) => b(a !== c) });
    const and = binary(eq, { "&&": (a, c) => b(a && c) });
    const or = binary(and, { "||": (a, c) => b(a || c) });
    ternary = () => {
        const cond = or();
        if (peek() !== "?")
            return cond;
        i++;
        const yes = ternary();
        take(":");
        const no = ternary();
        return x => (cond(x) ? yes(x) : no(x));
    };
    try {
        const f = ternary();
        if (i !== tokens.length)
            throw new Error("plural expression: trailing tokens");
        return n => Number(f(n)) || 0;
    } catch (e) {
        return null;
    }
}

let pluralIndex = null;

// The form for N: the catalogue's (an array, one entry per plural form of
// the language), else English's. Returns the template; fill in {n} with
// format() or nformat().
export function ngettext(singular, plural, n) {
    const t = catalog[singular];
    if (Array.isArray(t) && t.length) {
        if (pluralIndex === null)
            pluralIndex = pluralFunction((catalog[""] || {})["plural-forms"]) || (x => (x === 1 ? 0 : 1));
        const form = t[Math.min(Math.max(pluralIndex(n), 0), t.length - 1)];
        if (form)
            return form;
    }
    return n === 1 ? singular : plural;
}

// ngettext, then format with {n} as a number in the UI's language.
export function nformat(singular, plural, n, values = {}) {
    return format(ngettext(singular, plural, n), { ...values, n: formatNumber(n) });
}

export function formatNumber(n) {
    return new Intl.NumberFormat(language).format(n);
}

// Substitute {name} placeholders after translation.
export function format(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
}

// Elements marked translate-text get their text translated in place.
export function translateDocument(root) {
    for (const node of root.querySelectorAll("[data-i18n]"))
        node.textContent = _(node.textContent.trim());
    for (const node of root.querySelectorAll("[data-i18n-placeholder]"))
        node.setAttribute("placeholder", _(node.getAttribute("placeholder")));
    for (const node of root.querySelectorAll("[data-i18n-title]"))
        node.setAttribute("title", _(node.getAttribute("title")));
}

export function formatDate(value) {
    if (!value)
        return "";
    const d = new Date(value);
    if (isNaN(d))
        return String(value);
    return new Intl.DateTimeFormat(language, { dateStyle: "medium", timeStyle: "short" }).format(d);
}

export function relativeTime(value) {
    if (!value)
        return "";
    const d = new Date(value);
    if (isNaN(d))
        return String(value);
    const seconds = (d.getTime() - Date.now()) / 1000;
    const rtf = new Intl.RelativeTimeFormat(language, { numeric: "auto" });
    const units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400],
                   ["hour", 3600], ["minute", 60], ["second", 1]];
    for (const [unit, size] of units) {
        if (Math.abs(seconds) >= size || unit === "second")
            return rtf.format(Math.round(seconds / size), unit);
    }
    return "";
}

export function formatSize(bytes) {
    if (bytes === null || bytes === undefined || isNaN(bytes))
        return "";
    const units = ["B", "kB", "MB", "GB", "TB"];
    let i = 0;
    let n = Number(bytes);
    while (n >= 1000 && i < units.length - 1) {
        n /= 1000;
        i++;
    }
    const nf = new Intl.NumberFormat(language, { maximumFractionDigits: i === 0 ? 0 : 1 });
    return `${nf.format(n)} ${units[i]}`;
}
