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

// Plural: catalogue value is an array [singular, plural] for German-like rules.
export function ngettext(singular, plural, n) {
    const t = catalog[singular];
    if (Array.isArray(t) && t.length >= 2)
        return (n === 1 ? t[0] : t[1]).replace("%d", n);
    return (n === 1 ? singular : plural).replace("%d", n);
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
