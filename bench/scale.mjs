// bench/scale.mjs: registries at real scale, measured as a user sees them
// (run through bench/scale; what it measures: bench/README.md).
//
// A real docker-registry (htpasswd) filled by tests/fixtures/registry-up
// (--tags: N tags pushed through the registry API; --repos: N repositories
// written into its storage), the real registry-console in registry mode and
// Debian's Chromium driven by playwright-core. Each run starts a fresh
// console (cold), visits the page, then visits it again in a new page of
// the same session (warm); medians of the runs are printed with the
// registry's own catalog walk as the peer.
//
// Everything listens on free loopback ports; every process started here is
// stopped at exit (registries with registry-down, the consoles by pid, the
// browser by playwright); nothing else is touched.

import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const srcdir = path.resolve(here, "..");
const builddir = path.resolve(process.env.top_builddir || path.join(srcdir, "_build"));
const F = path.join(srcdir, "tests", "fixtures");
const SERVER = process.env.RC_SERVER || path.join(builddir, "registry-console");
const STATIC = process.env.RC_STATIC_DIR || path.join(builddir, "static");
const TICK = 100;   // clock ticks per second in /proc/PID/stat (getconf CLK_TCK)
const PAGE = 4096;

const USAGE = `usage: bench/scale [--tags N] [--repos N] [--runs N] [--visits N] [--state DIR] [--timeout S]
  --tags N     a repository with N tags (default 10000; 0 skips)
  --repos N    a registry with N repositories (default 10000; 0 skips)
  --runs N     runs per figure, medians printed (default 3)
  --visits N   visits of the tag page per run (default 2: cold, warm; the
               server's RSS after each is printed)
  --state DIR  keep the filled registries in DIR and reuse them next time
  --timeout S  give up on one page visit after S seconds (default 1800)
  --json FILE  also write every figure as JSON`;

function parseArgs(argv) {
    const o = { tags: 10000, repos: 10000, runs: 3, visits: 2, state: null, timeout: 1800, json: null };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const v = () => {
            if (i + 1 >= argv.length)
                throw new Error(`${a} needs a value`);
            return argv[++i];
        };
        if (a === "--tags") o.tags = Number(v());
        else if (a === "--repos") o.repos = Number(v());
        else if (a === "--runs") o.runs = Number(v());
        else if (a === "--visits") o.visits = Number(v());
        else if (a === "--state") o.state = path.resolve(v());
        else if (a === "--timeout") o.timeout = Number(v());
        else if (a === "--json") o.json = path.resolve(v());
        else if (a === "-h" || a === "--help") {
            console.log(USAGE);
            process.exit(0);
        } else {
            throw new Error(`unknown argument ${a}\n${USAGE}`);
        }
    }
    for (const k of ["tags", "repos", "runs", "visits", "timeout"])
        if (!Number.isInteger(o[k]) || o[k] < 0)
            throw new Error(`--${k} wants a whole number`);
    if (o.runs < 1 || o.visits < 2)
        throw new Error("--runs wants at least 1, --visits at least 2");
    return o;
}

const log = (...a) => console.error("bench/scale:", ...a);

/* ---------------------------------------------------------- processes */

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rc-scale-"));
const children = new Set();     // console servers we spawned
const registries = new Set();   // registry-up dirs we started
let browser = null;
let artifacts = null;           // screenshots of visits that did not complete

async function cleanup() {
    if (browser) {
        await browser.close().catch(() => null);
        browser = null;
    }
    for (const c of children)
        await stopChild(c);
    for (const d of registries) {
        try {
            execFileSync(path.join(F, "registry-down"), [d], { stdio: "ignore" });
        } catch (e) { /* already down */ }
    }
    registries.clear();
    fs.rmSync(tmp, { recursive: true, force: true });
}

function stopChild(c) {
    children.delete(c);
    if (c.exitCode !== null || c.signalCode !== null)
        return Promise.resolve();
    return new Promise(resolve => {
        const timer = setTimeout(() => c.kill("SIGKILL"), 10000);
        c.once("exit", () => {
            clearTimeout(timer);
            resolve();
        });
        c.kill("SIGTERM");
    });
}

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => {
        log(`${sig}: stopping`);
        cleanup().finally(() => process.exit(130));
    });
}

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

function readEnv(file) {
    const out = {};
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        const m = /^([A-Z_]+)=(.*)$/.exec(line);
        if (m)
            out[m[1]] = m[2].replace(/^'(.*)'$/, "$1");
    }
    return out;
}

async function until(pred, seconds, what) {
    const end = Date.now() + seconds * 1000;
    let delay = 10;
    for (;;) {
        if (await pred())
            return;
        if (Date.now() > end)
            throw new Error(`${what}: not ready within ${seconds} s`);
        await new Promise(r => setTimeout(r, delay));   // poll interval, with a deadline
        delay = Math.min(delay * 2, 200);
    }
}

function get(url, { headers = {}, agent } = {}) {
    return new Promise((resolve, reject) => {
        const mod = url.startsWith("https:") ? https : http;
        const req = mod.get(url, { headers, agent, rejectUnauthorized: false }, res => {
            const chunks = [];
            res.on("data", c => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode, headers: res.headers,
                                          body: Buffer.concat(chunks).toString("utf8") }));
        });
        req.on("error", reject);
        req.setTimeout(600000, () => req.destroy(new Error(`${url}: timed out`)));
    });
}

/* ---------------------------------------------------------- /proc */

// /proc/PID/stat: {comm, ppid, cpu (utime + stime, s), rss (bytes)};
// throws when the process is gone.
function readStat(pid) {
    const s = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    // f[0] is field 3 (state): ppid = field 4, utime = 14, stime = 15, rss = 24
    return { comm: s.slice(s.indexOf("(") + 1, s.lastIndexOf(")")), ppid: f[1],
             cpu: (Number(f[11]) + Number(f[12])) / TICK, rss: Number(f[21]) * PAGE };
}

function procStat(pid) {
    try {
        const { cpu, rss } = readStat(pid);
        const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
        const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
        let fds = 0;
        try {
            fds = fs.readdirSync(`/proc/${pid}/fd`).length;
        } catch (e) { /* not ours to read */ }
        return { cpu, rss,
                 hwm: hwm ? Number(hwm[1]) * 1024 : 0, fds };
    } catch (e) {
        return null;
    }
}

// CPU seconds of each Chromium process started by this script (pid → s):
// the browser is on the same cores as the registry, so what it spends on a
// view the registry does not get.
function browserCpu() {
    const stats = new Map();
    for (const pid of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(pid))
            continue;
        try {
            stats.set(pid, readStat(pid));
        } catch (e) { /* gone, or not ours to read */ }
    }
    const out = new Map();
    for (const [pid, st] of stats) {
        if (!/chrom/i.test(st.comm))
            continue;
        for (let p = st.ppid; stats.has(p); p = stats.get(p).ppid)
            if (p === String(process.pid)) {
                out.set(pid, st.cpu);
                break;
            }
    }
    return out;
}

function cpuSince(before, after) {
    let sum = 0;
    for (const [pid, s] of after)
        sum += s - (before.get(pid) || 0);
    return sum;
}

// Samples a process every 100 ms: peak RSS and open descriptors.
function sampler(pid) {
    const peak = { rss: 0, fds: 0 };
    const t = setInterval(() => {
        const s = procStat(pid);
        if (s) {
            peak.rss = Math.max(peak.rss, s.rss);
            peak.fds = Math.max(peak.fds, s.fds);
        }
    }, 100);
    return { peak, stop: () => clearInterval(t) };
}

/* ---------------------------------------------------------- registry */

// Requests in the registry's access log since byte OFFSET, by kind.
function registryRequests(logfile, offset) {
    const fd = fs.openSync(logfile, "r");
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - offset));
    fs.readSync(fd, buf, 0, buf.length, offset);
    fs.closeSync(fd);
    const counts = { total: 0, catalog: 0, tags: 0, manifests: 0, blobs: 0, other: 0, status401: 0 };
    for (const line of buf.toString("utf8").split("\n")) {
        const m = /"(GET|HEAD|PUT|POST|PATCH|DELETE) (\/v2\/\S*) HTTP\/[\d.]+" (\d+)/.exec(line);
        if (!m)
            continue;
        counts.total++;
        const p = m[2];
        if (m[3] === "401")
            counts.status401++;
        if (p.startsWith("/v2/_catalog")) counts.catalog++;
        else if (/\/tags\/list/.test(p)) counts.tags++;
        else if (/\/manifests\//.test(p)) counts.manifests++;
        else if (/\/blobs\//.test(p)) counts.blobs++;
        else counts.other++;
    }
    return { counts, end: size };
}

function logSize(file) {
    try {
        return fs.statSync(file).size;
    } catch (e) {
        return 0;
    }
}

// registry-up DIR with ARGS unless DIR holds a registry filled the same way.
function registryUp(dir, args, what) {
    const marker = path.join(dir, "filled");
    const want = JSON.stringify(args);
    let reuse = false;
    try {
        reuse = fs.readFileSync(marker, "utf8") === want;
    } catch (e) { /* first time */ }
    if (!reuse)
        fs.rmSync(dir, { recursive: true, force: true });
    else
        fs.rmSync(path.join(dir, "registry.log"), { force: true });   // ~25 MB a visit of 10,000 tags
    fs.mkdirSync(dir, { recursive: true });
    const t0 = Date.now();
    log(`${reuse ? "starting the filled" : "starting and filling a"} registry for ${what} in ${dir}`);
    registries.add(dir);
    execFileSync(path.join(F, "registry-up"), ["--htpasswd", "--quiet", ...(reuse ? ["--empty"] : args), dir],
                 { stdio: ["ignore", "ignore", "inherit"] });
    if (!reuse)
        fs.writeFileSync(marker, want);
    log(`registry ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return readEnv(path.join(dir, "env"));
}

// The registry's own catalog walk: GET /v2/_catalog?n=1000 following Link.
async function catalogWalk(env) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const headers = { Authorization: "Basic " + Buffer.from(`${env.REGISTRY_USER}:${env.REGISTRY_PASSWORD}`).toString("base64") };
    const t0 = performance.now();
    let next = "/v2/_catalog?n=1000";
    let names = 0, pages = 0, last = null;
    while (next) {
        const r = await get(env.REGISTRY_URL + next, { headers, agent });
        if (r.status !== 200)
            throw new Error(`catalog walk: ${next}: ${r.status}`);
        const page = JSON.parse(r.body).repositories || [];
        names += page.length;
        last = page.length ? page[page.length - 1] : last;
        pages++;
        const m = /<([^>]+)>;\s*rel="next"/.exec(r.headers.link || "");
        next = m ? (m[1].startsWith("/") ? m[1] : new URL(m[1]).pathname + new URL(m[1]).search) : null;
    }
    agent.destroy();
    return { seconds: (performance.now() - t0) / 1000, names, pages, last };
}

// The peer of the tag page: what any client must ask the registry for every
// tag's digest, created time and size, done straight and as fast as the
// registry answers it: tags/list, every tag's manifest (an index's platform
// manifests too, each digest once) and every distinct config blob, CONCURRENCY
// requests at once (the console's default RegistryConcurrency) on keep-alive
// connections, with the same Basic credentials (an htpasswd registry checks
// them on every request).
async function tagsWalk(env, repo, concurrency = 8) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const auth = "Basic " + Buffer.from(`${env.REGISTRY_USER}:${env.REGISTRY_PASSWORD}`).toString("base64");
    const accept = ["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json",
                    "application/vnd.docker.distribution.manifest.v2+json"].join(", ");
    const t0 = performance.now();
    let requests = 0;
    const fetchOk = async (p, headers = {}) => {
        requests++;
        const r = await get(env.REGISTRY_URL + p, { headers: { Authorization: auth, ...headers }, agent });
        if (r.status !== 200)
            throw new Error(`tags walk: ${p}: ${r.status}`);
        return r;
    };
    const tags = JSON.parse((await fetchOk(`/v2/${repo}/tags/list`)).body).tags || [];
    const queue = tags.map(t => ["manifest", t]);
    const seen = new Set();
    const work = async () => {
        for (let job; (job = queue.shift());) {
            const [kind, ref] = job;
            if (kind === "config") {
                await fetchOk(`/v2/${repo}/blobs/${ref}`);
                continue;
            }
            const m = JSON.parse((await fetchOk(`/v2/${repo}/manifests/${ref}`, { Accept: accept })).body);
            for (const p of m.manifests || [])
                if (!seen.has(p.digest) && seen.add(p.digest))
                    queue.push(["manifest", p.digest]);
            if (m.config && !seen.has(m.config.digest) && seen.add(m.config.digest))
                queue.push(["config", m.config.digest]);
        }
    };
    // workers pick up what the others queue until nothing is left
    let active = [];
    while (queue.length) {
        active = Array.from({ length: concurrency }, work);
        await Promise.all(active);
    }
    agent.destroy();
    return { seconds: (performance.now() - t0) / 1000, tags: tags.length, requests };
}

/* ---------------------------------------------------------- console */

async function startConsole(registryUrl, name) {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(tmp, `console-${name}-`));
    const logfile = path.join(dir, "server.log");
    const out = fs.openSync(logfile, "w");
    const env = { ...process.env, REGISTRY_URL: registryUrl, REGISTRY_HOST: "registry.example.com:5000",
                  G_MESSAGES_DEBUG: "" };
    delete env.KUBERNETES_SERVICE_HOST;
    const c = spawn(SERVER, ["--port", String(port), "--address", "127.0.0.1",
                             "--cert-dir", path.join(dir, "certs"), "--static-dir", STATIC,
                             "--session-key-file", path.join(dir, "session.key"),
                             "--config", path.join(dir, "none.conf")],
                    { env, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    children.add(c);
    const url = `https://127.0.0.1:${port}`;
    await until(async () => {
        if (c.exitCode !== null)
            throw new Error(`registry-console exited: ${fs.readFileSync(logfile, "utf8").slice(-2000)}`);
        try {
            return (await get(`${url}/ping`)).status === 200;
        } catch (e) {
            return false;
        }
    }, 30, "registry-console");
    return { proc: c, pid: c.pid, url, logfile };
}

// Installed in every page before its scripts: records, against the page's
// own clock (ms since navigation start), when the DOM first satisfies each
// condition of the view under test.
function probe(spec) {
    const b = window.__bench = { marks: {}, stats: null };
    const mark = (k) => {
        if (b.marks[k] === undefined)
            b.marks[k] = performance.now();
    };
    const digits = (s) => (s || "").replace(/[^\d]/g, "");
    function check() {
        if (spec.view === "tags" && document.querySelector("table.taglist")) {
            // the tag page that draws only the rows on screen: the first
            // rows, names then created and size; every tag read when its
            // progress is gone and its summary counts every blob
            const rows = [...document.querySelectorAll("#tags tbody tr[data-key]")];
            const first = rows.slice(0, Math.min(50, spec.expected));
            if (first.length >= Math.min(50, spec.expected)) {
                mark("first50");
                if (first.every(r => r.querySelector("td.created").textContent.trim() &&
                                     r.querySelector("td.size").textContent.trim()))
                    mark("first50Sized");
            }
            const progress = document.querySelector("#tag-progress");
            const summary = (document.querySelector("#tag-summary") || {}).textContent || "";
            const tags = Number((/^([\d,]+) tags? · /.exec(summary) || [0, "0"])[1].replace(/,/g, ""));
            if (tags >= spec.expected)
                mark("allRows");
            if (progress && progress.hidden && tags >= spec.expected && / stored /.test(summary) &&
                !/ at least /.test(summary)) {
                mark("allCreated");
                mark("allSized");
                mark("complete");
            }
            b.stats = { rows: rows.length, tags, summary };
        } else if (spec.view === "tags") {
            const rows = document.querySelectorAll("#tags tbody tr");
            if (rows.length >= Math.min(50, spec.expected))
                mark("first50");
            const firstRows = [...rows].slice(0, Math.min(50, spec.expected));
            if (firstRows.length >= Math.min(50, spec.expected) &&
                firstRows.every(r => r.cells[0].querySelector(".badge") ||
                                     (r.cells[2].textContent.trim() && r.cells[3].textContent.trim())))
                mark("first50Sized");
            if (rows.length >= spec.expected) {
                mark("allRows");
                let created = 0, size = 0, index = 0, failed = 0;
                for (const r of rows) {
                    const c = r.cells;
                    if (c[0] && c[0].querySelector(".badge")) {
                        index++;
                        continue;
                    }
                    if (c[1] && c[1].querySelector(".muted"))
                        failed++;
                    if (c[2] && c[2].textContent.trim())
                        created++;
                    if (c[3] && c[3].textContent.trim())
                        size++;
                }
                b.stats = { rows: rows.length, created, size, index, failed };
                if (created + index === rows.length)
                    mark("allCreated");
                if (size + index === rows.length)
                    mark("allSized");
                if (created + index === rows.length && size + index === rows.length)
                    mark("complete");
            }
        } else {
            if (document.querySelector("#stream-list .row .name"))
                mark("firstNames");
            const count = document.querySelector("#stream-count");
            if (count && digits(count.textContent) === String(spec.expected))
                mark("allListed");
            b.stats = { rows: document.querySelectorAll("#stream-list .row").length,
                        count: count ? count.textContent : null };
            if (b.marks.allListed !== undefined)
                mark("complete");
        }
    }
    let pending = false;
    new MutationObserver(() => {
        if (!pending) {
            pending = true;
            queueMicrotask(() => {
                pending = false;
                check();
            });
        }
    }).observe(document, { childList: true, subtree: true, characterData: true });
}

// In the page, once the catalog is listed: type FILTER.text into the
// filter and mark "filtered" when the count shows FILTER.expected matches
// and that many rows are there; "filterTook" is the time from typing.
function filterProbe(filter) {
    const b = window.__bench;
    const input = document.querySelector("#filter-text");
    const t0 = performance.now();
    input.value = filter.text;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    return new Promise((resolve, reject) => {
        const check = () => {
            const count = document.querySelector("#stream-count");
            const digits = (count ? count.textContent : "").replace(/[^\d]/g, "");
            if (digits === String(filter.expected) &&
                document.querySelectorAll("#stream-list .row").length === filter.expected) {
                b.marks.filtered = performance.now();
                b.marks.filterTook = b.marks.filtered - t0;
                resolve();
            } else if (performance.now() - t0 > 60000) {
                reject(new Error("the filter did not show its match within 60 s"));
            } else {
                requestAnimationFrame(check);
            }
        };
        check();
    });
}

// Counts the page's WebSocket frames: totals, the busiest second, the most
// channels open at once (open sent, close received), channels closed with a
// problem (by problem), and when the page last exchanged anything but
// ping/pong.
function watchSocket(page) {
    const s = { sent: 0, received: 0, bytesSent: 0, bytesReceived: 0, peakPerSecond: 0,
                opened: 0, closed: 0, open: 0, peakOpen: 0, problems: {}, last: Date.now(),
                socketClosed: false };
    const perSecond = new Map();
    const bump = (p) => {
        const sec = Math.floor(Date.now() / 1000);
        const n = (perSecond.get(sec) || 0) + 1;
        perSecond.set(sec, n);
        s.peakPerSecond = Math.max(s.peakPerSecond, n);
        if (!(p.startsWith("\n") && /"command":"(ping|pong)"/.test(p)))
            s.last = Date.now();
    };
    const text = (f) => (typeof f.payload === "string" ? f.payload : f.payload.toString("utf8"));
    page.on("websocket", ws => {
        ws.on("close", () => {
            s.socketClosed = true;
        });
        ws.on("framesent", f => {
            const p = text(f);
            s.sent++;
            s.bytesSent += Buffer.byteLength(p);
            bump(p);
            if (p.startsWith("\n") && p.includes('"command":"open"')) {
                s.opened++;
                s.open++;
                s.peakOpen = Math.max(s.peakOpen, s.open);
            }
        });
        ws.on("framereceived", f => {
            const p = text(f);
            s.received++;
            s.bytesReceived += Buffer.byteLength(p);
            bump(p);
            if (p.startsWith("\n") && p.includes('"command":"close"') && p.includes('"channel"')) {
                s.open = Math.max(0, s.open - 1);
                s.closed++;
                const m = /"problem":"([^"]+)"/.exec(p);
                if (m)
                    s.problems[m[1]] = (s.problems[m[1]] || 0) + 1;
            }
        });
    });
    return s;
}

// After a visit (not timed): the tag page draws only the rows on screen, so
// scroll through all of it and count what every row shows (null for the
// page that draws every row: the probe counted those).
function everyRow(page) {
    return page.evaluate(async () => {
        const v = document.querySelector("#tags");
        if (!v || !document.querySelector("table.taglist"))
            return {};
        const seen = new Map();
        for (v.scrollTop = 0; ; v.scrollTop += Math.max(40, v.clientHeight - 80)) {
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
            for (const tr of v.querySelectorAll("tbody tr[data-key]"))
                seen.set(tr.dataset.key, {
                    tags: tr.dataset.tags.split(" ").length,
                    created: !!tr.querySelector("td.created").textContent.trim(),
                    size: !!tr.querySelector("td.size").textContent.trim(),
                    failed: !!tr.querySelector(".tag-error") || !!tr.querySelector(".pending"),
                });
            if (v.scrollTop + v.clientHeight >= v.scrollHeight - 1)
                break;
        }
        const rows = [...seen.values()];
        const count = f => rows.filter(f).reduce((a, r) => a + r.tags, 0);
        return { images: rows.length, tagsSeen: count(() => true), created: count(r => r.created),
                 size: count(r => r.size), failed: count(r => r.failed) };
    });
}

async function login(context, url, env, user = null) {
    const page = await context.newPage();
    await page.goto(`${url}/`);
    const status = await page.evaluate(async ([u, p]) => {
        const r = await fetch("/cockpit/login", { method: "POST", credentials: "same-origin",
                                                   headers: { Authorization: `Basic ${btoa(`${u}:${p}`)}` } });
        return r.status;
    }, user || [env.REGISTRY_USER, env.REGISTRY_PASSWORD]);
    await page.close();
    if (status !== 200)
        throw new Error(`login to the console: ${status}`);
}

// RC_BENCH_PROFILE=FILE: the page's JavaScript of every visit is profiled
// (Chromium's sampling profiler); the functions that took most of it are
// printed, and the whole profile written to FILE-VIEW-N.cpuprofile (open it
// in Chromium's DevTools).
let profiles = 0;
async function startProfile(page) {
    if (!process.env.RC_BENCH_PROFILE)
        return null;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 1000 });
    await cdp.send("Profiler.start");
    return cdp;
}

async function stopProfile(cdp, view) {
    if (!cdp)
        return;
    const { profile } = await cdp.send("Profiler.stop");
    const file = `${process.env.RC_BENCH_PROFILE}-${view}-${++profiles}.cpuprofile`;
    fs.writeFileSync(file, JSON.stringify(profile));
    // self time per function: samples × the interval between them
    const self = new Map();
    const byId = new Map(profile.nodes.map(n => [n.id, n]));
    for (let i = 0; i < profile.samples.length; i++) {
        const n = byId.get(profile.samples[i]);
        const f = n.callFrame;
        const key = `${f.functionName || "(anonymous)"} ${path.basename(f.url || "")}:${f.lineNumber + 1}`;
        self.set(key, (self.get(key) || 0) + (profile.timeDeltas[i] || 0));
    }
    const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 15);
    log(`profile of the ${view} visit (${file}), self time:`);
    for (const [k, us] of top)
        log(`  ${(us / 1e6).toFixed(2)} s  ${k}`);
}

// One visit: a new page of CONTEXT at HASH, until the view's conditions hold
// (or the UI has gone quiet without them, or the timeout).
async function visit(context, con, registry, hash, spec, timeout) {
    const page = await context.newPage();
    const problems = [];
    page.on("pageerror", e => problems.push(String(e)));
    await page.addInitScript(probe, spec);
    const sock = watchSocket(page);
    const profiler = await startProfile(page);
    const before = procStat(con.pid);
    const regBefore = procStat(registry.pid);
    const browserBefore = browserCpu();
    const logOffset = logSize(registry.log);
    const samp = sampler(con.pid);
    const t0 = Date.now();
    await page.goto(`${con.url}/${hash}`);
    let outcome = "complete";
    for (;;) {
        const state = await page.evaluate(() => window.__bench).catch(() => null);
        if (state && state.marks.complete !== undefined)
            break;
        if (Date.now() - t0 > timeout * 1000) {
            outcome = "timeout";
            break;
        }
        // the page stopped talking (pings aside) and the view is not complete
        if (Date.now() - sock.last > 60000 || sock.socketClosed) {
            outcome = sock.socketClosed ? "socket closed" : "incomplete (page idle 60 s)";
            break;
        }
        await new Promise(r => setTimeout(r, 250));   // poll interval; the page keeps its own times
    }
    // (what the page spent on the view, not on the checks below)
    const browserSpent = cpuSince(browserBefore, browserCpu());
    await stopProfile(profiler, spec.view);
    // the catalog listed: how long a filter takes to show its matches
    // (spec.filter: {text, expected}), from typing it to the list showing it
    if (outcome === "complete" && spec.filter)
        await page.evaluate(filterProbe, spec.filter).catch(e => problems.push(`filter: ${e}`));
    const state = await page.evaluate(() => window.__bench).catch(() => ({ marks: {}, stats: null }));
    if (spec.view === "tags" && outcome === "complete")
        state.stats = { ...state.stats, ...(await everyRow(page).catch(e => ({ error: String(e) }))) };
    const banner = await page.evaluate(() => {
        const b = document.querySelector("#banner");
        return b && !b.hidden ? b.textContent : "";
    }).catch(() => "");
    if (outcome !== "complete" && artifacts)
        await page.screenshot({ path: path.join(artifacts, `${spec.view}-${Date.now()}.png`) }).catch(() => null);
    samp.stop();
    const after = procStat(con.pid);
    const regAfter = procStat(registry.pid);
    const reqs = registryRequests(registry.log, logOffset);
    await page.close();
    const ms = (k) => (state.marks[k] === undefined ? null : state.marks[k] / 1000);
    return {
        outcome, problems, banner, marks: Object.fromEntries(Object.keys(state.marks).map(k => [k, ms(k)])),
        stats: state.stats, upstream: reqs.counts,
        socket: { sent: sock.sent, received: sock.received, bytesSent: sock.bytesSent,
                  bytesReceived: sock.bytesReceived, peakPerSecond: sock.peakPerSecond,
                  peakOpenChannels: sock.peakOpen, opened: sock.opened, closed: sock.closed,
                  neverClosed: sock.opened - sock.closed, problems: sock.problems },
        server: { cpu: after && before ? after.cpu - before.cpu : null, rssBefore: before && before.rss,
                  rssAfter: after && after.rss, rssPeak: Math.max(samp.peak.rss, after ? after.rss : 0),
                  hwm: after && after.hwm, fdsPeak: samp.peak.fds },
        registryCpu: regAfter && regBefore ? regAfter.cpu - regBefore.cpu : null,
        browserCpu: browserSpent,
    };
}

/* ---------------------------------------------------------- figures */

function median(xs) {
    const v = xs.filter(x => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
    if (!v.length)
        return null;
    const m = Math.floor(v.length / 2);
    return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

const pick = (runs, f) => median(runs.map(r => {
    try {
        return f(r);
    } catch (e) {
        return null;
    }
}));
const sec = (x) => (x === null ? "—" : x === Infinity ? "never" : x < 10 ? x.toFixed(2) + " s" : x.toFixed(1) + " s");
// a DOM condition not met in a run counts as never (so the median is "never"
// when it failed in most runs, not the figure of the one run that made it)
const mark = (k) => (r) => (r.marks[k] === undefined || r.marks[k] === null ? Infinity : r.marks[k]);
const mib = (x) => (x === null || x === undefined ? "—" : (x / 1048576).toFixed(1) + " MiB");
const num = (x) => (x === null || x === undefined ? "—" : String(Math.round(x)));
const ratio = (a, b) => (a === null || b === null || !b || a === Infinity ? "—" : (a / b).toFixed(2) + "x");

function table(title, rows) {
    const w0 = Math.max(...rows.map(r => r[0].length));
    const widths = [1, 2, 3].map(i => Math.max(...rows.map(r => (r[i] || "").length)));
    console.log(`\n== ${title}; load average ${os.loadavg().map(x => x.toFixed(1)).join(" ")}`);
    for (const r of rows)
        console.log("  " + r[0].padEnd(w0) + "  " + [1, 2, 3].map(i => (r[i] || "").padStart(widths[i - 1])).join("  "));
}

// Rows of figures for the visits COLD, WARM and (optional) OTHER: the third
// column is OTHER's when given.
function visitRows(label, cold, warm, extra = [], other = null) {
    const both = (f, fmt) => [fmt(pick(cold, f)), fmt(pick(warm, f)), other ? fmt(pick(other, f)) : ""];
    return [
        [label, "cold", "warm", other ? "other user" : ""],
        ...extra.map(([name, f, fmt]) => [name, ...both(f, fmt)]),
        ["registry requests (access log)", ...both(r => r.upstream.total, num)],
        ...[["tags", "tags/list"], ["manifests", "manifests"], ["blobs", "blobs"], ["catalog", "_catalog"]]
            .map(([k, name]) => [`  ${name}`, ...both(r => r.upstream[k], num)]),
        ["registry CPU", ...both(r => r.registryCpu, sec)],
        ["socket frames sent by the page", ...both(r => r.socket.sent, num)],
        ["socket frames received by the page", ...both(r => r.socket.received, num)],
        ["socket frames in the busiest second", ...both(r => r.socket.peakPerSecond, num)],
        ["channels opened", ...both(r => r.socket.opened, num)],
        ["channels open at once (peak)", ...both(r => r.socket.peakOpenChannels, num)],
        ["channels closed with a problem", ...both(r => Object.values(r.socket.problems).reduce((a, b) => a + b, 0), num)],
        ["channels not closed when measured", ...both(r => r.socket.neverClosed, num)],
        ["server CPU", ...both(r => r.server.cpu, sec)],
        ["browser CPU (Chromium, every process)", ...both(r => r.browserCpu, sec)],
        ["server RSS before", ...both(r => r.server.rssBefore, mib)],
        ["server RSS after", ...both(r => r.server.rssAfter, mib)],
        ["server RSS peak (sampled)", ...both(r => r.server.rssPeak, mib)],
        ["server open descriptors (peak)", ...both(r => r.server.fdsPeak, num)],
    ];
}

/* ---------------------------------------------------------- main */

async function benchTags(o, results) {
    const repo = "scale/many-tags";
    const dir = path.join(o.state || tmp, `tags-${o.tags}`);
    // the repository --tags pushes through the registry's API, written into
    // its storage instead (the same tags, manifests and blobs; seconds
    // instead of minutes)
    const env = registryUp(dir, ["--empty", "--write-tags", `${repo}:${o.tags}`], `${o.tags} tags`);
    const registry = { pid: Number(env.REGISTRY_PID), log: path.join(dir, "registry.log") };
    const tagList = await get(`${env.REGISTRY_URL}/v2/${repo}/tags/list`, {
        headers: { Authorization: "Basic " + Buffer.from(`${env.REGISTRY_USER}:${env.REGISTRY_PASSWORD}`).toString("base64") } });
    const expected = JSON.parse(tagList.body).tags.length;
    const spec = { view: "tags", expected };
    const cold = [], warm = [], other = [], rssSeries = [];
    // a tall window: the first 50 rows are on screen (a page that draws only
    // what is on screen draws them)
    const viewport = { width: 1280, height: 2400 };
    const walks = [];
    for (let run = 1; run <= o.runs; run++) {
        const w = await tagsWalk(env, repo);
        walks.push(w);
        log(`tags run ${run}: the registry's own fetch of every manifest and config ${sec(w.seconds)} ` +
            `(${w.tags} tags, ${w.requests} requests, 8 at once)`);
        const con = await startConsole(env.REGISTRY_URL, `tags${run}`);
        const fresh = procStat(con.pid);
        const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport });
        await login(context, con.url, env);
        const later = [];
        const visits = [["cold", cold], ["warm", warm]];
        for (let v = 3; v <= o.visits; v++)
            visits.push([`visit ${v}`, later]);
        for (const [label, list] of visits) {
            const r = await visit(context, con, registry, `#/images/scale/many-tags`, spec, o.timeout);
            r.server.rssFresh = fresh.rss;
            list.push(r);
            log(`tags run ${run} ${label}: ${r.outcome}, first 50 rows ${sec(r.marks.first50 ?? null)}, ` +
                `complete ${sec(r.marks.complete ?? null)}, ${JSON.stringify(r.stats)}, ` +
                `${r.upstream.total} registry requests, channel problems ${JSON.stringify(r.socket.problems)}, ` +
                `${r.socket.neverClosed} channels not closed, RSS ${mib(r.server.rssAfter)}` +
                (r.banner ? `, banner "${r.banner}"` : "") +
                (r.problems.length ? `, page errors: ${r.problems.slice(0, 3).join("; ")}` : ""));
        }
        rssSeries.push([fresh.rss, ...[cold.at(-1), warm.at(-1), ...later].map(r => r.server.rssAfter)]);
        await context.close();
        // another user of the same console (the registry's reader): the
        // cache is shared, the tag → digest memo is not
        const second = await browser.newContext({ ignoreHTTPSErrors: true, viewport });
        await login(second, con.url, env, [env.REGISTRY_READER_USER, env.REGISTRY_READER_PASSWORD]);
        const r = await visit(second, con, registry, `#/images/scale/many-tags`, spec, o.timeout);
        other.push(r);
        log(`tags run ${run} other user: ${r.outcome}, first 50 rows ${sec(r.marks.first50 ?? null)}, ` +
            `complete ${sec(r.marks.complete ?? null)}, ${JSON.stringify(r.stats)}, ${r.upstream.total} registry requests`);
        await second.close();
        await stopChild(con.proc);
    }
    results.tags = { repo, expected, walks, cold, warm, other, rssSeries };
    const walk = median(walks.map(w => w.seconds));
    const statRow = (r) => !r.stats ? "no rows"
        : r.stats.tagsSeen !== undefined
            ? `${r.stats.tagsSeen} tags in ${r.stats.images} rows, ${r.stats.created} with created, ${r.stats.size} with size, ${r.stats.failed} failed or unread`
            : `${r.stats.rows} rows, ${r.stats.created} created, ${r.stats.size} size, ${r.stats.index} index, ${r.stats.failed} failed`;
    const rows = visitRows("", cold, warm, [
        ["first 50 tag rows on screen", mark("first50"), sec],
        ["first 50 rows with created and size", mark("first50Sized"), sec],
        ["all tags listed", mark("allRows"), sec],
        ["complete (every tag, created and size)", mark("complete"), sec],
    ], other);
    // the peer, and the complete view as a multiple of it
    rows.splice(1, 0, ["registry's own fetch of every manifest and config", sec(walk), sec(walk), sec(walk)]);
    rows.splice(6, 0, ["complete / registry's own fetch", ratio(pick(cold, mark("complete")), walk),
                       ratio(pick(warm, mark("complete")), walk), ratio(pick(other, mark("complete")), walk)]);
    table(`${expected}-tag repository ${repo} (median of ${o.runs})`, rows);
    console.log(`  registry's own fetches: ${walks.map(w => `${sec(w.seconds)} (${w.requests} requests)`).join(", ")}`);
    console.log(`  outcome cold: ${cold.map(r => r.outcome).join(", ")}; warm: ${warm.map(r => r.outcome).join(", ")}; ` +
                `other user: ${other.map(r => r.outcome).join(", ")}`);
    console.log(`  rows seen cold: ${cold.map(statRow).join(" | ")}`);
    console.log(`  rows seen warm: ${warm.map(statRow).join(" | ")}`);
    console.log(`  rows seen other user: ${other.map(statRow).join(" | ")}`);
    for (const [i, series] of rssSeries.entries())
        console.log(`  run ${i + 1}: server RSS fresh, then after each visit: ${series.map(mib).join(", ")}`);
    console.log(`  channel problems cold: ${cold.map(r => JSON.stringify(r.socket.problems)).join(" ")}; ` +
                `warm: ${warm.map(r => JSON.stringify(r.socket.problems)).join(" ")}`);
}

async function benchRepos(o, results) {
    const dir = path.join(o.state || tmp, `repos-${o.repos}`);
    const env = registryUp(dir, ["--empty", "--repos", String(o.repos)], `${o.repos} repositories`);
    const registry = { pid: Number(env.REGISTRY_PID), log: path.join(dir, "registry.log") };
    const spec = { view: "catalog", expected: o.repos };
    const walks = [], cold = [], warm = [], other = [];
    for (let run = 1; run <= o.runs; run++) {
        const w = await catalogWalk(env);
        walks.push(w);
        log(`catalog run ${run}: registry walk ${sec(w.seconds)} (${w.names} names, ${w.pages} pages)`);
        const con = await startConsole(env.REGISTRY_URL, `repos${run}`);
        const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
        await login(context, con.url, env);
        for (const [label, list] of [["cold", cold], ["warm", warm]]) {
            const r = await visit(context, con, registry, "#/images", spec, o.timeout);
            list.push(r);
            log(`catalog run ${run} ${label}: ${r.outcome}, first names ${sec(r.marks.firstNames ?? null)}, ` +
                `all listed ${sec(r.marks.allListed ?? null)}, ${r.upstream.total} registry requests, ` +
                `RSS ${mib(r.server.rssAfter)}` + (r.problems.length ? `, page errors: ${r.problems.slice(0, 3).join("; ")}` : ""));
        }
        await context.close();
        // a later view by another user (the registry's reader) in a browser
        // of its own: the catalog the server keeps, then a filter for the
        // last name of the catalog
        if (env.REGISTRY_READER_USER) {
            const ctx2 = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
            await login(ctx2, con.url, { ...env, REGISTRY_USER: env.REGISTRY_READER_USER,
                                         REGISTRY_PASSWORD: env.REGISTRY_READER_PASSWORD });
            const r = await visit(ctx2, con, registry, "#/images",
                                  { ...spec, filter: { text: w.last, expected: 1 } }, o.timeout);
            other.push(r);
            log(`catalog run ${run} another user: ${r.outcome}, first names ${sec(r.marks.firstNames ?? null)}, ` +
                `all listed ${sec(r.marks.allListed ?? null)}, filter shown after ${sec(r.marks.filterTook ?? null)}, ` +
                `${r.upstream.total} registry requests` + (r.problems.length ? `, page errors: ${r.problems.slice(0, 3).join("; ")}` : ""));
            await ctx2.close();
        }
        await stopChild(con.proc);
    }
    results.repos = { expected: o.repos, walks, cold, warm, other };
    const walk = median(walks.map(w => w.seconds));
    const rows = visitRows("", cold, warm, [
        ["first names on screen", mark("firstNames"), sec],
        ["all listed (#stream-count)", mark("allListed"), sec],
    ]);
    rows.splice(1, 0, ["registry's own catalog walk (n=1000 pages)", sec(walk), sec(walk), ""]);
    rows.splice(4, 0,
                ["first names / registry walk", ratio(pick(cold, mark("firstNames")), walk),
                 ratio(pick(warm, mark("firstNames")), walk), ""],
                ["all listed / registry walk", ratio(pick(cold, mark("allListed")), walk),
                 ratio(pick(warm, mark("allListed")), walk), ""]);
    if (other.length) {
        // the third column: a later view by another user
        rows[0][3] = "other user";
        const third = { "first names on screen": mark("firstNames"), "all listed (#stream-count)": mark("allListed") };
        for (const r of rows)
            if (third[r[0]])
                r[3] = sec(pick(other, third[r[0]]));
        rows.push(["other user: filter for one name shown after", "", "", sec(pick(other, mark("filterTook")))],
                  ["other user: all listed + filter shown", "", "",
                   sec(pick(other, r => mark("allListed")(r) + mark("filterTook")(r)))],
                  ["other user: registry requests", "", "", num(pick(other, r => r.upstream.total))],
                  ["other user: all listed / registry walk", "", "", ratio(pick(other, mark("allListed")), walk)]);
    }
    table(`${o.repos}-repository catalog (median of ${o.runs})`, rows);
    console.log(`  registry walks: ${walks.map(w => sec(w.seconds)).join(", ")}`);
    if (other.length)
        console.log(`  outcome other user: ${other.map(r => r.outcome).join(", ")}`);
    console.log(`  channel problems cold: ${cold.map(r => JSON.stringify(r.socket.problems)).join(" ")}; ` +
                `warm: ${warm.map(r => JSON.stringify(r.socket.problems)).join(" ")}`);
    console.log(`  outcome cold: ${cold.map(r => r.outcome).join(", ")}; warm: ${warm.map(r => r.outcome).join(", ")}`);
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    for (const f of [SERVER, path.join(STATIC, "index.html"), "/usr/bin/chromium", "/usr/bin/docker-registry"])
        if (!fs.existsSync(f))
            throw new Error(`${f} is missing (build first: make; packages: scripts/install-deps)`);
    if (o.state)
        fs.mkdirSync(o.state, { recursive: true });
    artifacts = process.env.RC_ARTIFACTS || (o.state ? path.join(o.state, "artifacts") : null);
    if (artifacts)
        fs.mkdirSync(artifacts, { recursive: true });
    // lib.mjs makes its artifacts directory on import
    process.env.RC_ARTIFACTS = artifacts || path.join(tmp, "artifacts");
    const { launch } = await import("../tests/browser/lib.mjs");
    log(`server ${SERVER}, ${os.cpus().length} CPUs, load ${os.loadavg().map(x => x.toFixed(1)).join(" ")}`);
    browser = await launch();
    const results = { options: o, load: os.loadavg() };
    if (o.tags)
        await benchTags(o, results);
    if (o.repos)
        await benchRepos(o, results);
    results.loadAfter = os.loadavg();
    if (o.json)
        fs.writeFileSync(o.json, JSON.stringify(results, null, 1));
}

try {
    await main();
} catch (e) {
    log(e.stack || String(e));
    process.exitCode = 1;
} finally {
    await cleanup();
}
