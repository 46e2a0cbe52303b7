// probe-import.mjs MODULE: import one module in a fresh Node process in
// which every browser global (document, window, location, fetch, WebSocket,
// timers, storage, …) is a recorder, and print as JSON what the import
// touched: [] when loading the module only defined things. Whatever the
// module does is recorded, never performed: a recorder answers every
// property read and call with another recorder.

import { pathToFileURL } from "node:url";

const BROWSER_GLOBALS = [
    "window", "self", "document", "location", "navigator", "history", "screen",
    "localStorage", "sessionStorage", "indexedDB", "caches", "customElements",
    "fetch", "XMLHttpRequest", "WebSocket", "EventSource", "Worker", "SharedWorker",
    "BroadcastChannel", "Notification",
    "setTimeout", "setInterval", "setImmediate", "requestAnimationFrame", "requestIdleCallback",
    "addEventListener", "removeEventListener", "dispatchEvent", "postMessage",
    "alert", "confirm", "prompt", "open", "close", "print", "matchMedia", "getComputedStyle",
    "Node", "Element", "HTMLElement", "Text", "Event", "CustomEvent", "MutationObserver",
    "IntersectionObserver", "ResizeObserver",
];

const touched = [];

function recorder(name) {
    const note = what => {
        if (touched.length < 100)
            touched.push(what);
    };
    return new Proxy(function () {}, {
        get(target, prop) {
            if (prop === Symbol.toPrimitive) {        // `${location.host}` goes on
                note(`${name} as text`);
                return () => `[${name}]`;
            }
            const key = typeof prop === "symbol" ? prop.toString() : prop;
            note(`${name}.${key}`);
            return recorder(`${name}.${key}`);
        },
        set(target, prop, value) {
            note(`${name}.${String(prop)} =`);
            return true;
        },
        apply(target, that, args) {
            note(`${name}()`);
            return recorder(`${name}()`);
        },
        construct(target, args) {
            note(`new ${name}()`);
            return recorder(`new ${name}()`);
        },
        has(target, prop) {
            note(`${String(prop)} in ${name}`);
            return true;
        },
    });
}

const nextTurn = setImmediate;   // ours, saved before it becomes a recorder
for (const name of BROWSER_GLOBALS) {
    const value = recorder(name);
    Object.defineProperty(globalThis, name, {
        configurable: true,
        get() {
            touched.push(name);
            return value;
        },
        set() {
            touched.push(`${name} =`);
        },
    });
}

let error = null;
const failed = e => {
    error = error || String((e && e.stack) || e);
};
process.on("unhandledRejection", failed);
process.on("uncaughtException", failed);
try {
    await import(pathToFileURL(process.argv[2]).href);
} catch (e) {
    failed(e);
}
// Promise chains the import started run to their end (or to a recorder)
// before the next turn of the event loop.
await new Promise(resolve => nextTurn(resolve));
process.stdout.write(JSON.stringify({ touched: [...new Set(touched)], error }) + "\n");
