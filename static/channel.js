// channel.js: the Cockpit channel protocol over /cockpit/socket.
//
//   const conn = connect();                         // one shared socket
//   const r = await http("registry", "GET", "/v2/_catalog");   // {status, headers, body}
//   const cancel = watch("master", path, event => …, onEnd);   // JSON-lines stream
//
// Every request is an "http-stream2" channel: open → ready → response →
// payload frames → done → close. A close with a "problem" rejects with an
// Error whose .problem is that code.

import { urlRoot } from "./dom.js";
import { limiter } from "./limit.js";

const listeners = new Set();
let socket = null;
let ready = null;
let seq = 0;
const channels = new Map();

export function onConnectionChange(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
}

function notify(state, detail) {
    for (const fn of listeners)
        fn(state, detail);
}

function socketUrl() {
    const root = urlRoot();
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}${root}/cockpit/socket`;
}

function send(channel, payload) {
    socket.send(`${channel}\n${payload}`);
}

function control(message) {
    send("", JSON.stringify(message));
}

export function connect() {
    if (ready)
        return ready;
    ready = new Promise((resolve, reject) => {
        let opened = false;
        socket = new WebSocket(socketUrl(), "cockpit1");
        socket.binaryType = "arraybuffer";
        socket.addEventListener("message", ev => {
            const data = typeof ev.data === "string" ? ev.data : new TextDecoder().decode(ev.data);
            const nl = data.indexOf("\n");
            if (nl < 0)
                return;
            const id = data.substring(0, nl);
            const payload = data.substring(nl + 1);
            if (id === "") {
                let msg;
                try {
                    msg = JSON.parse(payload);
                } catch (e) {
                    return;
                }
                if (msg.command === "init") {
                    control({ command: "init", version: 1, host: "localhost" });
                    opened = true;
                    notify("connected");
                    resolve();
                } else if (msg.command === "ping") {
                    control({ command: "pong" });
                } else if (msg.channel !== undefined) {
                    const ch = channels.get(msg.channel);
                    if (ch)
                        ch.control(msg);
                } else if (msg.command === "close") {
                    notify("failed", msg.problem || "disconnected");
                }
            } else {
                const ch = channels.get(id);
                if (ch)
                    ch.data(payload);
            }
        });
        socket.addEventListener("close", ev => {
            const err = new Error(ev.code === 1008 ? "protocol-error" : "disconnected");
            err.problem = "disconnected";
            for (const ch of channels.values())
                ch.control({ command: "close", problem: "disconnected" });
            channels.clear();
            ready = null;
            socket = null;
            notify("disconnected", ev.code);
            if (!opened)
                reject(err);
        });
    });
    return ready;
}

export function disconnect() {
    if (socket)
        socket.close(1000);
}

function openChannel(options, handlers) {
    const id = `${++seq}`;
    channels.set(id, handlers);
    control({ ...options, command: "open", channel: id });
    return {
        id,
        send: payload => send(id, payload),
        done: () => control({ command: "done", channel: id }),
        close: () => {
            if (channels.delete(id))
                control({ command: "close", channel: id });
        },
    };
}

function problemError(msg) {
    const err = new Error(msg.message || msg.problem);
    err.problem = msg.problem;
    return err;
}

// Requests through the socket are activity, but the cookie only learns of
// activity from plain HTTP requests: ask for the session now and then while
// the user works, so the browser's cookie stays alive as long as the socket's
// session does (the server refreshes it then).
let lastKeepAlive = Date.now();
function keepAlive() {
    if (Date.now() - lastKeepAlive < 30000)
        return;
    lastKeepAlive = Date.now();
    fetch(`${urlRoot()}/cockpit/session`, { credentials: "same-origin" }).catch(() => null);
}

// The server bounds the channels of one socket (MaxChannelsPerSocket, 128
// by default): requests wait here for one of MAX_REQUESTS slots instead of
// opening hundreds of channels at once. Watches do not take a slot.
const MAX_REQUESTS = 32;
const slot = limiter(MAX_REQUESTS);

// One HTTP request through the server, with the session's credentials.
export function http(backend, method, path, options = {}) {
    return slot(() => request(backend, method, path, options));
}

async function request(backend, method, path, { body = null, headers = {} } = {}) {
    await connect();
    keepAlive();
    return new Promise((resolve, reject) => {
        let response = null;
        const chunks = [];
        const ch = openChannel({ payload: "http-stream2", method, path, headers, backend }, {
            data: chunk => chunks.push(chunk),
            control: msg => {
                if (msg.command === "response") {
                    response = msg;
                } else if (msg.command === "close") {
                    channels.delete(ch.id);
                    if (msg.problem) {
                        reject(problemError(msg));
                    } else {
                        const hdrs = {};
                        for (const [k, v] of Object.entries((response && response.headers) || {}))
                            hdrs[k.toLowerCase()] = v;
                        resolve({ status: response ? response.status : 0,
                                  reason: response ? response.reason : "",
                                  headers: hdrs, body: chunks.join("") });
                    }
                }
            },
        });
        if (body !== null && body !== undefined)
            ch.send(typeof body === "string" ? body : JSON.stringify(body));
        ch.done();
    });
}

// One channel of another payload type ("registry-access", say): resolves
// to the text it sent before closing, rejects with its problem.
export function query(payload, options = {}) {
    return slot(async () => {
        await connect();
        keepAlive();
        return await new Promise((resolve, reject) => {
            const chunks = [];
            const ch = openChannel({ ...options, payload }, {
                data: chunk => chunks.push(chunk),
                control: msg => {
                    if (msg.command !== "close")
                        return;
                    channels.delete(ch.id);
                    if (msg.problem)
                        reject(problemError(msg));
                    else
                        resolve(chunks.join(""));
                },
            });
        });
    });
}

// A channel that streams rows (the registry channels: "registry-tags",
// "registry-catalog", "registry-search", "registry-summary",
// "openshift-images"; doc/architecture.md, "Registry channels"): each
// payload frame is whole NDJSON lines, one object each.
//
//   const stream = rows("registry-tags", { repository }, {
//       row: r => …,                 // every row, as it arrives
//       progress: msg => …,          // the "progress" control message
//   });
//   stream.control({ command: "priority", tags: […] });   // to the server
//   const done = await stream.done;  // the "done" message; rejects with .problem
//   stream.close();                  // stops the walk
//
// Rows arrive as soon as the server has them; call sites batch their
// rendering (requestAnimationFrame) instead of redrawing per row.
export function rows(payload, options, handlers = {}) {
    let ch = null;
    let closed = false;
    let doneMessage = null;
    const early = [];
    const done = connect().then(() => new Promise((resolve, reject) => {
        if (closed) {
            reject(Object.assign(new Error("cancelled"), { problem: "cancelled" }));
            return;
        }
        keepAlive();
        ch = openChannel({ ...options, payload }, {
            data: chunk => {
                for (const line of chunk.split("\n")) {
                    if (!line)
                        continue;
                    let row;
                    try {
                        row = JSON.parse(line);
                    } catch (e) {
                        console.warn(`${payload}: a line that is not JSON`, e);
                        continue;
                    }
                    if (handlers.row)
                        handlers.row(row);
                }
            },
            control: msg => {
                if (msg.command === "progress" && handlers.progress) {
                    handlers.progress(msg);
                } else if (msg.command === "done") {
                    doneMessage = msg;
                } else if (msg.command === "close") {
                    channels.delete(ch.id);
                    closed = true;
                    if (msg.problem)
                        reject(problemError(msg));
                    else
                        resolve(doneMessage || {});
                } else if (handlers.control) {
                    handlers.control(msg);
                }
            },
        });
        for (const msg of early.splice(0))
            control({ ...msg, channel: ch.id });
    }));
    return {
        done,
        control: msg => {
            if (ch && !closed)
                control({ ...msg, channel: ch.id });
            else if (!ch)
                early.push(msg);
        },
        close: () => {
            closed = true;
            if (ch && channels.delete(ch.id))
                control({ command: "close", channel: ch.id });
        },
    };
}

// JSON helper: resolves to the parsed body for 2xx, rejects otherwise with
// .status and the API's own message (Kubernetes Status or registry errors).
export async function json(backend, method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined)
        headers["Content-Type"] = "application/json";
    const r = await http(backend, method, path, { body, headers });
    let parsed = null;
    try {
        parsed = r.body ? JSON.parse(r.body) : null;
    } catch (e) {
        if (r.status >= 200 && r.status < 300) {
            const err = new Error(`malformed JSON from ${path}`);
            err.status = r.status;
            throw err;
        }
    }
    if (r.status < 200 || r.status >= 300) {
        let message = `${r.status} ${r.reason || ""}`.trim();
        if (parsed && parsed.message)
            message = parsed.message;
        else if (parsed && parsed.errors && parsed.errors[0])
            message = parsed.errors[0].message || parsed.errors[0].code;
        const err = new Error(message);
        err.status = r.status;
        throw err;
    }
    return { body: parsed, headers: r.headers };
}

// A Kubernetes watch: calls onEvent({type, object}) for each line, and
// onEnd(problem, error) when the stream ends: problem null when the server
// ended it, "http-error" with error.status and the API's message when the
// server refused the watch (403 Forbidden: no watch rights there), else
// the channel's problem.
export function watch(backend, path, onEvent, onEnd) {
    let buffer = "";
    let ch = null;
    let cancelled = false;
    let status = 0;
    connect().then(() => {
        if (cancelled)
            return;
        ch = openChannel({ payload: "http-stream2", method: "GET", path, backend,
                           headers: { Accept: "application/json" } }, {
            data: chunk => {
                buffer += chunk;
                if (status && (status < 200 || status >= 300))
                    return;     // an error answer: one Status, read at the end
                let nl;
                while ((nl = buffer.indexOf("\n")) >= 0) {
                    const line = buffer.substring(0, nl).trim();
                    buffer = buffer.substring(nl + 1);
                    if (!line)
                        continue;
                    try {
                        onEvent(JSON.parse(line));
                    } catch (e) {
                        console.warn("bad watch line", e);
                    }
                }
            },
            control: msg => {
                if (msg.command === "response") {
                    status = msg.status;
                } else if (msg.command === "close") {
                    channels.delete(ch.id);
                    if (cancelled || !onEnd)
                        return;
                    if (!msg.problem && status && (status < 200 || status >= 300)) {
                        let message = `${status}`;
                        try {
                            message = JSON.parse(buffer).message || message;
                        } catch (e) { /* keep the status */ }
                        onEnd("http-error", Object.assign(new Error(message), { status }));
                    } else {
                        onEnd(msg.problem || null);
                    }
                }
            },
        });
        ch.done();
    }, err => {
        if (!cancelled && onEnd)
            onEnd(err.problem || "disconnected");
    });
    return () => {
        cancelled = true;
        if (ch)
            ch.close();
    };
}

