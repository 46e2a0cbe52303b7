// limit.js: asynchronous work with a bound on how much runs at once.
// Imports nothing; touches nothing at import time.
//
//   const gate = limiter(8);
//   gate(() => fetchSomething())      // starts when fewer than 8 run
//   await mapLimit(items, 8, item => work(item))   // results in order

export function limiter(max) {
    let running = 0;
    const waiting = [];
    const next = () => {
        if (running >= max || !waiting.length)
            return;
        running++;
        const { fn, resolve, reject } = waiting.shift();
        Promise.resolve().then(fn).then(resolve, reject).finally(() => {
            running--;
            next();
        });
    };
    return fn => new Promise((resolve, reject) => {
        waiting.push({ fn, resolve, reject });
        next();
    });
}

// FN over every item, at most MAX at once; the results in the items' order
// (a rejection rejects the whole, as Promise.all does).
export async function mapLimit(items, max, fn) {
    const out = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            out[i] = await fn(items[i], i);
        }
    };
    await Promise.all(Array.from({ length: Math.min(max, items.length) }, worker));
    return out;
}
